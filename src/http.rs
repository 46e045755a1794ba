//! What every HTTP integration shares, whatever its framework: the status
//! of each machine code, and requirements a router owns.
//!
//! The axum and actix-web integrations render the same answers from these
//! (status, RFC 6750 challenge, JSON `{"error", "message"}`), so a client
//! sees one contract whichever framework serves it.

use std::net::IpAddr;

use crate::error::ErrorCode;
use crate::record::IpNet;
use crate::scope::{Requirement, RoutePath, ScopeError};
use crate::service::AuthError;

/// The HTTP status of each machine code the crate uses: the one place where
/// errors meet HTTP.
///
/// | status | codes |
/// | --- | --- |
/// | 400 | `INVALID_REQUEST`, `INVALID_PATH`, `INVALID_NAME`, `INVALID_ID`, `INVALID_OWNER`, `INVALID_DESCRIPTION`, `INVALID_PROFILE`, `INVALID_PRINCIPAL`, `INVALID_METADATA`, `INVALID_RATE_LIMIT`, `INVALID_USAGE`, `INVALID_DURATION`, `INVALID_SCOPE`, `INVALID_SECRET`, `INVALID_HASH`, `INVALID_HOST`, `LIFETIME_TOO_LONG` |
/// | 401 | `UNAUTHORIZED` (no credentials), `INVALID_TOKEN` (unknown, malformed, revoked, expired), `INVALID_SETUP_TOKEN` |
/// | 403 | `INSUFFICIENT_SCOPE`, `FORBIDDEN` |
/// | 404 | `NOT_FOUND` |
/// | 429 | `RATE_LIMITED` (with `Retry-After`) |
/// | 409 | `NAME_TAKEN`, `TOKEN_LIMIT_REACHED`, `ALREADY_CLAIMED`, `TOKEN_INACTIVE`, `TOKEN_TEMPORARY`, `DUPLICATE`, `AMBIGUOUS_NAME` |
/// | 503 | `STORE_UNAVAILABLE` (verification fails closed) |
/// | 500 | anything else (`INTERNAL`, `INVALID_CONFIG`, a local file error) |
///
/// ```
/// assert_eq!(tokenkeep::http::status_for_code("INSUFFICIENT_SCOPE"), 403);
/// ```
pub fn status_for_code(code: &str) -> u16 {
    match code {
        "INVALID_REQUEST"
        | "INVALID_PATH"
        | "INVALID_NAME"
        | "INVALID_ID"
        | "INVALID_OWNER"
        | "INVALID_DESCRIPTION"
        | "INVALID_PROFILE"
        | "INVALID_PRINCIPAL"
        | "INVALID_METADATA"
        | "INVALID_RATE_LIMIT"
        | "INVALID_USAGE"
        | "INVALID_DURATION"
        | "INVALID_SCOPE"
        | "INVALID_SECRET"
        | "INVALID_HASH"
        | "INVALID_HOST"
        | "LIFETIME_TOO_LONG" => 400,
        "UNAUTHORIZED" | "INVALID_TOKEN" | "INVALID_SETUP_TOKEN" => 401,
        "INSUFFICIENT_SCOPE" | "FORBIDDEN" => 403,
        "NOT_FOUND" => 404,
        "RATE_LIMITED" => 429,
        "NAME_TAKEN"
        | "TOKEN_LIMIT_REACHED"
        | "ALREADY_CLAIMED"
        | "TOKEN_INACTIVE"
        | "TOKEN_TEMPORARY"
        | "DUPLICATE"
        | "AMBIGUOUS_NAME" => 409,
        "STORE_UNAVAILABLE" => 503,
        _ => 500,
    }
}

/// The client's address for an address allow-list: the peer's, unless
/// the peer is one of the application's `trusted` proxies; then the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy
/// (the one the nearest untrusted hop added, which a client cannot forge).
/// A header from an untrusted peer is ignored; an unreadable entry ends
/// the walk (no address: an allow-listed token is refused).
///
/// ```
/// use tokenkeep::http::client_address;
/// let proxy: tokenkeep::record::IpNet = "10.0.0.0/8".parse()?;
/// let peer = Some("10.0.0.2".parse()?);
/// let forwarded = Some("203.0.113.9, 198.51.100.7");
/// assert_eq!(client_address(peer, forwarded, &[proxy]), Some("198.51.100.7".parse()?));
/// // The same header from a peer that is no proxy of ours means nothing.
/// let stranger = Some("192.0.2.1".parse()?);
/// assert_eq!(client_address(stranger, forwarded, &[proxy]), stranger);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(forwarded_for) = forwarded_for else {
        return Some(peer);
    };
    for hop in forwarded_for.rsplit(',') {
        let address: IpAddr = hop.trim().parse().ok()?;
        if !is_trusted(&address) {
            return Some(address);
        }
    }
    // Every hop is one of ours: the left-most is as near the client as
    // the header goes.
    forwarded_for.split(',').next()?.trim().parse().ok()
}

/// A refusal as every HTTP integration sends it: a status, a machine code,
/// a message for the client and, for verification failures, the RFC 6750
/// `WWW-Authenticate` challenge. Each framework's `ApiError` wraps one and
/// renders it with the JSON body `{"error": code, "message": message}`.
///
/// ```
/// use tokenkeep::http::Rejection;
/// use tokenkeep::{AuthError, InvalidToken};
/// let refused = Rejection::from_auth(&AuthError::InvalidToken(InvalidToken::Revoked), "api");
/// assert_eq!((refused.status(), refused.code()), (401, "INVALID_TOKEN"));
/// assert_eq!(refused.challenge(), Some(r#"Bearer realm="api", error="invalid_token""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    code: &'static str,
    message: String,
    challenge: Option<String>,
    retry_after: Option<u64>,
}

