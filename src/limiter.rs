//! Where request rates are counted: a [`RateLimiter`] takes a request's
//! cost from a budget's allowance under its [`RateLimit`].
//!
//! [`InProcessRateLimiter`] is the default: exact for one process, and each
//! instance behind a load balancer allows the full rate. `RedisRateLimiter`
//! (feature `redis`) shares every budget between instances through Redis,
//! so N instances together allow the rate once.
//!
//! A limit allows its whole burst at once and refills evenly over its
//! period (the generic cell rate algorithm): `100/1m` admits 100 requests
//! at once, then one every 600 ms.

mod in_process;
#[cfg(feature = "redis")]
mod redis;

use std::time::Duration;

use async_trait::async_trait;

pub use in_process::InProcessRateLimiter;
#[cfg(feature = "redis")]
pub use redis::{RedisRateLimiter, WhenUnavailable};

use crate::record::{RateLimit, TokenId};
use crate::store::StoreError;

/// Whose allowance a request spends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Budget {
    /// One token's own limit.
    Token(TokenId),
    /// The limit every token of an owner shares.
    Owner(String),
}

impl Budget {
    /// The budget's name in a shared store: `token:<id>`, or `owner:` and
    /// the owner as hex (an owner is free text; hex keeps every key one
    /// plain word).
    ///
    /// ```
    /// use tokenkeep::limiter::Budget;
    /// assert_eq!(Budget::Owner("al".into()).key(), "owner:616c");
    /// ```
    pub fn key(&self) -> String {
        match self {
            Self::Token(id) => format!("token:{id}"),
            Self::Owner(owner) => {
                let hex: String = owner.bytes().map(|byte| format!("{byte:02x}")).collect();
                format!("owner:{hex}")
            }
        }
    }
}

/// What a limiter decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The cost was taken: the request may go on.
    Admitted,
    /// The allowance is spent; nothing was taken.
    Spent {
        /// How long until the cost would be admitted.
        retry_after: Duration,
    },
}

/// Counts request rates. Implement it to keep the counts elsewhere; the
/// verification path calls it only for tokens that carry a limit.
#[async_trait]
pub trait RateLimiter: std::fmt::Debug + Send + Sync + 'static {
    /// Takes `cost` requests (at least 1) from `budget`'s allowance under
    /// `limit`, atomically: concurrent calls, on any instance sharing the
    /// counts, never admit more than the limit.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the counts cannot be reached and
    /// the limiter was told to refuse then: verification fails closed
    /// (503).
    async fn take(&self, budget: &Budget, limit: RateLimit, cost: u32)
    -> Result<Taken, StoreError>;
}
