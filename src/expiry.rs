//! Lifetimes like `12h`, `30d`, `90d`, `1y`, and the clock they are measured by.

mod clock;
mod error;

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};

pub(crate) use clock::unix_millis;
pub use clock::{Clock, ManualClock, SystemClock};

pub use error::DurationError;

/// When a new token stops working.
///
/// ```
/// use tokenkeep::Expiry;
/// use time::Duration;
/// assert_eq!("90d".parse::<Expiry>()?, Expiry::After(Duration::days(90)));
/// assert_eq!("1y".parse::<Expiry>()?, Expiry::After(Duration::days(365)));
/// assert_eq!("never".parse::<Expiry>()?, Expiry::Never);
/// assert!("0d".parse::<Expiry>().is_err());
/// # Ok::<(), tokenkeep::expiry::DurationError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expiry {
    /// The token never expires.
    #[default]
    Never,
    /// The token expires this long after it is issued.
    After(Duration),
}

impl Expiry {
    /// The longest lifetime accepted: 100 years.
    pub const MAX_LIFETIME: Duration = Duration::days(36_500);

    /// The instant a token issued at `now` expires.
    ///
    /// # Errors
    /// [`DurationError::Zero`] for a lifetime that is not positive,
    /// [`DurationError::TooLong`] past 100 years or representable time.
    pub fn expires_at(self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, DurationError> {
        match self {
            Self::Never => Ok(None),
            Self::After(lifetime) if lifetime <= Duration::ZERO => Err(DurationError::Zero),
            Self::After(lifetime) if lifetime > Expiry::MAX_LIFETIME => Err(DurationError::TooLong),
            Self::After(lifetime) => {
                now.checked_add(lifetime).map(Some).ok_or(DurationError::TooLong)
            }
        }
    }
}

impl FromStr for Expiry {
    type Err = DurationError;

    /// `never`, or a lifetime as [`parse_duration`] reads it.
    fn from_str(text: &str) -> Result<Self, DurationError> {
        if text == "never" { Ok(Self::Never) } else { parse_duration(text).map(Self::After) }
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Never => f.write_str("never"),
            Self::After(lifetime) => write!(f, "{}s", lifetime.whole_seconds()),
        }
    }
}

/// Reads a positive whole number followed by one unit: `s`, `m` (minutes),
/// `h`, `d`, `w` or `y` (365 days), at most 100 years.
///
/// ```
/// use tokenkeep::expiry::parse_duration;
/// use time::Duration;
/// assert_eq!(parse_duration("12h")?, Duration::hours(12));
/// assert_eq!(parse_duration("10m")?, Duration::minutes(10));
/// # Ok::<(), tokenkeep::expiry::DurationError>(())
/// ```
///
/// # Errors
/// [`DurationError`]: empty text, a missing or signed number, zero, an
/// unknown unit, or more than 100 years.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(DurationError::Number);
    }
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(DurationError::Unit),
    };
    // Anything over 12 digits is over 100 years in any unit.
    let count: i64 = if number.len() > 12 {
        return Err(DurationError::TooLong);
    } else {
        number.parse().map_err(|_| DurationError::Number)?
    };
    if count == 0 {
        return Err(DurationError::Zero);
    }
    let lifetime =
        count.checked_mul(seconds_per_unit).map(Duration::seconds).ok_or(DurationError::TooLong)?;
    if lifetime > Expiry::MAX_LIFETIME {
        return Err(DurationError::TooLong);
    }
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_display_in_seconds_and_parse_back() {
        for (text, shown) in [("12h", "43200s"), ("1y", "31536000s"), ("never", "never")] {
            let expiry = text.parse::<Expiry>().unwrap();
            assert_eq!(expiry.to_string(), shown);
            assert_eq!(shown.parse::<Expiry>().unwrap(), expiry);
        }
    }

    #[test]
    fn reads_the_lifetimes_users_type() {
        for (text, expected) in [
            ("12h", Duration::hours(12)),
            ("30d", Duration::days(30)),
            ("90d", Duration::days(90)),
            ("1y", Duration::days(365)),
            ("2w", Duration::days(14)),
            ("45s", Duration::seconds(45)),
            ("10m", Duration::minutes(10)),
            ("000000000045s", Duration::seconds(45)),
            ("007d", Duration::days(7)),
            ("100y", Duration::days(36_500)),
        ] {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_lifetime() {
        use DurationError::*;
        for (text, error) in [
            ("", Empty),
            ("d", Number),
            ("-5d", Number),
            ("+5d", Number),
            (" 5d", Number),
            ("0d", Zero),
            ("000h", Zero),
            ("5", Unit),
            ("5 d", Unit),
            ("5D", Unit),
            ("5days", Unit),
            ("1.5d", Unit),
            ("5d5", Unit),
            ("101y", TooLong),
            ("36501d", TooLong),
            ("99999999999999999999999d", TooLong),
            ("9223372036854775807s", TooLong),
            ("never", Number),
        ] {
            assert_eq!(parse_duration(text), Err(error), "{text:?}");
        }
        assert!("forever".parse::<Expiry>().is_err());
    }

    #[test]
    fn expiry_instants_are_checked() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(Expiry::Never.expires_at(now), Ok(None));
        assert_eq!(
            Expiry::After(Duration::hours(1)).expires_at(now),
            Ok(Some(now + Duration::hours(1)))
        );
        assert_eq!(Expiry::After(Duration::seconds(-1)).expires_at(now), Err(DurationError::Zero));
        assert_eq!(
            Expiry::After(Expiry::MAX_LIFETIME).expires_at(now),
            Ok(Some(now + Expiry::MAX_LIFETIME)),
            "exactly the longest lifetime is accepted"
        );
        assert_eq!(
            Expiry::After(Expiry::MAX_LIFETIME + Duration::seconds(1)).expires_at(now),
            Err(DurationError::TooLong)
        );
        let end_of_time = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(
            Expiry::After(Duration::days(1)).expires_at(end_of_time),
            Err(DurationError::TooLong)
        );
    }
}
