//! The objects a service holds: [`TokenService`] verifies, and
//! `TokenManager` (feature `management`) also issues and manages.
//!
//! | file | holds |
//! | --- | --- |
//! | `service/verify.rs` | the verification path, header to verdict |
//! | `service/custom.rs` | whether text outside the format is worth a store query |
//! | `service/builder.rs` | every setting, and how the store is layered |
//! | `service/temporary.rs` | temporary tokens configured at start-up |
//! | `service/last_used.rs` | batched last-used notes |
//! | `service/manage.rs` | issue, list, rename, modify, revoke, rotate, delete, export |
//! | `service/fields.rs` | the one check of what a caller sets, for issue, modify and import |
//! | `service/import.rs` | import, held to the rules issue applies |
//! | `service/reuse.rs` | rotation reuse detection: burning a reused chain |
//! | `limiter.rs` (the crate's `limiter` module) | per-token rate limits, counted in process or shared through Redis |
//! | `service/watch.rs` | revocation futures for long-lived connections |
//! | `service/audit.rs` | one event per management action |
//! | `service/policy.rs` | who may manage which tokens |
//! | `service/setup.rs` | the one-time claim of a fresh installation |
//! | `service/error.rs` | [`AuthError`] and `ManageError` |
//!
//! The rules a change of the store must keep (caps, names, rotation, the
//! setup claim, a use consumed) are not here but in
//! [`TokenRules`](crate::rules::TokenRules), over the store's one
//! atomic primitive: the service calls them.
//!
//! # From header to verdict
//!
//! [`TokenService::verify_bearer`] takes these steps, in this order, and
//! stops at the first that refuses:
//!
//! 1. **header**: RFC 6750 parsing (scheme case-insensitive, `1*SP`, the
//!    `b64token` set, one credential only); no header is 401 without an
//!    error code, a malformed one 400 `invalid_request`;
//! 2. **format and checksum**: prefix, length, alphabet and CRC32 (and,
//!    with minting keys, the tag); a typo, random text or a forged token
//!    stops here, before any hashing (unless custom secrets are accepted,
//!    and then only text a custom secret could be that does not claim the
//!    service's prefix goes on). Steps 1 and 2 need no store and run when
//!    `verify_bearer` is called: what they refuse is answered by a ready
//!    future, without a state machine to poll;
//! 3. **hash**: SHA-256 (or the keyed HMAC) of the whole token text;
//! 4. **lookup**: the store (with temporary tokens and any cache layered in
//!    front) finds the record by hash; a store that fails, panics or times
//!    out answers 503 and never authenticates. Text outside the format is
//!    looked up only while the store may hold custom secrets at all, and
//!    not again when it was just found absent (`service/custom.rs`);
//! 5. **constant-time compare** of the stored hash with the presented one;
//! 6. **revoked, then expired**: 401 `invalid_token`, one answer to the
//!    client, the reason kept in [`InvalidToken`] for the server's logs;
//! 7. **address allow-list** (tokens that carry one): the client's address
//!    must be inside it; an unknown address is refused (401, fail closed);
//! 8. **rate limit** (tokens that carry one, or whose owner has one): the
//!    token's own, then its owner's, which all the owner's tokens share;
//!    429 with the time to wait; counted by the service's
//!    [`RateLimiter`](crate::limiter::RateLimiter) (in this process by
//!    default, shared through Redis with `RedisRateLimiter`);
//! 9. **last-used note**: in memory, written later in batches;
//! 10. **requirement**: 403 `insufficient_scope` naming the scope needed;
//! 11. **usage limit** (tokens that carry one, or whose owner has a shared
//!     budget): the request's cost (one use unless it says more) is
//!     consumed in one atomic change of the store, from the newest token
//!     of a rotation chain and from the owner's budget together, both or
//!     neither; too few left in either is 401 `invalid_token`
//!     (`UsesExhausted`), and a store that cannot be written refuses (503,
//!     fail closed);
//! 12. **report**: an event and a count for every verdict (see
//!     [`observability`](crate::observability)).
//!
//! A web request reaches these steps through the one
//! [request pipeline](crate::http), which resolves the route's requirement
//! first and passes it in: a request its route refuses stops at step 10
//! and never consumes a use (step 11). It has passed step 8, so it does
//! count against the token's rate limit.

#[cfg(feature = "management")]
mod audit;
mod builder;
mod custom;
mod error;
#[cfg(feature = "management")]
mod fields;
#[cfg(feature = "management")]
mod import;
mod last_used;
#[cfg(feature = "management")]
mod manage;
#[cfg(feature = "management")]
mod manager;
#[cfg(feature = "management")]
mod owner_limits;
#[cfg(feature = "management")]
mod policy;
#[cfg(feature = "management")]
mod reuse;
#[cfg(feature = "management")]
mod setup;
mod temporary;
mod verify;
mod watch;

use std::sync::Arc;

use time::{OffsetDateTime, UtcOffset};

pub use builder::ServiceBuilder;
#[cfg(feature = "management")]
pub use error::ManageError;
pub use error::{AuthError, InvalidToken};
pub use last_used::LastUsedFlusher;
#[cfg(feature = "management")]
pub use manage::{IssueRequest, IssuedToken, TokenRef};
#[cfg(feature = "management")]
pub use manager::TokenManager;
#[cfg(feature = "management")]
pub use policy::{Actor, Policy};
pub use temporary::TemporaryToken;
pub use verify::Authenticated;
pub(crate) use verify::Uses;

