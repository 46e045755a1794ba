//! [`SqliteStore`]: the embedded default for a real deployment.

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

use super::sql::{self, backend_error, decode_record, select_tokens};
#[cfg(feature = "management")]
use super::sql::{bind_record, encode_scopes, insert_token};
#[cfg(feature = "management")]
use super::{
    ImportReport, InsertRules, ManageStore, Revocation, Rotation, TokenUpdate, refuse_temporary,
};
use super::{LastUse, ListQuery, StoreError, TokenStore};
use crate::hash::TokenHash;
#[cfg(feature = "management")]
use crate::record::{Metadata, RevokeReason};
use crate::record::{TokenId, TokenRecord, Usage};
use crate::token::Prefix;

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The schema, embedded: `(version, description, script)`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "create tokens",
        include_str!("../../migrations/sqlite/0001_create_tokens.sql"),
    ),
    (
        2,
        "who and why",
        include_str!("../../migrations/sqlite/0002_who_and_why.sql"),
    ),
    (
        3,
        "expiry index",
        include_str!("../../migrations/sqlite/0003_expiry_index.sql"),
    ),
    (
        4,
        "metadata",
        include_str!("../../migrations/sqlite/0004_metadata.sql"),
    ),
    (
        5,
        "rate limit",
        include_str!("../../migrations/sqlite/0005_rate_limit.sql"),
    ),
    (
        6,
        "usage",
        include_str!("../../migrations/sqlite/0006_usage.sql"),
    ),
    (
        7,
        "allowed ips",
        include_str!("../../migrations/sqlite/0007_allowed_ips.sql"),
    ),
];

/// Keeps tokens in one SQLite file.
///
/// The journal is WAL with `synchronous=FULL`, so a token that `issue`
/// returned survives a crash of the process or the machine. Every write is
/// a `BEGIN IMMEDIATE` transaction: it takes the write lock before reading,
/// so the cap, name and claim checks cannot race, and concurrent writers
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
        sql::migrator(MIGRATIONS)
            .run(&self.pool)
            .await
            .map_err(sql::migrate_error)
    }

    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend_error)
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
        builder
            .create(directory)
            .map_err(|error| failed(directory, error))?;
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

const SELECT_BY_ID: &str = select_tokens!("WHERE id = ?1");

#[cfg(feature = "management")]
const MARK_EVER_HELD: &str =
    "INSERT INTO tokenkeep_meta (key, value) VALUES ('ever_held', '1') ON CONFLICT DO NOTHING";

#[cfg(feature = "management")]
async fn insert_row(
    tx: &mut Transaction<'static, Sqlite>,
    record: &TokenRecord,
    on_conflict_skip: bool,
) -> Result<u64, StoreError> {
    let statement = if on_conflict_skip {
        insert_token!(
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) \
             ON CONFLICT DO NOTHING"
        )
    } else {
        insert_token!(
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
        )
    };
    let result = bind_record!(sqlx::query(statement), record, millis)
        .execute(&mut **tx)
        .await
        .map_err(backend_error)?;
    Ok(result.rows_affected())
}

async fn fetch_by_id(
    tx: &mut Transaction<'static, Sqlite>,
    id: &TokenId,
) -> Result<Option<TokenRecord>, StoreError> {
    sqlx::query(SELECT_BY_ID)
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_error)?
        .as_ref()
        .map(decode)
        .transpose()
}

/// How many of the owner's tokens still verify at `now`.
#[cfg(feature = "management")]
async fn active_count(
    tx: &mut Transaction<'static, Sqlite>,
    owner: &str,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let statement = "SELECT COUNT(*) FROM tokenkeep_tokens WHERE owner = ?1 \
        AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)";
    let count: i64 = sqlx::query_scalar(statement)
        .bind(owner)
        .bind(millis(now))
        .fetch_one(&mut **tx)
        .await
        .map_err(backend_error)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

#[cfg(feature = "management")]
/// Whether another token of the owner holds `name` at `now`.
async fn name_taken(
    tx: &mut Transaction<'static, Sqlite>,
    record: &TokenRecord,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let statement = "SELECT COUNT(*) FROM tokenkeep_tokens WHERE owner = ?1 \
        AND revoked_at IS NULL AND replaced_by IS NULL AND (expires_at IS NULL OR expires_at > ?2) \
        AND name = ?3 AND id <> ?4";
    let count: i64 = sqlx::query_scalar(statement)
        .bind(&record.owner)
        .bind(millis(now))
        .bind(record.name.as_str())
        .bind(record.id.as_bytes().as_slice())
        .fetch_one(&mut **tx)
        .await
        .map_err(backend_error)?;
    Ok(count > 0)
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
        row.as_ref()
            .map(|row| decode(row).map(Arc::new))
            .transpose()
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(SELECT_BY_ID)
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_error)?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let statement = select_tokens!(
            "WHERE (?1 IS NULL OR owner = ?1) \
             AND (?2 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?3))) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(statement)
            .bind(&query.owner)
            .bind(query.include_inactive)
            .bind(millis(query.now))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_error)?;
        rows.iter().map(decode).collect()
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let statement = select_tokens!(
            "WHERE revoked_at IS NULL AND expires_at IS NOT NULL \
             AND expires_at > ?1 AND expires_at <= ?2 ORDER BY expires_at, id"
        );
        let rows = sqlx::query(statement)
            .bind(millis(now))
            .bind(millis(before))
            .fetch_all(&self.pool)
            .await
            .map_err(backend_error)?;
        rows.iter().map(decode).collect()
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

    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        let mut tx = self.write().await?;
        let record = fetch_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let Some(after) = record.usage.and_then(|usage| usage.consume(now)) else {
            return Ok(None);
        };
        sqlx::query("UPDATE tokenkeep_tokens SET usage = ?2 WHERE id = ?1")
            .bind(id.as_bytes().as_slice())
            .bind(sql::encode_usage(&after)?)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(Some(after))
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        let in_format = format!("{}_", prefix.as_str());
        let held: i64 = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tokenkeep_tokens \
             WHERE substr(display_prefix, 1, ?2) <> ?1)",
        )
        .bind(&in_format)
        .bind(i64::try_from(in_format.len()).unwrap_or(i64::MAX))
        .fetch_one(&self.pool)
        .await
        .map_err(backend_error)?;
        Ok(held != 0)
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

