//! [`PostgresStore`]: one database shared by many service instances.

mod invalidation;

pub use invalidation::InvalidationListener;

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;

use super::sql::{self, backend_error, decode_record, select_tokens};
#[cfg(feature = "management")]
use super::sql::{bind_record, encode_scopes, insert_token, token_columns};
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

/// The schema, embedded: `(version, description, script)`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "create tokens",
        include_str!("../../migrations/postgres/0001_create_tokens.sql"),
    ),
    (
        2,
        "who and why",
        include_str!("../../migrations/postgres/0002_who_and_why.sql"),
    ),
    (
        3,
        "expiry index",
        include_str!("../../migrations/postgres/0003_expiry_index.sql"),
    ),
    (
        4,
        "metadata",
        include_str!("../../migrations/postgres/0004_metadata.sql"),
    ),
    (
        5,
        "rate limit",
        include_str!("../../migrations/postgres/0005_rate_limit.sql"),
    ),
    (
        6,
        "usage",
        include_str!("../../migrations/postgres/0006_usage.sql"),
    ),
    (
        7,
        "allowed ips",
        include_str!("../../migrations/postgres/0007_allowed_ips.sql"),
    ),
];

/// Keeps tokens in PostgreSQL, for many service instances sharing one database.
///
/// The hash is a unique index, so verification is one index probe. Writes
/// that check before they write (the cap, name uniqueness, renames,
/// rotations) first take a transaction-scoped advisory lock on the owner,
/// so concurrent callers on different connections and instances queue
/// instead of racing; the setup claim is decided by inserting the
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
        sql::migrator(MIGRATIONS)
            .run(&self.pool)
            .await
            .map_err(sql::migrate_error)
    }
}

fn decode(row: &PgRow) -> Result<TokenRecord, StoreError> {
    decode_record::<_, OffsetDateTime>(row, Ok)
}

#[cfg(feature = "management")]
const MARK_EVER_HELD: &str =
    "INSERT INTO tokenkeep_meta (key, value) VALUES ('ever_held', '1') ON CONFLICT DO NOTHING";

async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    pool.begin().await.map_err(backend_error)
}

/// Tells every instance's cache that records changed (delivered when the
/// surrounding transaction commits; at once outside one).
#[cfg(feature = "management")]
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
/// transaction ends.
#[cfg(feature = "management")]
async fn lock_owner(
    tx: &mut Transaction<'static, Postgres>,
    owner: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('tokenkeep:' || current_schema() || ':' || $1, 0))",
    )
    .bind(owner)
    .execute(&mut **tx)
    .await
    .map_err(backend_error)?;
    Ok(())
}

#[cfg(feature = "management")]
async fn insert_row(
    tx: &mut Transaction<'static, Postgres>,
    record: &TokenRecord,
    on_conflict_skip: bool,
) -> Result<u64, StoreError> {
    let statement = if on_conflict_skip {
        insert_token!(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT DO NOTHING"
        )
    } else {
        insert_token!(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        )
    };
    let result = bind_record!(sqlx::query(statement), record, |instant: OffsetDateTime| {
        instant
    })
    .execute(&mut **tx)
    .await
    .map_err(backend_error)?;
    Ok(result.rows_affected())
}

/// The row, locked against other writers until the transaction ends.
async fn fetch_for_update(
    tx: &mut Transaction<'static, Postgres>,
    id: &TokenId,
) -> Result<Option<TokenRecord>, StoreError> {
    sqlx::query(select_tokens!("WHERE id = $1 FOR UPDATE"))
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_error)?
        .as_ref()
        .map(decode)
        .transpose()
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let row = sqlx::query(select_tokens!("WHERE hash = $1"))
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_error)?;
        row.as_ref()
            .map(|row| decode(row).map(Arc::new))
            .transpose()
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(select_tokens!("WHERE id = $1"))
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
            "WHERE ($1::text IS NULL OR owner = $1) \
             AND ($2 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3))) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(statement)
            .bind(&query.owner)
            .bind(query.include_inactive)
            .bind(query.now)
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
             AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, id"
        );
        let rows = sqlx::query(statement)
            .bind(now)
            .bind(before)
            .fetch_all(&self.pool)
            .await
            .map_err(backend_error)?;
        rows.iter().map(decode).collect()
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let ids: Vec<Vec<u8>> = uses
            .iter()
            .map(|used| used.id.as_bytes().to_vec())
            .collect();
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

    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        // The row lock makes concurrent consumers on every instance queue.
        let mut tx = begin(&self.pool).await?;
        let record = fetch_for_update(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let Some(after) = record.usage.and_then(|usage| usage.consume(now)) else {
            return Ok(None);
        };
        sqlx::query("UPDATE tokenkeep_tokens SET usage = $2 WHERE id = $1")
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
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tokenkeep_tokens \
             WHERE substr(display_prefix, 1, $2) <> $1)",
        )
        .bind(&in_format)
        .bind(i32::try_from(in_format.len()).unwrap_or(i32::MAX))
        .fetch_one(&self.pool)
        .await
        .map_err(backend_error)
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tokenkeep_meta WHERE key = 'ever_held')")
            .fetch_one(&self.pool)
            .await
            .map_err(backend_error)
    }
}

