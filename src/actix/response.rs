//! Errors as actix-web answers: the same statuses, challenges and JSON
//! bodies as the axum integration, from one [`Rejection`].

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::ErrorCode;
use crate::http::Rejection;
#[cfg(feature = "management")]
use crate::service::ManageError;
use crate::store::StoreError;

/// An error ready to be sent: every rejection of this module, and what a
/// handler returns for a refused management call.
///
/// ```
/// use actix_web::ResponseError as _;
/// use tokenkeep::{actix::ApiError, store::StoreError};
/// let response = ApiError::from(StoreError::Duplicate).error_response();
/// assert_eq!(response.status(), 409);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError(Rejection);

impl ApiError {
    /// From any of the crate's errors, with its own code and status. Server
    /// faults (5xx) get a generic message, so no backend detail leaks.
    pub fn from_error(error: &(impl ErrorCode + fmt::Display)) -> Self {
        Self(Rejection::from_error(error))
    }

    /// The refusal it sends.
    pub fn rejection(&self) -> &Rejection {
        &self.0
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code(), self.0.message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(value) = self
            .0
            .challenge()
            .and_then(|challenge| HeaderValue::from_str(challenge).ok())
        {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let Some(seconds) = self.0.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(serde_json::json!({
            "error": self.0.code(),
            "message": self.0.message(),
        }))
    }
}
