//! The in-process store: the default, the test double, and the benchmark's
//! subject.

mod records;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use async_trait::async_trait;
use time::OffsetDateTime;

#[cfg(feature = "management")]
use super::{
    ImportReport, InsertRules, ManageStore, Revocation, Rotation, TokenUpdate, refuse_temporary,
};
use super::{LastUse, ListQuery, StoreError, TokenStore};
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord, Usage};
use crate::token::Prefix;
use records::Records;

const SHARDS: usize = 16;

/// Keeps records in memory.
///
/// Verification takes one of sixteen read locks (chosen by the hash, so two
/// threads rarely share one), probes one table and clones an `Arc`: no
/// allocation, no copy of the record. Every write first takes the index
/// lock, which serialises writers, so caps, names and the setup claim are
/// checked and applied atomically; a changed record replaces its `Arc`, so
/// a reader holds a consistent snapshot.
///
/// Both tables hold only the `Arc` (8 bytes a slot) and find their key,
/// the hash or the id, inside the record: a table keyed by a copy of the
/// 32-byte hash cost about 70 more bytes per token at 1M, and verified no
/// faster.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::{MemoryStore, TokenStore};
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    shards: [RwLock<Records<TokenHash>>; SHARDS],
    index: Mutex<Index>,
}

/// What writers need besides the records; guarded by one lock, taken
/// before any shard's.
#[derive(Debug, Default)]
struct Index {
    by_id: Records<TokenId>,
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
        let store = Self::new();
        {
            let mut index = store.index();
            for record in records {
                store.put(&mut index, record);
            }
        }
        store
    }

    /// How many records the store holds, revoked ones included.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| read(shard).len()).sum()
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The locks are never held across a panic of ours, so a poisoned
    /// lock's data is still consistent.
    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shard(&self, hash: &TokenHash) -> &RwLock<Records<TokenHash>> {
        // Byte 8: bytes 0-7 already pick the bucket inside the shard.
        &self.shards[usize::from(hash.as_bytes()[8]) % SHARDS]
    }

    fn lookup(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        read(self.shard(hash)).get(hash).cloned()
    }

    fn by_id(&self, index: &Index, id: &TokenId) -> Option<Arc<TokenRecord>> {
        index.by_id.get(id).cloned()
    }

    /// Applies `change` to the record with this id; returns it as it now is.
    /// The changed record is a new `Arc`, put in both tables.
    fn modify(
        &self,
        index: &mut Index,
        id: &TokenId,
        change: impl FnOnce(&mut TokenRecord),
    ) -> Option<Arc<TokenRecord>> {
        let slot = index.by_id.get_mut(id)?;
        let hash = slot.hash;
        let mut record = TokenRecord::clone(slot);
        change(&mut record);
        // No change moves a record to another hash; keep the one it is
        // filed under, whatever `change` did.
        record.hash = hash;
        let changed = Arc::new(record);
        if let Some(stored) = write(self.shard(&hash)).get_mut(&hash) {
            *stored = Arc::clone(&changed);
        }
        *slot = Arc::clone(&changed);
        Some(changed)
    }

    /// Adds a record unless its id or hash is present; says whether it did.
    fn put(&self, index: &mut Index, record: TokenRecord) -> bool {
        if index.by_id.get(&record.id).is_some() {
            return false;
        }
        let mut shard = write(self.shard(&record.hash));
        if shard.get(&record.hash).is_some() {
            return false;
        }
        index
            .by_owner
            .entry(record.owner.clone())
            .or_default()
            .push(record.id);
        index.ever_held = true;
        let record = Arc::new(record);
        index.by_id.insert(Arc::clone(&record));
        shard.insert(record);
        true
    }

    fn owned_by(&self, index: &Index, owner: &str) -> Vec<Arc<TokenRecord>> {
        index
            .by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id(index, id))
            .collect()
    }

    /// How many of the owner's tokens still verify at `now`.
    #[cfg(feature = "management")]
    fn active_count(&self, index: &Index, owner: &str, now: OffsetDateTime) -> usize {
        self.owned_by(index, owner)
            .iter()
            .filter(|record| record.is_active(now))
            .count()
    }

    #[cfg(feature = "management")]
    fn name_taken(&self, index: &Index, record: &TokenRecord, now: OffsetDateTime) -> bool {
        self.owned_by(index, &record.owner).iter().any(|other| {
            other.id != record.id && other.holds_name(now) && other.name == record.name
        })
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        Ok(self.lookup(hash))
    }

    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        Some(Ok(self.lookup(hash)))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let index = self.index();
        Ok(self
            .by_id(&index, id)
            .map(|record| TokenRecord::clone(&record)))
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let wanted =
            |record: &&Arc<TokenRecord>| query.include_inactive || record.is_active(query.now);
        let mut records: Vec<TokenRecord> = match &query.owner {
            Some(owner) => {
                let index = self.index();
                self.owned_by(&index, owner)
                    .iter()
                    .filter(wanted)
                    .map(|record| TokenRecord::clone(record))
                    .collect()
            }
            None => self
                .shards
                .iter()
                .flat_map(|shard| {
                    read(shard)
                        .iter()
                        .filter(wanted)
                        .map(|record| TokenRecord::clone(record))
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        records.sort_by_key(|record| (record.created_at, record.id));
        Ok(records)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut index = self.index();
        for used in uses {
            self.modify(&mut index, &used.id, |record| {
                if record.last_used_at.is_none_or(|last| last < used.at) {
                    record.last_used_at = Some(used.at);
                }
            });
        }
        Ok(())
    }

    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        let mut index = self.index();
        let mut after = None;
        self.modify(&mut index, id, |record| {
            after = record.usage.and_then(|usage| usage.consume(now));
            if after.is_some() {
                record.usage = after;
            }
        })
        .ok_or(StoreError::NotFound)?;
        Ok(after)
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        Ok(self.shards.iter().any(|shard| {
            read(shard)
                .iter()
                .any(|record| !record.is_in_format_of(prefix))
        }))
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(self.index().ever_held)
    }
}

