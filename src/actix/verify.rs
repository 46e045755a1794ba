//! The actix-web adapter over the [request pipeline](crate::http::verify_request):
//! it fills in the request's facts and renders the refusal. The extractor
//! and the middleware both call [`verify_http_request`].

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::http::header::{AUTHORIZATION, HeaderValue, X_FORWARDED_FOR};

use super::ApiError;
use crate::http::{RequestFacts, RouteRequirement, Verdict, verify_request};
use crate::service::{Authenticated, TokenService};

/// Runs the pipeline on a request, with `path` as the router sees it;
/// the middleware's verdict already in the extensions is reused.
pub(super) async fn verify_http_request(
    service: &TokenService,
    requirement: &RouteRequirement,
    request: &HttpRequest,
    path: &str,
) -> Result<Verdict, ApiError> {
    // The extensions are a `RefCell`: the borrow ends before any await.
    let verified = request.extensions().get::<Authenticated>().cloned();
    let values = |name| request.headers().get_all(name).map(HeaderValue::as_bytes);
    let facts = RequestFacts::new(request.method().as_str(), path)
        .authorization(values(AUTHORIZATION))
        .forwarded_for(values(X_FORWARDED_FOR))
        .peer(request.peer_addr().map(|address| address.ip()))
        .verified(verified.as_ref());
    Ok(verify_request(service, &facts, requirement).await?)
}
