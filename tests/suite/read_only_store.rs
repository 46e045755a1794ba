//! A verify-only store, written against the read trait alone, runs the
//! read checks of the conformance suite: the reason the traits are split.
#![cfg(feature = "conformance")]

use std::sync::Arc;

use tokenkeep::hash::TokenHash;
use tokenkeep::store::{LastUse, ListQuery, StoreError, TokenStore, async_trait};
use tokenkeep::{TokenId, TokenRecord};

/// Records handed over at start-up; nothing changes them.
#[derive(Debug)]
struct Snapshot(Vec<TokenRecord>);

#[async_trait]
impl TokenStore for Snapshot {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let found = self.0.iter().find(|record| record.hash == *hash);
        Ok(found.cloned().map(Arc::new))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.0.iter().find(|record| record.id == *id).cloned())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let mut records: Vec<TokenRecord> =
            self.0.iter().filter(|record| query.admits(record)).cloned().collect();
        ListQuery::order(&mut records);
        Ok(records)
    }

    async fn record_last_used(&self, _uses: &[LastUse]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(!self.0.is_empty())
    }
}

async fn snapshot(_test: &'static str, records: Vec<TokenRecord>) -> Snapshot {
    Snapshot(records)
}

tokenkeep::store_conformance_tests!(read_only: snapshot);
