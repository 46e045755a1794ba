//! axum integration: extractors, a tower layer, and rejections that render
//! design §5 (status, `WWW-Authenticate`, JSON `{"error", "message"}`).
//!
//! The requirement is declared where the route is defined, either in the
//! handler's signature or as a layer on a route or router:
//!
//! ```
//! use axum::{Router, routing::get};
//! use tokenkeep::axum::{Manager, PathByMethod, RequireToken, RouteRequirement, Token};
//! use tokenkeep::{Authenticated, TokenService};
//!
//! async fn admin_only(Token(who, ..): Token<Manager>) -> String {
//!     format!("hello, {}", who.owner())
//! }
//!
//! async fn file(axum::Extension(who): axum::Extension<Authenticated>) -> String {
//!     who.owner().to_owned()
//! }
//!
//! fn router(service: TokenService) -> Router {
//!     let files = Router::new()
//!         .route("/{*path}", get(file).put(file))
//!         .layer(RequireToken::new(service.clone(), RouteRequirement::PathByMethod));
//!     Router::new()
//!         .route("/admin", get(admin_only))
//!         .nest("/files", files)
//!         .with_state(service)
//! }
//! ```
//!
//! Both mark the `Authorization` header sensitive, so `http`'s `Debug` (and
//! tracing layers that honour it) never print it.

mod extract;
mod layer;
mod response;

use axum::http::Method;
use axum::http::request::Parts;

pub use extract::{
    AnyToken, Manager, PathByMethod, QueryToken, ReadPath, RequirementSpec, Token, WritePath,
};
pub use layer::{RequireToken, RequireTokenService};
pub use response::ApiError;

use crate::scope::{Requirement, RoutePath};

/// A requirement owned by a router (the layer's counterpart of
/// [`Requirement`], which borrows).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteRequirement {
    /// Any valid token.
    AnyToken,
    /// The `manager` permission.
    Manager,
    /// An application-defined ability.
    Ability(String),
    /// Read access to the request's path (as the router sees it: inside
    /// `nest("/files", …)` the `/files` prefix is already gone).
    ReadPath,
    /// Write access to the request's path.
    WritePath,
    /// Read for `GET`, `HEAD` and `OPTIONS`; write for every other method.
    PathByMethod,
}

impl RouteRequirement {
    /// Resolves the requirement for one request, normalising its path.
    ///
    /// # Errors
    /// [`ApiError`] 400 `INVALID_PATH` when the path cannot be normalised
    /// (it escapes the root or hides a separator).
    pub(crate) fn resolve(&self, parts: &Parts) -> Result<Resolved, ApiError> {
        let path = || RoutePath::parse(parts.uri.path()).map_err(ApiError::invalid_path);
        Ok(match self {
            Self::AnyToken => Resolved::None,
            Self::Manager => Resolved::Manager,
            Self::Ability(name) => Resolved::Ability(name.clone()),
            Self::ReadPath => Resolved::Read(path()?),
            Self::WritePath => Resolved::Write(path()?),
            Self::PathByMethod => {
                if is_read_method(&parts.method) {
                    Resolved::Read(path()?)
                } else {
                    Resolved::Write(path()?)
                }
            }
        })
    }
}

fn is_read_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A requirement with its path normalised: it owns what [`Requirement`] borrows.
#[derive(Clone, Debug)]
pub(crate) enum Resolved {
    None,
    Manager,
    Ability(String),
    Read(RoutePath),
    Write(RoutePath),
}

impl Resolved {
    pub(crate) fn as_requirement(&self) -> Requirement<'_> {
        match self {
            Self::None => Requirement::None,
            Self::Manager => Requirement::Manager,
            Self::Ability(name) => Requirement::Ability(name),
            Self::Read(path) => Requirement::Read(path),
            Self::Write(path) => Requirement::Write(path),
        }
    }
}

/// Marks the `Authorization` header sensitive and returns its value; more
/// than one header is refused, a value that is not visible ASCII is malformed.
pub(crate) fn authorization(parts: &mut Parts) -> Result<Option<&str>, crate::BearerError> {
    use axum::http::header::AUTHORIZATION;
    if parts.headers.get_all(AUTHORIZATION).iter().count() > 1 {
        return Err(crate::BearerError::MultipleCredentials);
    }
    let Some(value) = parts.headers.get_mut(AUTHORIZATION) else {
        return Ok(None);
    };
    value.set_sensitive(true);
    value
        .to_str()
        .map(Some)
        .map_err(|_| crate::BearerError::InvalidCharacter)
}
