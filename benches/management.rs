//! Throughput on each SQL backend (SQLite, PostgreSQL, MySQL/MariaDB),
//! with 10,000 and with 1,000,000 tokens already stored (1,000 imported
//! through the rules, whose plaintext the bench keeps to verify, and the
//! rest filler rows one SQL statement writes): tokens issued and
//! revoked per second, one client, one operation at a time, each durable
//! when it returns (SQLite's `synchronous=FULL`, the servers' commit), so
//! bounded by the disk's flush and the round trip, not by tokenkeep; and
//! verifications per second straight from the store (no cache: every one
//! a lookup), from one client and from 16 at once. Then the round trip of
//! an uncached lookup on each (the cold path).
//!
//! ```sh
//! TOKENKEEP_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! TOKENKEEP_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//!   cargo bench --features sqlite,postgres,mysql,management --bench management
//! TOKENKEEP_BENCH_SIZES=10000 cargo bench …   # the small store only
//! ```

mod common;

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokenkeep::rules::TokenRules as _;
use tokenkeep::store::sqlx;
use tokenkeep::store::sqlx::mysql::MySqlConnectOptions;
use tokenkeep::store::sqlx::postgres::PgConnectOptions;
use tokenkeep::store::{ManageStore, MysqlStore, PostgresStore, SqliteStore};
use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager, TokenRecord, TokenRef};

/// Operations timed per store and size.
const OPERATIONS: usize = 500;

/// Verifications timed per store, size and number of clients.
const VERIFICATIONS: usize = 4_000;

fn manager(store: Arc<dyn ManageStore>) -> TokenManager {
    TokenManager::builder(store, Prefix::new("tk").expect("prefix"))
        .max_active_per_owner(None)
        .build()
        .expect("service")
}

/// Issues, then revokes, `OPERATIONS` tokens one at a time; per second.
async fn measure(manager: &TokenManager) -> (f64, f64) {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(OPERATIONS);
    for index in 0..OPERATIONS {
        let request = IssueRequest::new("bench-owner", format!("measured-{index:05}"));
        let issued = manager.issue(&Actor::Admin, request).await.expect("issue");
        ids.push(issued.record.id);
    }
    let issue = OPERATIONS as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for id in ids {
        manager.revoke(&Actor::Admin, &TokenRef::id(id)).await.expect("revoke");
    }
    let revoke = OPERATIONS as f64 / started.elapsed().as_secs_f64();
    (issue, revoke)
}

/// Verifications per second of `sample` tokens (in turn) by `clients`
/// clients at once, each verification a lookup in the store.
async fn verify_rate(manager: &TokenManager, sample: &Arc<Vec<String>>, clients: usize) -> f64 {
    let started = Instant::now();
    let each = VERIFICATIONS / clients;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (service, sample) = (manager.service().clone(), Arc::clone(sample));
            tokio::spawn(async move {
                for index in 0..each {
                    let token = &sample[(client * each + index) % sample.len()];
                    service.verify_token(token, Requirement::None).await.expect("verifies");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client");
    }
    (each * clients) as f64 / started.elapsed().as_secs_f64()
}

fn sqlite_directory(size: usize) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tokenkeep-manage-{}-{size}", std::process::id()))
}

fn schema(size: usize) -> String {
    format!("tokenkeep_manage_{}_{size}", std::process::id())
}

fn database(size: usize) -> String {
    format!("tokenkeep_manage_{}_{size}", std::process::id())
}

/// Runs `statement` on the database server the environment variable
/// `url_variable` names; `None` when it names none or the statement fails.
async fn run_admin<DB: sqlx::Database>(url_variable: &str, statement: String) -> Option<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let url = std::env::var(url_variable).ok()?;
    let admin = sqlx::Pool::<DB>::connect(&url).await.ok()?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&admin).await.ok()?;
    Some(())
}

async fn run_mysql(statement: String) -> Option<()> {
    run_admin::<sqlx::MySql>("TOKENKEEP_MYSQL_URL", statement).await
}

async fn run_sql(statement: String) -> Option<()> {
    run_admin::<sqlx::Postgres>("TOKENKEEP_POSTGRES_URL", statement).await
}

