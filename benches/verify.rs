//! Verification against the hardware floor and the alternatives, side by
//! side in one run. See BENCHMARKS.md for the numbers and how to read them.

mod common;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Population, now_ready, population, sizes};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use prefixed_api_key::{PrefixedApiKey, PrefixedApiKeyController};
use sha2::{Digest, Sha256};
use tokenkeep::store::{
    CacheConfig, CachedStore, ManageStore as _, MemoryStore, SqliteStore, TokenStore,
};
use tokenkeep::{Prefix, Requirement, TokenService};

/// The floor's table hashes keys the way tokenkeep's does: SHA-256 output
/// is already uniform, so its first eight bytes are the hash.
#[derive(Default)]
struct FirstEightBytes(u64);

impl Hasher for FirstEightBytes {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let len = bytes.len().min(8);
        head[..len].copy_from_slice(&bytes[..len]);
        self.0 ^= u64::from_le_bytes(head);
    }
}

type FloorTable = HashMap<[u8; 32], u32, BuildHasherDefault<FirstEightBytes>>;

fn service(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("prefix"))
        .build()
        .expect("service")
}

fn headers(population: &Population) -> Vec<String> {
    population
        .sample
        .iter()
        .map(|token| format!("Bearer {token}"))
        .collect()
}

/// Cycles through the sample so lookups spread over the table.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut index = 0;
    move || {
        index = (index + 1) % items.len();
        &items[index]
    }
}

fn verify_against_floor_and_peer(c: &mut Criterion) {
    for size in sizes() {
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

        if size == 1_000_000 || sizes().len() == 1 {
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
    group.bench_function("verify-cost-10", |b| {
        b.iter(|| black_box(bcrypt::verify(token, &hash)))
    });
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
    group.bench_function("tokenkeep", |b| {
        b.iter(|| black_box(format.mint(&hasher).expect("mint")))
    });
    group.bench_function("prefixed-api-key", |b| {
        b.iter(|| black_box(controller.generate_key_and_hash()))
    });
    group.finish();
}

/// The SQL read-through cache against the in-memory store, 10,000 tokens.
fn cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let population = population(10_000, 1_024);
    let headers = headers(&population);
    let memory = service(Arc::new(MemoryStore::from_records(
        population.records.clone(),
    )));
    let directory = std::env::temp_dir().join(format!("tokenkeep-bench-{}", std::process::id()));
    let (cached, uncached) = runtime.block_on(async {
        let sqlite = SqliteStore::open(directory.join("bench.db"))
            .await
            .expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        sqlite.import(population.records).await.expect("import");
        let config = CacheConfig {
            capacity: 100_000,
            ttl: Duration::from_secs(3_600),
        };
        let cached = service(Arc::new(CachedStore::new(sqlite.clone(), config)));
        for header in &headers {
            cached
                .verify_bearer(Some(header), Requirement::None)
                .await
                .expect("warm the cache");
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
    let _ = std::fs::remove_dir_all(directory);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify_against_floor_and_peer, bcrypt_for_scale, mint, cache
}
criterion_main!(benches);
