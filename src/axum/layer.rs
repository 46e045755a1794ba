//! A tower layer that verifies every request of a route or router.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::RouteRequirement;
use super::verify::{Credentials, verify_parts};
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
///     .layer(RequireToken::new(service, RouteRequirement::Ability("metrics:read".into())))
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
        Self {
            service,
            requirement,
        }
    }
}

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireTokenService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RequireToken`] wraps around a route.
#[derive(Clone, Debug)]
pub struct RequireTokenService<S> {
    inner: S,
    layer: RequireToken,
}

impl<S, B> Service<Request<B>> for RequireTokenService<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let verdict = verify_parts(
                &layer.service,
                &layer.requirement,
                Credentials::Header,
                &mut parts,
            )
            .await;
            match verdict {
                Ok(verdict) => {
                    parts.extensions.insert(verdict.authenticated);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}
