//! What the SQL stores share: the column list, decoding a row into a
//! record, encoding scopes, embedded migrations, and error mapping.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{ColumnIndex, Decode, Row, SqlSafeStr as _, Type};
use time::OffsetDateTime;

use super::StoreError;
use crate::hash::TokenHash;
use crate::record::{
    ExtraFields, Metadata, OwnerLimits, RevokeReason, TokenId, TokenKind, TokenName, TokenRecord,
};
use crate::scope::Scopes;

/// Every column of `tokenkeep_tokens`, in the order `decode_record` reads.
macro_rules! token_columns {
    () => {
        "id, owner, name, description, hash, display_prefix, scopes, profile, kind, \
         created_at, expires_at, last_used_at, revoked_at, replaced_by, \
         created_by, revoked_by, revoke_reason, metadata, rate_limit, \"usage\", allowed_ips, owner_limits"
    };
}

/// `SELECT` every column of `tokenkeep_tokens`, then `$tail`: one literal.
macro_rules! select_tokens {
    ($($tail:tt)+) => {
        concat!("SELECT ", $crate::store::sql::token_columns!(), " FROM tokenkeep_tokens ", $($tail)+)
    };
}

/// `INSERT` every column of `tokenkeep_tokens`, then `$tail` (the values).
macro_rules! insert_token {
    ($tail:literal) => {
        concat!("INSERT INTO tokenkeep_tokens (", $crate::store::sql::token_columns!(), ") ", $tail)
    };
}

/// The `INSERT` of one record, its columns bound by `bind_record!`.
macro_rules! insert_record {
    () => {
        $crate::store::sql::insert_token!(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        )
    };
}

/// Binds every column of `record` to an `insert_token!` query, in column
/// order; `$instant` turns an instant into the backend's time type. A
/// macro, because sqlx's bind bounds differ per database.
macro_rules! bind_record {
    ($query:expr, $record:expr, $instant:expr) => {{
        let record: &$crate::record::TokenRecord = $record;
        let instant = $instant;
        $query
            .bind(record.id.as_bytes().as_slice())
            .bind(&record.owner)
            .bind(record.name.as_str())
            .bind(&record.extras.description)
            .bind(record.hash.as_bytes().as_slice())
            .bind(&record.display_prefix)
            .bind($crate::store::sql::encode_scopes(&record.scopes)?)
            .bind(&record.extras.profile)
            .bind($crate::store::sql::kind_text(record.kind))
            .bind(instant(record.created_at))
            .bind(record.expires_at.map(instant))
            .bind(record.last_used_at.map(instant))
            .bind(record.revoked_at.map(instant))
            .bind(record.extras.replaced_by.as_ref().map(|id| id.as_bytes().to_vec()))
            .bind(&record.created_by)
            .bind(&record.extras.revoked_by)
            .bind(record.extras.revoke_reason.map($crate::record::RevokeReason::as_str))
            .bind(record.extras.metadata.as_ref().map($crate::record::Metadata::to_json))
            .bind(record.extras.rate_limit.map(|limit| limit.to_string()))
            .bind(record.extras.usage.as_ref().map($crate::store::sql::encode_usage).transpose()?)
            .bind($crate::store::sql::encode_ranges(&record.extras.allowed_ips))
            .bind(
                record
                    .extras
                    .owner_limits
                    .as_ref()
                    .map($crate::store::sql::encode_json)
                    .transpose()?,
            )
    }};
}

