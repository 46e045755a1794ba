//! A tower layer that verifies every request of a route or router.

use axum::body::Body;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower::Layer;

use super::RouteRequirement;
use super::verify::{Credentials, verify_parts};
use crate::http::{Guard, Guarded, Rejection, Verdict, sealed};
use crate::service::TokenService;

/// Verifies each request against a requirement before the inner service
/// sees it; on success the [`Authenticated`](crate::Authenticated) is in the
/// request's extensions (take it with `Extension<Authenticated>` or
/// [`Token`](super::Token)), on failure its [`ApiError`](super::ApiError) is
/// sent. Credentials are checked before the path, so a caller without them
/// always gets the 401 challenge.
///
/// ```
/// use axum::{Router, routing::get};
/// use tokenkeep::axum::{RequireToken, RouteRequirement};
/// # fn router(service: tokenkeep::TokenService) -> Router {
/// Router::new()
///     .route("/metrics", get(|| async { "ok" }))
///     .route_layer(RequireToken::new(service, RouteRequirement::Ability("metrics:read".into())))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireToken {
    service: TokenService,
    requirement: RouteRequirement,
}

impl RequireToken {
    /// A layer requiring `requirement` of every request.
    pub fn new(service: TokenService, requirement: RouteRequirement) -> Self {
        Self { service, requirement }
    }
}

/// The service [`RequireToken`] wraps around a route.
pub type RequireTokenService<S> = Guarded<S, RequireToken>;

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded::new(inner, self.clone())
    }
}

impl sealed::Sealed for RequireToken {}

impl Guard for RequireToken {
    type Body = Body;

    async fn verify(&self, parts: &mut Parts) -> Result<Verdict, Rejection> {
        let (service, requirement) = (&self.service, &self.requirement);
        verify_parts(service, requirement, Credentials::Header, parts).await
    }

    fn refuse(&self, rejection: Rejection) -> Response {
        rejection.into_response()
    }
}
