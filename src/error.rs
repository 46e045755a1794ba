//! The two error pieces every module shares: the [`ErrorCode`] trait and
//! [`ConfigError`]. Every other error type lives next to what raises it:
//!
//! | error | raised by |
//! | --- | --- |
//! | [`BearerError`](crate::bearer::BearerError) | parsing the `Authorization` header |
//! | [`FormatError`](crate::token::FormatError), [`MintError`](crate::token::MintError), [`CustomSecretError`](crate::token::CustomSecretError) | parsing and minting tokens |
//! | [`HashParseError`](crate::hash::HashParseError) | reading a stored or imported hash |
//! | [`ScopeError`](crate::scope::ScopeError) | abilities, access and route paths |
//! | [`DurationError`](crate::expiry::DurationError) | lifetimes such as `90d` |
//! | [`NameError`](crate::record::NameError), [`RecordError`](crate::record::RecordError) | record fields |
//! | [`StoreError`](crate::store::StoreError) | a [`TokenStore`](crate::store::TokenStore) |
//! | [`AuthError`](crate::AuthError) (with [`InvalidToken`](crate::InvalidToken)) | verification |
//! | `ManageError` | token management (feature `management`); it wraps a `StoreError` |
//!
//! Every one has a stable machine code. HTTP statuses are chosen where HTTP
//! is spoken: the `axum` integration's `ApiError` holds the table. No error
//! here ever holds token text.

use thiserror::Error;

/// A stable machine code, implemented by every error type of the crate.
///
/// ```
/// use tokenkeep::ErrorCode;
/// use tokenkeep::bearer::BearerError;
/// assert_eq!(BearerError::EmptyToken.code(), "INVALID_REQUEST");
/// assert_eq!(BearerError::Missing.code(), "UNAUTHORIZED");
/// ```
pub trait ErrorCode {
    /// The machine code, `UPPER_SNAKE_CASE`, stable across releases.
    fn code(&self) -> &'static str;
}

/// A configuration value the application chose is unusable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A prefix must be 1–16 ASCII letters or digits.
    #[error("token prefix must be 1-16 ASCII letters or digits")]
    Prefix,
    /// A secret must have 16–64 random bytes.
    #[error("secret size must be 16-64 bytes")]
    SecretSize,
    /// A pepper must have at least 32 bytes.
    #[error("the pepper of the keyed hash must be at least 32 bytes")]
    Pepper,
    /// A minting key must have at least 32 bytes (64 hex digits).
    #[error("a minting key must be at least 32 bytes (64 hex digits)")]
    MintKey,
    /// A `--token NAME:SECRET` temporary token is unusable; the text says why
    /// (never what the secret was).
    #[error("invalid temporary token: {0}")]
    TemporaryToken(&'static str),
    /// Another configuration value is out of range; the text says which.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

impl ErrorCode for ConfigError {
    fn code(&self) -> &'static str {
        "INVALID_CONFIG"
    }
}
