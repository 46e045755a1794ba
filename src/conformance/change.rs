//! The primitive's own checks: what [`ManageStore::change`] promises,
//! checked with plans written here, independent of any rule.

use std::sync::Arc;

use super::fixtures::{all_at_once, assert_gone, at, get, insert, random_hash, sample_record, t0};
use crate::record::TokenRecord;
use crate::store::{
    ActiveRecords, ChangeScope, Changes, LastUse, ManageStore, OwnerRecords, Refused, StoreError,
    Write,
};

/// The owner's active records at t0.
fn scope(owner: &str) -> ChangeScope {
    ChangeScope::new(owner, t0())
}

/// Runs a plan that reads, for the check to look at what it read.
async fn read_of(store: &dyn ManageStore, scope: &ChangeScope) -> OwnerRecords {
    let mut seen = None;
    store
        .change(scope, &mut |read| {
            seen = Some(read.clone());
            Ok(Changes::none())
        })
        .await
        .expect("a change that writes nothing");
    seen.expect("the store ran the plan")
}

/// Plain writes.
fn writes(_read: &OwnerRecords, writes: Vec<Write>) -> Result<Changes, Refused> {
    Ok(Changes::new(writes))
}

/// A change guarded by `only_if_never_held` is a claim: it commits only on
/// a store that never held a token, and once it commits, the store has
/// held one, whether it inserted a record or not.
///
/// Steps: a fresh store has never held a token; a guarded change that
/// writes nothing commits, and the store has now held one; the same
/// change again is `AlreadyClaimed`.
pub async fn a_guarded_change_is_a_claim(store: Arc<dyn ManageStore>) {
    assert!(!store.has_ever_held_token().await.expect("status"), "a fresh store held nothing");
    let claim = |_: &OwnerRecords| Ok(Changes { writes: Vec::new(), only_if_never_held: true });
    store.change(&scope("admin"), &mut claim.clone()).await.expect("the first claim");
    assert!(
        store.has_ever_held_token().await.expect("status"),
        "a committed claim marks the store, even one that inserts nothing"
    );
    let again = store.change(&scope("admin"), &mut claim.clone()).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyClaimed)),
        "a second claim is AlreadyClaimed, got {again:?}"
    );
}

/// A change reads what its scope covers, exactly as stored: the owner's
/// active records (rotated ones in their grace included) and those it
/// names by id or hash whatever their state; perhaps more of the owner's,
/// never another owner's.
///
/// Steps: store alice's active, revoked, expired and retired (in its
/// grace, with a last use) tokens and bob's; a change of alice at t0 reads
/// the active and the retired ones, each equal to what `get` answers, and
/// nothing of bob's; one reading the active records named `retired` reads
/// that one; one naming the revoked, active and retired ones by id and the
/// expired one by hash reads all four; a change of an owner without
/// tokens reads none.
pub async fn a_change_reads_what_its_scope_covers_and_no_other_owner(store: Arc<dyn ManageStore>) {
    let active = sample_record("alice", "active");
    let mut revoked = sample_record("alice", "revoked");
    revoked.revoked_at = Some(at(-1));
    let mut expired = sample_record("alice", "expired");
    expired.expires_at = Some(t0());
    let mut retired = sample_record("alice", "retired");
    retired.extras.replaced_by = Some(active.id);
    retired.expires_at = Some(at(100));
    retired.last_used_at = Some(at(2));
    let bobs = sample_record("bob", "bobs");
    for record in [&active, &revoked, &expired, &retired, &bobs] {
        store
            .change(&scope(&record.owner), &mut |read| {
                writes(read, vec![Write::Insert(record.clone())])
            })
            .await
            .expect("an insert");
    }
    let held = |read: &OwnerRecords, record: &TokenRecord| {
        read.records.iter().find(|read| read.id == record.id).cloned()
    };
    let now = read_of(&*store, &scope("alice")).await;
    assert_eq!(now.owner, "alice", "the read names its owner");
    for record in [&active, &retired] {
        assert_eq!(
            held(&now, record).as_ref(),
            Some(record),
            "a change reads the owner's active records (grace periods included), as stored"
        );
    }
    assert!(
        now.records.iter().all(|read| read.owner == "alice"),
        "a change never reads another owner's records"
    );
    let by_name = scope("alice").reading(ActiveRecords::Named(vec![retired.name.clone()]));
    let holding = read_of(&*store, &by_name).await;
    assert_eq!(
        held(&holding, &retired).as_ref(),
        Some(&retired),
        "a change reads the active records holding a name it names"
    );
    let named = scope("alice")
        .reading(ActiveRecords::Unread)
        .with_ids([revoked.id, active.id, retired.id])
        .with_hashes([expired.hash]);
    let all = read_of(&*store, &named).await;
    for record in [&active, &revoked, &expired, &retired] {
        assert_eq!(
            held(&all, record).as_ref(),
            Some(record),
            "a change reads the records it names, whatever their state"
        );
        assert_eq!(&get(&*store, &record.id).await, record, "the read agrees with get");
    }
    assert!(
        read_of(&*store, &scope("nobody")).await.records.is_empty(),
        "an owner without tokens reads none"
    );
}

