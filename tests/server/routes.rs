//! Route-scoped files and the WebSocket.

use super::prelude::*;

#[tokio::test]
async fn route_scopes_hold_on_segment_boundaries() {
    let (server, admin) = claimed(&[]).await;
    let writer = created(
        &server,
        &admin,
        json!({ "name": "writer", "routes": [{ "path": "/releases", "access": "rw" }] }),
    )
    .await;
    let reader = created(
        &server,
        &admin,
        json!({ "name": "reader", "routes": [{ "path": "/releases", "access": "r" }] }),
    )
    .await;
    let plain = created(&server, &admin, json!({ "name": "plain" })).await;
    let (writer, reader, plain) = (
        writer["token"].as_str().unwrap(),
        reader["token"].as_str().unwrap(),
        plain["token"].as_str().unwrap(),
    );

    let put = |token: &str, path: &str| {
        client()
            .put(server.url(path))
            .bearer_auth(token.to_owned())
            .body("bytes")
            .send()
    };
    let get = |token: &str, path: &str| {
        client()
            .get(server.url(path))
            .bearer_auth(token.to_owned())
            .send()
    };

    assert_eq!(
        put(writer, "/files/releases/app/1.0.jar")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put(admin.as_str(), "/files/releases-private/key")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let read = get(reader, "/files/releases/app/1.0.jar").await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.unwrap(), "bytes");

    let write = put(reader, "/files/releases/app/2.0.jar").await.unwrap();
    let challenge = write.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_error(write, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;
    assert_eq!(
        challenge,
        r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="write:/releases/app/2.0.jar""#
    );
    assert_eq!(
        get(reader, "/files/releases-private/key")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(plain, "/files/releases/app/1.0.jar")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(reader, "/files/releases/missing")
            .await
            .unwrap()
            .status(),
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
    let url = format!("ws://{}/ws?token={admin}", server.address());
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    socket
        .send(tokio_tungstenite::tungstenite::Message::text("ping"))
        .await
        .unwrap();
    let echoed = socket.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "ping");

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
