//! Extractors: the authenticated token, verified against a requirement
//! named by a type in the handler's signature.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::ApiError;
use super::verify::{Credentials, verify_parts};
use crate::http::{AnyToken, RequirementSpec};
use crate::service::{Authenticated, TokenService};

/// The token of a request, from its `Authorization: Bearer` header, verified
/// against `R` before the handler runs. Rejections are [`ApiError`]s.
///
/// If a [`RequireToken`](super::RequireToken) layer already verified the
/// request, its verdict is reused.
#[derive(Clone, Debug)]
pub struct Token<R = AnyToken>(pub Authenticated, pub PhantomData<R>);

impl<S, R> FromRequestParts<S> for Token<R>
where
    TokenService: FromRef<S>,
    S: Send + Sync,
    R: RequirementSpec,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let service = TokenService::from_ref(state);
        let verdict =
            verify_parts(&service, &R::route_requirement(), Credentials::Header, parts).await?;
        Ok(Self(verdict.authenticated, PhantomData))
    }
}

/// The token of a request from its `?token=` query parameter, for clients
/// that cannot send headers (browser WebSockets). Weaker than a header:
/// query strings end up in logs and history. A request that also carries an
/// `Authorization` header is refused (two credentials at once).
#[derive(Clone, Debug)]
pub struct QueryToken<R = AnyToken>(pub Authenticated, pub PhantomData<R>);

impl<S, R> FromRequestParts<S> for QueryToken<R>
where
    TokenService: FromRef<S>,
    S: Send + Sync,
    R: RequirementSpec,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let service = TokenService::from_ref(state);
        let verdict =
            verify_parts(&service, &R::route_requirement(), Credentials::Query, parts).await?;
        Ok(Self(verdict.authenticated, PhantomData))
    }
}

/// The extractors work on a router whose state is a [`TokenManager`]
/// (`.with_state(manager)`), as on one whose state is a [`TokenService`].
///
/// [`TokenManager`]: crate::TokenManager
#[cfg(feature = "management")]
impl FromRef<crate::TokenManager> for TokenService {
    fn from_ref(manager: &crate::TokenManager) -> Self {
        manager.service().clone()
    }
}
