//! Races, on every backend: the cap, and verify against revoke. Each
//! backend runs the same scenarios through `TokenManager`. (The 50-way
//! setup claim race is a conformance check, run on every backend there.)
#![cfg(all(feature = "management", feature = "sqlite", feature = "postgres"))]
// The scenario helpers are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::service_over;
use support::sql::{postgres_store, sqlite_store};
use tokenkeep::store::{MemoryStore, StoreError};
use tokenkeep::{Actor, IssueRequest, ManageError, Requirement, TokenManager, TokenRef};

const REPETITIONS: usize = 100;

/// 50 concurrent issues for an owner one below the cap: exactly one wins.
async fn cap_race(service: TokenManager) {
    for repetition in 0..REPETITIONS {
        let owner = format!("owner{repetition}");
        for index in 0..9 {
            service
                .issue(
                    &Actor::Admin,
                    IssueRequest::new(owner.as_str(), format!("pre{index}")),
                )
                .await
                .unwrap();
        }
        let attempts: Vec<_> = (0..50)
            .map(|index| {
                let (service, owner) = (service.clone(), owner.clone());
                tokio::spawn(async move {
                    service
                        .issue(
                            &Actor::Admin,
                            IssueRequest::new(owner, format!("race{index}")),
                        )
                        .await
                })
            })
            .collect();
        let mut winners = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => winners += 1,
                Err(ManageError::Store(StoreError::LimitReached { limit: 10 })) => {}
                Err(other) => panic!("repetition {repetition}: {other:?}"),
            }
        }
        assert_eq!(winners, 1, "repetition {repetition}");
    }
}

/// Verifications racing a revoke: none that starts after `revoke`
/// returned succeeds.
async fn verify_revoke_race(service: TokenManager) {
    for _ in 0..20 {
        let issued = service
            .issue(
                &Actor::Admin,
                IssueRequest::new("racer", format!("t{}", rand_suffix())),
            )
            .await
            .unwrap();
        let token: Arc<str> = issued.token.expose_secret().into();
        let revoked = Arc::new(AtomicBool::new(false));
        let verifiers: Vec<_> = (0..4)
            .map(|_| {
                let (service, token, revoked) = (service.clone(), token.clone(), revoked.clone());
                tokio::spawn(async move {
                    let mut late = 0;
                    for _ in 0..50 {
                        let after_revoke = revoked.load(Ordering::SeqCst);
                        if service
                            .verify_token(&token, Requirement::None)
                            .await
                            .is_ok()
                            && after_revoke
                        {
                            late += 1;
                        }
                    }
                    late
                })
            })
            .collect();
        tokio::task::yield_now().await;
        service
            .revoke(&Actor::Admin, &TokenRef::id(issued.record.id))
            .await
            .unwrap();
        revoked.store(true, Ordering::SeqCst);
        for verifier in verifiers {
            assert_eq!(
                verifier.await.unwrap(),
                0,
                "a verification after revoke succeeded"
            );
        }
    }
}

fn rand_suffix() -> String {
    tokenkeep::TokenId::random().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_races() {
    cap_race(service_over(Arc::new(MemoryStore::new()))).await;
    verify_revoke_race(service_over(Arc::new(MemoryStore::new()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_races() {
    cap_race(service_over(Arc::new(sqlite_store().await))).await;
    verify_revoke_race(service_over(Arc::new(sqlite_store().await))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_races() {
    let Some(store) = postgres_store().await else {
        return;
    };
    cap_race(service_over(Arc::new(store))).await;
    let Some(store) = postgres_store().await else {
        return;
    };
    verify_revoke_race(service_over(Arc::new(store))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_postgres_races() {
    let Some(store) = postgres_store().await else {
        return;
    };
    let cached =
        tokenkeep::store::CachedStore::new(store, tokenkeep::store::CacheConfig::default());
    verify_revoke_race(service_over(Arc::new(cached))).await;
}
