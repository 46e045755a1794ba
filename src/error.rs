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
    fn http_status(&self) -> u16 {
        400
    }
}

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
    fn http_status(&self) -> u16 {
        400
    }
}

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
}

impl ErrorCode for NameError {
    fn code(&self) -> &'static str {
        "INVALID_NAME"
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// Another record field is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// An id must be 22 base64url characters.
    #[error("token id must be 22 base64url characters")]
    Id,
    /// An owner must be 1–256 characters without control characters.
    #[error("owner must be 1-256 characters without control characters")]
    Owner,
    /// A description must be at most 1,000 characters.
    #[error("description must be at most 1000 characters without control characters")]
    Description,
    /// A profile must be 1–100 characters without control characters.
    #[error("profile must be 1-100 characters without control characters")]
    Profile,
}

impl ErrorCode for RecordError {
    fn code(&self) -> &'static str {
        match self {
            Self::Id => "INVALID_ID",
            Self::Owner => "INVALID_OWNER",
            Self::Description => "INVALID_DESCRIPTION",
            Self::Profile => "INVALID_PROFILE",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// What a [`TokenStore`](crate::TokenStore) reports: a refusal the contract
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
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Unavailable(_) => 503,
            _ => 409,
        }
    }
}

/// Why a token is `invalid_token`. The client always gets the same answer;
/// this is for the server's logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvalidToken {
    /// It is not a well-formed token (prefix, length, alphabet, checksum).
    #[error("malformed token: {0}")]
    Format(FormatError),
    /// No token has its hash.
    #[error("unknown token")]
    Unknown,
    /// It was revoked.
    #[error("revoked token")]
    Revoked,
    /// Its expiry has passed.
    #[error("expired token")]
    Expired,
}

/// Verification refused a request (design §5).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No bearer credentials: 401 with a bare challenge.
    #[error("no bearer credentials ({0})")]
    NoCredentials(BearerError),
    /// A malformed `Authorization` header, or two credentials at once: 400.
    #[error("malformed credentials: {0}")]
    InvalidRequest(BearerError),
    /// Unknown, malformed, revoked or expired: 401 `invalid_token`.
    #[error("invalid token: {0}")]
    InvalidToken(InvalidToken),
    /// Valid, but without what the handler requires: 403 `insufficient_scope`.
    #[error("insufficient scope: requires {scope}")]
    InsufficientScope {
        /// The scope that would have been enough (`write:/releases`).
        scope: String,
    },
    /// The store could not answer: 503, and the request is not authenticated.
    #[error("cannot verify: {0}")]
    Unavailable(#[source] StoreError),
}

impl From<BearerError> for AuthError {
    fn from(error: BearerError) -> Self {
        if error.is_missing_credentials() {
            Self::NoCredentials(error)
        } else {
            Self::InvalidRequest(error)
        }
    }
}

impl AuthError {
    /// The message for the client: the same for every `invalid_token` reason.
    pub fn client_message(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "authentication required",
            Self::InvalidRequest(_) => "malformed Authorization header",
            Self::InvalidToken(_) => "the token is invalid, expired or revoked",
            Self::InsufficientScope { .. } => "the token does not grant access to this resource",
            Self::Unavailable(_) => "token verification is temporarily unavailable",
        }
    }

    /// The `WWW-Authenticate` challenge to answer with, if any (none for 503).
    ///
    /// ```
    /// use tokenkeep::{AuthError, InvalidToken};
    /// let error = AuthError::InvalidToken(InvalidToken::Revoked);
    /// assert_eq!(
    ///     error.challenge("tokenkeep").unwrap().to_string(),
    ///     r#"Bearer realm="tokenkeep", error="invalid_token""#
    /// );
    /// ```
    pub fn challenge(&self, realm: &str) -> Option<crate::Challenge> {
        use crate::ChallengeError as Rfc;
        let challenge = crate::Challenge::new(realm);
        match self {
            Self::NoCredentials(_) => Some(challenge),
            Self::InvalidRequest(_) => Some(challenge.error(Rfc::InvalidRequest)),
            Self::InvalidToken(_) => Some(challenge.error(Rfc::InvalidToken)),
            Self::InsufficientScope { scope } => {
                Some(challenge.error(Rfc::InsufficientScope).scope(scope))
            }
            Self::Unavailable(_) => None,
        }
    }
}

