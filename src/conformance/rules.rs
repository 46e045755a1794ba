//! The rule checks: each operation of [`TokenRules`] run on the store
//! under test, alone and under concurrency. The rules are the crate's; what
//! these checks prove is that the store's one primitive keeps them: that
//! it reads what the owner holds, commits atomically, and shows every
//! change at once.

use std::sync::Arc;

use time::Duration;

use super::fixtures::{
    active_query, all_at_once, assert_gone, assert_seen, at, get, insert, revocation,
    revocation_of_all, rotation, rules, sample_record, successes, t0,
};
use crate::record::{Metadata, RevokeReason, TokenId, TokenKind, TokenName, TokenRecord, Usage};
use crate::rules::{InsertRules, Refusal, Revocation, RuleError, TokenRules as _, TokenUpdate};
use crate::scope::{Ability, Access, Route, Scopes};
use crate::store::{LastUse, ManageStore, StoreError};

/// A second record with an existing id or hash is refused as a duplicate.
///
/// Steps: insert one record; inserting another with its hash, then another
/// with its id, each answers `Duplicate`.
pub async fn duplicate_id_or_hash_is_refused(store: Arc<dyn ManageStore>) {
    let first = sample_record("alice", "one");
    insert(&*store, &first).await;
    let mut same_hash = sample_record("alice", "two");
    same_hash.hash = first.hash;
    let mut same_id = sample_record("alice", "three");
    same_id.id = first.id;
    for record in [same_hash, same_id] {
        let result = store.insert(record, rules(None)).await;
        assert!(
            matches!(result, Err(RuleError::Store(StoreError::Duplicate))),
            "a record with an existing id or hash is Duplicate, got {result:?}"
        );
    }
}

/// Temporary tokens live in process memory only: a store refuses a record
/// of kind `Temporary`, by `insert` and by `import`, and writes nothing.
///
/// Steps: insert a temporary record (refused with `Temporary`); import a
/// batch with one persistent and one temporary record (refused with
/// `Temporary`); neither record can be found afterwards.
pub async fn temporary_records_are_never_stored(store: Arc<dyn ManageStore>) {
    let mut temporary = sample_record("root", "root");
    temporary.kind = TokenKind::Temporary;
    let inserted = store.insert(temporary.clone(), rules(None)).await;
    assert!(
        matches!(inserted, Err(RuleError::Refused(Refusal::Temporary))),
        "insert refuses a temporary record with Temporary, got {inserted:?}"
    );
    let persistent = sample_record("alice", "laptop");
    let imported = store.import(vec![persistent.clone(), temporary.clone()], rules(None)).await;
    assert!(
        matches!(imported, Err(RuleError::Refused(Refusal::Temporary))),
        "import refuses a batch holding a temporary record, got {imported:?}"
    );
    for record in [&persistent, &temporary] {
        assert!(
            store.find_by_hash(&record.hash).await.expect("find").is_none(),
            "a refused import writes nothing"
        );
    }
}

/// Names are unique among one owner's active tokens; other owners, revoked
/// and expired tokens do not block a name.
///
/// Steps: insert alice's `laptop`; a second one is `NameTaken`; bob's
/// `laptop` is fine; after a revoke alice may use the name again; an
/// expired token's name is free too.
pub async fn names_are_unique_among_an_owners_active_tokens(store: Arc<dyn ManageStore>) {
    let laptop = sample_record("alice", "laptop");
    insert(&*store, &laptop).await;
    let again = store.insert(sample_record("alice", "laptop"), rules(None)).await;
    assert!(
        matches!(again, Err(RuleError::Refused(Refusal::NameTaken))),
        "a name is unique among an owner's active tokens, got {again:?}"
    );
    insert(&*store, &sample_record("bob", "laptop")).await;

    store.revoke(laptop.id, &revocation(at(1))).await.expect("revoke");
    insert(&*store, &sample_record("alice", "laptop")).await;

    let mut expired = sample_record("carol", "ci");
    expired.expires_at = Some(t0());
    insert(&*store, &expired).await;
    insert(&*store, &sample_record("carol", "ci")).await;
}

/// The cap counts active tokens only and removes nothing to make room.
///
/// Steps, with a cap of 3: three inserts pass, the fourth is
/// `LimitReached { limit: 3 }` and no token was revoked; after a revoke the
/// fourth passes; an expired token does not count.
pub async fn cap_counts_only_active_tokens(store: Arc<dyn ManageStore>) {
    let mut records = Vec::new();
    for index in 0..3 {
        let record = sample_record("alice", &format!("token-{index}"));
        store.insert(record.clone(), rules(Some(3))).await.expect("under the cap");
        records.push(record);
    }
    let fourth = store.insert(sample_record("alice", "four"), rules(Some(3))).await;
    assert!(
        matches!(fourth, Err(RuleError::Refused(Refusal::LimitReached { limit: 3 }))),
        "an insert over the cap is LimitReached with the cap, got {fourth:?}"
    );
    for record in &records {
        assert!(get(&*store, &record.id).await.revoked_at.is_none(), "nothing made room");
    }
    store.revoke(records[0].id, &revocation(at(1))).await.expect("revoke");
    store
        .insert(sample_record("alice", "four"), rules(Some(3)))
        .await
        .expect("a revoked token frees its place");
    let mut expired = sample_record("bob", "old");
    expired.expires_at = Some(t0());
    insert(&*store, &expired).await;
    store
        .insert(sample_record("bob", "new"), rules(Some(1)))
        .await
        .expect("an expired token does not count");
}

