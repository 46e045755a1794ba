//! Forward auth: a gateway (nginx `auth_request`, Caddy `forward_auth`,
//! Traefik ForwardAuth) asks, in a subrequest, whether the request it holds
//! may pass. The answer is the one pipeline's, on the original request's
//! method and path as the gateway's headers give them.

use super::{Rejection, RequestFacts, RouteRequirement, Verdict, verify_request};
use crate::service::TokenService;

/// The request a gateway holds, as its subrequest's headers name it:
/// `X-Original-Method` and `X-Original-URI` (nginx), or
/// `X-Forwarded-Method` and `X-Forwarded-Uri` (Caddy, Traefik).
///
/// ```
/// use tokenkeep::http::OriginalRequest;
/// let headers = [("x-original-method", "PUT"), ("x-original-uri", "/files/a.txt?x=1")];
/// let original = OriginalRequest::from_headers(|name| {
///     headers.iter().find(|(key, _)| *key == name).map(|(_, value)| *value)
/// })
/// .expect("nginx's headers");
/// assert_eq!((original.method(), original.path()), ("PUT", "/files/a.txt"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginalRequest<'a> {
    method: &'a str,
    uri: &'a str,
}

impl<'a> OriginalRequest<'a> {
    /// The method and URI a gateway's headers name, read through `header`
    /// (a header's value by its lower-case name); `None` when either is
    /// missing (a gateway not configured to send them).
    pub fn from_headers(header: impl Fn(&'static str) -> Option<&'a str>) -> Option<Self> {
        let pair = |method, uri| Some(Self { method: header(method)?, uri: header(uri)? });
        pair("x-original-method", "x-original-uri")
            .or_else(|| pair("x-forwarded-method", "x-forwarded-uri"))
    }

    /// The original method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The original path: the URI without its query or fragment (the query
    /// is never a credential here).
    pub fn path(&self) -> &'a str {
        let path = self.uri.split(['?', '#']).next().unwrap_or_default();
        if path.is_empty() { "/" } else { path }
    }
}

/// Whether the request `original` names may pass: the pipeline with the
/// subrequest's credential, client address and headers, and the original
/// method and path, judged as a file area judges one (read for `GET` and
/// `HEAD`, write otherwise, against the token's routes; a manager passes).
/// It counts as a use of the token, as any request it lets through.
///
/// Gateways understand only 401 and 403 (nginx turns anything else into
/// 500), so every refusal is one of the two: a malformed credential is 401
/// `invalid_request`, a spent rate limit or an unreadable path 403, and a
/// store that cannot answer 403 too (the gateway must fail closed). The
/// code and message stay the pipeline's.
///
/// ```
/// # #[cfg(feature = "management")]
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::sync::Arc;
/// use tokenkeep::http::{OriginalRequest, RequestFacts, forward_auth};
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::scope::Route;
/// use tokenkeep::{Actor, IssueRequest, Prefix, Scopes, TokenManager};
///
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
/// let scopes = Scopes { routes: vec![Route::parse_spec("/docs:r")?], ..Scopes::default() };
/// let request = IssueRequest::new("alice", "reader").scopes(scopes);
/// let issued = tokens.issue(&Actor::Admin, request).await?;
/// let header = format!("Bearer {}", issued.token.expose_secret());
/// let subrequest = RequestFacts::new("GET", "/auth/forward").authorization([header.as_bytes()]);
///
/// let read = OriginalRequest::from_headers(|name| match name {
///     "x-original-method" => Some("GET"),
///     "x-original-uri" => Some("/docs/a.txt"),
///     _ => None,
/// });
/// let verdict = forward_auth(tokens.service(), subrequest.clone(), read).await?;
/// assert_eq!(verdict.authenticated.owner(), "alice");
///
/// let write = OriginalRequest::from_headers(|name| match name {
///     "x-forwarded-method" => Some("PUT"),
///     "x-forwarded-uri" => Some("/docs/a.txt"),
///     _ => None,
/// });
/// let refused = forward_auth(tokens.service(), subrequest, write).await.unwrap_err();
/// assert_eq!(refused.status(), 403);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A [`Rejection`], 401 or 403 only. Without an original request (a
/// gateway that sends neither pair of headers) it is 403
/// `FORWARD_AUTH_HEADERS_MISSING`.
pub async fn forward_auth(
    service: &TokenService,
    subrequest: RequestFacts<'_>,
    original: Option<OriginalRequest<'_>>,
) -> Result<Verdict, Rejection> {
    let Some(original) = original else {
        return Err(Rejection::new(
            403,
            "FORWARD_AUTH_HEADERS_MISSING",
            "the gateway sent neither X-Original-Method and X-Original-URI nor \
             X-Forwarded-Method and X-Forwarded-Uri",
        ));
    };
    let request =
        RequestFacts { method: original.method, path: original.path(), query: None, ..subrequest };
    verify_request(service, &request, &RouteRequirement::PathByMethod).await.map_err(for_gateway)
}

/// The identity headers a gateway passes on to the backend for an admitted
/// request: `X-Token-Owner`, `X-Token-Id` and `X-Token-Name`.
///
/// A gateway must drop any such headers a client sent (the configurations
/// in `examples/gateways/` do): the backend trusts them.
pub fn identity_headers(verdict: &Verdict) -> [(&'static str, String); 3] {
    let who = &verdict.authenticated;
    [
        ("x-token-owner", who.owner().to_owned()),
        ("x-token-id", who.token_id().to_string()),
        ("x-token-name", who.name().to_owned()),
    ]
}

/// A refusal in the two statuses a gateway understands.
fn for_gateway(rejection: Rejection) -> Rejection {
    match rejection.status() {
        401 | 403 => rejection,
        // A malformed credential: the challenge says `invalid_request`.
        400 if rejection.challenge().is_some() => rejection.with_status(401),
        _ => rejection.with_status(403),
    }
}
