//! `SqliteStore`: the conformance suite, durability settings, migrations,
//! and that only hashes reach the file.
#![cfg(all(feature = "sqlite", feature = "management"))]

use crate::support::Calls as _;
use std::sync::Arc;

use crate::support::service_over;
use crate::support::sql::{scratch_dir, sqlite_store};
use tokenkeep::store::sqlx;
use tokenkeep::store::{SqliteStore, TokenStore as _};
use tokenkeep::{Actor, IssueRequest, Prefix, TokenManager, TokenRef};

#[cfg(feature = "conformance")]
mod conformance {
    use std::sync::Arc;

    use tokenkeep::store::SqliteStore;

    async fn sqlite_store(_test: &'static str) -> SqliteStore {
        super::sqlite_store().await
    }

    /// A second process on the same file.
    async fn same_file(_test: &'static str, first: &Arc<SqliteStore>) -> Arc<SqliteStore> {
        Arc::new(crate::support::sql::another_sqlite_handle(first).await)
    }

    tokenkeep::store_conformance_tests!(sqlite_store, another = same_file);
}

#[cfg(feature = "conformance")]
mod cached_conformance {
    use std::sync::Arc;

    use tokenkeep::store::{CacheConfig, CachedStore, SqliteStore};

    /// A cache that checks the file's commit counter, as a service does
    /// where other processes write the same file.
    fn cached(store: SqliteStore) -> CachedStore<SqliteStore> {
        let commits = store.commits().expect("a file-backed store's commit counter");
        CachedStore::new(store, CacheConfig::default()).checking(commits)
    }

    async fn cached_sqlite(_test: &'static str) -> CachedStore<SqliteStore> {
        cached(super::sqlite_store().await)
    }

    /// A second process on the same file, with a cache of its own.
    async fn same_file(
        _test: &'static str,
        first: &Arc<CachedStore<SqliteStore>>,
    ) -> Arc<CachedStore<SqliteStore>> {
        Arc::new(cached(crate::support::sql::another_sqlite_handle(first.inner()).await))
    }

    tokenkeep::store_conformance_tests!(cached_sqlite, another = same_file);
}

#[tokio::test]
async fn opening_creates_the_directory_and_sets_durable_pragmas() {
    let path = scratch_dir().join("nested").join("deeper").join("tokens.db");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.exists());
    let pool = store.pool();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    assert_eq!(journal, "wal");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
    assert_eq!(synchronous, 2, "FULL");
    let foreign_keys: i64 =
        sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
    assert_eq!(foreign_keys, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await.unwrap();
    assert!(busy >= 5_000, "busy timeout {busy} ms");
}

#[tokio::test]
async fn migrations_are_versioned_and_idempotent() {
    let store = sqlite_store().await;
    store.migrate().await.unwrap();
    assert_eq!(applied_versions(&store).await, crate::support::sql::SCHEMA_VERSIONS);
}

