//! Route-scoped files and the WebSocket.

use super::prelude::*;

#[tokio::test]
async fn route_scopes_hold_on_segment_boundaries() {
    let (server, admin) = claimed(&[]).await;
    let writer = server
        .created(
            &admin,
            json!({ "name": "writer", "routes": [{ "path": "/releases", "access": "rw" }] }),
        )
        .await;
    let reader = server
        .created(
            &admin,
            json!({ "name": "reader", "routes": [{ "path": "/releases", "access": "r" }] }),
        )
        .await;
    let plain = server.created(&admin, json!({ "name": "plain" })).await;
    let (writer, reader, plain) = (
        writer["token"].as_str().unwrap(),
        reader["token"].as_str().unwrap(),
        plain["token"].as_str().unwrap(),
    );

    let put = |token: &str, path: &str| {
        client().put(server.url(path)).bearer_auth(token.to_owned()).body("bytes").send()
    };
    let get = |token: &str, path: &str| {
        client().get(server.url(path)).bearer_auth(token.to_owned()).send()
    };

    assert_eq!(
        put(writer, "/files/releases/app/1.0.jar").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put(admin.as_str(), "/files/releases-private/key").await.unwrap().status(),
        StatusCode::CREATED
    );
    let read = get(reader, "/files/releases/app/1.0.jar").await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.unwrap(), "bytes");

    let write = put(reader, "/files/releases/app/2.0.jar").await.unwrap();
    let challenge = write.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_error(write, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    assert_eq!(
        challenge,
        r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="write:/releases/app/2.0.jar""#
    );
    assert_eq!(
        get(reader, "/files/releases-private/key").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(plain, "/files/releases/app/1.0.jar").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(reader, "/files/releases/missing").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Escapes, sent byte for byte: never past the route.
    let address = server.address();
    for path in [
        "/files/releases/../releases-private/key",
        "/files/releases/%2e%2e/releases-private/key",
        "/files/releases/..%2freleases-private/key",
        "/files/releases%2f..%2freleases-private/key",
        "/files/../../etc/passwd",
    ] {
        let status = raw_request(&address, "GET", path, reader).await;
        assert!(status == 400 || status == 403, "{path} answered {status}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_websocket_takes_its_token_from_the_query() {
    let (server, admin) = claimed(&[]).await;
    open_socket(&server, &admin).await;

    let without = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.address())).await;
    let bad =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?token=tk_wrong", server.address()))
            .await;
    for refused in [without, bad] {
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
    server.stop().await;
}

/// Under umask 022 the data directory would be 0755 and its files 0644:
/// any local user could read the hashes and the route-scoped files. They
/// are 0700 and 0600, and a data directory left wider is tightened at start.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let data = support::server::data_dir();
    std::fs::create_dir_all(data.join("files").join("old")).unwrap();
    std::fs::write(data.join("files").join("old").join("a.txt"), "x").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let (server, admin) = claimed_in(&data, &[], &env).await;
    let writer = server
        .created(&admin, json!({ "name": "w", "routes": [{ "path": "/", "access": "rw" }] }))
        .await;
    let put = client()
        .put(server.url("/files/releases/new/app.jar"))
        .bearer_auth(writer["token"].as_str().unwrap())
        .body("bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in ["tokenkeep.db", "tokenkeep.db-wal", "tokenkeep.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let files = data.join("files");
    assert_eq!(mode(&files), 0o700, "files/");
    assert_eq!(mode(&files.join("releases").join("new")), 0o700, "a new directory");
    assert_eq!(mode(&files.join("releases/new/app.jar")), 0o600, "a new file");
    assert_eq!(mode(&files.join("old")), 0o700, "an old directory, tightened");
    assert_eq!(mode(&files.join("old/a.txt")), 0o600, "an old file, tightened");
    server.stop().await;
}

/// With `--database-url` the data directory still holds the file area:
/// a directory and files left open to everyone are tightened too.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_tightened_with_a_database_url_too() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let set = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let data = support::server::data_dir();
    let old = data.join("files").join("old");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("a.txt"), "x").unwrap();
    for dir in [&data, &data.join("files"), &old] {
        set(dir, 0o777);
    }
    set(&old.join("a.txt"), 0o666);
    let elsewhere = support::server::data_dir();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let url = format!("sqlite://{}?mode=rwc", elsewhere.join("t.db").display());
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let server = Server::start_in(&data, &["--database-url", &url], &env).await;
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join("files")), 0o700, "files/");
    assert_eq!(mode(&old), 0o700, "an old directory");
    assert_eq!(mode(&old.join("a.txt")), 0o600, "an old file");
    server.stop().await;
}