/// Runs one change in the open transaction `$tx`, which holds the owner's
/// lock: reads what the scope covers (the owner's active records through
/// the owner index, then each named id and hash), runs the plan, applies
/// its writes.
/// Evaluates to the committed-to-be [`Changes`](crate::store::Changes)
/// and the records read; the caller commits. Both SQL dialects take these
/// statements (`$N` placeholders); `$instant` and `$decode` are their
/// time type and row decoder, `$lock` what ends each read (PostgreSQL's
/// `FOR UPDATE`: a row this change read is not written by another until
/// it ends, whether or not that other holds the owner's lock);
/// `$limits_read` the owner's limits when the statement that took the
/// lock read them already (`None`: read them here if the scope asks).
macro_rules! run_change {
    ($db:ty, $dialect:ty, $tx:ident, $scope:expr, $plan:expr, $instant:expr, $decode:expr, $lock:literal, $limits_read:expr) => {{
        use $crate::store::sql::{Dialect, backend_error, select_tokens};
        use $crate::store::{OwnerRecords, StoreError, Write};
        let spelled = <$dialect as Dialect>::statement;
        let scope: &$crate::store::ChangeScope = $scope;
        let owner: &str = &scope.owner;
        let names: &[$crate::record::TokenName] = match &scope.active {
            $crate::store::ActiveRecords::Named(names) => names,
            _ => &[],
        };
        let active = match scope.active {
            $crate::store::ActiveRecords::All => sqlx::query(spelled(concat!(
                select_tokens!(
                    "WHERE owner = $1 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > $2)"
                ),
                $lock
            )))
            .bind(owner)
            .bind(($instant)(scope.now))
            .fetch_all(&mut *$tx)
            .await
            .map_err(backend_error)?,
            _ => Vec::new(),
        };
        let mut records: Vec<$crate::record::TokenRecord> =
            active.iter().map($decode).collect::<Result<_, StoreError>>()?;
        for name in names {
            let holding = sqlx::query(spelled(concat!(
                select_tokens!(
                    "WHERE owner = $1 AND name = $2 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > $3)"
                ),
                $lock
            )))
            .bind(owner)
            .bind(name.as_str())
            .bind(($instant)(scope.now))
            .fetch_all(&mut *$tx)
            .await
            .map_err(backend_error)?;
            for row in &holding {
                let record = $decode(row)?;
                if !records.iter().any(|read| read.id == record.id) {
                    records.push(record);
                }
            }
        }
        let by_id = scope.ids.iter().map(|id| id.as_bytes().to_vec());
        let by_hash = scope.hashes.iter().map(|hash| hash.as_bytes().to_vec());
        for (statement, key) in
            by_id
                .map(|key| (concat!(select_tokens!("WHERE owner = $1 AND id = $2"), $lock), key))
                .chain(by_hash.map(|key| {
                    (concat!(select_tokens!("WHERE owner = $1 AND hash = $2"), $lock), key)
                }))
        {
            let row = sqlx::query(spelled(statement))
                .bind(owner)
                .bind(key)
                .fetch_optional(&mut *$tx)
                .await
                .map_err(backend_error)?;
            if let Some(record) = row.as_ref().map($decode).transpose()? {
                if !records.iter().any(|read| read.id == record.id) {
                    records.push(record);
                }
            }
        }
        let already_read: Option<Option<$crate::record::OwnerLimits>> = $limits_read;
        let limits = if let Some(limits) = already_read {
            limits
        } else if scope.owner_limits {
            let row = sqlx::query(spelled(concat!(
                "SELECT limits FROM tokenkeep_owner_limits WHERE owner = $1",
                $lock
            )))
            .bind(owner)
            .fetch_optional(&mut *$tx)
            .await
            .map_err(backend_error)?;
            row.map(|row| $crate::store::sql::decode_owner_limits(&row)).transpose()?.flatten()
        } else {
            None
        };
        let read = OwnerRecords { owner: owner.to_owned(), records, limits };
        let changes = ($plan)(&read)?;
        if changes.only_if_never_held {
            let marked = sqlx::query(<$dialect as Dialect>::MARK_EVER_HELD)
                .execute(&mut *$tx)
                .await
                .map_err(backend_error)?;
            if marked.rows_affected() == 0 {
                return Err(StoreError::AlreadyClaimed);
            }
        }
        let mut replaced;
        for write in &changes.writes {
            let written = match write {
                Write::Insert(record) => $crate::store::sql::bind_record!(
                    sqlx::query(spelled(<$dialect as Dialect>::INSERT_RECORD)),
                    record,
                    $instant
                ),
                Write::Replace(record) => {
                    let before = read.records.iter().find(|before| before.id == record.id);
                    replaced =
                        $crate::store::sql::replace_token!($db, "", before, record, $instant);
                    replaced.build()
                }
                Write::Delete(id) => sqlx::query(spelled(
                    "DELETE FROM tokenkeep_tokens WHERE id = $1 AND owner = $2",
                ))
                .bind(id.as_bytes().as_slice())
                .bind(owner),
                // Removed, then written again unless empty: one statement
                // pair both dialects take, under the owner's lock.
                Write::OwnerLimits(limits) => {
                    sqlx::query(spelled("DELETE FROM tokenkeep_owner_limits WHERE owner = $1"))
                        .bind(owner)
                        .execute(&mut *$tx)
                        .await
                        .map_err(backend_error)?;
                    if limits.is_empty() {
                        continue;
                    }
                    sqlx::query(spelled(
                        "INSERT INTO tokenkeep_owner_limits (owner, limits) VALUES ($1, $2)",
                    ))
                    .bind(owner)
                    .bind($crate::store::sql::encode_json(limits)?)
                }
            };
            let result = written.execute(&mut *$tx).await.map_err(backend_error)?;
            if matches!(write, Write::Replace(_)) && result.rows_affected() == 0 {
                return Err(StoreError::unavailable(
                    "a replace names a record that is not stored with its owner and hash",
                ));
            }
        }
        if !<$dialect as Dialect>::INSERT_MARKS_HELD
            && changes.writes.iter().any(|write| matches!(write, Write::Insert(_)))
        {
            sqlx::query(<$dialect as Dialect>::MARK_EVER_HELD)
                .execute(&mut *$tx)
                .await
                .map_err(backend_error)?;
        }
        (changes, read)
    }};
}

