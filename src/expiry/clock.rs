//! Where "now" comes from, so tests can move time.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A source of the current instant.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to; clones share one instant.
///
/// ```
/// use tokenkeep::{Clock, ManualClock};
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
