//! A table of records found by a key each record carries (its hash or its
//! id): a slot is only the record's `Arc`, and a probe compares the key
//! inside the record, where a map would keep a copy of the key beside it.

use std::fmt;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;

use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};

/// A key a record carries, and how the table hashes it.
pub(super) trait RecordKey: Eq {
    /// What hashes the key; kept once per table.
    type Hasher: Default;

    fn of(record: &TokenRecord) -> &Self;

    fn table_hash(&self, hasher: &Self::Hasher) -> u64;
}

/// A SHA-256 is uniform already: eight of its bytes are the table hash.
impl RecordKey for TokenHash {
    type Hasher = ();

    fn of(record: &TokenRecord) -> &Self {
        &record.hash
    }

    fn table_hash(&self, (): &()) -> u64 {
        self.table_key()
    }
}

/// Ids can come from an import, so they are hashed with a random key.
impl RecordKey for TokenId {
    type Hasher = RandomState;

    fn of(record: &TokenRecord) -> &Self {
        &record.id
    }

    fn table_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(self)
    }
}

/// Records by key `K`.
pub(super) struct Records<K: RecordKey> {
    table: HashTable<Arc<TokenRecord>>,
    hasher: K::Hasher,
}

impl<K: RecordKey> Default for Records<K> {
    fn default() -> Self {
        Self { table: HashTable::new(), hasher: K::Hasher::default() }
    }
}

/// Shows the records, as a map of them would.
impl<K: RecordKey> fmt::Debug for Records<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.table.iter()).finish()
    }
}

impl<K: RecordKey> Records<K> {
    pub(super) fn get(&self, key: &K) -> Option<&Arc<TokenRecord>> {
        self.table.find(key.table_hash(&self.hasher), |record| K::of(record) == key)
    }

    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut Arc<TokenRecord>> {
        self.table.find_mut(key.table_hash(&self.hasher), |record| K::of(record) == key)
    }

    /// Adds a record whose key the table does not hold yet.
    pub(super) fn insert(&mut self, record: Arc<TokenRecord>) {
        let hasher = &self.hasher;
        self.table.insert_unique(K::of(&record).table_hash(hasher), record, |record| {
            K::of(record).table_hash(hasher)
        });
    }

    pub(super) fn remove(&mut self, key: &K) -> Option<Arc<TokenRecord>> {
        let entry = self
            .table
            .find_entry(key.table_hash(&self.hasher), |record| K::of(record) == key)
            .ok()?;
        Some(entry.remove().0)
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Arc<TokenRecord>> {
        self.table.iter()
    }
}