#[cfg(feature = "management")]
#[async_trait]
impl ManageStore for SqliteStore {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        refuse_temporary([&record])?;
        let mut tx = self.write().await?;
        // Over the owner's active tokens: all of them count toward the cap
        // (grace periods included); those not replaced hold their name.
        let statement = "SELECT COUNT(*), COALESCE(SUM(name = ?3 AND replaced_by IS NULL), 0) \
            FROM tokenkeep_tokens WHERE owner = ?1 AND revoked_at IS NULL \
            AND (expires_at IS NULL OR expires_at > ?2)";
        let (active, same_name): (i64, i64) = sqlx::query_as(statement)
            .bind(&record.owner)
            .bind(millis(rules.now))
            .bind(record.name.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_error)?;
        if same_name > 0 {
            return Err(StoreError::NameTaken);
        }
        if let Some(limit) = rules.max_active_per_owner
            && usize::try_from(active).unwrap_or(usize::MAX) >= limit
        {
            return Err(StoreError::LimitReached { limit });
        }
        insert_row(&mut tx, &record, false).await?;
        sqlx::query(MARK_EVER_HELD)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)
    }

    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let marked = sqlx::query(MARK_EVER_HELD)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        if marked.rows_affected() == 0 {
            return Err(StoreError::AlreadyClaimed);
        }
        insert_row(&mut tx, &record, false).await?;
        tx.commit().await.map_err(backend_error)
    }

    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let mut tx = self.write().await?;
        let mut record = fetch_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !record.is_active(now) {
            return Err(StoreError::Inactive);
        }
        update.apply_to(&mut record);
        if update.name.is_some()
            && record.replaced_by.is_none()
            && name_taken(&mut tx, &record, now).await?
        {
            return Err(StoreError::NameTaken);
        }
        sqlx::query(
            "UPDATE tokenkeep_tokens SET name = ?2, description = ?3, scopes = ?4, profile = ?5, \
             metadata = ?6, rate_limit = ?7, usage = ?8, \
             allowed_ips = ?9 \
             WHERE id = ?1",
        )
        .bind(id.as_bytes().as_slice())
        .bind(record.name.as_str())
        .bind(&record.description)
        .bind(encode_scopes(&record.scopes)?)
        .bind(&record.profile)
        .bind(record.metadata.as_ref().map(Metadata::to_json))
        .bind(record.rate_limit.map(|limit| limit.to_string()))
        .bind(record.usage.as_ref().map(sql::encode_usage).transpose()?)
        .bind(sql::encode_ranges(&record.allowed_ips))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(record)
    }

    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE tokenkeep_tokens SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 \
             WHERE id = ?1 AND revoked_at IS NULL",
        )
        .bind(id.as_bytes().as_slice())
        .bind(millis(revocation.at))
        .bind(&revocation.by)
        .bind(revocation.reason.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        let record = fetch_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(record)
    }

    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let result = sqlx::query(
            "UPDATE tokenkeep_tokens SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 \
             WHERE owner = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
        )
        .bind(owner)
        .bind(millis(revocation.at))
        .bind(&revocation.by)
        .bind(revocation.reason.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(usize::try_from(result.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        let mut tx = self.write().await?;
        let mut old = fetch_by_id(&mut tx, &rotation.old)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !old.holds_name(rotation.now) {
            return Err(StoreError::Inactive);
        }
        if !rotation.fits_the_cap(active_count(&mut tx, &old.owner, rotation.now).await?) {
            return Err(StoreError::LimitReached {
                limit: rotation.max_active_per_owner.unwrap_or(0),
            });
        }
        let replacement = rotation.replacement_for(&old);
        rotation.retire(&mut old);
        sqlx::query(
            "UPDATE tokenkeep_tokens SET expires_at = ?2, revoked_at = ?3, replaced_by = ?4, \
             revoked_by = ?5, revoke_reason = ?6 WHERE id = ?1",
        )
        .bind(old.id.as_bytes().as_slice())
        .bind(old.expires_at.map(millis))
        .bind(old.revoked_at.map(millis))
        .bind(old.replaced_by.as_ref().map(|id| id.as_bytes().to_vec()))
        .bind(&old.revoked_by)
        .bind(old.revoke_reason.map(RevokeReason::as_str))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        insert_row(&mut tx, &replacement, false).await?;
        tx.commit().await.map_err(backend_error)?;
        Ok(replacement)
    }

    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let result = sqlx::query("DELETE FROM tokenkeep_tokens WHERE id = ?1")
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)?;
        Ok(result.rows_affected() > 0)
    }

    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        refuse_temporary(&records)?;
        let mut tx = self.write().await?;
        let mut report = ImportReport::default();
        for record in &records {
            if insert_row(&mut tx, record, true).await? > 0 {
                report.imported += 1;
            } else {
                report.skipped += 1;
            }
        }
        if report.imported > 0 {
            sqlx::query(MARK_EVER_HELD)
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
        }
        tx.commit().await.map_err(backend_error)?;
        Ok(report)
    }
}
