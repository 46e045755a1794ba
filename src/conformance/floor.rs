//! How a store's verification compares with the hardware floor: for
//! integrators who want to know what their own [`TokenStore`](crate::store::TokenStore)
//! costs on the hot path, without setting up a benchmark harness.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::hash::TokenHasher;
use crate::record::{TokenId, TokenName, TokenRecord};
use crate::rules::{InsertRules, RuleError, TokenRules as _};
use crate::scope::Requirement;
use crate::service::{AuthError, TokenService};
use crate::store::ManageStore;
use crate::token::{Prefix, TokenFormat};

/// The medians of one [`compare_with_floor`] run.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FloorComparison {
    /// How many tokens the store held.
    pub tokens: usize,
    /// The floor: SHA-256 of the token plus one probe of a `HashMap` that
    /// holds every hash, median time per token.
    pub floor: Duration,
    /// A whole `verify_bearer` through a [`TokenService`] over the store,
    /// median time per token.
    pub store: Duration,
}

impl FloorComparison {
    /// How many times the floor the store's verification takes.
    pub fn ratio(&self) -> f64 {
        self.store.as_secs_f64() / self.floor.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Fills an empty `store` with `tokens` fresh tokens (through
/// [`TokenRules::import`](crate::rules::TokenRules::import)), then times verifying a sample of up to 1,024 of
/// them through a [`TokenService`] against the floor, in alternating rounds
/// of the whole sample, and returns the medians per token.
///
/// Run it in a release build, on an otherwise quiet machine; the numbers
/// are for comparison with each other, from the same run.
///
/// ```
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// use std::sync::Arc;
/// use tokenkeep::conformance::compare_with_floor;
/// use tokenkeep::store::MemoryStore;
///
/// let comparison = compare_with_floor(Arc::new(MemoryStore::new()), 1_000).await?;
/// println!("{} tokens: {:.2}× the floor", comparison.tokens, comparison.ratio());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The store's error, if the import or a verification fails.
///
/// # Panics
/// If the operating system gives no randomness for the tokens.
pub async fn compare_with_floor(
    store: Arc<dyn ManageStore>,
    tokens: usize,
) -> Result<FloorComparison, RuleError> {
    const ROUNDS: usize = 21;
    let format = TokenFormat::new(Prefix::new("cmp").expect("a valid prefix"));
    let hasher = TokenHasher::sha256();
    let every = (tokens / 1_024).max(1);
    let now = OffsetDateTime::now_utc();
    let mut records = Vec::with_capacity(tokens);
    let mut sample = Vec::new();
    for index in 0..tokens {
        let minted = format.mint(&hasher).expect("randomness");
        if index % every == 0 && sample.len() < 1_024 {
            sample.push(minted.secret.expose_secret().to_owned());
        }
        let name = TokenName::new(format!("token-{index:07}")).expect("a valid name");
        let owner = format!("owner{}", index % 1_000);
        let id = TokenId::random().expect("randomness");
        records.push(TokenRecord::new(id, owner, name, minted.hash, now));
    }
    let floor_table: HashMap<[u8; 32], usize> = records
        .iter()
        .enumerate()
        .map(|(index, record)| (*record.hash.as_bytes(), index))
        .collect();
    store
        .import(records, InsertRules { now: OffsetDateTime::now_utc(), max_active_per_owner: None })
        .await?;
    let service = TokenService::builder(store, format.prefix().clone())
        .build()
        .expect("a valid configuration");
    let headers: Vec<String> = sample.iter().map(|token| format!("Bearer {token}")).collect();

    let mut floor_rounds = Vec::with_capacity(ROUNDS);
    let mut store_rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for token in &sample {
            let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            black_box(floor_table.get(&hash));
        }
        floor_rounds.push(start.elapsed());
        let start = Instant::now();
        for header in &headers {
            match service.verify_bearer(Some(header), Requirement::None).await {
                Err(AuthError::Unavailable(error)) => return Err(error.into()),
                verdict => black_box(verdict.is_ok()),
            };
        }
        store_rounds.push(start.elapsed());
    }
    let per_token = |mut rounds: Vec<Duration>| {
        rounds.sort_unstable();
        rounds[rounds.len() / 2] / u32::try_from(sample.len().max(1)).unwrap_or(u32::MAX)
    };
    Ok(FloorComparison { tokens, floor: per_token(floor_rounds), store: per_token(store_rounds) })
}
