//! Configuring a [`TokenService`] or a `TokenManager`.
//!
//! The builder is also where the store is layered: every call traced
//! (`store/traced.rs`), and temporary tokens in front of that, so that the
//! verification path asks one store and never branches on where a record
//! lives or whether it is observed.

use std::marker::PhantomData;
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

/// Builds what its entry point names, with every setting defaulted:
///
/// | entry point | `build()` makes |
/// | --- | --- |
/// | [`TokenService::builder`] | a [`TokenService`] over a store it reads |
/// | [`TokenService::writable_builder`] | a [`TokenService`] over a store it may write, so it counts the uses of usage-limited tokens |
/// | `TokenManager::builder` | a `TokenManager`: verifies, and issues and manages tokens |
///
/// `Out` is what `build()` makes, so a call cannot compile into the other
/// thing; the management policy is configured only on a builder of a
/// `TokenManager`.
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
pub struct ServiceBuilder<S: ?Sized = dyn TokenStore, Out = TokenService> {
    store: Arc<S>,
    /// What `build()` makes.
    out: PhantomData<fn() -> Out>,
    settings: Settings,
    last_used_interval: Duration,
    accept_custom_secrets: bool,
    temporary: Vec<TemporaryToken>,
    #[cfg(feature = "management")]
    policy: Policy,
    #[cfg(feature = "management")]
    setup: SetupConfig,
}

impl<S: ?Sized, Out> ServiceBuilder<S, Out> {
    /// The realm challenges name unless configured otherwise.
    pub const DEFAULT_REALM: &'static str = "tokenkeep";

    /// The default interval between two last-used writes of one token.
    pub const DEFAULT_LAST_USED_INTERVAL: Duration = Duration::seconds(60);

    pub(super) fn new(store: Arc<S>, prefix: Prefix) -> Self {
        Self {
            store,
            out: PhantomData,
            settings: Settings {
                format: TokenFormat::new(prefix),
                hasher: TokenHasher::sha256(),
                clock: Arc::new(SystemClock),
                realm: Self::DEFAULT_REALM.to_owned(),
                store_timeout: None,
                trusted_proxies: Vec::new(),
                rate_limiter: Arc::new(crate::limiter::InProcessRateLimiter::default()),
            },
            last_used_interval: Self::DEFAULT_LAST_USED_INTERVAL,
            accept_custom_secrets: false,
            temporary: Vec::new(),
            #[cfg(feature = "management")]
            policy: Policy::default(),
            #[cfg(feature = "management")]
            setup: SetupConfig::default(),
        }
    }

    /// Where rate limits are counted: in this process by default
    /// ([`InProcessRateLimiter`](crate::limiter::InProcessRateLimiter)),
    /// or shared by every instance (`RedisRateLimiter`, feature `redis`).
    pub fn rate_limiter(mut self, limiter: Arc<dyn crate::limiter::RateLimiter>) -> Self {
        self.settings.rate_limiter = limiter;
        self
    }

    /// Replaces the token format (to change the secret size).
    pub fn format(mut self, format: TokenFormat) -> Self {
        self.settings.format = format;
        self
    }

    /// Tags every minted token with `keys`, and refuses a token of the
    /// service's prefix whose tag they did not make before hashing it or
    /// asking the store: a flood of forged tokens costs the database
    /// nothing. See [`TokenFormat::with_mint_keys`].
    pub fn mint_keys(mut self, keys: crate::token::MintKeys) -> Self {
        self.settings.format = self.settings.format.clone().with_mint_keys(keys);
        self
    }

    /// Replaces the hasher (for the keyed mode). Hashes already stored were
    /// made with the old one and will no longer match.
    pub fn hasher(mut self, hasher: TokenHasher) -> Self {
        self.settings.hasher = hasher;
        self
    }

