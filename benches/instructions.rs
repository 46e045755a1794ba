//! Instructions per verification, counted by valgrind through gungraun:
//! numbers that do not move with the other core's load, so a regression
//! shows up as a number and not as noise. `.ci/run` runs it and prints the
//! counts; BENCHMARKS.md records them.
//!
//! ```sh
//! cargo install gungraun-runner --version 0.20.0 --locked   # once
//! cargo bench --features sqlite --bench instructions
//! ```
//!
//! Each benchmark verifies the same 1,000 headers once (after a warm-up
//! that registers the log call sites and notes every last use), so its
//! count divided by 1,000 is the instructions of one verification. The
//! tokens are built from fixed bytes, so every run hashes and probes the
//! same values. Valgrind's CPU has no SHA extensions: the counts include
//! the portable SHA-256 (about 3,400 instructions per token), which the
//! `floor` benchmark pays too.
// gungraun's macros generate public items without documentation.
#![allow(missing_docs, unreachable_pub)]

mod common;

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{FloorTable, now_ready};
use gungraun::{library_benchmark, library_benchmark_group, main};
use tokenkeep::hash::TokenHasher;
use tokenkeep::store::{MemoryStore, TokenStore};
use tokenkeep::{Prefix, Requirement, TokenRecord, TokenService};

/// Verifications per benchmark: counts divide by this.
const TOKENS: usize = 1_000;

/// A token of the default format (`tk_`, 24 secret bytes, CRC32) whose
/// secret is `seed` repeated: the same text on every run.
fn fixed_token(seed: u32) -> String {
    let mut secret = [0u8; 24];
    for (index, chunk) in secret.chunks_exact_mut(4).enumerate() {
        let word = seed.wrapping_mul(2_654_435_761).rotate_left(index as u32 * 5);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    let body = format!("tk_{}", URL_SAFE_NO_PAD.encode(secret));
    let checksum = URL_SAFE_NO_PAD.encode(crc32fast::hash(body.as_bytes()).to_be_bytes());
    format!("{body}{checksum}")
}

/// A token of the tagged length (24 random bytes and a 9-byte tag) with
/// a valid checksum and a tag no key made: what a forger sends to a
/// service with minting keys. Fixed bytes, as `fixed_token`.
fn forged_token() -> String {
    let secret: Vec<u8> = (0u8..33).map(|byte| byte.wrapping_mul(37).wrapping_add(11)).collect();
    let body = format!("tk_{}", URL_SAFE_NO_PAD.encode(secret));
    let checksum = URL_SAFE_NO_PAD.encode(crc32fast::hash(body.as_bytes()).to_be_bytes());
    format!("{body}{checksum}")
}

fn fixed_tokens() -> Vec<String> {
    let format = common::format();
    (0..TOKENS as u32)
        .map(|seed| {
            let token = fixed_token(seed);
            assert!(format.parse(&token).is_ok(), "{token} is well formed");
            token
        })
        .collect()
}

/// Stored records for the fixed tokens: the bench population's shape
/// (12-character names, two routes) with these hashes.
fn records(tokens: &[String]) -> Vec<TokenRecord> {
    let hasher = TokenHasher::sha256();
    let template = common::population(1, 1).records.remove(0);
    tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            let id = tokenkeep::TokenId::random().expect("randomness");
            let owner = format!("owner{}", index % 100);
            // Each its own name: two active tokens of an owner never share one.
            let name =
                tokenkeep::record::TokenName::new(format!("token-{index:06}")).expect("name");
            let mut record =
                TokenRecord::new(id, owner, name, hasher.hash(token), template.created_at);
            record.display_prefix = token[..9].to_owned();
            record.scopes = template.scopes.clone();
            record
        })
        .collect()
}

/// What one benchmark verifies, against which service.
struct Fixture {
    service: TokenService,
    headers: Vec<String>,
    /// Keeps the SQL store's runtime (and its connections) alive.
    _runtime: Option<tokio::runtime::Runtime>,
    /// The runtime that drives a case whose lookups reach the SQL store.
    store_runtime: Option<tokio::runtime::Handle>,
}

impl Fixture {
    /// Verifies every header: each answered at once, without a runtime,
    /// unless the case goes to the SQL store (and its worker thread).
    fn verify_all(&self) -> usize {
        self.headers
            .iter()
            .filter(|header| {
                let verdict = self.service.verify_bearer(Some(header), Requirement::None);
                match &self.store_runtime {
                    Some(runtime) => runtime.block_on(verdict).is_ok(),
                    None => now_ready(verdict).is_ok(),
                }
            })
            .count()
    }
}

fn service(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("prefix")).build().expect("service")
}

/// The headers each case presents, from the stored tokens.
fn headers(case: &str, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .map(|token| match case {
            "hit" => format!("Bearer {token}"),
            // Well formed, checksum and all, but never stored.
            "unknown" => format!("Bearer {}", fixed_token(u32::MAX - token.len() as u32)),
            "bad_checksum" => {
                let (body, last) = token.split_at(token.len() - 1);
                format!("Bearer {body}{}", if last == "A" { "B" } else { "A" })
            }
            "wrong_length" => format!("Bearer {}", &token[..token.len() - 1]),
            "forged" => format!("Bearer {}", forged_token()),
            "malformed_header" => format!("Bearer {token}, Basic dXNlcg=="),
            other => panic!("no case {other}"),
        })
        .collect()
}