/// An owner with many records is read whole: a store that pages through
/// an owner's records (an index scan, a `SCAN` cursor) follows every page,
/// in a change's read as in a list.
///
/// Steps: import 1,200 records of alice made at t0 to t1199, the first 700
/// revoked, the next 350 expired, the last 150 active; with a cap of 150,
/// an insert is `LimitReached`; revoke the newest: it is seen revoked, and
/// the insert passes; alice's active list holds 150 tokens, her whole list
/// 1,201; the oldest and the newest are found by hash.
pub async fn an_owner_with_many_records_is_read_whole(store: Arc<dyn ManageStore>) {
    let records: Vec<TokenRecord> = (0..1_200)
        .map(|index| {
            let mut record = sample_record("alice", &format!("many-{index}"));
            record.created_at = at(index);
            match index {
                0..700 => record.revoked_at = Some(at(index)),
                700..1_050 => record.expires_at = Some(t0()),
                _ => {}
            }
            record
        })
        .collect();
    store.import(records.clone(), rules(None)).await.expect("import");
    let over = store.insert(sample_record("alice", "one-more"), rules(Some(150))).await;
    assert!(
        matches!(over, Err(RuleError::Refused(Refusal::LimitReached { limit: 150 }))),
        "the cap counts every active token of a large owner, got {over:?}"
    );
    let newest = &records[1_199];
    store.revoke(newest.id, &revocation(at(1))).await.expect("revoke the newest");
    assert_seen(&*store, newest, "the newest of 1,200 is revoked", |found| {
        found.revoked_at == Some(at(1))
    })
    .await;
    store.insert(sample_record("alice", "one-more"), rules(Some(150))).await.expect("room for one");
    let active = store.list(&active_query(Some("alice"), false)).await.expect("list");
    assert_eq!(active.len(), 150, "alice's active list holds every active token");
    let all = store.list(&active_query(Some("alice"), true)).await.expect("list");
    assert_eq!(all.len(), 1_201, "alice's whole list holds every record");
    for record in [&records[0], newest] {
        let found = store.find_by_hash(&record.hash).await.expect("find_by_hash");
        assert_eq!(found.map(|found| found.id), Some(record.id), "found by hash among 1,200");
    }
}

/// A rotated token in its grace period still verifies, so it counts
/// toward the cap; a rotation with a grace period needs room for one more.
///
/// Steps, with a cap of 2: insert `a`; rotate it with a grace period (two
/// tokens now verify); a third insert is refused with `LimitReached`;
/// rotating the replacement with a grace period is refused too (it would
/// make three); rotating it without one succeeds (the count stays).
pub async fn cap_counts_tokens_in_their_grace_period(store: Arc<dyn ManageStore>) {
    let a = sample_record("alice", "a");
    store.insert(a.clone(), rules(Some(2))).await.expect("under the cap");
    let graceful = rotation(Some(at(100)), t0(), Some(2));
    let replacement =
        store.rotate(a.id, graceful).await.expect("a rotation with grace fits: one token verifies");
    let third = store.insert(sample_record("alice", "b"), rules(Some(2))).await;
    assert!(
        matches!(third, Err(RuleError::Refused(Refusal::LimitReached { limit: 2 }))),
        "a token in its grace period counts toward the cap, got {third:?}"
    );
    let over = store.rotate(replacement.id, rotation(Some(at(100)), t0(), Some(2))).await;
    assert!(
        matches!(over, Err(RuleError::Refused(Refusal::LimitReached { limit: 2 }))),
        "a rotation with grace at the cap is refused, got {over:?}"
    );
    store
        .rotate(replacement.id, rotation(None, t0(), Some(2)))
        .await
        .expect("a rotation without grace does not grow the count");
}

/// Of 50 concurrent inserts for one owner with a cap of 10, exactly 10 succeed.
///
/// Steps: 50 concurrent inserts of distinct names for alice, cap 10;
/// exactly 10 succeed, the others answer `LimitReached`; alice lists 10.
pub async fn cap_holds_under_50_concurrent_inserts(store: Arc<dyn ManageStore>) {
    let attempts = (0..50)
        .map(|index| {
            let store = Arc::clone(&store);
            let record = sample_record("alice", &format!("t{index}"));
            async move { store.insert(record, rules(Some(10))).await }
        })
        .collect();
    let succeeded = successes(attempts, |error| {
        matches!(error, RuleError::Refused(Refusal::LimitReached { limit: 10 }))
    })
    .await;
    assert_eq!(succeeded, 10, "exactly the cap succeeds");
    let listed = store.list(&active_query(Some("alice"), false)).await.expect("list");
    assert_eq!(listed.len(), 10, "the cap holds under concurrency");
}

