//! The checks across instances: two handles on the same data, as two
//! instances of a service open them. What one writes, the other reads, and
//! the store's atomicity holds between them, not only inside one handle.

use std::sync::Arc;
use std::time::{Duration as Wait, Instant};

use super::fixtures::{
    active_query, all_at_once, at, get, insert, revocation, rotation, rules, sample_record,
    successes, t0,
};
use crate::record::{TokenName, TokenRecord, Usage};
use crate::rules::{Refusal, RuleError, TokenRules as _, TokenUpdate};
use crate::store::{LastUse, ManageStore, StoreError};

/// How long a lookup by hash through one instance may go on answering what
/// another instance changed: the time a cache in front of the store takes
/// to hear of the change. Every other read sees it at once.
pub const SEEN_WITHIN: Wait = Wait::from_secs(1);

/// Two handles on one store's data, as two instances of a service hold
/// them (two connection pools on one database, two clients of one Redis):
/// what the checks across instances run on.
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::conformance::Instances;
/// use tokenkeep::store::MemoryStore;
/// // An in-process store has one instance: its handle serves as both.
/// let instances = Instances::alone(Arc::new(MemoryStore::new()));
/// # let _ = instances;
/// ```
#[derive(Clone)]
pub struct Instances {
    pub(super) one: Arc<dyn ManageStore>,
    pub(super) other: Arc<dyn ManageStore>,
}

impl Instances {
    /// `one` and `other`, two handles on the same data.
    pub fn new(one: Arc<dyn ManageStore>, other: Arc<dyn ManageStore>) -> Self {
        Self { one, other }
    }

    /// One handle serving as both: for a store whose data lives in the
    /// handle (an in-process store), which only one instance can hold.
    pub fn alone(store: Arc<dyn ManageStore>) -> Self {
        Self { other: Arc::clone(&store), one: store }
    }

    /// The handle of the `index`th call when calls take turns.
    pub(super) fn by_turns(&self, index: usize) -> Arc<dyn ManageStore> {
        Arc::clone(if index.is_multiple_of(2) { &self.one } else { &self.other })
    }
}

/// Looks `record` up by hash through `store` until `holds` is true of the
/// answer, for at most [`SEEN_WITHIN`].
async fn seen_within(
    store: &dyn ManageStore,
    record: &TokenRecord,
    contract: &str,
    holds: impl Fn(Option<&TokenRecord>) -> bool,
) {
    let started = Instant::now();
    loop {
        let found = store.find_by_hash(&record.hash).await.expect("find_by_hash");
        if holds(found.as_deref()) {
            return;
        }
        assert!(
            started.elapsed() < SEEN_WITHIN,
            "{contract}: after {SEEN_WITHIN:?}, the other instance's find_by_hash still answers {found:?}"
        );
        tokio::time::sleep(Wait::from_millis(5)).await;
    }
}

