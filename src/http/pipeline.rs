//! From request to verdict: the one verification pipeline every HTTP
//! integration (axum, actix-web, tonic) runs. The steps are listed on
//! [`verify_request`], and run top to bottom in it.

use std::borrow::Cow;

use crate::bearer::{BearerError, parse_authorization};
use crate::scope::{Requirement, ScopeError};
use crate::service::{AuthError, Authenticated, TokenService, Uses};

use super::client_address::visible_ascii;
use super::request::HeaderValues;
use super::{Rejection, RequestFacts, Resolved, RouteRequirement};

/// What the pipeline lets through: who the request is, and the requirement
/// it was judged against (a long-lived response watches it, see
/// [`TokenService::revocation`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Verdict {
    /// The verified token.
    pub authenticated: Authenticated,
    /// The route's requirement for this request, resolved.
    pub requirement: Resolved,
}

/// Verifies one request against its route's `requirement`: the verdict,
/// or a refusal ready to render (status, code, message, challenge). The
/// steps, in order:
///
/// 1. **One credential**, or the 401 challenge: the `Authorization` header
///    (or, where the route takes one, the `?token=` query parameter);
///    none is 401, two or a malformed one is 400 `invalid_request`.
/// 2. **The route's requirement**, resolved on the path as the router sees
///    it. A path that escapes its root is 400 `INVALID_PATH`, answered
///    once the token is known to be valid (a caller without one gets the
///    401 and learns nothing about paths), and it consumes no use.
/// 3. **The client's address**: the peer's, or the forwarded one behind
///    the service's trusted proxies ([`client_address`](super::client_address)).
/// 4. **Verification with the resolved requirement** (see
///    [`service`](crate::service) for its own order: format, lookup,
///    revoked, expired, address, rate, scope, usage). The requirement is
///    judged inside it, so a request the route refuses never consumes a
///    token's use.
///
/// ```
/// # #[cfg(feature = "management")]
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::sync::Arc;
/// use tokenkeep::http::{RequestFacts, RouteRequirement, verify_request};
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Actor, IssueRequest, Prefix, TokenManager};
///
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
/// let issued = tokens
///     .issue(&Actor::User("alice".into()), IssueRequest::new("alice", "ci"))
///     .await?;
/// let header = format!("Bearer {}", issued.token.expose_secret());
/// let request = RequestFacts::new("GET", "/admin").authorization([header.as_bytes()]);
///
/// let refused = verify_request(tokens.service(), &request, &RouteRequirement::Manager).await;
/// assert_eq!(refused.unwrap_err().status(), 403);
/// let verdict = verify_request(tokens.service(), &request, &RouteRequirement::AnyToken).await?;
/// assert_eq!(verdict.authenticated.owner(), "alice");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A [`Rejection`]: 401 without a credential or with an invalid one, 400
/// for a malformed request or path, 403 for a requirement not met, 429
/// for a spent rate limit, 503 when the store cannot answer.
pub async fn verify_request(
    service: &TokenService,
    request: &RequestFacts<'_>,
    requirement: &RouteRequirement,
) -> Result<Verdict, Rejection> {
    let realm = service.realm();
    let refuse = |error: AuthError| match request.query {
        Some(_) => query_rejection(&error, realm),
        None => Rejection::from_auth(&error, realm),
    };

    // 1. One credential (or an outer layer's verdict). A request without
    // one goes on to the verifier all the same, which refuses and reports it.
    let credential = credential(request);

    // 2. The route's requirement on the path as the router sees it.
    let path = match request.path {
        "" => "/",
        path => path,
    };
    let resolved = requirement.resolve(request.method, path);

    // 3. The client's address.
    let client = request.client(service);

    // 4. Verification, with the requirement judged inside it. A path that
    // cannot be normalised is refused once the credential is checked: a
    // caller without a valid token learns nothing about paths, and that
    // check consumes none of the token's uses.
    let (requirement, uses) = match &resolved {
        Ok(resolved) => (resolved.as_requirement(), Uses::Consume(request.cost)),
        Err(_) => (Requirement::None, Uses::Keep),
    };
    let text;
    let token = match credential {
        Ok(Credential::Verified(who)) => {
            who.require(&requirement).map_err(refuse)?;
            return verdict(who.clone(), resolved);
        }
        Ok(Credential::Token(token)) => {
            text = token;
            Ok(&*text)
        }
        Err(error) => Err(error),
    };
    let authenticated =
        service.verify_credential(token, requirement, client, uses).await.map_err(refuse)?;
    verdict(authenticated, resolved)
}

