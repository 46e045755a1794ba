//! Claiming a fresh instance with the setup token.

use super::prelude::*;

#[tokio::test]
async fn claim_once_then_conflict() {
    let server = Server::start(&[]).await;
    let status = client().get(server.url("/api/setup/status")).send().await.unwrap();
    assert_eq!(json_of(status).await, json!({ "claimed": false }));

    let wrong = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": "wrong-token-here" }))
        .send()
        .await
        .unwrap();
    assert_error(wrong, StatusCode::UNAUTHORIZED, "INVALID_SETUP_TOKEN").await;

    let token = claim(&server).await;
    let who = json_of(server.whoami(&token).await).await;
    assert_eq!(who["scopes"]["manager"], true);
    let status = client().get(server.url("/api/setup/status")).send().await.unwrap();
    assert_eq!(json_of(status).await, json!({ "claimed": true }));

    let again = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": SETUP_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_error(again, StatusCode::CONFLICT, "ALREADY_CLAIMED").await;
    server.stop().await;
}

#[tokio::test]
async fn an_unconfigured_setup_token_is_generated_and_printed_once() {
    let data = support::server::data_dir();
    let server = Server::start_in(&data, &[], &[]).await;
    let printed = server.stderr();
    let line = printed.lines().find(|l| l.starts_with("setup token")).expect("printed");
    let token = line.rsplit(' ').next().unwrap().to_owned();
    let response = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": "admin", "setup_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.stop().await;
    let restarted = Server::start_in(&data, &[], &[]).await;
    assert!(!restarted.stderr().contains("setup token"), "claimed: nothing printed");
    restarted.stop().await;
}