#[cfg(feature = "management")]
#[async_trait]
impl ManageStore for MemoryStore {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        refuse_temporary([&record])?;
        let mut index = self.index();
        if self.name_taken(&index, &record, rules.now) {
            return Err(StoreError::NameTaken);
        }
        if let Some(limit) = rules.max_active_per_owner
            && self.active_count(&index, &record.owner, rules.now) >= limit
        {
            return Err(StoreError::LimitReached { limit });
        }
        if self.put(&mut index, record) {
            Ok(())
        } else {
            Err(StoreError::Duplicate)
        }
    }

    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        let mut index = self.index();
        if index.ever_held {
            return Err(StoreError::AlreadyClaimed);
        }
        self.put(&mut index, record);
        Ok(())
    }

    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let mut index = self.index();
        let current = self.by_id(&index, id).ok_or(StoreError::NotFound)?;
        let mut changed = TokenRecord::clone(&current);
        if !changed.is_active(now) {
            return Err(StoreError::Inactive);
        }
        update.apply_to(&mut changed);
        if update.name.is_some()
            && changed.replaced_by.is_none()
            && self.name_taken(&index, &changed, now)
        {
            return Err(StoreError::NameTaken);
        }
        let stored = changed.clone();
        self.modify(&mut index, id, |record| *record = stored)
            .map(|record| TokenRecord::clone(&record))
            .ok_or(StoreError::NotFound)
    }

    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        let mut index = self.index();
        self.modify(&mut index, id, |record| revocation.apply_to(record))
            .map(|record| TokenRecord::clone(&record))
            .ok_or(StoreError::NotFound)
    }

    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        let mut index = self.index();
        let active: Vec<TokenId> = self
            .owned_by(&index, owner)
            .iter()
            .filter(|record| record.is_active(revocation.at))
            .map(|record| record.id)
            .collect();
        for id in &active {
            self.modify(&mut index, id, |record| revocation.apply_to(record));
        }
        Ok(active.len())
    }

    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        let mut index = self.index();
        let old = self
            .by_id(&index, &rotation.old)
            .ok_or(StoreError::NotFound)?;
        if !old.holds_name(rotation.now) {
            return Err(StoreError::Inactive);
        }
        if !rotation.fits_the_cap(self.active_count(&index, &old.owner, rotation.now)) {
            return Err(StoreError::LimitReached {
                limit: rotation.max_active_per_owner.unwrap_or(0),
            });
        }
        if index.by_id.get(&rotation.new_id).is_some() || self.lookup(&rotation.new_hash).is_some()
        {
            return Err(StoreError::Duplicate);
        }
        let replacement = rotation.replacement_for(&old);
        self.modify(&mut index, &rotation.old, |old| rotation.retire(old));
        self.put(&mut index, replacement.clone());
        Ok(replacement)
    }

    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let mut index = self.index();
        let Some(record) = index.by_id.remove(id) else {
            return Ok(false);
        };
        write(self.shard(&record.hash)).remove(&record.hash);
        if let Some(ids) = index.by_owner.get_mut(&record.owner) {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                index.by_owner.remove(&record.owner);
            }
        }
        Ok(true)
    }

    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        refuse_temporary(&records)?;
        let mut index = self.index();
        let mut report = ImportReport::default();
        for record in records {
            if self.put(&mut index, record) {
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
    async fn memory_store(_test: &'static str) -> super::MemoryStore {
        super::MemoryStore::new()
    }

    crate::store_conformance_tests!(memory_store);
}
