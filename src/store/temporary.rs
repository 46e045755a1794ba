//! Temporary tokens as a layer around a store: configured at start-up
//! (`--token root:root-secret`, a legacy admin bearer from the
//! environment), answered from memory, never written to the store below,
//! gone on restart.
//!
//! The service does not know about them: it asks this layer as it would ask
//! any store. The layer answers for the temporary tokens and passes every
//! other call through. They can be listed, but not changed, rotated,
//! revoked or deleted: such calls answer
//! [`Refusal::Temporary`](crate::rules::Refusal::Temporary). A
//! revocation kept in memory would not outlive a restart nor reach another
//! instance, so it is refused rather than answered with a success that
//! does not last; revoking all of an owner's tokens leaves the temporary
//! ones, which the operator removes from the configuration.

use super::ChangeScope;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{
    Changes, LastUse, ListQuery, ManageStore, Plan, Refused, StoreError, StoreLayer, TokenStore,
    Write, WriteLayer,
};
use crate::hash::TokenHash;
use crate::record::{TokenId, TokenRecord};
use crate::token::Prefix;

/// A store with the process's temporary tokens in front of it.
pub(crate) struct WithTemporary<S: ?Sized> {
    by_hash: RwLock<HashMap<TokenHash, Arc<TokenRecord>>>,
    inner: Arc<S>,
}

impl<S: ?Sized + fmt::Debug> fmt::Debug for WithTemporary<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithTemporary")
            .field("temporary_tokens", &self.read().len())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S: ?Sized> WithTemporary<S> {
    /// The layer over `inner`; the records were checked by the builder (no
    /// two share a hash or a name).
    pub(crate) fn new(records: Vec<TokenRecord>, inner: Arc<S>) -> Self {
        let by_hash = records.into_iter().map(|record| (record.hash, Arc::new(record))).collect();
        Self { by_hash: RwLock::new(by_hash), inner }
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<TokenHash, Arc<TokenRecord>>> {
        self.by_hash.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<TokenHash, Arc<TokenRecord>>> {
        self.by_hash.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn find(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        self.read().get(hash).cloned()
    }

    fn get_temporary(&self, id: &TokenId) -> Option<TokenRecord> {
        self.read()
            .values()
            .find(|record| record.id == *id)
            .map(|record| TokenRecord::clone(record))
    }
}

#[async_trait]
impl<S: TokenStore + ?Sized> StoreLayer for WithTemporary<S> {
    type Inner = S;

    fn inner(&self) -> &S {
        &self.inner
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        match self.find(hash) {
            Some(record) => Ok(Some(record)),
            None => self.inner().find_by_hash(hash).await,
        }
    }

    fn find_by_hash_now(
        &self,
        hash: &TokenHash,
    ) -> Option<Result<Option<Arc<TokenRecord>>, StoreError>> {
        match self.find(hash) {
            Some(record) => Some(Ok(Some(record))),
            None => self.inner().find_by_hash_now(hash),
        }
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        match self.get_temporary(id) {
            Some(record) => Ok(Some(record)),
            None => self.inner().get(id).await,
        }
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let mut records: Vec<TokenRecord> = self
            .read()
            .values()
            .filter(|record| query.admits(record))
            .map(|record| TokenRecord::clone(record))
            .collect();
        records.extend(self.inner().list(query).await?);
        ListQuery::order(&mut records);
        Ok(records)
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let mut records: Vec<TokenRecord> = self
            .read()
            .values()
            .filter(|record| record.is_active(now))
            .filter(|record| record.expires_at.is_some_and(|expiry| expiry <= before))
            .map(|record| TokenRecord::clone(record))
            .collect();
        records.extend(self.inner().list_expiring(now, before).await?);
        records.sort_by_key(|record| (record.expires_at, record.id));
        Ok(records)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut rest = Vec::with_capacity(uses.len());
        {
            let mut by_hash = self.write();
            for used in uses {
                match by_hash.values_mut().find(|record| record.id == used.id) {
                    Some(record) => {
                        let record = Arc::make_mut(record);
                        record.last_used_at = record.last_used_at.max(Some(used.at));
                    }
                    None => rest.push(*used),
                }
            }
        }
        if rest.is_empty() {
            return Ok(());
        }
        self.inner().record_last_used(&rest).await
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        let in_memory = self.read().values().any(|record| !record.is_in_format_of(prefix));
        Ok(in_memory || self.inner().may_hold_custom_secrets(prefix).await?)
    }
}

/// Plans see the owner's temporary tokens beside the stored ones, so a
/// change aimed at one is refused by the rules as a change of a temporary
/// token ([`Refusal::Temporary`](crate::rules::Refusal::Temporary)), and an
/// insert that would be
/// shadowed by one (the same hash, and so its rights) as a duplicate.
#[async_trait]
impl<S: ManageStore + ?Sized> WriteLayer for WithTemporary<S> {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let temporary: Vec<TokenRecord> = self
            .read()
            .values()
            .filter(|record| scope.covers(record))
            .map(|record| TokenRecord::clone(record))
            .collect();
        let mut shadowed = false;
        let changed = self
            .inner()
            .change(scope, &mut |read| {
                let mut shown = read.clone();
                shown.records.extend(temporary.iter().cloned());
                let changes = plan(&shown)?;
                shadowed = changes.writes.iter().any(|write| {
                    matches!(write, Write::Insert(record) if self.find(&record.hash).is_some())
                });
                if shadowed { Err(Refused) } else { Ok(changes) }
            })
            .await;
        if shadowed {
            return Err(StoreError::Duplicate);
        }
        changed
    }
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    use std::sync::Arc;

    /// With no temporary tokens configured, the layer is the store below:
    /// every call must reach it as it would without the layer.
    async fn layered_store(_test: &'static str) -> super::WithTemporary<crate::store::MemoryStore> {
        super::WithTemporary::new(Vec::new(), Arc::new(crate::store::MemoryStore::new()))
    }

    crate::store_conformance_tests!(layered_store, another = crate::conformance::same_handle);
}
