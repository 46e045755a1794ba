//! What survives a shutdown or a kill -9.

use super::prelude::*;

#[tokio::test]
async fn last_used_is_flushed_on_shutdown() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let (server, admin) = claimed_in(&data, &[], &env).await;
    assert_eq!(server.whoami(&admin).await.status(), StatusCode::OK);
    server.stop().await;
    let output = token_command(&data, &["get", "admin"], "").await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    let view: Value = serde_json::from_str(&output.stdout).unwrap();
    assert!(view["last_used_at"].is_string(), "{view}");
}

#[tokio::test]
async fn tokens_answered_201_survive_kill_9() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)];
    let (server, admin) = claimed_in(&data, &[], &env).await;
    server.kill().await;
    let mut returned = vec![admin.clone()];
    for round in 0..25 {
        let server = Server::start_in(&data, &[], &env).await;
        let issued = server
            .created(&admin, json!({ "name": format!("t{round}"), "owner": format!("o{round}") }))
            .await;
        // Killed the instant the 201 arrived: nothing after it may be needed.
        server.kill().await;
        returned.push(issued["token"].as_str().unwrap().to_owned());
    }
    let server = Server::start_in(&data, &[], &env).await;
    for token in &returned {
        assert_eq!(
            server.whoami(token).await.status(),
            StatusCode::OK,
            "a returned token was lost"
        );
    }
    let log = server.stderr();
    for token in &returned {
        assert!(!log.contains(&token[3..]), "a token reached the server's log");
    }
    server.stop().await;
}
