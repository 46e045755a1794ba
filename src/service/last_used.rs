//! Last-used times: noted on the verification path without waiting, written
//! in batches at most once per token per interval.
//!
//! A note takes no lock and reads no clock when a lock-free slot shows the
//! token was noted since the last flush; otherwise it reads the clock and
//! checks the record, then one of sixteen shard locks. A flush drains the notes
//! into one `record_last_used` call. The notes of the last interval are lost
//! if the process crashes: last-used times are a convenience, not an audit
//! of every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::{Duration, OffsetDateTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::TokenService;
use crate::expiry::unix_millis;
use crate::record::{TokenId, TokenRecord};
use crate::store::LastUse;
use crate::store::StoreError;

const SHARDS: usize = 16;
/// Slots of the lock-free filter of recent notes.
const SLOTS: usize = 4_096;

#[derive(Debug)]
pub(crate) struct LastUsedTracker {
    interval_ms: i64,
    /// Bumped by every flush. A note within one epoch is a note within the
    /// interval as far as the store will see (one batch per epoch), so the
    /// fast path compares epochs instead of reading the clock.
    epoch: AtomicU32,
    /// Per slot, the token it last noted (32 bits of its id) and in which
    /// epoch (31 bits, with the top bit set so an empty slot matches
    /// nothing). A hot token finds itself here and returns after two
    /// atomic loads. Two tokens sharing a slot only send each other down
    /// the locked path, never skip a note.
    recent: Box<[AtomicU64]>,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Debug, Default)]
struct Shard {
    /// Uses not yet written, the first per token in the interval (ms).
    pending: HashMap<TokenId, i64>,
    /// When each token's last use was handed to a flush, so it is not
    /// written again within the interval whatever the store reports.
    flushed: HashMap<TokenId, i64>,
}

fn instant(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl LastUsedTracker {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval_ms: i64::try_from(interval.whole_milliseconds()).unwrap_or(i64::MAX),
            epoch: AtomicU32::new(0),
            recent: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        Duration::milliseconds(self.interval_ms)
    }

    fn shard_at(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.shards[index].lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shard(&self, id: &TokenId) -> MutexGuard<'_, Shard> {
        self.shard_at(usize::from(id.as_bytes()[0]) % SHARDS)
    }

    /// The token's slot, and what the slot holds once the token is noted
    /// in the current epoch.
    fn slot(&self, id: &TokenId) -> (&AtomicU64, u64) {
        let bytes = id.as_bytes();
        let index = usize::from(u16::from_le_bytes([bytes[1], bytes[2]])) % SLOTS;
        let tag = u64::from(u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]));
        let epoch = u64::from(self.epoch.load(Ordering::Relaxed) | 1 << 31);
        (&self.recent[index], tag << 32 | epoch)
    }

    /// Notes that `record` verified, at the time `now_ms` reads, unless a
    /// note since the last flush or a write within the interval already
    /// covers it. The clock is read only when the slot cannot say.
    pub(crate) fn note(&self, record: &TokenRecord, now_ms: impl FnOnce() -> i64) {
        let (slot, noted) = self.slot(&record.id);
        if slot.load(Ordering::Relaxed) == noted {
            return;
        }
        let now_ms = now_ms();
        let covered = |at: i64| now_ms - at < self.interval_ms;
        if record.last_used_at.map(unix_millis).is_some_and(covered) {
            slot.store(noted, Ordering::Relaxed);
            return;
        }
        let mut shard = self.shard(&record.id);
        if !shard.flushed.get(&record.id).is_some_and(|&at| covered(at)) {
            shard.pending.entry(record.id).or_insert(now_ms);
        }
        drop(shard);
        slot.store(noted, Ordering::Relaxed);
    }

    /// Takes every pending note, remembering them as flushed.
    pub(crate) fn take_batch(&self, now_ms: i64) -> Vec<LastUse> {
        // Every slot is stale from here: the next use of each token reads
        // the clock once and looks again.
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let mut batch = Vec::new();
        for index in 0..SHARDS {
            let mut shard = self.shard_at(index);
            let Shard { pending, flushed } = &mut *shard;
            flushed.retain(|_, at| now_ms - *at < self.interval_ms);
            for (id, at) in pending.drain() {
                flushed.insert(id, at);
                batch.push(LastUse { id, at: instant(at) });
            }
        }
        batch
    }

    /// Puts back a batch the store refused, to be retried by the next flush.
    pub(crate) fn restore(&self, batch: &[LastUse]) {
        for used in batch {
            let at = unix_millis(used.at);
            let mut shard = self.shard(&used.id);
            let first = shard.pending.entry(used.id).or_insert(at);
            *first = (*first).min(at);
        }
    }
}

impl TokenService {
    /// Writes the pending last-used notes in one batch; returns how many.
    /// A batch the store refuses is kept and retried by the next flush.
    ///
    /// # Errors
    /// The store's error, after the batch was put back.
    pub async fn flush_last_used(&self) -> Result<usize, StoreError> {
        let inner = &self.inner;
        let batch = inner.last_used.take_batch(inner.settings.clock.now_unix_millis());
        if batch.is_empty() {
            return Ok(0);
        }
        let stored = inner.store.record_last_used(&batch).await;
        crate::observability::last_used_batch(batch.len(), stored.is_ok());
        if let Err(error) = stored {
            tracing::warn!(
                target: "tokenkeep::last_used",
                notes = batch.len(), %error, "last-used batch not stored"
            );
            inner.last_used.restore(&batch);
            return Err(error);
        }
        Ok(batch.len())
    }

    /// Starts a task on the current Tokio runtime that flushes last-used
    /// notes once per last-used interval; [`LastUsedFlusher::shutdown`]
    /// stops it and flushes what is left.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as `tokio::spawn` does.
    pub fn spawn_last_used_flusher(&self) -> LastUsedFlusher {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let service = self.clone();
        let every = std::time::Duration::try_from(self.inner.last_used.interval())
            .unwrap_or(std::time::Duration::from_secs(60));
        let task = tokio::spawn(async move {
            while tokio::time::timeout(every, &mut stopped).await.is_err() {
                // A refused batch is retried on the next tick.
                let _ = service.flush_last_used().await;
            }
        });
        LastUsedFlusher { service: self.clone(), stop, task }
    }
}

/// The background task of [`TokenService::spawn_last_used_flusher`].
#[derive(Debug)]
pub struct LastUsedFlusher {
    service: TokenService,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl LastUsedFlusher {
    /// Stops the task and writes the notes still pending: call it on
    /// graceful shutdown.
    ///
    /// # Errors
    /// The store's error for the final batch.
    pub async fn shutdown(self) -> Result<usize, StoreError> {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.service.flush_last_used().await
    }
}
