//! Last-used times: noted on the verification path without waiting, written
//! in batches at most once per token per interval.
//!
//! A note takes no lock when the record already shows a use within the
//! interval; otherwise one of sixteen shard locks. A flush drains the notes
//! into one `record_last_used` call. The notes of the last interval are lost
//! if the process crashes: last-used times are a convenience, not an audit
//! of every request.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::{Duration, OffsetDateTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::TokenService;
use crate::error::StoreError;
use crate::record::{TokenId, TokenRecord};
use crate::store::LastUse;

const SHARDS: usize = 16;

#[derive(Debug)]
pub(crate) struct LastUsedTracker {
    interval: Duration,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Debug, Default)]
struct Shard {
    /// Uses not yet written, the latest per token.
    pending: HashMap<TokenId, OffsetDateTime>,
    /// When each token's last use was handed to a flush, so it is not
    /// written again within the interval whatever the store reports.
    flushed: HashMap<TokenId, OffsetDateTime>,
}

impl LastUsedTracker {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }

    fn shard_at(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn shard(&self, id: &TokenId) -> MutexGuard<'_, Shard> {
        self.shard_at(usize::from(id.as_bytes()[0]) % SHARDS)
    }

    fn is_recent(&self, last: OffsetDateTime, now: OffsetDateTime) -> bool {
        now - last < self.interval
    }

    /// Notes that `record` verified at `now`, unless a write within the
    /// interval already covers it.
    pub(crate) fn note(&self, record: &TokenRecord, now: OffsetDateTime) {
        if record
            .last_used_at
            .is_some_and(|last| self.is_recent(last, now))
        {
            return;
        }
        let mut shard = self.shard(&record.id);
        if shard
            .flushed
            .get(&record.id)
            .is_some_and(|&at| self.is_recent(at, now))
        {
            return;
        }
        let latest = shard.pending.entry(record.id).or_insert(now);
        *latest = (*latest).max(now);
    }

    /// Takes every pending note, remembering them as flushed.
    pub(crate) fn take_batch(&self, now: OffsetDateTime) -> Vec<LastUse> {
        let mut batch = Vec::new();
        for index in 0..SHARDS {
            let mut shard = self.shard_at(index);
            let Shard { pending, flushed } = &mut *shard;
            flushed.retain(|_, at| now - *at < self.interval);
            for (id, at) in pending.drain() {
                flushed.insert(id, at);
                batch.push(LastUse { id, at });
            }
        }
        batch
    }

    /// Puts back a batch the store refused, to be retried by the next flush.
    pub(crate) fn restore(&self, batch: &[LastUse]) {
        for used in batch {
            let mut shard = self.shard(&used.id);
            let latest = shard.pending.entry(used.id).or_insert(used.at);
            *latest = (*latest).max(used.at);
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
        let batch = inner.last_used.take_batch(self.now());
        let count = batch.len();
        let stored = inner.temporary.record_last_used(batch);
        if stored.is_empty() {
            return Ok(count);
        }
        if let Err(error) = inner.store.record_last_used(&stored).await {
            inner.last_used.restore(&stored);
            return Err(error);
        }
        Ok(count)
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
        let every = std::time::Duration::try_from(self.inner.last_used.interval)
            .unwrap_or(std::time::Duration::from_secs(60));
        let task = tokio::spawn(async move {
            while tokio::time::timeout(every, &mut stopped).await.is_err() {
                // A refused batch is retried on the next tick.
                let _ = service.flush_last_used().await;
            }
        });
        LastUsedFlusher {
            service: self.clone(),
            stop,
            task,
        }
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
