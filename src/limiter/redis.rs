//! Request rates shared by every instance, counted in Redis: one Lua
//! script per check (GCRA: one key per budget holding its theoretical
//! arrival time), atomic, one round trip, timed by the Redis server's own
//! clock so the instances' clocks never matter.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;

use super::{Budget, InProcessRateLimiter, RateLimiter, Taken};
use crate::record::RateLimit;
use crate::store::StoreError;

/// The check: `KEYS[1]` the budget, `ARGV[1]` the emission interval and
/// `ARGV[2]` the burst (both in microseconds: one request's share of the
/// period, and the whole period), `ARGV[3]` the cost. Answers
/// `{1, 0}` when admitted, `{0, wait_us}` when spent.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now_us
if tat < now_us then tat = now_us end
local next_tat = tat + interval * cost
local allowed_at = next_tat - burst
if allowed_at > now_us then
  return {0, allowed_at - now_us}
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now_us) / 1000) + 1)
return {1, 0}
";

/// How long one check may take before Redis counts as unreachable.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// How long after a failure the next check tries Redis again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What a [`RedisRateLimiter`] does while Redis cannot be reached: the
/// operator's choice. Either way a `warn` line (`tokenkeep::rate`) and the
/// metric `tokenkeep_rate_limiter_unavailable_total` say so, and the next
/// check after a second tries Redis again, so it recovers by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// Count in this process meanwhile (each instance then allows the
    /// full rate): the service stays up.
    InProcess,
    /// Refuse the requests of rate-limited tokens (503): no request goes
    /// past a limit.
    Refuse,
}

/// Rate limits shared by every instance through Redis.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use tokenkeep::limiter::{RedisRateLimiter, WhenUnavailable};
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Prefix, TokenManager};
///
/// let limiter = RedisRateLimiter::new("redis://127.0.0.1:6379", "tokenkeep:rate:", WhenUnavailable::InProcess)?;
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
///     .rate_limiter(Arc::new(limiter))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisRateLimiter {
    client: redis::Client,
    prefix: String,
    when_unavailable: WhenUnavailable,
    fallback: InProcessRateLimiter,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// Since when Redis has been unreachable, and when to try it again.
    down: Mutex<Option<Instant>>,
    script: redis::Script,
}

impl RedisRateLimiter {
    /// A limiter on the Redis at `url`, its keys under `prefix`. It
    /// connects at its first check, and again after any failure.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a URL that is not a Redis URL.
    pub fn new(
        url: &str,
        prefix: &str,
        when_unavailable: WhenUnavailable,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(StoreError::unavailable)?,
            prefix: prefix.to_owned(),
            when_unavailable,
            fallback: InProcessRateLimiter::default(),
            connection: tokio::sync::Mutex::new(None),
            down: Mutex::new(None),
            script: redis::Script::new(GCRA),
        })
    }

    /// One check in Redis.
    async fn ask(&self, key: &str, limit: RateLimit, cost: u32) -> Result<Taken, StoreError> {
        let period = u64::try_from(limit.per().whole_microseconds()).unwrap_or(u64::MAX).max(1);
        let interval = (period / u64::from(limit.requests())).max(1);
        let mut slot = self.connection.lock().await;
        let mut connection = match slot.as_ref() {
            Some(connection) => connection.clone(),
            None => {
                let opened = self.client.get_multiplexed_async_connection();
                let opened = tokio::time::timeout(CALL_TIMEOUT, opened).await;
                let opened = opened.map_err(StoreError::unavailable)?;
                slot.insert(opened.map_err(StoreError::unavailable)?).clone()
            }
        };
        drop(slot);
        let mut invocation = self.script.key(key);
        invocation.arg(interval).arg(interval * u64::from(limit.requests())).arg(cost.max(1));
        let answered = tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async(&mut connection));
        let answer: Result<(u8, u64), _> = match answered.await {
            Ok(answer) => answer.map_err(StoreError::unavailable),
            Err(elapsed) => Err(StoreError::unavailable(elapsed)),
        };
        match answer {
            Ok((1, _)) => Ok(Taken::Admitted),
            Ok((_, wait_us)) => Ok(Taken::Spent { retry_after: Duration::from_micros(wait_us) }),
            Err(error) => {
                // A new connection at the next try.
                *self.connection.lock().await = None;
                Err(error)
            }
        }
    }

    fn unreachable(&self, error: &StoreError) {
        let mut down = self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.is_none() {
            tracing::warn!(
                target: "tokenkeep::rate",
                error = %error,
                when_unavailable = ?self.when_unavailable,
                "the shared rate limit store cannot be reached"
            );
        }
        *down = Some(Instant::now());
        crate::observability::rate_limiter_unavailable();
    }

    /// Whether Redis failed less than a second ago.
    fn resting(&self) -> bool {
        let down = self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        down.is_some_and(|since| since.elapsed() < RETRY_AFTER_FAILURE)
    }

    fn reached(&self) {
        let mut down = self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.take().is_some() {
            tracing::info!(target: "tokenkeep::rate", "the shared rate limit store is reached again");
        }
    }

    fn without_redis(
        &self,
        budget: &Budget,
        limit: RateLimit,
        cost: u32,
    ) -> Result<Taken, StoreError> {
        match self.when_unavailable {
            WhenUnavailable::InProcess => Ok(self.fallback.take_now(budget, limit, cost)),
            WhenUnavailable::Refuse => {
                Err(StoreError::unavailable("the shared rate limit store cannot be reached"))
            }
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn take(
        &self,
        budget: &Budget,
        limit: RateLimit,
        cost: u32,
    ) -> Result<Taken, StoreError> {
        if self.resting() {
            return self.without_redis(budget, limit, cost);
        }
        let key = format!("{}{}", self.prefix, budget.key());
        match self.ask(&key, limit, cost).await {
            Ok(taken) => {
                self.reached();
                Ok(taken)
            }
            Err(error) => {
                self.unreachable(&error);
                self.without_redis(budget, limit, cost)
            }
        }
    }
}
