//! A refusal, ready for any framework to render.

use crate::error::ErrorCode;
use crate::scope::ScopeError;
use crate::service::AuthError;
#[cfg(feature = "management")]
use crate::service::ManageError;
use crate::store::StoreError;

use super::status_for_code;

/// A refusal as every HTTP integration sends it: a status, a machine code,
/// a message for the client and, for verification failures, the RFC 6750
/// `WWW-Authenticate` challenge. It is the one error type of every
/// integration: `axum::ApiError` and `actix::ApiError` are this type under
/// the name a handler returns, each rendering it through its framework's
/// response trait from [`headers`](Self::headers) and [`body`](Self::body);
/// tonic maps it to a gRPC status.
///
/// ```
/// use tokenkeep::http::Rejection;
/// use tokenkeep::{AuthError, InvalidToken};
/// let refused = Rejection::from_auth(&AuthError::InvalidToken(InvalidToken::Revoked), "api");
/// assert_eq!((refused.status(), refused.code()), (401, "INVALID_TOKEN"));
/// assert_eq!(refused.challenge(), Some(r#"Bearer realm="api", error="invalid_token""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    code: &'static str,
    message: String,
    challenge: Option<String>,
    retry_after: Option<u64>,
    required_scope: Option<String>,
}

impl Rejection {
    /// A refusal with any status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
            retry_after: None,
            required_scope: None,
        }
    }

    /// From any of the crate's errors, with its own code and status. Server
    /// faults (5xx) get a generic message, so no backend detail leaks.
    pub fn from_error(error: &(impl ErrorCode + std::fmt::Display)) -> Self {
        let status = status_for_code(error.code());
        let message = if status >= 500 {
            "the service cannot answer right now".to_owned()
        } else {
            error.to_string()
        };
        Self::new(status, error.code(), message)
    }

    /// A verification failure for this realm: one message for every
    /// `invalid_token` reason, the RFC 6750 challenge, no internals.
    pub fn from_auth(error: &AuthError, realm: &str) -> Self {
        let rejection =
            Self::new(status_for_code(error.code()), error.code(), error.client_message());
        let rejection = match error.challenge(realm) {
            Some(challenge) => rejection.with_challenge(challenge.to_string()),
            None => rejection,
        };
        match error {
            // Whole seconds, rounded up: never earlier than allowed.
            AuthError::RateLimited { retry_after } => Self {
                retry_after: Some(
                    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
                ),
                ..rejection
            },
            AuthError::InsufficientScope { scope } => {
                Self { required_scope: Some(scope.clone()), ..rejection }
            }
            _ => rejection,
        }
    }

    /// 400 `INVALID_PATH`: a path that escapes its root or hides a separator.
    pub fn invalid_path(error: ScopeError) -> Self {
        Self::new(400, "INVALID_PATH", error.to_string())
    }

    /// Replaces the message for the client.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Adds a `WWW-Authenticate` value.
    #[must_use]
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.challenge = Some(challenge.into());
        self
    }

    /// With a `Retry-After` of `seconds` (a spent rate limit).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The same refusal under another status (a gateway that understands
    /// only some).
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `WWW-Authenticate` value, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }

    /// The scope a 403 `INSUFFICIENT_SCOPE` asks for, if this is one
    /// (also in the challenge; gRPC has no challenge, so it goes in the
    /// message there).
    pub fn required_scope(&self) -> Option<&str> {
        self.required_scope.as_deref()
    }

    /// The `Retry-After` value in seconds, if any (a spent rate limit).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The headers an HTTP answer carries: `WWW-Authenticate` where a
    /// challenge applies, `Retry-After` for a spent rate limit.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let challenge = self.challenge.iter().map(|value| ("www-authenticate", value.clone()));
        let retry = self.retry_after.map(|seconds| ("retry-after", seconds.to_string()));
        challenge.chain(retry)
    }

    /// The JSON body every integration sends: `{"error": code, "message": message}`.
    ///
    /// ```
    /// use tokenkeep::http::Rejection;
    /// let body = Rejection::new(409, "NAME_TAKEN", "taken").body();
    /// assert_eq!(body, serde_json::json!({"error": "NAME_TAKEN", "message": "taken"}));
    /// ```
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code, "message": self.message })
    }
}

#[cfg(feature = "management")]
impl From<ManageError> for Rejection {
    fn from(error: ManageError) -> Self {
        Self::from_error(&error)
    }
}

impl From<StoreError> for Rejection {
    fn from(error: StoreError) -> Self {
        Self::from_error(&error)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Rejection {}
