//! From request to verdict: the one place where the axum integration reads
//! credentials, verifies them and checks the route's requirement. The
//! extractors and the layer both call [`verify_request`].
//!
//! The order is fixed: credentials first (a caller without them always gets
//! the 401 challenge, whatever the path), then the route's requirement
//! (a path that cannot be normalised is 400 `INVALID_PATH`), then the scope
//! check (403).

use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::ApiError;
use crate::bearer::BearerError;
use crate::scope::{Requirement, RoutePath};
use crate::service::{AuthError, Authenticated, TokenService};

/// A requirement owned by a router (the layer's counterpart of
/// [`Requirement`], which borrows).
///
/// The path requirements check the path **as the router sees it**, which
/// is not always the path the client sent:
///
/// - inside `Router::nest("/docs", …)` the `/docs` prefix is already
///   stripped, so a request for `/docs/releases/a` is checked as
///   `/releases/a` (a token scoped to `/releases` may read it);
/// - on a top-level route such as `/docs/{*path}` nothing is stripped, so
///   the same request is checked as `/docs/releases/a` (the token needs a
///   route for `/docs/releases`, or `/docs`).
///
/// Choose the form whose paths match the routes your tokens carry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteRequirement {
    /// Any valid token.
    AnyToken,
    /// The `manager` permission.
    Manager,
    /// An application-defined ability.
    Ability(String),
    /// Read access to the request's path as the router sees it.
    ReadPath,
    /// Write access to the request's path as the router sees it.
    WritePath,
    /// Read for `GET`, `HEAD` and `OPTIONS`; write for every other method.
    PathByMethod,
}

impl RouteRequirement {
    /// Resolves the requirement for one request, normalising its path.
    fn resolve(&self, parts: &Parts) -> Result<Resolved, ApiError> {
        let path = || RoutePath::parse(parts.uri.path()).map_err(ApiError::invalid_path);
        Ok(match self {
            Self::AnyToken => Resolved::None,
            Self::Manager => Resolved::Manager,
            Self::Ability(name) => Resolved::Ability(name.clone()),
            Self::ReadPath => Resolved::Read(path()?),
            Self::WritePath => Resolved::Write(path()?),
            Self::PathByMethod if is_read_method(&parts.method) => Resolved::Read(path()?),
            Self::PathByMethod => Resolved::Write(path()?),
        })
    }
}

fn is_read_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A requirement with its path normalised: it owns what [`Requirement`] borrows.
enum Resolved {
    None,
    Manager,
    Ability(String),
    Read(RoutePath),
    Write(RoutePath),
}

impl Resolved {
    fn as_requirement(&self) -> Requirement<'_> {
        match self {
            Self::None => Requirement::None,
            Self::Manager => Requirement::Manager,
            Self::Ability(name) => Requirement::Ability(name),
            Self::Read(path) => Requirement::Read(path),
            Self::Write(path) => Requirement::Write(path),
        }
    }
}

/// Where a request's credentials are read from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Credentials {
    /// The `Authorization: Bearer` header.
    Header,
    /// The `?token=` query parameter (browser WebSockets); a request that
    /// also sends an `Authorization` header is refused.
    Query,
}

/// Verifies a request: its credentials (reusing a layer's verdict when
/// there is one), then `requirement` on its path.
pub(super) async fn verify_request(
    service: &TokenService,
    requirement: &RouteRequirement,
    credentials: Credentials,
    parts: &mut Parts,
) -> Result<Authenticated, ApiError> {
    let reject = |error: AuthError| ApiError::from_auth(&error, service.realm());
    let who = match parts.extensions.get::<Authenticated>() {
        Some(who) => who.clone(),
        None => match credentials {
            Credentials::Header => {
                let header = authorization(parts).map_err(|error| reject(error.into()))?;
                service.verify_bearer(header, Requirement::None).await
            }
            Credentials::Query => match query_credentials(parts) {
                Ok(token) => service.verify_token(&token, Requirement::None).await,
                Err(error) => return Err(reject_query(&error.into(), service.realm())),
            },
        }
        .map_err(reject)?,
    };
    let requirement = requirement.resolve(parts)?;
    who.require(&requirement.as_requirement()).map_err(reject)?;
    Ok(who)
}

/// Marks the `Authorization` header sensitive and returns its value; more
/// than one header is refused, a value that is not visible ASCII is malformed.
fn authorization(parts: &mut Parts) -> Result<Option<&str>, BearerError> {
    if parts.headers.get_all(AUTHORIZATION).iter().count() > 1 {
        return Err(BearerError::MultipleCredentials);
    }
    let Some(value) = parts.headers.get_mut(AUTHORIZATION) else {
        return Ok(None);
    };
    value.set_sensitive(true);
    value
        .to_str()
        .map(Some)
        .map_err(|_| BearerError::InvalidCharacter)
}

/// The `?token=` credential: exactly one, and no header beside it.
fn query_credentials(parts: &mut Parts) -> Result<String, BearerError> {
    let token = query_token(parts.uri.query())?;
    let has_header = authorization(parts)?.is_some();
    match (has_header, token) {
        (true, Some(_)) => Err(BearerError::MultipleCredentials),
        (_, None) => Err(BearerError::Missing),
        (false, Some(token)) => Ok(token),
    }
}

/// A refused query credential, worded for the query parameter rather than
/// the header the client never sent.
fn reject_query(error: &AuthError, realm: &str) -> ApiError {
    let rejection = ApiError::from_auth(error, realm);
    match error {
        AuthError::InvalidRequest(BearerError::MultipleCredentials) => {
            rejection.with_message("send the token either in the query or in a header, not both")
        }
        AuthError::InvalidRequest(_) => rejection.with_message("malformed token query parameter"),
        _ => rejection,
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
