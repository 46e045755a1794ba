//! Per-token request rates, enforced in this process with `governor`.
//!
//! Only tokens that carry a [`RateLimit`] reach this file; the others pay
//! one `Option` check on the verify path. Each limited token gets its own
//! limiter (so tokens with different limits never share a budget), made
//! again when its limit changes. The count is per process: behind a load
//! balancer each instance allows the full rate.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::record::{RateLimit, TokenId};

/// How many limiters are kept before the oldest are forgotten (all at
/// once: a forgotten token starts again with a full budget).
const MAX_LIMITERS: usize = 100_000;

type Limiter = Arc<DefaultDirectRateLimiter>;

#[derive(Debug, Default)]
pub(super) struct RateLimits {
    limiters: Mutex<HashMap<TokenId, (RateLimit, Limiter)>>,
}

impl RateLimits {
    /// Takes one request from `id`'s budget; when it is spent, how long
    /// until the next request would be allowed.
    pub(super) fn check(&self, id: TokenId, limit: RateLimit) -> Result<(), Duration> {
        let limiter = self.limiter(id, limit);
        limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn limiter(&self, id: TokenId, limit: RateLimit) -> Limiter {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, limiter)) = limiters.get(&id)
            && *known == limit
        {
            return Arc::clone(limiter);
        }
        if limiters.len() >= MAX_LIMITERS {
            limiters.clear();
        }
        let limiter = Arc::new(RateLimiter::direct(quota(limit)));
        limiters.insert(id, (limit, Arc::clone(&limiter)));
        limiter
    }
}

/// `requests` at once, refilled one every `per / requests`.
fn quota(limit: RateLimit) -> Quota {
    let burst = NonZeroU32::new(limit.requests()).unwrap_or(NonZeroU32::MIN);
    let per = Duration::try_from(limit.per()).unwrap_or(Duration::from_secs(1));
    Quota::with_period(per / burst.get())
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst)
}
