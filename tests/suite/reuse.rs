//! Rotation reuse detection: with the policy on, presenting a token that a
//! rotation retired revokes its successors (`reuse_detected`), whether it
//! was revoked at once or after its grace period; concurrent presentations
//! burn the chain once; with the policy off nothing happens. On every
//! backend.
#![cfg(all(feature = "management", feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;

use crate::support::sql::{postgres_store, sqlite_store};
use crate::support::t0;
use tokenkeep::expiry::ManualClock;
use tokenkeep::record::RevokeReason;
use tokenkeep::store::{ManageStore, MemoryStore};
use tokenkeep::time::Duration;
use tokenkeep::{
    Actor, AuthError, InvalidToken, IssueRequest, IssuedToken, Prefix, Requirement, TokenManager,
    TokenRef,
};

fn manager(store: Arc<dyn ManageStore>, detect: bool) -> (TokenManager, ManualClock) {
    let clock = ManualClock::new(t0());
    let service = TokenManager::builder(store, Prefix::new("tk").unwrap())
        .clock(clock.clone())
        .detect_rotation_reuse(detect)
        .build()
        .unwrap();
    (service, clock)
}

/// alice's token `ci` (A), and B, which replaced it at once.
async fn rotated_at_once(service: &TokenManager) -> (IssuedToken, IssuedToken) {
    let a = service.admin_issue(IssueRequest::new("alice", "ci")).await;
    let b = service.rotate(&Actor::Admin, &TokenRef::id(a.record.id), None).await.unwrap();
    (a, b)
}

async fn reason(service: &TokenManager, id: tokenkeep::TokenId) -> Option<RevokeReason> {
    service.get(&Actor::Admin, &TokenRef::id(id)).await.unwrap().extras.revoke_reason
}

