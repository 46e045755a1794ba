//! Last-used write amplification: whatever the request rate, at most one
//! store write per token per interval, in batches.
#![cfg(feature = "management")]

use crate::support::Calls as _;
use std::sync::atomic::Ordering;

use crate::support::faulty::FaultyStore;
use crate::support::t0;
use tokenkeep::expiry::ManualClock;
use tokenkeep::store::MemoryStore;
use tokenkeep::time::Duration;
use tokenkeep::{Prefix, TokenManager};

#[tokio::test]
async fn one_hundred_thousand_verifications_of_a_thousand_tokens() {
    let format = tokenkeep::token::TokenFormat::new(Prefix::new("tk").expect("prefix"));
    let hasher = tokenkeep::hash::TokenHasher::sha256();
    let mut records = Vec::new();
    let mut tokens = Vec::new();
    for index in 0..1_000 {
        let minted = format.mint(&hasher).expect("mint");
        let mut record = crate::support::fresh_record(&format!("t{index}"));
        record.hash = minted.hash;
        records.push(record);
        tokens.push(minted.secret.expose_secret().to_owned());
    }
    let store = FaultyStore::new(MemoryStore::from_records(records));
    let clock = ManualClock::new(t0());
    let service = TokenManager::builder(store.clone(), Prefix::new("tk").expect("prefix"))
        .clock(clock.clone())
        .last_used_interval(Duration::seconds(60))
        .build()
        .expect("service");

    // 100,000 verifications over 100 simulated seconds (1 ms apart), with a
    // flush every simulated 5 seconds, as a background flusher would do.
    for round in 0..100_000usize {
        let token = &tokens[round % tokens.len()];
        service.verified(token).await;
        clock.advance(Duration::milliseconds(1));
        if round % 5_000 == 4_999 {
            service.service().flush_last_used().await.expect("flush");
        }
    }
    service.service().flush_last_used().await.expect("flush");

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

/// Asking about a token (introspection) is no use of it: nothing is noted,
/// while a verification is.
#[tokio::test]
async fn introspection_notes_no_last_use() {
    let store = FaultyStore::new(MemoryStore::new());
    let service = TokenManager::builder(store.clone(), Prefix::new("tk").expect("prefix"))
        .build()
        .expect("service");
    let token = service.admin_issue(tokenkeep::IssueRequest::new("alice", "ci")).await;
    let text = token.token.expose_secret();
    for _ in 0..3 {
        assert!(service.service().introspect(text).await.expect("introspect").is_some());
    }
    service.service().flush_last_used().await.expect("flush");
    assert_eq!(store.notes.load(Ordering::SeqCst), 0, "introspection noted a last use");
    service.verified(text).await;
    service.service().flush_last_used().await.expect("flush");
    assert_eq!(store.notes.load(Ordering::SeqCst), 1, "a verification is noted");
}
