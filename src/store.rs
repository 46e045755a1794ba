//! The storage contract, the types only its implementers need, and the
//! backends that fulfil it.
//!
//! A store is storage, not policy. Its contract is six methods in two
//! traits, so that a store written for a verify-only service keeps
//! compiling whatever features other crates switch on:
//!
//! - [`TokenStore`]: what verification and listing read. Five required
//!   methods: [`find_by_hash`](TokenStore::find_by_hash) (the hot path),
//!   [`get`](TokenStore::get), [`list`](TokenStore::list),
//!   [`record_last_used`](TokenStore::record_last_used) and
//!   [`has_ever_held_token`](TokenStore::has_ever_held_token); the rest have
//!   defaults that are always correct and exist to be faster.
//! - [`ManageStore`]` : TokenStore`: one atomic primitive,
//!   [`change`](ManageStore::change): read what a [`ChangeScope`] covers
//!   of one owner's records, run a pure [plan](Plan) over them, commit its
//!   [writes](Write) together or not at all.
//!
//! Every rule about tokens is a plan written once, in the core, on top
//! of that primitive ([`TokenRules`](crate::rules::TokenRules), implemented for every store): the
//! per-owner cap with grace periods counted, unique active names, rotation
//! and its grace bound, the setup claim, revocation, imports, temporary
//! tokens, and consuming a use of a usage-limited token. No backend checks
//! any of them, so no backend can get one wrong.
//!
//! Behaviour around a store (the [`CachedStore`] cache, the tracing the
//! service adds, temporary tokens) is a [`StoreLayer`]: it says what it changes,
//! and every other call is forwarded by construction.
//!
//! The public conformance suite (`tokenkeep::conformance`, feature
//! `conformance`) checks the contract for any store.
//!
//! Backends: [`MemoryStore`] (concurrent, in process), `SqliteStore`
//! (feature `sqlite`), `PostgresStore` (feature `postgres`), `MysqlStore`
//! (feature `mysql`, MySQL and MariaDB).

mod cache;
mod change;
mod error;
mod layer;
mod memory;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
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
pub use cache::{CacheConfig, CachedStore, ChangeStamp, STAMP_WATCHED_EVERY};
pub use change::{ActiveRecords, ChangeScope, Changes, OwnerRecords, Plan, Refused, Write};
pub use error::StoreError;
pub use layer::{StoreLayer, WriteLayer};
pub use memory::MemoryStore;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use mysql::{ChangeFeedPoller, MysqlStore};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{InvalidationListener, PostgresStore};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteCommits, SqliteStore};
/// Re-exported: the SQL stores are built on it, and take its pools and options.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))))]
pub use sqlx;
pub use types::{LastUse, ListQuery};

use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// Where token records live: what verification and listing need.
///
/// This is the whole contract of a store that a verify-only service uses;
/// [`ManageStore`] adds the one primitive every change goes through.
/// Object-safe: services hold an `Arc<dyn TokenStore>`. Prove a read-only
/// store with `store_conformance_tests!(read_only: …)`.
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
///         let mut records: Vec<TokenRecord> = self.0.iter()
///             .filter(|record| query.admits(record))
///             .map(|record| TokenRecord::clone(record))
///             .collect();
///         ListQuery::order(&mut records);
///         Ok(records)
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
        let query = ListQuery { owner: None, include_inactive: false, now };
        let mut expiring: Vec<TokenRecord> = self
            .list(&query)
            .await?
            .into_iter()
            .filter(|record| record.expires_at.is_some_and(|expiry| expiry <= before))
            .collect();
        expiring.sort_by_key(|record| (record.expires_at, record.id));
        Ok(expiring)
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
    ///
    /// A store that answers one moves it within a second of every change to
    /// a token made through any handle on the same data (an update, a
    /// consumed use, a rotation, a revoke, a delete), not only through
    /// this one; the conformance suite checks it across two handles.
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

/// The write half of the store contract: one atomic primitive.
///
/// [`change`](Self::change) reads the records of one owner that its
/// [`ChangeScope`] covers (those active now, and those it names), hands
/// them to a [`Plan`], and commits the [`Changes`] the plan returns, all of
/// them or none, as one atomic section: no other change of the same owner
/// commits between the read and the commit. How is the store's choice:
///
/// - **pessimistic**: hold a lock for the owner (a mutex in memory,
///   SQLite's `BEGIN IMMEDIATE`, a PostgreSQL advisory lock) from the read
///   to the commit, and run the plan once;
/// - **optimistic**: read with a version, run the plan, commit only if the
///   version is unchanged, and otherwise read and run the plan again (a
///   Redis `WATCH`, an SQL row version).
///
/// Every rule (caps, names, rotation, the setup claim, imports, uses) is a
/// plan the core writes ([`TokenRules`](crate::rules::TokenRules)); a store never checks one.
///
/// Consistency the contract asks for, besides [`TokenStore`]'s:
/// - **atomic**: as above; an error from the plan aborts the change with
///   nothing written, and is returned as it is.
/// - **visible at once**: once `change` returns, every later
///   [`find_by_hash`](TokenStore::find_by_hash), [`get`](TokenStore::get)
///   and [`list`](TokenStore::list) sees the writes.
/// - **unique**: an [`Insert`](Write::Insert) of an id or a hash that is
///   stored (of any owner) fails the whole change with
///   [`StoreError::Duplicate`].
/// - **held**: a change that inserts marks the store as having held a
///   token, for good ([`TokenStore::has_ever_held_token`]); a change with
///   [`only_if_never_held`](Changes::only_if_never_held) commits only
///   while it is not marked, and otherwise fails with
///   [`StoreError::AlreadyClaimed`].
///
/// Object-safe: services hold an `Arc<dyn ManageStore>`. Prove an
/// implementation with `store_conformance_tests!` (feature `conformance`).
///
/// ```
/// use tokenkeep::store::{ChangeScope, Changes, ManageStore, MemoryStore};
/// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
/// let store = MemoryStore::new();
/// // A plan that writes nothing: the owner's active records, counted.
/// let scope = ChangeScope::new("alice", tokenkeep::time::OffsetDateTime::now_utc());
/// let mut seen = 0;
/// store
///     .change(&scope, &mut |read| {
///         seen = read.records.len();
///         Ok(Changes::none())
///     })
///     .await?;
/// assert_eq!(seen, 0);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[async_trait]
pub trait ManageStore: TokenStore {
    /// Runs `plan` over the records `scope` covers and commits what it
    /// returns, atomically; returns the changes committed. An optimistic
    /// store may run the plan more than once: only the last run's changes
    /// are committed and returned.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when the plan refused (nothing is written),
    /// [`StoreError::Duplicate`], [`StoreError::AlreadyClaimed`],
    /// [`StoreError::Unavailable`].
    async fn change(&self, scope: &ChangeScope, plan: &mut Plan<'_>)
    -> Result<Changes, StoreError>;
}
