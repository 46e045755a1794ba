//! Request rates counted in this process, with `governor`: the default.
//!
//! Each budget gets its own limiter (so tokens with different limits never
//! share one), made again when its limit changes.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};

use super::{Budget, RateLimiter, Taken};
use crate::record::RateLimit;
use crate::store::StoreError;

/// How many limiters are kept before the oldest are forgotten (all at
/// once: a forgotten budget starts again full).
const MAX_LIMITERS: usize = 100_000;

type Limiter = Arc<DefaultDirectRateLimiter>;

/// Rate limits counted in this process: exact for one instance, and each
/// instance behind a load balancer allows the full rate (share them with
/// `RedisRateLimiter`, feature `redis`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use tokenkeep::limiter::{Budget, InProcessRateLimiter, RateLimiter, Taken};
/// use tokenkeep::TokenId;
/// let limiter = InProcessRateLimiter::default();
/// let budget = Budget::Token(TokenId::random()?);
/// let limit = "2/1m".parse()?;
/// assert_eq!(limiter.take(&budget, limit, 2).await?, Taken::Admitted);
/// assert!(matches!(limiter.take(&budget, limit, 1).await?, Taken::Spent { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct InProcessRateLimiter {
    limiters: Mutex<HashMap<Budget, (RateLimit, Limiter)>>,
}

impl InProcessRateLimiter {
    /// Takes `cost` requests from the budget at once, without waiting.
    pub(crate) fn take_now(&self, budget: &Budget, limit: RateLimit, cost: u32) -> Taken {
        let limiter = self.limiter(budget, limit);
        let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
        match limiter.check_n(cost) {
            Ok(Ok(())) => Taken::Admitted,
            Ok(Err(not_until)) => Taken::Spent {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            },
            // More than the whole burst: never, so a full period.
            Err(_) => Taken::Spent {
                retry_after: Duration::try_from(limit.per()).unwrap_or(Duration::from_secs(1)),
            },
        }
    }

    fn limiter(&self, budget: &Budget, limit: RateLimit) -> Limiter {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, limiter)) = limiters.get(budget)
            && *known == limit
        {
            return Arc::clone(limiter);
        }
        if limiters.len() >= MAX_LIMITERS {
            limiters.clear();
        }
        let limiter = Arc::new(governor::RateLimiter::direct(quota(limit)));
        limiters.insert(budget.clone(), (limit, Arc::clone(&limiter)));
        limiter
    }
}

#[async_trait]
impl RateLimiter for InProcessRateLimiter {
    async fn take(
        &self,
        budget: &Budget,
        limit: RateLimit,
        cost: u32,
    ) -> Result<Taken, StoreError> {
        Ok(self.take_now(budget, limit, cost))
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
