//! The extractor: the authenticated token, verified against a requirement
//! named by a type in the handler's signature.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::ApiError;
use super::verify::verify_http_request;
use crate::http::{AnyToken, Rejection, RequirementSpec};
use crate::service::{Authenticated, TokenService};

/// The token of a request, from its `Authorization: Bearer` header, verified
/// against `R` before the handler runs; path requirements check the whole
/// request path. Rejections are [`ApiError`]s.
///
/// The service comes from the app's data (`web::Data<TokenService>`, or
/// `web::Data<TokenManager>` with the `management` feature). If a
/// [`RequireToken`](super::RequireToken) middleware already verified the
/// request, its verdict is reused.
#[derive(Clone, Debug)]
pub struct Token<R = AnyToken>(pub Authenticated, pub PhantomData<R>);

impl<R: RequirementSpec> FromRequest for Token<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let service = service_of(&request).ok_or_else(|| {
                Rejection::new(500, "INTERNAL", "the token service is not configured")
            })?;
            let requirement = R::route_requirement();
            let verdict =
                verify_http_request(&service, &requirement, &request, request.path()).await?;
            Ok(Self(verdict.authenticated, PhantomData))
        })
    }
}

/// The service from the app's data: a `web::Data<TokenService>`, or the
/// one inside a `web::Data<TokenManager>`.
fn service_of(request: &HttpRequest) -> Option<TokenService> {
    let service = request.app_data::<web::Data<TokenService>>();
    #[cfg(feature = "management")]
    if service.is_none() {
        let manager = request.app_data::<web::Data<crate::TokenManager>>();
        return manager.map(|manager| manager.service().clone());
    }
    service.map(|service| TokenService::clone(service))
}