/// A link planted inside `files/` is not followed: it read `/etc/hostname`
/// and wrote into another route.
#[cfg(unix)]
#[tokio::test]
async fn symbolic_links_in_the_file_area_are_not_followed() {
    let (server, admin) = claimed(&[]).await;
    let token = server
        .created(&admin, json!({ "name": "r", "routes": [{ "path": "/public", "access": "rw" }] }))
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let files = server.data_dir.join("files");
    let secret_dir = server.data_dir.join("elsewhere");
    std::fs::create_dir_all(files.join("public")).unwrap();
    std::fs::create_dir_all(&secret_dir).unwrap();
    std::fs::write(secret_dir.join("secret.txt"), "not for you").unwrap();
    std::os::unix::fs::symlink(secret_dir.join("secret.txt"), files.join("public/leak.txt"))
        .unwrap();
    std::os::unix::fs::symlink(&secret_dir, files.join("public/dir")).unwrap();

    for path in ["/files/public/leak.txt", "/files/public/dir/secret.txt"] {
        let read = server.authed(Method::GET, path, &token).await;
        assert_eq!(read.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let write = client()
        .put(server.url("/files/public/dir/planted.txt"))
        .bearer_auth(&token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::NOT_FOUND);
    assert!(!secret_dir.join("planted.txt").exists(), "nothing written through the link");
    server.stop().await;
}

/// Opens the echo WebSocket with `token` and checks that it echoes.
pub(crate) async fn open_socket(
    server: &Server,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("ws://{}/ws?token={token}", server.address());
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    socket.send(tokio_tungstenite::tungstenite::Message::text("ping")).await.unwrap();
    let echoed = socket.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "ping");
    socket
}

/// Waits for the server to close `socket` with 1008; returns how long it took.
pub(crate) async fn closed_for_policy(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    within: Duration,
) -> Duration {
    closed_with(socket, 1008, within).await
}

/// Waits for the server to close `socket` with `code`, a reason without
/// token text; returns how long it took.
pub(crate) async fn closed_with(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    code: u16,
    within: Duration,
) -> Duration {
    use tokio_tungstenite::tungstenite::Message;
    let started = std::time::Instant::now();
    let frame = tokio::time::timeout(within, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the server closes the socket in time")
    .expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), code, "{frame:?}");
    assert!(!frame.reason.contains("tk_"), "no token text in the reason");
    started.elapsed()
}

/// A revoke reaches an open socket: after `DELETE` answered 204 the socket
/// kept echoing 2, 4 and 6 s later. Now it is closed with 1008 at once.
#[tokio::test]
async fn a_revoke_closes_an_open_websocket() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "socket" })).await;
    let mut socket = open_socket(&server, issued["token"].as_str().unwrap()).await;
    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let revoked = server.authed(Method::DELETE, &path, &admin).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let took = closed_for_policy(&mut socket, Duration::from_secs(3)).await;
    eprintln!("closed {took:?} after the revoke returned");
    server.stop().await;
}

/// An allow-list changed so that it no longer holds an open socket's
/// client ends the socket, as it refuses that client's next request.
#[tokio::test]
async fn an_allow_list_that_excludes_the_client_closes_its_websocket() {
    let (server, admin) = claimed(&[]).await;
    let issued =
        server.created(&admin, json!({ "name": "listed", "allowed_ips": ["127.0.0.0/8"] })).await;
    let mut socket = open_socket(&server, issued["token"].as_str().unwrap()).await;
    let path = format!("/api/auth/tokens/{}", issued["id"].as_str().unwrap());
    let narrowed = client()
        .patch(server.url(&path))
        .bearer_auth(&admin)
        .json(&json!({ "allowed_ips": ["10.0.0.0/8"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.status(), StatusCode::OK);
    closed_for_policy(&mut socket, Duration::from_secs(3)).await;
    server.stop().await;
}

/// A token's expiry ends its socket too.
#[tokio::test]
async fn an_expiring_token_closes_its_websocket() {
    let (server, admin) = claimed(&[]).await;
    let issued = server.created(&admin, json!({ "name": "brief", "expires_in": "2s" })).await;
    let mut socket = open_socket(&server, issued["token"].as_str().unwrap()).await;
    closed_for_policy(&mut socket, Duration::from_secs(6)).await;
    server.stop().await;
}
