//! What the server tells its operator: `/metrics` for manager tokens,
//! counting what it verified; an access log in JSON that names each
//! request and never a credential; who did what.

use super::prelude::*;

/// The sum of every sample whose line starts with `series` (a name, with
/// the start of its labels if wanted).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(series))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(server: &Server, manager: &str) -> String {
    let response = server.authed(Method::GET, "/metrics", manager).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

const VERIFIED: &str = "tokenkeep_verifications_total{outcome=\"ok\"}";
const LOOKUPS: &str = "tokenkeep_store_call_seconds_count{op=\"find_by_hash\"";

#[tokio::test]
async fn metrics_count_what_the_server_verified_for_managers_only() {
    let (server, manager) = claimed(&[]).await;
    let user = server.created(&manager, json!({ "owner": "alice", "name": "ci" })).await;
    let user = user["token"].as_str().unwrap();

    let anonymous = client().get(server.url("/metrics")).send().await.unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    let not_manager = server.authed(Method::GET, "/metrics", user).await;
    assert_error(not_manager, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE").await;

    let before = scrape(&server, &manager).await;
    const N: u32 = 7;
    for _ in 0..N {
        assert_eq!(server.whoami(user).await.status(), StatusCode::OK);
    }
    let after = scrape(&server, &manager).await;
    // N verifications, and the second scrape's own.
    assert_eq!(sample(&after, VERIFIED) - sample(&before, VERIFIED), f64::from(N + 1), "{after}");
    assert_eq!(sample(&after, "tokenkeep_active_tokens"), 2.0, "{after}");

    // Unprefixed garbage costs no store lookup: no custom secret is stored.
    for n in 0..50 {
        let garbage = format!("legacy-looking-garbage-{n}");
        let refused = server.whoami(&garbage).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let later = scrape(&server, &manager).await;
    // At most the scrape's own lookup: the cache answers it unless a
    // commit (a last-used batch) or its time bound emptied the cache.
    assert!(
        sample(&later, LOOKUPS) - sample(&after, LOOKUPS) <= 1.0,
        "only the scrape's own lookup: {later}"
    );
    assert_eq!(
        sample(&later, "tokenkeep_verifications_total{outcome=\"malformed\"}"),
        50.0,
        "{later}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_access_log_names_each_request_and_never_a_credential() {
    let (server, manager) = claimed(&["--log-format", "json"]).await;
    let user = server.created(&manager, json!({ "owner": "alice", "name": "ci" })).await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    let user = user["token"].as_str().unwrap();
    assert_eq!(server.whoami(user).await.status(), StatusCode::OK);
    let with_query =
        client().get(server.url(&format!("/ws?token={user}&x=1"))).send().await.unwrap();
    assert!(!with_query.status().is_success());
    let revoked =
        server.authed(Method::DELETE, &format!("/api/auth/tokens/{user_id}"), &manager).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    // The last line may still be on its way.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.stderr();
    assert!(!log.contains(user) && !log.contains(&manager), "{log}");
    let lines: Vec<Value> =
        log.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let answered = |path: &str, status: u64| {
        lines.iter().any(|line| {
            line["message"] == "finished processing request"
                && line["span"]["path"] == path
                && line["status"] == status
        })
    };
    assert!(answered("/api/whoami", 200), "{log}");
    let query = lines
        .iter()
        .find(|line| line["span"]["path"] == "/ws")
        .map(|line| line["span"]["query"].clone());
    assert_eq!(query, Some(json!("token=[redacted]&x=1")), "{log}");

    let audit = lines
        .iter()
        .find(|line| line["message"] == "management action" && line["action"] == "revoke")
        .unwrap_or_else(|| panic!("no audit line: {log}"));
    assert_eq!(audit["result"], "ok");
    assert_eq!(audit["token_id"], user_id.as_str());
    assert!(audit["actor"].as_str().unwrap().starts_with("token:"));
    server.stop().await;
}

/// Outside text reaches the text log as escapes: a name or an owner with a
/// newline or ESC, refused or not, authenticated or not, never starts a
/// line of its own nor reaches the terminal raw.
#[tokio::test]
async fn names_and_owners_cannot_forge_log_lines() {
    let data = support::server::data_dir();
    let env = [("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN), ("RUST_LOG", "debug")];
    let evil = "ci\nINFO forged: token revoked\u{1b}[2J";
    let (server, manager) = claimed_in(&data, &[], &env).await;
    let unauthenticated = client()
        .post(server.url("/api/setup/claim"))
        .json(&json!({ "name": evil, "setup_token": "wrong" }))
        .send()
        .await
        .unwrap();
    assert!(!unauthenticated.status().is_success());
    let issue = server.create(&manager, json!({ "name": evil, "owner": evil })).await;
    assert_eq!(issue.status(), StatusCode::BAD_REQUEST);
    let revoke_all =
        server.authed(Method::POST, "/api/owners/a%0AINFO%20forged%1B/revoke-all", &manager).await;
    assert_error(revoke_all, StatusCode::BAD_REQUEST, "INVALID_OWNER").await;

    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.stderr();
    assert!(!log.contains('\u{1b}'), "a raw ESC reached the log: {log}");
    assert!(!log.lines().any(|line| line.starts_with("INFO forged")), "a forged line: {log}");
    assert!(log.contains("forged"), "the attempts are logged, escaped: {log}");
    server.stop().await;
}
