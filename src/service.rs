//! [`TokenService`]: a store plus the rules, the one object a service holds.
//!
//! The verification path, from header to verdict, is in `service/verify.rs`;
//! token management in `service/manage.rs`; who may manage what in
//! `service/policy.rs`.

mod builder;
mod last_used;
#[cfg(feature = "management")]
mod manage;
#[cfg(feature = "management")]
mod policy;
mod temporary;
mod verify;

use std::sync::Arc;

use time::{OffsetDateTime, UtcOffset};

pub use builder::{DEFAULT_LAST_USED_INTERVAL, DEFAULT_REALM, ServiceBuilder};
pub use last_used::LastUsedFlusher;
#[cfg(feature = "management")]
pub use manage::{IssueRequest, IssuedToken, TokenChanges, TokenRef};
#[cfg(feature = "management")]
pub use policy::{Actor, Policy};
pub use temporary::TemporaryToken;
pub use verify::Authenticated;

use crate::expiry::Clock;
use crate::hash::TokenHasher;
use crate::store::TokenStore;
use crate::token::{Prefix, TokenFormat};
use last_used::LastUsedTracker;
use temporary::TemporaryTokens;

/// Issues, verifies and manages tokens over one [`TokenStore`].
///
/// Cheap to clone (one `Arc`); share one per process.
///
/// ```
/// # #[cfg(feature = "management")] {
/// use std::sync::Arc;
/// use tokenkeep::{Actor, IssueRequest, MemoryStore, Prefix, Requirement, TokenService};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let service = TokenService::builder(Arc::new(MemoryStore::new()), Prefix::new("myc")?).build()?;
/// let issued = service
///     .issue(&Actor::User("alice".into()), IssueRequest::new("alice", "laptop"))
///     .await?;
/// let header = format!("Bearer {}", issued.token.expose_secret());
/// let who = service.verify_bearer(Some(&header), Requirement::None).await?;
/// assert_eq!(who.owner(), "alice");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TokenService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn TokenStore>,
    format: TokenFormat,
    hasher: TokenHasher,
    clock: Arc<dyn Clock>,
    realm: String,
    store_timeout: Option<std::time::Duration>,
    accept_custom_secrets: bool,
    temporary: TemporaryTokens,
    last_used: LastUsedTracker,
    #[cfg(feature = "management")]
    policy: Policy,
    #[cfg(feature = "management")]
    setup: crate::setup::SetupConfig,
}

impl TokenService {
    /// Starts configuring a service over `store` whose tokens carry `prefix`.
    pub fn builder(store: Arc<dyn TokenStore>, prefix: Prefix) -> ServiceBuilder {
        ServiceBuilder::new(store, prefix)
    }

    /// The store this service uses.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The format of the tokens this service mints.
    pub fn format(&self) -> &TokenFormat {
        &self.inner.format
    }

    /// The realm its `WWW-Authenticate` challenges name.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The hasher this service uses.
    pub fn hasher(&self) -> &TokenHasher {
        &self.inner.hasher
    }

    #[cfg(feature = "management")]
    pub(crate) fn setup_config(&self) -> &crate::setup::SetupConfig {
        &self.inner.setup
    }

    /// The current instant in UTC, to the millisecond: every stored instant
    /// has this precision, so all backends store it exactly.
    pub fn now(&self) -> OffsetDateTime {
        let now = self.inner.clock.now().to_offset(UtcOffset::UTC);
        let millis = now.millisecond();
        now.replace_millisecond(millis).unwrap_or(now)
    }
}
