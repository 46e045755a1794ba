//! Why an `Authorization` header carries no usable bearer token.

use thiserror::Error;

use crate::error::ErrorCode;

/// The `Authorization` header does not carry exactly one usable bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BearerError {
    /// No `Authorization` header.
    #[error("no credentials")]
    Missing,
    /// A scheme other than `Bearer` (RFC 6750 treats it as no credentials).
    #[error("authorization scheme is not Bearer")]
    UnsupportedScheme,
    /// The header is present but blank.
    #[error("authorization header is empty")]
    EmptyHeader,
    /// `Bearer` with no token after it.
    #[error("bearer token is empty")]
    EmptyToken,
    /// A control character (including a tab) in the credentials.
    #[error("authorization header contains a control character")]
    ControlCharacter,
    /// A character outside the RFC 6750 `b64token` set.
    #[error("bearer token contains a character outside the b64token set")]
    InvalidCharacter,
    /// More than one credential: a list, or several headers.
    #[error("more than one credential was presented")]
    MultipleCredentials,
    /// Something after the token.
    #[error("unexpected data after the bearer token")]
    TrailingData,
}

impl BearerError {
    /// Whether this means "no bearer credentials" (401 without an RFC 6750
    /// error code) rather than a malformed request (400 `invalid_request`).
    pub const fn is_missing_credentials(&self) -> bool {
        matches!(self, Self::Missing | Self::UnsupportedScheme)
    }
}

impl ErrorCode for BearerError {
    fn code(&self) -> &'static str {
        if self.is_missing_credentials() { "UNAUTHORIZED" } else { "INVALID_REQUEST" }
    }
}
