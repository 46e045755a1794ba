//! JSON request bodies, refused in the API's JSON error shape.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use tokenkeep::axum::ApiError;

/// A JSON body, refused with the JSON error shape: 415
/// `UNSUPPORTED_MEDIA_TYPE` unless it is sent as `application/json`; 400
/// `INVALID_REQUEST` for malformed JSON, wrong types or unknown fields,
/// with a message that never repeats what was sent (it may be a token);
/// 413 over the body limit. An empty body reads as `T::default()` where
/// the route allows it.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(413, "PAYLOAD_TOO_LARGE", "the body is too large")
            } else {
                ApiError::new(400, "INVALID_REQUEST", rejection.body_text())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !is_json {
            return Err(ApiError::new(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as Content-Type: application/json",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|error| ApiError::new(400, "INVALID_REQUEST", json_problem(&error)))
    }
}

/// What is wrong with a JSON body, by kind and place only: serde's own
/// message quotes the value it refused, which may be a token.
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Syntax => "the body is not valid JSON",
        Category::Eof => "the body ends too early",
        Category::Data => "a field is unknown, missing, or has the wrong type or value",
        Category::Io => "the body could not be read",
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}
