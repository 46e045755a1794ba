//! Races, on every backend: the cap, disjoint PATCHes, a rotation racing a
//! PATCH, rotations with grace racing creates at the cap, and verify
//! against revoke, each repeated 100 times. Each
//! backend runs the same scenarios through `TokenManager`. (The 50-way
//! setup claim race is a conformance check, run on every backend there.)
#![cfg(all(feature = "management", feature = "sqlite", feature = "postgres"))]
// The scenario helpers are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::service_over;
use crate::support::sql::{postgres_store, sqlite_store};
use tokenkeep::rules::Refusal;
use tokenkeep::scope::Ability;
use tokenkeep::store::MemoryStore;
use tokenkeep::time::Duration;
use tokenkeep::{
    Access, Actor, IssueRequest, ManageError, Route, TokenManager, TokenRef, TokenUpdate,
};

const REPETITIONS: usize = 100;

/// 50 concurrent issues for an owner one below the cap: exactly one wins.
async fn cap_race(service: TokenManager) {
    for repetition in 0..REPETITIONS {
        let owner = format!("owner{repetition}");
        for index in 0..9 {
            service
                .issue(&Actor::Admin, IssueRequest::new(owner.as_str(), format!("pre{index}")))
                .await
                .unwrap();
        }
        let attempts: Vec<_> = (0..50)
            .map(|index| {
                let (service, owner) = (service.clone(), owner.clone());
                tokio::spawn(async move {
                    service
                        .issue(&Actor::Admin, IssueRequest::new(owner, format!("race{index}")))
                        .await
                })
            })
            .collect();
        let mut winners = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => winners += 1,
                Err(ManageError::Refused(Refusal::LimitReached { limit: 10 })) => {}
                Err(other) => panic!("repetition {repetition}: {other:?}"),
            }
        }
        assert_eq!(winners, 1, "repetition {repetition}");
    }
}

/// 50 concurrent PATCHes of one token, ten for each of five fields, all
/// setting this repetition's value: every field ends with it.
async fn disjoint_patches_race(service: TokenManager) {
    let issued = service.admin_issue(IssueRequest::new("patcher", "target")).await;
    let token = TokenRef::id(issued.record.id);
    for repetition in 0..REPETITIONS {
        let label = format!("r{repetition}");
        let ability = Ability::new(label.as_str()).unwrap();
        let route = Route::new(&format!("/{label}"), Access::READ).unwrap();
        let patches: Vec<_> = (0..50)
            .map(|index| {
                let changes = match index % 5 {
                    0 => TokenUpdate {
                        description: Some(Some(label.clone())),
                        ..TokenUpdate::default()
                    },
                    1 => {
                        TokenUpdate { manager: Some(repetition % 2 == 0), ..TokenUpdate::default() }
                    }
                    2 => TokenUpdate {
                        abilities: Some(vec![ability.clone()]),
                        ..TokenUpdate::default()
                    },
                    3 => {
                        TokenUpdate { routes: Some(vec![route.clone()]), ..TokenUpdate::default() }
                    }
                    _ => {
                        TokenUpdate { profile: Some(Some(label.clone())), ..TokenUpdate::default() }
                    }
                };
                let (service, token) = (service.clone(), token.clone());
                tokio::spawn(async move { service.modify(&Actor::Admin, &token, changes).await })
            })
            .collect();
        for patch in patches {
            patch.await.unwrap().unwrap();
        }
        let now = service.get(&Actor::Admin, &token).await.unwrap();
        assert_eq!(
            now.extras.description.as_deref(),
            Some(label.as_str()),
            "repetition {repetition}"
        );
        assert_eq!(now.scopes.manager, repetition % 2 == 0, "repetition {repetition}");
        assert_eq!(now.scopes.abilities, [ability], "repetition {repetition}");
        assert_eq!(now.scopes.routes, [route], "repetition {repetition}");
        assert_eq!(now.extras.profile.as_deref(), Some(label.as_str()), "repetition {repetition}");
    }
}

/// A rotation racing a PATCH: when both succeed, the new token carries
/// the PATCH (a PATCH after the rotation finds the old token revoked).
async fn rotate_patch_race(service: TokenManager) {
    for repetition in 0..REPETITIONS {
        let issued = service
            .issue(&Actor::Admin, IssueRequest::new(format!("rotator{repetition}"), "ci"))
            .await
            .unwrap();
        let token = TokenRef::id(issued.record.id);
        let route = Route::new(&format!("/r{repetition}"), Access::READ).unwrap();
        let changes = TokenUpdate { routes: Some(vec![route.clone()]), ..TokenUpdate::default() };
        let rotate = {
            let (service, token) = (service.clone(), token.clone());
            tokio::spawn(async move { service.rotate(&Actor::Admin, &token, None).await })
        };
        let patch = {
            let (service, token) = (service.clone(), token.clone());
            tokio::spawn(async move { service.modify(&Actor::Admin, &token, changes).await })
        };
        let rotated = rotate.await.unwrap().unwrap();
        match patch.await.unwrap() {
            Ok(_) => assert_eq!(
                rotated.record.scopes.routes,
                [route],
                "repetition {repetition}: the new token lost the PATCH"
            ),
            Err(ManageError::Refused(Refusal::Inactive)) => {}
            Err(other) => panic!("repetition {repetition}: {other:?}"),
        }
    }
}

