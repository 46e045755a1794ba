#![cfg_attr(
    all(feature = "management", feature = "axum", feature = "conformance"),
    doc = include_str!("../README.md")
)]
#![cfg_attr(
    not(all(feature = "management", feature = "axum", feature = "conformance")),
    doc = "API tokens for Rust services. The README, with its examples, is the crate's front page in a build with the `management`, `axum` and `conformance` features (as on docs.rs); the `guide` module holds the guides (with the `management` feature)."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//!
//! # Where things are
//!
//! The crate root holds what a service author touches. The modules hold the
//! rest, each with its own error type:
//!
//! | module | holds |
//! | --- | --- |
//! | [`token`] | the prefix, minting, parsing and checksum, the plaintext [`TokenSecret`] |
//! | [`hash`] | [`TokenHash`](hash::TokenHash) and the hashing modes (SHA-256, keyed HMAC) |
//! | [`bearer`] | RFC 6750 `Authorization` parsing and the `WWW-Authenticate` challenge |
//! | [`scope`] | permissions, abilities, routes and requirements |
//! | [`expiry`] | lifetimes like `90d`, and clocks |
//! | [`record`] | [`TokenRecord`], ids, names, owners |
//! | [`rules`] | every rule about tokens, written once over the store's one atomic primitive |
//! | [`service`] | verification, management, policy, the setup claim |
//! | [`store`] | the traits a store implements, the types only they need, and the backends |
//! | [`http`] | the one request pipeline every HTTP integration runs: facts in, verdict or rejection out |
//! | `guide` | the guides from `docs/`, for service authors, store authors, benchmarking and operators (with the default feature `management`) |
//! | `axum`, `actix`, `tonic`, `client`, `conformance` | the integrations, each behind its feature |

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod bearer;
mod byte_class;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod error;
pub mod expiry;
#[cfg(feature = "management")]
pub mod guide;
pub mod hash;
pub mod http;
pub mod limiter;
pub mod observability;
pub mod record;
pub mod rules;
pub mod scope;
pub mod service;
pub mod store;
pub mod token;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod tonic;

pub use error::{ConfigError, ErrorCode};
pub use expiry::Expiry;
pub use record::{TokenId, TokenRecord};
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use rules::TokenUpdate;
pub use scope::{Access, Requirement, Route, Scopes};
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use service::{Actor, IssueRequest, IssuedToken, ManageError, Policy, TokenManager, TokenRef};
pub use service::{AuthError, Authenticated, InvalidToken, TemporaryToken, TokenService};
pub use token::{Prefix, TokenSecret};

/// Re-exported: every instant in the API is a `time::OffsetDateTime`.
pub use time;
