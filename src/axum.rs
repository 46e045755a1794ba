//! axum integration: extractors, a tower layer, and rejections rendered as
//! HTTP answers (status, `WWW-Authenticate`, JSON `{"error", "message"}`).
//!
//! The requirement is declared where the route is defined, either in the
//! handler's signature or as a layer on a route or router:
//!
//! ```
//! use axum::{Router, routing::get};
//! use tokenkeep::axum::{Manager, RequireToken, RouteRequirement, Token};
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
//!     // Inside `nest("/files", …)` the layer checks `/releases/a` for a
//!     // request to `/files/releases/a`: the router strips the prefix.
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
//! From request to verdict: the adapter (`axum/verify.rs`) fills in the
//! request's facts and runs the one [request pipeline](crate::http), the
//! same for every framework: one credential (none is the 401 challenge),
//! the route's requirement on the path as the router sees it (see
//! [`RouteRequirement`]), the client's address (the connection's, served
//! with `into_make_service_with_connect_info::<SocketAddr>()`, or behind
//! trusted proxies the forwarded one), then verification with that
//! requirement, so a request the route refuses never consumes a use. The
//! `Authorization` header is marked sensitive, so `http`'s `Debug` (and
//! tracing layers that honour it) never print it. The extractors work
//! with a [`TokenService`](crate::TokenService) or a [`TokenManager`](crate::TokenManager) as
//! the router's state.
//!
//! [`ApiError`] is the crate's one refusal, [`Rejection`](crate::http::Rejection),
//! under the name a handler returns; it answers with the status of its
//! code ([`status_for_code`]), the challenge and the JSON body.
//!
//! A long-lived connection (a WebSocket, an SSE stream) verified once at
//! its start holds [`TokenService::revocation`](crate::TokenService::revocation)
//! beside it and ends when it resolves: the reference server's `/ws`
//! closes with code 1008 (`server/src/ws.rs`).

#[cfg(feature = "management")]
mod endpoints;
mod extract;
mod layer;
mod response;
mod verify;

pub use crate::http::Rejection as ApiError;
pub use crate::http::{
    AnyToken, Manager, PathByMethod, ReadPath, RequirementSpec, RouteRequirement, WritePath,
};
#[cfg(feature = "management")]
pub use endpoints::Endpoints;
pub use extract::{QueryToken, Token};
pub use layer::{RequireToken, RequireTokenService};
pub use response::status_for_code;
