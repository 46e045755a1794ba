//! actix-web integration (feature `actix`): an extractor that names its
//! requirement in the handler's signature, a middleware that protects a
//! scope by path and method, and rejections with the same statuses,
//! `WWW-Authenticate` challenges and JSON bodies as the axum integration.
//!
//! The [`TokenService`](crate::TokenService) goes into the app's data:
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use tokenkeep::actix::{Manager, RequireToken, RouteRequirement, Token};
//! use tokenkeep::{Authenticated, TokenService};
//!
//! async fn admin_only(token: Token<Manager>) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("hello, {}", token.0.owner()))
//! }
//!
//! async fn file(request: actix_web::HttpRequest) -> HttpResponse {
//!     use actix_web::HttpMessage as _;
//!     let owner = request.extensions().get::<Authenticated>().map(|who| who.owner().to_owned());
//!     HttpResponse::Ok().body(owner.unwrap_or_default())
//! }
//!
//! fn app(service: TokenService) -> App<
//!     impl actix_web::dev::ServiceFactory<
//!         actix_web::dev::ServiceRequest,
//!         Config = (),
//!         Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
//!         Error = actix_web::Error,
//!         InitError = (),
//!     >,
//! > {
//!     // Under `scope("/files")` the middleware checks `/releases/a` for a
//!     // request to `/files/releases/a`: the scope consumes its prefix.
//!     let files = web::scope("/files")
//!         .wrap(RequireToken::new(service.clone(), RouteRequirement::PathByMethod))
//!         .default_service(web::to(file));
//!     App::new()
//!         .app_data(web::Data::new(service))
//!         .route("/admin", web::get().to(admin_only))
//!         .service(files)
//! }
//! ```
//!
//! From request to verdict: the adapter (`actix/verify.rs`) fills in the
//! request's facts and runs the one [request pipeline](crate::http), the
//! same for every framework: one credential, the requirement on the path
//! (see [`RouteRequirement`]), the client's address, then verification
//! with that requirement, so a request the route refuses never consumes a
//! use. A long-lived response (a server-sent event stream) wrapped in
//! [`until_revoked`] ends when its token is revoked; `examples/actix.rs`
//! shows one.

mod extract;
mod middleware;
mod response;
mod stream;
mod verify;

pub use crate::http::Rejection as ApiError;
pub use crate::http::{
    AnyToken, Manager, PathByMethod, ReadPath, RequirementSpec, RouteRequirement, WritePath,
};
pub use extract::Token;
pub use middleware::{RequireToken, RequireTokenMiddleware};
pub use stream::{UntilRevoked, until_revoked};
