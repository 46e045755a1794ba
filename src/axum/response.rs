//! Refusals as axum answers: the status, the headers and the JSON body
//! that [`Rejection`] names, through axum's `IntoResponse`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::Rejection;

/// The HTTP status of each machine code the crate uses, as axum's type
/// (the table is [`crate::http::status_for_code`]).
pub fn status_for_code(code: &str) -> StatusCode {
    StatusCode::from_u16(crate::http::status_for_code(code))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An axum answer: every rejection of the axum integration, and what a
/// handler returns for a refused management call (`tokenkeep::axum::ApiError`).
///
/// ```
/// use axum::response::IntoResponse;
/// use tokenkeep::{axum::ApiError, store::StoreError};
/// let response = ApiError::from(StoreError::Duplicate).into_response();
/// assert_eq!(response.status(), 409);
/// ```
impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.body())).into_response();
        for (name, value) in self.headers() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}
