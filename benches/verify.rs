//! Verification side by side with the hardware floor (SHA-256 plus one
//! probe of a hash table), the `prefixed-api-key` crate and bcrypt, on
//! `MemoryStore`; then rejections, two threads and minting. It needs no
//! feature, and ends by printing the ratio table of BENCHMARKS.md.
//!
//! ```sh
//! cargo bench --bench verify               # 1k to 10M tokens (about ten minutes)
//! cargo bench --bench verify -- --quick    # 1k and 100k tokens, under two minutes
//! TOKENKEEP_BENCH_SIZES=1000,1000000 cargo bench --bench verify
//! ```
//!
//! The SQL stores and the cache are measured by `benches/verify_sql.rs`.

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::table::{median, ratio, show, thousands};
use common::{FloorTable, Population, now_ready, population, sizes};
use criterion::{BenchmarkId, Criterion};
use prefixed_api_key::{PrefixedApiKey, PrefixedApiKeyController};
use sha2::{Digest, Sha256};
use tokenkeep::store::{MemoryStore, TokenStore};
use tokenkeep::{Prefix, Requirement, TokenService};

fn service(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("prefix")).build().expect("service")
}

fn headers(population: &Population) -> Vec<String> {
    population.sample.iter().map(|token| format!("Bearer {token}")).collect()
}

/// Cycles through the sample so lookups spread over the table.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut index = 0;
    move || {
        index = (index + 1) % items.len();
        &items[index]
    }
}

fn verify_against_floor_and_peer(c: &mut Criterion, sizes: &[usize]) {
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for &size in sizes {
        let population = population(size, 4_096);
        let floor: FloorTable = population
            .records
            .iter()
            .enumerate()
            .map(|(index, record)| (*record.hash.as_bytes(), index as u32))
            .collect();
        let headers = headers(&population);
        let tokens = population.sample.clone();
        let service = service(Arc::new(MemoryStore::from_records(population.records)));

        // The peer: prefixed-api-key, its short token as the map key.
        let controller = PrefixedApiKeyController::configure()
            .prefix("tk".to_owned())
            .seam_defaults()
            .finalize()
            .expect("peer controller");
        let mut peer_table = HashMap::with_capacity(size);
        let mut peer_keys = Vec::new();
        for index in 0..size {
            let (key, hash) = controller.generate_key_and_hash();
            if index % (size / 4_096).max(1) == 0 && peer_keys.len() < 4_096 {
                peer_keys.push(key.to_string());
            }
            peer_table.insert(key.short_token().to_owned(), hash);
        }

        let mut group = c.benchmark_group("verify");
        group.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            let mut next = cycle(&tokens);
            b.iter(|| {
                let hash: [u8; 32] = Sha256::digest(next().as_bytes()).into();
                black_box(floor.get(&hash))
            });
        });
        group.bench_with_input(BenchmarkId::new("tokenkeep", size), &size, |b, _| {
            let mut next = cycle(&headers);
            b.iter(|| {
                let verdict = now_ready(service.verify_bearer(Some(next()), Requirement::None));
                black_box(verdict.is_ok())
            });
        });
        group.bench_with_input(BenchmarkId::new("prefixed-api-key", size), &size, |b, _| {
            let mut next = cycle(&peer_keys);
            b.iter(|| {
                let key = PrefixedApiKey::from_string(next()).expect("peer key");
                let stored = peer_table.get(key.short_token()).expect("known");
                black_box(controller.check_hash(&key, stored))
            });
        });
        group.finish();

        if size == largest {
            rejections(c, &service, &tokens);
            two_threads(c, &service, &headers);
        }
    }
}

fn rejections(c: &mut Criterion, service: &TokenService, tokens: &[String]) {
    let bad_checksum: Vec<String> = tokens
        .iter()
        .map(|token| {
            let mut changed = token.clone();
            let last = changed.pop().expect("non-empty");
            changed.push(if last == 'A' { 'B' } else { 'A' });
            format!("Bearer {changed}")
        })
        .collect();
    let mut group = c.benchmark_group("reject");
    group.bench_function("bad-checksum", |b| {
        let mut next = cycle(&bad_checksum);
        b.iter(|| {
            black_box(now_ready(service.verify_bearer(Some(next()), Requirement::None)).is_err())
        });
    });
    group.bench_function("wrong-length", |b| {
        b.iter(|| {
            black_box(
                now_ready(service.verify_bearer(Some("Bearer tk_abc"), Requirement::None)).is_err(),
            )
        });
    });
    group.bench_function("malformed-header", |b| {
        b.iter(|| {
            black_box(
                now_ready(service.verify_bearer(Some("Bearer a, b"), Requirement::None)).is_err(),
            )
        });
    });
    group.finish();
}

