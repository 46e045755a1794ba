//! A store that fails, hangs or panics: verification fails closed (503,
//! never authenticated), the service keeps serving, last-used batches are
//! retried without blocking verification; a cut Postgres connection heals.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::support::faulty::{FaultyStore, Lookups};
use tokenkeep::store::MemoryStore;
use tokenkeep::{AuthError, ErrorCode, IssueRequest, Prefix, Requirement, TokenManager};

/// A service over a faulty store whose lookups go the async way (the
/// wrapper has no immediate answer), with a short store timeout.
async fn setup() -> (TokenManager, Arc<FaultyStore>, String) {
    let store = FaultyStore::new(MemoryStore::new());
    let service = TokenManager::builder(store.clone(), Prefix::new("tk").unwrap())
        .store_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let issued = service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    (service, store, issued.token.expose_secret().to_owned())
}

async fn assert_fails_closed(service: &TokenManager, token: &str) {
    let error = service.refused(token).await;
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
    assert_eq!(error.code(), "STORE_UNAVAILABLE");
}

#[tokio::test]
async fn a_failing_store_fails_closed_and_the_service_recovers() {
    let (service, store, token) = setup().await;
    store.set_lookups(Lookups::Fail);
    assert_fails_closed(&service, &token).await;
    store.set_lookups(Lookups::Answer);
    service.verified(&token).await;
}

#[tokio::test]
async fn a_hanging_store_times_out_closed() {
    let (service, store, token) = setup().await;
    store.set_lookups(Lookups::Hang);
    let started = std::time::Instant::now();
    assert_fails_closed(&service, &token).await;
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout applied");
    store.set_lookups(Lookups::Answer);
    service.verified(&token).await;
}

#[tokio::test]
async fn a_panicking_store_fails_closed_and_the_service_goes_on() {
    let (service, store, token) = setup().await;
    store.set_lookups(Lookups::Panic);
    for _ in 0..3 {
        assert_fails_closed(&service, &token).await;
    }
    store.set_lookups(Lookups::Answer);
    service.verified(&token).await;
}

#[tokio::test]
async fn refused_last_used_batches_are_retried_without_blocking_verification() {
    let (service, store, token) = setup().await;
    store.fail_last_used.store(true, Ordering::SeqCst);
    service.verified(&token).await;
    assert!(service.service().flush_last_used().await.is_err());
    // Verification is unaffected while the store refuses the batch.
    service.verified(&token).await;
    store.fail_last_used.store(false, Ordering::SeqCst);
    assert_eq!(
        service.service().flush_last_used().await.unwrap(),
        1,
        "the batch was kept and retried"
    );
    assert_eq!(store.notes.load(Ordering::SeqCst), 1);
    let query = tokenkeep::store::ListQuery {
        owner: Some("alice".into()),
        include_inactive: true,
        now: service.service().now(),
    };
    let records = service.service().store().list(&query).await.unwrap();
    assert!(records[0].last_used_at.is_some());
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_postgres_connection_heals_without_a_restart() {
    use std::str::FromStr as _;
    use tokenkeep::store::sqlx;
    let Some(url) = crate::support::sql::postgres_url().await else {
        return;
    };
    let name = format!("tokenkeep-fault-{}", std::process::id());
    let options = crate::support::sql::fresh_schema(&url).await.application_name(&name);
    let store = tokenkeep::store::PostgresStore::connect_with(options).await.unwrap();
    store.migrate().await.unwrap();
    let service = crate::support::service_over(Arc::new(store));
    let issued = service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let token = issued.token.expose_secret();
    service.verified(token).await;

    let admin =
        sqlx::PgPool::connect_with(sqlx::postgres::PgConnectOptions::from_str(&url).unwrap())
            .await
            .unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(!cut.is_empty(), "connections were cut");

    // Whatever fails meanwhile fails closed; then it works again.
    let started = std::time::Instant::now();
    loop {
        match service.service().verify_token(token, Requirement::None).await {
            Ok(who) => {
                assert_eq!(who.owner(), "alice");
                break;
            }
            Err(AuthError::Unavailable(_)) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("not recovered: {other:?}"),
        }
    }
}
