//! [`SqliteStore`]: the embedded default for a real deployment.

use super::ChangeScope;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;

mod commits;
mod readers;
pub use commits::SqliteCommits;
use readers::Readers;

use super::sql::{self, AsWritten, backend_error, decode_record, run_change, select_tokens};
use super::{Changes, LastUse, ListQuery, ManageStore, Plan, StoreError, TokenStore};
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The schema, embedded: `(version, description, script)`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "create tokens", include_str!("../../migrations/sqlite/0001_create_tokens.sql")),
    (2, "who and why", include_str!("../../migrations/sqlite/0002_who_and_why.sql")),
    (3, "expiry index", include_str!("../../migrations/sqlite/0003_expiry_index.sql")),
    (4, "metadata", include_str!("../../migrations/sqlite/0004_metadata.sql")),
    (5, "rate limit", include_str!("../../migrations/sqlite/0005_rate_limit.sql")),
    (6, "usage", include_str!("../../migrations/sqlite/0006_usage.sql")),
    (7, "allowed ips", include_str!("../../migrations/sqlite/0007_allowed_ips.sql")),
    (8, "leaked", include_str!("../../migrations/sqlite/0008_leaked.sql")),
    (9, "owner limits", include_str!("../../migrations/sqlite/0009_owner_limits.sql")),
];

/// Keeps tokens in one SQLite file.
///
/// The journal is WAL with `synchronous=FULL`, so a token that `issue`
/// returned survives a crash of the process or the machine. Every write is
/// a `BEGIN IMMEDIATE` transaction: it takes the write lock before reading,
/// so a change's plan reads and its writes land with no other writer in
/// between, and concurrent writers
/// queue on the busy timeout instead of failing with `SQLITE_BUSY`.
/// Instants are stored as UTC milliseconds since the epoch.
///
/// ```no_run
/// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
/// let store = tokenkeep::store::SqliteStore::open("./data/tokens.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Verification's lookups, outside the pool (see `sqlite/readers.rs`).
    readers: Arc<Readers>,
}

impl SqliteStore {
    /// Opens (creating it, and its directory, if needed) the database file at `path`.
    ///
    /// What it creates is private whatever the umask: directories 0700, the
    /// database file 0600 (SQLite gives its WAL and shared-memory files the
    /// database file's mode). Existing files keep their modes.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the directory or file cannot be created
    /// or opened.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        create_private(path)?;
        Self::connect_with(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a `sqlite://path` URL, creating what is missing as
    /// [`open`](Self::open) does.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a bad URL or an unopenable file.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(backend_error)?;
        let path = options.get_filename();
        // An in-memory URL's "filename" is a name sqlx makes up, not a file.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory && !path.as_os_str().is_empty() {
            create_private(path)?;
        }
        Self::connect_with(options).await
    }

    /// Opens with your own options; the durability and locking settings
    /// above are applied on top.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn connect_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(backend_error)?;
        // The readers stay open for the store's life, which also keeps the
        // WAL index `commits()` reads: SQLite deletes it when the last
        // connection closes.
        let readers = Arc::new(Readers::take_from(&pool).await?);
        Ok(Self { pool, readers })
    }

    /// The commit counter of this database, which changes with every
    /// transaction any process commits: what a [`CachedStore`] in front of
    /// this store checks when other processes (the operator's command
    /// line) may write the same file. See [`CachedStore::checking`].
    ///
    /// [`CachedStore`]: crate::store::CachedStore
    /// [`CachedStore::checking`]: crate::store::CachedStore::checking
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when there is no WAL index file to read:
    /// an in-memory database, which no other process can open anyway.
    pub fn commits(&self) -> Result<SqliteCommits, StoreError> {
        let options = self.pool.connect_options();
        SqliteCommits::open(options.get_filename()).ok_or_else(|| {
            StoreError::unavailable("this SQLite database has no WAL index file (in memory?)")
        })
    }

    /// The connection pool, for your own queries.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Creates or updates the schema; run it once at start-up. Applied
    /// migrations are recorded in `tokenkeep_migrations`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sql::migrator(MIGRATIONS).run(&self.pool).await.map_err(sql::migrate_error)
    }

    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend_error)
    }
}

