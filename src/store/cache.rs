//! [`CachedStore`]: a read-through verification cache in front of a store
//! whose lookups cost a round trip (SQLite, PostgreSQL, your own).
//!
//! Only tokens that exist are cached, so random or forged tokens never
//! displace real ones (each still costs the store one lookup). Entries live
//! at most `ttl`, which bounds how long a change made elsewhere and not
//! announced (a lost notification, another process writing the same SQLite
//! file) can go unseen. Changes made through this wrapper invalidate at
//! once; with PostgreSQL, [`CachedStore::listen_for_invalidations`] applies
//! the changes of every other instance as they commit.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
#[cfg(feature = "management")]
use time::OffsetDateTime;

#[cfg(feature = "management")]
use super::{ImportReport, InsertRules, Rotation, TokenUpdate};
use super::{LastUse, ListQuery, TokenStore};
use crate::error::StoreError;
use crate::hash::{ByHash, TokenHash};
use crate::record::{TokenId, TokenRecord};

const SHARDS: usize = 16;

/// Sizes and lifetimes of a [`CachedStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most records kept.
    pub capacity: usize,
    /// The longest a record is served without asking the store again.
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            capacity: 100_000,
            ttl: Duration::from_secs(5),
        }
    }
}

/// A store with a verification cache in front of it.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::{CacheConfig, CachedStore, MemoryStore, TokenStore};
/// let store: Arc<dyn TokenStore> = Arc::new(CachedStore::new(MemoryStore::new(), CacheConfig::default()));
/// ```
#[derive(Debug)]
pub struct CachedStore<S> {
    inner: S,
    cache: Arc<VerifyCache>,
}

#[derive(Debug)]
pub(crate) struct VerifyCache {
    shards: [RwLock<ByHash<Entry>>; SHARDS],
    per_shard: usize,
    ttl: Duration,
}

#[derive(Debug)]
struct Entry {
    record: Arc<TokenRecord>,
    fetched: Instant,
}

impl VerifyCache {
    fn new(config: CacheConfig) -> Self {
        Self {
            shards: std::array::from_fn(|_| RwLock::default()),
            per_shard: config.capacity.div_ceil(SHARDS).max(1),
            ttl: config.ttl,
        }
    }

    fn shard(&self, hash: &TokenHash) -> &RwLock<ByHash<Entry>> {
        // Byte 8: bytes 0-7 already pick the bucket inside the shard.
        &self.shards[usize::from(hash.as_bytes()[8]) % SHARDS]
    }

    fn get(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        let shard = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = shard.get(hash)?;
        (entry.fetched.elapsed() < self.ttl).then(|| Arc::clone(&entry.record))
    }

    fn put(&self, record: Arc<TokenRecord>) {
        let mut shard = self
            .shard(&record.hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.per_shard && !shard.contains_key(&record.hash) {
            // Stale entries go first; otherwise any one makes room.
            let ttl = self.ttl;
            shard.retain(|_, entry| entry.fetched.elapsed() < ttl);
            if shard.len() >= self.per_shard
                && let Some(victim) = shard.keys().next().copied()
            {
                shard.remove(&victim);
            }
        }
        let fetched = Instant::now();
        shard.insert(record.hash, Entry { record, fetched });
    }

    #[cfg(any(feature = "management", feature = "postgres"))]
    pub(crate) fn remove(&self, hash: &TokenHash) {
        self.shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(hash);
    }

    pub(crate) fn remove_where(&self, matches: impl Fn(&TokenRecord) -> bool) {
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, entry| !matches(&entry.record));
        }
    }

    pub(crate) fn clear(&self) {
        self.remove_where(|_| true);
    }
}

impl<S: TokenStore> CachedStore<S> {
    /// Puts a cache in front of `inner`.
    pub fn new(inner: S, config: CacheConfig) -> Self {
        Self {
            inner,
            cache: Arc::new(VerifyCache::new(config)),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Forgets every cached record.
    pub fn invalidate_all(&self) {
        self.cache.clear();
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn cache(&self) -> &Arc<VerifyCache> {
        &self.cache
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for CachedStore<S> {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        if let Some(record) = self.cache.get(hash) {
            return Ok(Some(record));
        }
        let found = self.inner.find_by_hash(hash).await?;
        if let Some(record) = &found {
            self.cache.put(Arc::clone(record));
        }
        Ok(found)
    }

    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        self.cache
            .get(hash)
            .map(|record| Ok(Some(record)))
            .or_else(|| self.inner.find_by_hash_now(hash))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get(id).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list(query).await
    }

    /// Cached records keep their old last-used time; it is not used to
    /// decide anything a stale value could get wrong.
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        self.inner.record_last_used(uses).await
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.inner.has_ever_held_token().await
    }

    #[cfg(feature = "management")]
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        self.inner.insert(record, rules).await
    }

    #[cfg(feature = "management")]
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        self.inner.claim_setup(record).await
    }

    #[cfg(feature = "management")]
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let record = self.inner.update(id, update, now).await?;
        self.cache.remove(&record.hash);
        Ok(record)
    }

    #[cfg(feature = "management")]
    async fn revoke(&self, id: &TokenId, at: OffsetDateTime) -> Result<TokenRecord, StoreError> {
        let record = self.inner.revoke(id, at).await?;
        self.cache.remove(&record.hash);
        Ok(record)
    }

    #[cfg(feature = "management")]
    async fn revoke_owner(&self, owner: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
        let count = self.inner.revoke_owner(owner, at).await?;
        self.cache.remove_where(|record| record.owner == owner);
        Ok(count)
    }

    #[cfg(feature = "management")]
    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let old = rotation.old;
        self.inner.rotate(rotation).await?;
        self.cache.remove_where(|record| record.id == old);
        Ok(())
    }

    #[cfg(feature = "management")]
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let deleted = self.inner.delete(id).await?;
        self.cache.remove_where(|record| record.id == *id);
        Ok(deleted)
    }

    #[cfg(feature = "management")]
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        self.inner.import(records).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(owner: &str) -> Arc<TokenRecord> {
        Arc::new(crate::record::test_record(owner, "cached"))
    }

    #[test]
    fn entries_expire_and_capacity_holds() {
        let cache = VerifyCache::new(CacheConfig {
            capacity: 32,
            ttl: Duration::from_millis(50),
        });
        let first = record("a");
        cache.put(Arc::clone(&first));
        assert!(cache.get(&first.hash).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&first.hash).is_none(), "expired");
        for _ in 0..1_000 {
            cache.put(record("b"));
        }
        let held: usize = cache.shards.iter().map(|s| s.read().unwrap().len()).sum();
        assert!(held <= 32, "{held} entries");
        cache.remove_where(|r| r.owner == "b");
        let held: usize = cache.shards.iter().map(|s| s.read().unwrap().len()).sum();
        assert_eq!(held, 0);
    }
}

#[cfg(test)]
#[cfg(feature = "conformance")]
mod conformance {
    async fn cached_memory_store() -> super::CachedStore<crate::MemoryStore> {
        super::CachedStore::new(crate::MemoryStore::new(), super::CacheConfig::default())
    }

    crate::store_conformance_tests!(cached_memory_store);
}