/// The scopes a filler row carries.
const FILLER_SCOPES: &str = r#"{"manager":false,"abilities":[],"routes":[]}"#;

/// How many filler rows make a store of `size` beside the `sampled`
/// records, which are imported through the rules (their plaintext is
/// kept, to verify). The filler rows (`filler{n % 1000}`'s `filler-{n}`,
/// random ids and hashes) are written by one SQL statement: the table and
/// its indexes as large as `size` tokens make them, without the wait of a
/// million imports.
fn fillers(size: usize, sampled: &[TokenRecord]) -> usize {
    size.saturating_sub(sampled.len())
}

/// Now, in milliseconds since the epoch: how SQLite stores instants.
fn now_millis() -> i64 {
    let nanos = tokenkeep::time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

async fn sqlite(size: usize, sampled: Vec<TokenRecord>) -> Option<Arc<dyn ManageStore>> {
    let store = SqliteStore::open(sqlite_directory(size).join("manage.db")).await.ok()?;
    store.migrate().await.ok()?;
    store.import(sampled.clone(), common::no_cap()).await.ok()?;
    let count = fillers(size, &sampled);
    let fill = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
         INSERT INTO tokenkeep_tokens \
         (id, owner, name, hash, display_prefix, scopes, kind, created_at) \
         SELECT randomblob(16), 'filler' || (i % 1000), 'filler-' || i, randomblob(32), \
         'tk_filler', '{FILLER_SCOPES}', 'persistent', {now} FROM n",
        now = now_millis()
    );
    if count > 0 {
        let fill = sqlx::AssertSqlSafe(fill);
        sqlx::raw_sql(fill).execute(store.pool()).await.ok()?;
    }
    Some(Arc::new(store))
}

async fn postgres(size: usize, sampled: Vec<TokenRecord>) -> Option<Arc<dyn ManageStore>> {
    let url = std::env::var("TOKENKEEP_POSTGRES_URL").ok()?;
    let schema = schema(size);
    run_sql(format!("CREATE SCHEMA {schema}")).await?;
    let options =
        PgConnectOptions::from_str(&url).ok()?.options([("search_path", schema.as_str())]);
    let store = PostgresStore::connect_with(options).await.ok()?;
    store.migrate().await.ok()?;
    store.import(sampled.clone(), common::no_cap()).await.ok()?;
    let count = fillers(size, &sampled);
    let fill = format!(
        "INSERT INTO {schema}.tokenkeep_tokens \
         (id, owner, name, hash, display_prefix, scopes, kind, created_at) \
         SELECT decode(md5(i::text), 'hex'), 'filler' || (i % 1000), 'filler-' || i, \
         sha256(('filler' || i)::bytea), 'tk_filler', '{FILLER_SCOPES}', 'persistent', now() \
         FROM generate_series(1, {count}) AS i; ANALYZE {schema}.tokenkeep_tokens",
    );
    if count > 0 {
        run_sql(fill).await?;
    }
    Some(Arc::new(store))
}

async fn mysql(size: usize, sampled: Vec<TokenRecord>) -> Option<Arc<dyn ManageStore>> {
    let url = std::env::var("TOKENKEEP_MYSQL_URL").ok()?;
    let database = database(size);
    run_mysql(format!("CREATE DATABASE {database}")).await?;
    let options = MySqlConnectOptions::from_str(&url).ok()?.database(&database);
    let store = MysqlStore::connect_with(options).await.ok()?;
    store.migrate().await.ok()?;
    store.import(sampled.clone(), common::no_cap()).await.ok()?;
    let count = fillers(size, &sampled);
    let fill = format!(
        "INSERT INTO {database}.tokenkeep_tokens \
         (id, owner, name, hash, display_prefix, scopes, kind, created_at) \
         SELECT UNHEX(MD5(seq)), CONCAT('filler', seq % 1000), CONCAT('filler-', seq), \
         UNHEX(SHA2(CONCAT('filler', seq), 256)), 'tk_filler', '{FILLER_SCOPES}', \
         'persistent', UTC_TIMESTAMP(6) FROM seq_1_to_{count}; \
         ANALYZE TABLE {database}.tokenkeep_tokens",
    );
    if count > 0 {
        run_mysql(fill).await?;
    }
    Some(Arc::new(store))
}

