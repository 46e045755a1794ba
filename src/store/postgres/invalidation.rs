//! Cache invalidation across instances: every change a `PostgresStore`
//! commits is announced on a channel; each instance's listener drops what
//! it cached for it.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use super::PostgresStore;
use super::StoreError;
use crate::hash::TokenHash;
use crate::store::cache::{CachedStore, VerifyCache};
use crate::store::sql::backend_error;

/// The background task of [`CachedStore::listen_for_invalidations`]; it
/// stops when dropped.
#[derive(Debug)]
pub struct InvalidationListener {
    task: JoinHandle<()>,
}

impl Drop for InvalidationListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CachedStore<PostgresStore> {
    /// Listens for the changes every instance commits and drops the cached
    /// records they concern, so a revocation anywhere is seen here at once.
    /// If the listening connection breaks, the whole cache is dropped (what
    /// was missed is unknown) and the connection re-established; the cache's
    /// `ttl` bounds the window in between.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the listening connection cannot be opened.
    pub async fn listen_for_invalidations(&self) -> Result<InvalidationListener, StoreError> {
        let pool = self.inner().pool();
        let mut listener = PgListener::connect_with(pool).await.map_err(backend_error)?;
        listener.listen(PostgresStore::INVALIDATION_CHANNEL).await.map_err(backend_error)?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await
            .map_err(backend_error)?;
        let cache = Arc::clone(self.cache());
        // Changes announced before this point were not heard.
        cache.clear();
        let task = tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => apply(&cache, &schema, notification.payload()),
                    // The connection was lost and will be re-established.
                    Ok(None) => cache.clear(),
                    Err(_) => {
                        cache.clear();
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(InvalidationListener { task })
    }
}

fn apply(cache: &VerifyCache, schema: &str, payload: &str) {
    let mut parts = payload.splitn(3, '\u{1f}');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(from), Some("hash"), Some(hex)) if from == schema => match TokenHash::from_hex(hex) {
            Ok(hash) => cache.remove(&hash),
            Err(_) => cache.clear(),
        },
        (Some(from), Some("owner"), Some(owner)) if from == schema => {
            cache.remove_where(|record| record.owner == owner);
        }
        (Some(from), _, _) if from == schema => cache.clear(),
        _ => {}
    }
}
