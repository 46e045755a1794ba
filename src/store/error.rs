//! What a store reports.

use thiserror::Error;

use crate::error::ErrorCode;

/// What a [`TokenStore`](super::TokenStore) reports: a refusal the contract
/// defines, or a backend that could not answer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The owner already has an active token with this name.
    #[error("the owner already has an active token with this name")]
    NameTaken,
    /// The owner already has the most active tokens allowed.
    #[error("the owner already has {limit} active tokens")]
    LimitReached {
        /// The cap.
        limit: usize,
    },
    /// The store has held a token before; setup cannot be claimed again.
    #[error("this installation was already claimed")]
    AlreadyClaimed,
    /// No token has this id.
    #[error("no such token")]
    NotFound,
    /// The token is revoked or expired and cannot be changed.
    #[error("the token is revoked or expired")]
    Inactive,
    /// A record with this id or hash exists already.
    #[error("a token with this id or hash exists already")]
    Duplicate,
    /// The token is temporary: part of the service's configuration, kept
    /// in memory, it cannot be changed, rotated, revoked, deleted or
    /// stored. A revocation in memory would not last (a restart, or
    /// another instance, would honour the token again), so none is made:
    /// remove the token from the configuration and restart.
    #[error(
        "temporary tokens are part of the service's configuration and cannot be changed, revoked or deleted here: remove the token from the configuration and restart every instance"
    )]
    Temporary,
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

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::NameTaken => "NAME_TAKEN",
            Self::LimitReached { .. } => "TOKEN_LIMIT_REACHED",
            Self::AlreadyClaimed => "ALREADY_CLAIMED",
            Self::NotFound => "NOT_FOUND",
            Self::Inactive => "TOKEN_INACTIVE",
            Self::Duplicate => "DUPLICATE",
            Self::Temporary => "TOKEN_TEMPORARY",
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
}
