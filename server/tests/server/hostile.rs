//! Bad and hostile input: a clear error each time, and the server stays up.

use super::prelude::*;

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_server_stays_up() {
    let (mut server, admin) = claimed(&[]).await;
    let post = |body: String| {
        client()
            .post(server.url("/api/auth/tokens"))
            .bearer_auth(admin.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        ("{not json", StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (r#"{"name": 5}"#, StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (r#"{"name": "x", "colour": "red"}"#, StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (r#"{"name": "x", "manager": "yes"}"#, StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (r#"{"name": "x", "expires_in": "999999y"}"#, StatusCode::BAD_REQUEST, "INVALID_DURATION"),
        (r#"{"name": "x", "expires_in": "0d"}"#, StatusCode::BAD_REQUEST, "INVALID_DURATION"),
        (r#"{"name": "x", "expires_in": "soon"}"#, StatusCode::BAD_REQUEST, "INVALID_DURATION"),
        (r#"{"name": "bell\u0007"}"#, StatusCode::BAD_REQUEST, "INVALID_NAME"),
        (r#"{"name": ""}"#, StatusCode::BAD_REQUEST, "INVALID_NAME"),
        (
            r#"{"name": "x", "routes": [{"path": "/../etc", "access": "r"}]}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "abilities": ["has space"]}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        ("", StatusCode::BAD_REQUEST, "INVALID_NAME"),
    ];
    for (body, status, code) in cases {
        let response = post(body.to_owned()).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(json_of(response).await["error"], code, "{body}");
    }
    let long_name = json!({ "name": "n".repeat(101) }).to_string();
    assert_error(post(long_name).await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_NAME").await;
    let hundred = json!({ "name": "n".repeat(100) }).to_string();
    assert_eq!(post(hundred).await.unwrap().status(), StatusCode::CREATED);
    let huge = json!({ "name": "x".repeat(1_000_000) }).to_string();
    assert_error(post(huge).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
        .await;
    let unknown = client().get(server.url("/nowhere")).send().await.unwrap();
    assert_error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(server.is_running());
    assert_eq!(server.whoami(&admin).await.status(), StatusCode::OK);
    server.stop().await;
}

/// A page on another origin cannot make a visitor's browser claim an
/// instance or change anything: a `text/plain` POST (which a form or a
/// `no-cors` fetch can send) and a cross-origin one are refused, even with
/// the setup token skipped.
#[tokio::test]
async fn cross_origin_and_non_json_requests_are_refused() {
    let server = Server::start(&["--dangerously-skip-setup-token"]).await;
    let claim = |content_type: &'static str, origin: Option<&'static str>| {
        let mut request = client()
            .post(server.url("/api/setup/claim"))
            .header("content-type", content_type)
            .body(r#"{"name": "admin"}"#);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_error(
        claim("text/plain", None).await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    assert_error(
        claim("application/json", Some("https://evil.example")).await.unwrap(),
        StatusCode::FORBIDDEN,
        "CROSS_ORIGIN",
    )
    .await;
    let fetch_metadata = client()
        .post(server.url("/api/setup/claim"))
        .header("content-type", "application/json")
        .header("sec-fetch-site", "cross-site")
        .body(r#"{"name": "admin"}"#)
        .send()
        .await
        .unwrap();
    assert_error(fetch_metadata, StatusCode::FORBIDDEN, "CROSS_ORIGIN").await;
    let status = client().get(server.url("/api/setup/status")).send().await.unwrap();
    assert_eq!(json_of(status).await, json!({ "claimed": false }), "nothing was claimed");

    // The same origin (the panel) and clients that are not browsers may.
    let same_origin = format!("http://{}", server.address());
    let response = client()
        .post(server.url("/api/setup/claim"))
        .header("content-type", "application/json")
        .header("origin", same_origin)
        .body(r#"{"name": "admin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    support::server::remember(json_of(response).await["token"].as_str().unwrap());
    server.stop().await;
}

/// Answers that carry a token are never cached; a refused body never comes
/// back in the error (it may be a token); every error is the JSON shape.
#[tokio::test]
async fn answers_are_not_cached_echo_nothing_and_are_always_json() {
    let (server, admin) = claimed(&[]).await;
    let response = server.create(&admin, json!({ "name": "ci" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers().get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "a token view with its token is not to be cached"
    );
    support::server::remember(json_of(response).await["token"].as_str().unwrap());

    // A token sent where a boolean belongs is not repeated in the error.
    let wrong_type = client()
        .post(server.url("/api/auth/tokens"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(json!({ "name": "x", "manager": admin }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    let text = wrong_type.text().await.unwrap();
    assert!(!text.contains(&admin), "the error echoed the token: {text}");
    assert!(text.contains("INVALID_REQUEST"), "{text}");

    // A file over the file area's limit: 413 in the JSON shape.
    let manager_files = server
        .created(&admin, json!({ "name": "uploader", "routes": [{ "path": "/", "access": "rw" }] }))
        .await;
    let big = client()
        .put(server.url("/files/big.bin"))
        .bearer_auth(manager_files["token"].as_str().unwrap())
        .body(vec![0u8; 17 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_error(big, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // A query string the list cannot read, and a method a route has not.
    let bad_query =
        server.authed(Method::GET, "/api/auth/tokens?include_revoked=maybe", &admin).await;
    assert_error(bad_query, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let bad_method = server.authed(Method::PUT, "/api/whoami", &admin).await;
    assert_error(bad_method, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    server.stop().await;
}

/// A socket that sends half a header is closed within the header timeout
/// (one stayed open 45 s and more), and a crowd of them cannot lock a real
/// client out: the connection limit keeps descriptors free, and each slow
/// socket gives its place back when its time is up.
#[tokio::test]
async fn slow_clients_are_timed_out_and_cannot_lock_others_out() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (server, admin) = claimed(&["--header-timeout", "1", "--max-connections", "8"]).await;
    let half = |address: String| async move {
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        socket.write_all(b"GET /api/whoami HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        socket
    };
    let mut slow = half(server.address()).await;
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buffer))
        .await
        .expect("the server closes a half-header socket");
    assert!(
        matches!(read, Ok(0) | Err(_)) || String::from_utf8_lossy(&buffer).contains("408"),
        "{read:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());

    let mut crowd = Vec::new();
    for _ in 0..20 {
        crowd.push(half(server.address()).await);
    }
    served_beside(&server, &admin, crowd, Duration::from_secs(10)).await;
    server.stop().await;
}

/// A real client is served within `within` while `crowd` holds its
/// sockets open.
async fn served_beside<T>(server: &Server, admin: &str, crowd: Vec<T>, within: Duration) {
    let started = std::time::Instant::now();
    let status = tokio::time::timeout(within, server.whoami(admin))
        .await
        .expect("a real client is served while the crowd holds its sockets")
        .status();
    assert_eq!(status, StatusCode::OK);
    eprintln!("served after {:?}", started.elapsed());
    drop(crowd);
}

/// Every phase of a request is timed: idle cleartext HTTP/2 sessions (a
/// client that opens with the HTTP/2 preface) and unfinished request
/// bodies filled every slot for 60 s at the default timeout. Now the
/// server speaks HTTP/1.1 only, a body that pauses for the header timeout
/// ends, and a real client is served while they crowd it.
#[tokio::test]
async fn idle_http2_sessions_and_unfinished_bodies_cannot_lock_others_out() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (server, admin) =
        claimed(&["--header-timeout", "1", "--body-timeout", "3", "--max-connections", "8"]).await;
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    let h2c = |address: String| async move {
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        socket.write_all(PREFACE).await.unwrap();
        socket
    };
    let unfinished = |address: String| async move {
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = "POST /api/setup/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":";
        socket.write_all(head.as_bytes()).await.unwrap();
        socket
    };

    // Each kind alone is ended well within the limits.
    for mut socket in [h2c(server.address()).await, unfinished(server.address()).await] {
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let ended =
            tokio::time::timeout(Duration::from_secs(6), socket.read_to_end(&mut answer)).await;
        assert!(ended.is_ok(), "the server ends the connection");
        assert!(
            !String::from_utf8_lossy(&answer).contains("\x00\x00\x00\x04"),
            "no HTTP/2 SETTINGS in answer"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    // A crowd of both, more than the slots, and a real client still served.
    let mut crowd = Vec::new();
    for _ in 0..6 {
        crowd.push(h2c(server.address()).await);
        crowd.push(unfinished(server.address()).await);
    }
    served_beside(&server, &admin, crowd, Duration::from_secs(8)).await;
    server.stop().await;
}

/// A client that sends requests and never reads the answers: one socket
/// per slot, each with a thousand pipelined `GET /app.js`, left unread.
/// With 8 slots a real client was not served in 150 s, since a connection
/// whose answers back up kept its slot for ever. Now a write that makes no
/// progress for the header timeout ends the connection, and the real
/// client is served.
#[tokio::test]
async fn clients_that_never_read_cannot_lock_others_out() {
    use tokio::io::AsyncWriteExt as _;
    let (server, admin) = claimed(&["--header-timeout", "1", "--max-connections", "8"]).await;
    let requests = "GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1_000);
    let mut crowd = Vec::new();
    for _ in 0..8 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        // A small window: the answers back up after a few of them.
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(server.address().parse().unwrap()).await.unwrap();
        let requests = requests.clone();
        // Written from a task: the server reads no further once its
        // answers back up. The socket stays open, unread, until the end.
        crowd.push(tokio::spawn(async move {
            let _ = stream.write_all(requests.as_bytes()).await;
            stream
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    served_beside(&server, &admin, crowd, Duration::from_secs(20)).await;
    server.stop().await;
}

/// WebSockets escaped the connection limit: an upgraded connection gave
/// up its slot, had no idle timeout and no cap per token (one token opened
/// 12 at `--max-connections 4`). Now a token holds at most
/// `--ws-per-token` at once, every socket keeps its slot, and a silent one
/// is closed after `--ws-idle-timeout`.
#[tokio::test]
async fn websockets_count_against_the_limits() {
    use tokio_tungstenite::tungstenite::{Error, Message};
    let (server, admin) = claimed(&["--max-connections", "3", "--ws-per-token", "2"]).await;
    let other = server.created(&admin, json!({ "name": "other" })).await;
    let other = other["token"].as_str().unwrap().to_owned();
    let url = |token: &str| format!("ws://{}/ws?token={token}", server.address());

    // Two for one token, and the third is refused before the upgrade.
    let first = super::routes::open_socket(&server, &admin).await;
    let mut second = super::routes::open_socket(&server, &admin).await;
    match tokio_tungstenite::connect_async(url(&admin)).await {
        Err(Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("expected 429, got {other:?}"),
    }

    // With the third slot taken by another token's socket, no request is
    // served until a socket closes.
    let third = super::routes::open_socket(&server, &other).await;
    let waiting = tokio::spawn({
        let (base, admin) = (server.base.clone(), admin.clone());
        async move {
            client()
                .get(format!("{base}/api/whoami"))
                .bearer_auth(admin)
                .send()
                .await
                .map(|response| response.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!waiting.is_finished(), "every slot is held by a WebSocket: nothing else is served");
    second.send(Message::Close(None)).await.unwrap();
    while second.next().await.is_some() {}
    drop(second);
    let status = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("served once a socket closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);

    // The token's place is back too.
    let again = super::routes::open_socket(&server, &admin).await;
    drop((first, third, again));
    server.stop().await;
}

/// A WebSocket that receives nothing for the idle timeout is closed with
/// 1001; one that keeps talking stays open past it.
#[tokio::test]
async fn a_silent_websocket_is_closed() {
    use tokio_tungstenite::tungstenite::Message;
    let (server, admin) = claimed(&["--ws-idle-timeout", "1"]).await;
    let mut silent = super::routes::open_socket(&server, &admin).await;
    let mut talking = super::routes::open_socket(&server, &admin).await;
    let talker = tokio::spawn(async move {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            talking.send(Message::text("still here")).await.unwrap();
            let echoed = talking.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), "still here");
        }
    });
    super::routes::closed_with(&mut silent, 1001, Duration::from_secs(5)).await;
    talker.await.expect("the talking socket stays open");
    server.stop().await;
}
