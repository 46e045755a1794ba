//! The storage contract, the types only its implementers need, and the
//! backends that fulfil it.
//!
//! A store keeps [`TokenRecord`]s and answers the verification path's one
//! question, "which record has this hash?", as fast as it can. The contract
//! comes in two traits, so that a store written for a verify-only service
//! keeps compiling whatever features other crates switch on:
//!
//! - [`TokenStore`]: what verification and listing need (lookups, lists,
//!   last-used notes).
//! - [`ManageStore`]` : TokenStore` (feature `management`): inserts, the
//!   setup claim, updates, revocation, rotation, deletion and import. Each
//!   is a small transaction the store must make atomic; the method docs say
//!   exactly what.
//!
//! The public [conformance suite](crate::conformance) checks all of it for
//! any store.
//!
//! Backends: [`MemoryStore`] (concurrent, in process), `SqliteStore`
//! (feature `sqlite`), `PostgresStore` (feature `postgres`), and the
//! [`CachedStore`] layer that puts a verification cache in front of any of
//! them.

mod cache;
mod error;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
pub(crate) mod temporary;
pub(crate) mod traced;
mod types;

use std::fmt::Debug;
use std::sync::Arc;

use time::OffsetDateTime;

/// Re-exported so store implementers use the same version.
pub use async_trait::async_trait;
pub use cache::{CacheConfig, CachedStore, ChangeStamp};
pub use error::StoreError;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{InvalidationListener, PostgresStore};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteCommits, SqliteStore};
/// Re-exported: the SQL stores are built on it, and take its pools and options.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sqlx;
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
pub use types::{ImportReport, InsertRules, Revocation, Rotation, TokenUpdate, refuse_temporary};
pub use types::{LastUse, ListQuery};

use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord, Usage};
use crate::token::Prefix;

/// Where token records live: what verification and listing need.
///
/// This is the whole contract of a store that a verify-only service uses;
/// [`ManageStore`] adds what creates and changes tokens. Object-safe:
/// services hold an `Arc<dyn TokenStore>`.
///
/// Consistency the contract asks for:
/// - **visible at once**: a revoke, rename, scope change or delete made
///   through [`ManageStore`] (or by whatever else writes the records) is
///   seen by every later [`find_by_hash`](Self::find_by_hash) on this store.
/// - **eventual**: last-used times arrive in batches, late, or not at all
///   after a crash; they only ever move forward.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::{LastUse, ListQuery, StoreError, TokenStore, async_trait};
/// use tokenkeep::{TokenId, TokenRecord, hash::TokenHash};
///
/// /// Records loaded once from a file; nothing changes them at run time.
/// #[derive(Debug)]
/// struct Fixed(Vec<Arc<TokenRecord>>);
///
/// #[async_trait]
/// impl TokenStore for Fixed {
///     async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
///         Ok(self.0.iter().find(|record| record.hash == *hash).cloned())
///     }
///     async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
///         Ok(self.0.iter().find(|record| record.id == *id).map(|record| TokenRecord::clone(record)))
///     }
///     async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
///         Ok(self.0.iter()
///             .filter(|record| query.owner.as_deref().is_none_or(|owner| record.owner == owner))
///             .filter(|record| query.include_inactive || record.is_active(query.now))
///             .map(|record| TokenRecord::clone(record))
///             .collect())
///     }
///     async fn record_last_used(&self, _uses: &[LastUse]) -> Result<(), StoreError> {
///         Ok(()) // read-only: last-used times are not kept
///     }
///     async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
///         Ok(!self.0.is_empty())
///     }
/// }
///
/// let store: Arc<dyn TokenStore> = Arc::new(Fixed(Vec::new()));
/// ```
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

    /// The active tokens (not revoked, not expired at `now`) that expire at
    /// or before `before`, soonest first (then by id): whose owners an
    /// application tells in time. The default filters [`list`](Self::list);
    /// the SQL stores answer from an index on `expires_at`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let query = ListQuery {
            owner: None,
            include_inactive: false,
            now,
        };
        let mut expiring: Vec<TokenRecord> = self
            .list(&query)
            .await?
            .into_iter()
            .filter(|record| record.expires_at.is_some_and(|expiry| expiry <= before))
            .collect();
        expiring.sort_by_key(|record| (record.expires_at, record.id));
        Ok(expiring)
    }

    /// Consumes one use of a token with a [`Usage`](crate::record::Usage)
    /// limit, atomically: reads the record's usage, applies
    /// [`Usage::consume`](crate::record::Usage::consume) at `now` and
    /// writes it back in one atomic section (across instances, for a
    /// shared database). Answers the usage after, or `None` when none is
    /// left (nothing is written). Of 50 concurrent calls on a token with 10
    /// uses left, exactly 10 answer `Some`.
    ///
    /// The default refuses (fail closed): a store that does not count uses
    /// cannot verify a token that has a usage limit.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Unavailable`].
    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        let _ = (id, now);
        Err(StoreError::unavailable(
            "this store does not count token uses",
        ))
    }

    /// Applies a batch of last-used notes. Forward-only: a note older than
    /// the stored time is ignored; notes for unknown ids are ignored. May be
    /// eventual.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; the caller may retry or drop the batch.
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError>;

    /// A signal that records may have changed, for long-lived connections
    /// that must learn of a revoke made elsewhere (another instance, through
    /// a notification channel). Its value means nothing; that it changed
    /// does. The default, `None`, leaves them to the changes made through
    /// their own service and a periodic check. [`CachedStore`] answers one:
    /// every invalidation, its own or another instance's, signals.
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// Whether any record here, revoked and expired ones included, may have
    /// been made from text outside the format of tokens carrying `prefix`:
    /// an adopted custom secret, a hash imported from another system. A
    /// record is in the format when its
    /// [`display_prefix`](TokenRecord::display_prefix) starts with `prefix`
    /// and `_` (see [`TokenRecord::is_in_format_of`]).
    ///
    /// A service that accepts custom secrets asks this (again after every
    /// change it hears of, and every few seconds) so that it can refuse
    /// unprefixed text without a lookup while no such record exists. `true`
    /// is always safe: the default answers it, and verification then looks
    /// such text up. `false` while such a record exists makes its token
    /// fail to verify.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        let _ = prefix;
        Ok(true)
    }

    /// Whether this store has ever held a token, even if every one was
    /// revoked or deleted since. Once true, it stays true.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn has_ever_held_token(&self) -> Result<bool, StoreError>;
}