/// PostgreSQL's and SQLite's marker statement (see [`Dialect::MARK_EVER_HELD`]).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! mark_ever_held {
    () => {
        "INSERT INTO tokenkeep_meta (key, value) VALUES ('ever_held', '1') ON CONFLICT DO NOTHING"
    };
}

/// How a backend spells the statements the SQL stores share, which are
/// written for PostgreSQL and SQLite (`$N` placeholders, each used once and
/// in order; `"usage"` quoted as the standard quotes an identifier).
pub(crate) trait Dialect {
    /// A statement as the backend takes it.
    type Statement: sqlx::SqlSafeStr;
    /// Spells a shared statement.
    fn statement(shared: &'static str) -> Self::Statement;
    /// Marks the store as having held a token; affects no row when it has.
    const MARK_EVER_HELD: &'static str;
    /// Writes an inserted record, its columns bound by `bind_record!`.
    const INSERT_RECORD: &'static str = insert_record!();
    /// Whether `INSERT_RECORD` also marks the store as having held a token,
    /// so that a change does not mark it apart.
    const INSERT_MARKS_HELD: bool = false;
}

/// PostgreSQL's and SQLite's: the statements as written.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) struct AsWritten;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl Dialect for AsWritten {
    type Statement = &'static str;

    fn statement(shared: &'static str) -> &'static str {
        shared
    }

    const MARK_EVER_HELD: &'static str = mark_ever_held!();
}

/// Each column a change may decide on (every one but the keys `id`,
/// `owner`, `hash`, and `last_used_at`, which only its own notes move),
/// with the value bound for it from `$record`: `$each!(args…, column,
/// (field path), value)` for each, so the statements that set columns and those
/// that compare them share one list. A value is computed only where
/// `$each` uses it.
macro_rules! each_column {
    ($each:ident!($($args:tt)*), $record:expr, $instant:expr) => {{
        use $crate::store::sql::{encode_ranges, encode_scopes, encode_usage, kind_text};
        $each!($($args)*, "name", (name), $record.name.as_str());
        $each!($($args)*, "description", (extras.description), &$record.extras.description);
        $each!($($args)*, "display_prefix", (display_prefix), &$record.display_prefix);
        $each!($($args)*, "scopes", (scopes), encode_scopes(&$record.scopes)?);
        $each!($($args)*, "profile", (extras.profile), &$record.extras.profile);
        $each!($($args)*, "kind", (kind), kind_text($record.kind));
        $each!($($args)*, "created_at", (created_at), $instant($record.created_at));
        $each!($($args)*, "expires_at", (expires_at), $record.expires_at.map($instant));
        $each!($($args)*, "revoked_at", (revoked_at), $record.revoked_at.map($instant));
        $each!(
            $($args)*,
            "replaced_by",
            (extras.replaced_by),
            $record.extras.replaced_by.as_ref().map(|id| id.as_bytes().to_vec())
        );
        $each!($($args)*, "created_by", (created_by), &$record.created_by);
        $each!($($args)*, "revoked_by", (extras.revoked_by), &$record.extras.revoked_by);
        $each!(
            $($args)*,
            "revoke_reason",
            (extras.revoke_reason),
            $record.extras.revoke_reason.map($crate::record::RevokeReason::as_str)
        );
        $each!(
            $($args)*,
            "metadata",
            (extras.metadata),
            $record.extras.metadata.as_ref().map($crate::record::Metadata::to_json)
        );
        $each!($($args)*, "rate_limit", (extras.rate_limit), $record.extras.rate_limit.map(|l| l.to_string()));
        $each!($($args)*, "\"usage\"", (extras.usage), $record.extras.usage.as_ref().map(encode_usage).transpose()?);
        $each!($($args)*, "allowed_ips", (extras.allowed_ips), encode_ranges(&$record.extras.allowed_ips));
        $each!(
            $($args)*,
            "owner_limits",
            (extras.owner_limits),
            $record.extras.owner_limits.as_ref().map($crate::store::sql::encode_json).transpose()?
        );
    }};
}

/// Sets `$column` where `$after` differs from `$before` (the record as the
/// change read it; `None`: not read, so every column is set).
macro_rules! set_if_changed {
    ($set:ident, $before:ident, $after:ident, $column:literal, ($($field:tt)+), $value:expr) => {
        if $before.is_none_or(|before| before.$($field)+ != $after.$($field)+) {
            $set.push(concat!($column, " = ")).push_bind_unseparated($value);
        }
    };
}

/// Narrows a statement's `WHERE` to a row whose `$column` holds `$value`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! where_unchanged {
    ($builder:ident, $column:literal, ($($field:tt)+), $value:expr) => {
        $builder.push(concat!(" AND ", $column, " IS NOT DISTINCT FROM ")).push_bind($value);
    };
}

