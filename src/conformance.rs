//! The public conformance suite for [`TokenStore`](crate::store::TokenStore) and
//! [`ManageStore`] implementations.
//!
//! Each check is an async function over a fresh, empty store; it panics
//! with a message naming the broken contract. The
//! [`store_conformance_tests!`](crate::store_conformance_tests) macro turns
//! all of them into one `#[tokio::test]` each for a store constructor:
//!
//! ```ignore
//! // In your crate's tests (needs tokio with `macros` and `rt-multi-thread`):
//! async fn my_store() -> MyStore {
//!     MyStore::connect_to_a_fresh_schema().await
//! }
//! tokenkeep::store_conformance_tests!(my_store);
//! ```
//!
//! Every backend in this crate runs it, and so does the custom store in
//! `examples/custom_store.rs`.
//!
//! [`compare_with_floor`] times your store's verification path against the
//! hardware floor, for a first look at its speed.

mod floor;

use std::sync::Arc;

use futures_util::future::join_all;
use time::{Duration, OffsetDateTime};

use crate::hash::{TokenHash, TokenHasher};
use crate::record::{TokenId, TokenKind, TokenName, TokenRecord};
use crate::scope::{Ability, Access, Route, Scopes};
use crate::store::StoreError;
use crate::store::{InsertRules, LastUse, ListQuery, ManageStore, Rotation, TokenUpdate};

pub use floor::{FloorComparison, compare_with_floor};

/// Turns every conformance check into a `#[tokio::test]` for the store that
/// `$make_store().await` returns (a fresh, empty store per test).
///
/// With `maybe:`, `$make_store().await` returns an `Option`: `None` skips
/// the test (for a database that is not available; say why on stderr).
#[macro_export]
macro_rules! store_conformance_tests {
    (maybe: $make_store:path) => {
        $crate::store_conformance_tests!(@list maybe $make_store);
    };
    ($make_store:path) => {
        $crate::store_conformance_tests!(@list always $make_store);
    };
    (@list $mode:ident $make_store:path) => {
        $crate::store_conformance_tests!(@each $mode $make_store;
            insert_then_find_by_hash,
            unknown_hash_and_id_find_nothing,
            an_immediate_answer_agrees_with_find_by_hash,
            records_round_trip_every_field,
            duplicate_id_or_hash_is_refused,
            names_are_unique_among_an_owners_active_tokens,
            cap_counts_only_active_tokens,
            cap_holds_under_50_concurrent_inserts,
            one_name_wins_among_concurrent_inserts,
            revoke_is_visible_at_once,
            revoke_owner_touches_only_that_owner,
            last_used_only_moves_forward,
            setup_claim_succeeds_once,
            setup_claim_has_one_winner_among_50,
            setup_claim_refused_once_any_token_was_held,
            update_changes_fields_and_keeps_names_unique,
            rotate_revokes_or_keeps_a_grace_period,
            delete_removes_the_record,
            list_filters_by_owner_and_activity,
            export_import_round_trip,
        );
    };
    (@each $mode:ident $make_store:path; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(store) = $crate::store_conformance_tests!(@make $mode $make_store) else {
                    return;
                };
                $crate::conformance::$check(::std::sync::Arc::new(store)).await;
            }
        )*
    };
    (@make always $make_store:path) => {
        ::core::option::Option::Some($make_store().await)
    };
    (@make maybe $make_store:path) => {
        $make_store().await
    };
}

/// 2026-01-01T00:00:00Z, the instant the checks are set at.
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn at(seconds: i64) -> OffsetDateTime {
    t0() + Duration::seconds(seconds)
}

/// A fresh persistent record for `owner` named `name`, created at t0.
pub fn sample_record(owner: &str, name: &str) -> TokenRecord {
    let id = TokenId::random().expect("randomness");
    TokenRecord {
        id,
        owner: owner.to_owned(),
        name: TokenName::new(name).expect("a valid test name"),
        description: None,
        hash: random_hash(),
        display_prefix: "ct_abcdef".to_owned(),
        scopes: Scopes::default(),
        profile: None,
        kind: TokenKind::Persistent,
        created_at: t0(),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        replaced_by: None,
    }
}

fn random_hash() -> TokenHash {
    let seed = TokenId::random().expect("randomness").to_string();
    TokenHasher::sha256().hash(&seed)
}

fn rules(cap: Option<usize>) -> InsertRules {
    InsertRules {
        now: t0(),
        max_active_per_owner: cap,
    }
}