use crate::hash::TokenHasher;
use crate::store::TokenStore;
use crate::token::{Prefix, TokenFormat};
use custom::CustomLookups;
use last_used::LastUsedTracker;

/// How often the service asks the store again about what no change signal
/// reaches it for (another process writing the same SQLite file, a store
/// without [`changes`](TokenStore::changes)): the bound on how long such a
/// change goes unseen by revocation watches and by the custom-secret check.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Verifies tokens over one [`TokenStore`]: the one object a verifying
/// service holds.
///
/// Cheap to clone (one `Arc`); share one per process. A service that also
/// issues and manages tokens holds a `TokenManager`, whose `service()` is
/// the `TokenService` it manages through.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{AuthError, InvalidToken, Prefix, Requirement, TokenService};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let service = TokenService::builder(Arc::new(MemoryStore::new()), Prefix::new("myc")?).build()?;
/// let refused = service.verify_bearer(Some("Bearer myc_not-a-token"), Requirement::None).await;
/// assert!(matches!(refused, Err(AuthError::InvalidToken(InvalidToken::Format(_)))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TokenService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The store as verification asks it: traced, with the temporary
    /// tokens in front.
    store: Arc<dyn TokenStore>,
    /// The same layered store, when it can be written: the verification
    /// path's few writes (a use consumed, a chain burnt by reuse detection)
    /// go through its one primitive. `None` over a read-only store:
    /// usage-limited tokens then fail closed.
    writes: Option<Arc<dyn crate::store::ManageStore>>,
    /// What the service was configured with.
    settings: builder::Settings,
    /// Present when text outside the format is hashed and looked up
    /// (custom secrets are accepted, or a temporary token has one): what
    /// spares the store a query for such text that cannot be there.
    custom: Option<CustomLookups>,
    last_used: LastUsedTracker,
    /// Whether a retired token presented again burns its chain.
    #[cfg(feature = "management")]
    detect_reuse: bool,
    /// Bumped by every change a [`TokenManager`] of this service makes, so
    /// that [`TokenService::revocation`] futures look again at once.
    changes: tokio::sync::watch::Sender<u64>,
}

impl TokenService {
    /// Starts configuring a verifying service over `store` whose tokens
    /// carry `prefix`. To issue and manage tokens too, start from
    /// `TokenManager::builder` instead.
    pub fn builder(store: Arc<dyn TokenStore>, prefix: Prefix) -> ServiceBuilder {
        ServiceBuilder::new(store, prefix)
    }

    /// A builder over a store that can be written: its `build()` makes a
    /// service (not a manager) that also counts the uses of usage-limited
    /// tokens (one atomic change each), which a service over a read-only
    /// store refuses.
    pub fn writable_builder(
        store: Arc<dyn crate::store::ManageStore>,
        prefix: Prefix,
    ) -> ServiceBuilder<dyn crate::store::ManageStore> {
        ServiceBuilder::new(store, prefix)
    }

    /// The store this service reads, with its temporary tokens in front.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The format of the tokens this service accepts (and mints).
    pub fn format(&self) -> &TokenFormat {
        &self.inner.settings.format
    }

    /// The reverse proxies whose `X-Forwarded-For` names the client (see
    /// [`ServiceBuilder::trusted_proxies`]).
    pub fn trusted_proxies(&self) -> &[crate::record::IpNet] {
        &self.inner.settings.trusted_proxies
    }

    /// The realm its `WWW-Authenticate` challenges name.
    pub fn realm(&self) -> &str {
        &self.inner.settings.realm
    }

    /// The hasher this service uses.
    pub fn hasher(&self) -> &TokenHasher {
        &self.inner.settings.hasher
    }

    /// Tells this service's revocation watches that tokens may have changed.
    #[cfg(feature = "management")]
    pub(crate) fn signal_change(&self) {
        self.inner.changes.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Tells the custom-secret check that a record made from text outside
    /// the format may have just been stored.
    #[cfg(feature = "management")]
    pub(crate) fn forget_absent_custom(&self) {
        if let Some(custom) = &self.inner.custom {
            custom.forget();
        }
    }

    /// Counts the store's active tokens and sets the
    /// `tokenkeep_active_tokens` gauge (feature `metrics`; see
    /// [`observability`](crate::observability)); returns the count. It lists
    /// every active token: call it on demand (a scrape, a timer), not per
    /// request.
    ///
    /// # Errors
    /// The store's.
    pub async fn report_active_tokens(&self) -> Result<usize, crate::store::StoreError> {
        let query =
            crate::store::ListQuery { owner: None, include_inactive: false, now: self.now() };
        let count = self.inner.store.list(&query).await?.len();
        crate::observability::active_tokens(count);
        Ok(count)
    }

    /// The current instant in UTC, to the millisecond: every stored instant
    /// has this precision, so all backends store it exactly.
    pub fn now(&self) -> OffsetDateTime {
        let now = self.inner.settings.clock.now().to_offset(UtcOffset::UTC);
        let millis = now.millisecond();
        now.replace_millisecond(millis).unwrap_or(now)
    }
}
