//! [`PostgresStore`]: one database shared by many service instances.

mod invalidation;

pub use invalidation::InvalidationListener;

use super::ChangeScope;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row as _, Transaction};
use time::OffsetDateTime;

use super::sql::{self, AsWritten, Dialect, backend_error, decode_record, run_change};
use super::{
    ActiveRecords, Changes, LastUse, ListQuery, ManageStore, OwnerRecords, Plan, StoreError,
    TokenStore, Write,
};
use crate::hash::TokenHash;
use crate::record::{OwnerLimits, TokenId, TokenRecord};
use crate::token::Prefix;

/// The schema, embedded: `(version, description, script)`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "create tokens", include_str!("../../migrations/postgres/0001_create_tokens.sql")),
    (2, "who and why", include_str!("../../migrations/postgres/0002_who_and_why.sql")),
    (3, "expiry index", include_str!("../../migrations/postgres/0003_expiry_index.sql")),
    (4, "metadata", include_str!("../../migrations/postgres/0004_metadata.sql")),
    (5, "rate limit", include_str!("../../migrations/postgres/0005_rate_limit.sql")),
    (6, "usage", include_str!("../../migrations/postgres/0006_usage.sql")),
    (7, "allowed ips", include_str!("../../migrations/postgres/0007_allowed_ips.sql")),
    (8, "leaked", include_str!("../../migrations/postgres/0008_leaked.sql")),
    (9, "owner limits", include_str!("../../migrations/postgres/0009_owner_limits.sql")),
    (
        10,
        "lock owner reading limits",
        include_str!("../../migrations/postgres/0010_lock_owner_reading_limits.sql"),
    ),
];

/// Keeps tokens in PostgreSQL, for many service instances sharing one database.
///
/// The hash is a unique index, so verification is one index probe. Writes
/// that check before they write (the cap, name uniqueness, renames,
/// rotations) first take a transaction-scoped advisory lock on the owner,
/// so concurrent callers on different connections and instances queue
/// instead of racing (an issue, which stamps the owner's shared limits on
/// its token, reads them in the statement that takes the lock); a change
/// of one named record (a revoke, a spent use) is one conditional
/// `UPDATE` that writes only the version it read, and waits for no lock
/// of the owner's; the setup claim is decided by inserting the
/// `ever_held` row, which exactly one transaction can do. Instants are
/// `TIMESTAMPTZ`, so results never depend on the server's time zone.
///
/// ```no_run
/// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
/// let store = tokenkeep::store::PostgresStore::connect("postgres://postgres@127.0.0.1/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// The channel changes are announced on. Payload: schema, kind (`hash`
    /// or `owner`) and value, separated by U+001F; a listener ignores other
    /// schemas.
    pub const INVALIDATION_CHANNEL: &'static str = "tokenkeep_invalidate";

    /// Connects to a `postgres://` URL.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a bad URL or an unreachable server.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url).map_err(backend_error)?).await
    }

    /// Connects with your own options (a `search_path`, TLS, …).
    ///
    /// To keep the tokens in a schema of your application's own, name it
    /// in the connection's `search_path`. [`migrate`](Self::migrate)
    /// creates its tables in the first schema of that path but does not
    /// create the schema itself:
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::str::FromStr;
    /// use tokenkeep::store::PostgresStore;
    /// use tokenkeep::store::sqlx::postgres::PgConnectOptions;
    ///
    /// let url = "postgres://app@db.internal/app";
    /// // Once, by whoever owns the database (a migration of your own):
    /// //     CREATE SCHEMA IF NOT EXISTS auth;
    /// let options = PgConnectOptions::from_str(url)?.options([("search_path", "auth")]);
    /// let store = PostgresStore::connect_with(options).await?;
    /// store.migrate().await?; // tokenkeep's tables, in `auth`
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await
            .map_err(backend_error)?;
        Ok(Self { pool })
    }

    /// Uses a pool you built.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The connection pool, for your own queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates or updates tokenkeep's tables in the first schema of the
    /// connection's `search_path`; safe to run from several instances at
    /// once. Applied migrations are recorded in `tokenkeep_migrations`.
    /// The schema itself must exist (see [`connect_with`](Self::connect_with)).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`], also when the `search_path` names no
    /// schema that exists.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sql::migrator(MIGRATIONS).run(&self.pool).await.map_err(sql::migrate_error)
    }
}

fn decode(row: &PgRow) -> Result<TokenRecord, StoreError> {
    decode_record::<_, OffsetDateTime>(row, Ok)
}

async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    pool.begin().await.map_err(backend_error)
}

