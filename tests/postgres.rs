//! `PostgresStore` against the real server: the conformance suite,
//! migrations, time zones, and that only hashes reach the database.
//! Each test works in a schema of its own. Without `TOKENKEEP_POSTGRES_URL`
//! and without a server at the default address, they say so and skip.
#![cfg(all(feature = "postgres", feature = "management"))]

mod support;

use std::sync::Arc;

use support::service_over;
use support::sql::{fresh_schema, postgres_store, postgres_url};
use tokenkeep::sqlx;
use tokenkeep::{Actor, IssueRequest, PostgresStore, Requirement, TokenRef};

#[cfg(feature = "conformance")]
mod conformance {
    tokenkeep::store_conformance_tests!(maybe: super::postgres_store);
}

#[tokio::test]
async fn migrations_are_versioned_and_idempotent() {
    let Some(store) = postgres_store().await else {
        return;
    };
    store.migrate().await.unwrap();
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM tokenkeep_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(versions, [1]);
    let kind: String = sqlx::query_scalar(
        "SELECT data_type FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'tokenkeep_tokens' AND column_name = 'created_at'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(kind, "timestamp with time zone");
}

#[tokio::test]
async fn instants_do_not_depend_on_the_session_time_zone() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let options = fresh_schema(&url).await;
    let utc = PostgresStore::connect_with(options.clone().options([("TimeZone", "UTC")]))
        .await
        .unwrap();
    utc.migrate().await.unwrap();
    let issued = service_over(Arc::new(utc.clone()))
        .issue(&Actor::Admin, IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    for zone in ["Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kolkata"] {
        let zoned = PostgresStore::connect_with(options.clone().options([("TimeZone", zone)]))
            .await
            .unwrap();
        let seen = service_over(Arc::new(zoned))
            .get(&Actor::Admin, &TokenRef::id(issued.record.id))
            .await
            .unwrap();
        assert_eq!(seen, issued.record, "read under {zone}");
    }
}

#[tokio::test]
async fn only_hashes_reach_the_database() {
    let Some(store) = postgres_store().await else {
        return;
    };
    let service = service_over(Arc::new(store.clone()));
    let mut secrets = Vec::new();
    for index in 0..5 {
        let issued = service
            .issue(
                &Actor::Admin,
                IssueRequest::new("alice", format!("t{index}")),
            )
            .await
            .unwrap();
        service
            .verify_token(issued.token.expose_secret(), Requirement::None)
            .await
            .unwrap();
        secrets.push(issued.token.expose_secret()[3..].to_owned());
    }
    service.flush_last_used().await.unwrap();
    // Every column of every row, as JSON text (bytea as hex).
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(t)::text FROM tokenkeep_tokens t")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        for secret in &secrets {
            assert!(!row.contains(secret.as_str()), "a plaintext in a row");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_database() {
    let Some(url) = postgres_url().await else {
        return;
    };
    let options = fresh_schema(&url).await;
    let one = PostgresStore::connect_with(options.clone()).await.unwrap();
    one.migrate().await.unwrap();
    let two = PostgresStore::connect_with(options).await.unwrap();
    two.migrate().await.unwrap();
    let (first, second) = (service_over(Arc::new(one)), service_over(Arc::new(two)));
    let issued = first
        .issue(&Actor::Admin, IssueRequest::new("alice", "laptop"))
        .await
        .unwrap();
    second
        .verify_token(issued.token.expose_secret(), Requirement::None)
        .await
        .unwrap();
    first
        .revoke(&Actor::Admin, &TokenRef::id(issued.record.id))
        .await
        .unwrap();
    assert!(
        second
            .verify_token(issued.token.expose_secret(), Requirement::None)
            .await
            .is_err()
    );
}
