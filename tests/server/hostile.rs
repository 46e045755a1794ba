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
        (
            r#"{"name": "x", "colour": "red"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "manager": "yes"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            r#"{"name": "x", "expires_in": "999999y"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "x", "expires_in": "0d"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "x", "expires_in": "soon"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_DURATION",
        ),
        (
            r#"{"name": "bell\u0007"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_NAME",
        ),
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
    assert_error(
        post(long_name).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_NAME",
    )
    .await;
    let hundred = json!({ "name": "n".repeat(100) }).to_string();
    assert_eq!(post(hundred).await.unwrap().status(), StatusCode::CREATED);
    let huge = json!({ "name": "x".repeat(1_000_000) }).to_string();
    assert_error(
        post(huge).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let unknown = client().get(server.url("/nowhere")).send().await.unwrap();
    assert_error(unknown, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(server.is_running());
    assert_eq!(whoami(&server, &admin).await.status(), StatusCode::OK);
    server.stop().await;
}
