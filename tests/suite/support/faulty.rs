//! A `MemoryStore` with switchable faults and counters, for tests of how
//! the service behaves when its store misbehaves.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use tokenkeep::hash::TokenHash;
use tokenkeep::store::{LastUse, MemoryStore, StoreError, StoreLayer, TokenStore, WriteLayer};
use tokenkeep::{Prefix, TokenRecord};

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
        Arc::new(Self { inner, ..Self::default() })
    }

    pub fn set_lookups(&self, mode: Lookups) {
        self.lookups.store(mode as u8, Ordering::SeqCst);
    }
}

/// Faults on the read side; every other call goes to the memory store as
/// a layer forwards it.
#[tokenkeep::store::async_trait]
impl StoreLayer for FaultyStore {
    type Inner = MemoryStore;

    fn inner(&self) -> &MemoryStore {
        &self.inner
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.lookups_made.fetch_add(1, Ordering::SeqCst);
        match self.lookups.load(Ordering::SeqCst) {
            1 => Err(StoreError::unavailable("injected failure")),
            2 => std::future::pending().await,
            3 => panic!("injected panic"),
            _ => self.inner.find_by_hash(hash).await,
        }
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
}

impl WriteLayer for FaultyStore {}
