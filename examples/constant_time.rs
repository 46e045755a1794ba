//! Constant-time evidence (dudect): the time of a comparison must not
//! depend on where two hashes differ. Each check times inputs that differ
//! in one bit of the first byte (Left) against inputs that differ in one
//! bit of the last byte (Right), interleaved at random, and reports
//! Welch's t: |t| < 5 means no leak was detected. A deliberately leaky
//! comparison is measured the same way and must be flagged (|t| well above
//! 5), which shows the harness can see a leak.
//!
//! On demand, not in every CI run (it wants a quiet machine):
//!
//! ```sh
//! cargo run --release --example constant_time                          # 10^6 samples per check
//! cargo run --release --example constant_time -- --continuous verify_path
//! ```

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;

use dudect_bencher::rand::{Rng, RngExt};
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};
use tokenkeep::hash::{TokenHash, TokenHasher};
use tokenkeep::store::{LastUse, ListQuery, StoreError, TokenStore};
use tokenkeep::{Prefix, Requirement, TokenId, TokenRecord, TokenService};

const SAMPLES: usize = 1_000_000;

fn flipped(hash: &TokenHash, byte: usize) -> TokenHash {
    let mut bytes = *hash.as_bytes();
    bytes[byte] ^= 1;
    TokenHash::from_bytes(bytes)
}

/// Pairs (stored, presented) differing at the first or the last byte.
fn pairs(rng: &mut BenchRng) -> Vec<(Class, TokenHash, TokenHash)> {
    (0..SAMPLES)
        .map(|_| {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            let stored = TokenHash::from_bytes(bytes);
            if rng.random::<bool>() {
                (Class::Left, stored, flipped(&stored, 0))
            } else {
                (Class::Right, stored, flipped(&stored, 31))
            }
        })
        .collect()
}

/// `TokenHash`'s equality.
fn hash_eq(runner: &mut CtRunner, rng: &mut BenchRng) {
    for (class, stored, presented) in pairs(rng) {
        runner.run_one(class, || black_box(stored) == black_box(presented));
    }
}

/// Byte by byte with an early exit: what must never be used, and what the
/// harness must catch.
fn leaky_eq(runner: &mut CtRunner, rng: &mut BenchRng) {
    fn leaky(a: &[u8; 32], b: &[u8; 32]) -> bool {
        for index in 0..32 {
            if black_box(a[index]) != black_box(b[index]) {
                return false;
            }
        }
        true
    }
    for (class, stored, presented) in pairs(rng) {
        runner.run_one(class, || {
            leaky(black_box(stored.as_bytes()), black_box(presented.as_bytes()))
        });
    }
}

/// A store that answers every lookup with the record the sample chose, as
/// a store whose index matched on part of the hash might: the service's
/// constant-time comparison is then what rejects the presented token. One
/// service and one store for both classes, so only the differing byte
/// differs.
#[derive(Debug)]
struct OneRecord {
    records: [Arc<TokenRecord>; 2],
    chosen: std::sync::atomic::AtomicUsize,
}

impl OneRecord {
    fn current(&self) -> Arc<TokenRecord> {
        Arc::clone(&self.records[self.chosen.load(std::sync::atomic::Ordering::Relaxed)])
    }
}

#[tokenkeep::store::async_trait]
impl TokenStore for OneRecord {
    async fn find_by_hash(&self, _: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        Ok(Some(self.current()))
    }
    fn find_by_hash_now(
        &self,
        _: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        Some(Ok(Some(self.current())))
    }
    async fn get(&self, _: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(None)
    }
    async fn list(&self, _: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(Vec::new())
    }
    async fn record_last_used(&self, _: &[LastUse]) -> Result<(), StoreError> {
        Ok(())
    }
    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// The whole verify path, for a presented token whose hash differs from the
/// stored one in the first or in the last byte.
fn verify_path(runner: &mut CtRunner, rng: &mut BenchRng) {
    let population = common::population(1, 1);
    let token = population.sample[0].clone();
    let hash = TokenHasher::sha256().hash(&token);
    let record_differing_at = |byte: usize| {
        let mut record = population.records[0].clone();
        record.hash = flipped(&hash, byte);
        Arc::new(record)
    };
    let store = Arc::new(OneRecord {
        records: [record_differing_at(0), record_differing_at(31)],
        chosen: std::sync::atomic::AtomicUsize::new(0),
    });
    let service = TokenService::builder(store.clone(), Prefix::new("tk").expect("prefix"))
        .build()
        .expect("service");
    for _ in 0..SAMPLES {
        let right = rng.random::<bool>();
        store.chosen.store(usize::from(right), std::sync::atomic::Ordering::Relaxed);
        let class = if right { Class::Right } else { Class::Left };
        runner.run_one(class, || {
            common::now_ready(service.verify_token(&token, Requirement::None)).is_err()
        });
    }
}

ctbench_main!(hash_eq, verify_path, leaky_eq);