#[cfg(feature = "management")]
#[async_trait]
impl ManageStore for PostgresStore {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        refuse_temporary([&record])?;
        let mut tx = begin(&self.pool).await?;
        lock_owner(&mut tx, &record.owner).await?;
        // Over the owner's active tokens: all of them count toward the cap
        // (grace periods included); those not replaced hold their name.
        let (active, same_name): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE name = $3 AND replaced_by IS NULL) \
             FROM tokenkeep_tokens WHERE owner = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&record.owner)
        .bind(rules.now)
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
        let mut tx = begin(&self.pool).await?;
        // Concurrent claims block on this row; only the first inserts it.
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
        let mut tx = begin(&self.pool).await?;
        let mut record = fetch_for_update(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !record.is_active(now) {
            return Err(StoreError::Inactive);
        }
        update.apply_to(&mut record);
        if update.name.is_some() && record.replaced_by.is_none() {
            lock_owner(&mut tx, &record.owner).await?;
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM tokenkeep_tokens WHERE owner = $1 AND name = $3 \
                 AND id <> $4 AND revoked_at IS NULL AND replaced_by IS NULL \
                 AND (expires_at IS NULL OR expires_at > $2))",
            )
            .bind(&record.owner)
            .bind(now)
            .bind(record.name.as_str())
            .bind(id.as_bytes().as_slice())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_error)?;
            if taken {
                return Err(StoreError::NameTaken);
            }
        }
        sqlx::query(
            "UPDATE tokenkeep_tokens SET name = $2, description = $3, scopes = $4, profile = $5, \
             metadata = $6, rate_limit = $7, usage = $8, \
             allowed_ips = $9 \
             WHERE id = $1",
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
        announce(&mut *tx, "hash", &record.hash.to_hex()).await?;
        tx.commit().await.map_err(backend_error)?;
        Ok(record)
    }

    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        // A revoked token keeps its first revocation: each column is set
        // only where `revoked_at` was still NULL (SET reads the old row).
        let statement = concat!(
            "UPDATE tokenkeep_tokens SET revoked_at = COALESCE(revoked_at, $2), ",
            "revoked_by = CASE WHEN revoked_at IS NULL THEN $3 ELSE revoked_by END, ",
            "revoke_reason = CASE WHEN revoked_at IS NULL THEN $4 ELSE revoke_reason END ",
            "WHERE id = $1 RETURNING ",
            token_columns!()
        );
        let row = sqlx::query(statement)
            .bind(id.as_bytes().as_slice())
            .bind(revocation.at)
            .bind(&revocation.by)
            .bind(revocation.reason.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_error)?;
        let record = row
            .as_ref()
            .map(decode)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        announce(&self.pool, "hash", &record.hash.to_hex()).await?;
        Ok(record)
    }

    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        let result = sqlx::query(
            "UPDATE tokenkeep_tokens SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 \
             WHERE owner = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(owner)
        .bind(revocation.at)
        .bind(&revocation.by)
        .bind(revocation.reason.as_str())
        .execute(&self.pool)
        .await
        .map_err(backend_error)?;
        announce(&self.pool, "owner", owner).await?;
        Ok(usize::try_from(result.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let mut old = fetch_for_update(&mut tx, &rotation.old)
            .await?
            .ok_or(StoreError::NotFound)?;
        lock_owner(&mut tx, &old.owner).await?;
        if !old.holds_name(rotation.now) {
            return Err(StoreError::Inactive);
        }
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tokenkeep_tokens WHERE owner = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&old.owner)
        .bind(rotation.now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error)?;
        if !rotation.fits_the_cap(usize::try_from(active).unwrap_or(usize::MAX)) {
            return Err(StoreError::LimitReached {
                limit: rotation.max_active_per_owner.unwrap_or(0),
            });
        }
        let replacement = rotation.replacement_for(&old);
        rotation.retire(&mut old);
        sqlx::query(
            "UPDATE tokenkeep_tokens SET expires_at = $2, revoked_at = $3, replaced_by = $4, \
             revoked_by = $5, revoke_reason = $6 WHERE id = $1",
        )
        .bind(old.id.as_bytes().as_slice())
        .bind(old.expires_at)
        .bind(old.revoked_at)
        .bind(old.replaced_by.as_ref().map(|id| id.as_bytes().to_vec()))
        .bind(&old.revoked_by)
        .bind(old.revoke_reason.map(RevokeReason::as_str))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        insert_row(&mut tx, &replacement, false).await?;
        announce(&mut *tx, "hash", &old.hash.to_hex()).await?;
        tx.commit().await.map_err(backend_error)?;
        Ok(replacement)
    }

    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let hash: Option<Vec<u8>> =
            sqlx::query_scalar("DELETE FROM tokenkeep_tokens WHERE id = $1 RETURNING hash")
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend_error)?;
        let Some(hash) = hash else { return Ok(false) };
        announce(&self.pool, "hash", &hex::encode(hash)).await?;
        Ok(true)
    }

    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        refuse_temporary(&records)?;
        let mut tx = begin(&self.pool).await?;
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
