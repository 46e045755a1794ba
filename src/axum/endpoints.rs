//! The endpoints that let anything speaking HTTP verify and revoke tokens,
//! as one router a service merges: thin handlers over the framework-free
//! functions of [`crate::http`].

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

use super::verify::facts_of;
use crate::TokenManager;
use crate::http::{
    CallsPerMinute, OriginalRequest, Rejection, forward_auth, hide_credentials, identity_headers,
    introspect, revoke_by_holder, revoke_credentials,
};

/// The largest form an OAuth endpoint reads.
const FORM_BODY_LIMIT: usize = 64 * 1024;
/// The largest list of leaked credentials read (1,000 custom secrets of
/// 512 characters fit).
const CREDENTIALS_BODY_LIMIT: usize = 1024 * 1024;

/// The endpoints for callers outside Rust, as one axum router:
///
/// | method, path | who may call | answer |
/// | --- | --- | --- |
/// | `POST /oauth/introspect` | a manager, or a token with `tokens:introspect` | RFC 7662 ([`http::introspect`](crate::http::introspect)) |
/// | `POST /oauth/revoke` | the token's holder | RFC 7009: 200 whatever existed |
/// | `POST /api/credentials/revoke` | anyone, so many calls a minute per address | 202 `{}` ([`http::revoke_credentials`](crate::http::revoke_credentials)) |
/// | any `/auth/forward` | a gateway, with the original request's bearer | 200 with the identity headers, or 401/403 ([`http::forward_auth`](crate::http::forward_auth)) |
/// | `POST /api/secret-scanning` (feature `leak-reports`) | a secret scanning program, signed by a key given to `leak_report_keys` | the feedback list |
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::axum::Endpoints;
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Prefix, TokenManager};
///
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
/// let app: axum::Router = axum::Router::new()
///     // … your routes …
///     .merge(Endpoints::new(tokens).credential_revocations_per_minute(10).router());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`, so
/// the per-address limit and the tokens' address rules see the client.
#[derive(Clone, Debug)]
pub struct Endpoints {
    manager: TokenManager,
    credential_calls: Arc<CallsPerMinute>,
    #[cfg(feature = "leak-reports")]
    leak_keys: Option<Arc<crate::http::LeakReportKeys>>,
}

impl Endpoints {
    /// The endpoints over `manager`'s tokens; at most 60 credential
    /// revocation calls a minute from one address.
    pub fn new(manager: TokenManager) -> Self {
        Self {
            manager,
            credential_calls: Arc::new(CallsPerMinute::new(60)),
            #[cfg(feature = "leak-reports")]
            leak_keys: None,
        }
    }

    /// Receives leaked-token reports at `POST /api/secret-scanning`, signed
    /// by one of `keys` ([`http::receive_leak_report`](crate::http::receive_leak_report));
    /// without keys it answers 404.
    #[cfg(feature = "leak-reports")]
    #[must_use]
    pub fn leak_report_keys(mut self, keys: crate::http::LeakReportKeys) -> Self {
        self.leak_keys = Some(Arc::new(keys));
        self
    }

    /// At most `calls` credential revocation calls a minute from one
    /// client address.
    #[must_use]
    pub fn credential_revocations_per_minute(mut self, calls: u32) -> Self {
        self.credential_calls = Arc::new(CallsPerMinute::new(calls));
        self
    }

    /// The router, to merge into a service's (any state).
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let forms = Router::new()
            .route("/oauth/introspect", post(introspection))
            .route("/oauth/revoke", post(revocation))
            .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT));
        let credentials = Router::new().route("/api/credentials/revoke", post(credentials));
        #[cfg(feature = "leak-reports")]
        let credentials = credentials.route("/api/secret-scanning", post(leak_report));
        let credentials = credentials.layer(DefaultBodyLimit::max(CREDENTIALS_BODY_LIMIT));
        Router::new()
            .route("/auth/forward", any(forward))
            .merge(forms)
            .merge(credentials)
            .with_state(self)
    }
}

async fn introspection(
    State(endpoints): State<Endpoints>,
    request: axum::extract::Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(form) = axum::body::to_bytes(body, FORM_BODY_LIMIT).await else {
        return Rejection::new(413, "PAYLOAD_TOO_LARGE", "the form is too large").into_response();
    };
    hide_credentials(&mut parts.headers);
    let answer = introspect(endpoints.manager.service(), &facts_of(&parts), &form).await;
    match answer {
        Ok(answer) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response(),
        Err(refused) => no_store(refused.into_response()),
    }
}

async fn revocation(
    State(endpoints): State<Endpoints>,
    form: Bytes,
) -> Result<StatusCode, Rejection> {
    revoke_by_holder(&endpoints.manager, &form).await?;
    Ok(StatusCode::OK)
}

async fn credentials(
    State(endpoints): State<Endpoints>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, Rejection> {
    let client = facts_of(&parts).client(endpoints.manager.service());
    endpoints.credential_calls.admit(client)?;
    revoke_credentials(&endpoints.manager, &body).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))).into_response())
}

#[cfg(feature = "leak-reports")]
async fn leak_report(
    State(endpoints): State<Endpoints>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Vec<crate::http::LeakFeedback>>, Rejection> {
    let Some(keys) = &endpoints.leak_keys else {
        return Err(Rejection::new(404, "NOT_FOUND", "no leak report keys are configured"));
    };
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (key_id, signature) =
        (text("github-public-key-identifier"), text("github-public-key-signature"));
    let feedback =
        crate::http::receive_leak_report(&endpoints.manager, keys, &body, key_id, signature)
            .await?;
    Ok(axum::Json(feedback))
}

async fn forward(State(endpoints): State<Endpoints>, mut parts: Parts) -> Response {
    hide_credentials(&mut parts.headers);
    let headers = &parts.headers;
    let text = |name: &'static str| headers.get(name).and_then(|value| value.to_str().ok());
    let original = OriginalRequest::from_headers(text);
    match forward_auth(endpoints.manager.service(), facts_of(&parts), original).await {
        Ok(verdict) => {
            let mut response = StatusCode::OK.into_response();
            for (name, value) in identity_headers(&verdict) {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Err(refused) => refused.into_response(),
    }
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