/// The `UPDATE` of a replace: only the columns in which `$after` differs
/// from `$before`, the record as this change read it (every column when
/// it read none). A revoke sets its three columns, not the whole row,
/// so the indexes on the columns it leaves alone are not touched. The row
/// is selected by id, owner and hash, so a replace that moves a record's
/// owner or hash finds no row. `last_used_at` is never written: only
/// last-use notes move it, whatever the plan's copy says. `$db` is the backend, whose
/// placeholders the builder writes; `$lead` goes before the `UPDATE` (a
/// common table expression opening around it), and the caller may go on
/// after its `WHERE`.
macro_rules! replace_token {
    ($db:ty, $lead:literal, $before:expr, $after:expr, $instant:expr) => {{
        use $crate::store::sql::{each_column, set_if_changed};
        let before: Option<&$crate::record::TokenRecord> = $before;
        let after: &$crate::record::TokenRecord = $after;
        let instant = $instant;
        // `id = id` leads the list, so a replace that changes nothing is
        // still a statement that finds its row.
        let mut builder =
            sqlx::QueryBuilder::<$db>::new(concat!($lead, "UPDATE tokenkeep_tokens SET "));
        let mut set = builder.separated(", ");
        set.push("id = id");
        each_column!(set_if_changed!(set, before, after), after, instant);
        builder
            .push(" WHERE id = ")
            .push_bind(after.id.as_bytes().as_slice())
            .push(" AND owner = ")
            .push_bind(&after.owner)
            .push(" AND hash = ")
            .push_bind(after.hash.as_bytes().as_slice());
        builder
    }};
}