/// The verdict for a request whose credential passed: refused after all
/// when its path could not be normalised.
fn verdict(
    authenticated: Authenticated,
    resolved: Result<Resolved, ScopeError>,
) -> Result<Verdict, Rejection> {
    Ok(Verdict { authenticated, requirement: resolved.map_err(Rejection::invalid_path)? })
}

/// The request's one credential.
enum Credential<'a> {
    /// An outer layer verified this request already.
    Verified(&'a Authenticated),
    /// Token text, not yet verified.
    Token(Cow<'a, str>),
}

fn credential<'a>(request: &RequestFacts<'a>) -> Result<Credential<'a>, AuthError> {
    if let Some(who) = request.verified {
        return Ok(Credential::Verified(who));
    }
    let header = one_header_value(request.authorization)?;
    let Some(query) = request.query else {
        return Ok(Credential::Token(Cow::Borrowed(parse_authorization(header)?)));
    };
    match (header.is_some(), query_token(query)?) {
        (true, Some(_)) => Err(BearerError::MultipleCredentials.into()),
        (_, None) => Err(BearerError::Missing.into()),
        (false, Some(token)) => Ok(Credential::Token(token)),
    }
}

/// The one `Authorization` value as text: none, or exactly one that is
/// visible ASCII.
fn one_header_value(values: HeaderValues<'_>) -> Result<Option<&str>, BearerError> {
    match values {
        HeaderValues { first: None, .. } => Ok(None),
        HeaderValues { more: true, .. } => Err(BearerError::MultipleCredentials),
        HeaderValues { first: Some(value), .. } => {
            visible_ascii(value).map(Some).ok_or(BearerError::InvalidCharacter)
        }
    }
}

/// The `token` parameter of a query string, percent-decoded (`+` stays
/// `+`); borrowed unless it had to be decoded.
fn query_token(query: Option<&str>) -> Result<Option<Cow<'_, str>>, BearerError> {
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
        found = Some(decoded);
    }
    Ok(found)
}

