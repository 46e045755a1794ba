//! What a store reports.

use thiserror::Error;

use crate::error::ErrorCode;

/// What a store may answer besides its result: exactly what storage
/// knows. The rules' refusals (a taken name, the cap, an inactive token)
/// are not a store's to make: a plan makes them, and the store only
/// passes a plan's refusal on as [`Refused`](Self::Refused).
///
/// | variant | when |
/// | --- | --- |
/// | `Duplicate` | an insert names an id or a hash that is stored |
/// | `AlreadyClaimed` | a change with `only_if_never_held` meets the marker |
/// | `Refused` | the plan refused the change: nothing written |
/// | `Unavailable` | the backend failed, or holds something it cannot read |
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record with this id or hash exists already.
    #[error("a token with this id or hash exists already")]
    Duplicate,
    /// The store has held a token before; setup cannot be claimed again.
    #[error("this installation was already claimed")]
    AlreadyClaimed,
    /// The change's plan refused it, and nothing was written. A store
    /// answers it when its plan answers [`Refused`](super::Refused) (`?`
    /// on the plan's result does it); the reason is the rule's, kept by
    /// the rule.
    #[error("the change was refused by its plan")]
    Refused,
    /// The backend failed (connection, I/O, corrupt data). Verification
    /// fails closed on it.
    #[error("token store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(source.into())
    }
}

impl From<super::Refused> for StoreError {
    fn from(_: super::Refused) -> Self {
        Self::Refused
    }
}

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::Duplicate => "DUPLICATE",
            Self::AlreadyClaimed => "ALREADY_CLAIMED",
            Self::Refused => "REFUSED",
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
}
