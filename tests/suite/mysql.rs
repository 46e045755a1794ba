//! `MysqlStore` against the real server (MariaDB on every machine): the
//! conformance suite through one handle and two, cached with the change
//! feed polled, and what reaches the database. Each test works in a
//! database of its own. Without `TOKENKEEP_MYSQL_URL` and without a server
//! at the default address, they say so and skip.
#![cfg(all(feature = "mysql", feature = "management"))]
// The set-up helpers below are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::Calls as _;
use crate::support::service_over;
use crate::support::sql::{another_mysql_handle, drop_mysql_database, mysql_store};
use tokenkeep::store::{CacheConfig, CachedStore, MysqlStore, sqlx};
use tokenkeep::{Actor, IssueRequest, TokenRef};

#[cfg(feature = "conformance")]
mod conformance {
    use std::sync::Arc;

    use tokenkeep::store::MysqlStore;

    async fn mysql_store(_test: &'static str) -> Option<MysqlStore> {
        crate::support::sql::mysql_store().await
    }

    /// A second instance connected to the same database.
    async fn same_database(_test: &'static str, first: &Arc<MysqlStore>) -> Arc<MysqlStore> {
        Arc::new(crate::support::sql::another_mysql_handle(first).await)
    }

    /// Each check's database is dropped when it ends, passed or failed.
    async fn drop_database(_test: &'static str, store: Arc<MysqlStore>) {
        crate::support::sql::drop_mysql_database(&store).await;
    }

    tokenkeep::store_conformance_tests!(
        maybe: mysql_store,
        another = same_database,
        teardown = drop_database
    );
}

#[cfg(feature = "conformance")]
mod cached_conformance {
    use std::sync::Arc;
    use std::time::Duration;

    use tokenkeep::store::{
        CacheConfig, CachedStore, ChangeFeedPoller, MysqlStore, StoreLayer, WriteLayer,
    };

    /// A cached store with its feed poller, as an instance of a service
    /// holds them.
    #[derive(Debug)]
    struct Polling {
        store: CachedStore<MysqlStore>,
        _poller: ChangeFeedPoller,
    }

    impl StoreLayer for Polling {
        type Inner = CachedStore<MysqlStore>;

        fn inner(&self) -> &Self::Inner {
            &self.store
        }
    }

    impl WriteLayer for Polling {}

    async fn polling(store: MysqlStore) -> Polling {
        let store = CachedStore::new(store, CacheConfig::default());
        let poller = store.poll_changes(Duration::from_millis(50)).await.expect("poll");
        Polling { store, _poller: poller }
    }

    async fn cached_mysql(_test: &'static str) -> Option<Polling> {
        Some(polling(crate::support::sql::mysql_store().await?).await)
    }

    /// A second instance on the same database, with a cache of its own.
    async fn same_database(_test: &'static str, first: &Arc<Polling>) -> Arc<Polling> {
        let other = crate::support::sql::another_mysql_handle(first.store.inner()).await;
        Arc::new(polling(other).await)
    }

    async fn drop_database(_test: &'static str, store: Arc<Polling>) {
        crate::support::sql::drop_mysql_database(store.store.inner()).await;
    }

    tokenkeep::store_conformance_tests!(
        maybe: cached_mysql,
        another = same_database,
        teardown = drop_database
    );
}

/// A revoke through one instance is refused by another, whose cache's TTL
/// is far too long to hide a missed feed row, within the poll interval
/// and a round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_on_one_instance_reaches_another_through_the_feed() {
    let Some(first) = mysql_store().await else {
        return;
    };
    let config = CacheConfig { capacity: 1_000, ttl: Duration::from_secs(600) };
    let other = Arc::new(CachedStore::new(another_mysql_handle(&first).await, config));
    let _poller = other.poll_changes(Duration::from_millis(20)).await.unwrap();
    let writer = service_over(Arc::new(first.clone()));
    let reader = service_over(other);
    for round in 0..5 {
        let issued = writer
            .issue(&Actor::Admin, IssueRequest::new("alice", format!("t{round}")))
            .await
            .unwrap();
        let text = issued.token.expose_secret();
        assert!(reader.verifies_text(text).await, "cached on the other instance");
        writer.revoke(&Actor::Admin, &TokenRef::id(issued.record.id)).await.unwrap();
        let started = Instant::now();
        while reader.verifies_text(text).await {
            assert!(started.elapsed() < Duration::from_secs(2), "the revoke never arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    drop_mysql_database(&first).await;
}

/// Only hashes reach the database, and text compares byte for byte: an
/// owner differing only in case or accents is another owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_hashes_are_stored_and_owners_match_exactly() {
    let Some(store) = mysql_store().await else {
        return;
    };
    let service = service_over(Arc::new(store.clone()));
    let issued = service.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await.unwrap();
    for owner in ["Alice", "alicé", "ALICE"] {
        service.issue(&Actor::Admin, IssueRequest::new(owner, "ci")).await.unwrap();
    }
    let alices = service.list(&Actor::Admin, Some("alice"), false).await.unwrap();
    assert_eq!(alices.len(), 1, "{alices:?}");
    let dump: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT CAST(CONCAT_WS('|', id, hash, display_prefix) AS BINARY) FROM tokenkeep_tokens",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let secret = issued.token.expose_secret().as_bytes();
    for (row,) in dump {
        assert!(!row.windows(secret.len()).any(|window| window == secret), "no token text stored");
    }
    drop_mysql_database(&store).await;
}

/// Migrating twice, from two instances at once, leaves one schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_from_two_instances() {
    let Some(store) = mysql_store().await else {
        return;
    };
    let other: MysqlStore = another_mysql_handle(&store).await;
    let (a, b) = tokio::join!(store.migrate(), other.migrate());
    a.unwrap();
    b.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokenkeep_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, 1);
    drop_mysql_database(&store).await;
}
