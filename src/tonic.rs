//! tonic integration (feature `tonic`): a tower layer for gRPC servers that
//! reads the `authorization` metadata, puts the verified
//! [`Authenticated`](crate::Authenticated) into the request's extensions,
//! and answers `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE` with
//! a message that never contains token text. Requirements are per method,
//! so a manager-only method sits beside open ones:
//!
//! ```no_run
//! use tokenkeep::tonic::{RequireToken, RouteRequirement};
//! # async fn serve(service: tokenkeep::TokenService) -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let guard = RequireToken::new(service, RouteRequirement::AnyToken)
//!     .method("/grpc.health.v1.Health/Watch", RouteRequirement::Manager)
//!     .end_streams_on_revocation();
//! tonic::transport::Server::builder()
//!     .layer(guard)
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! In a handler, `request.extensions().get::<Authenticated>()` names the
//! caller. The layer runs the same [request pipeline](crate::http) as the
//! HTTP integrations: the client's address is the connection's peer (or
//! the forwarded one behind the service's trusted proxies), so address
//! allow-lists hold over gRPC too, and a method the token may not call
//! never consumes one of its uses. With [`RequireToken::end_streams_on_revocation`], a response
//! stream ends with `UNAUTHENTICATED` as soon as its token is revoked,
//! expires or loses the method's scope (see
//! [`TokenService::revocation`](crate::TokenService::revocation)).

mod layer;
mod stream;

pub use crate::http::RouteRequirement;
pub use layer::{RequireToken, RequireTokenService};

use crate::http::Rejection;
use crate::service::AuthError;

/// The gRPC status for a refusal: the client's message only, never the
/// token or the reason it was invalid.
///
/// ```
/// use tokenkeep::{AuthError, InvalidToken};
/// let status = tokenkeep::tonic::status_for(&AuthError::InvalidToken(InvalidToken::Revoked));
/// assert_eq!(status.code(), tonic::Code::Unauthenticated);
/// ```
pub fn status_for(error: &AuthError) -> ::tonic::Status {
    status_for_rejection(&Rejection::from_auth(error, ""))
}

/// The gRPC status for a refusal of the [request pipeline](crate::http):
/// 400 `INVALID_PATH` is `INVALID_ARGUMENT`, 403 `PERMISSION_DENIED` (with
/// the scope needed), 429 `RESOURCE_EXHAUSTED`, 503 `UNAVAILABLE`, and
/// every other refusal (no credential, a malformed or invalid one)
/// `UNAUTHENTICATED`.
///
/// ```
/// use tokenkeep::http::Rejection;
/// let status = tokenkeep::tonic::status_for_rejection(&Rejection::new(400, "INVALID_PATH", "bad path"));
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// ```
pub fn status_for_rejection(rejection: &Rejection) -> ::tonic::Status {
    let message = rejection.message();
    match (rejection.status(), rejection.code()) {
        (_, "INVALID_PATH") => ::tonic::Status::invalid_argument(message),
        (403, _) => match rejection.required_scope() {
            Some(scope) => {
                ::tonic::Status::permission_denied(format!("{message} (requires {scope})"))
            }
            None => ::tonic::Status::permission_denied(message),
        },
        (429, _) => ::tonic::Status::resource_exhausted(message),
        (status, _) if status >= 500 => ::tonic::Status::unavailable(message),
        _ => ::tonic::Status::unauthenticated(message),
    }
}
