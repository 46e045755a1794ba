//! What a rule answers when it does not go through: its own refusal, or
//! the store's failure.

use thiserror::Error;

use crate::error::ErrorCode;
use crate::store::StoreError;

/// What a rule decided against: a plan's refusal, made inside the change
/// from the records as they are there, so nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No token of the owner has this id.
    #[error("no such token")]
    NotFound,
    /// The token is revoked or expired (or, for a rotation, already
    /// replaced) and cannot be changed.
    #[error("the token is revoked or expired")]
    Inactive,
    /// The owner already has an active token with this name.
    #[error("the owner already has an active token with this name")]
    NameTaken,
    /// The owner already has the most active tokens allowed.
    #[error("the owner already has {limit} active tokens")]
    LimitReached {
        /// The cap.
        limit: usize,
    },
    /// The token is temporary: part of the service's configuration, kept
    /// in memory, it cannot be changed, rotated, revoked, deleted or
    /// stored. A revocation in memory would not last (a restart, or
    /// another instance, would honour the token again), so none is made:
    /// remove the token from the configuration and restart.
    #[error(
        "temporary tokens are part of the service's configuration and cannot be changed, revoked or deleted here: remove the token from the configuration and restart every instance"
    )]
    Temporary,
}

impl ErrorCode for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::Inactive => "TOKEN_INACTIVE",
            Self::NameTaken => "NAME_TAKEN",
            Self::LimitReached { .. } => "TOKEN_LIMIT_REACHED",
            Self::Temporary => "TOKEN_TEMPORARY",
        }
    }
}

/// Why a [`TokenRules`](super::TokenRules) operation did not go through:
/// the rule refused it, or the store failed (a duplicate, a claim already
/// taken, an unreachable backend).
///
/// ```
/// use tokenkeep::ErrorCode as _;
/// use tokenkeep::rules::{Refusal, RuleError};
/// let full = RuleError::from(Refusal::LimitReached { limit: 10 });
/// assert_eq!(full.code(), "TOKEN_LIMIT_REACHED");
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The rule refused: nothing was written.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The store could not do it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for RuleError {
    fn code(&self) -> &'static str {
        match self {
            Self::Refused(refusal) => refusal.code(),
            Self::Store(error) => error.code(),
        }
    }
}
