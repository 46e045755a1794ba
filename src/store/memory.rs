//! The in-process store: the default, the test double, and the benchmark's
//! subject.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
#[cfg(feature = "management")]
use time::OffsetDateTime;

#[cfg(feature = "management")]
use super::{ImportReport, InsertRules, Rotation, TokenUpdate};
use super::{LastUse, ListQuery, TokenStore};
use crate::error::StoreError;
use crate::hash::{ByHash, TokenHash};
use crate::record::{TokenId, TokenRecord};

/// Keeps records in memory, behind one reader-writer lock.
///
/// Verification takes the read lock for one hash-table probe and an `Arc`
/// clone: no allocation, no copy of the record. Writes replace the record's
/// `Arc`, so a reader holds a consistent snapshot. Every write is one
/// critical section, which makes caps, names and the setup claim atomic.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::{MemoryStore, TokenStore};
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    by_hash: ByHash<Arc<TokenRecord>>,
    hash_of: HashMap<TokenId, TokenHash>,
    by_owner: HashMap<String, Vec<TokenId>>,
    ever_held: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `records` as they are (a snapshot loaded at start-up,
    /// for instance); later records with a known id or hash are skipped.
    pub fn from_records(records: impl IntoIterator<Item = TokenRecord>) -> Self {
        let mut state = State::default();
        for record in records {
            state.put(record);
        }
        Self {
            state: RwLock::new(state),
        }
    }

    /// How many records the store holds, revoked ones included.
    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lock is never held across a panic of ours, so a poisoned lock's
    /// data is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn record(&self, id: &TokenId) -> Option<&Arc<TokenRecord>> {
        self.by_hash.get(self.hash_of.get(id)?)
    }

    fn record_mut(&mut self, id: &TokenId) -> Option<&mut TokenRecord> {
        let hash = self.hash_of.get(id)?;
        self.by_hash.get_mut(hash).map(Arc::make_mut)
    }

    /// Adds a record unless its id or hash is present; says whether it did.
    fn put(&mut self, record: TokenRecord) -> bool {
        if self.by_hash.contains_key(&record.hash) || self.hash_of.contains_key(&record.id) {
            return false;
        }
        self.hash_of.insert(record.id, record.hash);
        self.by_owner
            .entry(record.owner.clone())
            .or_default()
            .push(record.id);
        self.by_hash.insert(record.hash, Arc::new(record));
        self.ever_held = true;
        true
    }

    fn owned_by<'a>(&'a self, owner: &str) -> impl Iterator<Item = &'a TokenRecord> + 'a {
        self.by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.record(id).map(|record| &**record))
    }

    #[cfg(feature = "management")]
    fn name_taken(&self, record: &TokenRecord, now: OffsetDateTime) -> bool {
        self.owned_by(&record.owner).any(|other| {
            other.id != record.id && other.holds_name(now) && other.name == record.name
        })
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        Ok(self.read().by_hash.get(hash).cloned())
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .read()
            .record(id)
            .map(|record| TokenRecord::clone(record)))
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let state = self.read();
        let wanted = |record: &&TokenRecord| query.include_inactive || record.is_active(query.now);
        let mut records: Vec<TokenRecord> = match &query.owner {
            Some(owner) => state.owned_by(owner).filter(wanted).cloned().collect(),
            None => state
                .by_hash
                .values()
                .map(|record| &**record)
                .filter(wanted)
                .cloned()
                .collect(),
        };
        records.sort_by_key(|record| (record.created_at, record.id));
        Ok(records)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut state = self.write();
        for used in uses {
            if let Some(record) = state.record_mut(&used.id)
                && record.last_used_at.is_none_or(|last| last < used.at)
            {
                record.last_used_at = Some(used.at);
            }
        }
        Ok(())
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(self.read().ever_held)
    }

    #[cfg(feature = "management")]
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.name_taken(&record, rules.now) {
            return Err(StoreError::NameTaken);
        }
        if let Some(limit) = rules.max_active_per_owner {
            let active = state
                .owned_by(&record.owner)
                .filter(|other| other.holds_name(rules.now))
                .count();
            if active >= limit {
                return Err(StoreError::LimitReached { limit });
            }
        }
        if state.put(record) {
            Ok(())
        } else {
            Err(StoreError::Duplicate)
        }
    }

    #[cfg(feature = "management")]
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.ever_held {
            return Err(StoreError::AlreadyClaimed);
        }
        state.put(record);
        Ok(())
    }

    #[cfg(feature = "management")]
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let mut state = self.write();
        let mut changed = TokenRecord::clone(state.record(id).ok_or(StoreError::NotFound)?);
        if !changed.is_active(now) {
            return Err(StoreError::Inactive);
        }
        update.apply_to(&mut changed);
        if update.name.is_some() && changed.replaced_by.is_none() && state.name_taken(&changed, now)
        {
            return Err(StoreError::NameTaken);
        }
        let record = state.record_mut(id).ok_or(StoreError::NotFound)?;
        *record = changed.clone();
        Ok(changed)
    }

    #[cfg(feature = "management")]
    async fn revoke(&self, id: &TokenId, at: OffsetDateTime) -> Result<TokenRecord, StoreError> {
        let mut state = self.write();
        let record = state.record_mut(id).ok_or(StoreError::NotFound)?;
        record.revoked_at.get_or_insert(at);
        Ok(record.clone())
    }

    #[cfg(feature = "management")]
    async fn revoke_owner(&self, owner: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
        let mut state = self.write();
        let active: Vec<TokenId> = state
            .owned_by(owner)
            .filter(|record| record.is_active(at))
            .map(|record| record.id)
            .collect();
        for id in &active {
            if let Some(record) = state.record_mut(id) {
                record.revoked_at = Some(at);
            }
        }
        Ok(active.len())
    }

    #[cfg(feature = "management")]
    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let mut state = self.write();
        let old = state.record(&rotation.old).ok_or(StoreError::NotFound)?;
        if !old.holds_name(rotation.now) {
            return Err(StoreError::Inactive);
        }
        let replacement = &rotation.replacement;
        if state.by_hash.contains_key(&replacement.hash)
            || state.hash_of.contains_key(&replacement.id)
        {
            return Err(StoreError::Duplicate);
        }
        let old = state
            .record_mut(&rotation.old)
            .ok_or(StoreError::NotFound)?;
        rotation.retire(old);
        state.put(rotation.replacement);
        Ok(())
    }

    #[cfg(feature = "management")]
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let mut state = self.write();
        let Some(hash) = state.hash_of.remove(id) else {
            return Ok(false);
        };
        if let Some(record) = state.by_hash.remove(&hash)
            && let Some(ids) = state.by_owner.get_mut(&record.owner)
        {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                state.by_owner.remove(&record.owner);
            }
        }
        Ok(true)
    }

    #[cfg(feature = "management")]
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        let mut state = self.write();
        let mut report = ImportReport::default();
        for record in records {
            if state.put(record) {
                report.imported += 1;
            } else {
                report.skipped += 1;
            }
        }
        Ok(report)
    }
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    async fn memory_store() -> super::MemoryStore {
        super::MemoryStore::new()
    }

    crate::store_conformance_tests!(memory_store);
}