/// Tells every instance's cache that records changed (delivered when the
/// surrounding transaction commits; at once outside one).
async fn announce<'e>(
    executor: impl sqlx::Executor<'e, Database = Postgres>,
    kind: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT pg_notify('tokenkeep_invalidate', current_schema() || chr(31) || $1 || chr(31) || $2)",
    )
    .bind(kind)
    .bind(value)
    .execute(executor)
    .await
    .map_err(backend_error)?;
    Ok(())
}

/// Serialises the checking writes of one owner (in this schema) until the
/// transaction ends. With `reading_limits`, the same statement then reads
/// the owner's shared limits (`Some(None)`: the owner has none): a change
/// that stamps them makes one round trip, not two.
async fn lock_owner(
    tx: &mut Transaction<'static, Postgres>,
    owner: &str,
    reading_limits: bool,
) -> Result<Option<Option<OwnerLimits>>, StoreError> {
    if !reading_limits {
        sqlx::query("SELECT tokenkeep_lock_owner($1)")
            .bind(owner)
            .execute(&mut **tx)
            .await
            .map_err(backend_error)?;
        return Ok(None);
    }
    let row = sqlx::query("SELECT tokenkeep_lock_owner_reading_limits($1) AS limits")
        .bind(owner)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend_error)?;
    Ok(Some(sql::decode_owner_limits(&row)?))
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let found = sql::fetch_records!(one: AsWritten, &self.pool, decode, ["WHERE hash = $1"], hash.as_bytes().as_slice());
        Ok(found?.map(Arc::new))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        sql::fetch_records!(one: AsWritten, &self.pool, decode, ["WHERE id = $1"], id.as_bytes().as_slice())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let (owner, inactive, now) = (&query.owner, query.include_inactive, query.now);
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
        sql::fetch_records!(AsWritten, &self.pool, decode, [sql::expiring_between!()], now, before)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let ids: Vec<Vec<u8>> = uses.iter().map(|used| used.id.as_bytes().to_vec()).collect();
        let instants: Vec<OffsetDateTime> = uses.iter().map(|used| used.at).collect();
        // One statement for the batch; the latest note per id, forward only.
        sqlx::query(
            "UPDATE tokenkeep_tokens AS t SET last_used_at = u.at \
             FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::bytea[], $2::timestamptz[]) \
                   AS notes(id, at) GROUP BY id) AS u \
             WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)",
        )
        .bind(ids)
        .bind(instants)
        .execute(&self.pool)
        .await
        .map_err(backend_error)?;
        Ok(())
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        sql::holds_text_outside!(AsWritten, &self.pool, prefix)
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tokenkeep_meta WHERE key = 'ever_held')")
            .fetch_one(&self.pool)
            .await
            .map_err(backend_error)
    }
}

/// A change that reads only the records it names and writes at most one
/// of them back (a revoke, a spent use) is first made in place: one read,
/// then one statement that writes the row only if it is still the version
/// that was read (and tells the caches); given the records as the caller
/// saw them, not even the read. Any other change, or one whose row moved
/// in between, is one transaction holding the owner's advisory lock, taken
/// before the read, which reads with `FOR UPDATE`: the changes of one
/// owner queue across every instance, and no write in place lands between
/// a locked change's read and its write. The setup claim's
/// marker row is unique, so of two claims the second waits for the first
/// and then finds it.
#[async_trait]
impl ManageStore for PostgresStore {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        if let Some(changes) = self.change_in_place(scope, plan).await? {
            return Ok(changes);
        }
        let mut tx = begin(&self.pool).await?;
        let limits = lock_owner(&mut tx, &scope.owner, scope.owner_limits).await?;
        let (changes, read) = run_change!(
            sqlx::Postgres,
            Announced,
            tx,
            scope,
            plan,
            |instant: OffsetDateTime| instant,
            decode,
            " FOR UPDATE",
            limits
        );
        for write in &changes.writes {
            let hash = match write {
                // Announced by the statement that inserted it.
                Write::Insert(_) => None,
                Write::Replace(record) => Some(record.hash),
                Write::Delete(id) => read.find(id).map(|record| record.hash),
                Write::OwnerLimits(_) => None,
            };
            if let Some(hash) = hash {
                announce(&mut *tx, "hash", &hash.to_hex()).await?;
            }
        }
        tx.commit().await.map_err(backend_error)?;
        Ok(changes)
    }
}

/// A row's version: the transaction that wrote it (`xmin`), new with
/// every write to the row, a last-use note included. Equal versions, the
/// same row as read.
macro_rules! revision {
    () => {
        "xmin::text"
    };
}

/// What follows `WITH changed AS (… RETURNING hash)`: every instance's
/// cache is told of each row written, as `announce` tells it.
macro_rules! notify_changed {
    () => {
        "SELECT pg_notify('tokenkeep_invalidate', current_schema() || chr(31) || 'hash' \
         || chr(31) || encode(hash, 'hex')) FROM changed"
    };
}

