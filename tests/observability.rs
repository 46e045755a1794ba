//! What the crate tells operators: the `tracing` events of verification,
//! store calls and management actions carry their reasons, ids and actors,
//! never a token's text or a full hash; a flood of garbage logs nothing at
//! `info`; with feature `metrics`, verifications are counted by outcome.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

// Its own binary: tracing caches each call site's interest process-wide,
// so a capturing subscriber must not share the process with other tests.
#[path = "suite/support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokenkeep::scope::Ability;
use tokenkeep::store::MemoryStore;
use tokenkeep::{
    Actor, IssueRequest, Prefix, Requirement, Scopes, TokenManager, TokenRef, TokenSecret,
    TokenUpdate,
};
use tracing::level_filters::LevelFilter;

/// Every JSON line written while the guard lives on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn start(level: LevelFilter) -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    fn events(&self) -> Vec<Value> {
        self.text().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

fn manager() -> TokenManager {
    TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .accept_custom_secrets(true)
        .build()
        .unwrap()
}

/// The events with this message whose fields include every pair given.
fn find<'a>(events: &'a [Value], message: &str, fields: &[(&str, &str)]) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["message"] == message)
        .filter(|event| fields.iter().all(|(key, value)| event[*key] == *value))
        .collect()
}

#[tokio::test]
async fn events_say_who_did_what_and_never_carry_a_secret() {
    let (log, _guard) = Captured::start(LevelFilter::TRACE);
    let service = manager();
    let admin = Actor::Admin;
    let deploys = Scopes { abilities: vec![Ability::new("deploy").unwrap()], ..Scopes::default() };

    let laptop =
        service.issue(&admin, IssueRequest::new("alice", "laptop").scopes(deploys)).await.unwrap();
    let legacy = service
        .issue(
            &admin,
            IssueRequest::new("alice", "legacy")
                .secret(TokenSecret::custom("legacy-secret-1").unwrap()),
        )
        .await
        .unwrap();
    let laptop_text = laptop.token.expose_secret().to_owned();
    let who = service.service().verify_token(&laptop_text, Requirement::None).await.unwrap();
    let admin_only = Requirement::Ability("billing");
    assert!(service.service().verify_token(&laptop_text, admin_only).await.is_err());
    assert!(service.service().verify_token("legacy-secret-1", Requirement::None).await.is_ok());

    let by_id = TokenRef::id(laptop.record.id);
    service.rename(&admin, &by_id, "laptop-2").await.unwrap();
    let changes =
        TokenUpdate { description: Some(Some("work".to_owned())), ..TokenUpdate::default() };
    service.modify(&admin, &by_id, changes).await.unwrap();
    let rotated = service.rotate(&admin, &by_id, None).await.unwrap();
    assert!(service.service().verify_token(&laptop_text, Requirement::None).await.is_err());
    // A user may not touch another's token: refused, and said so.
    let bob = Actor::User("bob".to_owned());
    let new_laptop = TokenRef::id(rotated.record.id);
    assert!(service.revoke(&bob, &new_laptop).await.is_err());
    let as_token = Actor::Token(who);
    assert!(service.revoke(&as_token, &new_laptop).await.is_err());
    service.revoke(&admin, &new_laptop).await.unwrap();
    let exported = service.export(&admin).await.unwrap();
    service.delete(&admin, &TokenRef::id(legacy.record.id)).await.unwrap();
    service.revoke_all(&admin, "alice").await.unwrap();
    let fresh = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .dangerously_skip_setup_token()
        .build()
        .unwrap();
    let claimed = fresh.claim_setup("first", None).await.unwrap();
    fresh.import(&admin, exported.clone()).await.unwrap();
    service.service().flush_last_used().await.unwrap();

    let events = log.events();
    let refused =
        find(&events, "verification refused", &[("outcome", "revoked"), ("owner", "alice")]);
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert_eq!(refused[0]["token_id"], laptop.record.id.to_string());
    assert_eq!(refused[0]["level"], "DEBUG");
    let scope = find(&events, "verification refused", &[("outcome", "insufficient_scope")]);
    assert_eq!(scope[0]["token_id"], laptop.record.id.to_string());
    let verified = find(&events, "verified", &[("owner", "alice")]);
    assert_eq!(verified.len(), 2, "{events:#?}");
    assert_eq!(verified[0]["level"], "TRACE");

    for action in [
        "issue",
        "rename",
        "modify",
        "rotate",
        "revoke",
        "export",
        "delete",
        "revoke_all",
        "import",
    ] {
        let done = find(
            &events,
            "management action",
            &[("action", action), ("actor", "admin"), ("result", "ok")],
        );
        assert!(!done.is_empty(), "no event for {action}: {events:#?}");
        assert_eq!(done[0]["level"], "INFO");
    }
    let claim =
        find(&events, "management action", &[("action", "claim_setup"), ("actor", "setup")]);
    assert_eq!(claim[0]["token_id"], claimed.record.id.to_string());
    let issued = find(&events, "management action", &[("action", "issue")]);
    assert_eq!(issued[0]["subject"], "alice/laptop");
    assert_eq!(issued[0]["token_id"], laptop.record.id.to_string());
    // Refusals are audited too, with their code.
    let token_actor = format!("token:{}", laptop.record.id);
    for actor in ["user:bob", token_actor.as_str()] {
        let refused = find(&events, "management action", &[("action", "revoke"), ("actor", actor)]);
        assert_eq!(refused.len(), 1, "{actor}: {events:#?}");
        assert_ne!(refused[0]["result"], "ok");
    }

    let calls = find(&events, "store call", &[("op", "change"), ("outcome", "ok")]);
    assert!(!calls.is_empty(), "{events:#?}");
    assert!(calls[0]["duration_us"].is_u64());
    assert!(!find(&events, "store call", &[("op", "record_last_used")]).is_empty());

    // No token text, no full hash, in any form, anywhere.
    let text = log.text();
    let mut secrets = vec![
        laptop_text,
        rotated.token.expose_secret().to_owned(),
        "legacy-secret-1".to_owned(),
        claimed.token.expose_secret().to_owned(),
    ];
    secrets.extend(exported.iter().map(|record| record.hash.to_hex()));
    secrets.extend(exported.iter().map(|record| format!("{:?}", record.hash.as_bytes())));
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret was logged");
    }
}

