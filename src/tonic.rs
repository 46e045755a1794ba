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
//! caller. The layer passes no client address, so a token with an address
//! allow-list is refused here (fail closed). With [`RequireToken::end_streams_on_revocation`], a response
//! stream ends with `UNAUTHENTICATED` as soon as its token is revoked,
//! expires or loses the method's scope (see
//! [`TokenService::revocation`](crate::TokenService::revocation)).

mod layer;
mod stream;

pub use crate::http::RouteRequirement;
pub use layer::{RequireToken, RequireTokenService};

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
    let message = error.client_message();
    match error {
        AuthError::InsufficientScope { scope } => {
            ::tonic::Status::permission_denied(format!("{message} (requires {scope})"))
        }
        AuthError::Unavailable(_) => ::tonic::Status::unavailable(message),
        AuthError::RateLimited { .. } => ::tonic::Status::resource_exhausted(message),
        _ => ::tonic::Status::unauthenticated(message),
    }
}
