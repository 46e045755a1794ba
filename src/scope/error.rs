//! Why a scope is unusable.

use thiserror::Error;

use crate::error::ErrorCode;

/// A scope (ability, access or route path) is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An ability must be 1–64 printable ASCII characters without space, `"` or `\`.
    #[error("an ability must be 1-64 printable ASCII characters without space, quote or backslash")]
    Ability,
    /// Access must be `r`, `w` or `rw`.
    #[error("route access must be r, w or rw")]
    Access,
    /// A path escapes its root, hides a separator, or is not valid UTF-8.
    #[error("route path is invalid: it escapes the root, hides a separator, or is not UTF-8")]
    Path,
}

impl ErrorCode for ScopeError {
    fn code(&self) -> &'static str {
        "INVALID_SCOPE"
    }
}
