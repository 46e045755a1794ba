//! Extractors: the authenticated token, verified against a requirement
//! named by a type in the handler's signature.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::verify::{Credentials, verify_request};
use super::{ApiError, RouteRequirement};
use crate::service::{Authenticated, TokenService};

/// A requirement named by a type, so a handler states it in its signature.
///
/// The crate provides [`AnyToken`], [`Manager`], [`ReadPath`],
/// [`WritePath`] and [`PathByMethod`]; an ability is your own type:
///
/// ```
/// use tokenkeep::axum::{RequirementSpec, RouteRequirement, Token};
///
/// struct Deploy;
/// impl RequirementSpec for Deploy {
///     fn route_requirement() -> RouteRequirement {
///         RouteRequirement::Ability("deploy".into())
///     }
/// }
///
/// async fn deploy(Token(who, ..): Token<Deploy>) -> String {
///     format!("{} deploys", who.owner())
/// }
/// ```
pub trait RequirementSpec: Send + Sync + 'static {
    /// What the handler requires.
    fn route_requirement() -> RouteRequirement;
}

macro_rules! requirement_marker {
    ($(#[$doc:meta])* $name:ident => $requirement:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl RequirementSpec for $name {
            fn route_requirement() -> RouteRequirement {
                RouteRequirement::$requirement
            }
        }
    };
}

requirement_marker!(
    /// Any valid token.
    AnyToken => AnyToken
);
requirement_marker!(
    /// A token with `manager`.
    Manager => Manager
);
requirement_marker!(
    /// Read access to the request's path as the router sees it: inside
    /// `nest("/docs", …)` without the `/docs` prefix, on a top-level
    /// `/docs/{*path}` route with it (see [`RouteRequirement`]).
    ReadPath => ReadPath
);
requirement_marker!(
    /// Write access to the request's path as the router sees it (see
    /// [`ReadPath`]).
    WritePath => WritePath
);
requirement_marker!(
    /// Read for `GET`/`HEAD`/`OPTIONS`, write otherwise, on the request's
    /// path as the router sees it (see [`ReadPath`]).
    PathByMethod => PathByMethod
);

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
        verify_request(
            &service,
            &R::route_requirement(),
            Credentials::Header,
            parts,
        )
        .await
        .map(|who| Self(who, PhantomData))
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
        verify_request(&service, &R::route_requirement(), Credentials::Query, parts)
            .await
            .map(|who| Self(who, PhantomData))
    }
}
