//! Where "now" comes from, so tests can move time.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A source of the current instant.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;

    /// The current instant as milliseconds since the Unix epoch: what every
    /// verification reads, so a clock that can answer without building a
    /// calendar date should say so here.
    fn now_unix_millis(&self) -> i64 {
        unix_millis(self.now())
    }
}

/// Milliseconds since the Unix epoch (saturating far outside ±292 million years).
pub(crate) fn unix_millis(instant: OffsetDateTime) -> i64 {
    i64::try_from(instant.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn now_unix_millis(&self) -> i64 {
        let since_epoch =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that moves only when told to; clones share one instant.
///
/// ```
/// use tokenkeep::expiry::{Clock, ManualClock};
/// use time::{Duration, OffsetDateTime};
/// let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
/// clock.advance(Duration::days(1));
/// assert_eq!(clock.now(), OffsetDateTime::UNIX_EPOCH + Duration::days(1));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Moves the clock to `instant`.
    pub fn set(&self, instant: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = instant;
    }

    /// Moves the clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_reading_agrees_with_the_calendar_one() {
        let system = SystemClock;
        let before = unix_millis(system.now());
        let fast = system.now_unix_millis();
        let after = unix_millis(system.now());
        assert!(before <= fast && fast <= after, "{before} {fast} {after}");
        let manual = ManualClock::new(OffsetDateTime::UNIX_EPOCH + Duration::milliseconds(1_500));
        assert_eq!(manual.now_unix_millis(), 1_500);
        assert_eq!(unix_millis(OffsetDateTime::UNIX_EPOCH - Duration::milliseconds(1)), -1);
    }
}