/// Leaked, so that freeing a thousand records is not counted against the
/// benchmark that returns.
fn warmed(
    service: TokenService,
    tokens: &[String],
    case: &str,
    store_runtime: Option<tokio::runtime::Handle>,
) -> &'static mut Fixture {
    let fixture =
        Fixture { service, headers: headers(case, tokens), _runtime: None, store_runtime };
    let warm = Fixture {
        headers: headers("hit", tokens),
        service: fixture.service.clone(),
        _runtime: None,
        store_runtime: None,
    };
    assert_eq!(warm.verify_all(), TOKENS, "every stored token verifies");
    fixture.verify_all();
    Box::leak(Box::new(fixture))
}

fn in_memory(case: &str) -> &'static Fixture {
    let tokens = fixed_tokens();
    let store = MemoryStore::from_records(records(&tokens));
    warmed(service(Arc::new(store)), &tokens, case, None)
}

/// As `in_memory`, for a service with minting keys: its stored (untagged)
/// tokens still verify, and a forged tagged one is refused before hashing.
fn in_memory_minting(case: &str) -> &'static Fixture {
    use tokenkeep::token::{MintKey, MintKeys};
    let tokens = fixed_tokens();
    let store = MemoryStore::from_records(records(&tokens));
    let keys = MintKeys::new(MintKey::new([7u8; 32]).expect("key"));
    let service = TokenService::builder(Arc::new(store), Prefix::new("tk").expect("prefix"))
        .mint_keys(keys)
        .build()
        .expect("service");
    warmed(service, &tokens, case, None)
}

#[cfg(feature = "sqlite")]
fn cached_sqlite(case: &str) -> &'static Fixture {
    use tokenkeep::rules::TokenRules as _;
    use tokenkeep::store::{CacheConfig, CachedStore, SqliteStore};
    let tokens = fixed_tokens();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let directory = std::env::temp_dir().join(format!("tokenkeep-instr-{}", std::process::id()));
    let store = runtime.block_on(async {
        let sqlite = SqliteStore::open(directory.join("bench.db")).await.expect("sqlite");
        sqlite.migrate().await.expect("migrate");
        sqlite.import(records(&tokens), common::no_cap()).await.expect("import");
        let config = CacheConfig { capacity: 100_000, ttl: std::time::Duration::from_secs(3_600) };
        CachedStore::new(sqlite, config)
    });
    let service = service(Arc::new(store));
    // The cache fills on the first lookup of each token, which needs the
    // runtime; the measured verifications are then all answered at once.
    runtime.block_on(async {
        for token in &tokens {
            let header = format!("Bearer {token}");
            let verdict = service.verify_bearer(Some(&header), Requirement::None).await;
            assert!(verdict.is_ok(), "warms the cache");
        }
    });
    let _ = std::fs::remove_dir_all(&directory);
    // Unknown tokens are looked up in SQLite on every verification: those
    // need the runtime, and their count includes the driver's thread.
    let handle = (case == "unknown").then(|| runtime.handle().clone());
    let fixture = warmed(service, &tokens, case, handle);
    fixture._runtime = Some(runtime);
    fixture
}

#[library_benchmark]
#[bench::hit(args = ("hit"), setup = in_memory)]
#[bench::unknown(args = ("unknown"), setup = in_memory)]
#[bench::bad_checksum(args = ("bad_checksum"), setup = in_memory)]
#[bench::wrong_length(args = ("wrong_length"), setup = in_memory)]
#[bench::malformed_header(args = ("malformed_header"), setup = in_memory)]
#[bench::forged(args = ("forged"), setup = in_memory_minting)]
fn memory(fixture: &Fixture) -> usize {
    black_box(fixture.verify_all())
}

#[cfg(feature = "sqlite")]
#[library_benchmark]
#[bench::hit(args = ("hit"), setup = cached_sqlite)]
#[bench::unknown(args = ("unknown"), setup = cached_sqlite)]
fn sqlite_cached(fixture: &Fixture) -> usize {
    black_box(fixture.verify_all())
}

/// The floor: SHA-256 of each token and one probe of a table of the same
/// size, with nothing else.
fn floor_table(_case: &str) -> &'static (FloorTable, Vec<String>, TokenHasher) {
    let tokens = fixed_tokens();
    let hasher = TokenHasher::sha256();
    let table = tokens
        .iter()
        .enumerate()
        .map(|(index, token)| (*hasher.hash(token).as_bytes(), index as u32))
        .collect();
    Box::leak(Box::new((table, tokens, hasher)))
}

#[library_benchmark]
#[bench::hit(args = ("hit"), setup = floor_table)]
fn floor(fixture: &(FloorTable, Vec<String>, TokenHasher)) -> usize {
    let (table, tokens, hasher) = fixture;
    black_box(
        tokens.iter().filter(|token| table.contains_key(hasher.hash(token).as_bytes())).count(),
    )
}

#[cfg(feature = "sqlite")]
library_benchmark_group!(name = verify; benchmarks = floor, memory, sqlite_cached);
#[cfg(not(feature = "sqlite"))]
library_benchmark_group!(name = verify; benchmarks = floor, memory);

main!(library_benchmark_groups = verify);
