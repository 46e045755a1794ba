//! The actix-web adapter over the [request pipeline](crate::http::verify_request):
//! it fills in the request's facts and renders the refusal. The extractor
//! and the middleware both call [`verify_http_request`].

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::http::header::HeaderValue;

use crate::http::{Rejection, RequestFacts, RouteRequirement, Verdict, verify_request};
use crate::service::{Authenticated, TokenService};

/// Runs the pipeline on a request, with `path` as the router sees it;
/// the middleware's verdict already in the extensions is reused.
pub(super) async fn verify_http_request(
    service: &TokenService,
    requirement: &RouteRequirement,
    request: &HttpRequest,
    path: &str,
) -> Result<Verdict, Rejection> {
    // The extensions are a `RefCell`: the borrow ends before any await.
    let verified = request.extensions().get::<Authenticated>().cloned();
    let facts = RequestFacts::new(request.method().as_str(), path)
        .headers(|name| request.headers().get_all(name).map(HeaderValue::as_bytes))
        .peer(request.peer_addr().map(|address| address.ip()))
        .verified(verified.as_ref());
    verify_request(service, &facts, requirement).await
}
