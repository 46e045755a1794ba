//! Errors as HTTP answers: a status for every machine code, the RFC 6750
//! challenge where one applies, and a JSON body `{"error", "message"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ErrorCode;
use crate::scope::ScopeError;
use crate::service::AuthError;
#[cfg(feature = "management")]
use crate::service::ManageError;
use crate::store::StoreError;

/// The HTTP status of each machine code the crate uses: the one place where
/// errors meet HTTP.
///
/// | status | codes |
/// | --- | --- |
/// | 400 | `INVALID_REQUEST`, `INVALID_PATH`, `INVALID_NAME`, `INVALID_ID`, `INVALID_OWNER`, `INVALID_DESCRIPTION`, `INVALID_PROFILE`, `INVALID_PRINCIPAL`, `INVALID_DURATION`, `INVALID_SCOPE`, `INVALID_SECRET`, `INVALID_HASH`, `INVALID_HOST` |
/// | 401 | `UNAUTHORIZED` (no credentials), `INVALID_TOKEN` (unknown, malformed, revoked, expired), `INVALID_SETUP_TOKEN` |
/// | 403 | `INSUFFICIENT_SCOPE`, `FORBIDDEN` |
/// | 404 | `NOT_FOUND` |
/// | 409 | `NAME_TAKEN`, `TOKEN_LIMIT_REACHED`, `ALREADY_CLAIMED`, `TOKEN_INACTIVE`, `TOKEN_TEMPORARY`, `DUPLICATE`, `AMBIGUOUS_NAME` |
/// | 503 | `STORE_UNAVAILABLE` (verification fails closed) |
/// | 500 | anything else (`INTERNAL`, `INVALID_CONFIG`, a local file error) |
pub fn status_for_code(code: &str) -> StatusCode {
    match code {
        "INVALID_REQUEST"
        | "INVALID_PATH"
        | "INVALID_NAME"
        | "INVALID_ID"
        | "INVALID_OWNER"
        | "INVALID_DESCRIPTION"
        | "INVALID_PROFILE"
        | "INVALID_PRINCIPAL"
        | "INVALID_DURATION"
        | "INVALID_SCOPE"
        | "INVALID_SECRET"
        | "INVALID_HASH"
        | "INVALID_HOST" => StatusCode::BAD_REQUEST,
        "UNAUTHORIZED" | "INVALID_TOKEN" | "INVALID_SETUP_TOKEN" => StatusCode::UNAUTHORIZED,
        "INSUFFICIENT_SCOPE" | "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "NAME_TAKEN"
        | "TOKEN_LIMIT_REACHED"
        | "ALREADY_CLAIMED"
        | "TOKEN_INACTIVE"
        | "TOKEN_TEMPORARY"
        | "DUPLICATE"
        | "AMBIGUOUS_NAME" => StatusCode::CONFLICT,
        "STORE_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error ready to be sent: every rejection of this module, and what a
/// handler returns for a refused management call.
///
/// ```
/// use axum::response::IntoResponse;
/// use tokenkeep::{axum::ApiError, store::StoreError};
/// let response = ApiError::from(StoreError::LimitReached { limit: 10 }).into_response();
/// assert_eq!(response.status(), 409);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    challenge: Option<String>,
}

impl ApiError {
    /// An error with any status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
        }
    }

    /// From any of the crate's errors, with its own code and status. Server
    /// faults (5xx) get a generic message, so no backend detail leaks.
    pub fn from_error(error: &(impl ErrorCode + std::fmt::Display)) -> Self {
        let status = status_for_code(error.code());
        let message = if status.is_server_error() {
            "the service cannot answer right now".to_owned()
        } else {
            error.to_string()
        };
        Self::new(status, error.code(), message)
    }

    /// 400 `INVALID_PATH`: a path that escapes its root or hides a separator.
    pub fn invalid_path(error: ScopeError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PATH", error.to_string())
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

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
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
}

impl ApiError {
    /// A verification failure for this realm: one message for every
    /// `invalid_token` reason, the RFC 6750 challenge, no internals.
    pub fn from_auth(error: &AuthError, realm: &str) -> Self {
        let api = Self::new(
            status_for_code(error.code()),
            error.code(),
            error.client_message(),
        );
        match error.challenge(realm) {
            Some(challenge) => api.with_challenge(challenge.to_string()),
            None => api,
        }
    }
}

#[cfg(feature = "management")]
impl From<ManageError> for ApiError {
    fn from(error: ManageError) -> Self {
        Self::from_error(&error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::from_error(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(value) = self
            .challenge
            .and_then(|challenge| HeaderValue::from_str(&challenge).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
