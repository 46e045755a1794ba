//! The read checks: what verification and listing ask of any store, a
//! verify-only one included. Each check is given a [`Holding`]: a way to
//! get a store that holds exactly the records the check names, so a store
//! that implements only [`TokenStore`] runs them too.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use time::Duration;

use super::fixtures::{active_query, at, random_hash, sample_record, t0};
use crate::record::{Metadata, RevokeReason, TokenId, TokenRecord};
use crate::rules::TokenRules as _;
use crate::scope::{Ability, Access, Route, Scopes};
use crate::store::{ManageStore, TokenStore};
use crate::token::Prefix;

/// How a read check gets its store: one that holds exactly the records
/// given, as they are (history, last-used times and all).
pub struct Holding(Box<dyn FnOnce(Vec<TokenRecord>) -> StoreHolding + Send>);

/// A store on its way, holding what it was given.
type StoreHolding = BoxFuture<'static, Arc<dyn TokenStore>>;

impl Holding {
    /// From a constructor of read-only stores: `make(records)` returns a
    /// store that holds them.
    pub fn new<F, Fut, S>(make: F) -> Self
    where
        F: FnOnce(Vec<TokenRecord>) -> Fut + Send + 'static,
        Fut: Future<Output = S> + Send + 'static,
        S: TokenStore,
    {
        Self(Box::new(move |records| {
            Box::pin(async move {
                let store: Arc<dyn TokenStore> = Arc::new(make(records).await);
                store
            })
        }))
    }

    /// From a fresh store that can be written: the records are imported
    /// into it, and the check reads it through its read side only.
    pub fn writable(store: Arc<dyn ManageStore>) -> Self {
        Self(Box::new(move |records| {
            Box::pin(async move {
                let report = store
                    .import(records, super::fixtures::rules(None))
                    .await
                    .expect("import the check's records");
                assert_eq!(report.skipped, 0, "a fresh store skips nothing on import");
                let read: Arc<dyn TokenStore> = store;
                read
            })
        }))
    }

    /// The store, holding `records`.
    pub async fn with(self, records: Vec<TokenRecord>) -> Arc<dyn TokenStore> {
        (self.0)(records).await
    }
}

/// `find_by_hash` answers exactly the record with that hash, never another
/// one (of the same owner, say): the verification path trusts it to.
///
/// Steps: hold 48 records, 6 for each of 8 owners, each with its own
/// `created_at`; look every one up by hash and by id; each answer is that
/// record, whole.
pub async fn find_by_hash_answers_exactly_that_record(holding: Holding) {
    let mut records = Vec::new();
    for owner in 0..8 {
        for token in 0..6 {
            let mut record = sample_record(&format!("owner-{owner}"), &format!("token-{token}"));
            record.created_at = at(i64::from(owner * 6 + token));
            records.push(record);
        }
    }
    let store = holding.with(records.clone()).await;
    for record in &records {
        let found = store.find_by_hash(&record.hash).await.expect("find_by_hash");
        assert_eq!(
            found.as_deref(),
            Some(record),
            "find_by_hash answers the record with exactly that hash (owner {}, created {})",
            record.owner,
            record.created_at
        );
        let got = store.get(&record.id).await.expect("get");
        assert_eq!(got.as_ref(), Some(record), "get answers the record with exactly that id");
    }
}

/// A hash or id never stored finds nothing (and is not an error).
///
/// Steps: hold one record; `find_by_hash` of another hash and `get` of
/// another id both answer `Ok(None)`.
pub async fn unknown_hash_and_id_find_nothing(holding: Holding) {
    let store = holding.with(vec![sample_record("alice", "laptop")]).await;
    assert!(
        store.find_by_hash(&random_hash()).await.expect("find").is_none(),
        "find_by_hash of an unknown hash answers Ok(None)"
    );
    let id = TokenId::random().expect("randomness");
    assert!(store.get(&id).await.expect("get").is_none(), "get of an unknown id answers Ok(None)");
}

/// A store never denies holding a record made from text outside the
/// format: the service would refuse that token without a lookup.
///
/// Steps: hold a `ct_…` record and a revoked `ab_…` one (imported from a
/// service with another prefix); the answer is `true` for prefix `ct`
/// (the `ab_` one, revoked too) and for `ab` (the `ct_` one).
pub async fn custom_secrets_are_never_denied(holding: Holding) {
    let ct = Prefix::new("ct").expect("a prefix");
    let ab = Prefix::new("ab").expect("a prefix");
    let mut foreign = sample_record("alice", "legacy");
    foreign.display_prefix = "ab_123456".to_owned();
    foreign.revoked_at = Some(t0());
    let store = holding.with(vec![sample_record("alice", "laptop"), foreign]).await;
    assert!(
        store.may_hold_custom_secrets(&ct).await.expect("answer"),
        "a record outside the format of `ct` (revoked too) may be a custom secret"
    );
    assert!(
        store.may_hold_custom_secrets(&ab).await.expect("answer"),
        "a `ct_` record is outside the format of prefix `ab`"
    );
}

/// A store that answers `find_by_hash_now` gives `find_by_hash`'s answer.
///
/// Steps: hold one record; for its hash and an unknown one, when
/// `find_by_hash_now` answers at all, it equals `find_by_hash`.
pub async fn an_immediate_answer_agrees_with_find_by_hash(holding: Holding) {
    let record = sample_record("alice", "laptop");
    let store = holding.with(vec![record.clone()]).await;
    for hash in [record.hash, random_hash()] {
        let awaited = store.find_by_hash(&hash).await.expect("find_by_hash");
        if let Some(now) = store.find_by_hash_now(&hash) {
            assert_eq!(
                now.expect("find_by_hash_now"),
                awaited,
                "find_by_hash_now agrees with find_by_hash"
            );
        }
    }
}

