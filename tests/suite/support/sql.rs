//! Fresh SQL stores for tests: a SQLite file in its own directory, a
//! PostgreSQL schema of its own (so tests run in parallel).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokenkeep::TokenId;
use tokenkeep::store::sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Set by `.ci/run`: the Postgres tests must run against it.
pub const POSTGRES_URL_VAR: &str = "TOKENKEEP_POSTGRES_URL";
/// Tried when the variable is unset; the tests are skipped if it does not answer.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A new directory under cargo's scratch space for integration tests.
pub fn scratch_dir() -> PathBuf {
    let unique = TokenId::random().expect("randomness").to_string().to_lowercase();
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sqlite-{unique}"))
}

#[cfg(feature = "sqlite")]
pub async fn sqlite_store() -> tokenkeep::store::SqliteStore {
    let store = tokenkeep::store::SqliteStore::open(scratch_dir().join("tokens.db"))
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    store
}

/// A second handle on `first`'s database file, as a second process opens it.
#[cfg(feature = "sqlite")]
pub async fn another_sqlite_handle(
    first: &tokenkeep::store::SqliteStore,
) -> tokenkeep::store::SqliteStore {
    let file: String = tokenkeep::store::sqlx::query_scalar(
        "SELECT file FROM pragma_database_list WHERE name = 'main'",
    )
    .fetch_one(first.pool())
    .await
    .expect("the database file");
    tokenkeep::store::SqliteStore::open(file).await.expect("open sqlite again")
}

/// The PostgreSQL server URL, or `None` (with a note on stderr) when the
/// variable is unset and the default server does not answer.
pub async fn postgres_url() -> Option<String> {
    server_url(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL, "PostgreSQL", async |url: String| {
        let probe = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(3));
        let pool = probe.connect(&url).await.map_err(|error| error.to_string())?;
        pool.close().await;
        Ok(())
    })
    .await
}

/// The URL in `var`, or `default` while the variable is unset: `None`
/// (with a note on stderr) when the default does not answer `probe`, a
/// panic when the set one does not (CI sets it: there the server must run).
async fn server_url(
    var: &str,
    default: &str,
    server: &str,
    probe: impl AsyncFnOnce(String) -> Result<(), String>,
) -> Option<String> {
    let (url, required) = match std::env::var(var) {
        Ok(url) => (url, true),
        Err(_) => (default.to_owned(), false),
    };
    match probe(url.clone()).await {
        Ok(()) => Some(url),
        Err(error) if !required => {
            eprintln!("SKIPPED: no {server} at {url} ({error}); set {var} to run its tests");
            None
        }
        Err(error) => panic!("{var} is set, but {server} at {url} does not answer: {error}"),
    }
}

/// Connect options for a brand-new schema of its own.
pub async fn fresh_schema(url: &str) -> PgConnectOptions {
    let schema = format!("tokenkeep_test_{}", hex_id(&TokenId::random().expect("randomness")));
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
    tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}"
    )))
    .execute(&admin)
    .await
    .expect("create schema");
    admin.close().await;
    PgConnectOptions::from_str(url).expect("url").options([("search_path", schema.as_str())])
}

fn hex_id(id: &TokenId) -> String {
    id.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "postgres")]
pub async fn postgres_store() -> Option<tokenkeep::store::PostgresStore> {
    let url = postgres_url().await?;
    let store = tokenkeep::store::PostgresStore::connect_with(fresh_schema(&url).await)
        .await
        .expect("connect postgres");
    store.migrate().await.expect("migrate postgres");
    Some(store)
}

/// A second handle on `first`'s schema, as a second instance connects.
#[cfg(feature = "postgres")]
pub async fn another_postgres_handle(
    first: &tokenkeep::store::PostgresStore,
) -> tokenkeep::store::PostgresStore {
    let schema: String = tokenkeep::store::sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(first.pool())
        .await
        .expect("the schema");
    let url = postgres_url().await.expect("the server answered the first handle");
    let options = PgConnectOptions::from_str(&url).expect("url");
    let options = options.options([("search_path", schema.as_str())]);
    tokenkeep::store::PostgresStore::connect_with(options).await.expect("connect postgres again")
}