/// Uses are consumed exactly, under concurrency, and refilled on time.
///
/// Steps: a token with 10 uses; 50 concurrent `consume_use` at t1: exactly
/// 10 answer `Some`, and the stored record has 0 left; one more answers
/// `None`. A token refilled to 3 every hour, spent, is refilled at t0 + 2h
/// (2 left after the consuming call). A token without a limit answers
/// `None` and is not changed; an unknown id is `NotFound`.
pub async fn uses_are_consumed_exactly_under_50_concurrent_calls(store: Arc<dyn ManageStore>) {
    let mut limited = sample_record("alice", "limited");
    limited.extras.usage = Some(Usage::new(10, t0()).expect("usage"));
    insert(&*store, &limited).await;
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            async move { store.consume_use(limited.id, at(1)).await }
        })
        .collect();
    let answers = all_at_once(calls).await;
    let consumed = answers.iter().filter(|answer| matches!(answer, Ok(Some(_)))).count();
    assert_eq!(consumed, 10, "exactly the uses left succeed: {answers:?}");
    assert_eq!(
        get(&*store, &limited.id).await.extras.usage.map(|usage| usage.remaining),
        Some(0),
        "the store keeps the count"
    );
    assert_eq!(store.consume_use(limited.id, at(2)).await.expect("consume"), None);

    let mut refilled = sample_record("alice", "refilled");
    refilled.extras.usage = Some(
        Usage::new(0, t0()).and_then(|usage| usage.refilled(3, Duration::hours(1))).expect("usage"),
    );
    insert(&*store, &refilled).await;
    assert_eq!(store.consume_use(refilled.id, at(60)).await.expect("consume"), None);
    let later = t0() + Duration::hours(2);
    let after = store.consume_use(refilled.id, later).await.expect("consume").expect("refilled");
    assert_eq!((after.remaining, after.refilled_at), (2, later));

    let free = sample_record("alice", "free");
    insert(&*store, &free).await;
    assert_eq!(store.consume_use(free.id, at(1)).await.expect("consume"), None);
    assert_eq!(get(&*store, &free.id).await, free, "a token without a limit is not touched");
    let unknown = store.consume_use(TokenId::random().expect("randomness"), at(1)).await;
    assert!(matches!(unknown, Err(RuleError::Refused(Refusal::NotFound))), "{unknown:?}");
}

/// A call that costs several uses takes them all or none, exactly under
/// concurrency.
///
/// Steps: insert a token with 10 uses; 20 concurrent calls costing 3 each:
/// exactly 3 answer `Some`, and 1 use is left; a call costing 2 answers
/// `None` and takes nothing; one costing 1 takes the last.
pub async fn a_cost_of_several_uses_is_taken_whole_or_not_at_all(store: Arc<dyn ManageStore>) {
    let mut limited = sample_record("alice", "costly");
    limited.extras.usage = Some(Usage::new(10, t0()).expect("usage"));
    insert(&*store, &limited).await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            async move { store.consume_uses(limited.id, 3, at(1)).await }
        })
        .collect();
    let answers = all_at_once(calls).await;
    let taken = answers.iter().filter(|answer| matches!(answer, Ok(Some(_)))).count();
    assert_eq!(taken, 3, "three calls of three fit in ten uses: {answers:?}");
    let left = |record: TokenRecord| record.extras.usage.map(|usage| usage.remaining);
    assert_eq!(left(get(&*store, &limited.id).await), Some(1), "the store keeps the count");
    assert_eq!(store.consume_uses(limited.id, 2, at(2)).await.expect("consume"), None);
    assert_eq!(left(get(&*store, &limited.id).await), Some(1), "a refused cost takes nothing");
    let last = store.consume_uses(limited.id, 1, at(2)).await.expect("consume");
    assert_eq!(last.map(|usage| usage.remaining), Some(0));
}

/// Of 20 concurrent inserts of one name for one owner, exactly one succeeds.
///
/// Steps: 20 concurrent inserts of alice's `laptop`; exactly one succeeds,
/// the others answer `NameTaken`.
pub async fn one_name_wins_among_concurrent_inserts(store: Arc<dyn ManageStore>) {
    let attempts = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            async move { store.insert(sample_record("alice", "laptop"), rules(None)).await }
        })
        .collect();
    let succeeded =
        successes(attempts, |error| matches!(error, RuleError::Refused(Refusal::NameTaken))).await;
    assert_eq!(succeeded, 1, "one name wins among concurrent inserts");
}

/// A revoke is seen by the next lookup, even right after a lookup that saw
/// the token active (a read-through cache must be invalidated); revoking
/// again changes nothing; the row stays for the audit trail.
///
/// Steps: insert; look it up (active); revoke at t5 by `admin`; look it
/// up (revoked at t5, by `admin`, `revoked`); revoke again at t9 by
/// someone else for another reason (all still as at t5); again, passing
/// the record as read before the first revoke (still as at t5, stored
/// too); revoke an unknown id (`NotFound`).
pub async fn revoke_is_visible_at_once(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    assert_seen(&*store, &record, "before a revoke, the token is active", |found| {
        found.revoked_at.is_none()
    })
    .await;
    let revoked = store.revoke(record.id, &revocation(at(5))).await.expect("revoke");
    assert_eq!(
        (revoked.revoked_at, revoked.extras.revoked_by.as_deref(), revoked.extras.revoke_reason),
        (Some(at(5)), Some("admin"), Some(RevokeReason::Revoked)),
        "revoke returns the revoked record, with who and why"
    );
    assert_seen(&*store, &record, "a revoke is visible at once", |found| {
        found.revoked_at == Some(at(5))
    })
    .await;
    let by_someone_else = Revocation::new(at(9), "user:alice", RevokeReason::RevokeAll);
    let again = store.revoke(record.id, &by_someone_else).await.expect("revoke again");
    assert_eq!(
        (again.revoked_at, again.extras.revoked_by.as_deref(), again.extras.revoke_reason),
        (Some(at(5)), Some("admin"), Some(RevokeReason::Revoked)),
        "revoking a revoked token changes nothing, not even who or why"
    );
    // A caller that read the token before the first revoke passes that
    // read along, which a store may plan on instead of reading: it must
    // find the token revoked since and write nothing over it.
    let stale = store.revoke(&record, &by_someone_else).await.expect("revoke from a stale read");
    assert_eq!(
        (stale.revoked_at, stale.extras.revoked_by.as_deref(), stale.extras.revoke_reason),
        (Some(at(5)), Some("admin"), Some(RevokeReason::Revoked)),
        "a revoke given the record as read before the first revoke wrote over it"
    );
    assert_seen(&*store, &record, "the first revoke stands after a stale one", |found| {
        found.extras.revoked_by.as_deref() == Some("admin")
    })
    .await;
    let missing = store.revoke(TokenId::random().expect("randomness"), &revocation(at(9))).await;
    assert!(
        matches!(missing, Err(RuleError::Refused(Refusal::NotFound))),
        "revoking an unknown id answers NotFound, got {missing:?}"
    );
}

