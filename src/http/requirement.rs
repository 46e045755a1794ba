//! What a route requires, owned by the router, resolved per request.

use crate::scope::{Requirement, RoutePath, ScopeError};

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