/// What creates and changes tokens: the write half of the store contract
/// (feature `management`, whole, so that switching the feature on never
/// asks more of a [`TokenStore`] someone wrote without it).
///
/// Implement it for your own database and prove it with
/// [`store_conformance_tests!`](crate::store_conformance_tests).
///
/// Consistency the contract asks for, besides [`TokenStore`]'s:
/// - **atomic**: the per-owner cap together with the insert, name
///   uniqueness together with an insert, rename or rotation, and the setup
///   claim together with its insert: concurrent callers on different
///   connections must not both pass a check that only one may pass.
/// - **visible at once**: every change here is seen by the next
///   [`find_by_hash`](TokenStore::find_by_hash) that starts after it returns.
#[cfg(feature = "management")]
#[cfg_attr(docsrs, doc(cfg(feature = "management")))]
#[async_trait]
pub trait ManageStore: TokenStore {
    /// Inserts a new record. Atomically with the insert: the owner's tokens
    /// that [hold a name](TokenRecord::holds_name) at `rules.now` must not
    /// include this name, and the owner's tokens that are
    /// [active](TokenRecord::is_active) (rotated ones in their grace period
    /// included) must number fewer than the cap. Nothing is ever removed to
    /// make room. When both the name is taken and the cap is reached, the
    /// name wins: [`StoreError::NameTaken`]. A record of kind
    /// [`Temporary`](crate::record::TokenKind::Temporary) is refused: such
    /// tokens live in process memory only.
    ///
    /// # Errors
    /// [`StoreError::NameTaken`], [`StoreError::LimitReached`],
    /// [`StoreError::Duplicate`] (id or hash exists), [`StoreError::Temporary`],
    /// [`StoreError::Unavailable`].
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError>;

    /// Inserts the first token of a fresh installation. Atomically: if the
    /// store has ever held a token, nothing is written. Of any number of
    /// concurrent claims, exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError::AlreadyClaimed`], [`StoreError::Unavailable`].
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError>;

    /// Changes an active token and returns it as it now is: the change is
    /// applied with [`TokenUpdate::apply_to`] to the record as it is inside
    /// the atomic section, so concurrent changes of different fields all
    /// land. A new name must be unique among the owner's other name-holding
    /// tokens, atomically. A token in its rotation grace period may be
    /// changed (it is active), but keeps no name of its own to clash.
    /// Visible at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`] (revoked or expired
    /// at `now`), [`StoreError::NameTaken`], [`StoreError::Unavailable`].
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError>;

    /// Marks a token revoked (`revoked_at`, `revoked_by`, `revoke_reason`,
    /// as [`Revocation::apply_to`] does; the row stays, for the audit trail)
    /// and returns it. Revoking a revoked token changes nothing. Visible at
    /// once: no `find_by_hash` that starts after this returns sees it
    /// unrevoked.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Unavailable`].
    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError>;

    /// Revokes every token of `owner` active at `revocation.at`, as
    /// [`revoke`](Self::revoke) does; returns how many. Need not be atomic
    /// across the owner's tokens, but every token that was active when it
    /// began is revoked when it returns.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn revoke_owner(&self, owner: &str, revocation: &Revocation)
    -> Result<usize, StoreError>;

    /// Replaces an active, not yet replaced token, atomically, and returns
    /// the replacement: built with [`Rotation::replacement_for`] from the
    /// old record as it is inside the atomic section (so a change that
    /// committed before carries over), it takes over the name; the old
    /// token is revoked now, or given its grace expiry and `replaced_by`,
    /// with its `revoked_by` and `revoke_reason` ([`Rotation::retire`]).
    /// With a grace period both tokens verify for a while, so the owner's
    /// active tokens must leave room for one more
    /// ([`Rotation::fits_the_cap`]); without one the count does not grow.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`],
    /// [`StoreError::LimitReached`], [`StoreError::Duplicate`],
    /// [`StoreError::Unavailable`].
    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError>;

    /// Removes a record for good (a data-removal request); returns whether
    /// it existed. [`has_ever_held_token`](TokenStore::has_ever_held_token) stays true.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError>;

    /// Writes records exported from another store, history included, as
    /// they are. A record whose id or hash is already present is skipped.
    /// If any record is of kind
    /// [`Temporary`](crate::record::TokenKind::Temporary), nothing is written.
    /// Need not be atomic otherwise: after a failure, importing the same
    /// records again finishes the job (written ones are skipped).
    ///
    /// # Errors
    /// [`StoreError::Temporary`], [`StoreError::Unavailable`].
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError>;
}
