//! `PostgresStore` against the real server: the conformance suite,
//! migrations, time zones, and that only hashes reach the database.
//! Each test works in a schema of its own. Without `TOKENKEEP_POSTGRES_URL`
//! and without a server at the default address, they say so and skip.
#![cfg(all(feature = "postgres", feature = "management"))]
// The set-up helpers below are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::sync::Arc;

use crate::support::service_over;
use crate::support::sql::{fresh_schema, postgres_store, postgres_url};
use tokenkeep::store::PostgresStore;
use tokenkeep::store::sqlx;
use tokenkeep::{Actor, IssueRequest, TokenRef};

#[cfg(feature = "conformance")]
mod conformance {
    use std::sync::Arc;

    use tokenkeep::store::PostgresStore;

    async fn postgres_store(_test: &'static str) -> Option<PostgresStore> {
        super::postgres_store().await
    }

    /// A second instance connected to the same schema.
    async fn same_schema(_test: &'static str, first: &Arc<PostgresStore>) -> Arc<PostgresStore> {
        Arc::new(crate::support::sql::another_postgres_handle(first).await)
    }

    /// Each check's schema is dropped when it ends, passed or failed.
    async fn drop_schema(_test: &'static str, store: Arc<PostgresStore>) {
        let pool = store.pool();
        let schema: String = tokenkeep::store::sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await
            .expect("the schema");
        tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(pool)
        .await
        .expect("drop the schema");
    }

    tokenkeep::store_conformance_tests!(
        maybe: postgres_store,
        another = same_schema,
        teardown = drop_schema
    );
}

#[cfg(feature = "conformance")]
mod cached_conformance {
    use std::sync::Arc;

    use tokenkeep::store::{
        CacheConfig, CachedStore, InvalidationListener, PostgresStore, StoreLayer, WriteLayer,
    };

    /// A cached store with its invalidation listener, as an instance of a
    /// service holds them.
    #[derive(Debug)]
    struct Listening {
        store: CachedStore<PostgresStore>,
        _listener: InvalidationListener,
    }

    impl StoreLayer for Listening {
        type Inner = CachedStore<PostgresStore>;

        fn inner(&self) -> &Self::Inner {
            &self.store
        }
    }

    impl WriteLayer for Listening {}

    async fn listening(store: PostgresStore) -> Listening {
        let store = CachedStore::new(store, CacheConfig::default());
        let listener = store.listen_for_invalidations().await.expect("listen");
        Listening { store, _listener: listener }
    }

    async fn cached_postgres(_test: &'static str) -> Option<Listening> {
        Some(listening(super::postgres_store().await?).await)
    }

    /// A second instance on the same schema, with a cache of its own.
    async fn same_schema(_test: &'static str, first: &Arc<Listening>) -> Arc<Listening> {
        let other = crate::support::sql::another_postgres_handle(first.store.inner()).await;
        Arc::new(listening(other).await)
    }

    tokenkeep::store_conformance_tests!(maybe: cached_postgres, another = same_schema);
}

/// Two service instances on one schema, each with a cache whose TTL is far
/// too long to hide a missed notification.
async fn two_cached_instances() -> Option<(
    tokenkeep::TokenManager,
    tokenkeep::TokenManager,
    Arc<tokenkeep::store::CachedStore<PostgresStore>>,
    tokenkeep::store::InvalidationListener,
)> {
    let url = postgres_url().await?;
    let options = fresh_schema(&url).await;
    let config =
        tokenkeep::store::CacheConfig { capacity: 1_000, ttl: std::time::Duration::from_secs(600) };
    let a = PostgresStore::connect_with(options.clone()).await.unwrap();
    a.migrate().await.unwrap();
    let b = Arc::new(tokenkeep::store::CachedStore::new(
        PostgresStore::connect_with(options).await.unwrap(),
        config,
    ));
    let listener = b.listen_for_invalidations().await.unwrap();
    let first = service_over(Arc::new(tokenkeep::store::CachedStore::new(a, config)));
    let second = service_over(b.clone());
    Some((first, second, b, listener))
}

/// An issue through one instance moves the other instance's change
/// signal (what tells it to forget the texts it found absent): the
/// insert's own statement sends the notice.
#[tokio::test]
async fn an_issue_through_one_instance_moves_the_others_signal() {
    let Some((first, _second, b, _listener)) = two_cached_instances().await else { return };
    let mut signal = tokenkeep::store::TokenStore::changes(&*b).expect("a cache signals");
    signal.borrow_and_update();
    first.admin_issue(IssueRequest::new("alice", "ci")).await;
    let moved = tokio::time::timeout(std::time::Duration::from_secs(2), signal.changed()).await;
    assert!(matches!(moved, Ok(Ok(()))), "the other instance heard of the insert");
}

