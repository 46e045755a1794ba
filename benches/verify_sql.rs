//! The SQL stores: verification through `CachedStore` over SQLite and
//! straight from SQLite, against `MemoryStore`, at 10,000 tokens.
//!
//! ```sh
//! cargo bench --features sqlite --bench verify_sql
//! ```

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use common::table::{median, ratio, show};
use common::{now_ready, population};
use criterion::Criterion;
use tokenkeep::rules::TokenRules as _;
use tokenkeep::store::{CacheConfig, CachedStore, MemoryStore, SqliteStore, TokenStore, sqlx};
use tokenkeep::{Prefix, Requirement, TokenService};

fn service(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("prefix")).build().expect("service")
}

/// Cycles through the sample so lookups spread over the table.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut index = 0;
    move || {
        index = (index + 1) % items.len();
        &items[index]
    }
}

/// The SQL read-through cache against the in-memory store, 10,000 tokens.
fn cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let population = population(10_000, 1_024);
    let headers: Vec<String> =
        population.sample.iter().map(|token| format!("Bearer {token}")).collect();
    let memory = service(Arc::new(MemoryStore::from_records(population.records.clone())));
    let directory = std::env::temp_dir().join(format!("tokenkeep-bench-{}", std::process::id()));
    let (cached, uncached) = runtime.block_on(async {
        let sqlite = SqliteStore::open(directory.join("bench.db")).await.expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        sqlite.import(population.records, common::no_cap()).await.expect("import");
        let config = CacheConfig { capacity: 100_000, ttl: Duration::from_secs(3_600) };
        let cached = service(Arc::new(CachedStore::new(sqlite.clone(), config)));
        for header in &headers {
            cached.verify_bearer(Some(header), Requirement::None).await.expect("warm the cache");
        }
        (cached, service(Arc::new(sqlite)))
    });

    let mut group = c.benchmark_group("cache");
    group.bench_function("memory", |b| {
        let mut next = cycle(&headers);
        b.iter(|| {
            black_box(now_ready(memory.verify_bearer(Some(next()), Requirement::None)).is_ok())
        });
    });
    group.bench_function("sqlite-cached", |b| {
        let mut next = cycle(&headers);
        b.iter(|| {
            black_box(now_ready(cached.verify_bearer(Some(next()), Requirement::None)).is_ok())
        });
    });
    group.bench_function("sqlite-uncached", |b| {
        let mut next = cycle(&headers);
        b.iter(|| {
            let verdict = runtime.block_on(uncached.verify_bearer(Some(next()), Requirement::None));
            black_box(verdict.is_ok())
        });
    });
    group.finish();

    // Where an uncached verification's time goes: each step below adds
    // one piece to the one before it.
    let sqlite = runtime.block_on(SqliteStore::open(directory.join("bench.db"))).expect("sqlite");
    let hashes: Vec<_> = population_hashes(&headers);
    let pool = sqlite.pool().clone();
    let mut group = c.benchmark_group("cold");
    group.bench_function("thread-round-trip", |b| {
        b.iter(|| runtime.block_on(runtime.spawn_blocking(|| black_box(1))))
    });
    group.bench_function("select-1-held", |b| {
        // Detached inside the runtime: the pool's bookkeeping spawns a task.
        let mut connection = runtime
            .block_on(async { pool.acquire().await.map(|held| held.detach()) })
            .expect("connection");
        b.iter(|| {
            runtime.block_on(sqlx::query("SELECT 1").fetch_one(&mut connection)).expect("select 1");
        })
    });
    group.bench_function("select-1", |b| {
        b.iter(|| {
            runtime.block_on(sqlx::query("SELECT 1").fetch_one(&pool)).expect("select 1");
        })
    });
    group.bench_function("row-by-hash", |b| {
        let mut next = cycle(&hashes);
        b.iter(|| {
            let query = sqlx::query("SELECT * FROM tokenkeep_tokens WHERE hash = ?1")
                .bind(next().as_bytes().as_slice());
            black_box(runtime.block_on(query.fetch_optional(&pool)).expect("row"))
        })
    });
    group.bench_function("find-by-hash", |b| {
        let mut next = cycle(&hashes);
        b.iter(|| black_box(runtime.block_on(sqlite.find_by_hash(next())).expect("found")))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(directory);
}

/// The stored hash of each header's token.
fn population_hashes(headers: &[String]) -> Vec<tokenkeep::hash::TokenHash> {
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    headers.iter().map(|header| hasher.hash(header.trim_start_matches("Bearer "))).collect()
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    cache(&mut criterion);
    criterion.final_summary();
    let memory = median(&["cache", "memory"]);
    println!("\n| store, 10,000 tokens | median | ratio to memory |");
    println!("| --- | ---: | ---: |");
    for name in ["memory", "sqlite-cached", "sqlite-uncached"] {
        let value = median(&["cache", name]);
        println!("| {name} | {} | {} |", show(value), ratio(value, memory));
    }
    println!("\n| an uncached SQLite verification, step by step | median |");
    println!("| --- | ---: |");
    for (name, what) in [
        ("thread-round-trip", "a hop to another thread and back (spawn_blocking)"),
        (
            "select-1-held",
            "`SELECT 1` on a connection held outside the pool (the driver's worker thread)",
        ),
        ("select-1", "`SELECT 1` through the pool (acquire and release too)"),
        ("row-by-hash", "the token's row by its hash"),
        ("find-by-hash", "`SqliteStore::find_by_hash` (the row decoded into a record)"),
    ] {
        println!("| {what} | {} |", show(median(&["cold", name])));
    }
    println!("| `verify_bearer`, uncached | {} |", show(median(&["cache", "sqlite-uncached"])));
}
