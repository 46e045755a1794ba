//! Usage limits: a number of verifications a token has left, optionally
//! refilled every interval.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::RecordError;

/// How many successful verifications a token has left, and how it is
/// refilled. Each successful verification consumes one, atomically in the
/// store (so across instances on a shared database); at zero the token
/// answers `invalid_token` until its next refill.
///
/// ```
/// use tokenkeep::record::Usage;
/// use tokenkeep::time::{Duration, OffsetDateTime};
/// let usage = Usage::new(10, OffsetDateTime::UNIX_EPOCH)?.refilled(100, Duration::days(1))?;
/// assert_eq!(usage.remaining, 10);
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Verifications left.
    pub remaining: u64,
    /// Set back to this many every `refill_every`; `None`: never refilled.
    #[serde(default)]
    pub refill_to: Option<u64>,
    /// The refill interval (with `refill_to`).
    #[serde(default, with = "seconds")]
    pub refill_every: Option<Duration>,
    /// When the last refill happened (or the limit was set).
    #[serde(with = "time::serde::rfc3339")]
    pub refilled_at: OffsetDateTime,
}

impl Usage {
    /// The most uses a limit may hold.
    pub const MAX_USES: u64 = 1_000_000_000;

    /// `remaining` uses, never refilled, counted from `now`.
    ///
    /// # Errors
    /// [`RecordError::Usage`] above [`MAX_USES`](Self::MAX_USES).
    pub fn new(remaining: u64, now: OffsetDateTime) -> Result<Self, RecordError> {
        if remaining > Self::MAX_USES {
            return Err(RecordError::Usage);
        }
        Ok(Self { remaining, refill_to: None, refill_every: None, refilled_at: now })
    }

    /// Refilled to `to` uses every `every` (at least a second, at most a
    /// year).
    ///
    /// # Errors
    /// [`RecordError::Usage`].
    pub fn refilled(self, to: u64, every: Duration) -> Result<Self, RecordError> {
        let ok = (1..=Self::MAX_USES).contains(&to)
            && every >= Duration::SECOND
            && every <= Duration::days(365);
        if !ok {
            return Err(RecordError::Usage);
        }
        Ok(Self { refill_to: Some(to), refill_every: Some(every), ..self })
    }