#[tokio::main]
async fn main() {
    let sizes = std::env::var("TOKENKEEP_BENCH_SIZES")
        .ok()
        .map(|text| text.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 1_000_000]);
    println!(
        "\n| store | tokens stored | issued per second | revoked per second | verified per second, 1 client | 16 clients |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    // The tokens verified: 1,000 imported through the rules, the rest filler.
    let population = common::population(1_000, 1_000);
    let sample = Arc::new(population.sample);
    let sampled = population.records;
    for &size in &sizes {
        for name in ["SQLite", "PostgreSQL", "MariaDB"] {
            let store = match name {
                "SQLite" => sqlite(size, sampled.clone()).await,
                "PostgreSQL" => postgres(size, sampled.clone()).await,
                _ => mysql(size, sampled.clone()).await,
            };
            let Some(store) = store else {
                println!("| {name} | {size} | skipped (not reachable) | | | |");
                continue;
            };
            let manager = manager(store);
            let one = verify_rate(&manager, &sample, 1).await;
            let many = verify_rate(&manager, &sample, 16).await;
            let (issue, revoke) = measure(&manager).await;
            println!("| {name} | {size} | {issue:.0} | {revoke:.0} | {one:.0} | {many:.0} |");
            drop(manager);
            let _ = std::fs::remove_dir_all(sqlite_directory(size));
            let _ = run_sql(format!("DROP SCHEMA {} CASCADE", schema(size))).await;
            let _ = run_mysql(format!("DROP DATABASE {}", database(size))).await;
        }
    }
    cold_path().await;
}

/// The median of `ROUND_TRIPS` runs of `call`.
async fn median_of<F: std::future::Future>(mut call: impl FnMut() -> F) -> Duration {
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let started = Instant::now();
        call().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Lookups timed for the cold path.
const ROUND_TRIPS: usize = 2_000;

/// An uncached lookup's round trip, next to the driver's own `SELECT 1`.
async fn cold_path() {
    println!("\n| store, 1,000 tokens | `SELECT 1` | `find_by_hash` |");
    println!("| --- | ---: | ---: |");
    let population = common::population(1_000, 1_000);
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    let hashes: Vec<_> = population.sample.iter().map(|token| hasher.hash(token)).collect();
    for name in ["SQLite", "PostgreSQL"] {
        let size = population.records.len();
        let records = population.records.clone();
        let (store, pool_select): (Option<Arc<dyn ManageStore>>, _) = match name {
            "SQLite" => (sqlite(size, records).await, None),
            _ => (postgres(size, records).await, std::env::var("TOKENKEEP_POSTGRES_URL").ok()),
        };
        let Some(store) = store else {
            println!("| {name} | skipped | |");
            continue;
        };
        let select = match pool_select {
            Some(url) => {
                let pool = sqlx::PgPool::connect(&url).await.expect("pool");
                let took = median_of(|| async {
                    sqlx::query("SELECT 1").fetch_one(&pool).await.expect("select");
                })
                .await;
                format!("{took:.1?}")
            }
            None => {
                let path = sqlite_directory(size).join("manage.db");
                let sqlite = SqliteStore::open(path).await.expect("sqlite");
                let took = median_of(|| async {
                    sqlx::query("SELECT 1").fetch_one(sqlite.pool()).await.expect("select");
                })
                .await;
                format!("{took:.1?}")
            }
        };
        let mut index = 0;
        let find = median_of(|| {
            index = (index + 1) % hashes.len();
            let store = Arc::clone(&store);
            let hash = hashes[index];
            async move {
                store.find_by_hash(&hash).await.expect("lookup");
            }
        })
        .await;
        println!("| {name} | {select} | {find:.1?} |");
        let _ = std::fs::remove_dir_all(sqlite_directory(size));
        let _ = run_sql(format!("DROP SCHEMA {} CASCADE", schema(size))).await;
    }
}
