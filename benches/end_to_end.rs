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
//! other core; the three servers are measured in turn, five times, and
//! the tables show each run and each server's median.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokenkeep::axum::{AnyToken, Token};
use tokenkeep::rules::TokenRules as _;
use tokenkeep::store::TokenStore;
use tokenkeep::store::{CacheConfig, CachedStore, MemoryStore, SqliteStore};
use tokenkeep::{Prefix, TokenService};

/// Each server is measured this many times, in turn with the others.
const ROUNDS: usize = 5;

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

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (sudo apt-get install wrk): nothing measured");
        return;
    }
    let tokens = usize::try_from(number("TOKENKEEP_E2E_TOKENS", 1_000_000)).unwrap_or(1_000_000);
    let seconds = number("TOKENKEEP_E2E_SECONDS", 10);
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
        let sqlite = SqliteStore::open(directory.join("e2e.db")).await.expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        sqlite.import(population.records, common::no_cap()).await.expect("import");
        let commits = sqlite.commits().expect("a file");
        let cached = CachedStore::new(sqlite, CacheConfig::default()).checking(commits);
        let sqlite = service(Arc::new(cached));
        let with =
            |service: TokenService| Router::new().route("/hello", get(guarded)).with_state(service);
        [
            ("bare handler", serve(Router::new().route("/hello", get(bare))).await),
            ("extractor, memory", serve(with(memory)).await),
            ("extractor, SQLite cached", serve(with(sqlite)).await),
        ]
    });

    println!("\n{tokens} tokens, wrk -t1 -c16 -d{seconds}s, server on one worker thread\n");
    println!("| round | server | requests/s | p99 |");
    println!("| ---: | --- | ---: | ---: |");
    let mut rates = vec![Vec::new(); servers.len()];
    for round in 1..=ROUNDS {
        for ((name, address), rates) in servers.iter().zip(&mut rates) {
            // A short warm-up fills the caches and the connections.
            wrk(*address, &script, 2);
            let run = wrk(*address, &script, seconds);
            let flag = if run.errors { " (errors!)" } else { "" };
            println!("| {round} | {name} | {:.0}{flag} | {} |", run.per_second, run.p99);
            rates.push(run.per_second);
        }
    }
    let medians: Vec<f64> = rates.iter_mut().map(|rates| median(rates)).collect();
    println!("\n| server | median requests/s | vs bare |");
    println!("| --- | ---: | ---: |");
    for ((name, _), rate) in servers.iter().zip(&medians) {
        let change = (rate / medians[0] - 1.0) * 100.0;
        println!("| {name} | {rate:.0} | {change:+.1} % |");
    }
    let _ = std::fs::remove_dir_all(directory);
}
