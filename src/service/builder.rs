//! Configuring a [`TokenService`].

use std::sync::Arc;

use time::Duration;

use super::last_used::LastUsedTracker;
use super::temporary::{TemporaryToken, TemporaryTokens};
use super::{Inner, TokenService};
use crate::error::ConfigError;
use crate::expiry::{Clock, SystemClock};
use crate::hash::TokenHasher;
use crate::store::TokenStore;
use crate::token::{Prefix, TokenFormat};
#[cfg(feature = "management")]
use {super::policy::Policy, crate::setup::SetupConfig, crate::token::TokenSecret};

/// The realm challenges name unless configured otherwise.
pub const DEFAULT_REALM: &str = "tokenkeep";

/// The default interval between two last-used writes of one token.
pub const DEFAULT_LAST_USED_INTERVAL: Duration = Duration::seconds(60);

/// Builds a [`TokenService`]; every setting has the default design §4 names.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::{MemoryStore, Prefix, TemporaryToken, TokenSecret, TokenService};
///
/// let service = TokenService::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
///     .last_used_interval(tokenkeep::time::Duration::seconds(30))
///     .temporary_token(TemporaryToken::parse_spec("root:root-secret")?)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct ServiceBuilder {
    store: Arc<dyn TokenStore>,
    format: TokenFormat,
    hasher: TokenHasher,
    clock: Arc<dyn Clock>,
    realm: String,
    store_timeout: Option<std::time::Duration>,
    last_used_interval: Duration,
    accept_custom_secrets: bool,
    temporary: Vec<TemporaryToken>,
    #[cfg(feature = "management")]
    policy: Policy,
    #[cfg(feature = "management")]
    setup: SetupConfig,
}

impl ServiceBuilder {
    pub(super) fn new(store: Arc<dyn TokenStore>, prefix: Prefix) -> Self {
        Self {
            store,
            format: TokenFormat::new(prefix),
            hasher: TokenHasher::sha256(),
            clock: Arc::new(SystemClock),
            realm: DEFAULT_REALM.to_owned(),
            store_timeout: None,
            last_used_interval: DEFAULT_LAST_USED_INTERVAL,
            accept_custom_secrets: false,
            temporary: Vec::new(),
            #[cfg(feature = "management")]
            policy: Policy::default(),
            #[cfg(feature = "management")]
            setup: SetupConfig::default(),
        }
    }

    /// Replaces the token format (to change the secret size).
    pub fn format(mut self, format: TokenFormat) -> Self {
        self.format = format;
        self
    }

    /// Replaces the hasher (for the keyed mode). Hashes already stored were
    /// made with the old one and will no longer match.
    pub fn hasher(mut self, hasher: TokenHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Replaces the clock (tests use a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The realm `WWW-Authenticate` challenges name (default `tokenkeep`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// How long verification waits for the store before answering 503
    /// (failing closed). Needs Tokio's time driver (`enable_time`, on in
    /// `#[tokio::main]`). None by default: the store's own timeouts apply.
    pub fn store_timeout(mut self, limit: std::time::Duration) -> Self {
        self.store_timeout = Some(limit);
        self
    }

    /// How long after one last-used write the next may happen for the same
    /// token (default 60 s).
    pub fn last_used_interval(mut self, interval: Duration) -> Self {
        self.last_used_interval = interval;
        self
    }

    /// Also verifies stored tokens whose text is not in this service's
    /// format: custom secrets and hashes imported from another system. Such
    /// text is hashed and looked up instead of being rejected by the format
    /// check, so it costs a hash and a lookup. Off by default.
    pub fn accept_custom_secrets(mut self, accept: bool) -> Self {
        self.accept_custom_secrets = accept;
        self
    }

    /// Adds a temporary token: checked on every verification, never written
    /// to the store, gone when the process ends.
    pub fn temporary_token(mut self, token: TemporaryToken) -> Self {
        self.temporary.push(token);
        self
    }

    /// The most active tokens one owner may hold (`None`: no cap; default 10).
    #[cfg(feature = "management")]
    pub fn max_active_per_owner(mut self, limit: Option<usize>) -> Self {
        self.policy.max_active_per_owner = limit;
        self
    }

    /// Replaces the whole management policy.
    #[cfg(feature = "management")]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The secret the operator configured to claim a fresh installation.
    #[cfg(feature = "management")]
    pub fn setup_token(mut self, token: TokenSecret) -> Self {
        self.setup.token = Some(token);
        self
    }

    /// **Dangerous**: lets anyone who reaches the service claim a fresh
    /// installation without a setup token. For trusted development only.
    #[cfg(feature = "management")]
    pub fn dangerously_skip_setup_token(mut self) -> Self {
        self.setup.skip_token = true;
        self
    }

    /// The owner of the first manager token a claim mints (default `admin`).
    #[cfg(feature = "management")]
    pub fn setup_owner(mut self, owner: impl Into<String>) -> Self {
        self.setup.owner = owner.into();
        self
    }

    /// Checks the settings and builds the service.
    ///
    /// # Errors
    /// [`ConfigError`] for a non-positive last-used interval, two temporary
    /// tokens with the same secret, or a bad setup owner.
    pub fn build(self) -> Result<TokenService, ConfigError> {
        if self.last_used_interval <= Duration::ZERO {
            return Err(ConfigError::Invalid(
                "the last-used interval must be positive",
            ));
        }
        #[cfg(feature = "management")]
        crate::record::check_owner(&self.setup.owner)
            .map_err(|_| ConfigError::Invalid("the setup owner is not a valid owner"))?;
        let now = self.clock.now();
        let temporary = TemporaryTokens::new(self.temporary, &self.format, &self.hasher, now)?;
        Ok(TokenService {
            inner: Arc::new(Inner {
                store: self.store,
                format: self.format,
                hasher: self.hasher,
                clock: self.clock,
                realm: self.realm,
                store_timeout: self.store_timeout,
                accept_custom_secrets: self.accept_custom_secrets,
                temporary,
                last_used: LastUsedTracker::new(self.last_used_interval),
                #[cfg(feature = "management")]
                policy: self.policy,
                #[cfg(feature = "management")]
                setup: self.setup,
            }),
        })
    }
}
