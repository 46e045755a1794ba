//! From request to verdict: the one place where the axum integration reads
//! credentials, verifies them and checks the route's requirement. The
//! extractors and the layer both call [`verify_request`].
//!
//! The order is fixed: credentials first (a caller without them always gets
//! the 401 challenge, whatever the path), then the route's requirement
//! (a path that cannot be normalised is 400 `INVALID_PATH`), then the scope
//! check (403).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderName;
use axum::http::header::{AUTHORIZATION, Entry};
use axum::http::request::Parts;

use super::ApiError;
use crate::bearer::{BearerError, one_authorization_value};
use crate::http::{RouteRequirement, client_address};
use crate::scope::Requirement;
use crate::service::{AuthError, Authenticated, TokenService};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

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
    let client = client(service, parts);
    let who = match parts.extensions.get::<Authenticated>() {
        Some(who) => who.clone(),
        None => match credentials {
            Credentials::Header => {
                let header = authorization(parts).map_err(|error| reject(error.into()))?;
                service
                    .verify_bearer_from(header, Requirement::None, client)
                    .await
            }
            Credentials::Query => match query_credentials(parts) {
                Ok(token) => {
                    service
                        .verify_token_from(&token, Requirement::None, client)
                        .await
                }
                Err(error) => return Err(reject_query(&error.into(), service.realm())),
            },
        }
        .map_err(reject)?,
    };
    let requirement = requirement
        .resolve(parts.method.as_str(), parts.uri.path())
        .map_err(ApiError::invalid_path)?;
    who.require(&requirement.as_requirement()).map_err(reject)?;
    Ok(who)
}

/// The client's address: the connection's (served with
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the forwarded
/// one behind the service's trusted proxies.
fn client(service: &TokenService, parts: &Parts) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // Without trusted proxies the header counts for nothing: not read.
    let trusted = service.trusted_proxies();
    let forwarded = match trusted {
        [] => None,
        _ => parts
            .headers
            .get(X_FORWARDED_FOR)
            .and_then(|value| value.to_str().ok()),
    };
    client_address(peer, forwarded, trusted)
}

/// Marks the `Authorization` header sensitive and returns its value (see
/// [`one_authorization_value`]).
fn authorization(parts: &mut Parts) -> Result<Option<&str>, BearerError> {
    if let Entry::Occupied(mut values) = parts.headers.entry(AUTHORIZATION) {
        for value in values.iter_mut() {
            value.set_sensitive(true);
        }
    }
    one_authorization_value(
        parts
            .headers
            .get_all(AUTHORIZATION)
            .iter()
            .map(|value| value.to_str()),
    )
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