/// Verifies on `service` until it fails, for at most `limit`.
async fn until_refused(
    service: &tokenkeep::TokenManager,
    token: &str,
    limit: std::time::Duration,
) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if !service.verifies_text(token).await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_reaches_the_other_instances_cache() {
    let Some((first, second, _, _listener)) = two_cached_instances().await else {
        return;
    };
    let issued = first.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let token = issued.token.expose_secret();
    second.verified(token).await;
    second.verified(token).await; // now cached
    first.admin_revoke(issued.record.id).await;
    assert!(
        until_refused(&second, token, std::time::Duration::from_secs(10)).await,
        "the other instance kept serving a revoked token from its cache"
    );

    let scoped = first.admin_issue(IssueRequest::new("bob", "ci")).await;
    let token = scoped.token.expose_secret();
    second.verified(token).await;
    first.revoke_all(&Actor::Admin, "bob").await.unwrap();
    assert!(until_refused(&second, token, std::time::Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notification_connection_does_not_keep_stale_entries() {
    let Some((first, second, _, _listener)) = two_cached_instances().await else {
        return;
    };
    let issued = first.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let token = issued.token.expose_secret();
    second.verified(token).await;

    // Cut the listening connection, as a network failure or restart would.
    let url = postgres_url().await.unwrap();
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN%tokenkeep_invalidate%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(!cut.is_empty(), "a listening connection existed");
    first.admin_revoke(issued.record.id).await;
    assert!(
        until_refused(&second, token, std::time::Duration::from_secs(10)).await,
        "a revoke during the outage stayed hidden"
    );
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
    assert_eq!(versions, crate::support::sql::POSTGRES_SCHEMA_VERSIONS);
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
    let utc =
        PostgresStore::connect_with(options.clone().options([("TimeZone", "UTC")])).await.unwrap();
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
            .issue(&Actor::Admin, IssueRequest::new("alice", format!("t{index}")))
            .await
            .unwrap();
        service.verified(issued.token.expose_secret()).await;
        secrets.push(issued.token.expose_secret()[3..].to_owned());
    }
    service.service().flush_last_used().await.unwrap();
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
    let issued = first.admin_issue(IssueRequest::new("alice", "laptop")).await;
    second.verified(issued.token.expose_secret()).await;
    first.admin_revoke(issued.record.id).await;
    assert!(!second.verifies_text(issued.token.expose_secret()).await);
}

/// A schema the first release (0.1) wrote is upgraded in place: the
/// who-and-why columns are added, old rows keep NULL there, their tokens
/// still verify, a revoked one stays revoked, and new actions record who.
#[tokio::test]
async fn a_first_release_schema_is_upgraded_in_place_and_its_tokens_still_verify() {
    use crate::support::sql::{
        FIRST_RELEASE_COLUMNS, FIRST_RELEASE_SCOPES, first_release_migrator,
    };
    use tokenkeep::time::OffsetDateTime;

    let Some(url) = postgres_url().await else {
        return;
    };
    let store = PostgresStore::connect_with(fresh_schema(&url).await).await.unwrap();
    first_release_migrator(include_str!("../../migrations/postgres/0001_create_tokens.sql"))
        .run(store.pool())
        .await
        .unwrap();
    let (kept, gone) = crate::support::sql::two_tokens();
    let statement = format!(
        "INSERT INTO tokenkeep_tokens ({FIRST_RELEASE_COLUMNS}) VALUES \
         ($1, 'alice', $2, NULL, $3, 'tk_old', $4, NULL, 'persistent', $5, NULL, NULL, $6, NULL)"
    );
    let created = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    for (name, minted, revoked_at) in [("kept", &kept, None), ("gone", &gone, Some(created))] {
        tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(statement.clone()))
            .bind(tokenkeep::TokenId::random().unwrap().as_bytes().to_vec())
            .bind(name)
            .bind(minted.hash.as_bytes().to_vec())
            .bind(FIRST_RELEASE_SCOPES)
            .bind(created)
            .bind(revoked_at)
            .execute(store.pool())
            .await
            .unwrap();
    }

    store.migrate().await.unwrap();
    let versions: Vec<i64> = tokenkeep::store::sqlx::query_scalar(
        "SELECT version FROM tokenkeep_migrations ORDER BY version",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(versions, crate::support::sql::POSTGRES_SCHEMA_VERSIONS);

    crate::support::sql::assert_upgraded_tokens(&service_over(Arc::new(store)), &kept, &gone).await;
}

/// A schema 0.2 wrote (`tests/fixtures/v0.2/postgres.sql`, its `pg_dump`)
/// opens with this release's store, migrates to nothing new, and its
/// tokens verify as they did.
#[tokio::test]
async fn a_schema_written_by_0_2_opens_and_its_tokens_verify() {
    use tokenkeep::store::sqlx::{AssertSqlSafe, Connection as _, PgConnection};
    let Some(url) = postgres_url().await else {
        return;
    };
    let schema = format!("tokenkeep_v02_{}", std::process::id());
    let dump = include_str!("../fixtures/v0.2/postgres.sql").replace("tokenkeep_v02", &schema);
    // Its own connection: the dump empties the search path.
    let mut restore = PgConnection::connect(&url).await.unwrap();
    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    tokenkeep::store::sqlx::raw_sql(AssertSqlSafe(drop.clone()))
        .execute(&mut restore)
        .await
        .unwrap();
    tokenkeep::store::sqlx::raw_sql(AssertSqlSafe(dump)).execute(&mut restore).await.unwrap();
    let options =
        <tokenkeep::store::sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
    let store = PostgresStore::connect_with(options).await.unwrap();
    store.migrate().await.unwrap();
    let tokens = include_str!("../fixtures/v0.2/postgres-tokens.json");
    crate::support::sql::assert_written_by_02_still_works(Arc::new(store), tokens).await;
    tokenkeep::store::sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut restore).await.unwrap();
}

/// The documented way into an application's own schema: `search_path`
/// names it, `migrate()` puts the tables there, and does not create the
/// schema itself (it fails, clearly, until the schema exists).
#[tokio::test]
async fn tokens_live_in_the_schema_the_search_path_names() {
    use std::str::FromStr;
    use tokenkeep::store::sqlx::postgres::PgConnectOptions;

    let Some(url) = postgres_url().await else {
        return;
    };
    let schema = format!("app_{}", std::process::id());
    let options = || PgConnectOptions::from_str(&url).unwrap();
    let admin = PostgresStore::connect_with(options()).await.unwrap();
    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    let run = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql)).execute(admin.pool());
    run(drop.clone()).await.unwrap();

    let in_schema = options().options([("search_path", schema.as_str())]);
    let store = PostgresStore::connect_with(in_schema.clone()).await.unwrap();
    assert!(store.migrate().await.is_err(), "no schema yet: migrate refuses");
    store.pool().close().await;

    run(format!("CREATE SCHEMA {schema}")).await.unwrap();
    let store = PostgresStore::connect_with(in_schema).await.unwrap();
    store.migrate().await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'tokenkeep_tokens'",
    )
    .bind(&schema)
    .fetch_one(admin.pool())
    .await
    .unwrap();
    assert_eq!(tables, 1, "the tokens table is in the application's schema");
    store.pool().close().await;
    run(drop).await.unwrap();
}

