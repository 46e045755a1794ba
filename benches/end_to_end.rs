//! What adding tokenkeep costs a real axum service, under `wrk` on
//! loopback: one handler served bare and behind the `Token` extractor,
//! with 1M tokens in memory and with SQLite behind the cache (checking the
//! file's commit counter, as the reference server runs). Every request
//! presents a valid token, spread over a sample of 1,000; the bare server
//! receives the same headers and ignores them.
//!
//! ```sh
//! sudo apt-get install wrk
//! cargo bench --features axum,sqlite,management --bench end_to_end
//! TOKENKEEP_E2E_TOKENS=100000 TOKENKEEP_E2E_SECONDS=5 cargo bench …   # smaller, shorter
//! ```
//!
//! The server runs on one Tokio worker thread and `wrk -t1 -c16` on the
//! other core. The servers are measured in turn, round after round (the
//! order reversed every other round, so none always follows the same
//! neighbour), and each run is compared with the bare server's run of the
//! same round. The bare handler is served twice: what the second differs
//! from the first by is the noise, measured in the same rounds as the
//! costs. SQLite's cache is measured both ways an operator may choose:
//! the commit counter read before every answer (exact, one `pread` per
//! request) and read every millisecond on a thread of its own.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokenkeep::axum::{AnyToken, Token};
use tokenkeep::rules::TokenRules as _;
use tokenkeep::store::TokenStore;
use tokenkeep::store::{CacheConfig, CachedStore, MemoryStore, SqliteStore};
use tokenkeep::{Prefix, TokenService};

/// Each server is measured this many times, in turn with the others
/// (`TOKENKEEP_E2E_ROUNDS`).
const ROUNDS: u64 = 7;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}

async fn bare() -> &'static str {
    "hello"
}

async fn guarded(_: Token<AnyToken>) -> &'static str {
    "hello"
}

/// Serves `router` on a loopback port of the runtime; returns the port.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).await.expect("serve");
    });
    address
}

fn service(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("prefix")).build().expect("service")
}

/// A wrk script that sends each request with the next token's header.
fn script(directory: &Path, tokens: &[String]) -> PathBuf {
    let list: Vec<String> = tokens.iter().map(|token| format!("\"{token}\"")).collect();
    let text = format!(
        "tokens = {{ {} }}\n\
         i = 0\n\
         request = function()\n\
         \x20 i = i % #tokens + 1\n\
         \x20 return wrk.format(\"GET\", \"/hello\", {{ [\"Authorization\"] = \"Bearer \" .. tokens[i] }})\n\
         end\n",
        list.join(", ")
    );
    let path = directory.join("tokens.lua");
    std::fs::write(&path, text).expect("script");
    path
}

/// Requests per second and the 99th percentile latency, from wrk's report.
struct Run {
    per_second: f64,
    p99: String,
    errors: bool,
}

fn wrk(address: SocketAddr, script: &Path, seconds: u64) -> Run {
    let output = Command::new("wrk")
        .args(["-t1", "-c16", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(format!("http://{address}/hello"))
        .output()
        .expect("wrk runs");
    let report = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.trim().to_owned())
    };
    Run {
        per_second: field("Requests/sec:").and_then(|value| value.parse().ok()).unwrap_or(0.0),
        p99: field("99%").unwrap_or_else(|| "?".to_owned()),
        errors: report.contains("Non-2xx") || report.contains("Socket errors"),
    }
}

/// The SQLite file at `path` behind the cache, which reads the file's
/// commit counter before every answer, or every `interval` when one is
/// given.
async fn cached_sqlite(path: &Path, interval: Option<Duration>) -> CachedStore<SqliteStore> {
    let sqlite = SqliteStore::open(path).await.expect("sqlite");
    let commits = sqlite.commits().expect("a file");
    let cached = CachedStore::new(sqlite, CacheConfig::default());
    match interval {
        None => cached.checking(commits),
        Some(interval) => cached.checking_every(commits, interval),
    }
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (sudo apt-get install wrk): nothing measured");
        return;
    }
    let tokens = usize::try_from(number("TOKENKEEP_E2E_TOKENS", 1_000_000)).unwrap_or(1_000_000);
    let seconds = number("TOKENKEEP_E2E_SECONDS", 5);
    let rounds = number("TOKENKEEP_E2E_ROUNDS", ROUNDS).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let population = common::population(tokens, 1_000);
    let directory = std::env::temp_dir().join(format!("tokenkeep-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("directory");
    let script = script(&directory, &population.sample);

    let servers = runtime.block_on(async {
        let memory = service(Arc::new(MemoryStore::from_records(population.records.clone())));
        let path = directory.join("e2e.db");
        let sqlite = SqliteStore::open(&path).await.expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        sqlite.import(population.records, common::no_cap()).await.expect("import");
        let exact = service(Arc::new(cached_sqlite(&path, None).await));
        let every_ms = Some(Duration::from_millis(1));
        let polled = service(Arc::new(cached_sqlite(&path, every_ms).await));
        let with =
            |service: TokenService| Router::new().route("/hello", get(guarded)).with_state(service);
        let bare = || Router::new().route("/hello", get(bare));
        [
            ("bare handler", serve(bare()).await),
            ("bare handler, again (the noise)", serve(bare()).await),
            ("extractor, memory", serve(with(memory)).await),
            ("extractor, SQLite cached, counter read per request", serve(with(exact)).await),
            ("extractor, SQLite cached, counter read every 1 ms", serve(with(polled)).await),
        ]
    });

    println!("\n{tokens} tokens, wrk -t1 -c16 -d{seconds}s, server on one worker thread\n");
    println!("| round | server | requests/s | vs the round's bare | p99 |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    let mut rates = vec![Vec::new(); servers.len()];
    let mut changes = vec![Vec::new(); servers.len()];
    for round in 1..=rounds {
        let mut order: Vec<usize> = (0..servers.len()).collect();
        if round % 2 == 0 {
            order.reverse();
        }
        let mut runs: Vec<Option<Run>> = servers.iter().map(|_| None).collect();
        for index in order {
            // A short warm-up fills the caches and the connections.
            wrk(servers[index].1, &script, 1);
            runs[index] = Some(wrk(servers[index].1, &script, seconds));
        }
        let bare_rate = runs[0].as_ref().map_or(0.0, |run| run.per_second);
        for (index, run) in runs.into_iter().enumerate() {
            let run = run.expect("every server ran");
            let flag = if run.errors { " (errors!)" } else { "" };
            let change = (run.per_second / bare_rate - 1.0) * 100.0;
            let name = servers[index].0;
            println!(
                "| {round} | {name} | {:.0}{flag} | {change:+.1} % | {} |",
                run.per_second, run.p99
            );
            rates[index].push(run.per_second);
            changes[index].push(change);
        }
    }
    println!("\n| server | median requests/s | median of the rounds' change | rounds' range |");
    println!("| --- | ---: | ---: | --- |");
    for (((name, _), rates), changes) in servers.iter().zip(&mut rates).zip(&mut changes) {
        let rate = median(rates);
        let change = median(changes);
        let (low, high) = (changes[0], changes[changes.len() - 1]);
        println!("| {name} | {rate:.0} | {change:+.1} % | {low:+.1} % to {high:+.1} % |");
    }
    let _ = std::fs::remove_dir_all(directory);
}
