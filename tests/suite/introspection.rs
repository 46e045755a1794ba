//! What introspection calls valid: a token that verifies now, and nothing
//! else, whatever stopped it.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use crate::support::t0;
use tokenkeep::expiry::ManualClock;
use tokenkeep::store::MemoryStore;
use tokenkeep::time::Duration;
use tokenkeep::{Expiry, IssueRequest, Prefix, TokenManager, TokenRef};

#[tokio::test]
async fn an_expired_or_retired_token_is_inactive() {
    let clock = ManualClock::new(t0());
    let store = std::sync::Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(store, Prefix::new("tk").unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    let expiring = IssueRequest::new("alice", "short").expires(Expiry::After(Duration::hours(1)));
    let expiring = manager.admin_issue(expiring).await;
    let text = expiring.token.expose_secret();
    assert!(manager.service().introspect(text).await.unwrap().is_some());
    clock.advance(Duration::hours(1));
    assert!(manager.service().introspect(text).await.unwrap().is_none(), "expired");

    let rotated = manager.admin_issue(IssueRequest::new("alice", "rotated")).await;
    let old = rotated.token.expose_secret();
    let grace = Some(Duration::minutes(10));
    let next = manager
        .rotate(&tokenkeep::Actor::Admin, &TokenRef::id(rotated.record.id), grace)
        .await
        .unwrap();
    assert!(manager.service().introspect(old).await.unwrap().is_some(), "in its grace period");
    assert!(manager.service().introspect(next.token.expose_secret()).await.unwrap().is_some());
    clock.advance(Duration::minutes(10));
    assert!(manager.service().introspect(old).await.unwrap().is_none(), "past its grace period");
}

/// A token whose owner has spent the budget all the owner's tokens share
/// verifies no more, so introspection calls it inactive; looking never
/// spends a use.
#[tokio::test]
async fn a_token_whose_owners_budget_is_spent_is_inactive() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(store, Prefix::new("tk").unwrap()).build().unwrap();
    let budget = tokenkeep::record::Usage::new(1, manager.service().now()).unwrap();
    let update =
        tokenkeep::rules::OwnerLimitsUpdate { usage: Some(Some(budget)), ..Default::default() };
    manager.set_owner_limits(&tokenkeep::Actor::Admin, "alice", &update).await.unwrap();
    let issued = manager.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let text = issued.token.expose_secret();
    for _ in 0..3 {
        assert!(manager.service().introspect(text).await.unwrap().is_some(), "one use is left");
    }
    assert!(manager.verifies_text(text).await, "introspection spent nothing");
    assert!(manager.service().introspect(text).await.unwrap().is_none(), "the budget is spent");
    assert!(!manager.verifies_text(text).await);
}