impl ErrorCode for AuthError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "UNAUTHORIZED",
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::InvalidToken(_) => "INVALID_TOKEN",
            Self::InsufficientScope { .. } => "INSUFFICIENT_SCOPE",
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::NoCredentials(_) | Self::InvalidToken(_) => 401,
            Self::InvalidRequest(_) => 400,
            Self::InsufficientScope { .. } => 403,
            Self::Unavailable(_) => 503,
        }
    }
}

/// A management call (issue, list, rename, revoke, rotate, claim…) was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ManageError {
    /// Bad token name.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// Bad owner, description, profile or id.
    #[error(transparent)]
    InvalidRecord(#[from] RecordError),
    /// Bad lifetime or grace period.
    #[error(transparent)]
    InvalidDuration(#[from] DurationError),
    /// Bad ability, access or route.
    #[error(transparent)]
    InvalidScope(#[from] ScopeError),
    /// Bad custom secret.
    #[error(transparent)]
    InvalidSecret(#[from] CustomSecretError),
    /// The acting principal may not do this.
    #[error("not allowed to manage these tokens")]
    Forbidden,
    /// No such token (or not one the actor may see).
    #[error("no such token")]
    NotFound,
    /// A name matches active tokens of several owners; name the owner.
    #[error("several owners have an active token with this name")]
    Ambiguous,
    /// The owner already has an active token with this name.
    #[error("the owner already has an active token with this name")]
    NameTaken,
    /// The owner's cap of active tokens is reached; revoke one first.
    #[error("the owner already has {limit} active tokens; revoke one first")]
    LimitReached {
        /// The cap.
        limit: usize,
    },
    /// The token is revoked or expired.
    #[error("the token is revoked or expired")]
    Inactive,
    /// Temporary tokens are configured at start-up and cannot be changed.
    #[error("temporary tokens cannot be changed")]
    Temporary,
    /// The installation was claimed before.
    #[error("this installation was already claimed")]
    AlreadyClaimed,
    /// The setup token is missing or wrong.
    #[error("the setup token is missing or wrong")]
    InvalidSetupToken,
    /// A record with this id or hash exists already.
    #[error("a token with this id or hash exists already")]
    Duplicate,
    /// No randomness for a new token.
    #[error(transparent)]
    Mint(#[from] MintError),
    /// The store could not answer.
    #[error("token store unavailable: {0}")]
    Unavailable(#[source] StoreError),
}

impl From<StoreError> for ManageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NameTaken => Self::NameTaken,
            StoreError::LimitReached { limit } => Self::LimitReached { limit },
            StoreError::AlreadyClaimed => Self::AlreadyClaimed,
            StoreError::NotFound => Self::NotFound,
            StoreError::Inactive => Self::Inactive,
            StoreError::Duplicate => Self::Duplicate,
            other => Self::Unavailable(other),
        }
    }
}

impl ErrorCode for ManageError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(e) => e.code(),
            Self::InvalidRecord(e) => e.code(),
            Self::InvalidDuration(e) => e.code(),
            Self::InvalidScope(e) => e.code(),
            Self::InvalidSecret(e) => e.code(),
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Ambiguous => "AMBIGUOUS_NAME",
            Self::NameTaken => "NAME_TAKEN",
            Self::LimitReached { .. } => "TOKEN_LIMIT_REACHED",
            Self::Inactive => "TOKEN_INACTIVE",
            Self::Temporary => "TOKEN_TEMPORARY",
            Self::AlreadyClaimed => "ALREADY_CLAIMED",
            Self::InvalidSetupToken => "INVALID_SETUP_TOKEN",
            Self::Duplicate => "DUPLICATE",
            Self::Mint(e) => e.code(),
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidName(_)
            | Self::InvalidRecord(_)
            | Self::InvalidDuration(_)
            | Self::InvalidScope(_)
            | Self::InvalidSecret(_) => 400,
            Self::InvalidSetupToken => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Mint(_) => 500,
            Self::Unavailable(_) => 503,
            _ => 409,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_table_holds() {
        let cases: Vec<(Box<dyn ErrorCode>, u16, &str)> = vec![
            (
                Box::new(AuthError::from(BearerError::Missing)),
                401,
                "UNAUTHORIZED",
            ),
            (
                Box::new(AuthError::from(BearerError::TrailingData)),
                400,
                "INVALID_REQUEST",
            ),
            (
                Box::new(AuthError::InvalidToken(InvalidToken::Expired)),
                401,
                "INVALID_TOKEN",
            ),
            (
                Box::new(AuthError::InsufficientScope {
                    scope: "manager".into(),
                }),
                403,
                "INSUFFICIENT_SCOPE",
            ),
            (
                Box::new(AuthError::Unavailable(StoreError::unavailable("down"))),
                503,
                "STORE_UNAVAILABLE",
            ),
            (
                Box::new(ManageError::LimitReached { limit: 10 }),
                409,
                "TOKEN_LIMIT_REACHED",
            ),
            (Box::new(ManageError::NameTaken), 409, "NAME_TAKEN"),
            (
                Box::new(ManageError::AlreadyClaimed),
                409,
                "ALREADY_CLAIMED",
            ),
            (
                Box::new(ManageError::from(NameError::TooLong)),
                400,
                "INVALID_NAME",
            ),
            (
                Box::new(ManageError::from(DurationError::Zero)),
                400,
                "INVALID_DURATION",
            ),
            (
                Box::new(ManageError::from(ScopeError::Path)),
                400,
                "INVALID_SCOPE",
            ),
            (Box::new(ManageError::Forbidden), 403, "FORBIDDEN"),
            (Box::new(ManageError::NotFound), 404, "NOT_FOUND"),
            (
                Box::new(ManageError::InvalidSetupToken),
                401,
                "INVALID_SETUP_TOKEN",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.http_status(), error.code()), (status, code));
        }
    }

    #[test]
    fn store_refusals_keep_their_meaning_in_management() {
        assert!(matches!(
            ManageError::from(StoreError::LimitReached { limit: 3 }),
            ManageError::LimitReached { limit: 3 }
        ));
        assert!(matches!(
            ManageError::from(StoreError::unavailable("x")),
            ManageError::Unavailable(_)
        ));
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        let scope = AuthError::InsufficientScope {
            scope: "write:/releases".into(),
        };
        assert_eq!(
            scope.challenge("tk").unwrap().to_string(),
            r#"Bearer realm="tk", error="insufficient_scope", scope="write:/releases""#
        );
        assert_eq!(
            AuthError::from(BearerError::Missing)
                .challenge("tk")
                .unwrap()
                .to_string(),
            r#"Bearer realm="tk""#
        );
        assert!(
            AuthError::Unavailable(StoreError::NotFound)
                .challenge("tk")
                .is_none()
        );
        // One client message for every invalid_token reason.
        let messages: std::collections::HashSet<_> = [
            InvalidToken::Unknown,
            InvalidToken::Revoked,
            InvalidToken::Expired,
            InvalidToken::Format(FormatError::Checksum),
        ]
        .into_iter()
        .map(|reason| AuthError::InvalidToken(reason).client_message())
        .collect();
        assert_eq!(messages.len(), 1);
    }
}