/// Every kind of change made through one instance is seen through the
/// other: at once by `get`, `list` and `list_expiring`, and by
/// `find_by_hash` within [`SEEN_WITHIN`], even right after a lookup there
/// that found the token as it was (a cache that hears only its own
/// instance's changes fails here).
///
/// Steps: insert `a` (expiring at t1000) through one; through the other,
/// `get`, the owner's list, the list expiring before t2000 and a lookup
/// find it. Change its description through one: the other's `get` and
/// lookup show it. Revoke it through one at t5: the other's lookup shows
/// it revoked and its active list leaves it out. Insert `b` through the
/// other, look it up through one, rotate it through the other at t10 with
/// grace until t100: through one, `b` is replaced and expiring at t100,
/// and its successor is found. Delete `a` through the other: through one,
/// `get` and the lookup find nothing.
pub async fn a_change_through_one_instance_is_seen_through_the_other(instances: Instances) {
    let (one, other) = (&*instances.one, &*instances.other);
    let mut a = sample_record("alice", "a");
    a.expires_at = Some(at(1_000));
    insert(one, &a).await;
    assert_eq!(get(other, &a.id).await, a, "an insert is seen through the other instance");
    let listed = other.list(&active_query(Some("alice"), false)).await.expect("list");
    assert!(listed.iter().any(|record| record.id == a.id), "an insert is listed by the other");
    let expiring = other.list_expiring(t0(), at(2_000)).await.expect("list_expiring");
    assert!(expiring.iter().any(|record| record.id == a.id), "and listed as expiring");
    seen_within(other, &a, "an insert", |found| found.is_some_and(|found| found.id == a.id)).await;

    let described = TokenUpdate { description: Some(Some("moved".into())), ..Default::default() };
    one.update(a.id, &described, at(1)).await.expect("update");
    let moved = |found: Option<&TokenRecord>| {
        found.is_some_and(|found| found.extras.description.as_deref() == Some("moved"))
    };
    assert!(moved(Some(&get(other, &a.id).await)), "a change is seen by the other's get");
    seen_within(other, &a, "a change of the description", moved).await;

    one.revoke(a.id, &revocation(at(5))).await.expect("revoke");
    seen_within(other, &a, "a revoke", |found| {
        found.is_some_and(|found| found.revoked_at == Some(at(5)))
    })
    .await;
    let active = other.list(&active_query(Some("alice"), false)).await.expect("list");
    assert!(active.iter().all(|record| record.id != a.id), "a revoked token is listed as active");

    let b = sample_record("alice", "b");
    insert(other, &b).await;
    seen_within(one, &b, "an insert through the other", |found| found.is_some()).await;
    let next = other.rotate(b.id, rotation(Some(at(100)), at(10), None)).await.expect("rotate");
    seen_within(one, &b, "a rotation", |found| {
        found.is_some_and(|found| {
            found.extras.replaced_by == Some(next.id) && found.expires_at == Some(at(100))
        })
    })
    .await;
    seen_within(one, &next, "a rotation's successor", |found| found.is_some()).await;
    let expiring = one.list_expiring(at(10), at(500)).await.expect("list_expiring");
    assert!(
        expiring.iter().any(|record| record.id == b.id),
        "a rotation's grace through one instance is listed as expiring by the other"
    );

    assert!(other.delete(a.id).await.expect("delete"), "the delete finds the record");
    assert!(one.get(&a.id).await.expect("get").is_none(), "a delete is seen by the other's get");
    seen_within(one, &a, "a delete", |found| found.is_none()).await;
}

/// Names and caps hold across instances: a change through one instance
/// reads what the other wrote, and changes of one owner through both
/// never interleave.
///
/// Steps: insert alice's `laptop` through one; `laptop` through the other
/// is `NameTaken`. Rename it `desk` through the other: a new `laptop`
/// through one is taken in, a new `desk` is `NameTaken`. With a cap of 3,
/// `phone` through the other is taken in and `tablet` through one is
/// `LimitReached`. Then 20 concurrent inserts of bob's `ci`, taking turns
/// between the instances: exactly one wins; 20 concurrent inserts for
/// carol under a cap of 5, taking turns: exactly 5 win.
pub async fn names_and_caps_hold_across_instances(instances: Instances) {
    let (one, other) = (&*instances.one, &*instances.other);
    let name_taken = |result: Result<(), RuleError>| {
        matches!(result, Err(RuleError::Refused(Refusal::NameTaken)))
    };
    let laptop = sample_record("alice", "laptop");
    insert(one, &laptop).await;
    let again = other.insert(sample_record("alice", "laptop"), rules(None)).await;
    assert!(name_taken(again), "a name taken through one instance is taken through the other");
    let desk =
        TokenUpdate { name: Some(TokenName::new("desk").expect("name")), ..Default::default() };
    other.update(laptop.id, &desk, t0()).await.expect("rename");
    insert(one, &sample_record("alice", "laptop")).await;
    let desk_again = one.insert(sample_record("alice", "desk"), rules(None)).await;
    assert!(name_taken(desk_again), "a rename through the other instance takes the name");
    other.insert(sample_record("alice", "phone"), rules(Some(3))).await.expect("the third token");
    let fourth = one.insert(sample_record("alice", "tablet"), rules(Some(3))).await;
    assert!(
        matches!(fourth, Err(RuleError::Refused(Refusal::LimitReached { .. }))),
        "the cap counts the tokens inserted through both instances, got {fourth:?}"
    );

    let same_name = (0..20)
        .map(|index| {
            let store = instances.by_turns(index);
            async move { store.insert(sample_record("bob", "ci"), rules(None)).await }
        })
        .collect();
    let won = successes(same_name, |error| matches!(error, RuleError::Refused(Refusal::NameTaken)));
    assert_eq!(won.await, 1, "one name wins among concurrent inserts through two instances");
    let capped = (0..20)
        .map(|index| {
            let store = instances.by_turns(index);
            let record = sample_record("carol", &format!("t{index}"));
            async move { store.insert(record, rules(Some(5))).await }
        })
        .collect();
    let limited =
        |error: &RuleError| matches!(error, RuleError::Refused(Refusal::LimitReached { .. }));
    assert_eq!(successes(capped, limited).await, 5, "a cap holds across two instances");
}

