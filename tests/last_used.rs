//! Last-used write amplification: whatever the request rate, at most one
//! store write per token per interval, in batches.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::t0;
use tokenkeep::time::Duration;
use tokenkeep::{
    LastUse, ListQuery, ManualClock, MemoryStore, Prefix, Requirement, StoreError, TokenHash,
    TokenId, TokenRecord, TokenService, TokenStore,
};

/// Counts the batches and notes the store receives.
#[derive(Debug)]
struct Counting {
    inner: MemoryStore,
    batches: AtomicUsize,
    notes: AtomicUsize,
}

#[tokenkeep::async_trait]
impl TokenStore for Counting {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.inner.find_by_hash(hash).await
    }
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list(query).await
    }
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.notes.fetch_add(uses.len(), Ordering::SeqCst);
        self.inner.record_last_used(uses).await
    }
    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.inner.has_ever_held_token().await
    }
    #[cfg(feature = "management")]
    async fn insert(
        &self,
        record: TokenRecord,
        rules: tokenkeep::InsertRules,
    ) -> Result<(), StoreError> {
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
        update: &tokenkeep::TokenUpdate,
        now: tokenkeep::time::OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.update(id, update, now).await
    }
    #[cfg(feature = "management")]
    async fn revoke(
        &self,
        id: &TokenId,
        at: tokenkeep::time::OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.revoke(id, at).await
    }
    #[cfg(feature = "management")]
    async fn revoke_owner(
        &self,
        owner: &str,
        at: tokenkeep::time::OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.inner.revoke_owner(owner, at).await
    }
    #[cfg(feature = "management")]
    async fn rotate(&self, rotation: tokenkeep::Rotation) -> Result<(), StoreError> {
        self.inner.rotate(rotation).await
    }
    #[cfg(feature = "management")]
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.inner.delete(id).await
    }
    #[cfg(feature = "management")]
    async fn import(
        &self,
        records: Vec<TokenRecord>,
    ) -> Result<tokenkeep::ImportReport, StoreError> {
        self.inner.import(records).await
    }
}

#[tokio::test]
async fn one_hundred_thousand_verifications_of_a_thousand_tokens() {
    let format = tokenkeep::TokenFormat::new(Prefix::new("tk").expect("prefix"));
    let hasher = tokenkeep::TokenHasher::sha256();
    let mut records = Vec::new();
    let mut tokens = Vec::new();
    for index in 0..1_000 {
        let minted = format.mint(&hasher).expect("mint");
        let mut record = support::fresh_record(&format!("t{index}"));
        record.hash = minted.hash;
        records.push(record);
        tokens.push(minted.secret.expose_secret().to_owned());
    }
    let store = Arc::new(Counting {
        inner: MemoryStore::from_records(records),
        batches: AtomicUsize::new(0),
        notes: AtomicUsize::new(0),
    });
    let clock = ManualClock::new(t0());
    let service = TokenService::builder(store.clone(), Prefix::new("tk").expect("prefix"))
        .clock(clock.clone())
        .last_used_interval(Duration::seconds(60))
        .build()
        .expect("service");

    // 100,000 verifications over 100 simulated seconds (1 ms apart), with a
    // flush every simulated 5 seconds, as a background flusher would do.
    for round in 0..100_000usize {
        let token = &tokens[round % tokens.len()];
        service
            .verify_token(token, Requirement::None)
            .await
            .expect("valid");
        clock.advance(Duration::milliseconds(1));
        if round % 5_000 == 4_999 {
            service.flush_last_used().await.expect("flush");
        }
    }
    service.flush_last_used().await.expect("flush");

    // Within 100 s and a 60 s interval, each token is written at most twice.
    let notes = store.notes.load(Ordering::SeqCst);
    let batches = store.batches.load(Ordering::SeqCst);
    eprintln!(
        "last-used: {notes} notes written in {batches} batches for 100,000 verifications of 1,000 tokens"
    );
    assert!(notes <= 2 * 1_000, "{notes} writes");
    assert!(notes >= 1_000, "every token was noted at least once");
    assert!(batches <= 21, "{batches} batches");
}