async fn insert(store: &dyn ManageStore, record: &TokenRecord) {
    store
        .insert(record.clone(), rules(None))
        .await
        .expect("insert of a fresh record");
}

async fn get(store: &dyn ManageStore, id: &TokenId) -> TokenRecord {
    store
        .get(id)
        .await
        .expect("get")
        .expect("the record exists")
}

/// Runs `attempts` to completion and counts the successes; any error other
/// than the `expected` refusal fails the check.
async fn successes<F>(attempts: Vec<F>, expected: fn(&StoreError) -> bool) -> usize
where
    F: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = attempts.into_iter().map(tokio::spawn).collect();
    let mut succeeded = 0;
    for result in join_all(tasks).await {
        match result.expect("task") {
            Ok(()) => succeeded += 1,
            Err(error) if expected(&error) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    succeeded
}

fn active_query(owner: Option<&str>, include_inactive: bool) -> ListQuery {
    ListQuery {
        owner: owner.map(str::to_owned),
        include_inactive,
        now: t0(),
    }
}

/// An inserted record is found by its hash and by its id, unchanged.
pub async fn insert_then_find_by_hash(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    let found = store
        .find_by_hash(&record.hash)
        .await
        .expect("find_by_hash");
    assert_eq!(
        found.as_deref(),
        Some(&record),
        "find_by_hash returns the record"
    );
    assert_eq!(
        get(&*store, &record.id).await,
        record,
        "get returns the record"
    );
}

/// A hash or id never inserted finds nothing (and is not an error).
pub async fn unknown_hash_and_id_find_nothing(store: Arc<dyn ManageStore>) {
    insert(&*store, &sample_record("alice", "laptop")).await;
    assert!(
        store
            .find_by_hash(&random_hash())
            .await
            .expect("find")
            .is_none()
    );
    let id = TokenId::random().expect("randomness");
    assert!(store.get(&id).await.expect("get").is_none());
}

/// A store that answers `find_by_hash_now` gives `find_by_hash`'s answer.
pub async fn an_immediate_answer_agrees_with_find_by_hash(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    for hash in [record.hash, random_hash()] {
        let awaited = store.find_by_hash(&hash).await.expect("find_by_hash");
        if let Some(now) = store.find_by_hash_now(&hash) {
            assert_eq!(
                now.expect("find_by_hash_now"),
                awaited,
                "the two lookups disagree"
            );
        }
    }
}

/// Every field comes back exactly as written, instants to the millisecond.
pub async fn records_round_trip_every_field(store: Arc<dyn ManageStore>) {
    let mut record = sample_record("svc:deployer", "ci \u{1F680} runner");
    record.description = Some("line one\nline two".to_owned());
    record.profile = Some("staging".to_owned());
    record.scopes = Scopes {
        manager: true,
        abilities: vec![Ability::new("deploy").expect("ability")],
        routes: vec![
            Route::new("/releases", Access::READ_WRITE).expect("route"),
            Route::new("/docs/caf\u{e9}", Access::READ).expect("route"),
        ],
    };
    record.created_at = t0() + Duration::milliseconds(123);
    record.expires_at = Some(t0() + Duration::days(90) + Duration::milliseconds(7));
    insert(&*store, &record).await;
    assert_eq!(get(&*store, &record.id).await, record);
}

/// A second record with an existing id or hash is refused as a duplicate.
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
            matches!(result, Err(StoreError::Duplicate)),
            "got {result:?}"
        );
    }
}

/// Names are unique among one owner's active tokens; other owners, revoked
/// and expired tokens do not block a name.
pub async fn names_are_unique_among_an_owners_active_tokens(store: Arc<dyn ManageStore>) {
    let laptop = sample_record("alice", "laptop");
    insert(&*store, &laptop).await;
    let again = store
        .insert(sample_record("alice", "laptop"), rules(None))
        .await;
    assert!(matches!(again, Err(StoreError::NameTaken)), "got {again:?}");
    insert(&*store, &sample_record("bob", "laptop")).await;

    store.revoke(&laptop.id, at(1)).await.expect("revoke");
    insert(&*store, &sample_record("alice", "laptop")).await;

    let mut expired = sample_record("carol", "ci");
    expired.expires_at = Some(t0());
    insert(&*store, &expired).await;
    insert(&*store, &sample_record("carol", "ci")).await;
}

