//! Configuring a [`TokenService`] or a `TokenManager`.
//!
//! The builder is also where the store is layered: every call traced
//! (`store/traced.rs`), and temporary tokens in front of that, so that the
//! verification path asks one store and never branches on where a record
//! lives or whether it is observed.

use std::sync::Arc;

use time::Duration;

use super::custom::CustomLookups;
use super::last_used::LastUsedTracker;
use super::temporary::{TemporaryToken, temporary_records};
use super::{Inner, TokenService};
use crate::error::ConfigError;
use crate::expiry::{Clock, SystemClock};
use crate::hash::TokenHasher;
use crate::record::TokenRecord;
use crate::store::ManageStore;
use crate::store::TokenStore;
use crate::store::temporary::WithTemporary;
use crate::store::traced::Traced;
use crate::token::{Prefix, TokenFormat};
#[cfg(feature = "management")]
use {
    super::manager::{ManagerInner, TokenManager},
    super::policy::Policy,
    super::setup::SetupConfig,
    crate::token::TokenSecret,
};

/// Builds a [`TokenService`] (from [`TokenService::builder`]) or a
/// `TokenManager` (from `TokenManager::builder`, over
/// a store that can also be written); every setting has a default.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Prefix, TemporaryToken, TokenService};
///
/// let service = TokenService::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
///     .last_used_interval(tokenkeep::time::Duration::seconds(30))
///     .temporary_token(TemporaryToken::parse_spec("root:root-secret")?)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct ServiceBuilder<S: ?Sized = dyn TokenStore> {
    store: Arc<S>,
    format: TokenFormat,
    hasher: TokenHasher,
    clock: Arc<dyn Clock>,
    realm: String,
    store_timeout: Option<std::time::Duration>,
    last_used_interval: Duration,
    accept_custom_secrets: bool,
    temporary: Vec<TemporaryToken>,
    trusted_proxies: Vec<crate::record::IpNet>,
    #[cfg(feature = "management")]
    policy: Policy,
    #[cfg(feature = "management")]
    setup: SetupConfig,
}

impl<S: ?Sized> ServiceBuilder<S> {
    /// The realm challenges name unless configured otherwise.
    pub const DEFAULT_REALM: &'static str = "tokenkeep";

    /// The default interval between two last-used writes of one token.
    pub const DEFAULT_LAST_USED_INTERVAL: Duration = Duration::seconds(60);

