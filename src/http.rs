//! The framework-free request pipeline every HTTP integration runs, and
//! what they share: the status of each machine code, requirements a
//! router owns, refusals ready to render.
//!
//! A framework adapter (axum, actix-web, tonic, or your own) does two
//! things: it fills in the [`RequestFacts`] of a request, and it renders
//! the [`Rejection`] that [`verify_request`] may return. Everything between
//! (which credential counts, the route's requirement, the client's address,
//! the order of the checks) happens here, once:
//!
//! ```text
//! RequestFacts ──▶ one credential ──▶ route resolved ──▶ client address ──▶ verification ──▶ Verdict
//!                    401 / 400                                             401/403/429/503,
//!                                                                          400 INVALID_PATH
//! ```
//!
//! The integrations render the same answers from a [`Rejection`] (status,
//! RFC 6750 challenge, JSON `{"error", "message"}`), so a client sees one
//! contract whichever framework serves it.
//!
//! Beside it, the protocols that let systems outside Rust ask it, each a
//! function from a request's facts (and body) to an answer or a
//! [`Rejection`], for any framework to mount (axum's
//! `tokenkeep::axum::Endpoints` mounts them all):
//!
//! - [`introspect`]: OAuth 2.0 token introspection (RFC 7662);
//! - `revoke_by_holder` (feature `management`): OAuth 2.0 revocation by
//!   value (RFC 7009);
//! - `revoke_credentials` (feature `management`): leaked tokens revoked by
//!   whoever found them, rate-limited per address by `CallsPerMinute`;
//! - [`forward_auth`]: the pipeline on the request a gateway holds (nginx
//!   `auth_request`, Caddy `forward_auth`, Traefik ForwardAuth);
//! - `receive_leak_report` (feature `leak-reports`): signed reports from
//!   secret scanning programs.

mod client_address;
#[cfg(feature = "management")]
mod credentials;
mod forward_auth;
#[cfg(feature = "leak-reports")]
mod leak_report;
mod oauth;
mod pipeline;
mod rejection;
mod request;
mod requirement;
mod status;
#[cfg(any(feature = "axum", feature = "tonic"))]
mod tower_guard;

pub use client_address::client_address;
#[cfg(feature = "management")]
pub use credentials::{CallsPerMinute, MAX_CREDENTIALS, revoke_credentials};
pub use forward_auth::{OriginalRequest, forward_auth, identity_headers};
#[cfg(feature = "leak-reports")]
pub use leak_report::{
    LeakFeedback, LeakReportKeys, LeakReportKeysError, MAX_REPORTED, receive_leak_report,
};
#[cfg(feature = "management")]
pub use oauth::revoke_by_holder;
pub use oauth::{INTROSPECT_ABILITY, Introspection, introspect};
pub use pipeline::{Verdict, verify_request};
pub use rejection::Rejection;
pub use request::RequestFacts;
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) use request::hide_credentials;
pub use requirement::{
    AnyToken, Manager, PathByMethod, ReadPath, RequirementSpec, Resolved, RouteRequirement,
    WritePath,
};
pub use status::status_for_code;
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) use tower_guard::sealed;
#[cfg(any(feature = "axum", feature = "tonic"))]
pub use tower_guard::{Guard, Guarded};
