#![cfg_attr(feature = "management", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "management"),
    doc = "API tokens for Rust services: this is the verify-only build (no `management` feature)."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod bearer;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod error;
mod expiry;
mod hash;
mod record;
mod scope;
mod service;
#[cfg(feature = "management")]
mod setup;
mod store;
mod token;

pub use bearer::{Challenge, ChallengeError, parse_authorization, parse_authorization_values};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use error::ClientError;
pub use error::{
    AuthError, BearerError, ConfigError, CustomSecretError, DurationError, ErrorCode, FormatError,
    HashParseError, InvalidToken, ManageError, MintError, NameError, RecordError, ScopeError,
    StoreError,
};
pub use expiry::{Clock, Expiry, MAX_LIFETIME, ManualClock, SystemClock, parse_duration};
pub use hash::{MIN_PEPPER_LEN, TokenHash, TokenHasher};
pub use record::{
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_OWNER_CHARS, MAX_PROFILE_CHARS, TokenId, TokenKind,
    TokenName, TokenRecord, TokenStatus, check_description, check_owner, check_profile,
};
pub use scope::{
    Ability, Access, MAX_ABILITY_LEN, MAX_PATH_LEN, Requirement, Route, RoutePath, Scopes,
};
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use service::{Actor, IssueRequest, IssuedToken, Policy, TokenChanges, TokenRef};
pub use service::{
    Authenticated, DEFAULT_LAST_USED_INTERVAL, DEFAULT_REALM, LastUsedFlusher, ServiceBuilder,
    TemporaryToken, TokenService,
};
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use setup::DEFAULT_SETUP_OWNER;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::SqliteStore;
pub use store::{
    CacheConfig, CachedStore, ImportReport, LastUse, ListQuery, MemoryStore, TokenStore,
};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use store::{INVALIDATION_CHANNEL, InvalidationListener, PostgresStore};
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use store::{InsertRules, Rotation, TokenUpdate};
pub use token::{
    DEFAULT_SECRET_BYTES, MAX_CUSTOM_SECRET_LEN, MAX_PREFIX_LEN, MAX_SECRET_BYTES,
    MIN_CUSTOM_SECRET_LEN, MIN_SECRET_BYTES, MintedToken, ParsedToken, Prefix, TokenFormat,
    TokenSecret, parse_any,
};

/// Re-exported so store implementers use the same version.
pub use async_trait::async_trait;
/// Re-exported: the SQL stores are built on it, and take its pools and options.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sqlx;
/// Re-exported: every instant in the API is a `time::OffsetDateTime`.
pub use time;