/// Ten rotations with a grace period racing nine creates, for an owner
/// with one token and a cap of ten: never more than ten verify.
async fn grace_rotations_race_creates(service: TokenManager) {
    for repetition in 0..REPETITIONS {
        let owner = format!("graceful{repetition}");
        service.admin_issue(IssueRequest::new(owner.as_str(), "ci")).await;
        let rotations = (0..10).map(|_| {
            let (service, owner) = (service.clone(), owner.clone());
            tokio::spawn(async move {
                let token = TokenRef::id_or_name("ci").of_owner(owner);
                service.rotate(&Actor::Admin, &token, Some(Duration::days(1))).await.map(|_| ())
            })
        });
        let creates = (0..9).map(|index| {
            let (service, owner) = (service.clone(), owner.clone());
            tokio::spawn(async move {
                service
                    .issue(&Actor::Admin, IssueRequest::new(owner, format!("t{index}")))
                    .await
                    .map(|_| ())
            })
        });
        let attempts: Vec<_> = rotations.chain(creates).collect();
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(())
                | Err(ManageError::Refused(
                    Refusal::LimitReached { .. } | Refusal::Inactive | Refusal::NotFound,
                )) => {}
                Err(other) => panic!("repetition {repetition}: {other:?}"),
            }
        }
        let verifying =
            service.list(&Actor::Admin, Some(owner.as_str()), false).await.unwrap().len();
        assert!(
            verifying <= 10,
            "repetition {repetition}: {verifying} tokens verify for a cap of 10"
        );
    }
}

/// Verifications racing a revoke: none that starts after `revoke`
/// returned succeeds.
async fn verify_revoke_race(service: TokenManager) {
    for _ in 0..20 {
        let issued = service
            .issue(&Actor::Admin, IssueRequest::new("racer", format!("t{}", rand_suffix())))
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
                        if service.verifies_text(&token).await && after_revoke {
                            late += 1;
                        }
                    }
                    late
                })
            })
            .collect();
        tokio::task::yield_now().await;
        service.admin_revoke(issued.record.id).await;
        revoked.store(true, Ordering::SeqCst);
        for verifier in verifiers {
            assert_eq!(verifier.await.unwrap(), 0, "a verification after revoke succeeded");
        }
    }
}

fn rand_suffix() -> String {
    tokenkeep::TokenId::random().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_races() {
    cap_race(service_over(Arc::new(MemoryStore::new()))).await;
    disjoint_patches_race(service_over(Arc::new(MemoryStore::new()))).await;
    rotate_patch_race(service_over(Arc::new(MemoryStore::new()))).await;
    grace_rotations_race_creates(service_over(Arc::new(MemoryStore::new()))).await;
    verify_revoke_race(service_over(Arc::new(MemoryStore::new()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_races() {
    cap_race(service_over(Arc::new(sqlite_store().await))).await;
    disjoint_patches_race(service_over(Arc::new(sqlite_store().await))).await;
    rotate_patch_race(service_over(Arc::new(sqlite_store().await))).await;
    grace_rotations_race_creates(service_over(Arc::new(sqlite_store().await))).await;
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
    disjoint_patches_race(service_over(Arc::new(store))).await;
    let Some(store) = postgres_store().await else {
        return;
    };
    rotate_patch_race(service_over(Arc::new(store))).await;
    let Some(store) = postgres_store().await else {
        return;
    };
    grace_rotations_race_creates(service_over(Arc::new(store))).await;
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

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_races() {
    use crate::support::sql::{drop_mysql_database, mysql_store};
    for scenario in 0..5 {
        let Some(store) = mysql_store().await else {
            return;
        };
        let manager = service_over(Arc::new(store.clone()));
        match scenario {
            0 => cap_race(manager).await,
            1 => disjoint_patches_race(manager).await,
            2 => rotate_patch_race(manager).await,
            3 => grace_rotations_race_creates(manager).await,
            _ => verify_revoke_race(manager).await,
        }
        drop_mysql_database(&store).await;
    }
}