/// Each iteration verifies once on every thread; per-iteration times of
/// one and two threads give the throughput ratio.
fn two_threads(c: &mut Criterion, service: &TokenService, headers: &[String]) {
    let mut group = c.benchmark_group("threads");
    for threads in [1usize, 2] {
        group.bench_function(BenchmarkId::new("verify", threads), |b| {
            b.iter_custom(|iterations| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for thread in 0..threads {
                        let service = service.clone();
                        scope.spawn(move || {
                            let mut index = thread * 1_024;
                            for _ in 0..iterations {
                                index = (index + 1) % headers.len();
                                let verdict = now_ready(
                                    service.verify_bearer(Some(&headers[index]), Requirement::None),
                                );
                                black_box(verdict.is_ok());
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    group.finish();
}

fn bcrypt_for_scale(c: &mut Criterion) {
    let token = &population(1, 1).sample[0];
    let hash = bcrypt::hash(token, 10).expect("bcrypt");
    let mut group = c.benchmark_group("bcrypt");
    group.sample_size(10);
    group.bench_function("verify-cost-10", |b| b.iter(|| black_box(bcrypt::verify(token, &hash))));
    group.finish();
}

fn mint(c: &mut Criterion) {
    let format = common::format();
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    let controller = PrefixedApiKeyController::configure()
        .prefix("tk".to_owned())
        .seam_defaults()
        .finalize()
        .expect("peer controller");
    let mut group = c.benchmark_group("mint");
    group
        .bench_function("tokenkeep", |b| b.iter(|| black_box(format.mint(&hasher).expect("mint"))));
    group.bench_function("prefixed-api-key", |b| {
        b.iter(|| black_box(controller.generate_key_and_hash()))
    });
    group.finish();
}

/// What each remaining lever could save at most: the pieces of a
/// verification it would remove, timed alone.
fn levers(c: &mut Criterion) {
    let mut group = c.benchmark_group("lever");
    let record = Arc::new(common::population(1, 1).records.remove(0));
    group.bench_function("arc-clone-and-drop", |b| b.iter(|| drop(black_box(Arc::clone(&record)))));
    let lock = std::sync::RwLock::new(0u64);
    group.bench_function("read-lock-and-release", |b| {
        b.iter(|| *black_box(lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)))
    });
    group.bench_function("clock-read", |b| b.iter(|| black_box(std::time::SystemTime::now())));
    let token = common::population(1, 1).sample.remove(0);
    let format = common::format();
    group.bench_function("format-and-checksum", |b| {
        b.iter(|| black_box(format.parse(black_box(&token)).is_ok()))
    });
    let header = format!("Bearer {token}");
    group.bench_function("header-parse", |b| {
        b.iter(|| {
            black_box(tokenkeep::bearer::parse_authorization(Some(black_box(&header))).is_ok())
        })
    });
    group.finish();
}

fn config(quick: bool) -> Criterion {
    let criterion = Criterion::default().sample_size(50);
    if quick {
        criterion.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1))
    } else {
        criterion.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
    }
}

fn main() {
    let quick = std::env::args().any(|argument| argument == "--quick");
    let sizes = if quick { vec![1_000, 100_000] } else { sizes() };
    let mut criterion = config(quick).configure_from_args();
    verify_against_floor_and_peer(&mut criterion, &sizes);
    bcrypt_for_scale(&mut criterion);
    mint(&mut criterion);
    levers(&mut criterion);
    criterion.final_summary();
    print_table(&sizes);
}

/// The table of BENCHMARKS.md, from this run's medians.
fn print_table(sizes: &[usize]) {
    println!("\nverify, median per call (this run):\n");
    println!(
        "| tokens | floor | tokenkeep | ratio to floor | prefixed-api-key | peer / tokenkeep |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for size in sizes {
        let size_text = size.to_string();
        let floor = median(&["verify", "floor", &size_text]);
        let ours = median(&["verify", "tokenkeep", &size_text]);
        let peer = median(&["verify", "prefixed-api-key", &size_text]);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            thousands(*size),
            show(floor),
            show(ours),
            ratio(ours, floor),
            show(peer),
            ratio(peer, ours)
        );
    }
    let largest = sizes.iter().copied().max().unwrap_or(0).to_string();
    let floor = median(&["verify", "floor", &largest]);
    let ours = median(&["verify", "tokenkeep", &largest]);
    println!("\nat {} tokens:\n", thousands(largest.parse().unwrap_or(0)));
    println!("| measure | median | ratio |");
    println!("| --- | ---: | ---: |");
    for (name, parts) in [
        ("bad checksum rejected / floor", ["reject", "bad-checksum"]),
        ("wrong length rejected / floor", ["reject", "wrong-length"]),
        ("malformed header rejected / floor", ["reject", "malformed-header"]),
    ] {
        let value = median(&parts);
        println!("| {name} | {} | {} |", show(value), ratio(value, floor));
    }
    let one = median(&["threads", "verify", "1"]);
    let two = median(&["threads", "verify", "2"]);
    // Each iteration verifies once per thread: the rate ratio is 2 x t1 / t2.
    let speedup = match (one, two) {
        (Some(one), Some(two)) if two > 0.0 => format!("{:.2}×", 2.0 * one / two),
        _ => "—".to_owned(),
    };
    println!("| two threads / one, throughput | | {speedup} |");
    for (name, lever) in [
        ("an `Arc` clone and drop (refcount-free lookups)", "arc-clone-and-drop"),
        ("a shard's read lock and release (a lock-free map)", "read-lock-and-release"),
        ("a system clock read (a coarse clock)", "clock-read"),
        ("format and checksum (one pass over the bytes)", "format-and-checksum"),
        ("the header's parse (one pass over the bytes)", "header-parse"),
    ] {
        let value = median(&["lever", lever]);
        println!("| {name} / floor | {} | {} |", show(value), ratio(value, floor));
    }
    let bcrypt = median(&["bcrypt", "verify-cost-10"]);
    println!("| bcrypt cost 10 / tokenkeep | {} | {} |", show(bcrypt), ratio(bcrypt, ours));
}