    /// `remaining` uses, refilled as `spec` says (`100/1d`: back to 100 every
    /// day; `None`: never), from `now`: the instant the limit is set, which
    /// starts the first refill period. A service passes its own clock's
    /// time (`TokenService::now`), so a test's manual clock governs refills
    /// too; outside a service, `OffsetDateTime::now_utc()`.
    ///
    /// ```
    /// use tokenkeep::record::Usage;
    /// let usage = Usage::parse(10, Some("100/1d"), tokenkeep::time::OffsetDateTime::UNIX_EPOCH)?;
    /// assert_eq!((usage.remaining, usage.refill_to), (10, Some(100)));
    /// # Ok::<(), tokenkeep::record::RecordError>(())
    /// ```
    ///
    /// # Errors
    /// [`RecordError::Usage`].
    pub fn parse(
        remaining: u64,
        spec: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Self, RecordError> {
        let usage = Self::new(remaining, now)?;
        let Some(spec) = spec else {
            return Ok(usage);
        };
        let (to, every) = spec.split_once('/').ok_or(RecordError::Usage)?;
        let to = to.parse().map_err(|_| RecordError::Usage)?;
        let every = crate::expiry::parse_duration(every).map_err(|_| RecordError::Usage)?;
        usage.refilled(to, every)
    }

    /// Whether the limit is one [`new`](Self::new) and
    /// [`refilled`](Self::refilled) could have made: records from outside
    /// (an import) are checked with it.
    ///
    /// ```
    /// use tokenkeep::record::Usage;
    /// use tokenkeep::time::{Duration, OffsetDateTime};
    /// let mut usage = Usage::new(1, OffsetDateTime::UNIX_EPOCH)?.refilled(5, Duration::HOUR)?;
    /// assert!(usage.check().is_ok());
    /// usage.refill_every = Some(Duration::ZERO);
    /// assert!(usage.check().is_err());
    /// # Ok::<(), tokenkeep::record::RecordError>(())
    /// ```
    ///
    /// # Errors
    /// [`RecordError::Usage`].
    pub fn check(&self) -> Result<(), RecordError> {
        let fresh = Self::new(self.remaining, self.refilled_at)?;
        match (self.refill_to, self.refill_every) {
            (None, None) => Ok(()),
            (Some(to), Some(every)) => fresh.refilled(to, every).map(|_| ()),
            _ => Err(RecordError::Usage),
        }
    }

    /// The state at `now`: refilled if a refill is due (the refill instant
    /// moves on by whole intervals, so refills never drift). A refill no
    /// constructor would make (an interval under a second) never happens,
    /// and nothing here panics, whatever the values.
    pub fn at(self, now: OffsetDateTime) -> Self {
        let (Some(to), Some(every)) = (self.refill_to, self.refill_every) else {
            return self;
        };
        if every < Duration::SECOND {
            return self;
        }
        let elapsed = now - self.refilled_at;
        if elapsed < every {
            return self;
        }
        let periods = elapsed.whole_seconds() / every.whole_seconds();
        let advanced = every
            .checked_mul(i32::try_from(periods).unwrap_or(i32::MAX))
            .and_then(|span| self.refilled_at.checked_add(span))
            .unwrap_or(now);
        Self { remaining: to, refilled_at: advanced, ..self }
    }

    /// Consumes one use at `now`: the state after, or `None` when none is
    /// left. Stores call it inside their atomic section.
    pub fn consume(self, now: OffsetDateTime) -> Option<Self> {
        self.consume_n(1, now)
    }

    /// Consumes `cost` uses at once at `now`: the state after, or `None`
    /// (nothing taken) when fewer are left.
    ///
    /// ```
    /// use tokenkeep::record::Usage;
    /// use tokenkeep::time::OffsetDateTime;
    /// let usage = Usage::new(5, OffsetDateTime::UNIX_EPOCH)?;
    /// let after = usage.consume_n(3, OffsetDateTime::UNIX_EPOCH).expect("3 of 5");
    /// assert_eq!(after.remaining, 2);
    /// assert_eq!(after.consume_n(3, OffsetDateTime::UNIX_EPOCH), None);
    /// # Ok::<(), tokenkeep::record::RecordError>(())
    /// ```
    pub fn consume_n(self, cost: u64, now: OffsetDateTime) -> Option<Self> {
        let current = self.at(now);
        let remaining = current.remaining.checked_sub(cost)?;
        Some(Self { remaining, ..current })
    }
}

/// A `Duration` as whole seconds.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&duration.whole_seconds()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<i64>::deserialize(deserializer)?.map(Duration::seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_consumed_and_refilled_by_whole_intervals() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let usage = Usage::new(2, t0).unwrap().refilled(3, Duration::hours(1)).unwrap();
        let once = usage.consume(t0).unwrap();
        let twice = once.consume(t0).unwrap();
        assert_eq!(twice.remaining, 0);
        assert_eq!(twice.consume(t0 + Duration::minutes(59)), None);
        let refilled = twice.consume(t0 + Duration::minutes(150)).unwrap();
        assert_eq!(refilled.remaining, 2, "refilled to 3, one consumed");
        assert_eq!(refilled.refilled_at, t0 + Duration::hours(2), "no drift");
        assert_eq!(Usage::new(0, t0).unwrap().consume(t0), None, "never refilled");
        assert!(Usage::new(Usage::MAX_USES + 1, t0).is_err());
        assert!(Usage::new(1, t0).unwrap().refilled(1, Duration::ZERO).is_err());
    }
}