/// A change planned on the records as the caller saw them (see
/// [`ChangeScope::seen`](crate::store::ChangeScope::seen)), without a read:
/// when they are every record the scope names (it names no hash and reads
/// no active records), and the plan writes exactly one of them back.
/// Evaluates to `Some((changes, update))`, the `UPDATE` (after `$lead`)
/// finding its row only where the row is, in every column but the last
/// use, still as seen, for the caller to finish and run: the change is
/// made when it writes one row. `None` otherwise: a plan that refuses or
/// writes nothing on a hint proves nothing, the record may have moved.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! plan_as_seen {
    ($db:ty, $lead:literal, $scope:expr, $plan:expr, $instant:expr) => {{
        use $crate::store::sql::{each_column, replace_token, where_unchanged};
        use $crate::store::{ActiveRecords, OwnerRecords, Write};
        let scope: &$crate::store::ChangeScope = $scope;
        let instant = $instant;
        let seen = |id: &$crate::record::TokenId| {
            scope.seen.iter().find(|record| record.id == *id && record.owner == scope.owner)
        };
        let applies = matches!(scope.active, ActiveRecords::Unread)
            && !scope.owner_limits
            && scope.hashes.is_empty()
            && !scope.ids.is_empty()
            && scope.ids.iter().all(|id| seen(id).is_some());
        // Nothing is copied for a change the hint cannot serve.
        let read = applies.then(|| OwnerRecords {
            owner: scope.owner.clone(),
            records: scope.ids.iter().filter_map(seen).cloned().collect(),
            limits: None,
        });
        let planned = read.map(|read| (($plan)(&read), read));
        match planned {
            Some((Ok(changes), read)) => {
                match (changes.writes.as_slice(), changes.only_if_never_held) {
                    ([Write::Replace(after)], false) => match read.find(&after.id) {
                        Some(before) => {
                            let mut update =
                                replace_token!($db, $lead, Some(before), after, instant);
                            each_column!(where_unchanged!(update), before, instant);
                            Some((changes, update))
                        }
                        None => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }};
}

/// The records `select_tokens!` finds under `[$where]` with `$binds`, decoded by
/// `$decode`, the statement spelled by `$dialect`: the reads every SQL
/// store makes alike. `fetch_records!(one: …)` answers the first or `None`.
macro_rules! fetch_records {
    ($dialect:ty, $pool:expr, $decode:expr, [$($where:tt)+] $(, $bind:expr)* $(,)?) => {{
        use $crate::store::sql::{Dialect, backend_error, select_tokens};
        sqlx::query(<$dialect as Dialect>::statement(select_tokens!($($where)+)))
            $(.bind($bind))*
            .fetch_all($pool)
            .await
            .map_err(backend_error)?
            .iter()
            .map($decode)
            .collect::<Result<Vec<$crate::record::TokenRecord>, StoreError>>()
    }};
    (one: $dialect:ty, $pool:expr, $decode:expr, [$($where:tt)+] $(, $bind:expr)* $(,)?) => {{
        use $crate::store::sql::{Dialect, backend_error, select_tokens};
        sqlx::query(<$dialect as Dialect>::statement(select_tokens!($($where)+)))
            $(.bind($bind))*
            .fetch_optional($pool)
            .await
            .map_err(backend_error)?
            .as_ref()
            .map($decode)
            .transpose()
    }};
}

/// The `WHERE` of `list_expiring`: the active tokens expiring after `$1`
/// and at or before `$2`, soonest first (then by id).
macro_rules! expiring_between {
    () => {
        "WHERE revoked_at IS NULL AND expires_at IS NOT NULL \
         AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at, id"
    };
}

/// The `WHERE` of `list`: the owner's records (`$1` and `$2` the owner,
/// or `NULL` for everyone's), inactive ones too when `$3`, judged at `$4`;
/// oldest first (then by id).
macro_rules! listed {
    () => {
        "WHERE ($1 IS NULL OR owner = $2) \
         AND ($3 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4))) \
         ORDER BY created_at, id"
    };
}

/// Whether any record's display prefix does not start with `$prefix` and
/// `_`: the answer to `may_hold_custom_secrets` every SQL store gives
/// alike, the statement spelled by `$dialect`.
macro_rules! holds_text_outside {
    ($dialect:ty, $pool:expr, $prefix:expr) => {{
        use $crate::store::sql::{Dialect, backend_error};
        let in_format = format!("{}_", $prefix.as_str());
        let length = i32::try_from(in_format.chars().count()).unwrap_or(i32::MAX);
        let statement = "SELECT COUNT(*) FROM (SELECT 1 FROM tokenkeep_tokens \
                         WHERE substr(display_prefix, 1, $1) <> $2 LIMIT 1) AS outside";
        sqlx::query_scalar::<_, i64>(<$dialect as Dialect>::statement(statement))
            .bind(length)
            .bind(in_format)
            .fetch_one($pool)
            .await
            .map(|found| found > 0)
            .map_err(backend_error)
    }};
}

pub(crate) use {
    bind_record, each_column, expiring_between, fetch_records, holds_text_outside, insert_record,
    insert_token, listed, replace_token, run_change, select_tokens, set_if_changed, token_columns,
};
// Only PostgreSQL and SQLite plan on the caller's read; MySQL always reads.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use {mark_ever_held, plan_as_seen, where_unchanged};

/// The table that records applied migrations; its own name, so it never
/// collides with the application's `_sqlx_migrations`.
const MIGRATIONS_TABLE: &str = "tokenkeep_migrations";

/// Builds the migrator for one backend from its embedded scripts, in
/// version order. A later release appends scripts; applied ones never change.
pub(crate) fn migrator(scripts: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = scripts
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// A backend failure, except a unique violation (id or hash), which the
/// contract calls a duplicate.
pub(crate) fn backend_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
        _ => StoreError::unavailable(error),
    }
}

pub(crate) fn migrate_error(error: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::unavailable(error)
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::unavailable(format!("corrupt token record in the database: bad {what}"))
}

/// Address ranges as their column holds them: comma-separated, or NULL
/// for none.
pub(crate) fn encode_ranges(ranges: &[crate::record::IpNet]) -> Option<String> {
    (!ranges.is_empty())
        .then(|| ranges.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
}

fn decode_ranges(text: &str) -> Result<Vec<crate::record::IpNet>, StoreError> {
    text.split(',').map(|range| range.parse().map_err(|_| corrupt("allowed_ips"))).collect()
}

/// A usage limit as the JSON text of its column.
pub(crate) fn encode_usage(usage: &crate::record::Usage) -> Result<String, StoreError> {
    encode_json(usage)
}

/// A value as the JSON text of its column.
pub(crate) fn encode_json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::unavailable)
}

pub(crate) fn encode_scopes(scopes: &Scopes) -> Result<String, StoreError> {
    serde_json::to_string(scopes).map_err(StoreError::unavailable)
}

pub(crate) fn kind_text(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Persistent => "persistent",
        TokenKind::Temporary => "temporary",
    }
}

