//! Refusals as actix-web answers: the status, the headers and the JSON
//! body that [`Rejection`] names, through actix-web's `ResponseError`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::http::Rejection;

/// An actix-web answer: every rejection of the actix-web integration, and
/// what a handler returns for a refused management call
/// (`tokenkeep::actix::ApiError`).
///
/// ```
/// use actix_web::ResponseError as _;
/// use tokenkeep::{actix::ApiError, store::StoreError};
/// let response = ApiError::from(StoreError::Duplicate).error_response();
/// assert_eq!(response.status(), 409);
/// ```
impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        for header in self.headers() {
            response.insert_header(header);
        }
        response.json(self.body())
    }
}