    pub(super) fn new(store: Arc<S>, prefix: Prefix) -> Self {
        Self {
            store,
            format: TokenFormat::new(prefix),
            hasher: TokenHasher::sha256(),
            clock: Arc::new(SystemClock),
            realm: Self::DEFAULT_REALM.to_owned(),
            store_timeout: None,
            last_used_interval: Self::DEFAULT_LAST_USED_INTERVAL,
            accept_custom_secrets: false,
            temporary: Vec::new(),
            trusted_proxies: Vec::new(),
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

    /// Replaces the clock (tests use a [`ManualClock`](crate::expiry::ManualClock)).
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
    /// check, but only while the store
    /// [may hold](crate::store::TokenStore::may_hold_custom_secrets) such a
    /// record, and the same absent text once every few seconds: garbage
    /// costs a hash, not a store query each. A custom secret stored through
    /// this service's manager verifies at once; one stored by another
    /// process within five seconds. Off by default.
    pub fn accept_custom_secrets(mut self, accept: bool) -> Self {
        self.accept_custom_secrets = accept;
        self
    }

    /// The reverse proxies (load balancers) in front of the service: a
    /// request from one of them is taken to come from the address it puts
    /// in `X-Forwarded-For` (see [`crate::http::client_address`]). None by
    /// default: the peer's address is the client's, whatever the header
    /// says.
    pub fn trusted_proxies(mut self, proxies: Vec<crate::record::IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Adds a temporary token: answered from memory in front of the store,
    /// never written to it, gone when the process ends. A temporary token
    /// whose secret is not in this service's format makes verification hash
    /// and look up such text, as [`accept_custom_secrets`](Self::accept_custom_secrets) does.
    pub fn temporary_token(mut self, token: TemporaryToken) -> Self {
        self.temporary.push(token);
        self
    }

    /// Checks the settings every service shares; returns the store, the
    /// temporary records to layer in front of it, and what makes the
    /// service from the layered store and the store as it was.
    #[allow(clippy::type_complexity)]
    fn into_parts(
        self,
    ) -> Result<
        (
            Arc<S>,
            Vec<TokenRecord>,
            impl FnOnce(
                Arc<dyn TokenStore>,
                Arc<dyn TokenStore>,
                Option<Arc<dyn ManageStore>>,
            ) -> TokenService,
        ),
        ConfigError,
    >
    where
        Self: Sized,
    {
        if self.last_used_interval <= Duration::ZERO {
            return Err(ConfigError::Invalid(
                "the last-used interval must be positive",
            ));
        }
        let (temporary, any_custom) =
            temporary_records(self.temporary, &self.format, &self.hasher, self.clock.now())?;
        let (format, hasher, clock, realm) = (self.format, self.hasher, self.clock, self.realm);
        let store_timeout = self.store_timeout;
        let trusted_proxies = self.trusted_proxies;
        let look_up_custom = self.accept_custom_secrets || any_custom;
        let last_used = LastUsedTracker::new(self.last_used_interval);
        // `layered` has the temporary tokens in front of `plain`.
        #[cfg(feature = "management")]
        let detect_reuse = self.policy.detect_rotation_reuse;
        let over = move |layered, plain, writes| TokenService {
            inner: Arc::new(Inner {
                store: layered,
                custom: look_up_custom.then(|| CustomLookups::new(plain, format.prefix().clone())),
                format,
                hasher,
                clock,
                realm,
                store_timeout,
                trusted_proxies,
                last_used,
                rates: super::rate::RateLimits::default(),
                #[cfg(feature = "management")]
                detect_reuse,
                writes,
                changes: tokio::sync::watch::Sender::new(0),
            }),
        };
        Ok((self.store, temporary, over))
    }
}

impl ServiceBuilder<dyn TokenStore> {
    /// Checks the settings and builds the service.
    ///
    /// # Errors
    /// [`ConfigError`] for a non-positive last-used interval, or two
    /// temporary tokens with the same name or secret.
    pub fn build(self) -> Result<TokenService, ConfigError> {
        let (store, temporary, over) = self.into_parts()?;
        let traced: Arc<dyn TokenStore> = Arc::new(Traced::new(store));
        Ok(over(layered(traced.clone(), temporary), traced, None))
    }

    /// As [`build`](Self::build), and first asks the store whether a
    /// stored token has a temporary token's secret: such a token would be
    /// shadowed by the temporary one (and its rights), so the service
    /// refuses to start. Call it at start-up when temporary tokens are
    /// configured.
    ///
    /// # Errors
    /// As `build`, and [`ConfigError::TemporaryToken`] for a shadowed
    /// token or a store that cannot answer.
    pub async fn build_checked(self) -> Result<TokenService, ConfigError> {
        let (store, temporary, over) = self.into_parts()?;
        refuse_shadowed(&*store, &temporary).await?;
        let traced: Arc<dyn TokenStore> = Arc::new(Traced::new(store));
        Ok(over(layered(traced.clone(), temporary), traced, None))
    }
}

/// The store with the temporary tokens in front, when there are any.
fn layered(store: Arc<dyn TokenStore>, temporary: Vec<TokenRecord>) -> Arc<dyn TokenStore> {
    if temporary.is_empty() {
        store
    } else {
        Arc::new(WithTemporary::new(temporary, store))
    }
}

/// Refuses to start when a stored token has a temporary token's hash.
async fn refuse_shadowed(
    store: &dyn TokenStore,
    temporary: &[TokenRecord],
) -> Result<(), ConfigError> {
    for record in temporary {
        match store.find_by_hash(&record.hash).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                return Err(ConfigError::TemporaryToken(
                    "a stored token has the same secret; revoke or delete it, or choose another secret",
                ));
            }
            Err(_) => {
                return Err(ConfigError::TemporaryToken(
                    "the store could not be asked whether a stored token has the same secret",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
impl ServiceBuilder<dyn ManageStore> {
    /// Turns on rotation reuse detection; see
    /// [`Policy::detect_rotation_reuse`].
    pub fn detect_rotation_reuse(mut self, detect: bool) -> Self {
        self.policy.detect_rotation_reuse = detect;
        self
    }

    /// The longest a token may live (`None`, the default: no limit); see
    /// [`Policy::max_lifetime`].
    pub fn max_lifetime(mut self, limit: Option<Duration>) -> Self {
        self.policy.max_lifetime = limit;
        self
    }

    /// The most active tokens one owner may hold (`None`: no cap; default 10).
    pub fn max_active_per_owner(mut self, limit: Option<usize>) -> Self {
        self.policy.max_active_per_owner = limit;
        self
    }

    /// Replaces the whole management policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The secret the operator configured to claim a fresh installation.
    pub fn setup_token(mut self, token: TokenSecret) -> Self {
        self.setup.token = Some(token);
        self
    }

    /// **Dangerous**: lets anyone who reaches the service claim a fresh
    /// installation without a setup token. For trusted development only.
    pub fn dangerously_skip_setup_token(mut self) -> Self {
        self.setup.skip_token = true;
        self
    }

    /// The owner of the first manager token a claim mints (default
    /// [`TokenManager::DEFAULT_SETUP_OWNER`]).
    pub fn setup_owner(mut self, owner: impl Into<String>) -> Self {
        self.setup.owner = owner.into();
        self
    }

    /// Checks the settings and builds the manager.
    ///
    /// # Errors
    /// [`ConfigError`] as [`ServiceBuilder::build`], or a bad setup owner.
    pub fn build(self) -> Result<TokenManager, ConfigError> {
        let (store, temporary, finish) = self.manager_parts()?;
        let traced: Arc<dyn ManageStore> = Arc::new(Traced::new(store));
        Ok(finish(layered_writes(traced.clone(), temporary), traced))
    }

    /// As [`build`](Self::build), and first refuses to start when a stored
    /// token has a temporary token's secret (see
    /// [`ServiceBuilder::build_checked`]).
    ///
    /// # Errors
    /// As `build`, and [`ConfigError::TemporaryToken`] for a shadowed
    /// token or a store that cannot answer.
    pub async fn build_checked(self) -> Result<TokenManager, ConfigError> {
        let (store, temporary, finish) = self.manager_parts()?;
        refuse_shadowed(&*store, &temporary).await?;
        let traced: Arc<dyn ManageStore> = Arc::new(Traced::new(store));
        Ok(finish(layered_writes(traced.clone(), temporary), traced))
    }

    /// The store, the temporary records, and what makes the manager from
    /// the layered store and the store as it was.
    #[allow(clippy::type_complexity)]
    fn manager_parts(
        mut self,
    ) -> Result<
        (
            Arc<dyn ManageStore>,
            Vec<TokenRecord>,
            impl FnOnce(Arc<dyn ManageStore>, Arc<dyn ManageStore>) -> TokenManager,
        ),
        ConfigError,
    > {
        crate::record::check_owner(&self.setup.owner)
            .map_err(|_| ConfigError::Invalid("the setup owner is not a valid owner"))?;
        let policy = self.policy.clone();
        let setup = std::mem::take(&mut self.setup);
        let accept_custom_secrets = self.accept_custom_secrets;
        let (store, temporary, over) = self.into_parts()?;
        let finish = move |layered: Arc<dyn ManageStore>, plain: Arc<dyn ManageStore>| {
            let service = over(layered.clone(), plain, Some(Arc::clone(&layered)));
            TokenManager::new(
                service,
                ManagerInner {
                    store: layered,
                    policy,
                    setup,
                    accept_custom_secrets,
                },
            )
        };
        Ok((store, temporary, finish))
    }
}

/// The store with the temporary tokens in front, when there are any, for
/// a store that can be written.
fn layered_writes(
    store: Arc<dyn ManageStore>,
    temporary: Vec<TokenRecord>,
) -> Arc<dyn ManageStore> {
    if temporary.is_empty() {
        store
    } else {
        Arc::new(WithTemporary::new(temporary, store))
    }
}

impl ServiceBuilder<dyn ManageStore> {
    /// Builds a verifying service (no management) over a store that can
    /// be written, so that it counts the uses of usage-limited tokens: the
    /// builder a verify-only build uses for such tokens.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Prefix, TokenService};
    ///
    /// let service = TokenService::writable_builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
    ///     .build_service()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`ServiceBuilder::build`].
    pub fn build_service(self) -> Result<TokenService, ConfigError> {
        let (store, temporary, over) = self.into_parts()?;
        let traced: Arc<dyn ManageStore> = Arc::new(Traced::new(store));
        let layered = layered_writes(traced.clone(), temporary);
        Ok(over(layered.clone(), traced, Some(layered)))
    }
}
