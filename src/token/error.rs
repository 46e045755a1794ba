//! Why a string is not a token, why minting failed, why a custom secret
//! is refused.

use thiserror::Error;

use crate::error::ErrorCode;

/// A string is not a well-formed token; which check failed.
///
/// Checks run in the order of the variants, so the first failing one is
/// reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// It does not start with the expected `prefix_`.
    #[error("token prefix is missing or not the expected one")]
    Prefix,
    /// It is too long or too short.
    #[error("token has the wrong length")]
    Length,
    /// It holds a character outside base64url.
    #[error("token contains characters outside base64url")]
    Alphabet,
    /// The last six characters do not match the CRC32 of the rest.
    #[error("token checksum does not match")]
    Checksum,
    /// It carries a minting tag this service's keys did not make: it was
    /// not minted here (or under a key no longer accepted).
    #[error("token was not minted by this service")]
    Tag,
    /// It carries no minting tag, and this service refuses untagged tokens.
    #[error("token carries no minting tag")]
    Untagged,
}

impl ErrorCode for FormatError {
    fn code(&self) -> &'static str {
        "INVALID_TOKEN"
    }
}

/// Minting failed because the operating system gave no randomness.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MintError {
    /// The CSPRNG failed; the text is the system's reason.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
}

impl ErrorCode for MintError {
    fn code(&self) -> &'static str {
        "INTERNAL"
    }
}

/// A custom (not minted) secret is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CustomSecretError {
    /// Fewer than 8 characters.
    #[error("custom secret must be at least 8 characters")]
    TooShort,
    /// More than 512 characters.
    #[error("custom secret must be at most 512 characters")]
    TooLong,
    /// A character that cannot travel in a bearer header.
    #[error("custom secret may only use letters, digits and - . _ ~ + / (then =)")]
    Charset,
    /// The service verifies only tokens in its own format, so a custom
    /// secret could never verify (see `accept_custom_secrets`).
    #[error("this service does not accept custom secrets")]
    NotAccepted,
    /// It starts with the service's own `prefix_` but is not a well-formed
    /// token: verification would take it for a mistyped one.
    #[error("a custom secret may not start with the service's token prefix")]
    ClaimsPrefix,
}

impl ErrorCode for CustomSecretError {
    fn code(&self) -> &'static str {
        "INVALID_SECRET"
    }
}
