//! [`CachedStore`]: a read-through verification cache in front of a store
//! whose lookups cost a round trip (SQLite, PostgreSQL, your own).
//!
//! Only tokens that exist are cached, so random or forged tokens never
//! displace real ones (each still costs the store one lookup). Entries live
//! at most `ttl`, which bounds how long a change made elsewhere and not
//! announced (a lost notification, another process writing the same SQLite
//! file) can go unseen.
//!
//! # How soon a revoke is seen
//!
//! - **On the same instance, at once**: a revoke, change or delete made
//!   through this wrapper invalidates before it returns, and no answer read
//!   before an invalidation is cached after it. Every verification that
//!   starts after the revoke returned refuses the token.
//! - **On other PostgreSQL instances, within the notification delay**:
//!   [`CachedStore::listen_for_invalidations`] applies every other
//!   instance's changes as their `NOTIFY` arrives, so the delay is the
//!   database's and the scheduler's: it grows with the machine's load.
//!   Measured on the 2-core machine of BENCHMARKS.md, from `revoke`
//!   returning on one instance to the first refusal on another, 6,000
//!   revocations each: at rest p50 0.27 ms, p99 4.7 ms, max 7.6 ms; under
//!   load (load average 4 to 5) p50 0.28 ms, p99 20.5 ms, **max 76 ms**.
//!   Plan for 100 ms on a loaded host (an outside run saw 27.6 ms). A lost
//!   notification connection is bounded by `ttl`.
//! - **Strict mode**: where a revoke must be seen by every instance the
//!   moment it returns, verify from [`PostgresStore`](super::PostgresStore)
//!   without this cache: each verification then reads the database (one
//!   round trip) and sees every committed revoke.

use super::ChangeScope;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Changes, ManageStore, Plan, StoreError, StoreLayer, TokenStore, Write, WriteLayer};
use crate::hash::{ByHash, TokenHash};
use crate::record::TokenRecord;

const SHARDS: usize = 16;

/// Sizes and lifetimes of a [`CachedStore`].
///
/// The default keeps at most **100,000 records**, each served for at most
/// **5 seconds** before the store is asked again. The lifetime bounds how
/// long a change the cache hears nothing of (a lost notification, another
/// process without a change signal) can go unseen; changes made through
/// the cache, or announced to it, take effect at once.
///
/// ```
/// use std::time::Duration;
/// use tokenkeep::store::CacheConfig;
/// let defaults = CacheConfig::default();
/// assert_eq!((defaults.capacity, defaults.ttl), (100_000, Duration::from_secs(5)));
/// let small = CacheConfig { capacity: 1_000, ttl: Duration::from_secs(1) };
/// # let _ = small;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most records kept.
    pub capacity: usize,
    /// The longest a record is served without asking the store again.
    pub ttl: Duration,
}

impl Default for CacheConfig {
    /// 100,000 records, 5 seconds each.
    fn default() -> Self {
        Self { capacity: 100_000, ttl: Duration::from_secs(5) }
    }
}

/// A store with a verification cache in front of it.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::{CacheConfig, CachedStore, MemoryStore, TokenStore};
/// let store: Arc<dyn TokenStore> = Arc::new(CachedStore::new(MemoryStore::new(), CacheConfig::default()));
/// ```
#[derive(Debug)]
pub struct CachedStore<S> {
    inner: S,
    cache: Arc<VerifyCache>,
    /// Changes made where no invalidation reaches (another process on the
    /// same file).
    outside: Option<Arc<Outside>>,
}

/// How often a [`CachedStore`] that checks a [`ChangeStamp`] reads it
/// while someone holds its change signal, so a long-lived connection hears
/// of another process's revoke within this long.
pub const STAMP_WATCHED_EVERY: Duration = Duration::from_millis(50);

/// The stamp a cache checks, and what it last saw.
#[derive(Debug)]
struct Outside {
    stamp: Box<dyn ChangeStamp>,
    seen: AtomicU64,
    /// Whether a task reads the stamp for the change signal's holders.
    watched: AtomicBool,
    /// Whether a thread of its own reads the stamp (see
    /// [`CachedStore::checking_every`]), so lookups do not.
    polled: AtomicBool,
}

impl Outside {
    /// Forgets everything cached if another process changed the data
    /// since the last look.
    fn catch_up(&self, cache: &VerifyCache) {
        let now = self.stamp.stamp();
        // Cleared before the new stamp is published: a verification that
        // reads the new stamp as seen finds the cache already emptied,
        // never one another thread is about to empty.
        if self.seen.load(Ordering::Acquire) != now {
            cache.clear();
            self.seen.store(now, Ordering::Release);
        }
    }

