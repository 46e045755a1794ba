//! A token's request rate: at most so many verifications per period,
//! enforced in the verifying process.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Duration;

use super::RecordError;
use crate::expiry::parse_duration;

/// At most `requests` verifications per `per`, as `100/1m`: the whole
/// burst may come at once, and the allowance refills evenly over the
/// period. Counted where the service's [`RateLimiter`](crate::limiter::RateLimiter)
/// counts: by default **per process**, where behind a load balancer each
/// instance allows the full rate; with `RedisRateLimiter` (feature `redis`)
/// every instance shares one count.
///
/// ```
/// use tokenkeep::record::RateLimit;
/// let limit: RateLimit = "100/1m".parse()?;
/// assert_eq!((limit.requests(), limit.per()), (100, tokenkeep::time::Duration::minutes(1)));
/// assert_eq!(limit.to_string(), "100/1m");
/// assert!("0/1m".parse::<RateLimit>().is_err());
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
// Sixteen bytes, and `Option<RateLimit>` no more (the count is never 0):
// every record carries the option, few set it.
pub struct RateLimit {
    requests: NonZeroU32,
    /// The period in nanoseconds (at most a day's, well inside a `u64`).
    per_nanos: u64,
}

impl RateLimit {
    /// The most requests a limit may allow per period.
    pub const MAX_REQUESTS: u32 = 1_000_000;
    /// The longest period.
    pub const MAX_PERIOD: Duration = Duration::days(1);

    /// `requests` per `per`: 1 to a million requests, per second to a day.
    ///
    /// # Errors
    /// [`RecordError::RateLimit`].
    pub fn new(requests: u32, per: Duration) -> Result<Self, RecordError> {
        let ok = (1..=Self::MAX_REQUESTS).contains(&requests)
            && per >= Duration::SECOND
            && per <= Self::MAX_PERIOD;
        if !ok {
            return Err(RecordError::RateLimit);
        }
        // Both hold within the bounds just checked.
        let requests = NonZeroU32::new(requests).ok_or(RecordError::RateLimit)?;
        let per_nanos =
            u64::try_from(per.whole_nanoseconds()).map_err(|_| RecordError::RateLimit)?;
        Ok(Self { requests, per_nanos })
    }

    /// How many requests per period.
    pub const fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The period.
    pub const fn per(&self) -> Duration {
        // At most a day's nanoseconds: the cast never wraps.
        Duration::nanoseconds(self.per_nanos as i64)
    }
}

impl FromStr for RateLimit {
    type Err = RecordError;

    fn from_str(text: &str) -> Result<Self, RecordError> {
        let (requests, per) = text.split_once('/').ok_or(RecordError::RateLimit)?;
        let requests = requests.parse().map_err(|_| RecordError::RateLimit)?;
        let per = parse_duration(per).map_err(|_| RecordError::RateLimit)?;
        Self::new(requests, per)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole seconds: the period as it was written (`1m`).
        let seconds = self.per().whole_seconds();
        let (count, unit) = [(86_400, "d"), (3_600, "h"), (60, "m")]
            .into_iter()
            .find(|(size, _)| seconds % size == 0)
            .map_or((seconds, "s"), |(size, unit)| (seconds / size, unit));
        write!(f, "{}/{count}{unit}", self.requests)
    }
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RateLimit({self})")
    }
}

impl Serialize for RateLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RateLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