/// Revoking an owner's tokens revokes the active ones of that owner only,
/// and the next lookup of each sees it, even right after a lookup that saw
/// it active.
///
/// Steps: insert three tokens for alice and one for bob; revoke alice's
/// first at t1; look all of them up; revoke alice's at t2 (answers 2);
/// alice's first keeps t1, the others read t2, bob's stays active;
/// revoking an owner without tokens answers 0.
pub async fn revoke_owner_is_visible_at_once_for_that_owner_only(store: Arc<dyn ManageStore>) {
    let alice: Vec<TokenRecord> =
        (0..3).map(|index| sample_record("alice", &format!("a{index}"))).collect();
    let bob = sample_record("bob", "b");
    for record in alice.iter().chain([&bob]) {
        insert(&*store, record).await;
    }
    store.revoke(alice[0].id, &revocation(at(1))).await.expect("revoke");
    for record in alice.iter().chain([&bob]) {
        assert_seen(&*store, record, "before revoke_owner, a lookup", |_| true).await;
    }
    let count = store.revoke_owner("alice", &revocation_of_all(at(2))).await.expect("revoke_owner");
    assert_eq!(count, 2, "revoke_owner counts the tokens it revoked, the active ones");
    assert_seen(&*store, &alice[0], "revoke_owner keeps an earlier revocation", |found| {
        found.revoked_at == Some(at(1))
    })
    .await;
    for record in &alice[1..] {
        assert_seen(
            &*store,
            record,
            "revoke_owner is visible at once, saying who and why",
            |found| {
                found.revoked_at == Some(at(2))
                    && found.extras.revoke_reason == Some(RevokeReason::RevokeAll)
                    && found.extras.revoked_by.as_deref() == Some("admin")
            },
        )
        .await;
    }
    assert_seen(&*store, &bob, "revoke_owner touches that owner only", |found| {
        found.revoked_at.is_none()
    })
    .await;
    assert_eq!(
        store.revoke_owner("nobody", &revocation_of_all(at(3))).await.expect("revoke_owner"),
        0,
        "an owner without tokens has nothing to revoke"
    );
}

