//! Usage limits through the verify path: of 50 concurrent verifications of
//! a token with 10 uses left, exactly 10 succeed on every backend (memory,
//! SQLite, PostgreSQL); the rest answer `invalid_token` with their own
//! reason; tokens without a limit never touch the count.
#![cfg(all(feature = "management", feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;

use crate::support::sql::{postgres_store, sqlite_store};
use tokenkeep::ErrorCode as _;
use tokenkeep::record::Usage;
use tokenkeep::store::{ManageStore, MemoryStore};
use tokenkeep::{Actor, AuthError, InvalidToken, IssueRequest, Prefix, Requirement, TokenManager};

async fn fifty_verifications_of_ten_uses(store: Arc<dyn ManageStore>) {
    let service = TokenManager::builder(store, Prefix::new("tk").unwrap()).build().unwrap();
    let usage = Usage::new(10, tokenkeep::time::OffsetDateTime::UNIX_EPOCH).unwrap();
    let issued =
        service.issue(&Actor::Admin, IssueRequest::new("alice", "ten").usage(usage)).await.unwrap();
    let token = issued.token.expose_secret().to_owned();
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let (service, token) = (service.clone(), token.clone());
            tokio::spawn(
                async move { service.service().verify_token(&token, Requirement::None).await },
            )
        })
        .collect();
    let mut succeeded = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(AuthError::InvalidToken(InvalidToken::UsesExhausted)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(succeeded, 10, "exactly the uses left");
    let spent = service.service().verify_token(&token, Requirement::None).await;
    assert!(matches!(spent, Err(AuthError::InvalidToken(InvalidToken::UsesExhausted))));
    assert_eq!(spent.unwrap_err().code(), "INVALID_TOKEN");

    // A refused scope does not use one up.
    let more = Usage::new(1, tokenkeep::time::OffsetDateTime::UNIX_EPOCH).unwrap();
    let one = service.admin_issue(IssueRequest::new("alice", "one").usage(more)).await;
    let one = one.token.expose_secret();
    assert!(service.service().verify_token(one, Requirement::Manager).await.is_err());
    assert!(service.verifies_text(one).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    fifty_verifications_of_ten_uses(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    fifty_verifications_of_ten_uses(Arc::new(sqlite_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(store) = postgres_store().await else {
        return;
    };
    fifty_verifications_of_ten_uses(Arc::new(store)).await;
}

/// A rotation with a grace period leaves two tokens working: they share
/// one budget, so 10 uses give 10 successes, not 20.
#[tokio::test]
async fn a_rotation_chain_shares_one_budget() {
    let service = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .build()
        .unwrap();
    let usage = Usage::new(10, service.service().now()).unwrap();
    let old =
        service.issue(&Actor::Admin, IssueRequest::new("alice", "ten").usage(usage)).await.unwrap();
    let grace = Some(tokenkeep::time::Duration::hours(1));
    let new = service
        .rotate(&Actor::Admin, &tokenkeep::TokenRef::id(old.record.id), grace)
        .await
        .unwrap();
    let mut succeeded = 0;
    for _ in 0..15 {
        for token in [&old.token, &new.token] {
            let verdict =
                service.service().verify_token(token.expose_secret(), Requirement::None).await;
            succeeded += usize::from(verdict.is_ok());
        }
    }
    assert_eq!(succeeded, 10, "one budget for the chain");
}

/// How the middle link of a chain A → B → C stops working.
#[derive(Clone, Copy, Debug)]
enum MiddleLink {
    /// B is rotated to C with no grace period.
    RotatedAtOnce,
    /// B is revoked after being rotated to C with a grace period.
    Revoked,
    /// B's grace period runs out.
    GraceOver,
}

/// A chain's budget is one budget whatever its links' states: A, still in
/// its grace, spends from C even when B between them no longer verifies.
/// (0.3 stopped at the first link it did not read and let A spend its own
/// stale copy: 20 successes from 10 uses.)
async fn an_inactive_link_is_walked_through(store: Arc<dyn ManageStore>, middle: MiddleLink) {
    use tokenkeep::expiry::ManualClock;
    use tokenkeep::time::Duration;
    let clock = ManualClock::new(tokenkeep::time::OffsetDateTime::now_utc());
    let service = TokenManager::builder(store, Prefix::new("tk").unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    let usage = Usage::new(10, service.service().now()).unwrap();
    let a =
        service.issue(&Actor::Admin, IssueRequest::new("alice", "ten").usage(usage)).await.unwrap();
    let rotate = |id, grace| {
        let service = service.clone();
        async move { service.rotate(&Actor::Admin, &tokenkeep::TokenRef::id(id), grace).await.unwrap() }
    };
    let b = rotate(a.record.id, Some(Duration::hours(1))).await;
    let c = match middle {
        MiddleLink::RotatedAtOnce => rotate(b.record.id, None).await,
        MiddleLink::Revoked => {
            let c = rotate(b.record.id, Some(Duration::minutes(5))).await;
            service.revoke(&Actor::Admin, &tokenkeep::TokenRef::id(b.record.id)).await.unwrap();
            c
        }
        MiddleLink::GraceOver => {
            let c = rotate(b.record.id, Some(Duration::minutes(5))).await;
            clock.advance(Duration::minutes(10));
            c
        }
    };
    let mut succeeded = 0;
    for token in [&c.token, &a.token] {
        for _ in 0..12 {
            let verdict =
                service.service().verify_token(token.expose_secret(), Requirement::None).await;
            succeeded += usize::from(verdict.is_ok());
        }
    }
    assert_eq!(succeeded, 10, "{middle:?}: one budget for the chain");
}

const MIDDLE_LINKS: [MiddleLink; 3] =
    [MiddleLink::RotatedAtOnce, MiddleLink::Revoked, MiddleLink::GraceOver];

#[tokio::test]
async fn an_inactive_link_is_walked_through_on_memory() {
    for middle in MIDDLE_LINKS {
        an_inactive_link_is_walked_through(Arc::new(MemoryStore::new()), middle).await;
    }
}

#[tokio::test]
async fn an_inactive_link_is_walked_through_on_sqlite() {
    for middle in MIDDLE_LINKS {
        an_inactive_link_is_walked_through(Arc::new(sqlite_store().await), middle).await;
    }
}

#[tokio::test]
async fn an_inactive_link_is_walked_through_on_postgres() {
    for middle in MIDDLE_LINKS {
        let Some(store) = postgres_store().await else {
            return;
        };
        an_inactive_link_is_walked_through(Arc::new(store), middle).await;
    }
}

/// A request may cost several uses: the pipeline takes them all when it
/// passes, none when it is refused (by its route, or for want of uses),
/// and charges the rate limit the same cost.
#[tokio::test]
async fn a_request_may_cost_several_uses_and_as_much_rate() {
    use std::num::NonZeroU32;
    use tokenkeep::http::{RequestFacts, RouteRequirement, verify_request};
    let (service, _) = crate::support::service();
    let usage = tokenkeep::record::Usage::new(5, service.service().now()).unwrap();
    let scopes = tokenkeep::Scopes {
        routes: vec![tokenkeep::scope::Route::parse_spec("/docs:r").unwrap()],
        ..tokenkeep::Scopes::default()
    };
    let request = tokenkeep::IssueRequest::new("alice", "batch").usage(usage).scopes(scopes);
    let issued = service.issue(&tokenkeep::Actor::Admin, request).await.unwrap();
    let header = format!("Bearer {}", issued.token.expose_secret());
    let three = NonZeroU32::new(3).unwrap();
    let facts = |method, path| {
        RequestFacts::new(method, path).authorization([header.as_bytes()]).cost(three)
    };
    let by_method = RouteRequirement::PathByMethod;
    let written = verify_request(service.service(), &facts("PUT", "/docs/a"), &by_method).await;
    assert_eq!(written.unwrap_err().status(), 403, "a refused route takes nothing");
    assert!(verify_request(service.service(), &facts("GET", "/docs/a"), &by_method).await.is_ok());
    let short = verify_request(service.service(), &facts("GET", "/docs/a"), &by_method).await;
    assert_eq!(short.unwrap_err().status(), 401, "two uses left, a cost of three");
    let once = RequestFacts::new("GET", "/docs/a").authorization([header.as_bytes()]);
    assert!(verify_request(service.service(), &once, &by_method).await.is_ok(), "one of the two");

    let rated = tokenkeep::IssueRequest::new("alice", "rated").rate_limit("5/1m".parse().unwrap());
    let rated = service.issue(&tokenkeep::Actor::Admin, rated).await.unwrap();
    let text = rated.token.expose_secret();
    let requirement = tokenkeep::Requirement::None;
    assert!(service.service().verify_token_costing(text, requirement, None, three).await.is_ok());
    let spent = service.service().verify_token_costing(text, requirement, None, three).await;
    assert!(matches!(spent, Err(tokenkeep::AuthError::RateLimited { .. })), "{spent:?}");
}
