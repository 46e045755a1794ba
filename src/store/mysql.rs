//! [`MysqlStore`]: one MySQL or MariaDB database shared by many service
//! instances.

mod feed;

pub use feed::ChangeFeedPoller;

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{AssertSqlSafe, Executor as _, MySql, QueryBuilder, Transaction};
use time::OffsetDateTime;

use super::sql::{self, Dialect, backend_error, decode_record, run_change};
use super::{
    ChangeScope, Changes, LastUse, ListQuery, ManageStore, Plan, StoreError, TokenStore, Write,
};
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// The schema, embedded: `(version, description, script)`.
const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "create tokens", include_str!("../../migrations/mysql/0001_create_tokens.sql"))];

/// How often a change that lost a deadlock is tried again before the
/// store answers "unavailable".
const DEADLOCK_RETRIES: usize = 10;

/// Keeps tokens in MySQL (8.0 or later) or MariaDB (10.6 or later), for
/// many service instances sharing one database.
///
/// Every change first locks its owner's row in `tokenkeep_owners` (one
/// `INSERT … ON DUPLICATE KEY UPDATE`, held to the commit), then reads
/// with `FOR UPDATE`: the changes of one owner queue across every
/// instance, and the changes of different owners never wait for each
/// other. Sessions run at `READ COMMITTED`, so a locking read takes no gap
/// locks, and a change that loses a deadlock all the same is run again.
/// Text compares byte for byte, as on the other backends.
///
/// MySQL has no `LISTEN`: each change also writes the hashes it touched to
/// a change feed (`tokenkeep_changes`), which each instance's cache polls
/// ([`CachedStore::poll_changes`](super::CachedStore::poll_changes)).
///
/// ```no_run
/// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
/// let store = tokenkeep::store::MysqlStore::connect("mysql://app@db.internal/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MysqlStore {
    pool: MySqlPool,
}

impl MysqlStore {
    /// Connects to a `mysql://` (or `mariadb://`) URL.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a bad URL or an unreachable server.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let url = url
            .strip_prefix("mariadb://")
            .map_or_else(|| url.to_owned(), |rest| format!("mysql://{rest}"));
        Self::connect_with(MySqlConnectOptions::from_str(&url).map_err(backend_error)?).await
    }

    /// Connects with your own options (TLS, a socket, …). Each connection
    /// is set to `ANSI_QUOTES` and `READ COMMITTED`, which the store's
    /// statements rely on.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn connect_with(options: MySqlConnectOptions) -> Result<Self, StoreError> {
        let options = options.charset("utf8mb4").timezone(Some("+00:00".to_owned()));
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    connection
                        .execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
                        .await?;
                    connection
                        .execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(backend_error)?;
        Ok(Self { pool })
    }

    /// The connection pool, for your own queries.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Creates or updates tokenkeep's tables in the connection's database;
    /// safe to run from several instances at once. Applied migrations are
    /// recorded in `tokenkeep_migrations`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sql::migrator(MIGRATIONS).run(&self.pool).await.map_err(sql::migrate_error)
    }

    /// One try of a change: the owner's lock, the shared change, the feed.
    async fn change_once(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend_error)?;
        sqlx::query(
            "INSERT INTO tokenkeep_owners (owner, changes) VALUES (?, 1) \
             ON DUPLICATE KEY UPDATE changes = changes + 1",
        )
        .bind(&scope.owner)
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        let (changes, read) =
            run_change!(MySql, Positional, tx, scope, plan, instant, decode, " FOR UPDATE", None);
        let touched: Vec<TokenHash> = changes
            .writes
            .iter()
            .filter_map(|write| match write {
                Write::Insert(record) | Write::Replace(record) => Some(record.hash),
                Write::Delete(id) => read.find(id).map(|record| record.hash),
                _ => None,
            })
            .collect();
        announce(&mut tx, &touched).await?;
        tx.commit().await.map_err(backend_error)?;
        Ok(changes)
    }
}

/// Writes `hashes` to the change feed, in the transaction that changed
/// them: last, so the number they get is taken just before the commit.
async fn announce(tx: &mut Transaction<'_, MySql>, hashes: &[TokenHash]) -> Result<(), StoreError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<MySql>::new("INSERT INTO tokenkeep_changes (hash) ");
    insert.push_values(hashes, |mut row, hash| {
        row.push_bind(hash.as_bytes().to_vec());
    });
    insert.build().execute(&mut **tx).await.map_err(backend_error)?;
    Ok(())
}

/// MySQL's spelling of the shared statements: `?` for each `$N` (each is
/// used once, in order); `"usage"` stands as written under `ANSI_QUOTES`.
pub(crate) struct Positional;

impl Dialect for Positional {
    type Statement = AssertSqlSafe<String>;

    fn statement(shared: &'static str) -> AssertSqlSafe<String> {
        let mut spelled = String::with_capacity(shared.len());
        let mut chars = shared.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.next_if(char::is_ascii_digit).is_some() {}
                spelled.push('?');
            } else {
                spelled.push(c);
            }
        }
        AssertSqlSafe(spelled)
    }

    const MARK_EVER_HELD: &'static str =
        "INSERT IGNORE INTO tokenkeep_meta (\"key\", value) VALUES ('ever_held', '1')";
}