/// Every field comes back exactly as stored, instants to the millisecond,
/// and a store that holds records has held a token.
///
/// Steps: hold a record with every field set (Unicode name and route,
/// multi-line description, profile, manager, ability, two routes,
/// millisecond instants, rate limit, address ranges, metadata, last use)
/// and a revoked one with who and why; `get` returns each equal;
/// `has_ever_held_token` is true.
pub async fn records_round_trip_every_field(holding: Holding) {
    let mut record = sample_record("svc:deployer", "ci \u{1F680} runner");
    record.extras.description = Some("line one\nline two".to_owned());
    record.extras.profile = Some("staging".to_owned());
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
    record.last_used_at = Some(t0() + Duration::milliseconds(456));
    record.created_by = Some("token:\u{e9}t\u{e9} 7".to_owned());
    record.extras.rate_limit = Some("90/1h".parse().expect("rate limit"));
    record.extras.allowed_ips =
        vec!["10.0.0.0/8".parse().expect("range"), "2001:db8::/32".parse().expect("range")];
    record.extras.metadata = Some(
        Metadata::parse(
            r#"{"plan": "pro", "seats": 12, "tags": ["a", "\u00e9"], "nested": {"x": null}}"#,
        )
        .expect("metadata"),
    );
    let mut retired = sample_record("svc:deployer", "retired");
    retired.revoked_at = Some(at(3));
    retired.extras.revoked_by = Some("user:svc".to_owned());
    retired.extras.revoke_reason = Some(RevokeReason::RevokeAll);
    let store = holding.with(vec![record.clone(), retired.clone()]).await;
    for expected in [&record, &retired] {
        let got = store.get(&expected.id).await.expect("get");
        assert_eq!(got.as_ref(), Some(expected), "every field round-trips exactly");
    }
    assert!(
        store.has_ever_held_token().await.expect("status"),
        "a store holding records has held a token"
    );
}

/// Tokens about to expire are listed soonest first: active ones only, and
/// only those expiring within the window.
///
/// Steps: hold tokens expiring at t50, t20, t5, t30 (revoked), t200, and
/// one that never expires; at t10, `list_expiring(t10, t100)` answers t20,
/// then t50; `list_expiring(t10, t20)` answers t20 (the bound is
/// inclusive).
pub async fn expiring_tokens_are_listed_soonest_first(holding: Holding) {
    let expiring = |name: &str, seconds: Option<i64>| {
        let mut record = sample_record("alice", name);
        record.expires_at = seconds.map(at);
        record
    };
    let later = expiring("later", Some(50));
    let sooner = expiring("sooner", Some(20));
    let mut revoked = expiring("revoked", Some(30));
    revoked.revoked_at = Some(at(1));
    let records = vec![
        later.clone(),
        sooner.clone(),
        expiring("expired", Some(5)),
        revoked,
        expiring("far", Some(200)),
        expiring("never", None),
    ];
    let store = holding.with(records).await;
    let ids =
        |records: Vec<TokenRecord>| records.iter().map(|record| record.id).collect::<Vec<_>>();
    let within = store.list_expiring(at(10), at(100)).await.expect("list_expiring");
    assert_eq!(
        ids(within),
        [sooner.id, later.id],
        "only active tokens expiring in the window, soonest first"
    );
    let edge = store.list_expiring(at(10), at(20)).await.expect("list_expiring");
    assert_eq!(ids(edge), [sooner.id], "the window's end is inclusive");
}

/// Lists filter by owner and by activity, oldest first.
///
/// Steps: hold five tokens (alice, bob, alice, alice, alice) made at
/// t0..t4, the third revoked, the fifth expired at t0 (the lists' now);
/// alice's active list, alice's full list, everyone's list and an unknown
/// owner's list each hold exactly the expected ids in order.
pub async fn list_filters_by_owner_and_activity(holding: Holding) {
    let mut records = Vec::new();
    for (index, owner) in ["alice", "bob", "alice", "alice"].into_iter().enumerate() {
        let mut record = sample_record(owner, &format!("t{index}"));
        record.created_at = at(i64::try_from(index).unwrap_or(0));
        records.push(record);
    }
    records[2].revoked_at = Some(at(5));
    // Expired, not revoked: inactive all the same.
    let mut expired = sample_record("alice", "t4");
    expired.created_at = at(4);
    expired.expires_at = Some(t0());
    records.push(expired);
    // Held in another order than made: the store sorts.
    let mut shuffled = records.clone();
    shuffled.reverse();
    let store = holding.with(shuffled).await;
    let ids = |list: Vec<TokenRecord>| list.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let active = store.list(&active_query(Some("alice"), false)).await.expect("list");
    assert_eq!(
        ids(active),
        [records[0].id, records[3].id],
        "an owner's active list, oldest first, without the revoked or the expired"
    );
    let all = store.list(&active_query(Some("alice"), true)).await.expect("list");
    assert_eq!(
        ids(all),
        [records[0].id, records[2].id, records[3].id, records[4].id],
        "an owner's list with inactive (revoked, expired) tokens, oldest first"
    );
    let everyone = store.list(&active_query(None, true)).await.expect("list");
    assert_eq!(
        ids(everyone),
        records.iter().map(|r| r.id).collect::<Vec<_>>(),
        "every owner's list, oldest first"
    );
    assert!(
        store.list(&active_query(Some("nobody"), true)).await.expect("list").is_empty(),
        "an unknown owner lists nothing"
    );
}