#[tokio::test]
async fn a_url_works_too() {
    let path = scratch_dir().join("by-url.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
}

#[tokio::test]
async fn tokens_survive_reopening_the_file() {
    let path = scratch_dir().join("tokens.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let first = service_over(Arc::new(store.clone()));
    let kept = first.admin_issue(IssueRequest::new("alice", "kept")).await;
    let revoked = first.admin_issue(IssueRequest::new("alice", "revoked")).await;
    first.admin_revoke(revoked.record.id).await;
    store.pool().close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    reopened.migrate().await.unwrap();
    let second = service_over(Arc::new(reopened));
    second.verified(kept.token.expose_secret()).await;
    assert!(!second.verifies_text(revoked.token.expose_secret()).await);
    assert!(second.is_claimed().await.unwrap());
}

#[tokio::test]
async fn only_hashes_reach_the_file() {
    let path = scratch_dir().join("tokens.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let service = service_over(Arc::new(store.clone()));
    let mut secrets = Vec::new();
    for index in 0..5 {
        let issued = service
            .issue(
                &Actor::Admin,
                IssueRequest::new("alice", format!("t{index}")).description("a laptop"),
            )
            .await
            .unwrap();
        secrets.push(issued.token.expose_secret()[3..].to_owned());
    }

    // Every column of every row, as text and as bytes.
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT quote(id) || owner || name || coalesce(description, '') || quote(hash) || \
         display_prefix || scopes || coalesce(profile, '') || kind || created_at || \
         coalesce(expires_at, '') || coalesce(last_used_at, '') || coalesce(revoked_at, '') || \
         coalesce(quote(replaced_by), '') FROM tokenkeep_tokens",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        for secret in &secrets {
            assert!(!row.contains(secret.as_str()), "a plaintext in a row");
        }
    }

    // And the raw files: database, WAL and shared memory.
    store.pool().close().await;
    let directory = path.parent().unwrap();
    for entry in std::fs::read_dir(directory).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in &secrets {
            let found = bytes.windows(secret.len()).any(|window| window == secret.as_bytes());
            assert!(!found, "a plaintext in the database files");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_writers_never_see_busy() {
    let store = Arc::new(sqlite_store().await);
    let service = TokenManager::builder(store, Prefix::new("tk").unwrap())
        .max_active_per_owner(None)
        .build()
        .unwrap();
    let writers: Vec<_> = (0..32)
        .map(|index| {
            let service = service.clone();
            tokio::spawn(async move {
                let owner = format!("owner{}", index % 4);
                let issued = service
                    .issue(&Actor::Admin, IssueRequest::new(owner, format!("t{index}")))
                    .await?;
                service.revoke(&Actor::Admin, &TokenRef::id(issued.record.id)).await?;
                Ok::<_, tokenkeep::ManageError>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
}

/// What `open` creates is private whatever the umask: the directory 0700,
/// the database and SQLite's WAL and shared-memory files 0600.
#[cfg(unix)]
#[tokio::test]
async fn what_open_creates_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let directory = scratch_dir().join("private");
    let path = directory.join("tokens.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(mode(&directory), 0o700);
    for file in ["tokens.db", "tokens.db-wal", "tokens.db-shm"] {
        assert_eq!(mode(&directory.join(file)), 0o600, "{file}");
    }
}

/// A database the first release (0.1) wrote is upgraded in place: the
/// who-and-why columns are added, old rows keep NULL there, their tokens
/// still verify, a revoked one stays revoked, and new actions record who.
#[tokio::test]
async fn a_first_release_database_is_upgraded_in_place_and_its_tokens_still_verify() {
    use crate::support::sql::{
        FIRST_RELEASE_COLUMNS, FIRST_RELEASE_SCOPES, first_release_migrator,
    };

    let path = scratch_dir().join("from-0.1.db");
    let store = SqliteStore::open(&path).await.unwrap();
    first_release_migrator(include_str!("../../migrations/sqlite/0001_create_tokens.sql"))
        .run(store.pool())
        .await
        .unwrap();
    let (kept, gone) = crate::support::sql::two_tokens();
    let statement = format!(
        "INSERT INTO tokenkeep_tokens ({FIRST_RELEASE_COLUMNS}) VALUES \
         (?1, 'alice', ?2, NULL, ?3, 'tk_old', ?4, NULL, 'persistent', 1700000000000, NULL, NULL, ?5, NULL)"
    );
    for (name, minted, revoked_at) in
        [("kept", &kept, None), ("gone", &gone, Some(1_700_000_001_000_i64))]
    {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .bind(tokenkeep::TokenId::random().unwrap().as_bytes().to_vec())
            .bind(name)
            .bind(minted.hash.as_bytes().to_vec())
            .bind(FIRST_RELEASE_SCOPES)
            .bind(revoked_at)
            .execute(store.pool())
            .await
            .unwrap();
    }

    store.migrate().await.unwrap();
    assert_eq!(applied_versions(&store).await, crate::support::sql::SCHEMA_VERSIONS);

    crate::support::sql::assert_upgraded_tokens(&service_over(Arc::new(store)), &kept, &gone).await;
}

/// A database file 0.2 wrote (`tests/fixtures/v0.2/sqlite.db`, made by the
/// 0.2 store traits) opens with this release's store, migrates to nothing
/// new, and its tokens verify as they did.
#[tokio::test]
async fn a_database_written_by_0_2_opens_and_its_tokens_verify() {
    let directory = scratch_dir();
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("from-0.2.db");
    std::fs::copy("tests/fixtures/v0.2/sqlite.db", &path).unwrap();
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(applied_versions(&store).await, crate::support::sql::SCHEMA_VERSIONS);
    let tokens = include_str!("../fixtures/v0.2/sqlite-tokens.json");
    crate::support::sql::assert_written_by_02_still_works(Arc::new(store), tokens).await;
}

/// The versions `tokenkeep_migrations` records as applied.
async fn applied_versions(store: &SqliteStore) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM tokenkeep_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .expect("the applied versions")
}

/// Tokens about to expire are found through an index, not a scan.
#[tokio::test]
async fn tokens_about_to_expire_are_found_through_the_index() {
    let store = sqlite_store().await;
    let rows = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT id FROM tokenkeep_tokens WHERE revoked_at IS NULL \
         AND expires_at IS NOT NULL AND expires_at > 1 AND expires_at <= 2 ORDER BY expires_at, id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let detail: Vec<String> =
        rows.iter().map(|row| sqlx::Row::get::<String, _>(row, "detail")).collect();
    assert!(detail.iter().any(|line| line.contains("tokenkeep_tokens_expiry")), "{detail:?}");
}

/// A cache in front of SQLite serves a hot token from memory, yet a revoke
/// committed by another process (here a second pool on the same file, as
/// the operator's command line opens it) is seen by the next verification.
#[tokio::test]
async fn a_cache_checking_commits_sees_another_process_revoke_at_once() {
    use tokenkeep::store::{CacheConfig, CachedStore};
    let path = scratch_dir().join("shared.db");
    let server_side = SqliteStore::open(&path).await.unwrap();
    server_side.migrate().await.unwrap();
    let commits = server_side.commits().unwrap();
    let cached = Arc::new(CachedStore::new(server_side, CacheConfig::default()).checking(commits));
    let server = service_over(cached.clone());
    let operator_store = SqliteStore::open(&path).await.unwrap();
    let operator = service_over(Arc::new(operator_store));

    for round in 0..20 {
        let issued = operator
            .issue(&Actor::Admin, IssueRequest::new("alice", format!("laptop-{round}")))
            .await
            .unwrap();
        let secret = issued.token.expose_secret();
        for _ in 0..3 {
            server.verified(secret).await;
        }
        assert!(
            cached.find_by_hash_now(&issued.record.hash).is_some(),
            "a hot token is answered from memory"
        );
        operator.admin_revoke(issued.record.id).await;
        assert!(
            !server.verifies_text(secret).await,
            "round {round}: the other process's revoke is seen at once"
        );
    }
}

#[tokio::test]
async fn an_in_memory_database_has_no_commit_counter_and_leaves_no_file() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    assert!(store.commits().is_err());
    let name = store.pool().connect_options().get_filename().to_owned();
    assert!(!name.exists(), "{} was created", name.display());
}

/// A token reported as leaked is stored with the reason `leaked`.
#[tokio::test]
async fn a_leaked_token_is_stored_as_leaked() {
    crate::support::sql::a_leaked_token_is_stored_as_leaked(Arc::new(sqlite_store().await)).await;
}