fn instant(at: OffsetDateTime) -> OffsetDateTime {
    at
}

fn decode(row: &MySqlRow) -> Result<TokenRecord, StoreError> {
    decode_record::<_, OffsetDateTime>(row, Ok)
}

/// Whether `error` is a deadlock InnoDB broke by rolling this change back
/// (SQLSTATE 40001), after which the change may simply run again.
fn lost_a_deadlock(error: &StoreError) -> bool {
    let StoreError::Unavailable(source) = error else {
        return false;
    };
    match source.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(database)) => database.code().as_deref() == Some("40001"),
        _ => false,
    }
}

#[async_trait]
impl TokenStore for MysqlStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let found = sql::fetch_records!(one: Positional, &self.pool, decode, ["WHERE hash = $1"], hash.as_bytes().as_slice());
        Ok(found?.map(Arc::new))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        sql::fetch_records!(one: Positional, &self.pool, decode, ["WHERE id = $1"], id.as_bytes().as_slice())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let (owner, inactive, now) = (&query.owner, query.include_inactive, query.now);
        sql::fetch_records!(
            Positional,
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
        sql::fetch_records!(Positional, &self.pool, decode, [sql::expiring_between!()], now, before)
    }

    /// One statement a note, each committed on its own: a note holds no
    /// lock while it waits for another, so notes never deadlock a change.
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        for used in uses {
            sqlx::query(
                "UPDATE tokenkeep_tokens SET last_used_at = ? \
                 WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
            )
            .bind(used.at)
            .bind(used.id.as_bytes().as_slice())
            .bind(used.at)
            .execute(&self.pool)
            .await
            .map_err(backend_error)?;
        }
        Ok(())
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        sql::holds_text_outside!(Positional, &self.pool, prefix)
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        let held: i64 = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tokenkeep_meta WHERE \"key\" = 'ever_held')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(backend_error)?;
        Ok(held != 0)
    }
}

/// Every change is one transaction holding its owner's row lock from
/// before the read to the commit (see [`MysqlStore`]); one that loses a
/// deadlock runs again, plan included.
#[async_trait]
impl ManageStore for MysqlStore {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let mut tries = 0;
        loop {
            match self.change_once(scope, plan).await {
                Err(error) if lost_a_deadlock(&error) && tries < DEADLOCK_RETRIES => tries += 1,
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dialect as _, Positional, backend_error, lost_a_deadlock};
    use sqlx::{Connection as _, Executor as _, MySqlConnection};

    /// Two transactions that each lock a row the other then wants: InnoDB
    /// rolls one back, and that error is told apart as a deadlock (a lost
    /// connection is not one). Skipped without a server at the variable's
    /// URL or the default.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deadlock_is_told_apart() {
        let url = std::env::var("TOKENKEEP_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
        let Ok(mut setup) = MySqlConnection::connect(&url).await else {
            assert!(std::env::var("TOKENKEEP_MYSQL_URL").is_err(), "no MySQL at {url}");
            return;
        };
        let table = format!("tokenkeep_deadlock_{}", std::process::id());
        let create = format!("CREATE TABLE {table} (id INT PRIMARY KEY) ENGINE = InnoDB");
        setup.execute(sqlx::AssertSqlSafe(create)).await.expect("table");
        let fill = format!("INSERT INTO {table} VALUES (1), (2)");
        setup.execute(sqlx::AssertSqlSafe(fill)).await.expect("rows");
        let lock = |id: u8| format!("UPDATE {table} SET id = id WHERE id = {id}");
        let (mut a, mut b) = (
            MySqlConnection::connect(&url).await.expect("a"),
            MySqlConnection::connect(&url).await.expect("b"),
        );
        for (connection, id) in [(&mut a, 1), (&mut b, 2)] {
            connection.execute("BEGIN").await.expect("begin");
            connection.execute(sqlx::AssertSqlSafe(lock(id))).await.expect("first lock");
        }
        let (crossed_a, crossed_b) = tokio::join!(
            a.execute(sqlx::AssertSqlSafe(lock(2))),
            b.execute(sqlx::AssertSqlSafe(lock(1)))
        );
        let lost = crossed_a.err().or(crossed_b.err()).expect("one of them loses");
        assert!(lost_a_deadlock(&backend_error(lost)), "a deadlock");
        assert!(!lost_a_deadlock(&backend_error(sqlx::Error::PoolTimedOut)));
        drop((a, b));
        let drop = format!("DROP TABLE {table}");
        setup.execute(sqlx::AssertSqlSafe(drop)).await.expect("drop");
    }

    #[test]
    fn placeholders_are_spelled_positionally() {
        let spelled = Positional::statement("SELECT \"usage\" FROM t WHERE a = $1 AND b > $12");
        assert_eq!(spelled.0, "SELECT \"usage\" FROM t WHERE a = ? AND b > ?");
    }
}