/// PostgreSQL's spelling of a change: the shared statements as written,
/// and an insert that in the same statement marks the store as having
/// held a token and tells every instance's cache of the new hash, one
/// round trip where three were sent. (The notice is needed on an insert
/// too: an instance remembers which texts outside the format are absent
/// until the store's change signal moves.)
struct Announced;

impl Dialect for Announced {
    type Statement = &'static str;

    fn statement(shared: &'static str) -> &'static str {
        shared
    }

    const MARK_EVER_HELD: &'static str = sql::mark_ever_held!();

    const INSERT_RECORD: &'static str = concat!(
        "WITH changed AS (",
        sql::insert_record!(),
        " RETURNING hash), marked AS (",
        sql::mark_ever_held!(),
        ") ",
        notify_changed!()
    );

    const INSERT_MARKS_HELD: bool = true;
}

/// `SELECT` every column and the revision, then `$tail`.
macro_rules! select_in_place {
    ($tail:literal) => {
        concat!(
            "SELECT ",
            sql::token_columns!(),
            ", ",
            revision!(),
            " AS revision FROM tokenkeep_tokens ",
            $tail
        )
    };
}

impl PostgresStore {
    /// The change made on the records as the caller saw them, without a
    /// read (`plan_as_seen!`): one statement, which tells the caches of the
    /// row it writes.
    async fn change_as_seen(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Option<Changes>, StoreError> {
        let instant = |instant: OffsetDateTime| instant;
        let Some((changes, mut update)) =
            sql::plan_as_seen!(Postgres, "WITH changed AS (", scope, plan, instant)
        else {
            return Ok(None);
        };
        update.push(concat!(" RETURNING hash) ", notify_changed!()));
        let written = update.build().fetch_all(&self.pool).await.map_err(backend_error)?;
        Ok((written.len() == 1).then_some(changes))
    }

    /// The change made without the owner's lock, when it can be: `None`
    /// when it must take the lock (it reads the owner's active tokens or limits,
    /// claims the setup, writes more than one record or one it did not
    /// read, or its row changed since the read). A read is one statement,
    /// so what the plan sees is the store at one instant, and a refusal or
    /// an empty change stands on it as it would under the lock.
    async fn change_in_place(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Option<Changes>, StoreError> {
        // The owner's limits are one row every token of the owner shares:
        // only the owner's lock orders its changes.
        if !matches!(scope.active, ActiveRecords::Unread) || scope.owner_limits {
            return Ok(None);
        }
        if let Some(changes) = self.change_as_seen(scope, plan).await? {
            return Ok(Some(changes));
        }
        let ids: Vec<Vec<u8>> = scope.ids.iter().map(|id| id.as_bytes().to_vec()).collect();
        let hashes: Vec<Vec<u8>> =
            scope.hashes.iter().map(|hash| hash.as_bytes().to_vec()).collect();
        // By key alone, the owner checked on what comes back: a plan cached
        // for `owner = $1` may walk the owner's index instead of the key's,
        // and an `OR` of the two keys plans as a scan.
        let statement = concat!(
            select_in_place!("WHERE id = ANY($1)"),
            " UNION ALL ",
            select_in_place!("WHERE hash = ANY($2) AND NOT (id = ANY($1))")
        );
        let rows = sqlx::query(statement)
            .bind(ids)
            .bind(hashes)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_error)?;
        let mut records = Vec::with_capacity(rows.len());
        let mut revisions = Vec::with_capacity(rows.len());
        for row in &rows {
            let record = decode(row)?;
            if record.owner == scope.owner {
                revisions.push(row.try_get::<String, _>("revision").map_err(backend_error)?);
                records.push(record);
            }
        }
        let read = OwnerRecords { owner: scope.owner.clone(), records, limits: None };
        let changes = plan(&read)?;
        if changes.only_if_never_held {
            return Ok(None);
        }
        let [Write::Replace(after)] = changes.writes.as_slice() else {
            return Ok(changes.writes.is_empty().then_some(changes));
        };
        let Some(at) = read.records.iter().position(|before| before.id == after.id) else {
            return Ok(None);
        };
        let revision = std::mem::take(&mut revisions[at]);
        let before = Some(&read.records[at]);
        let mut update = sql::replace_token!(
            Postgres,
            "WITH changed AS (",
            before,
            after,
            |instant: OffsetDateTime| instant
        );
        update.push(concat!(" AND ", revision!(), " = ")).push_bind(revision);
        update.push(concat!(" RETURNING hash) ", notify_changed!()));
        let written = update.build().fetch_all(&self.pool).await.map_err(backend_error)?;
        Ok((written.len() == 1).then_some(changes))
    }
}