/// The cap counts active tokens only and removes nothing to make room.
pub async fn cap_counts_only_active_tokens(store: Arc<dyn ManageStore>) {
    let mut records = Vec::new();
    for index in 0..3 {
        let record = sample_record("alice", &format!("token-{index}"));
        store
            .insert(record.clone(), rules(Some(3)))
            .await
            .expect("under the cap");
        records.push(record);
    }
    let fourth = store
        .insert(sample_record("alice", "four"), rules(Some(3)))
        .await;
    assert!(
        matches!(fourth, Err(StoreError::LimitReached { limit: 3 })),
        "got {fourth:?}"
    );
    for record in &records {
        assert!(
            get(&*store, &record.id).await.revoked_at.is_none(),
            "nothing made room"
        );
    }
    store.revoke(&records[0].id, at(1)).await.expect("revoke");
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

/// Of 50 concurrent inserts for one owner with a cap of 10, exactly 10 succeed.
pub async fn cap_holds_under_50_concurrent_inserts(store: Arc<dyn ManageStore>) {
    let attempts = (0..50)
        .map(|index| {
            let store = Arc::clone(&store);
            let record = sample_record("alice", &format!("t{index}"));
            async move { store.insert(record, rules(Some(10))).await }
        })
        .collect();
    let succeeded = successes(attempts, |error| {
        matches!(error, StoreError::LimitReached { limit: 10 })
    })
    .await;
    assert_eq!(succeeded, 10, "exactly the cap succeeds");
    let listed = store
        .list(&active_query(Some("alice"), false))
        .await
        .expect("list");
    assert_eq!(listed.len(), 10);
}

/// Of 20 concurrent inserts of one name for one owner, exactly one succeeds.
pub async fn one_name_wins_among_concurrent_inserts(store: Arc<dyn ManageStore>) {
    let attempts = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            async move {
                store
                    .insert(sample_record("alice", "laptop"), rules(None))
                    .await
            }
        })
        .collect();
    let succeeded = successes(attempts, |error| matches!(error, StoreError::NameTaken)).await;
    assert_eq!(succeeded, 1);
}

/// A revoke is seen by the next lookup; revoking again changes nothing; the
/// row stays for the audit trail.
pub async fn revoke_is_visible_at_once(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    let revoked = store.revoke(&record.id, at(5)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at(5)));
    let found = store
        .find_by_hash(&record.hash)
        .await
        .expect("find")
        .expect("row kept");
    assert_eq!(found.revoked_at, Some(at(5)), "visible at once");
    let again = store.revoke(&record.id, at(9)).await.expect("revoke again");
    assert_eq!(again.revoked_at, Some(at(5)), "the first revocation stands");
    let missing = store
        .revoke(&TokenId::random().expect("randomness"), at(9))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "got {missing:?}"
    );
}

/// Revoking an owner's tokens revokes the active ones of that owner only.
pub async fn revoke_owner_touches_only_that_owner(store: Arc<dyn ManageStore>) {
    let alice: Vec<TokenRecord> = (0..3)
        .map(|index| sample_record("alice", &format!("a{index}")))
        .collect();
    let bob = sample_record("bob", "b");
    for record in alice.iter().chain([&bob]) {
        insert(&*store, record).await;
    }
    store.revoke(&alice[0].id, at(1)).await.expect("revoke");
    let count = store
        .revoke_owner("alice", at(2))
        .await
        .expect("revoke_owner");
    assert_eq!(count, 2, "only the active ones count");
    assert_eq!(get(&*store, &alice[0].id).await.revoked_at, Some(at(1)));
    assert_eq!(get(&*store, &alice[2].id).await.revoked_at, Some(at(2)));
    assert!(get(&*store, &bob.id).await.revoked_at.is_none());
    assert_eq!(
        store
            .revoke_owner("nobody", at(3))
            .await
            .expect("revoke_owner"),
        0
    );
}

/// Last-used notes only ever move the time forward; unknown ids are ignored.
pub async fn last_used_only_moves_forward(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    let note = |seconds| LastUse {
        id: record.id,
        at: at(seconds),
    };
    let stranger = LastUse {
        id: TokenId::random().expect("randomness"),
        at: at(1),
    };
    store
        .record_last_used(&[note(20), stranger])
        .await
        .expect("batch");
    assert_eq!(get(&*store, &record.id).await.last_used_at, Some(at(20)));
    store.record_last_used(&[note(10)]).await.expect("batch");
    assert_eq!(
        get(&*store, &record.id).await.last_used_at,
        Some(at(20)),
        "never backwards"
    );
    store
        .record_last_used(&[note(30), note(25)])
        .await
        .expect("batch");
    assert_eq!(get(&*store, &record.id).await.last_used_at, Some(at(30)));
}