impl Rejection {
    /// A refusal with any status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
            retry_after: None,
        }
    }

    /// From any of the crate's errors, with its own code and status. Server
    /// faults (5xx) get a generic message, so no backend detail leaks.
    pub fn from_error(error: &(impl ErrorCode + std::fmt::Display)) -> Self {
        let status = status_for_code(error.code());
        let message = if status >= 500 {
            "the service cannot answer right now".to_owned()
        } else {
            error.to_string()
        };
        Self::new(status, error.code(), message)
    }

    /// A verification failure for this realm: one message for every
    /// `invalid_token` reason, the RFC 6750 challenge, no internals.
    pub fn from_auth(error: &AuthError, realm: &str) -> Self {
        let rejection = Self::new(
            status_for_code(error.code()),
            error.code(),
            error.client_message(),
        );
        let rejection = match error.challenge(realm) {
            Some(challenge) => rejection.with_challenge(challenge.to_string()),
            None => rejection,
        };
        match error {
            // Whole seconds, rounded up: never earlier than allowed.
            AuthError::RateLimited { retry_after } => Self {
                retry_after: Some(
                    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
                ),
                ..rejection
            },
            _ => rejection,
        }
    }

    /// 400 `INVALID_PATH`: a path that escapes its root or hides a separator.
    pub fn invalid_path(error: &ScopeError) -> Self {
        Self::new(400, "INVALID_PATH", error.to_string())
    }

    /// Replaces the message for the client.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Adds a `WWW-Authenticate` value.
    #[must_use]
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.challenge = Some(challenge.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `WWW-Authenticate` value, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }

    /// The `Retry-After` value in seconds, if any (a spent rate limit).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

/// A requirement owned by a router (the layer's counterpart of
/// [`Requirement`], which borrows).
///
/// The path requirements check the path **as the router sees it**, which
/// is not always the path the client sent:
///
/// - inside axum's `Router::nest("/docs", …)`, or under actix-web's
///   `web::scope("/docs")`, the `/docs` prefix is already consumed, so a
///   request for `/docs/releases/a` is checked as `/releases/a` (a token
///   scoped to `/releases` may read it);
/// - on a top-level route such as `/docs/{*path}` nothing is consumed, so
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
    /// Resolves the requirement for one request (its method and its path as
    /// the router sees it), normalising the path.
    ///
    /// # Errors
    /// The path cannot be normalised (it escapes its root, hides a
    /// separator): answer 400 `INVALID_PATH`.
    pub fn resolve(&self, method: &str, path: &str) -> Result<Resolved, ScopeError> {
        let path = || RoutePath::parse(path);
        Ok(match self {
            Self::AnyToken => Resolved::None,
            Self::Manager => Resolved::Manager,
            Self::Ability(name) => Resolved::Ability(name.clone()),
            Self::ReadPath => Resolved::Read(path()?),
            Self::WritePath => Resolved::Write(path()?),
            Self::PathByMethod if is_read_method(method) => Resolved::Read(path()?),
            Self::PathByMethod => Resolved::Write(path()?),
        })
    }
}

fn is_read_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// A requirement with its path normalised: it owns what [`Requirement`]
/// borrows ([`as_requirement`](Self::as_requirement)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Any valid token.
    None,
    /// The `manager` permission.
    Manager,
    /// An application-defined ability.
    Ability(String),
    /// Read access to this path.
    Read(RoutePath),
    /// Write access to this path.
    Write(RoutePath),
}

impl Resolved {
    /// The requirement to check.
    pub fn as_requirement(&self) -> Requirement<'_> {
        match self {
            Self::None => Requirement::None,
            Self::Manager => Requirement::Manager,
            Self::Ability(name) => Requirement::Ability(name),
            Self::Read(path) => Requirement::Read(path),
            Self::Write(path) => Requirement::Write(path),
        }
    }
}

/// A requirement named by a type, so a handler states it in its signature.
///
/// The crate provides [`AnyToken`], [`Manager`], [`ReadPath`],
/// [`WritePath`] and [`PathByMethod`]; an ability is your own type:
///
/// ```
/// use tokenkeep::http::{RequirementSpec, RouteRequirement};
///
/// struct Deploy;
/// impl RequirementSpec for Deploy {
///     fn route_requirement() -> RouteRequirement {
///         RouteRequirement::Ability("deploy".into())
///     }
/// }
/// // axum: `async fn deploy(Token(who, ..): Token<Deploy>)`;
/// // actix-web: `async fn deploy(token: Token<Deploy>)`.
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
    /// axum's `nest("/docs", …)` without the `/docs` prefix, on a top-level
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_requirements_follow_the_method_and_refuse_escapes() {
        let by_method = RouteRequirement::PathByMethod;
        let read = by_method.resolve("GET", "/releases/a").unwrap();
        assert!(matches!(read, Resolved::Read(_)));
        let write = by_method.resolve("DELETE", "/releases/a").unwrap();
        assert!(matches!(write, Resolved::Write(_)));
        assert!(by_method.resolve("GET", "/a/../../etc").is_err());
        assert_eq!(
            RouteRequirement::Manager.resolve("GET", "/%2F").unwrap(),
            Resolved::Manager,
            "a requirement without a path never looks at it"
        );
    }
}