async fn the_chain_burns(store: Arc<dyn ManageStore>) {
    let (service, clock) = manager(store, true);
    let admin = Actor::Admin;
    let a = service.issue(&admin, IssueRequest::new("alice", "ci")).await.unwrap();
    let a_text = a.token.expose_secret().to_owned();
    // A to B with a grace hour, then B to C at once.
    let b =
        service.rotate(&admin, &TokenRef::id(a.record.id), Some(Duration::hours(1))).await.unwrap();
    assert!(service.verifies_text(&a_text).await, "in its grace");
    let c = service.rotate(&admin, &TokenRef::id(b.record.id), None).await.unwrap();
    let c_text = c.token.expose_secret().to_owned();
    assert!(service.verifies_text(&c_text).await);

    // After the grace, the stolen A comes back, twenty times at once.
    clock.advance(Duration::hours(2));
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let (service, text) = (service.clone(), a_text.clone());
            tokio::spawn(
                async move { service.service().verify_token(&text, Requirement::None).await },
            )
        })
        .collect();
    for attempt in attempts {
        let refused = attempt.await.unwrap();
        assert!(
            matches!(refused, Err(AuthError::InvalidToken(InvalidToken::Expired))),
            "{refused:?}"
        );
    }
    let burnt = service.get(&admin, &TokenRef::id(c.record.id)).await.unwrap();
    assert_eq!(burnt.extras.revoke_reason, Some(RevokeReason::ReuseDetected));
    assert_eq!(burnt.extras.revoked_by.as_deref(), Some("reuse-detection"));
    assert_eq!(burnt.revoked_at, Some(t0() + Duration::hours(2)), "revoked once");
    assert_eq!(reason(&service, b.record.id).await, Some(RevokeReason::Rotated), "kept");
    assert!(!service.verifies_text(&c_text).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    the_chain_burns(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    the_chain_burns(Arc::new(sqlite_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(store) = postgres_store().await else {
        return;
    };
    the_chain_burns(Arc::new(store)).await;
}

/// An immediate rotation's old token presented again burns its successor;
/// with the policy off, the successor goes on working.
#[tokio::test]
async fn only_the_policy_burns_and_an_immediate_rotation_counts_too() {
    for detect in [true, false] {
        let (service, _) = manager(Arc::new(MemoryStore::new()), detect);
        let admin = Actor::Admin;
        let (a, b) = rotated_at_once(&service).await;
        let presented =
            service.service().verify_token(a.token.expose_secret(), Requirement::None).await;
        assert!(matches!(presented, Err(AuthError::InvalidToken(InvalidToken::Revoked))));
        let b_works = service.verifies_text(b.token.expose_secret()).await;
        assert_eq!(b_works, !detect, "detect = {detect}");
        // An ordinary revoke is no rotation: nothing to burn.
        let d = service.issue(&admin, IssueRequest::new("alice", "other")).await.unwrap();
        service.revoke(&admin, &TokenRef::id(d.record.id)).await.unwrap();
        assert!(!service.verifies_text(d.token.expose_secret()).await);
    }
}

/// A retired manager token may still mint during its grace; what it
/// minted since its rotation burns with its successors when it comes
/// back. What it minted before the rotation stays.
#[tokio::test]
async fn what_a_retired_token_minted_in_its_grace_burns_too() {
    let (service, clock) = manager(Arc::new(MemoryStore::new()), true);
    let admin = Actor::Admin;
    let scopes = tokenkeep::Scopes { manager: true, ..tokenkeep::Scopes::default() };
    let m = service.issue(&admin, IssueRequest::new("root", "ops").scopes(scopes)).await.unwrap();
    let m_text = m.token.expose_secret().to_owned();
    let as_m = || async {
        let who = service.service().verify_token(&m_text, Requirement::Manager).await.unwrap();
        Actor::Token(who)
    };
    let before = service.issue(&as_m().await, IssueRequest::new("bob", "before")).await.unwrap();
    clock.advance(Duration::minutes(1));
    let m2 =
        service.rotate(&admin, &TokenRef::id(m.record.id), Some(Duration::hours(1))).await.unwrap();
    clock.advance(Duration::minutes(1));
    let during = service.issue(&as_m().await, IssueRequest::new("bob", "during")).await.unwrap();

    clock.advance(Duration::hours(2));
    let presented = service.service().verify_token(&m_text, Requirement::None).await;
    assert!(matches!(presented, Err(AuthError::InvalidToken(InvalidToken::Expired))));
    assert_eq!(reason(&service, m2.record.id).await, Some(RevokeReason::ReuseDetected));
    assert_eq!(
        reason(&service, during.record.id).await,
        Some(RevokeReason::ReuseDetected),
        "minted by the retired token in its grace"
    );
    assert_eq!(reason(&service, before.record.id).await, None, "minted before the rotation: kept");
}

/// A store whose answer to `get` of one token is read before another
/// instance rotates that token, and arrives after: what a burn reads of
/// the chain before its change is then already stale.
#[derive(Debug)]
struct RotatedMeanwhile {
    inner: Arc<dyn ManageStore>,
    armed: std::sync::Mutex<Option<(tokenkeep::TokenId, TokenManager)>>,
}

#[tokenkeep::store::async_trait]
impl tokenkeep::store::StoreLayer for RotatedMeanwhile {
    type Inner = dyn ManageStore;

    fn inner(&self) -> &dyn ManageStore {
        &*self.inner
    }

    async fn get(
        &self,
        id: &tokenkeep::TokenId,
    ) -> Result<Option<tokenkeep::TokenRecord>, tokenkeep::store::StoreError> {
        let answer = self.inner.get(id).await;
        let armed = self.armed.lock().unwrap().take_if(|(watched, _)| watched == id);
        if let Some((watched, other_instance)) = armed {
            other_instance.rotate(&Actor::Admin, &TokenRef::id(watched), None).await.unwrap();
        }
        answer
    }
}

impl tokenkeep::store::WriteLayer for RotatedMeanwhile {}

/// The retired token is presented on one instance while its successor is
/// rotated on another: the newest successor burns too, because the chain
/// is read and burnt inside one change. (0.3 read the chain first and
/// burnt only the links it had read, leaving the newest one active.)
#[tokio::test]
async fn a_successor_minted_while_the_chain_burns_burns_too() {
    let shared: Arc<dyn ManageStore> = Arc::new(MemoryStore::new());
    let layered =
        Arc::new(RotatedMeanwhile { inner: shared.clone(), armed: std::sync::Mutex::new(None) });
    let (service, _) = manager(layered.clone(), true);
    let (other_instance, _) = manager(shared, true);
    let admin = Actor::Admin;
    let (a, b) = rotated_at_once(&service).await;
    *layered.armed.lock().unwrap() = Some((b.record.id, other_instance));

    let refused = service.service().verify_token(a.token.expose_secret(), Requirement::None).await;
    assert!(refused.is_err());
    let b_now = service.get(&admin, &TokenRef::id(b.record.id)).await.unwrap();
    let c = b_now.extras.replaced_by.expect("the other instance rotated B");
    assert_eq!(
        reason(&service, c).await,
        Some(RevokeReason::ReuseDetected),
        "the successor minted meanwhile burns"
    );
}