/// The setup claim has one winner whoever claims, through whichever
/// instance: the marker that the store has held a token is read inside
/// the claim's atomic section, not per owner or per instance.
///
/// Steps: 50 concurrent claims, each for an owner of its own, taking turns
/// between the instances: exactly one wins and one record is written;
/// both instances say the store has held a token, and a claim through
/// either is `AlreadyClaimed`.
pub async fn the_setup_claim_has_one_winner_across_instances_and_owners(instances: Instances) {
    let already = |error: &RuleError| matches!(error, RuleError::Store(StoreError::AlreadyClaimed));
    let claims = (0..50)
        .map(|index| {
            let store = instances.by_turns(index);
            let record = sample_record(&format!("admin-{index}"), "admin");
            async move { store.claim_setup(record).await }
        })
        .collect();
    assert_eq!(successes(claims, already).await, 1, "exactly one of 50 claims wins");
    let all = instances.one.list(&active_query(None, true)).await.expect("list");
    assert_eq!(all.len(), 1, "only the winning claim writes a record: {all:?}");
    for (store, which) in [(&instances.one, "one"), (&instances.other, "the other")] {
        assert!(store.has_ever_held_token().await.expect("status"), "{which} says never held");
        let late = store.claim_setup(sample_record("late", "admin")).await;
        assert!(
            late.as_ref().is_err_and(already),
            "a claim through {which} instance after the winner is AlreadyClaimed, got {late:?}"
        );
    }
}

/// Uses are consumed exactly when the calls come through two instances.
///
/// Steps: insert a token with 10 uses; 50 concurrent consuming calls,
/// taking turns between the instances: exactly 10 answer `Some`; both
/// instances read 0 left.
pub async fn uses_are_consumed_exactly_across_instances(instances: Instances) {
    let mut limited = sample_record("alice", "limited");
    limited.extras.usage = Some(Usage::new(10, t0()).expect("usage"));
    insert(&*instances.one, &limited).await;
    let calls: Vec<_> = (0..50)
        .map(|index| {
            let store = instances.by_turns(index);
            async move { store.consume_use(limited.id, at(1)).await }
        })
        .collect();
    let answers = all_at_once(calls).await;
    let consumed = answers.iter().filter(|answer| matches!(answer, Ok(Some(_)))).count();
    assert_eq!(consumed, 10, "exactly the uses left succeed across instances: {answers:?}");
    for store in [&instances.one, &instances.other] {
        let left = get(&**store, &limited.id).await.extras.usage.map(|usage| usage.remaining);
        assert_eq!(left, Some(0), "both instances read the count");
    }
}