/// The migrator of the first release (0.1): its one script, recorded in
/// `tokenkeep_migrations` exactly as that release recorded it, so a test
/// can build the database an upgrade meets.
pub fn first_release_migrator(script: &'static str) -> tokenkeep::store::sqlx::migrate::Migrator {
    use tokenkeep::store::sqlx::SqlSafeStr as _;
    use tokenkeep::store::sqlx::migrate::{Migration, MigrationType, Migrator};
    let first = Migration::new(
        1,
        std::borrow::Cow::Borrowed("create tokens"),
        MigrationType::Simple,
        script.into_sql_str(),
        false,
    );
    let mut migrator = Migrator::with_migrations(vec![first]);
    migrator.dangerous_set_table_name("tokenkeep_migrations");
    migrator
}

/// The columns the first release wrote.
pub const FIRST_RELEASE_COLUMNS: &str = "id, owner, name, description, hash, display_prefix, \
     scopes, profile, kind, created_at, expires_at, last_used_at, revoked_at, replaced_by";

/// Scopes as the first release stored them: nothing granted.
pub const FIRST_RELEASE_SCOPES: &str = r#"{"manager":false,"abilities":[],"routes":[]}"#;

/// Two fresh `tk_` tokens, as the first release minted them.
pub fn two_tokens() -> (tokenkeep::token::MintedToken, tokenkeep::token::MintedToken) {
    let format = tokenkeep::token::TokenFormat::new(tokenkeep::Prefix::new("tk").expect("prefix"));
    let mint = || format.mint(&tokenkeep::hash::TokenHasher::sha256()).expect("mint");
    (mint(), mint())
}

/// After an upgrade: `kept` (alice's, active) verifies and records no
/// creator, `gone` (revoked) stays refused, and a revoke now records who
/// and why.
#[cfg(feature = "management")]
pub async fn assert_upgraded_tokens(
    service: &tokenkeep::TokenManager,
    kept: &tokenkeep::token::MintedToken,
    gone: &tokenkeep::token::MintedToken,
) {
    use tokenkeep::{Actor, Requirement, TokenRef};
    let who = service
        .service()
        .verify_token(kept.secret.expose_secret(), Requirement::None)
        .await
        .expect("an old token verifies");
    assert_eq!((who.owner(), who.record().created_by.as_deref()), ("alice", None));
    assert!(
        service
            .service()
            .verify_token(gone.secret.expose_secret(), Requirement::None)
            .await
            .is_err(),
        "an old revoked token stays revoked"
    );
    let revoked =
        service.revoke(&Actor::Admin, &TokenRef::id(who.token_id())).await.expect("revoke");
    assert_eq!(revoked.extras.revoked_by.as_deref(), Some("admin"));
    assert_eq!(revoked.extras.revoke_reason, Some(tokenkeep::record::RevokeReason::Revoked));
}

/// The tokens a 0.2 release wrote to `tests/fixtures/v0.2/`, by role.
#[derive(serde::Deserialize)]
pub struct WrittenBy02 {
    written_at: String,
    active: String,
    limited_to_3: String,
    revoked: String,
    retired_in_grace: String,
    successor: String,
}

/// A database 0.2 wrote, opened by this release: every token verifies as
/// it did (an active one with its metadata, a revoked one refused, a
/// retired one in its grace and its successor), a usage-limited one spends
/// exactly its three uses, and new writes land beside the old rows.
#[cfg(feature = "management")]
pub async fn assert_written_by_02_still_works(
    store: std::sync::Arc<dyn tokenkeep::store::ManageStore>,
    tokens_json: &str,
) {
    use tokenkeep::time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};
    use tokenkeep::{Actor, AuthError, InvalidToken, IssueRequest, Requirement, TokenRef};

    let tokens: WrittenBy02 = serde_json::from_str(tokens_json).expect("the fixture's tokens");
    let written = OffsetDateTime::parse(&tokens.written_at, &Rfc3339).expect("an instant");
    // An hour after: the retired token's week of grace still runs.
    let clock = tokenkeep::expiry::ManualClock::new(written + Duration::hours(1));
    let manager =
        tokenkeep::TokenManager::builder(store, tokenkeep::Prefix::new("tk").expect("a prefix"))
            .clock(clock)
            .build()
            .expect("a manager");
    let verify = async |token: &str| manager.service().verify_token(token, Requirement::None).await;

    let active = verify(&tokens.active).await.expect("a 0.2 token verifies");
    assert_eq!(active.owner(), "alice");
    assert!(active.record().extras.metadata.is_some(), "with its metadata");
    assert!(matches!(
        verify(&tokens.revoked).await,
        Err(AuthError::InvalidToken(InvalidToken::Revoked))
    ));
    verify(&tokens.retired_in_grace).await.expect("a retired token in its grace");
    verify(&tokens.successor).await.expect("its successor");
    for _ in 0..3 {
        verify(&tokens.limited_to_3).await.expect("a use left");
    }
    assert!(matches!(
        verify(&tokens.limited_to_3).await,
        Err(AuthError::InvalidToken(InvalidToken::UsesExhausted))
    ));

    let issued = manager
        .issue(&Actor::Admin, IssueRequest::new("alice", "new laptop"))
        .await
        .expect("a new token beside the old ones");
    verify(issued.token.expose_secret()).await.expect("the new token verifies");
    manager
        .revoke(&Actor::Admin, &TokenRef::id(active.token_id()))
        .await
        .expect("an old token revoked by this release");
    assert!(verify(&tokens.active).await.is_err(), "and refused since");
}

