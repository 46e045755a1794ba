//! Limits every token of an owner shares, beside each token's own: a
//! request rate and a usage budget, so that an owner who mints more tokens
//! gets no more of either.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{RateLimit, Usage};

/// An owner's shared limits, kept by the store beside the owner's records
/// and read and written inside the same atomic change
/// ([`ChangeScope::with_owner_limits`](crate::store::ChangeScope::with_owner_limits),
/// [`Write::OwnerLimits`](crate::store::Write::OwnerLimits)).
///
/// A request passes only if both the token's own limits and its owner's
/// allow it. The usage budget is spent in the same change as the token's
/// own uses, so a refused request spends neither; the rate is counted by
/// the service's rate limiter under the owner's budget
/// ([`Budget::Owner`](crate::limiter::Budget::Owner)), after the token's.
///
/// ```
/// use tokenkeep::record::{OwnerLimits, Usage};
/// use tokenkeep::time::OffsetDateTime;
/// let limits = OwnerLimits {
///     rate_limit: Some("100/1m".parse()?),
///     usage: Some(Usage::parse(1_000, Some("1000/1d"), OffsetDateTime::UNIX_EPOCH)?),
/// };
/// let shared = limits.shared().expect("some limit is set");
/// assert!(shared.uses);
/// assert!(OwnerLimits::default().shared().is_none());
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerLimits {
    /// At most so many requests per period, all the owner's tokens together.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Verifications left to all the owner's tokens together, and refills.
    #[serde(default)]
    pub usage: Option<Usage>,
}

impl OwnerLimits {
    /// Whether no limit is set: the owner's tokens are limited only by
    /// their own.
    pub fn is_empty(&self) -> bool {
        self.rate_limit.is_none() && self.usage.is_none()
    }

    /// What each of the owner's tokens carries of these limits, `None`
    /// when none is set.
    pub fn shared(&self) -> Option<SharedLimits> {
        let shared = SharedLimits { rate_limit: self.rate_limit, uses: self.usage.is_some() };
        (!self.is_empty()).then_some(shared)
    }

    /// The limits at `now`: a usage budget refilled if a refill is due.
    #[must_use]
    pub fn at(self, now: OffsetDateTime) -> Self {
        Self { usage: self.usage.map(|usage| usage.at(now)), ..self }
    }
}

/// What a token record carries of its owner's limits, so that the
/// verification path knows without a lookup whether the owner limits it:
/// the owner's rate (counted under the owner's budget), and whether a
/// shared usage budget applies (its count is kept with the owner, never
/// here). The core stamps it on every record it inserts and on the owner's
/// active records whenever the owner's limits are set.
///
/// ```
/// use tokenkeep::record::SharedLimits;
/// let shared = SharedLimits { rate_limit: Some("10/1s".parse()?), uses: false };
/// assert_eq!(shared.rate_limit.map(|limit| limit.requests()), Some(10));
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedLimits {
    /// The owner's rate limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Whether the owner has a usage budget every verification spends from.
    #[serde(default)]
    pub uses: bool,
}