    /// Reads the stamp every [`STAMP_WATCHED_EVERY`] while anyone holds
    /// the cache's change signal, so that signal moves on changes made
    /// elsewhere too, not only at the next lookup. Outside a Tokio
    /// runtime there is nothing to run the task on, and the signal moves
    /// at lookups only.
    fn watch(self: &Arc<Self>, cache: &Arc<VerifyCache>) {
        // A polled stamp moves the signal from its own thread already.
        if self.polled.load(Ordering::Relaxed) || self.watched.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.watched.store(false, Ordering::Release);
            return;
        };
        let (outside, cache) = (Arc::clone(self), Arc::clone(cache));
        runtime.spawn(async move {
            loop {
                while cache.changes.receiver_count() > 0 {
                    tokio::time::sleep(STAMP_WATCHED_EVERY).await;
                    outside.catch_up(&cache);
                }
                outside.watched.store(false, Ordering::Release);
                // A holder who subscribed just before the flag fell found
                // it still set: the task goes on for them.
                if cache.changes.receiver_count() == 0
                    || outside.watched.swap(true, Ordering::AcqRel)
                {
                    return;
                }
            }
        });
    }
}

/// Starts the thread that reads `outside`'s stamp every `interval` for as
/// long as the cache lives; false when no thread could be started.
fn poll_stamp(outside: &Arc<Outside>, cache: &Arc<VerifyCache>, interval: Duration) -> bool {
    let (outside, cache) = (Arc::downgrade(outside), Arc::downgrade(cache));
    std::thread::Builder::new()
        .name("tokenkeep-stamp".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                let (Some(outside), Some(cache)) = (outside.upgrade(), cache.upgrade()) else {
                    return;
                };
                outside.catch_up(&cache);
            }
        })
        .is_ok()
}

/// Something that reads differently after every change another process
/// may have made to a store's data: what a [`CachedStore`] checks before
/// each cached answer when no notification can reach it (see
/// [`CachedStore::checking`]). `SqliteCommits` (feature `sqlite`) is one.
///
/// ```
/// use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
/// use tokenkeep::store::ChangeStamp;
/// /// A version number every writer bumps.
/// #[derive(Debug)]
/// struct Version(AtomicU64);
/// impl ChangeStamp for Version {
///     fn stamp(&self) -> u64 {
///         self.0.load(Ordering::Acquire)
///     }
/// }
/// ```
pub trait ChangeStamp: std::fmt::Debug + Send + Sync + 'static {
    /// The current stamp: equal to the last one only if nothing changed
    /// in between. When it cannot tell, it must return a new value.
    fn stamp(&self) -> u64;
}

#[derive(Debug)]
pub(crate) struct VerifyCache {
    shards: [RwLock<Shard>; SHARDS],
    per_shard: usize,
    ttl: Duration,
    /// Bumped on every invalidation, for [`TokenStore::changes`].
    changes: tokio::sync::watch::Sender<u64>,
}

/// One shard: its entries, and a generation that every invalidation bumps.
/// A lookup that misses notes the generation before asking the store; its
/// answer is cached only if no invalidation came in between, so a record
/// read just before a revoke can never be cached just after it.
#[derive(Debug, Default)]
struct Shard {
    entries: ByHash<Entry>,
    generation: u64,
}

/// What the cache says about a hash.
enum Lookup {
    Hit(Arc<TokenRecord>),
    /// Not cached (or stale); the shard's generation at the time.
    Miss(u64),
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
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    fn changed(&self) {
        crate::observability::cache_invalidation();
        self.changes.send_modify(|count| *count = count.wrapping_add(1));
    }

    fn shard(&self, hash: &TokenHash) -> &RwLock<Shard> {
        // Byte 8: bytes 0-7 already pick the bucket inside the shard.
        &self.shards[usize::from(hash.as_bytes()[8]) % SHARDS]
    }

    fn lookup(&self, hash: &TokenHash) -> Lookup {
        let shard = self.shard(hash).read().unwrap_or_else(PoisonError::into_inner);
        match shard.entries.get(hash) {
            Some(entry) if entry.fetched.elapsed() < self.ttl => {
                Lookup::Hit(Arc::clone(&entry.record))
            }
            _ => Lookup::Miss(shard.generation),
        }
    }

