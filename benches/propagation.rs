//! How long a revoke on one instance takes to be seen by another instance's
//! verification cache, through PostgreSQL LISTEN/NOTIFY: 200 revocations,
//! each timed from the moment `revoke` returned on instance A to the first
//! refused verification on instance B.
//!
//! ```sh
//! TOKENKEEP_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench propagation --all-features
//! ```
//!
//! `TOKENKEEP_PROPAGATION_ROUNDS` sets the number of revocations (200 by
//! default): a run under load (BENCHMARKS.md) takes more, for its tail.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokenkeep::store::sqlx::postgres::PgConnectOptions;
use tokenkeep::store::{CacheConfig, CachedStore, PostgresStore};
use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager, TokenRef};

/// Revocations timed, unless `TOKENKEEP_PROPAGATION_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 200;

fn service(store: Arc<dyn tokenkeep::store::ManageStore>) -> TokenManager {
    TokenManager::builder(store, Prefix::new("tk").expect("prefix"))
        .max_active_per_owner(None)
        .build()
        .expect("service")
}

#[tokio::main]
async fn main() {
    let url = std::env::var("TOKENKEEP_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("tokenkeep_bench_{}", std::process::id());
    let admin = match tokenkeep::store::sqlx::PgPool::connect(&url).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("SKIPPED: no PostgreSQL at {url}: {error}");
            return;
        }
    };
    tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}"
    )))
    .execute(&admin)
    .await
    .expect("schema");
    let options =
        PgConnectOptions::from_str(&url).expect("url").options([("search_path", schema.as_str())]);
    // A TTL far beyond the measurement: only the notification can explain a refusal.
    let config = CacheConfig { capacity: 10_000, ttl: Duration::from_secs(3_600) };
    let a = PostgresStore::connect_with(options.clone()).await.expect("instance A");
    a.migrate().await.expect("migrate");
    let b =
        CachedStore::new(PostgresStore::connect_with(options).await.expect("instance B"), config);
    let _listener = b.listen_for_invalidations().await.expect("listen");
    let (first, second) = (service(Arc::new(CachedStore::new(a, config))), service(Arc::new(b)));

    let rounds = std::env::var("TOKENKEEP_PROPAGATION_ROUNDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS)
        .max(1);
    let mut latencies = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let issued = first
            .issue(&Actor::Admin, IssueRequest::new("bench", format!("t{round}")))
            .await
            .expect("issue");
        let token = issued.token.expose_secret();
        second.service().verify_token(token, Requirement::None).await.expect("cached on B");
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
    let at = |quantile: f64| {
        latencies[((latencies.len() as f64 * quantile) as usize).min(latencies.len() - 1)]
    };
    println!("propagation/rounds: {rounds}");
    for (name, quantile) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0)] {
        println!("propagation/{name}-ms: {:.3}", at(quantile).as_secs_f64() * 1_000.0);
    }
    let _ = tokenkeep::store::sqlx::query(tokenkeep::store::sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA {schema} CASCADE"
    )))
    .execute(&admin)
    .await;
}
