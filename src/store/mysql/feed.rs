//! Cache invalidation across instances without `LISTEN`: every change a
//! `MysqlStore` commits writes the hashes it touched to `tokenkeep_changes`;
//! each instance polls that feed and drops what it cached for them.
//!
//! Feed numbers are taken when a change writes its rows, just before its
//! commit, so a number may become visible after a higher one. A poll
//! therefore reads everything above a watermark it moves only past rows
//! older than two seconds (`settled_after!`), and remembers which rows above it it has
//! applied.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::MySqlPool;
use tokio::task::JoinHandle;

use super::MysqlStore;
use crate::hash::TokenHash;
use crate::store::StoreError;
use crate::store::cache::{CachedStore, VerifyCache};
use crate::store::sql::backend_error;

/// How long after a feed row is written every change numbered before it
/// has committed, in seconds: a change writes its rows as its last
/// statement, so the bound is its commit's round trip, with room to spare.
macro_rules! settled_after {
    () => {
        "2"
    };
}

/// The most rows one poll reads; an instance further behind (a long pause,
/// a burst of changes) drops its whole cache and starts from the newest.
const MOST_ROWS: i64 = 10_000;

/// Rows older than this are deleted by whichever instance polls.
macro_rules! kept_for {
    () => {
        "1 HOUR"
    };
}

/// How many polls go by between two trims of the feed.
const TRIM_EVERY_POLLS: u64 = 1_000;

/// The background task of [`CachedStore::poll_changes`]; it stops when
/// dropped.
#[derive(Debug)]
pub struct ChangeFeedPoller {
    task: JoinHandle<()>,
}

impl Drop for ChangeFeedPoller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CachedStore<MysqlStore> {
    /// Polls the change feed every `every` and drops the cached records
    /// the changes of every instance concern: a revoke anywhere is seen
    /// here within about `every` (plus a query's round trip). If a poll
    /// fails, the whole cache is dropped (what was missed is unknown) and
    /// the next poll tries again; the cache's `ttl` bounds the window in
    /// between.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tokenkeep::store::StoreError> {
    /// use std::time::Duration;
    /// use tokenkeep::store::{CacheConfig, CachedStore, MysqlStore};
    /// let mysql = MysqlStore::connect("mysql://app@db.internal/app").await?;
    /// let store = CachedStore::new(mysql, CacheConfig::default());
    /// let _poller = store.poll_changes(Duration::from_millis(100)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the feed cannot be read.
    pub async fn poll_changes(&self, every: Duration) -> Result<ChangeFeedPoller, StoreError> {
        let pool = self.inner().pool().clone();
        let newest: u64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS UNSIGNED) FROM tokenkeep_changes",
        )
        .fetch_one(&pool)
        .await
        .map_err(backend_error)?;
        let cache = Arc::clone(self.cache());
        // Changes made before this point were not followed.
        cache.clear();
        let mut feed = Feed { watermark: newest, applied: BTreeSet::new(), polls: 0 };
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if feed.poll(&pool, &cache).await.is_err() {
                    cache.clear();
                }
            }
        });
        Ok(ChangeFeedPoller { task })
    }
}

/// Where an instance is in the feed.
struct Feed {
    /// Every row at or below it has been applied, or was settled and
    /// skipped with the whole cache.
    watermark: u64,
    /// The rows above the watermark already applied.
    applied: BTreeSet<u64>,
    polls: u64,
}

impl Feed {
    async fn poll(&mut self, pool: &MySqlPool, cache: &VerifyCache) -> Result<(), StoreError> {
        let rows: Vec<(u64, Vec<u8>, bool)> = sqlx::query_as(concat!(
            "SELECT seq, hash, changed_at < NOW(6) - INTERVAL ",
            settled_after!(),
            " SECOND FROM tokenkeep_changes WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(self.watermark)
        .bind(MOST_ROWS)
        .fetch_all(pool)
        .await
        .map_err(backend_error)?;
        if rows.len() >= usize::try_from(MOST_ROWS).unwrap_or(usize::MAX) {
            cache.clear();
            self.applied.clear();
            self.watermark = rows.last().map_or(self.watermark, |row| row.0);
            return Ok(());
        }
        let mut settled_so_far = true;
        for (seq, hash, settled) in rows {
            if self.applied.insert(seq) {
                match <[u8; 32]>::try_from(hash) {
                    Ok(bytes) => cache.remove(&TokenHash::from_bytes(bytes)),
                    Err(_) => cache.clear(),
                }
            }
            settled_so_far &= settled;
            if settled_so_far {
                self.watermark = seq;
            }
        }
        self.applied = self.applied.split_off(&(self.watermark + 1));
        self.polls += 1;
        if self.polls.is_multiple_of(TRIM_EVERY_POLLS) {
            trim(pool).await?;
        }
        Ok(())
    }
}

/// Deletes the rows every instance has long read.
async fn trim(pool: &MySqlPool) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "DELETE FROM tokenkeep_changes WHERE changed_at < NOW(6) - INTERVAL ",
        kept_for!(),
        " LIMIT 10000"
    ))
    .execute(pool)
    .await
    .map_err(backend_error)?;
    Ok(())
}