    fn get(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        match self.lookup(hash) {
            Lookup::Hit(record) => Some(record),
            Lookup::Miss(_) => None,
        }
    }

    /// Caches `record` unless its shard was invalidated since `generation`.
    fn put(&self, record: Arc<TokenRecord>, generation: u64) {
        let mut shard = self.shard(&record.hash).write().unwrap_or_else(PoisonError::into_inner);
        if shard.generation != generation {
            return;
        }
        let entries = &mut shard.entries;
        if entries.len() >= self.per_shard && !entries.contains_key(&record.hash) {
            // Stale entries go first; otherwise any one makes room.
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.fetched.elapsed() < ttl);
            if entries.len() >= self.per_shard
                && let Some(victim) = entries.keys().next().copied()
            {
                entries.remove(&victim);
            }
        }
        let fetched = Instant::now();
        entries.insert(record.hash, Entry { record, fetched });
    }

    pub(crate) fn remove(&self, hash: &TokenHash) {
        let mut shard = self.shard(hash).write().unwrap_or_else(PoisonError::into_inner);
        shard.generation += 1;
        shard.entries.remove(hash);
        drop(shard);
        self.changed();
    }

    pub(crate) fn remove_where(&self, matches: impl Fn(&TokenRecord) -> bool) {
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
            shard.generation += 1;
            shard.entries.retain(|_, entry| !matches(&entry.record));
        }
        self.changed();
    }

    pub(crate) fn clear(&self) {
        self.remove_where(|_| true);
    }
}

impl<S: TokenStore> CachedStore<S> {
    /// Puts a cache in front of `inner`.
    pub fn new(inner: S, config: CacheConfig) -> Self {
        Self { inner, cache: Arc::new(VerifyCache::new(config)), outside: None }
    }

    /// Checks `stamp` before every lookup and forgets every cached record
    /// when it changed: for a store other processes write where no
    /// notification reaches this one (a SQLite file the operator's command
    /// line also opens). A change committed before a verification starts
    /// is seen by that verification; the price is the stamp's read. While
    /// anyone holds the cache's [`changes`](TokenStore::changes) signal (a
    /// long-lived connection), a task reads the stamp every
    /// [`STAMP_WATCHED_EVERY`], so the signal moves on the other process's
    /// changes too.
    ///
    /// ```no_run
    /// # #[cfg(feature = "sqlite")]
    /// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
    /// use tokenkeep::store::{CacheConfig, CachedStore, SqliteStore};
    /// let sqlite = SqliteStore::open("data/tokens.db").await?;
    /// let commits = sqlite.commits()?;
    /// let store = CachedStore::new(sqlite, CacheConfig::default()).checking(commits);
    /// # Ok(()) }
    /// ```
    pub fn checking(self, stamp: impl ChangeStamp) -> Self {
        self.checked(stamp, false)
    }

    /// As [`checking`](Self::checking), but the stamp is read by a thread
    /// of its own every `interval` instead of before every lookup: a cached
    /// answer then costs no read of the stamp (for SQLite's commit counter,
    /// no system call), and a change another process commits is seen
    /// within `interval` plus the time the thread waits to be scheduled,
    /// instead of at once (an interval longer than the cache's `ttl` is
    /// bounded by the `ttl` instead: an entry is read again from the store
    /// once it is that old). The operator's choice between the two:
    /// `checking` for a revoke that takes effect the moment the command
    /// returns, this for the last few percent of throughput. The thread
    /// ends when the store is dropped. A zero `interval`, or a thread that
    /// cannot be started, is `checking`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "sqlite")]
    /// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
    /// use std::time::Duration;
    /// use tokenkeep::store::{CacheConfig, CachedStore, SqliteStore};
    /// let sqlite = SqliteStore::open("data/tokens.db").await?;
    /// let commits = sqlite.commits()?;
    /// let every = Duration::from_millis(5);
    /// let store = CachedStore::new(sqlite, CacheConfig::default()).checking_every(commits, every);
    /// # Ok(()) }
    /// ```
    pub fn checking_every(self, stamp: impl ChangeStamp, interval: Duration) -> Self {
        let checked = self.checked(stamp, !interval.is_zero());
        if let Some(outside) = &checked.outside
            && outside.polled.load(Ordering::Relaxed)
            && !poll_stamp(outside, &checked.cache, interval)
        {
            // No thread: every lookup reads the stamp, which is exact.
            outside.polled.store(false, Ordering::Relaxed);
        }
        checked
    }

