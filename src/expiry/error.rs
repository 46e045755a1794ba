//! Why a lifetime is unusable.

use thiserror::Error;

use crate::error::ErrorCode;

/// A lifetime such as `90d` is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Nothing was given.
    #[error("duration is empty")]
    Empty,
    /// No positive whole number leads the text.
    #[error("duration must start with a positive whole number")]
    Number,
    /// The unit is not one of `s`, `m`, `h`, `d`, `w`, `y`.
    #[error("duration unit must be one of s, m, h, d, w, y")]
    Unit,
    /// Zero is not a lifetime.
    #[error("duration must be greater than zero")]
    Zero,
    /// More than 100 years, or past the end of representable time.
    #[error("duration is longer than 100 years")]
    TooLong,
}

impl ErrorCode for DurationError {
    fn code(&self) -> &'static str {
        "INVALID_DURATION"
    }
}
