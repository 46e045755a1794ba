//! The storage contract, and the backends that fulfil it.
//!
//! A store keeps [`TokenRecord`]s and answers the verification path's one
//! question, "which record has this hash?", as fast as it can. Everything
//! else (caps, name uniqueness, the setup claim) is a small transaction the
//! store must make atomic; the method docs say exactly what. The public
//! [conformance suite](crate::conformance) checks all of it for any store.

mod cache;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use cache::{CacheConfig, CachedStore};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{INVALIDATION_CHANNEL, InvalidationListener, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::error::StoreError;
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
#[cfg(feature = "management")]
use crate::{record::TokenName, scope::Scopes};

/// Which records [`TokenStore::list`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this owner's tokens; every owner's when `None`.
    pub owner: Option<String>,
    /// Also revoked and expired tokens (the audit trail).
    pub include_inactive: bool,
    /// The instant "expired" is judged at.
    pub now: OffsetDateTime,
}

/// One batched note that a token verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastUse {
    /// The token.
    pub id: TokenId,
    /// When it was used.
    pub at: OffsetDateTime,
}

/// The rules an insert must check atomically with the insert itself.
#[cfg(feature = "management")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsertRules {
    /// The instant "active" is judged at.
    pub now: OffsetDateTime,
    /// The most tokens an owner may hold active; `None` for no cap.
    pub max_active_per_owner: Option<usize>,
}

/// A change to an active token; `None` fields stay as they are.
#[cfg(feature = "management")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenUpdate {
    /// A new name, unique among the owner's active tokens.
    pub name: Option<TokenName>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New scopes, in effect from the next verification.
    pub scopes: Option<Scopes>,
    /// A new profile (`Some(None)` clears it).
    pub profile: Option<Option<String>>,
}

#[cfg(feature = "management")]
impl TokenUpdate {
    /// Applies the change to `record` (checks are the store's job).
    pub fn apply_to(&self, record: &mut TokenRecord) {
        if let Some(name) = &self.name {
            record.name = name.clone();
        }
        if let Some(description) = &self.description {
            record.description = description.clone();
        }
        if let Some(scopes) = &self.scopes {
            record.scopes = scopes.clone();
        }
        if let Some(profile) = &self.profile {
            record.profile = profile.clone();
        }
    }
}

/// A replacement for an active token, and what becomes of the old one.
#[cfg(feature = "management")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The token being replaced.
    pub old: TokenId,
    /// The new record (same owner, name and scopes; expiry never later).
    pub replacement: TokenRecord,
    /// `None`: revoke the old token at `now`. `Some(t)`: let it live until
    /// `t` (the caller has already bounded it by the old expiry).
    pub old_expires_at: Option<OffsetDateTime>,
    /// The instant of the rotation.
    pub now: OffsetDateTime,
}

#[cfg(feature = "management")]
impl Rotation {
    /// Applies the rotation's effect to the old record.
    pub fn retire(&self, old: &mut TokenRecord) {
        match self.old_expires_at {
            None => old.revoked_at = Some(self.now),
            Some(until) => {
                old.expires_at = Some(old.expires_at.map_or(until, |expiry| expiry.min(until)));
                old.replaced_by = Some(self.replacement.id);
            }
        }
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records written.
    pub imported: usize,
    /// Records skipped because their id or hash was already there.
    pub skipped: usize,
}

/// Where token records live.
///
/// Object-safe: services hold an `Arc<dyn TokenStore>`. Implement it for your
/// own database and prove it with
/// [`store_conformance_tests!`](crate::store_conformance_tests).
///
/// Consistency the contract asks for:
/// - **atomic**: the per-owner cap together with the insert, name
///   uniqueness together with an insert, rename or rotation, and the setup
///   claim together with its insert: concurrent callers on different
///   connections must not both pass a check that only one may pass.
/// - **visible at once**: a revoke, rename, scope change or delete is seen by
///   every later [`find_by_hash`](Self::find_by_hash) on this store.
/// - **eventual**: last-used times arrive in batches, late, or not at all
///   after a crash; they only ever move forward.
#[async_trait]
pub trait TokenStore: Debug + Send + Sync + 'static {
    /// The record with this hash, revoked and expired ones included (the
    /// caller judges them). This is the verification hot path.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot answer.
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError>;

    /// The answer of [`find_by_hash`](Self::find_by_hash) when this store
    /// can give it without waiting (from memory), `None` otherwise. The
    /// verification path asks here first, which spares it a boxed future.
    /// The default answers `None`; an answer given must agree with
    /// `find_by_hash`.
    ///
    /// # Errors
    /// As `find_by_hash`.
    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        let _ = hash;
        None
    }

    /// The record with this id, revoked and expired ones included.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// Records matching `query`, oldest first (by `created_at`, then id).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError>;

    /// Applies a batch of last-used notes. Forward-only: a note older than
    /// the stored time is ignored; notes for unknown ids are ignored. May be
    /// eventual.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; the caller may retry or drop the batch.
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError>;

    /// Whether this store has ever held a token, even if every one was
    /// revoked or deleted since. Once true, it stays true.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn has_ever_held_token(&self) -> Result<bool, StoreError>;

    /// Inserts a new record. Atomically with the insert: the owner's tokens
    /// that [hold a name](TokenRecord::holds_name) at `rules.now` must not
    /// include this name, and must number fewer than the cap. Nothing is
    /// ever removed to make room.
    ///
    /// # Errors
    /// [`StoreError::NameTaken`], [`StoreError::LimitReached`],
    /// [`StoreError::Duplicate`] (id or hash exists), [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError>;

    /// Inserts the first token of a fresh installation. Atomically: if the
    /// store has ever held a token, nothing is written. Of any number of
    /// concurrent claims, exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError::AlreadyClaimed`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError>;

    /// Changes an active token and returns it as it now is. A new name must
    /// be unique among the owner's other name-holding tokens, atomically.
    /// Visible at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`] (revoked or expired
    /// at `now`), [`StoreError::NameTaken`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError>;

    /// Marks a token revoked at `at` (the row stays, for the audit trail) and
    /// returns it. Revoking a revoked token changes nothing. Visible at once:
    /// no `find_by_hash` that starts after this returns sees it unrevoked.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke(&self, id: &TokenId, at: OffsetDateTime) -> Result<TokenRecord, StoreError>;

    /// Revokes every active token of `owner` at `at`; returns how many.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke_owner(&self, owner: &str, at: OffsetDateTime) -> Result<usize, StoreError>;

    /// Replaces an active, not yet replaced token, atomically: the
    /// replacement is inserted (taking over the name; the cap is not
    /// checked, since the owner's count does not grow) and the old token is
    /// revoked now or given its grace expiry and `replaced_by`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`],
    /// [`StoreError::Duplicate`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError>;

    /// Removes a record for good (a data-removal request); returns whether
    /// it existed. [`has_ever_held_token`](Self::has_ever_held_token) stays true.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError>;

    /// Writes records exported from another store, history included, as
    /// they are. A record whose id or hash is already present is skipped.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError>;
}
