//! The in-process store: the default, the test double, and the benchmark's
//! subject.

mod records;

use super::ChangeScope;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use async_trait::async_trait;

use super::{
    Changes, LastUse, ListQuery, ManageStore, OwnerRecords, Plan, StoreError, TokenStore, Write,
};
use crate::hash::TokenHash;
use crate::record::{OwnerLimits, TokenId, TokenRecord};
use crate::token::Prefix;
use records::Records;

const SHARDS: usize = 16;

/// Keeps records in memory.
///
/// Verification takes one of sixteen read locks (chosen by the hash, so two
/// threads rarely share one), probes one table and clones an `Arc`: no
/// allocation, no copy of the record. Every write first takes the index
/// lock, which serialises writers, so a change's plan reads and its writes
/// land with no other writer in between; a changed record replaces its `Arc`, so
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
    owner_limits: HashMap<String, OwnerLimits>,
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
        record.extras.shrink();
        let changed = Arc::new(record);
        if let Some(stored) = write(self.shard(&hash)).get_mut(&hash) {
            *stored = Arc::clone(&changed);
        }
        *slot = Arc::clone(&changed);
        Some(changed)
    }

    /// Adds a record unless its id or hash is present; says whether it did.
    fn put(&self, index: &mut Index, mut record: TokenRecord) -> bool {
        if index.by_id.get(&record.id).is_some() {
            return false;
        }
        let mut shard = write(self.shard(&record.hash));
        if shard.get(&record.hash).is_some() {
            return false;
        }
        index.by_owner.entry(record.owner.clone()).or_default().push(record.id);
        index.ever_held = true;
        // A record whose extras were written and emptied again keeps no box.
        record.extras.shrink();
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

    /// Whether every write of `changes` can land: inserts of ids and
    /// hashes not stored (nor inserted twice), replaces of stored records.
    fn check(&self, index: &Index, changes: &Changes) -> Result<(), StoreError> {
        let mut inserted: Vec<(&TokenId, &TokenHash)> = Vec::new();
        for write in &changes.writes {
            match write {
                Write::Insert(record) => {
                    let taken = index.by_id.get(&record.id).is_some()
                        || self.lookup(&record.hash).is_some()
                        || inserted
                            .iter()
                            .any(|(id, hash)| **id == record.id || **hash == record.hash);
                    if taken {
                        return Err(StoreError::Duplicate);
                    }
                    inserted.push((&record.id, &record.hash));
                }
                Write::Replace(record) => {
                    let same = index.by_id.get(&record.id).is_some_and(|stored| {
                        stored.owner == record.owner && stored.hash == record.hash
                    });
                    if !same {
                        return Err(StoreError::unavailable(
                            "a replace names a record that is not stored with its owner and hash",
                        ));
                    }
                }
                Write::Delete(_) | Write::OwnerLimits(_) => {}
            }
        }
        Ok(())
    }

    /// Removes the record with this id from both tables and its owner's list.
    fn remove(&self, index: &mut Index, id: &TokenId) {
        let Some(record) = index.by_id.remove(id) else {
            return;
        };
        write(self.shard(&record.hash)).remove(&record.hash);
        if let Some(ids) = index.by_owner.get_mut(&record.owner) {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                index.by_owner.remove(&record.owner);
            }
        }
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
        Ok(self.by_id(&index, id).map(|record| TokenRecord::clone(&record)))
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let wanted = |record: &&Arc<TokenRecord>| query.admits(record);
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
        ListQuery::order(&mut records);
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

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        Ok(self
            .shards
            .iter()
            .any(|shard| read(shard).iter().any(|record| !record.is_in_format_of(prefix))))
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(self.index().ever_held)
    }
}

/// One change at a time, under the index lock: the plan reads the owner's
/// records and its writes land before any other writer runs.
#[async_trait]
impl ManageStore for MemoryStore {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let mut index = self.index();
        let read = OwnerRecords {
            owner: scope.owner.clone(),
            records: self
                .owned_by(&index, &scope.owner)
                .iter()
                .filter(|record| scope.covers(record))
                .map(|record| TokenRecord::clone(record))
                .collect(),
            limits: scope
                .owner_limits
                .then(|| index.owner_limits.get(&scope.owner).copied())
                .flatten(),
        };
        let changes = plan(&read)?;
        if changes.only_if_never_held && index.ever_held {
            return Err(StoreError::AlreadyClaimed);
        }
        self.check(&index, &changes)?;
        // A committed claim marks the store, inserting or not.
        index.ever_held |= changes.only_if_never_held;
        for write in &changes.writes {
            match write {
                Write::Insert(record) => {
                    self.put(&mut index, record.clone());
                }
                Write::Replace(record) => {
                    self.modify(&mut index, &record.id, |stored| {
                        let last_used_at = stored.last_used_at;
                        *stored = record.clone();
                        stored.last_used_at = last_used_at;
                    });
                }
                // The owner's record only: a change never touches another's.
                Write::Delete(id) => {
                    if index.by_id.get(id).is_some_and(|stored| stored.owner == scope.owner) {
                        self.remove(&mut index, id);
                    }
                }
                Write::OwnerLimits(limits) if limits.is_empty() => {
                    index.owner_limits.remove(&scope.owner);
                }
                Write::OwnerLimits(limits) => {
                    index.owner_limits.insert(scope.owner.clone(), *limits);
                }
            }
        }
        Ok(changes)
    }
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    async fn memory_store(_test: &'static str) -> super::MemoryStore {
        super::MemoryStore::new()
    }

    crate::store_conformance_tests!(memory_store, another = crate::conformance::same_handle);
}