/// A change commits all its writes or none: a plan's error, or one write
/// that cannot land, leaves the store as it was.
///
/// Steps: store alice's `first`; a plan that returns an error writes
/// nothing; a plan inserting a new record and then one with `first`'s hash
/// fails with `Duplicate`, and the new record is not stored either; a plan
/// replacing `first` and inserting a record with another owner's id fails
/// too, and `first` is unchanged.
pub async fn a_change_commits_all_its_writes_or_none(store: Arc<dyn ManageStore>) {
    let first = sample_record("alice", "first");
    insert(&*store, &first).await;
    let bobs = sample_record("bob", "bobs");
    insert(&*store, &bobs).await;

    let fresh = sample_record("alice", "fresh");
    let refused = store.change(&scope("alice"), &mut |_| Err(Refused)).await;
    assert!(
        matches!(refused, Err(StoreError::Refused)),
        "a plan's refusal is the change's, got {refused:?}"
    );

    let mut same_hash = sample_record("alice", "same hash");
    same_hash.hash = first.hash;
    let duplicate = store
        .change(&scope("alice"), &mut |read| {
            writes(read, vec![Write::Insert(fresh.clone()), Write::Insert(same_hash.clone())])
        })
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate)),
        "an insert of a stored hash fails the change with Duplicate, got {duplicate:?}"
    );
    assert!(
        store.get(&fresh.id).await.expect("get").is_none(),
        "a failed change writes none of its writes"
    );

    let mut changed = first.clone();
    changed.extras.description = Some("changed".to_owned());
    let mut bobs_id = sample_record("alice", "bobs id");
    bobs_id.id = bobs.id;
    let other_owner = store
        .change(&scope("alice"), &mut |read| {
            writes(read, vec![Write::Replace(changed.clone()), Write::Insert(bobs_id.clone())])
        })
        .await;
    assert!(
        matches!(other_owner, Err(StoreError::Duplicate)),
        "an insert of another owner's id fails the change with Duplicate, got {other_owner:?}"
    );
    assert_eq!(
        get(&*store, &first.id).await,
        first,
        "a failed change leaves what it would have replaced"
    );
    assert_eq!(get(&*store, &bobs.id).await, bobs, "and the other owner's record");
}

/// Changes of one owner never interleave: each plan reads what the change
/// before it committed.
///
/// Steps: store a token whose description counts from 0 and look it up
/// by hash; 50 changes released together each read the count and replace
/// the token with the count plus one; afterwards the count is 50 and a
/// lookup by hash sees it.
pub async fn changes_of_one_owner_never_interleave(store: Arc<dyn ManageStore>) {
    let mut counter = sample_record("alice", "counter");
    counter.extras.description = Some("0".to_owned());
    insert(&*store, &counter).await;
    store.find_by_hash(&counter.hash).await.expect("find_by_hash");
    let increments: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            let id = counter.id;
            async move {
                store
                    .change(&scope("alice"), &mut |read| {
                        let mut next = read.find(&id).expect("the counter is read").clone();
                        let count: u32 = next
                            .extras
                            .description
                            .as_deref()
                            .and_then(|text| text.parse().ok())
                            .expect("a count");
                        next.extras.description = Some((count + 1).to_string());
                        writes(read, vec![Write::Replace(next)])
                    })
                    .await
            }
        })
        .collect();
    for result in all_at_once(increments).await {
        result.expect("each increment commits");
    }
    let found =
        store.find_by_hash(&counter.hash).await.expect("find_by_hash").expect("the counter");
    assert_eq!(
        found.extras.description.as_deref(),
        Some("50"),
        "50 read-then-write changes of one owner, none lost"
    );
}