/// Metadata is replaced and cleared through `update`, visible at once.
///
/// Steps: insert with `{"plan": "free"}`; update to `{"plan": "pro"}`:
/// the next lookup sees it; update to `None`: the next lookup sees none;
/// a name change leaves metadata as it is.
pub async fn metadata_is_replaced_and_cleared(store: Arc<dyn ManageStore>) {
    let plan = |name: &str| Metadata::parse(&format!(r#"{{"plan": "{name}"}}"#)).expect("metadata");
    let mut record = sample_record("alice", "laptop");
    record.extras.metadata = Some(plan("free"));
    insert(&*store, &record).await;
    let change = |metadata: Option<Metadata>| TokenUpdate {
        metadata: Some(metadata),
        ..TokenUpdate::default()
    };
    store.update(record.id, &change(Some(plan("pro"))), t0()).await.expect("update");
    assert_seen(&*store, &record, "new metadata is visible at once", |found| {
        found.extras.metadata == Some(plan("pro"))
    })
    .await;
    let rename = TokenUpdate {
        name: Some(TokenName::new("renamed").expect("name")),
        ..TokenUpdate::default()
    };
    store.update(record.id, &rename, t0()).await.expect("rename");
    assert_seen(&*store, &record, "a rename keeps the metadata", |found| {
        found.extras.metadata == Some(plan("pro"))
    })
    .await;
    store.update(record.id, &change(None), t0()).await.expect("clear");
    assert_seen(&*store, &record, "cleared metadata is gone", |found| {
        found.extras.metadata.is_none()
    })
    .await;
}

/// Last-used notes only ever move the time forward; unknown ids are ignored.
///
/// Steps: note t20 (with an unknown id in the batch): t20; note t10: still
/// t20; note t30 and t25 in one batch: t30.
pub async fn last_used_only_moves_forward(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    let note = |seconds| LastUse { id: record.id, at: at(seconds) };
    let stranger = LastUse { id: TokenId::random().expect("randomness"), at: at(1) };
    store.record_last_used(&[note(20), stranger]).await.expect("batch");
    assert_eq!(
        get(&*store, &record.id).await.last_used_at,
        Some(at(20)),
        "a last-used note is applied; unknown ids are ignored"
    );
    store.record_last_used(&[note(10)]).await.expect("batch");
    assert_eq!(
        get(&*store, &record.id).await.last_used_at,
        Some(at(20)),
        "last-used never moves backwards"
    );
    store.record_last_used(&[note(30), note(25)]).await.expect("batch");
    assert_eq!(
        get(&*store, &record.id).await.last_used_at,
        Some(at(30)),
        "the latest note of a batch wins"
    );
}

/// A last-use note changes the last use and nothing else: notes racing a
/// revoke and a change of the token's fields never undo what those wrote
/// (a revoked token that verifies again).
///
/// Steps: ten rounds of: insert a token; note its use at t1 to t8 from one
/// task, one after another; once the first note is seen, change its
/// description and revoke it at t4; then the token is revoked at t4 with
/// the new description, and its last use is one of the notes.
pub async fn a_last_use_note_never_undoes_a_change(store: Arc<dyn ManageStore>) {
    for round in 0..10 {
        let record = sample_record("alice", &format!("noted-{round}"));
        insert(&*store, &record).await;
        let id = record.id;
        let notes = tokio::spawn({
            let store = Arc::clone(&store);
            async move {
                for seconds in 1..=8 {
                    store.record_last_used(&[LastUse { id, at: at(seconds) }]).await?;
                    tokio::task::yield_now().await;
                }
                Ok::<(), StoreError>(())
            }
        });
        // The change lands while the notes are under way.
        let started = std::time::Instant::now();
        while get(&*store, &id).await.last_used_at.is_none() {
            assert!(started.elapsed().as_secs() < 5, "a last-use note was never written");
            tokio::task::yield_now().await;
        }
        let described =
            TokenUpdate { description: Some(Some("moved".into())), ..TokenUpdate::default() };
        store.update(id, &described, at(4)).await.expect("update");
        store.revoke(id, &revocation(at(4))).await.expect("revoke");
        notes.await.expect("the notes' task").expect("note");
        let stored = get(&*store, &id).await;
        assert_eq!(
            (stored.revoked_at, stored.extras.description.as_deref()),
            (Some(at(4)), Some("moved")),
            "a last-use note undid a change (round {round})"
        );
        assert!(stored.last_used_at.is_some_and(|used| used >= at(1) && used <= at(8)));
    }
}

/// A token's expiry as its changes leave it is what `list_expiring`
/// answers: a rotation's grace puts a token that never expired on the
/// list, a revoke takes it off, and the successor carries the old expiry.
///
/// Steps: insert `a` (expires at t1000) and `b` (never expires); nothing
/// expires before t500; at t10 rotate `b` with grace until t100 and `a`
/// with grace until t50; before t500, `a` (t50) then `b` (t100), and
/// before t2000 also `a`'s successor (t1000); revoke `b` at t20: before
/// t500, only `a`.
pub async fn expiring_follows_rotations_and_revokes(store: Arc<dyn ManageStore>) {
    let mut a = sample_record("alice", "a");
    a.expires_at = Some(at(1_000));
    let b = sample_record("alice", "b");
    insert(&*store, &a).await;
    insert(&*store, &b).await;
    let expiring = |now: i64, before: i64| {
        let store = Arc::clone(&store);
        async move {
            let listed = store.list_expiring(at(now), at(before)).await.expect("list_expiring");
            listed.into_iter().map(|record| record.id).collect::<Vec<_>>()
        }
    };
    assert!(expiring(0, 500).await.is_empty(), "nothing expires before t500 yet");
    store.rotate(b.id, rotation(Some(at(100)), at(10), None)).await.expect("rotate b");
    let a_next = store.rotate(a.id, rotation(Some(at(50)), at(10), None)).await.expect("rotate a");
    assert_eq!(
        expiring(10, 500).await,
        [a.id, b.id],
        "a rotation's grace end puts both old tokens on the list, soonest first"
    );
    assert_eq!(
        expiring(10, 2_000).await,
        [a.id, b.id, a_next.id],
        "the successor carries the old token's expiry"
    );
    store.revoke(b.id, &revocation(at(20))).await.expect("revoke b");
    assert_eq!(expiring(20, 500).await, [a.id], "a revoked token leaves the list");
}

/// A name moves with its token: a rename frees the old name and takes the
/// new one, and a rotation hands the name on, so two active tokens of an
/// owner never hold one name whatever happened to it.
///
/// Steps: insert `a` named `ci`; rename it `deploy`; a new `ci` is taken
/// in, a new `deploy` is `NameTaken`; rotate `a` (grace until t100) at
/// t10: the successor is named `deploy` and a new `deploy` is still
/// `NameTaken`; rename the successor `release` at t15: a new `release` is
/// `NameTaken`, and a new `deploy` is taken in (`a`, replaced, holds no
/// name even in its grace).
pub async fn a_name_follows_its_token_through_renames_and_rotations(store: Arc<dyn ManageStore>) {
    let name = |text: &str| TokenName::new(text).expect("name");
    let renamed = |text: &str| TokenUpdate { name: Some(name(text)), ..TokenUpdate::default() };
    let taken = |text: &str| {
        let store = Arc::clone(&store);
        let record = sample_record("alice", text);
        async move {
            let refused = store.insert(record, InsertRules { now: at(20), ..rules(None) }).await;
            matches!(refused, Err(RuleError::Refused(Refusal::NameTaken)))
        }
    };
    let a = sample_record("alice", "ci");
    insert(&*store, &a).await;
    store.update(a.id, &renamed("deploy"), t0()).await.expect("rename");
    assert!(!taken("ci").await, "a rename frees the old name");
    assert!(taken("deploy").await, "a rename takes the new name");
    let next = store.rotate(a.id, rotation(Some(at(100)), at(10), None)).await.expect("rotate");
    assert_eq!(next.name, name("deploy"), "a rotation hands the name on");
    assert!(taken("deploy").await, "after a rotation, the name is held");
    store.update(next.id, &renamed("release"), at(15)).await.expect("rename the successor");
    assert!(taken("release").await, "the successor's new name is held");
    assert!(!taken("deploy").await, "a token replaced by a rotation holds no name, grace or not");
}

/// A fresh store can be claimed once.
///
/// Steps: a fresh store has never held a token; the first claim writes its
/// record and the store has now held one; a second claim is
/// `AlreadyClaimed`.
pub async fn setup_claim_succeeds_once(store: Arc<dyn ManageStore>) {
    assert!(!store.has_ever_held_token().await.expect("status"), "a fresh store");
    let first = sample_record("admin", "admin");
    store.claim_setup(first.clone()).await.expect("the first claim");
    assert!(store.has_ever_held_token().await.expect("status"), "a claimed store has held a token");
    assert_eq!(get(&*store, &first.id).await, first, "the claim writes its record");
    let second = store.claim_setup(sample_record("admin", "other")).await;
    assert!(
        matches!(second, Err(RuleError::Store(StoreError::AlreadyClaimed))),
        "a second claim is AlreadyClaimed, got {second:?}"
    );
}

/// Of 50 concurrent claims, exactly one wins and one record is written.
///
/// Steps: 50 concurrent claims of a fresh store; exactly one succeeds, the
/// others answer `AlreadyClaimed`; the store lists one record.
pub async fn setup_claim_has_one_winner_among_50(store: Arc<dyn ManageStore>) {
    let attempts = (0..50)
        .map(|index| {
            let store = Arc::clone(&store);
            let record = sample_record("admin", &format!("c{index}"));
            async move { store.claim_setup(record).await }
        })
        .collect();
    let winners =
        successes(attempts, |error| matches!(error, RuleError::Store(StoreError::AlreadyClaimed)))
            .await;
    assert_eq!(winners, 1, "exactly one of 50 concurrent claims wins");
    let all = store.list(&active_query(None, true)).await.expect("list");
    assert_eq!(all.len(), 1, "only the winning claim writes a record");
}

/// Once a store has held a token, revoked or deleted since, it stays claimed.
///
/// Steps: insert, revoke and delete a token; the store has still held a
/// token, and a claim is `AlreadyClaimed`.
pub async fn setup_claim_refused_once_any_token_was_held(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    store.revoke(record.id, &revocation(at(1))).await.expect("revoke");
    assert!(store.delete(record.id).await.expect("delete"));
    assert!(
        store.has_ever_held_token().await.expect("status"),
        "having held a token stays true after revoke and delete"
    );
    let claim = store.claim_setup(sample_record("admin", "admin")).await;
    assert!(
        matches!(claim, Err(RuleError::Store(StoreError::AlreadyClaimed))),
        "a store that held a token cannot be claimed, got {claim:?}"
    );
}

/// Updates change only the fields they name, are seen by the next lookup
/// (even right after one that saw the old record), keep names unique among
/// an owner's active tokens, and change only active tokens.
///
/// Steps: insert `laptop` and `phone`; look `laptop` up; rename it, set
/// description, routes and profile; look it up (changed); clear the
/// description (the name stays); renaming to `phone` is `NameTaken`;
/// `phone` keeping its own name is fine; updating a revoked token is
/// `Inactive`, an unknown id `NotFound`.
pub async fn update_is_visible_at_once_and_keeps_names_unique(store: Arc<dyn ManageStore>) {
    let laptop = sample_record("alice", "laptop");
    let phone = sample_record("alice", "phone");
    insert(&*store, &laptop).await;
    insert(&*store, &phone).await;
    assert_seen(&*store, &laptop, "before an update, the old record", |found| {
        found.scopes.routes.is_empty()
    })
    .await;
    let routes = vec![Route::new("/releases", Access::READ).expect("route")];
    let update = TokenUpdate {
        name: Some(TokenName::new("work laptop").expect("name")),
        description: Some(Some("the work one".to_owned())),
        routes: Some(routes.clone()),
        profile: Some(Some("prod".to_owned())),
        ..TokenUpdate::default()
    };
    let changed = store.update(laptop.id, &update, t0()).await.expect("update");
    assert_seen(&*store, &laptop, "an update is visible at once", |found| *found == changed).await;
    assert_eq!(changed.name.as_str(), "work laptop", "update renames");
    assert_eq!(changed.scopes.routes, routes, "update sets the routes");
    assert!(!changed.scopes.manager, "update leaves fields it does not name");
    assert_eq!(changed.extras.description.as_deref(), Some("the work one"));
    assert_eq!(changed.extras.profile.as_deref(), Some("prod"));

    let clear = TokenUpdate { description: Some(None), ..TokenUpdate::default() };
    let cleared = store.update(laptop.id, &clear, t0()).await.expect("update");
    assert_eq!(cleared.extras.description, None, "Some(None) clears the description");
    assert_eq!(cleared.name.as_str(), "work laptop", "update leaves fields it does not name");

    let take_phone = TokenUpdate {
        name: Some(TokenName::new("phone").expect("name")),
        ..TokenUpdate::default()
    };
    let taken = store.update(laptop.id, &take_phone, t0()).await;
    assert!(
        matches!(taken, Err(RuleError::Refused(Refusal::NameTaken))),
        "a rename onto an active token's name is NameTaken, got {taken:?}"
    );
    store.update(phone.id, &take_phone, t0()).await.expect("keeping its own name is no conflict");

    store.revoke(phone.id, &revocation(at(1))).await.expect("revoke");
    let inactive = store.update(phone.id, &clear, at(2)).await;
    assert!(
        matches!(inactive, Err(RuleError::Refused(Refusal::Inactive))),
        "updating a revoked token is Inactive, got {inactive:?}"
    );
    let missing = store.update(TokenId::random().expect("randomness"), &clear, t0()).await;
    assert!(
        matches!(missing, Err(RuleError::Refused(Refusal::NotFound))),
        "updating an unknown id is NotFound, got {missing:?}"
    );
}

/// Concurrent updates of different fields of one token all land: the
/// store applies each to the record as it is inside its atomic section,
/// never to a copy read before.
///
/// Steps, ten rounds: five concurrent updates of one token, each setting
/// one field of its own (description, `manager`, abilities, routes,
/// profile) to this round's value; afterwards the token holds all five.
pub async fn concurrent_changes_of_different_fields_all_land(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    for round in 0..10 {
        let label = format!("round-{round}");
        let ability = Ability::new(label.as_str()).expect("ability");
        let route = Route::new(&format!("/{label}"), Access::READ).expect("route");
        let updates = [
            TokenUpdate { description: Some(Some(label.clone())), ..TokenUpdate::default() },
            TokenUpdate { manager: Some(round % 2 == 0), ..TokenUpdate::default() },
            TokenUpdate { abilities: Some(vec![ability.clone()]), ..TokenUpdate::default() },
            TokenUpdate { routes: Some(vec![route.clone()]), ..TokenUpdate::default() },
            TokenUpdate { profile: Some(Some(label.clone())), ..TokenUpdate::default() },
        ];
        let tasks: Vec<_> = updates
            .into_iter()
            .map(|update| {
                let store = Arc::clone(&store);
                let id = record.id;
                async move { store.update(id, &update, t0()).await }
            })
            .collect();
        for result in all_at_once(tasks).await {
            result.expect("each update succeeds");
        }
        let now = get(&*store, &record.id).await;
        let landed = now.extras.description.as_deref() == Some(label.as_str())
            && now.scopes.manager == (round % 2 == 0)
            && now.scopes.abilities == [ability]
            && now.scopes.routes == [route]
            && now.extras.profile.as_deref() == Some(label.as_str());
        assert!(
            landed,
            "concurrent updates of different fields all land (round {round}), got {now:?}"
        );
    }
}

/// A rotation builds the replacement from the old token as the store holds
/// it, hands it the name, and revokes the old token or shortens it to the
/// grace end (never past its own expiry); lookups see both at once.
///
/// Steps: insert `old` (expires at t1000); look it up; rotate with grace
/// until t100 at t10; the replacement has the old one's owner, name,
/// scopes and expiry, and the new id and hash; the old one now expires at
/// t100 and names its successor; rotating it again is `Inactive`; rotate
/// the replacement without grace at t20: it is revoked at t20, and its own
/// replacement holds the name.
pub async fn rotate_revokes_or_keeps_a_grace_period(store: Arc<dyn ManageStore>) {
    let mut old = sample_record("alice", "laptop");
    old.expires_at = Some(at(1_000));
    old.scopes =
        Scopes { abilities: vec![Ability::new("deploy").expect("ability")], ..Scopes::default() };
    insert(&*store, &old).await;
    assert_seen(&*store, &old, "before a rotation, the old token", |found| {
        found.extras.replaced_by.is_none()
    })
    .await;
    let graceful = rotation(Some(at(100)), at(10), None);
    let replacement = store.rotate(old.id, graceful.clone()).await.expect("rotate");
    let expected = TokenRecord {
        id: graceful.new_id,
        hash: graceful.new_hash,
        display_prefix: graceful.new_display_prefix.clone(),
        created_at: at(10),
        created_by: Some(graceful.by.clone()),
        ..old.clone()
    };
    assert_eq!(
        replacement, expected,
        "the replacement copies the old token as stored, with the new id and hash"
    );
    assert_seen(&*store, &replacement, "the replacement is visible at once", |found| {
        *found == expected
    })
    .await;
    assert_seen(&*store, &old, "the old token gets the grace end at once", |found| {
        found.expires_at == Some(at(100))
            && found.extras.replaced_by == Some(replacement.id)
            && found.revoked_at.is_none()
            && found.extras.revoked_by.as_deref() == Some("admin")
            && found.extras.revoke_reason == Some(RevokeReason::RotationGrace)
    })
    .await;
    let twice = store.rotate(old.id, rotation(None, at(11), None)).await;
    assert!(
        matches!(twice, Err(RuleError::Refused(Refusal::Inactive))),
        "a rotated token cannot be rotated again, got {twice:?}"
    );

    let next = store.rotate(replacement.id, rotation(None, at(20), None)).await.expect("rotate");
    assert_seen(
        &*store,
        &replacement,
        "a rotation without grace revokes at once, saying who, why and by what",
        |found| {
            found.revoked_at == Some(at(20))
                && found.extras.revoked_by.as_deref() == Some("admin")
                && found.extras.revoke_reason == Some(RevokeReason::Rotated)
                && found.extras.replaced_by == Some(next.id)
        },
    )
    .await;
    assert!(
        get(&*store, &next.id).await.holds_name(at(20)),
        "the newest replacement holds the name"
    );
}

/// A rotation racing a change of the same token carries the change when
/// both succeed: the store copies the old token as it is inside its atomic
/// section, not as it was read before.
///
/// Steps, twenty rounds: insert a token; concurrently rotate it (no grace)
/// and set its routes; if the update succeeded before the rotation, the
/// replacement carries the routes; if it came after, it is refused with
/// `Inactive` (the old token is revoked).
pub async fn a_rotation_racing_a_change_carries_it(store: Arc<dyn ManageStore>) {
    for round in 0..20 {
        let record = sample_record("alice", &format!("race-{round}"));
        insert(&*store, &record).await;
        let routes = vec![Route::new(&format!("/r{round}"), Access::READ).expect("route")];
        let update = TokenUpdate { routes: Some(routes.clone()), ..TokenUpdate::default() };
        let (rotated, updated) = {
            let (rotating, updating) = (Arc::clone(&store), Arc::clone(&store));
            let rotation = rotation(None, t0(), None);
            let id = record.id;
            let rotate = tokio::spawn(async move { rotating.rotate(id, rotation).await });
            let update = tokio::spawn(async move { updating.update(id, &update, t0()).await });
            (rotate.await.expect("task"), update.await.expect("task"))
        };
        let replacement = rotated.expect("the rotation succeeds");
        match updated {
            Ok(_) => assert_eq!(
                replacement.scopes.routes, routes,
                "a change that landed before the rotation is carried over (round {round})"
            ),
            Err(RuleError::Refused(Refusal::Inactive)) => {}
            Err(other) => {
                panic!("an update racing a rotation either lands or is Inactive, got {other:?}")
            }
        }
    }
}

/// A store that answers [`changes`](crate::store::TokenStore::changes)
/// signals every change through it within a second: an insert, a change
/// of scopes, a consumed use, a rotation, a revoke and a delete. A store
/// that answers `None` has nothing to check here.
///
/// Steps: if the store answers a signal: insert a token with uses; after
/// each of update, consume a use, rotate, revoke the successor and delete
/// the old token, the signal has moved within a second.
pub async fn every_change_moves_the_signal(store: Arc<dyn ManageStore>) {
    let Some(mut signal) = store.changes() else { return };
    let mut record = sample_record("alice", "signalled");
    record.extras.usage = Some(Usage::new(5, t0()).expect("usage"));
    signal.borrow_and_update();
    insert(&*store, &record).await;
    moved(&mut signal, "an insert").await;
    let narrowed = TokenUpdate { abilities: Some(Vec::new()), ..TokenUpdate::default() };
    store.update(record.id, &narrowed, t0()).await.expect("update");
    moved(&mut signal, "a change of scopes").await;
    store.consume_use(record.id, t0()).await.expect("consume a use");
    moved(&mut signal, "a consumed use").await;
    let next = store.rotate(record.id, rotation(Some(at(100)), at(1), None)).await.expect("rotate");
    moved(&mut signal, "a rotation").await;
    store.revoke(next.id, &revocation(at(2))).await.expect("revoke");
    moved(&mut signal, "a revoke").await;
    assert!(store.delete(record.id).await.expect("delete"));
    moved(&mut signal, "a delete").await;
}

/// Whether `signal` moves within a second.
async fn moved(signal: &mut tokio::sync::watch::Receiver<u64>, what: &str) {
    let changed = tokio::time::timeout(std::time::Duration::from_secs(1), signal.changed()).await;
    assert!(matches!(changed, Ok(Ok(()))), "the signal moves after {what}");
}

/// A hard delete removes the row everywhere, at once, even right after a
/// lookup that found it.
///
/// Steps: insert; look it up; delete (true); `get` and `find_by_hash` find
/// nothing; deleting again answers false; the name is free again.
pub async fn delete_is_visible_at_once(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    assert_seen(&*store, &record, "before a delete, the record", |_| true).await;
    assert!(store.delete(record.id).await.expect("delete"), "delete says it existed");
    assert_gone(&*store, &record, "a delete is visible at once").await;
    assert!(
        !store.delete(record.id).await.expect("delete again"),
        "deleting a missing record answers false"
    );
    insert(&*store, &sample_record("alice", "laptop")).await;
}

/// Records with history import as they are; importing them again skips them.
///
/// Steps: import a revoked and a used manager record: 2 imported; the
/// store has held a token; the full list equals them; importing again
/// skips 2; importing, for another owner, one record with the first's hash,
/// one with the second's id and a fresh one imports the fresh one only.
pub async fn export_import_round_trip(store: Arc<dyn ManageStore>) {
    let mut revoked = sample_record("alice", "old");
    revoked.revoked_at = Some(at(50));
    revoked.last_used_at = Some(at(40));
    let mut used = sample_record("bob", "ci");
    used.created_at = at(1);
    used.last_used_at = Some(at(60));
    used.scopes = Scopes::manager();
    let records = vec![revoked, used];

    let report = store.import(records.clone(), rules(None)).await.expect("import");
    assert_eq!((report.imported, report.skipped), (2, 0), "an import writes new records");
    assert!(
        store.has_ever_held_token().await.expect("status"),
        "an import counts as having held a token"
    );
    let exported = store.list(&active_query(None, true)).await.expect("export");
    assert_eq!(exported, records, "an import keeps history exactly");
    let again = store.import(records.clone(), rules(None)).await.expect("import again");
    assert_eq!((again.imported, again.skipped), (0, 2), "an import skips records already present");
    let mut same_hash = sample_record("carol", "copy");
    same_hash.hash = records[0].hash;
    let mut same_id = sample_record("carol", "twin");
    same_id.id = records[1].id;
    let fresh = sample_record("carol", "fresh");
    let mixed = store
        .import(vec![same_hash, same_id, fresh.clone()], rules(None))
        .await
        .expect("import beside another owner's records");
    assert_eq!(
        (mixed.imported, mixed.skipped),
        (1, 2),
        "another owner's id or hash is skipped, the rest imported"
    );
    assert_eq!(get(&*store, &fresh.id).await, fresh);
    assert_eq!(get(&*store, &records[1].id).await, records[1], "the other owner's record stays");
}
