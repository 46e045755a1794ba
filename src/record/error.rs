//! Why a record field is unusable.

use thiserror::Error;

use crate::error::ErrorCode;

/// A token name is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty or only whitespace.
    #[error("token name is empty")]
    Empty,
    /// More than 100 characters.
    #[error("token name is longer than 100 characters")]
    TooLong,
    /// It holds a control character.
    #[error("token name contains a control character")]
    ControlCharacter,
    /// It holds an invisible or direction-changing character (a bidi
    /// control such as U+202E, a zero-width character).
    #[error("token name contains an invisible or direction-changing character")]
    InvisibleCharacter,
}

impl ErrorCode for NameError {
    fn code(&self) -> &'static str {
        "INVALID_NAME"
    }
}

/// Another record field is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// An id must be 22 base64url characters.
    #[error("token id must be 22 base64url characters")]
    Id,
    /// An owner must be 1–256 characters without control, invisible or
    /// direction-changing characters.
    #[error(
        "owner must be 1-256 characters without control, invisible or direction-changing characters"
    )]
    Owner,
    /// A description must be at most 1,000 characters without control,
    /// invisible or direction-changing characters (newlines and tabs are fine).
    #[error(
        "description must be at most 1000 characters without control, invisible or direction-changing characters"
    )]
    Description,
    /// A profile must be 1–100 characters without control, invisible or
    /// direction-changing characters.
    #[error(
        "profile must be 1-100 characters without control, invisible or direction-changing characters"
    )]
    Profile,
    /// A record's creator or revoker must be 1–200 characters without
    /// control, invisible or direction-changing characters.
    #[error(
        "created_by and revoked_by must be 1-200 characters without control, invisible or direction-changing characters"
    )]
    Principal,
    /// Metadata must be a JSON object of at most 4,096 bytes.
    #[error("metadata must be a JSON object of at most 4096 bytes")]
    Metadata,
    /// A rate limit is `REQUESTS/PERIOD`: 1 to 1,000,000 requests per 1 s
    /// to 1 d (`100/1m`).
    #[error("rate limit must be REQUESTS/PERIOD, 1 to 1000000 requests per 1s to 1d (100/1m)")]
    RateLimit,
    /// A usage limit holds at most 1,000,000,000 uses and refills every
    /// 1 s to 365 d.
    #[error("usage limit must be at most 1000000000 uses, refilled every 1s to 365d")]
    Usage,
    /// A rotation chain (`replaced_by`) must name a token of the same owner.
    #[error("replaced_by must name a token of the same owner")]
    Chain,
    /// A display prefix is empty or what minting shows of a token: a
    /// prefix of 1–16 ASCII letters and digits, `_`, and six base64url
    /// characters.
    #[error(
        "display_prefix must be empty or a prefix of 1-16 ASCII letters and digits, '_' and 6 base64url characters"
    )]
    DisplayPrefix,
}

impl ErrorCode for RecordError {
    fn code(&self) -> &'static str {
        match self {
            Self::Id => "INVALID_ID",
            Self::Owner => "INVALID_OWNER",
            Self::Description => "INVALID_DESCRIPTION",
            Self::Profile => "INVALID_PROFILE",
            Self::Principal => "INVALID_PRINCIPAL",
            Self::Metadata => "INVALID_METADATA",
            Self::RateLimit => "INVALID_RATE_LIMIT",
            Self::Usage => "INVALID_USAGE",
            Self::Chain => "INVALID_CHAIN",
            Self::DisplayPrefix => "INVALID_DISPLAY_PREFIX",
        }
    }
}
