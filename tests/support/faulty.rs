//! A `MemoryStore` with switchable faults and counters, for tests of how
//! the service behaves when its store misbehaves.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use tokenkeep::hash::TokenHash;
use tokenkeep::store::{
    ImportReport, InsertRules, LastUse, ListQuery, ManageStore, MemoryStore, Revocation, Rotation,
    StoreError, TokenStore, TokenUpdate,
};
use tokenkeep::time::OffsetDateTime;
use tokenkeep::{Prefix, TokenId, TokenRecord};

/// What `find_by_hash` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Lookups {
    Answer = 0,
    Fail = 1,
    Hang = 2,
    Panic = 3,
}

#[derive(Debug, Default)]
pub struct FaultyStore {
    pub inner: MemoryStore,
    lookups: AtomicU8,
    pub fail_last_used: AtomicBool,
    /// `find_by_hash` calls that reached the store.
    pub lookups_made: AtomicUsize,
    /// `may_hold_custom_secrets` calls that reached the store, and whether
    /// they fail.
    pub custom_questions: AtomicUsize,
    pub fail_custom_questions: AtomicBool,
    /// `record_last_used` calls that reached the store, and notes in them.
    pub batches: AtomicUsize,
    pub notes: AtomicUsize,
}

impl FaultyStore {
    pub fn new(inner: MemoryStore) -> Arc<Self> {
        Arc::new(Self {
            inner,
            ..Self::default()
        })
    }

    pub fn set_lookups(&self, mode: Lookups) {
        self.lookups.store(mode as u8, Ordering::SeqCst);
    }
}

#[tokenkeep::store::async_trait]
impl TokenStore for FaultyStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.lookups_made.fetch_add(1, Ordering::SeqCst);
        match self.lookups.load(Ordering::SeqCst) {
            1 => Err(StoreError::unavailable("injected failure")),
            2 => std::future::pending().await,
            3 => panic!("injected panic"),
            _ => self.inner.find_by_hash(hash).await,
        }
    }
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list(query).await
    }
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        if self.fail_last_used.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("injected failure"));
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.notes.fetch_add(uses.len(), Ordering::SeqCst);
        self.inner.record_last_used(uses).await
    }
    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        self.custom_questions.fetch_add(1, Ordering::SeqCst);
        if self.fail_custom_questions.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("injected failure"));
        }
        self.inner.may_hold_custom_secrets(prefix).await
    }
    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<tokenkeep::record::Usage>, StoreError> {
        self.inner.consume_use(id, now).await
    }
    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.inner.has_ever_held_token().await
    }
}

#[tokenkeep::store::async_trait]
impl ManageStore for FaultyStore {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        self.inner.insert(record, rules).await
    }
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        self.inner.claim_setup(record).await
    }
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.update(id, update, now).await
    }
    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.revoke(id, revocation).await
    }
    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        self.inner.revoke_owner(owner, revocation).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        self.inner.rotate(rotation).await
    }
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.inner.delete(id).await
    }
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        self.inner.import(records).await
    }
}
