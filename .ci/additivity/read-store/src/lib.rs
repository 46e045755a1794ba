//! A verify-only store, written with every default feature off: it
//! implements the read trait and nothing else.

use std::sync::Arc;

use tokenkeep::hash::TokenHash;
use tokenkeep::store::{LastUse, ListQuery, StoreError, TokenStore, async_trait};
use tokenkeep::{Prefix, TokenId, TokenRecord, TokenService};

/// Records handed over by another service; never changed here.
#[derive(Debug, Default)]
pub struct Snapshot(pub Vec<Arc<TokenRecord>>);

#[async_trait]
impl TokenStore for Snapshot {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        Ok(self.0.iter().find(|record| record.hash == *hash).cloned())
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .0
            .iter()
            .find(|record| record.id == *id)
            .map(|record| TokenRecord::clone(record)))
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|record| query.include_inactive || record.is_active(query.now))
            .map(|record| TokenRecord::clone(record))
            .collect())
    }

    async fn record_last_used(&self, _uses: &[LastUse]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(!self.0.is_empty())
    }
}

/// A verifying service over the snapshot.
pub fn service(snapshot: Snapshot) -> TokenService {
    TokenService::builder(Arc::new(snapshot), Prefix::new("edge").expect("a valid prefix"))
        .build()
        .expect("a valid configuration")
}