/// Creates the directory a database file goes in (0700) and the file
/// itself (0600) when they are missing, so that no other local user reads
/// the hashes whatever the process's umask.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let failed = |what: &Path, error: std::io::Error| {
        StoreError::unavailable(format!("cannot create {}: {error}", what.display()))
    };
    if let Some(directory) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(directory).map_err(|error| failed(directory, error))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| failed(path, error))?;
    Ok(())
}

fn millis(instant: OffsetDateTime) -> i64 {
    i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(millis: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(StoreError::unavailable)
}

fn decode(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    decode_record::<_, i64>(row, from_millis)
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let mut reader = self.readers.get().await;
        let row = sqlx::query(select_tokens!("WHERE hash = ?1"))
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&mut *reader)
            .await
            .map_err(backend_error)?;
        drop(reader);
        row.as_ref().map(|row| decode(row).map(Arc::new)).transpose()
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        sql::fetch_records!(one: AsWritten, &self.pool, decode, ["WHERE id = $1"], id.as_bytes().as_slice())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let (owner, inactive, now) = (&query.owner, query.include_inactive, millis(query.now));
        sql::fetch_records!(
            AsWritten,
            &self.pool,
            decode,
            [sql::listed!()],
            owner,
            owner,
            inactive,
            now
        )
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let (now, before) = (millis(now), millis(before));
        sql::fetch_records!(AsWritten, &self.pool, decode, [sql::expiring_between!()], now, before)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for used in uses {
            sqlx::query(
                "UPDATE tokenkeep_tokens SET last_used_at = ?2 \
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            )
            .bind(used.id.as_bytes().as_slice())
            .bind(millis(used.at))
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        }
        tx.commit().await.map_err(backend_error)
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        sql::holds_text_outside!(AsWritten, &self.pool, prefix)
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        let held: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM tokenkeep_meta WHERE key = 'ever_held'")
                .fetch_one(&self.pool)
                .await
                .map_err(backend_error)?;
        Ok(held > 0)
    }
}

/// A change planned on the records as the caller saw them
/// ([`ChangeScope::seen`]) and writing one back is one statement that
/// finds its row only if the row is still as seen. Any other change, or
/// one whose row moved, is one `BEGIN IMMEDIATE` transaction: the write
/// lock is held from the read to the commit.
#[async_trait]
impl ManageStore for SqliteStore {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        if let Some((changes, mut update)) = sql::plan_as_seen!(Sqlite, "", scope, plan, millis) {
            let written = update.build().execute(&self.pool).await.map_err(backend_error)?;
            if written.rows_affected() == 1 {
                return Ok(changes);
            }
        }
        let mut tx = self.write().await?;
        let (changes, _read) =
            run_change!(sqlx::Sqlite, AsWritten, tx, scope, plan, millis, decode, "", None);
        tx.commit().await.map_err(backend_error)?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::millis;
    use crate::record::RevokeReason;
    use crate::store::StoreError;

    /// What a revoke writes: its three columns, not the row's twenty-one (and
    /// every column for a record the change did not read).
    #[test]
    fn a_replace_writes_only_what_changed() -> Result<(), StoreError> {
        let before = crate::record::test_record("alice", "ci");
        let mut after = before.clone();
        after.revoked_at = Some(OffsetDateTime::UNIX_EPOCH);
        after.extras.revoked_by = Some("admin".into());
        after.extras.revoke_reason = Some(RevokeReason::Revoked);
        let statement = || -> Result<_, StoreError> {
            Ok(crate::store::sql::replace_token!(sqlx::Sqlite, "", Some(&before), &after, millis))
        };
        assert_eq!(
            statement()?.sql().as_str(),
            "UPDATE tokenkeep_tokens SET id = id, revoked_at = ?, revoked_by = ?, \
             revoke_reason = ? WHERE id = ? AND owner = ? AND hash = ?"
        );
        let unread = crate::store::sql::replace_token!(sqlx::Sqlite, "", None, &after, millis);
        // Every column but the keys and the last use, and the three keys.
        assert_eq!(unread.sql().as_str().matches('?').count(), 21, "{}", unread.sql().as_str());
        Ok(())
    }
}