    /// Replaces the clock (tests use a [`ManualClock`](crate::expiry::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.settings.clock = Arc::new(clock);
        self
    }

    /// The realm `WWW-Authenticate` challenges name (default `tokenkeep`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.settings.realm = realm.into();
        self
    }

    /// How long verification waits for the store before answering 503
    /// (failing closed). Needs Tokio's time driver (`enable_time`, on in
    /// `#[tokio::main]`). None by default: the store's own timeouts apply.
    pub fn store_timeout(mut self, limit: std::time::Duration) -> Self {
        self.settings.store_timeout = Some(limit);
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
        self.settings.trusted_proxies = proxies;
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

    /// Checks the settings every service shares and makes the temporary
    /// records: all that is left is layering the store.
    fn checked(self) -> Result<Checked<S>, ConfigError> {
        if self.last_used_interval <= Duration::ZERO {
            return Err(ConfigError::Invalid("the last-used interval must be positive"));
        }
        let settings = self.settings;
        let now = settings.clock.now();
        let (temporary, any_custom) =
            temporary_records(self.temporary, &settings.format, &settings.hasher, now)?;
        Ok(Checked {
            store: self.store,
            temporary,
            look_up_custom: self.accept_custom_secrets || any_custom,
            last_used: LastUsedTracker::new(self.last_used_interval),
            #[cfg(feature = "management")]
            detect_reuse: self.policy.detect_rotation_reuse,
            settings,
        })
    }
}

/// What a service is configured with, unchanged for its life.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) format: TokenFormat,
    pub(super) hasher: TokenHasher,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) realm: String,
    pub(super) store_timeout: Option<std::time::Duration>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub(super) trusted_proxies: Vec<crate::record::IpNet>,
    /// Where the rate limits of tokens that carry one are counted.
    pub(super) rate_limiter: Arc<dyn crate::limiter::RateLimiter>,
}

/// A builder whose settings passed: the store and the temporary records
/// still to layer in front of it.
struct Checked<S: ?Sized> {
    store: Arc<S>,
    temporary: Vec<TokenRecord>,
    settings: Settings,
    look_up_custom: bool,
    last_used: LastUsedTracker,
    #[cfg(feature = "management")]
    detect_reuse: bool,
}