/// A fresh store can be claimed once.
pub async fn setup_claim_succeeds_once(store: Arc<dyn ManageStore>) {
    assert!(
        !store.has_ever_held_token().await.expect("status"),
        "a fresh store"
    );
    let first = sample_record("admin", "admin");
    store
        .claim_setup(first.clone())
        .await
        .expect("the first claim");
    assert!(store.has_ever_held_token().await.expect("status"));
    assert_eq!(get(&*store, &first.id).await, first);
    let second = store.claim_setup(sample_record("admin", "other")).await;
    assert!(
        matches!(second, Err(StoreError::AlreadyClaimed)),
        "got {second:?}"
    );
}

/// Of 50 concurrent claims, exactly one wins and one record is written.
pub async fn setup_claim_has_one_winner_among_50(store: Arc<dyn ManageStore>) {
    let attempts = (0..50)
        .map(|index| {
            let store = Arc::clone(&store);
            let record = sample_record("admin", &format!("c{index}"));
            async move { store.claim_setup(record).await }
        })
        .collect();
    let winners = successes(attempts, |error| {
        matches!(error, StoreError::AlreadyClaimed)
    })
    .await;
    assert_eq!(winners, 1);
    let all = store.list(&active_query(None, true)).await.expect("list");
    assert_eq!(all.len(), 1);
}

/// Once a store has held a token, revoked or deleted since, it stays claimed.
pub async fn setup_claim_refused_once_any_token_was_held(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    store.revoke(&record.id, at(1)).await.expect("revoke");
    assert!(store.delete(&record.id).await.expect("delete"));
    assert!(store.has_ever_held_token().await.expect("status"));
    let claim = store.claim_setup(sample_record("admin", "admin")).await;
    assert!(
        matches!(claim, Err(StoreError::AlreadyClaimed)),
        "got {claim:?}"
    );
}

/// Updates apply at once; a new name must be free; only active tokens change.
pub async fn update_changes_fields_and_keeps_names_unique(store: Arc<dyn ManageStore>) {
    let laptop = sample_record("alice", "laptop");
    let phone = sample_record("alice", "phone");
    insert(&*store, &laptop).await;
    insert(&*store, &phone).await;
    let scopes = Scopes {
        routes: vec![Route::new("/releases", Access::READ).expect("route")],
        ..Scopes::default()
    };
    let update = TokenUpdate {
        name: Some(TokenName::new("work laptop").expect("name")),
        description: Some(Some("the work one".to_owned())),
        scopes: Some(scopes.clone()),
        profile: Some(Some("prod".to_owned())),
    };
    let changed = store
        .update(&laptop.id, &update, t0())
        .await
        .expect("update");
    let found = store
        .find_by_hash(&laptop.hash)
        .await
        .expect("find")
        .expect("row");
    assert_eq!(*found, changed, "visible at once");
    assert_eq!(changed.name.as_str(), "work laptop");
    assert_eq!(changed.scopes, scopes);
    assert_eq!(changed.description.as_deref(), Some("the work one"));
    assert_eq!(changed.profile.as_deref(), Some("prod"));

    let clear = TokenUpdate {
        description: Some(None),
        ..TokenUpdate::default()
    };
    let cleared = store
        .update(&laptop.id, &clear, t0())
        .await
        .expect("update");
    assert_eq!(cleared.description, None);
    assert_eq!(
        cleared.name.as_str(),
        "work laptop",
        "untouched fields stay"
    );

    let take_phone = TokenUpdate {
        name: Some(TokenName::new("phone").expect("name")),
        ..TokenUpdate::default()
    };
    let taken = store.update(&laptop.id, &take_phone, t0()).await;
    assert!(matches!(taken, Err(StoreError::NameTaken)), "got {taken:?}");
    store
        .update(&phone.id, &take_phone, t0())
        .await
        .expect("keeping its own name is no conflict");

    store.revoke(&phone.id, at(1)).await.expect("revoke");
    let inactive = store.update(&phone.id, &clear, at(2)).await;
    assert!(
        matches!(inactive, Err(StoreError::Inactive)),
        "got {inactive:?}"
    );
    let missing = store
        .update(&TokenId::random().expect("randomness"), &clear, t0())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "got {missing:?}"
    );
}

