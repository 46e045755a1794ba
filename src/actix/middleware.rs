//! A middleware that verifies every request of a scope or resource.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::HttpMessage as _;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, ResponseError as _};

use super::verify::verify_http_request;
use crate::http::RouteRequirement;
use crate::service::TokenService;

/// Verifies each request against a requirement before the wrapped service
/// sees it; on success the [`Authenticated`](crate::Authenticated) is in the
/// request's extensions (and a [`Token`](super::Token) extractor reuses it),
/// on failure its [`ApiError`](super::ApiError) is sent. Credentials are
/// checked before the path, so a caller without them always gets the 401
/// challenge. Path requirements check the path inside the scope the
/// middleware wraps (see [`RouteRequirement`]).
///
/// ```
/// use actix_web::web;
/// use tokenkeep::actix::{RequireToken, RouteRequirement};
/// # fn scope(service: tokenkeep::TokenService) -> actix_web::Scope<impl actix_web::dev::ServiceFactory<actix_web::dev::ServiceRequest, Config = (), Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, Error = actix_web::Error, InitError = ()>> {
/// web::scope("/metrics")
///     .wrap(RequireToken::new(service, RouteRequirement::Ability("metrics:read".into())))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireToken {
    service: TokenService,
    requirement: RouteRequirement,
}

impl RequireToken {
    /// A middleware requiring `requirement` of every request.
    pub fn new(service: TokenService, requirement: RouteRequirement) -> Self {
        Self { service, requirement }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireToken
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireTokenMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        ready(Ok(RequireTokenMiddleware { inner: Rc::new(inner), layer: self.clone() }))
    }
}

/// The service [`RequireToken`] wraps around a scope or resource.
#[derive(Debug)]
pub struct RequireTokenMiddleware<S> {
    inner: Rc<S>,
    layer: RequireToken,
}

impl<S, B> Service<ServiceRequest> for RequireTokenMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(inner);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let inner = Rc::clone(&self.inner);
        let layer = self.layer.clone();
        Box::pin(async move {
            // The path inside the scope: what its prefix left unmatched.
            let path = request.match_info().unprocessed().to_owned();
            let verdict =
                verify_http_request(&layer.service, &layer.requirement, request.request(), &path)
                    .await;
            match verdict {
                Ok(verdict) => {
                    request.extensions_mut().insert(verdict.authenticated);
                    Ok(inner.call(request).await?.map_into_left_body())
                }
                Err(rejection) => {
                    let response = rejection.error_response();
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
