//! What the benches share: a population of tokens and a way to run a
//! future that never waits.
#![allow(dead_code, unreachable_pub)]

pub mod table;

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tokenkeep::hash::TokenHasher;
use tokenkeep::record::TokenName;
use tokenkeep::time::OffsetDateTime;
use tokenkeep::token::TokenFormat;
use tokenkeep::{Access, Prefix, Route, Scopes, TokenId, TokenRecord};

/// The floor's table hashes keys the way tokenkeep's does: SHA-256 output
/// is already uniform, so its first eight bytes are the hash.
#[derive(Default)]
pub struct FirstEightBytes(u64);

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

/// The floor: SHA-256 outputs to a value, keyed as tokenkeep keys them.
pub type FloorTable = HashMap<[u8; 32], u32, BuildHasherDefault<FirstEightBytes>>;

/// Stored records and the plaintext of a sample of them.
pub struct Population {
    pub records: Vec<TokenRecord>,
    pub sample: Vec<String>,
}

/// Import rules without a cap: a bench's population is one the rules allow.
#[cfg(feature = "management")]
pub fn no_cap() -> tokenkeep::rules::InsertRules {
    tokenkeep::rules::InsertRules { now: OffsetDateTime::now_utc(), max_active_per_owner: None }
}

pub fn format() -> TokenFormat {
    TokenFormat::new(Prefix::new("tk").expect("prefix"))
}

/// `count` tokens with 12-character names and two route scopes, spread over
/// 1,000 owners; the plaintext of every `count / sample`-th is kept.
pub fn population(count: usize, sample: usize) -> Population {
    let format = format();
    let hasher = TokenHasher::sha256();
    let scopes = Scopes {
        routes: vec![
            Route::new("/releases", Access::READ).expect("route"),
            Route::new("/snapshots", Access::READ_WRITE).expect("route"),
        ],
        ..Scopes::default()
    };
    let every = (count / sample.max(1)).max(1);
    let now = OffsetDateTime::now_utc();
    let mut records = Vec::with_capacity(count);
    let mut kept = Vec::with_capacity(sample);
    for index in 0..count {
        let minted = format.mint(&hasher).expect("mint");
        let text = minted.secret.expose_secret();
        if index % every == 0 && kept.len() < sample {
            kept.push(text.to_owned());
        }
        let id = TokenId::random().expect("randomness");
        let owner = format!("owner{}", index % 1_000);
        let name = TokenName::new(format!("token-{index:06}")).expect("name");
        let mut record = TokenRecord::new(id, owner, name, minted.hash, now);
        record.display_prefix = text[..9].to_owned();
        record.scopes = scopes.clone();
        records.push(record);
    }
    Population { records, sample: kept }
}

/// Runs a future that must complete on its first poll (an in-memory
/// lookup); no runtime, so nothing but the future itself is measured.
pub fn now_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("this lookup was expected to complete at once"),
    }
}

/// The sizes to measure: `TOKENKEEP_BENCH_SIZES` (comma-separated), or all
/// four of BENCHMARKS.md.
pub fn sizes() -> Vec<usize> {
    std::env::var("TOKENKEEP_BENCH_SIZES")
        .ok()
        .map(|text| text.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 100_000, 1_000_000, 10_000_000])
}