/// A rotation inserts the replacement under the same name (even at the cap)
/// and revokes the old token, or shortens it to the grace end.
pub async fn rotate_revokes_or_keeps_a_grace_period(store: Arc<dyn ManageStore>) {
    let mut old = sample_record("alice", "laptop");
    old.expires_at = Some(at(1_000));
    store
        .insert(old.clone(), rules(Some(1)))
        .await
        .expect("insert");
    let replacement = TokenRecord {
        id: TokenId::random().expect("randomness"),
        hash: random_hash(),
        ..old.clone()
    };
    let rotation = Rotation {
        old: old.id,
        replacement: replacement.clone(),
        old_expires_at: Some(at(100)),
        now: at(10),
    };
    store
        .rotate(rotation.clone())
        .await
        .expect("rotate at the cap");
    let old_now = get(&*store, &old.id).await;
    assert_eq!(old_now.expires_at, Some(at(100)), "grace end");
    assert_eq!(old_now.replaced_by, Some(replacement.id));
    assert!(old_now.revoked_at.is_none());
    assert_eq!(get(&*store, &replacement.id).await, replacement);
    let twice = store.rotate(rotation).await;
    assert!(matches!(twice, Err(StoreError::Inactive)), "got {twice:?}");

    let next = TokenRecord {
        id: TokenId::random().expect("randomness"),
        hash: random_hash(),
        ..replacement.clone()
    };
    let revoke_now = Rotation {
        old: replacement.id,
        replacement: next.clone(),
        old_expires_at: None,
        now: at(20),
    };
    store.rotate(revoke_now).await.expect("rotate");
    assert_eq!(get(&*store, &replacement.id).await.revoked_at, Some(at(20)));
    assert!(get(&*store, &next.id).await.holds_name(at(20)));
}

/// A hard delete removes the row everywhere.
pub async fn delete_removes_the_record(store: Arc<dyn ManageStore>) {
    let record = sample_record("alice", "laptop");
    insert(&*store, &record).await;
    assert!(store.delete(&record.id).await.expect("delete"));
    assert!(store.get(&record.id).await.expect("get").is_none());
    assert!(
        store
            .find_by_hash(&record.hash)
            .await
            .expect("find")
            .is_none()
    );
    assert!(!store.delete(&record.id).await.expect("delete again"));
    insert(&*store, &sample_record("alice", "laptop")).await;
}

/// Lists filter by owner and by activity, oldest first.
pub async fn list_filters_by_owner_and_activity(store: Arc<dyn ManageStore>) {
    let mut records = Vec::new();
    for (index, owner) in ["alice", "bob", "alice", "alice"].into_iter().enumerate() {
        let mut record = sample_record(owner, &format!("t{index}"));
        record.created_at = at(i64::try_from(index).unwrap_or(0));
        insert(&*store, &record).await;
        records.push(record);
    }
    store.revoke(&records[2].id, at(5)).await.expect("revoke");
    let ids = |list: Vec<TokenRecord>| list.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let active = store
        .list(&active_query(Some("alice"), false))
        .await
        .expect("list");
    assert_eq!(ids(active), [records[0].id, records[3].id]);
    let all = store
        .list(&active_query(Some("alice"), true))
        .await
        .expect("list");
    assert_eq!(ids(all), [records[0].id, records[2].id, records[3].id]);
    let everyone = store.list(&active_query(None, true)).await.expect("list");
    assert_eq!(
        ids(everyone),
        records.iter().map(|r| r.id).collect::<Vec<_>>()
    );
    assert!(
        store
            .list(&active_query(Some("nobody"), true))
            .await
            .expect("list")
            .is_empty()
    );
}

/// Records with history import as they are; importing them again skips them.
pub async fn export_import_round_trip(store: Arc<dyn ManageStore>) {
    let mut revoked = sample_record("alice", "old");
    revoked.revoked_at = Some(at(50));
    revoked.last_used_at = Some(at(40));
    let mut used = sample_record("bob", "ci");
    used.created_at = at(1);
    used.last_used_at = Some(at(60));
    used.scopes = Scopes::manager();
    let records = vec![revoked, used];

    let report = store.import(records.clone()).await.expect("import");
    assert_eq!((report.imported, report.skipped), (2, 0));
    assert!(store.has_ever_held_token().await.expect("status"));
    let exported = store.list(&active_query(None, true)).await.expect("export");
    assert_eq!(exported, records, "history kept exactly");
    let again = store.import(records).await.expect("import again");
    assert_eq!((again.imported, again.skipped), (0, 2));
}
