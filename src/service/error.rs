//! Why verification refused a request, and why a management call was refused.

use thiserror::Error;

use crate::bearer::BearerError;
use crate::error::ErrorCode;
use crate::store::StoreError;
use crate::token::FormatError;
#[cfg(feature = "management")]
use crate::{
    expiry::DurationError,
    record::{NameError, RecordError},
    rules::{Refusal, RuleError},
    scope::ScopeError,
    token::{CustomSecretError, MintError},
};

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
    /// Its usage limit has no use left (until its next refill).
    #[error("token has no uses left")]
    UsesExhausted,
    /// The token has an address allow-list, and the request came from
    /// outside it (or from an unknown address).
    #[error("token not allowed from this address")]
    AddressNotAllowed,
}

/// Verification refused a request.
///
/// | variant | HTTP | RFC 6750 challenge |
/// | --- | --- | --- |
/// | `NoCredentials` | 401 | `Bearer realm="…"`, no error code |
/// | `InvalidRequest` | 400 | `error="invalid_request"` |
/// | `InvalidToken` | 401 | `error="invalid_token"`, one answer for every reason |
/// | `InsufficientScope` | 403 | `error="insufficient_scope", scope="…"` |
/// | `RateLimited` | 429 | none; `Retry-After` |
/// | `Unavailable` | 503 | none: fail closed, never authenticated |
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
    /// The token's rate limit is spent in this process: 429, with the time
    /// until the next request would be allowed (`Retry-After`).
    #[error("rate limited: retry in {}s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until the next request would be allowed.
        retry_after: std::time::Duration,
    },
    /// The store could not answer: 503, and the request is not authenticated.
    #[error("cannot verify: {0}")]
    Unavailable(#[source] StoreError),
}

impl AuthError {
    /// Why, in one word for logs and metric labels: `no_credentials`,
    /// `invalid_request`, `malformed`, `unknown`, `revoked`, `expired`,
    /// `exhausted`, `address_not_allowed`, `insufficient_scope`, `rate_limited` or `unavailable`. Finer than the client's
    /// answer, which is one for every `invalid_token` reason.
    ///
    /// ```
    /// use tokenkeep::{AuthError, InvalidToken};
    /// assert_eq!(AuthError::InvalidToken(InvalidToken::Revoked).outcome(), "revoked");
    /// ```
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "no_credentials",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidToken(InvalidToken::Format(_)) => "malformed",
            Self::InvalidToken(InvalidToken::Unknown) => "unknown",
            Self::InvalidToken(InvalidToken::Revoked) => "revoked",
            Self::InvalidToken(InvalidToken::Expired) => "expired",
            Self::InvalidToken(InvalidToken::UsesExhausted) => "exhausted",
            Self::InvalidToken(InvalidToken::AddressNotAllowed) => "address_not_allowed",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// The message for the client: the same for every `invalid_token` reason.
    pub fn client_message(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "authentication required",
            Self::InvalidRequest(_) => "malformed Authorization header",
            Self::InvalidToken(_) => "the token is invalid, expired or revoked",
            Self::InsufficientScope { .. } => "the token does not grant access to this resource",
            Self::RateLimited { .. } => "too many requests for this token; retry later",
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
    pub fn challenge(&self, realm: &str) -> Option<crate::bearer::Challenge> {
        use crate::bearer::ChallengeError as Rfc;
        let challenge = crate::bearer::Challenge::new(realm);
        match self {
            Self::NoCredentials(_) => Some(challenge),
            Self::InvalidRequest(_) => Some(challenge.error(Rfc::InvalidRequest)),
            Self::InvalidToken(_) => Some(challenge.error(Rfc::InvalidToken)),
            Self::InsufficientScope { scope } => {
                Some(challenge.error(Rfc::InsufficientScope).scope(scope))
            }
            Self::RateLimited { .. } | Self::Unavailable(_) => None,
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
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) => "STORE_UNAVAILABLE",
        }
    }
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

/// A management call (issue, list, rename, revoke, rotate, claim…) was refused.
///
/// The checks the service makes itself are variants here; what a rule
/// refuses inside its change (a taken name, the cap, an unknown or
/// inactive token) arrives as [`Refused`](Self::Refused), and what the
/// store reports (a duplicate, a claim already taken, an unavailable
/// backend) as [`Store`](Self::Store), so each refusal has one type and
/// one code.
///
/// ```
/// use tokenkeep::{ErrorCode, ManageError};
/// use tokenkeep::rules::Refusal;
/// let full = ManageError::from(Refusal::LimitReached { limit: 10 });
/// assert!(matches!(full, ManageError::Refused(Refusal::LimitReached { limit: 10 })));
/// assert_eq!(full.code(), "TOKEN_LIMIT_REACHED");
/// ```
#[cfg(feature = "management")]
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
    /// A name matches active tokens of several owners; name the owner.
    #[error("several owners have an active token with this name")]
    Ambiguous,
    /// The setup token is missing or wrong.
    #[error("the setup token is missing or wrong")]
    InvalidSetupToken,
    /// A rotation's grace period is longer than the policy allows.
    #[error("the grace period may be at most {max}")]
    GraceTooLong {
        /// The policy's longest grace period.
        max: time::Duration,
    },
    /// The token would never expire, or outlive the policy's longest
    /// lifetime.
    #[error("a token must expire within {max}")]
    LifetimeTooLong {
        /// The policy's longest lifetime.
        max: time::Duration,
    },
    /// No randomness for a new token.
    #[error(transparent)]
    Mint(#[from] MintError),
    /// A rule refused the change: nothing was written.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The store could not do it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(feature = "management")]
impl ManageError {
    /// No such token, or not one the actor may see (404 `NOT_FOUND`).
    pub(crate) const NOT_FOUND: Self = Self::Refused(Refusal::NotFound);
}

#[cfg(feature = "management")]
impl From<RuleError> for ManageError {
    fn from(error: RuleError) -> Self {
        match error {
            RuleError::Refused(refusal) => Self::Refused(refusal),
            RuleError::Store(error) => Self::Store(error),
        }
    }
}

#[cfg(feature = "management")]
impl ErrorCode for ManageError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(e) => e.code(),
            Self::InvalidRecord(e) => e.code(),
            Self::InvalidDuration(e) => e.code(),
            Self::InvalidScope(e) => e.code(),
            Self::InvalidSecret(e) => e.code(),
            Self::Forbidden => "FORBIDDEN",
            Self::Ambiguous => "AMBIGUOUS_NAME",
            Self::InvalidSetupToken => "INVALID_SETUP_TOKEN",
            Self::GraceTooLong { .. } => "INVALID_DURATION",
            Self::LifetimeTooLong { .. } => "LIFETIME_TOO_LONG",
            Self::Mint(e) => e.code(),
            Self::Refused(e) => e.code(),
            Self::Store(e) => e.code(),
        }
    }
}
