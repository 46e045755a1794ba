//! What the checks share: instants, sample records, and helpers that run
//! calls concurrently and look records up as verification does.

use std::future::Future;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use crate::hash::{TokenHash, TokenHasher};
use crate::record::{RevokeReason, TokenId, TokenName, TokenRecord};
use crate::rules::{InsertRules, Revocation, Rotation, RuleError, TokenRules as _};
use crate::store::{ListQuery, ManageStore};

/// 2026-01-01T00:00:00Z, the instant the checks are set at.
pub(super) fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(super) fn at(seconds: i64) -> OffsetDateTime {
    t0() + Duration::seconds(seconds)
}

/// A fresh persistent record for `owner` named `name`, created at t0.
pub fn sample_record(owner: &str, name: &str) -> TokenRecord {
    let id = TokenId::random().expect("randomness");
    let name = TokenName::new(name).expect("a valid test name");
    let mut record = TokenRecord::new(id, owner, name, random_hash(), t0());
    record.display_prefix = "ct_abcdef".to_owned();
    record.created_by = Some("admin".to_owned());
    record
}

/// A revocation by a manager at `at`.
pub fn revocation(at: OffsetDateTime) -> Revocation {
    Revocation::new(at, "admin", RevokeReason::Revoked)
}

/// A revoke-all (a password change) by a manager at `at`.
pub(super) fn revocation_of_all(at: OffsetDateTime) -> Revocation {
    Revocation::new(at, "admin", RevokeReason::RevokeAll)
}

pub(super) fn random_hash() -> TokenHash {
    let seed = TokenId::random().expect("randomness").to_string();
    TokenHasher::sha256().hash(&seed)
}

pub(super) fn rules(cap: Option<usize>) -> InsertRules {
    InsertRules { now: t0(), max_active_per_owner: cap }
}

pub(super) async fn insert(store: &dyn ManageStore, record: &TokenRecord) {
    store.insert(record.clone(), rules(None)).await.expect("insert of a fresh record");
}

pub(super) async fn get(store: &dyn ManageStore, id: &TokenId) -> TokenRecord {
    store.get(id).await.expect("get").expect("the record exists")
}

/// Runs `attempts` at once, each on a task of its own released together
/// by a barrier (so a store whose check reads before it writes meets its
/// race), and answers their results in order.
pub(super) async fn all_at_once<F, T>(attempts: Vec<F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(attempts.len()));
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|attempt| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                attempt.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("a check's task panicked"));
    }
    results
}

/// Runs `attempts` at once ([`all_at_once`]) and counts the successes;
/// any error other than the `expected` refusal fails the check.
pub(super) async fn successes<F>(attempts: Vec<F>, expected: fn(&RuleError) -> bool) -> usize
where
    F: Future<Output = Result<(), RuleError>> + Send + 'static,
{
    let mut succeeded = 0;
    for result in all_at_once(attempts).await {
        match result {
            Ok(()) => succeeded += 1,
            Err(error) if expected(&error) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    succeeded
}

/// Looks `record` up by hash, as verification does, and checks what the
/// store answers against `contract`.
pub(super) async fn assert_seen(
    store: &dyn ManageStore,
    record: &TokenRecord,
    contract: &str,
    holds: impl Fn(&TokenRecord) -> bool,
) {
    let found = store
        .find_by_hash(&record.hash)
        .await
        .expect("find_by_hash")
        .unwrap_or_else(|| panic!("{contract}: find_by_hash found no record"));
    assert_eq!(found.id, record.id, "{contract}: find_by_hash answered another record");
    assert!(holds(&found), "{contract}: find_by_hash answered {found:?}");
}

/// A rotation of `old` to a fresh id and hash.
pub(super) fn rotation(
    grace_until: Option<OffsetDateTime>,
    now: OffsetDateTime,
    cap: Option<usize>,
) -> Rotation {
    Rotation {
        new_id: TokenId::random().expect("randomness"),
        new_hash: random_hash(),
        new_display_prefix: "ct_rotate".to_owned(),
        grace_until,
        now,
        max_active_per_owner: cap,
        by: "admin".to_owned(),
    }
}

pub(super) fn active_query(owner: Option<&str>, include_inactive: bool) -> ListQuery {
    ListQuery { owner: owner.map(str::to_owned), include_inactive, now: t0() }
}

/// Neither `get` nor `find_by_hash` finds `record` any more.
pub(super) async fn assert_gone(store: &dyn ManageStore, record: &TokenRecord, contract: &str) {
    assert!(
        store.get(&record.id).await.expect("get").is_none(),
        "{contract}: get still finds the record"
    );
    let found = store.find_by_hash(&record.hash).await.expect("find_by_hash");
    assert!(found.is_none(), "{contract}: find_by_hash still finds the record");
}
