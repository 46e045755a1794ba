//! How long a revoke on one instance takes to be seen by another instance's
//! verification cache: through PostgreSQL `LISTEN/NOTIFY`, and through
//! MySQL's change feed polled every 100 ms (the reference server's
//! default). Each backend: 200 revocations, each timed from the moment
//! `revoke` returned on instance A to the first refused verification on
//! instance B.
//!
//! ```sh
//! cargo bench --bench propagation --all-features
//! ```
//!
//! `TOKENKEEP_POSTGRES_URL` and `TOKENKEEP_MYSQL_URL` name the servers (the
//! local defaults otherwise; a backend without one says SKIPPED).
//! `TOKENKEEP_PROPAGATION_ROUNDS` sets the number of revocations (200 by
//! default): a run under load (BENCHMARKS.md) takes more, for its tail.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokenkeep::store::sqlx::mysql::MySqlConnectOptions;
use tokenkeep::store::sqlx::postgres::PgConnectOptions;
use tokenkeep::store::{CacheConfig, CachedStore, ManageStore, MysqlStore, PostgresStore, sqlx};
use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager, TokenRef};

/// Revocations timed, unless `TOKENKEEP_PROPAGATION_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 200;

/// How often instance B reads MySQL's change feed.
const FEED_POLL: Duration = Duration::from_millis(100);

/// A TTL far beyond the measurement: only an invalidation can explain a refusal.
const CONFIG: CacheConfig = CacheConfig { capacity: 10_000, ttl: Duration::from_secs(3_600) };

fn service(store: Arc<dyn ManageStore>) -> TokenManager {
    TokenManager::builder(store, Prefix::new("tk").expect("prefix"))
        .max_active_per_owner(None)
        .build()
        .expect("service")
}

fn url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() {
    let rounds = std::env::var("TOKENKEEP_PROPAGATION_ROUNDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS)
        .max(1);
    postgres(rounds).await;
    mysql(rounds).await;
}

async fn postgres(rounds: usize) {
    let url = url("TOKENKEEP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
    let schema = format!("tokenkeep_bench_{}", std::process::id());
    let admin = match sqlx::PgPool::connect(&url).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("SKIPPED: no PostgreSQL at {url}: {error}");
            return;
        }
    };
    let create = format!("CREATE SCHEMA {schema}");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&admin).await.expect("schema");
    let options =
        PgConnectOptions::from_str(&url).expect("url").options([("search_path", schema.as_str())]);
    let a = PostgresStore::connect_with(options.clone()).await.expect("instance A");
    a.migrate().await.expect("migrate");
    let b =
        CachedStore::new(PostgresStore::connect_with(options).await.expect("instance B"), CONFIG);
    let _listener = b.listen_for_invalidations().await.expect("listen");
    let (first, second) = (service(Arc::new(CachedStore::new(a, CONFIG))), service(Arc::new(b)));
    report("propagation", &measure(&first, &second, rounds, Duration::ZERO).await);
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await;
}

async fn mysql(rounds: usize) {
    let url = url("TOKENKEEP_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
    let database = format!("tokenkeep_bench_{}", std::process::id());
    let admin = match sqlx::MySqlPool::connect(&url).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("SKIPPED: no MySQL at {url}: {error}");
            return;
        }
    };
    let create = format!("CREATE DATABASE {database}");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&admin).await.expect("database");
    let options = MySqlConnectOptions::from_str(&url).expect("url").database(&database);
    let a = MysqlStore::connect_with(options.clone()).await.expect("instance A");
    a.migrate().await.expect("migrate");
    let b = CachedStore::new(MysqlStore::connect_with(options).await.expect("instance B"), CONFIG);
    let _poller = b.poll_changes(FEED_POLL).await.expect("poll");
    let (first, second) = (service(Arc::new(CachedStore::new(a, CONFIG))), service(Arc::new(b)));
    let latencies = measure(&first, &second, rounds, FEED_POLL).await;
    report("propagation-mysql", &latencies);
    let drop = format!("DROP DATABASE {database}");
    let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await;
}

/// Each round: issue on A, verify on B (now cached there), wait a part of
/// `spread` that moves on each round, revoke on A, and time until B
/// refuses. Sorted. The wait spreads the revokes over a polling interval:
/// without it every round would start just after the poll that ended the
/// last one, and each would wait a whole interval.
async fn measure(
    first: &TokenManager,
    second: &TokenManager,
    rounds: usize,
    spread: Duration,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let issued = first
            .issue(&Actor::Admin, IssueRequest::new("bench", format!("t{round}")))
            .await
            .expect("issue");
        let token = issued.token.expose_secret();
        second.service().verify_token(token, Requirement::None).await.expect("cached on B");
        let part = u32::try_from(round % 10).unwrap_or(0);
        tokio::time::sleep(spread * part / 10).await;
        first.revoke(&Actor::Admin, &TokenRef::id(issued.record.id)).await.expect("revoke");
        let revoked = Instant::now();
        while second.service().verify_token(token, Requirement::None).await.is_ok() {
            if revoked.elapsed() > Duration::from_secs(10) {
                panic!("the revocation never reached instance B");
            }
            tokio::task::yield_now().await;
        }
        latencies.push(revoked.elapsed());
    }
    latencies.sort();
    latencies
}

fn report(name: &str, latencies: &[Duration]) {
    let at = |quantile: f64| {
        latencies[((latencies.len() as f64 * quantile) as usize).min(latencies.len() - 1)]
    };
    println!("{name}/rounds: {}", latencies.len());
    for (label, quantile) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0)] {
        println!("{name}/{label}-ms: {:.3}", at(quantile).as_secs_f64() * 1_000.0);
    }
}