/// A last-use note through either instance changes the last use and
/// nothing else, whatever changes race it through either: updates,
/// rotations and revokes are never undone.
///
/// Steps: six rounds of: insert a token; note its use at t1 to t8, taking
/// turns between the instances; once the first note is seen, change its
/// description through the other, rotate it through one at t4 (grace
/// until t100) and revoke it through the other at t4; then the token is
/// revoked at t4, replaced by its successor, expiring at t100, with the
/// new description, and its last use is one of the notes.
pub async fn a_last_use_note_never_undoes_a_change_on_another_instance(instances: Instances) {
    for round in 0..6 {
        let record = sample_record("alice", &format!("noted-{round}"));
        insert(&*instances.one, &record).await;
        let id = record.id;
        let notes = tokio::spawn({
            let instances = instances.clone();
            async move {
                for seconds in 1..=8 {
                    let store = instances.by_turns(seconds as usize);
                    store.record_last_used(&[LastUse { id, at: at(seconds) }]).await?;
                    tokio::task::yield_now().await;
                }
                Ok::<(), StoreError>(())
            }
        });
        let started = Instant::now();
        while get(&*instances.one, &id).await.last_used_at.is_none() {
            assert!(started.elapsed().as_secs() < 5, "a last-use note was never written");
            tokio::task::yield_now().await;
        }
        let described =
            TokenUpdate { description: Some(Some("moved".into())), ..Default::default() };
        instances.other.update(id, &described, at(4)).await.expect("update");
        let grace = rotation(Some(at(100)), at(4), None);
        let next = instances.one.rotate(id, grace).await.expect("rotate");
        instances.other.revoke(id, &revocation(at(4))).await.expect("revoke");
        notes.await.expect("the notes' task").expect("note");
        let stored = get(&*instances.one, &id).await;
        assert_eq!(
            (
                stored.revoked_at,
                stored.extras.replaced_by,
                stored.expires_at,
                stored.extras.description.as_deref()
            ),
            (Some(at(4)), Some(next.id), Some(at(100)), Some("moved")),
            "a last-use note undid a change made through another instance (round {round})"
        );
        assert!(stored.last_used_at.is_some_and(|used| used >= at(1) && used <= at(8)));
    }
}

/// Every instance that answers a [`changes`](crate::store::TokenStore::changes)
/// signal hears every change to a token, through whichever instance,
/// within a second: a long-lived connection is told of a revoke made
/// elsewhere. Instances answering `None` have nothing to check here.
///
/// Steps: insert a token with uses; change its scopes through one, consume
/// a use through the other, rotate it through one, revoke the successor
/// through the other and delete the token through one; after each, every
/// signal has moved within a second.
pub async fn every_instance_hears_every_change(instances: Instances) {
    let mut signals: Vec<_> = [&instances.one, &instances.other]
        .into_iter()
        .filter_map(|store| store.changes())
        .collect();
    if signals.is_empty() {
        return;
    }
    let mut record = sample_record("alice", "signalled");
    record.extras.usage = Some(Usage::new(5, t0()).expect("usage"));
    insert(&*instances.one, &record).await;
    // The insert's own signal, which may reach the other instance late, is
    // not taken for the next change's.
    tokio::time::sleep(Wait::from_millis(200)).await;
    for signal in &mut signals {
        signal.borrow_and_update();
    }
    let narrowed = TokenUpdate { abilities: Some(Vec::new()), ..Default::default() };
    instances.one.update(record.id, &narrowed, t0()).await.expect("update");
    heard(&mut signals, "a change of scopes").await;
    instances.other.consume_use(record.id, t0()).await.expect("consume a use");
    heard(&mut signals, "a consumed use").await;
    let next = instances.one.rotate(record.id, rotation(Some(at(100)), at(1), None)).await;
    let next = next.expect("rotate");
    heard(&mut signals, "a rotation").await;
    instances.other.revoke(next.id, &revocation(at(2))).await.expect("revoke");
    heard(&mut signals, "a revoke").await;
    assert!(instances.one.delete(record.id).await.expect("delete"));
    heard(&mut signals, "a delete").await;
}

/// Whether every one of `signals` moves within a second.
async fn heard(signals: &mut [tokio::sync::watch::Receiver<u64>], what: &str) {
    for (which, signal) in signals.iter_mut().enumerate() {
        let changed = tokio::time::timeout(Wait::from_secs(1), signal.changed()).await;
        assert!(matches!(changed, Ok(Ok(()))), "signal {which} moves after {what}");
        signal.borrow_and_update();
    }
}