/// Decodes one row of `select_tokens!`; `instant` turns the backend's time type
/// into a UTC instant.
pub(crate) fn decode_record<'r, R, T>(
    row: &'r R,
    instant: impl Fn(T) -> Result<OffsetDateTime, StoreError>,
) -> Result<TokenRecord, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    T: Decode<'r, R::Database> + Type<R::Database>,
    Option<T>: Decode<'r, R::Database> + Type<R::Database>,
{
    let get_err = |column: &'static str| move |_| corrupt(column);
    let optional_instant = |column: &'static str| -> Result<Option<OffsetDateTime>, StoreError> {
        row.try_get::<Option<T>, _>(column).map_err(get_err(column))?.map(&instant).transpose()
    };
    let id: Vec<u8> = row.try_get("id").map_err(get_err("id"))?;
    let hash: Vec<u8> = row.try_get("hash").map_err(get_err("hash"))?;
    let name: String = row.try_get("name").map_err(get_err("name"))?;
    let scopes: String = row.try_get("scopes").map_err(get_err("scopes"))?;
    let kind: String = row.try_get("kind").map_err(get_err("kind"))?;
    let replaced_by: Option<Vec<u8>> =
        row.try_get("replaced_by").map_err(get_err("replaced_by"))?;
    let metadata: Option<String> = row.try_get("metadata").map_err(get_err("metadata"))?;
    let usage: Option<String> = row.try_get("usage").map_err(get_err("usage"))?;
    let allowed_ips: Option<String> = row.try_get("allowed_ips").map_err(get_err("allowed_ips"))?;
    let rate_limit: Option<String> = row.try_get("rate_limit").map_err(get_err("rate_limit"))?;
    let owner_limits: Option<String> =
        row.try_get("owner_limits").map_err(get_err("owner_limits"))?;
    let revoke_reason: Option<String> =
        row.try_get("revoke_reason").map_err(get_err("revoke_reason"))?;
    let extras = ExtraFields {
        description: row.try_get("description").map_err(get_err("description"))?,
        profile: row.try_get("profile").map_err(get_err("profile"))?,
        replaced_by: replaced_by.map(token_id).transpose()?,
        revoked_by: row.try_get("revoked_by").map_err(get_err("revoked_by"))?,
        revoke_reason: revoke_reason
            .map(|text| RevokeReason::parse(&text).ok_or_else(|| corrupt("revoke_reason")))
            .transpose()?,
        metadata: metadata
            .map(|text| Metadata::parse(&text).map_err(|_| corrupt("metadata")))
            .transpose()?,
        rate_limit: rate_limit
            .map(|text| text.parse().map_err(|_| corrupt("rate_limit")))
            .transpose()?,
        usage: usage
            .map(|text| serde_json::from_str(&text).map_err(|_| corrupt("usage")))
            .transpose()?,
        allowed_ips: allowed_ips.as_deref().map(decode_ranges).transpose()?.unwrap_or_default(),
        owner_limits: owner_limits
            .map(|text| serde_json::from_str(&text).map_err(|_| corrupt("owner_limits")))
            .transpose()?,
    };
    Ok(TokenRecord {
        id: token_id(id)?,
        owner: row.try_get("owner").map_err(get_err("owner"))?,
        name: TokenName::try_from(name).map_err(|_| corrupt("name"))?,
        hash: TokenHash::from_bytes(hash.try_into().map_err(|_| corrupt("hash"))?),
        display_prefix: row.try_get("display_prefix").map_err(get_err("display_prefix"))?,
        scopes: serde_json::from_str(&scopes).map_err(|_| corrupt("scopes"))?,
        kind: match kind.as_str() {
            "persistent" => TokenKind::Persistent,
            "temporary" => TokenKind::Temporary,
            _ => return Err(corrupt("kind")),
        },
        created_at: instant(row.try_get("created_at").map_err(get_err("created_at"))?)?,
        expires_at: optional_instant("expires_at")?,
        last_used_at: optional_instant("last_used_at")?,
        revoked_at: optional_instant("revoked_at")?,
        created_by: row.try_get("created_by").map_err(get_err("created_by"))?,
        extras: extras.into(),
    })
}

/// Decodes a `limits` column: a `tokenkeep_owner_limits` row's, or what
/// a statement that reads an owner's limits answered (NULL: none).
pub(crate) fn decode_owner_limits<'r, R>(row: &'r R) -> Result<Option<OwnerLimits>, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let text: Option<String> = row.try_get("limits").map_err(|_| corrupt("owner limits"))?;
    text.map(|text| serde_json::from_str(&text).map_err(|_| corrupt("owner limits"))).transpose()
}

fn token_id(bytes: Vec<u8>) -> Result<TokenId, StoreError> {
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| corrupt("id"))?;
    Ok(TokenId::from_bytes(bytes))
}
