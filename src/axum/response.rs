//! Errors as HTTP answers: the status and code of design §5, the RFC 6750
//! challenge where one applies, and a JSON body `{"error", "message"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{AuthError, ErrorCode, ManageError, ScopeError, StoreError};

/// An error ready to be sent: every rejection of this module, and what a
/// handler returns for a refused management call.
///
/// ```
/// use axum::response::IntoResponse;
/// use tokenkeep::{ManageError, axum::ApiError};
/// let response = ApiError::from(ManageError::LimitReached { limit: 10 }).into_response();
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
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let api = Self::new(status, error.code(), error.client_message());
        match error.challenge(realm) {
            Some(challenge) => api.with_challenge(challenge.to_string()),
            None => api,
        }
    }
}

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
