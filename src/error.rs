//! Every error the crate returns, with its stable machine code and HTTP
//! status (design §5).
//!
//! | situation | status | code |
//! | --- | --- | --- |
//! | no credentials | 401 | `UNAUTHORIZED` (challenge without error code) |
//! | malformed header, two credentials at once | 400 | `INVALID_REQUEST` |
//! | unknown, bad checksum, revoked, expired | 401 | `INVALID_TOKEN` |
//!
//! The client sees one answer for every `invalid_token` reason; the reason
//! itself stays available to the server's logs. No error here ever holds
//! token text.

use thiserror::Error;

/// A stable machine code and an HTTP status, implemented by every error type.
///
/// ```
/// use tokenkeep::{BearerError, ErrorCode};
/// assert_eq!(BearerError::EmptyToken.code(), "INVALID_REQUEST");
/// assert_eq!(BearerError::EmptyToken.http_status(), 400);
/// ```
pub trait ErrorCode {
    /// The machine code, `UPPER_SNAKE_CASE`, stable across releases.
    fn code(&self) -> &'static str;
    /// The HTTP status an API answers with.
    fn http_status(&self) -> u16;
}

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
}

impl ErrorCode for FormatError {
    fn code(&self) -> &'static str {
        "INVALID_TOKEN"
    }
    fn http_status(&self) -> u16 {
        401
    }
}

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
        if self.is_missing_credentials() {
            "UNAUTHORIZED"
        } else {
            "INVALID_REQUEST"
        }
    }
    fn http_status(&self) -> u16 {
        if self.is_missing_credentials() {
            401
        } else {
            400
        }
    }
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
    /// Another configuration value is out of range; the text says which.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

impl ErrorCode for ConfigError {
    fn code(&self) -> &'static str {
        "INVALID_CONFIG"
    }
    fn http_status(&self) -> u16 {
        500
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
    fn http_status(&self) -> u16 {
        500
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
}

impl ErrorCode for CustomSecretError {
    fn code(&self) -> &'static str {
        "INVALID_SECRET"
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// A stored or imported hash is not 64 hex characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("a token hash must be 64 hex characters")]
pub struct HashParseError;

impl ErrorCode for HashParseError {
    fn code(&self) -> &'static str {
        "INVALID_HASH"
    }
    fn http_status(&self) -> u16 {
        400
    }
}