/// A refused query credential, worded for the query parameter rather than
/// the header the client never sent.
fn query_rejection(error: &AuthError, realm: &str) -> Rejection {
    let rejection = Rejection::from_auth(error, realm);
    match error {
        AuthError::InvalidRequest(BearerError::MultipleCredentials) => {
            rejection.with_message("send the token either in the query or in a header, not both")
        }
        AuthError::InvalidRequest(_) => rejection.with_message("malformed token query parameter"),
        _ => rejection,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_tokens_are_found_and_checked() {
        let found = |query| query_token(query).map(|token| token.map(Cow::into_owned));
        assert_eq!(found(None), Ok(None));
        assert_eq!(found(Some("a=1")), Ok(None));
        assert_eq!(found(Some("a=1&token=tk_x%2By")), Ok(Some("tk_x+y".into())));
        assert_eq!(found(Some("token=a+b")), Ok(Some("a+b".into())));
        assert_eq!(found(Some("token=")), Err(BearerError::EmptyToken));
        assert_eq!(found(Some("token=a&token=b")), Err(BearerError::MultipleCredentials));
        assert_eq!(found(Some("token=%FF")), Err(BearerError::InvalidCharacter));
    }

    #[test]
    fn one_header_value_refuses_two_and_unreadable_bytes() {
        let values = |first: Option<&'static [u8]>, more| HeaderValues { first, more };
        assert_eq!(one_header_value(values(None, false)), Ok(None));
        assert_eq!(one_header_value(values(Some(b"Bearer a"), false)), Ok(Some("Bearer a")));
        assert_eq!(
            one_header_value(values(Some(b"Bearer a"), true)),
            Err(BearerError::MultipleCredentials)
        );
        assert_eq!(
            one_header_value(values(Some(b"Bearer \x80"), false)),
            Err(BearerError::InvalidCharacter)
        );
    }
}

#[cfg(all(test, feature = "management"))]
mod verdict_tests {
    use std::sync::Arc;

    use super::*;
    use crate::record::{TokenKind, Usage};
    use crate::service::{Actor, IssueRequest, TokenManager};
    use crate::store::MemoryStore;
    use crate::token::Prefix;

    fn manager() -> TokenManager {
        TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").expect("prefix"))
            .build()
            .expect("a manager")
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    /// An outer layer's verdict is judged against the route's requirement
    /// and not verified again: no second use is consumed.
    #[test]
    fn an_outer_verdict_is_judged_not_verified_again() {
        block_on(async {
            let tokens = manager();
            let usage = Usage::new(1, tokens.service().now()).expect("usage");
            let issued = tokens
                .issue(&Actor::Admin, IssueRequest::new("alice", "ci").usage(usage))
                .await
                .expect("issued");
            let header = format!("Bearer {}", issued.token.expose_secret());
            let facts = RequestFacts::new("GET", "/a").authorization([header.as_bytes()]);
            let first = verify_request(tokens.service(), &facts, &RouteRequirement::AnyToken)
                .await
                .expect("the one use");
            assert_eq!(first.authenticated.kind(), TokenKind::Persistent);

            let outer = RequestFacts::new("GET", "/a").verified(Some(&first.authenticated));
            let again = verify_request(tokens.service(), &outer, &RouteRequirement::AnyToken).await;
            assert!(again.is_ok(), "judged, not verified: no use left to spend");
            let refused =
                verify_request(tokens.service(), &outer, &RouteRequirement::Manager).await;
            assert_eq!(refused.map(|_| ()).unwrap_err().status(), 403);
            let bad_path = RequestFacts::new("GET", "/%2F").verified(Some(&first.authenticated));
            let refused =
                verify_request(tokens.service(), &bad_path, &RouteRequirement::ReadPath).await;
            assert_eq!(refused.map(|_| ()).unwrap_err().code(), "INVALID_PATH");
        });
    }

    /// The verdict remembers the client's address it was judged from,
    /// for the revocation watch.
    #[test]
    fn the_verdict_remembers_the_client() {
        block_on(async {
            let tokens = manager();
            let issued = tokens
                .issue(&Actor::Admin, IssueRequest::new("alice", "ci"))
                .await
                .expect("issued");
            let header = format!("Bearer {}", issued.token.expose_secret());
            let peer = Some("192.0.2.7".parse().expect("an address"));
            let facts = RequestFacts::new("GET", "/").authorization([header.as_bytes()]).peer(peer);
            let verdict = verify_request(tokens.service(), &facts, &RouteRequirement::AnyToken)
                .await
                .expect("verified");
            assert_eq!(verdict.authenticated.client(), peer);
        });
    }

    /// A refused query credential is worded for the query parameter, not
    /// for the header the client never sent.
    #[test]
    fn query_refusals_name_the_query() {
        block_on(async {
            let tokens = manager();
            let refused = |facts: RequestFacts<'static>| {
                let tokens = tokens.clone();
                async move {
                    let verdict =
                        verify_request(tokens.service(), &facts, &RouteRequirement::AnyToken).await;
                    verdict.map(|_| ()).unwrap_err().message().to_owned()
                }
            };
            let both = RequestFacts::new("GET", "/ws")
                .authorization([&b"Bearer tk_a"[..]])
                .token_in_query(Some("token=tk_b"));
            assert_eq!(
                refused(both).await,
                "send the token either in the query or in a header, not both"
            );
            let garbled = RequestFacts::new("GET", "/ws").token_in_query(Some("token=%FF"));
            assert_eq!(refused(garbled).await, "malformed token query parameter");
        });
    }
}