/// A revoke reads the one record it names and writes it back in place:
/// it does not wait for the owner's lock, which a long change of another
/// token of the owner holds.
#[tokio::test]
async fn a_revoke_does_not_queue_behind_the_owners_lock() {
    let Some(store) = postgres_store().await else { return };
    let pool = store.pool().clone();
    let service = service_over(Arc::new(store));
    let issued = service.admin_issue(IssueRequest::new("alice", "ci")).await;

    let mut held = pool.begin().await.unwrap();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('tokenkeep:' || current_schema() || ':' || 'alice', 0))",
    )
    .execute(&mut *held)
    .await
    .unwrap();
    let revoke = service.admin_revoke(issued.record.id);
    let revoked = tokio::time::timeout(std::time::Duration::from_secs(5), revoke).await;
    assert!(revoked.is_ok(), "the revoke waited for the owner's lock");
    held.rollback().await.unwrap();
    assert!(!service.verifies_text(issued.token.expose_secret()).await);
}

/// An issue stamps its owner's shared limits as they are once it holds
/// the owner's lock: limits another instance committed while the issue
/// waited for the lock are the ones its token carries. (The lock and the
/// read are one statement; were the read's snapshot taken before the
/// lock was granted, the token would carry none.)
#[tokio::test]
async fn an_issue_waiting_for_the_lock_stamps_the_limits_committed_meanwhile() {
    let Some(store) = postgres_store().await else { return };
    let pool = store.pool().clone();
    let store = Arc::new(store);
    let service = service_over(store.clone());

    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT tokenkeep_lock_owner('alice')").execute(&mut *other).await.unwrap();
    sqlx::query(
        "INSERT INTO tokenkeep_owner_limits (owner, limits) VALUES ('alice', '{\"rate_limit\": \"7/1m\"}')",
    )
    .execute(&mut *other)
    .await
    .unwrap();
    let issuing = tokio::spawn({
        let service = service.clone();
        async move { service.admin_issue(IssueRequest::new("alice", "ci")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!issuing.is_finished(), "the issue waits for the owner's lock");
    other.commit().await.unwrap();

    let issued = issuing.await.unwrap();
    let stored = tokenkeep::store::TokenStore::find_by_hash(&*store, &issued.record.hash)
        .await
        .unwrap()
        .expect("the token");
    let shared = stored.extras.owner_limits.expect("the limits committed meanwhile");
    assert_eq!(shared.rate_limit, Some("7/1m".parse().unwrap()));
}

/// A write that lands between a change's read and its write in place
/// sends the change under the lock, where it reads the row again: a token
/// revoked meanwhile keeps its first revocation (who and why), and the
/// second revoke writes nothing.
#[tokio::test]
async fn a_row_written_since_the_read_is_read_again_under_the_lock() {
    let Some(store) = postgres_store().await else { return };
    let pool = store.pool().clone();
    let service = service_over(Arc::new(store));
    let issued = service.admin_issue(IssueRequest::new("alice", "ci")).await;
    let id = issued.record.id.as_bytes().to_vec();

    // Another instance's change, between its read and its commit: the row
    // is locked and revoked, not yet committed.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM tokenkeep_tokens WHERE id = $1 FOR UPDATE")
        .bind(&id)
        .execute(&mut *other)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE tokenkeep_tokens SET revoked_at = now(), revoked_by = 'other', \
         revoke_reason = 'revoke_all' WHERE id = $1",
    )
    .bind(&id)
    .execute(&mut *other)
    .await
    .unwrap();
    let revoking = tokio::spawn({
        let service = service.clone();
        async move {
            let token = TokenRef::id(issued.record.id);
            service.revoke(&Actor::Admin, &token).await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    other.commit().await.unwrap();

    let revoked = revoking.await.unwrap().unwrap();
    assert_eq!(revoked.extras.revoked_by.as_deref(), Some("other"), "{revoked:?}");
    assert_eq!(revoked.extras.revoke_reason, Some(tokenkeep::record::RevokeReason::RevokeAll));
}

/// A change under the owner's lock reads its rows `FOR UPDATE`: a revoke
/// in place that comes between its read and its write waits, finds the
/// row changed, and is made again on the row as the locked change left
/// it. Were the read unlocked, the locked change would write its
/// rotation's who and why over the revoke that landed in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_change_and_a_revoke_in_place_never_interleave() {
    use tokenkeep::record::RevokeReason;
    use tokenkeep::store::{
        ActiveRecords, ChangeScope, Changes, ManageStore as _, TokenStore as _, Write,
    };

    let Some(store) = postgres_store().await else { return };
    let store = Arc::new(store);
    let service = service_over(store.clone());
    let issued = service.admin_issue(IssueRequest::new("alice", "ci")).await;

    let locked = tokio::spawn({
        let store = store.clone();
        async move {
            let scope = ChangeScope::new("alice", tokenkeep::time::OffsetDateTime::now_utc())
                .reading(ActiveRecords::All);
            let mut plan = |read: &tokenkeep::store::OwnerRecords| {
                // The rotation's thinking time, between its read and its write.
                std::thread::sleep(std::time::Duration::from_millis(400));
                let mut rotated = read.records[0].clone();
                rotated.extras.revoked_by = Some("rotation".into());
                rotated.extras.revoke_reason = Some(RevokeReason::RotationGrace);
                Ok(Changes::new(vec![Write::Replace(rotated)]))
            };
            store.change(&scope, &mut plan).await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    service.admin_revoke(issued.record.id).await;
    locked.await.unwrap().unwrap();

    let stored = store.get(&issued.record.id).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_some());
    assert_eq!(
        (stored.extras.revoked_by.as_deref(), stored.extras.revoke_reason),
        (Some("admin"), Some(RevokeReason::Revoked)),
        "the revoke was written over"
    );
}

/// A token reported as leaked is stored with the reason `leaked`.
#[tokio::test]
async fn a_leaked_token_is_stored_as_leaked() {
    let Some(store) = postgres_store().await else {
        return;
    };
    crate::support::sql::a_leaked_token_is_stored_as_leaked(Arc::new(store)).await;
}