/// A command-line client's credentials cannot be used. Every variant that
/// concerns the file names its path; none holds a token.
#[cfg(feature = "client")]
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Neither the override variable nor the platform gives a config directory.
    #[error("no configuration directory: set the config directory variable")]
    NoConfigDir,
    /// The file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("{} is not a valid credential file: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is readable by other users; it is not used.
    #[error("{} is readable by other users (mode {mode:o}); run chmod 600 on it", path.display())]
    WidePermissions {
        /// The file.
        path: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The token in the file is obfuscated and no key was configured.
    #[error("{} holds an obfuscated token and this client has no key for it", path.display())]
    Obfuscated {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The host is not an `http://` or `https://` URL.
    #[error("the host must be an http:// or https:// URL")]
    InvalidHost,
    /// The token is not well-formed (a typo, or not a token at all).
    #[error("that is not a valid token: {0}")]
    InvalidToken(FormatError),
}

#[cfg(feature = "client")]
impl ErrorCode for ClientError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoConfigDir => "NO_CONFIG_DIR",
            Self::Io { .. } => "CREDENTIALS_IO",
            Self::Corrupt { .. } => "CREDENTIALS_CORRUPT",
            Self::WidePermissions { .. } => "CREDENTIALS_PERMISSIONS",
            Self::Obfuscated { .. } => "CREDENTIALS_OBFUSCATED",
            Self::InvalidHost => "INVALID_HOST",
            Self::InvalidToken(_) => "INVALID_TOKEN",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidHost | Self::InvalidToken(_) => 400,
            _ => 500,
        }
    }
}
