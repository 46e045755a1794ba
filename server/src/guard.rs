//! What a browser must not be able to do to the API, as one layer around
//! the whole router:
//!
//! - a mutating request (`POST`, `PUT`, `PATCH`, `DELETE`) from another
//!   origin is refused with 403 `CROSS_ORIGIN`, whether the browser says so
//!   with `Origin` or with `Sec-Fetch-Site: cross-site` (a page elsewhere
//!   cannot claim an instance or change a token through a visitor's
//!   browser);
//! - every `/api` answer carries `Cache-Control: no-store` (some carry a
//!   token, shown once, that no cache may keep);
//! - every error answer is the JSON error shape `{"error", "message"}`,
//!   whatever produced it (a body limit, a query string, a method).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokenkeep::axum::ApiError;

pub(crate) async fn browser_guard(request: Request, next: Next) -> Response {
    if is_mutating(request.method()) && is_cross_origin(&request) {
        return ApiError::new(
            403,
            "CROSS_ORIGIN",
            "requests that change something must come from this origin",
        )
        .into_response();
    }
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if is_api {
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    as_json_error(response)
}

fn is_mutating(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// Browsers send `Origin` on cross-origin (and same-origin) `POST`s, and
/// `Sec-Fetch-Site` on every request; clients that are not browsers send
/// neither and are judged by their credentials alone.
fn is_cross_origin(request: &Request) -> bool {
    let headers = request.headers();
    if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes() == b"cross-site") {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let host = headers.get(HOST).map(HeaderValue::as_bytes);
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority.as_bytes());
    origin_host.is_none() || origin_host != host
}

/// An error answer that is not JSON yet becomes the JSON error shape, with
/// a code named after its status and no text of the original body.
fn as_json_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "INVALID_REQUEST",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        status if status.is_server_error() => "INTERNAL",
        _ => "INVALID_REQUEST",
    };
    let message = status.canonical_reason().unwrap_or("refused").to_lowercase();
    let (mut parts, _) = response.into_parts();
    let mut json = ApiError::new(status.as_u16(), code, message).into_response();
    // Keep what the original said about the answer (a challenge, caching),
    // but the body and its type are the JSON error's.
    for (name, value) in json.headers() {
        parts.headers.insert(name.clone(), value.clone());
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = std::mem::replace(json.body_mut(), Body::empty());
    Response::from_parts(parts, body)
}
