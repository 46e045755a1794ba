//! Extractors: the authenticated token, verified against a requirement
//! named by a type in the handler's signature.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::{ApiError, Resolved, RouteRequirement, authorization};
use crate::error::{AuthError, BearerError};
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
    /// Read access to the request's path.
    ReadPath => ReadPath
);
requirement_marker!(
    /// Write access to the request's path.
    WritePath => WritePath
);
requirement_marker!(
    /// Read for `GET`/`HEAD`/`OPTIONS`, write otherwise, on the request's path.
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
        let requirement = R::route_requirement().resolve(parts)?;
        verify_header(&service, &requirement, parts)
            .await
            .map(|who| Self(who, PhantomData))
    }
}

/// Verifies the request's header against a resolved requirement, reusing a
/// layer's verdict when there is one.
pub(crate) async fn verify_header(
    service: &TokenService,
    requirement: &Resolved,
    parts: &mut Parts,
) -> Result<Authenticated, ApiError> {
    let reject = |error: AuthError| ApiError::from_auth(&error, service.realm());
    if let Some(who) = parts.extensions.get::<Authenticated>() {
        return if who.scopes().satisfies(&requirement.as_requirement()) {
            Ok(who.clone())
        } else {
            Err(reject(AuthError::InsufficientScope {
                scope: requirement.as_requirement().to_string(),
            }))
        };
    }
    let header = authorization(parts).map_err(|error| reject(error.into()))?;
    service
        .verify_bearer(header, requirement.as_requirement())
        .await
        .map_err(reject)
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
        let reject = |error: AuthError| ApiError::from_auth(&error, service.realm());
        let requirement = R::route_requirement().resolve(parts)?;
        let token = query_token(parts.uri.query()).map_err(|error| reject(error.into()))?;
        let has_header = authorization(parts)
            .map_err(|error| reject(error.into()))?
            .is_some();
        let token = match (has_header, token) {
            (true, Some(_)) => return Err(reject(BearerError::MultipleCredentials.into())),
            (_, None) => return Err(reject(BearerError::Missing.into())),
            (false, Some(token)) => token,
        };
        service
            .verify_token(&token, requirement.as_requirement())
            .await
            .map(|who| Self(who, PhantomData))
            .map_err(reject)
    }
}

/// The `token` parameter of a query string, percent-decoded (`+` stays `+`).
fn query_token(query: Option<&str>) -> Result<Option<String>, BearerError> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let Some(value) = pair.strip_prefix("token=") else {
            continue;
        };
        if found.is_some() {
            return Err(BearerError::MultipleCredentials);
        }
        let decoded = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| BearerError::InvalidCharacter)?;
        if decoded.is_empty() {
            return Err(BearerError::EmptyToken);
        }
        found = Some(decoded.into_owned());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_tokens_are_found_and_checked() {
        assert_eq!(query_token(None), Ok(None));
        assert_eq!(query_token(Some("a=1")), Ok(None));
        assert_eq!(
            query_token(Some("a=1&token=tk_x%2By")),
            Ok(Some("tk_x+y".into()))
        );
        assert_eq!(query_token(Some("token=a+b")), Ok(Some("a+b".into())));
        assert_eq!(query_token(Some("token=")), Err(BearerError::EmptyToken));
        assert_eq!(
            query_token(Some("token=a&token=b")),
            Err(BearerError::MultipleCredentials)
        );
        assert_eq!(
            query_token(Some("token=%FF")),
            Err(BearerError::InvalidCharacter)
        );
    }
}