/// A replace writes every field but the last use, which only last-used
/// notes move; a delete removes the record; both are returned as
/// committed.
///
/// Steps: store a token; note its use at t20; replace it with a copy read
/// before the note (no last use) and a new description: the description
/// lands and the last use stays t20; the change returns its writes; replace
/// it with a copy claiming a use at t90: the last use stays t20; replace
/// a never-used token with a copy claiming a use at t5: it stays unused;
/// delete the first: `get` and `find_by_hash` find nothing; a replace of a
/// record not stored, or one that would give a record another hash or
/// owner, fails and writes nothing; a delete in alice's change of bob's
/// record leaves it; a delete of alice's unused token in a change that
/// read none of her records removes it.
pub async fn replace_keeps_the_last_use_and_delete_removes(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    store
        .record_last_used(&[LastUse { id: record.id, at: at(20) }])
        .await
        .expect("a last-used note");
    let mut stale = record.clone();
    stale.extras.description = Some("replaced".to_owned());
    let committed = store
        .change(&scope("alice"), &mut |read| writes(read, vec![Write::Replace(stale.clone())]))
        .await
        .expect("a replace");
    assert_eq!(
        committed.writes,
        vec![Write::Replace(stale.clone())],
        "a change returns what it committed"
    );
    let now = get(&*store, &record.id).await;
    assert_eq!(now.extras.description.as_deref(), Some("replaced"), "a replace lands");
    assert_eq!(now.last_used_at, Some(at(20)), "a replace keeps the stored last use");
    let mut later = stale.clone();
    later.last_used_at = Some(at(90));
    store
        .change(&scope("alice"), &mut |read| writes(read, vec![Write::Replace(later.clone())]))
        .await
        .expect("a replace with a later last use");
    let now = get(&*store, &record.id).await;
    assert_eq!(now.last_used_at, Some(at(20)), "a replace never moves the last use, even later");
    let unused = sample_record("alice", "unused");
    insert(&*store, &unused).await;
    let mut claimed_use = unused.clone();
    claimed_use.last_used_at = Some(at(5));
    store
        .change(&scope("alice"), &mut |read| {
            writes(read, vec![Write::Replace(claimed_use.clone())])
        })
        .await
        .expect("a replace with a last use where none is stored");
    let now = get(&*store, &unused.id).await;
    assert_eq!(now.last_used_at, None, "a replace never sets a last use where none is stored");

    store
        .change(&scope("alice"), &mut |read| writes(read, vec![Write::Delete(record.id)]))
        .await
        .expect("a delete");
    assert_gone(&*store, &record, "a delete removes the record").await;
    // A replace of what is not stored writes nothing.
    let ghost = sample_record("alice", "ghost");
    let mut missing = ghost.clone();
    missing.hash = random_hash();
    let replaced = store
        .change(&scope("alice"), &mut |read| writes(read, vec![Write::Replace(missing.clone())]))
        .await;
    assert!(replaced.is_err(), "a replace of a record not stored fails, got {replaced:?}");
    assert!(store.get(&ghost.id).await.expect("get").is_none(), "and writes nothing");
    // A delete removes the owner's record only.
    let bobs = sample_record("bob", "laptop");
    insert(&*store, &bobs).await;
    store
        .change(&scope("alice"), &mut |read| writes(read, vec![Write::Delete(bobs.id)]))
        .await
        .expect("a delete naming another owner's record");
    assert!(store.get(&bobs.id).await.expect("get").is_some(), "another owner's record stays");
    // A replace finds its record by id, owner and hash: one that would move
    // a record to another hash or owner is a plan's mistake.
    for moved in [
        TokenRecord { hash: random_hash(), ..unused.clone() },
        TokenRecord { owner: "bob".to_owned(), ..unused.clone() },
    ] {
        let replaced = store
            .change(&scope("alice"), &mut |read| writes(read, vec![Write::Replace(moved.clone())]))
            .await;
        assert!(replaced.is_err(), "a replace that moves a record fails, got {replaced:?}");
        let found = store.find_by_hash(&unused.hash).await.expect("find_by_hash");
        assert_eq!(found.as_deref(), Some(&unused), "and writes nothing");
    }
    // A delete needs no read: the owner's record goes whether the change
    // read it or not.
    let unread = scope("alice").reading(ActiveRecords::Unread);
    store
        .change(&unread, &mut |read| writes(read, vec![Write::Delete(unused.id)]))
        .await
        .expect("a delete of a record the change did not read");
    assert_gone(&*store, &unused, "a delete of an unread record removes it").await;
}