    fn checked(mut self, stamp: impl ChangeStamp, polled: bool) -> Self {
        let seen = AtomicU64::new(stamp.stamp());
        let (watched, polled) = (AtomicBool::new(false), AtomicBool::new(polled));
        self.outside = Some(Arc::new(Outside { stamp: Box::new(stamp), seen, watched, polled }));
        self
    }

    /// Forgets everything if another process changed the data since the
    /// last look, unless a thread of its own looks.
    fn catch_up(&self) {
        if let Some(outside) = &self.outside
            && !outside.polled.load(Ordering::Relaxed)
        {
            outside.catch_up(&self.cache);
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

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(crate) fn cache(&self) -> &Arc<VerifyCache> {
        &self.cache
    }
}

#[async_trait]
impl<S: TokenStore> StoreLayer for CachedStore<S> {
    type Inner = S;

    fn inner(&self) -> &S {
        &self.inner
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.catch_up();
        let generation = match self.cache.lookup(hash) {
            Lookup::Hit(record) => {
                crate::observability::cache_lookup(true);
                return Ok(Some(record));
            }
            Lookup::Miss(generation) => generation,
        };
        // Counted here, not in `find_by_hash_now`, which a miss falls through.
        crate::observability::cache_lookup(false);
        let found = self.inner.find_by_hash(hash).await?;
        if let Some(record) = &found {
            self.cache.put(Arc::clone(record), generation);
        }
        Ok(found)
    }

    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        self.catch_up();
        match self.cache.get(hash) {
            Some(record) => {
                crate::observability::cache_lookup(true);
                Some(Ok(Some(record)))
            }
            None => self.inner.find_by_hash_now(hash),
        }
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        let signal = self.cache.changes.subscribe();
        if let Some(outside) = &self.outside {
            outside.watch(&self.cache);
        }
        Some(signal)
    }
}

/// Every change through the cache invalidates what it wrote before it
/// returns.
#[async_trait]
impl<S: ManageStore> WriteLayer for CachedStore<S> {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let committed = self.inner.change(scope, plan).await?;
        for write in &committed.writes {
            match write {
                Write::Insert(record) | Write::Replace(record) => self.cache.remove(&record.hash),
                Write::Delete(id) => self.cache.remove_where(|record| record.id == *id),
                // The owner's records carry what they need of it, and are
                // written in the same change.
                Write::OwnerLimits(_) => {}
            }
        }
        Ok(committed)
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
        let cache = VerifyCache::new(CacheConfig { capacity: 32, ttl: Duration::from_millis(50) });
        let first = record("a");
        cache.put(Arc::clone(&first), 0);
        assert!(cache.get(&first.hash).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&first.hash).is_none(), "expired");
        for _ in 0..1_000 {
            let record = record("b");
            let Lookup::Miss(generation) = cache.lookup(&record.hash) else { panic!() };
            cache.put(record, generation);
        }
        let held = |cache: &VerifyCache| -> usize {
            cache.shards.iter().map(|s| s.read().unwrap().entries.len()).sum()
        };
        assert!(held(&cache) <= 32, "{} entries", held(&cache));
        cache.remove_where(|r| r.owner == "b");
        assert_eq!(held(&cache), 0);
    }

    #[test]
    #[cfg(any(feature = "management", feature = "postgres"))]
    fn an_answer_read_before_an_invalidation_is_not_cached() {
        let cache = VerifyCache::new(CacheConfig::default());
        let stale = record("a");
        let Lookup::Miss(generation) = cache.lookup(&stale.hash) else { panic!() };
        // The store answered, then a revoke invalidated, then the answer arrives.
        cache.remove(&stale.hash);
        cache.put(Arc::clone(&stale), generation);
        assert!(cache.get(&stale.hash).is_none(), "a pre-revoke answer was cached");
        let Lookup::Miss(generation) = cache.lookup(&stale.hash) else { panic!() };
        cache.put(Arc::clone(&stale), generation);
        assert!(cache.get(&stale.hash).is_some());
    }

    /// A stamp another process moves, counting its reads.
    #[derive(Debug, Default)]
    struct Moved {
        value: AtomicU64,
        reads: AtomicU64,
    }

    impl ChangeStamp for Arc<Moved> {
        fn stamp(&self) -> u64 {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.value.load(Ordering::Relaxed)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_signal_hears_a_stamp_only_while_someone_holds_it() {
        let stamp = Arc::new(Moved::default());
        let store = CachedStore::new(crate::store::MemoryStore::new(), CacheConfig::default())
            .checking(Arc::clone(&stamp));
        let mut signal = TokenStore::changes(&store).expect("a cache answers a signal");
        let again = TokenStore::changes(&store).expect("a second holder");
        stamp.value.store(1, Ordering::Relaxed);
        tokio::time::timeout(STAMP_WATCHED_EVERY * 3, signal.changed())
            .await
            .expect("the signal moves on a change made elsewhere")
            .expect("the cache is alive");
        drop((signal, again));
        tokio::time::sleep(STAMP_WATCHED_EVERY * 3).await;
        let reads = stamp.reads.load(Ordering::Relaxed);
        tokio::time::sleep(STAMP_WATCHED_EVERY * 10).await;
        assert_eq!(stamp.reads.load(Ordering::Relaxed), reads, "nobody holds the signal");
        let mut signal = TokenStore::changes(&store).expect("a signal again");
        stamp.value.store(2, Ordering::Relaxed);
        tokio::time::timeout(STAMP_WATCHED_EVERY * 3, signal.changed())
            .await
            .expect("the watch starts again for a new holder")
            .expect("the cache is alive");
    }

    /// Waits (in real time: the stamp's thread sleeps on the system clock)
    /// until `done`, for at most ten seconds.
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        done()
    }

    /// A cached entry, put as a lookup that missed would put it.
    fn cached(store: &CachedStore<crate::store::MemoryStore>, owner: &str) -> Arc<TokenRecord> {
        let record = record(owner);
        let Lookup::Miss(generation) = store.cache.lookup(&record.hash) else { panic!() };
        store.cache.put(Arc::clone(&record), generation);
        record
    }

    /// Whether the store answers `record` (the store behind holds nothing,
    /// so only the cache can).
    fn hit(store: &CachedStore<crate::store::MemoryStore>, record: &TokenRecord) -> bool {
        matches!(TokenStore::find_by_hash_now(store, &record.hash), Some(Ok(Some(_))))
    }

    #[test]
    fn a_polled_stamp_is_not_read_by_lookups_and_still_empties_the_cache() {
        let stamp = Arc::new(Moved::default());
        let store = CachedStore::new(crate::store::MemoryStore::new(), CacheConfig::default())
            .checking_every(Arc::clone(&stamp), Duration::from_millis(2));
        let hot = cached(&store, "a");
        let reads_before = stamp.reads.load(Ordering::Relaxed);
        let hits = (0..1_000).filter(|_| hit(&store, &hot)).count();
        assert_eq!(hits, 1_000);
        // The thread reads every 2 ms; a thousand lookups take far less
        // than a thousand of its reads.
        let reads = stamp.reads.load(Ordering::Relaxed) - reads_before;
        assert!(reads < 1_000, "{reads} reads for 1,000 lookups");

        stamp.value.store(1, Ordering::Relaxed);
        assert!(
            eventually(|| !hit(&store, &hot)),
            "a change made elsewhere empties the cache within the interval"
        );
    }

    #[test]
    fn the_stamps_thread_ends_with_the_store() {
        let stamp = Arc::new(Moved::default());
        let store = CachedStore::new(crate::store::MemoryStore::new(), CacheConfig::default())
            .checking_every(Arc::clone(&stamp), Duration::from_millis(1));
        assert_eq!(Arc::strong_count(&stamp), 2);
        drop(store);
        // At once, unless the thread was in the middle of a read.
        assert!(eventually(|| Arc::strong_count(&stamp) == 1), "the thread let the stamp go");
        let reads = stamp.reads.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            stamp.reads.load(Ordering::Relaxed) == reads,
            "nothing reads the stamp after the store is gone"
        );
    }

    #[test]
    fn a_zero_interval_checks_before_every_lookup() {
        let stamp = Arc::new(Moved::default());
        let store = CachedStore::new(crate::store::MemoryStore::new(), CacheConfig::default())
            .checking_every(Arc::clone(&stamp), Duration::ZERO);
        let hot = cached(&store, "a");
        assert!(hit(&store, &hot));
        stamp.value.store(1, Ordering::Relaxed);
        assert!(!hit(&store, &hot), "seen by the next lookup");
    }
}

#[cfg(test)]
#[cfg(feature = "conformance")]
mod conformance {
    async fn cached_memory_store(
        _test: &'static str,
    ) -> super::CachedStore<crate::store::MemoryStore> {
        super::CachedStore::new(crate::store::MemoryStore::new(), super::CacheConfig::default())
    }

    crate::store_conformance_tests!(cached_memory_store, another = crate::conformance::same_handle);
}