impl<S: TokenStore + ?Sized> Checked<S> {
    /// Refuses to start when a stored token has a temporary token's hash:
    /// it would be shadowed by the temporary one (and its rights).
    async fn refuse_shadowed(&self) -> Result<(), ConfigError> {
        for record in &self.temporary {
            match self.store.find_by_hash(&record.hash).await {
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

    /// The service over `layered`; `plain` is the store without the
    /// temporary tokens (for the custom-secret epochs), `writes` the
    /// layered store when it can be written.
    fn service(
        self,
        layered: Arc<dyn TokenStore>,
        plain: Arc<dyn TokenStore>,
        writes: Option<Arc<dyn ManageStore>>,
    ) -> TokenService {
        let prefix = self.settings.format.prefix().clone();
        TokenService {
            inner: Arc::new(Inner {
                store: layered,
                writes,
                custom: self.look_up_custom.then(|| CustomLookups::new(plain, prefix)),
                settings: self.settings,
                last_used: self.last_used,
                #[cfg(feature = "management")]
                detect_reuse: self.detect_reuse,
                changes: tokio::sync::watch::Sender::new(0),
            }),
        }
    }
}

/// The store as the service holds it: every call traced, and the
/// temporary tokens in front when there are any; and the store traced
/// alone. The same layers serve a read-only and a writable store: `erase`
/// and `erase_front` only name the trait object to make (`|layer|
/// Arc::new(layer)`, coerced).
fn layered<S: ?Sized>(
    store: Arc<S>,
    temporary: Vec<TokenRecord>,
    erase: impl FnOnce(Traced<S>) -> Arc<S>,
    erase_front: impl FnOnce(WithTemporary<S>) -> Arc<S>,
) -> (Arc<S>, Arc<S>) {
    let traced = erase(Traced::new(store));
    let layered = if temporary.is_empty() {
        Arc::clone(&traced)
    } else {
        erase_front(WithTemporary::new(temporary, Arc::clone(&traced)))
    };
    (layered, traced)
}

impl Checked<dyn TokenStore> {
    /// The service over a store it may only read.
    fn read_only(mut self) -> TokenService {
        let temporary = std::mem::take(&mut self.temporary);
        let store = Arc::clone(&self.store);
        let (layered, plain) = layered(store, temporary, |l| Arc::new(l), |l| Arc::new(l));
        self.service(layered, plain, None)
    }
}

impl Checked<dyn ManageStore> {
    /// The service over a store it may write, and that store, layered.
    fn writable(mut self) -> (TokenService, Arc<dyn ManageStore>) {
        let temporary = std::mem::take(&mut self.temporary);
        let store = Arc::clone(&self.store);
        let (layered, plain) = layered(store, temporary, |l| Arc::new(l), |l| Arc::new(l));
        let service = self.service(layered.clone(), plain, Some(Arc::clone(&layered)));
        (service, layered)
    }
}

impl ServiceBuilder<dyn TokenStore, TokenService> {
    /// Checks the settings and builds the service. Over a store it may only
    /// read, the service refuses usage-limited tokens (it cannot count
    /// their uses): see [`TokenService::writable_builder`].
    ///
    /// # Errors
    /// [`ConfigError`] for a non-positive last-used interval, or two
    /// temporary tokens with the same name or secret.
    pub fn build(self) -> Result<TokenService, ConfigError> {
        Ok(self.checked()?.read_only())
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
        let checked = self.checked()?;
        checked.refuse_shadowed().await?;
        Ok(checked.read_only())
    }
}

impl ServiceBuilder<dyn ManageStore, TokenService> {
    /// Builds a verifying service (no management) over a store that can
    /// be written, so that it counts the uses of usage-limited tokens: the
    /// builder a verify-only build uses for such tokens.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Prefix, TokenService};
    ///
    /// let service: TokenService =
    ///     TokenService::writable_builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
    ///         .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`ServiceBuilder::build`].
    pub fn build(self) -> Result<TokenService, ConfigError> {
        Ok(self.checked()?.writable().0)
    }

    /// As [`build`](Self::build), and first refuses to start when a stored
    /// token has a temporary token's secret (see
    /// [`ServiceBuilder::build_checked`]).
    ///
    /// # Errors
    /// As `build`, and [`ConfigError::TemporaryToken`].
    pub async fn build_checked(self) -> Result<TokenService, ConfigError> {
        let checked = self.checked()?;
        checked.refuse_shadowed().await?;
        Ok(checked.writable().0)
    }
}

#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
impl ServiceBuilder<dyn ManageStore, TokenManager> {
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
        let (management, checked) = self.management()?;
        Ok(management.over(checked.writable()))
    }

    /// As [`build`](Self::build), and first refuses to start when a stored
    /// token has a temporary token's secret (see
    /// [`ServiceBuilder::build_checked`]).
    ///
    /// # Errors
    /// As `build`, and [`ConfigError::TemporaryToken`] for a shadowed
    /// token or a store that cannot answer.
    pub async fn build_checked(self) -> Result<TokenManager, ConfigError> {
        let (management, checked) = self.management()?;
        checked.refuse_shadowed().await?;
        Ok(management.over(checked.writable()))
    }

    /// What only a manager is configured with, checked, and the rest.
    fn management(mut self) -> Result<(Management, Checked<dyn ManageStore>), ConfigError> {
        crate::record::check_owner(&self.setup.owner)
            .map_err(|_| ConfigError::Invalid("the setup owner is not a valid owner"))?;
        let management = Management {
            policy: self.policy.clone(),
            setup: std::mem::take(&mut self.setup),
            accept_custom_secrets: self.accept_custom_secrets,
        };
        Ok((management, self.checked()?))
    }
}

#[cfg(feature = "management")]
impl TokenManager {
    /// Starts configuring a manager over `store` whose tokens carry `prefix`.
    pub fn builder(
        store: Arc<dyn ManageStore>,
        prefix: Prefix,
    ) -> ServiceBuilder<dyn ManageStore, TokenManager> {
        ServiceBuilder::new(store, prefix)
    }
}

/// A manager's own settings.
#[cfg(feature = "management")]
struct Management {
    policy: Policy,
    setup: SetupConfig,
    accept_custom_secrets: bool,
}

#[cfg(feature = "management")]
impl Management {
    fn over(self, (service, store): (TokenService, Arc<dyn ManageStore>)) -> TokenManager {
        let inner = ManagerInner {
            store,
            policy: self.policy,
            setup: self.setup,
            accept_custom_secrets: self.accept_custom_secrets,
        };
        TokenManager::new(service, inner)
    }
}
