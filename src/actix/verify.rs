//! From request to verdict: the one place where the actix-web integration
//! reads credentials, verifies them and checks the requirement. The
//! extractor and the middleware both call [`verify_request`].
//!
//! The order is fixed: credentials first (a caller without them always gets
//! the 401 challenge, whatever the path), then the requirement on the path
//! (a path that cannot be normalised is 400 `INVALID_PATH`), then the scope
//! check (403).

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

use super::ApiError;
use crate::bearer::{BearerError, one_authorization_value};
use crate::http::{Rejection, RouteRequirement, client_address};
use crate::scope::Requirement;
use crate::service::{AuthError, Authenticated, TokenService};

/// Verifies a request: its credentials (reusing the middleware's verdict
/// when there is one), then `requirement` on `path`, the path as the
/// router sees it.
pub(super) async fn verify_request(
    service: &TokenService,
    requirement: &RouteRequirement,
    request: &HttpRequest,
    path: &str,
) -> Result<Authenticated, ApiError> {
    let reject = |error: AuthError| ApiError::from(Rejection::from_auth(&error, service.realm()));
    // The extensions are a `RefCell`: the borrow ends before any await.
    let verified = request.extensions().get::<Authenticated>().cloned();
    let who = match verified {
        Some(who) => who,
        None => {
            let header = authorization(request).map_err(|error| reject(error.into()))?;
            let peer = request.peer_addr().map(|address| address.ip());
            // Without trusted proxies the header counts for nothing: not read.
            let trusted = service.trusted_proxies();
            let forwarded = match trusted {
                [] => None,
                _ => request
                    .headers()
                    .get("x-forwarded-for")
                    .and_then(|value| value.to_str().ok()),
            };
            let client = client_address(peer, forwarded, trusted);
            service
                .verify_bearer_from(header, Requirement::None, client)
                .await
                .map_err(reject)?
        }
    };
    let path = if path.is_empty() { "/" } else { path };
    let requirement = requirement
        .resolve(request.method().as_str(), path)
        .map_err(|error| ApiError::from(Rejection::invalid_path(&error)))?;
    who.require(&requirement.as_requirement()).map_err(reject)?;
    Ok(who)
}

/// The `Authorization` header's value (see [`one_authorization_value`]).
fn authorization(request: &HttpRequest) -> Result<Option<&str>, BearerError> {
    one_authorization_value(
        request
            .headers()
            .get_all(AUTHORIZATION)
            .map(|value| value.to_str()),
    )
}