/// A token reported as leaked is stored with the reason `leaked` (the check
/// migration 8 widened; on SQLite it rebuilt the table).
#[cfg(feature = "management")]
pub async fn a_leaked_token_is_stored_as_leaked(
    store: std::sync::Arc<dyn tokenkeep::store::ManageStore>,
) {
    use tokenkeep::{Actor, IssueRequest, TokenRef};
    let service = super::service_over(store);
    let issued = service.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await.unwrap();
    let reason = tokenkeep::record::RevokeReason::Leaked;
    let revoked =
        service.revoke_presented(issued.token.expose_secret(), "a finder", reason).await.unwrap();
    assert_eq!(revoked.and_then(|record| record.extras.revoke_reason), Some(reason));
    let stored = service.get(&Actor::Admin, &TokenRef::id(issued.record.id)).await.unwrap();
    assert_eq!(stored.extras.revoke_reason, Some(reason));
}

/// Set by `.ci/run`: the MySQL tests must run against it.
pub const MYSQL_URL_VAR: &str = "TOKENKEEP_MYSQL_URL";
/// Tried when the variable is unset; the tests are skipped if it does not answer.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The MySQL (or MariaDB) server URL, or `None` (with a note on stderr)
/// when the variable is unset and the default server does not answer.
pub async fn mysql_url() -> Option<String> {
    use tokenkeep::store::sqlx::mysql::MySqlPoolOptions;
    server_url(MYSQL_URL_VAR, DEFAULT_MYSQL_URL, "MySQL", async |url: String| {
        let probe =
            MySqlPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(3));
        let pool = probe.connect(&url).await.map_err(|error| error.to_string())?;
        pool.close().await;
        Ok(())
    })
    .await
}

/// Connect options for a brand-new database of its own.
pub async fn fresh_mysql_database(url: &str) -> tokenkeep::store::sqlx::mysql::MySqlConnectOptions {
    use tokenkeep::store::sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
    let database = format!("tokenkeep_test_{}", hex_id(&TokenId::random().expect("randomness")));
    let admin = MySqlPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
    tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {database}"
    )))
    .execute(&admin)
    .await
    .expect("create database");
    admin.close().await;
    MySqlConnectOptions::from_str(url).expect("url").database(&database)
}

#[cfg(feature = "mysql")]
pub async fn mysql_store() -> Option<tokenkeep::store::MysqlStore> {
    let url = mysql_url().await?;
    let options = fresh_mysql_database(&url).await;
    let store = tokenkeep::store::MysqlStore::connect_with(options).await.expect("connect mysql");
    store.migrate().await.expect("migrate mysql");
    Some(store)
}

/// A second handle on `first`'s database, as a second instance connects.
#[cfg(feature = "mysql")]
pub async fn another_mysql_handle(
    first: &tokenkeep::store::MysqlStore,
) -> tokenkeep::store::MysqlStore {
    use tokenkeep::store::sqlx::mysql::MySqlConnectOptions;
    let database: String = tokenkeep::store::sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(first.pool())
        .await
        .expect("the database");
    let url = mysql_url().await.expect("the server answered the first handle");
    let options = MySqlConnectOptions::from_str(&url).expect("url").database(&database);
    tokenkeep::store::MysqlStore::connect_with(options).await.expect("connect mysql again")
}

/// Drops the database `store` works in.
#[cfg(feature = "mysql")]
pub async fn drop_mysql_database(store: &tokenkeep::store::MysqlStore) {
    let database: String = tokenkeep::store::sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(store.pool())
        .await
        .expect("the database");
    tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database}"
    )))
    .execute(store.pool())
    .await
    .expect("drop the database");
}

/// The migrations of the SQLite schema this release applies.
pub const SCHEMA_VERSIONS: [i64; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/// The PostgreSQL schema's: SQLite's, and the functions that lock an owner.
pub const POSTGRES_SCHEMA_VERSIONS: [i64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
