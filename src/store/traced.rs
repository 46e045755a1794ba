//! The store as the service sees it: every call in a `tokenkeep::store`
//! span, ending with an event that gives its outcome and duration.
//!
//! Answers given from memory without waiting
//! ([`find_by_hash_now`](TokenStore::find_by_hash_now)) are not store calls
//! and pass straight through: they are the hot path of an in-process store.

use super::ChangeScope;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use tracing::Instrument as _;

use super::{
    Changes, LastUse, ListQuery, ManageStore, Plan, StoreError, StoreLayer, TokenStore, WriteLayer,
};
use crate::error::ErrorCode as _;
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// A store whose calls are traced (and, with feature `metrics`, timed).
pub(crate) struct Traced<S: ?Sized> {
    inner: Arc<S>,
}

impl<S: ?Sized> Traced<S> {
    pub(crate) fn new(inner: Arc<S>) -> Self {
        Self { inner }
    }
}

impl<S: ?Sized + fmt::Debug> fmt::Debug for Traced<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Runs one store call in its span, then reports how it went.
async fn observed<T>(
    op: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let span = tracing::debug_span!(target: "tokenkeep::store", "store_call", op);
    let started = Instant::now();
    let result = call.instrument(span.clone()).await;
    let took = started.elapsed();
    let outcome = result.as_ref().map_or_else(|error| error.code(), |_| "ok");
    span.in_scope(|| report(op, outcome, took, result.as_ref().err()));
    crate::observability::store_call(op, outcome, took);
    result
}

/// A failing backend is a warning (verification fails closed on it);
/// every other outcome, refusals included, is routine.
fn report(op: &'static str, outcome: &'static str, took: Duration, error: Option<&StoreError>) {
    let duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    match error {
        Some(error @ StoreError::Unavailable(_)) => tracing::warn!(
            target: "tokenkeep::store", op, outcome, duration_us, %error, "store call failed"
        ),
        _ => tracing::debug!(target: "tokenkeep::store", op, outcome, duration_us, "store call"),
    }
}

#[async_trait]
impl<S: TokenStore + ?Sized> StoreLayer for Traced<S> {
    type Inner = S;

    fn inner(&self) -> &S {
        &self.inner
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        observed("find_by_hash", self.inner().find_by_hash(hash)).await
    }

    /// Answers from memory are not store calls: passed straight through.
    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        self.inner().find_by_hash_now(hash)
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        observed("get", self.inner().get(id)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        observed("list", self.inner().list(query)).await
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        observed("list_expiring", self.inner().list_expiring(now, before)).await
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        observed("record_last_used", self.inner().record_last_used(uses)).await
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        observed("may_hold_custom_secrets", self.inner().may_hold_custom_secrets(prefix)).await
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        observed("has_ever_held_token", self.inner().has_ever_held_token()).await
    }
}

#[async_trait]
impl<S: ManageStore + ?Sized> WriteLayer for Traced<S> {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        observed("change", self.inner().change(scope, plan)).await
    }
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    use std::sync::Arc;

    async fn traced_store(_test: &'static str) -> super::Traced<crate::store::MemoryStore> {
        super::Traced::new(Arc::new(crate::store::MemoryStore::new()))
    }

    crate::store_conformance_tests!(traced_store, another = crate::conformance::same_handle);
}