/// A flood of garbage bearers is invisible at `info`: refusals are `debug`.
#[tokio::test]
async fn garbage_bearers_log_nothing_at_info() {
    let (log, _guard) = Captured::start(LevelFilter::INFO);
    let service = manager();
    for n in 0..1_000 {
        let garbage = format!("Bearer garbage-{n}");
        let header = if n % 2 == 0 {
            garbage.as_str()
        } else {
            "Bearer tk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        };
        assert!(service.service().verify_bearer(Some(header), Requirement::None).await.is_err());
    }
    assert_eq!(log.text(), "", "nothing at info");

    let (log, _guard) = Captured::start(LevelFilter::DEBUG);
    assert!(
        service.service().verify_bearer(Some("Bearer garbage-x"), Requirement::None).await.is_err()
    );
    let events = log.events();
    let refused = find(&events, "verification refused", &[("outcome", "malformed")]);
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert!(!log.text().contains("garbage-x"), "the text is never logged");
}

/// With feature `metrics`, every verification is counted by outcome.
#[cfg(feature = "metrics")]
#[test]
fn verifications_are_counted_by_outcome() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let service = manager();
            let issued =
                service.issue(&Actor::Admin, IssueRequest::new("alice", "laptop")).await.unwrap();
            for _ in 0..7 {
                let token = issued.token.expose_secret();
                assert!(service.service().verify_token(token, Requirement::None).await.is_ok());
            }
            assert!(service.service().verify_token("tk_nope", Requirement::None).await.is_err());
            assert_eq!(service.service().report_active_tokens().await.unwrap(), 1);
        });
    });
    let text = handle.render();
    assert!(text.contains("tokenkeep_verifications_total{outcome=\"ok\"} 7"), "{text}");
    assert!(text.contains("tokenkeep_verifications_total{outcome=\"malformed\"} 1"), "{text}");
    assert!(text.contains("tokenkeep_active_tokens 1"), "{text}");
    assert!(text.contains("tokenkeep_store_call_seconds"), "{text}");
}

/// A reuse burn can revoke the owner's current token, so it is logged at
/// `warn`, with the address the retired token came from.
#[tokio::test]
async fn a_reuse_burn_is_a_warning_naming_the_client() {
    let (log, _guard) = Captured::start(LevelFilter::WARN);
    let service = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .detect_rotation_reuse(true)
        .build()
        .unwrap();
    let old = service.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await.unwrap();
    service.rotate(&Actor::Admin, &TokenRef::id(old.record.id), None).await.unwrap();
    let client = "203.0.113.7".parse().unwrap();
    let presented = service
        .service()
        .verify_token_from(old.token.expose_secret(), Requirement::None, Some(client))
        .await;
    assert!(presented.is_err());
    let events = log.events();
    let burns = find(
        &events,
        "rotation reuse detected: the retired token's successors and what it minted since are revoked",
        &[("level", "WARN"), ("client", "Some(203.0.113.7)")],
    );
    assert_eq!(burns.len(), 1, "{events:?}");
}
