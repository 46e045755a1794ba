//! Errors as HTTP answers: a status for every machine code, the RFC 6750
//! challenge where one applies, and a JSON body `{"error", "message"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ErrorCode;
use crate::http::Rejection;
use crate::scope::ScopeError;
use crate::service::AuthError;
#[cfg(feature = "management")]
use crate::service::ManageError;
use crate::store::StoreError;

/// The HTTP status of each machine code the crate uses, as axum's type
/// (the table is [`crate::http::status_for_code`]).
pub fn status_for_code(code: &str) -> StatusCode {
    StatusCode::from_u16(crate::http::status_for_code(code))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error ready to be sent: every rejection of this module, and what a
/// handler returns for a refused management call. It renders a
/// [`Rejection`] as axum's response.
///
/// ```
/// use axum::response::IntoResponse;
/// use tokenkeep::{axum::ApiError, store::StoreError};
/// let response = ApiError::from(StoreError::Duplicate).into_response();
/// assert_eq!(response.status(), 409);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError(Rejection);

impl ApiError {
    /// An error with any status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Rejection::new(status.as_u16(), code, message))
    }

    /// From any of the crate's errors, with its own code and status. Server
    /// faults (5xx) get a generic message, so no backend detail leaks.
    pub fn from_error(error: &(impl ErrorCode + std::fmt::Display)) -> Self {
        Self(Rejection::from_error(error))
    }

    /// 400 `INVALID_PATH`: a path that escapes its root or hides a separator.
    pub fn invalid_path(error: ScopeError) -> Self {
        Self(Rejection::invalid_path(&error))
    }

    /// A verification failure for this realm: one message for every
    /// `invalid_token` reason, the RFC 6750 challenge, no internals.
    pub fn from_auth(error: &AuthError, realm: &str) -> Self {
        Self(Rejection::from_auth(error, realm))
    }

    /// Replaces the message for the client.
    #[must_use]
    pub fn with_message(self, message: impl Into<String>) -> Self {
        Self(self.0.with_message(message))
    }

    /// Adds a `WWW-Authenticate` value.
    #[must_use]
    pub fn with_challenge(self, challenge: impl Into<String>) -> Self {
        Self(self.0.with_challenge(challenge))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The message for the client.
    pub fn message(&self) -> &str {
        self.0.message()
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
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
        let body = serde_json::json!({ "error": self.code(), "message": self.message() });
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(value) = self
            .0
            .challenge()
            .and_then(|challenge| HeaderValue::from_str(challenge).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
