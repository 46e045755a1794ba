//! The owner checks: limits an owner's tokens share, kept by the store
//! beside the owner's records and changed in the same atomic change.

use std::sync::Arc;

use super::Instances;
use super::fixtures::{all_at_once, at, get, insert, rotation, sample_record, t0};
use crate::record::{OwnerLimits, SharedLimits, TokenRecord, Usage};
use crate::rules::{OwnerLimitsUpdate, TokenRules as _};
use crate::store::ManageStore;

/// An update that sets a shared budget of `uses`, counted from t0.
fn budget(uses: u64) -> OwnerLimitsUpdate {
    let usage = Usage::new(uses, t0()).expect("usage");
    OwnerLimitsUpdate { usage: Some(Some(usage)), ..OwnerLimitsUpdate::default() }
}

/// What a token of an owner with a shared budget carries.
const SHARES_USES: Option<SharedLimits> = Some(SharedLimits { rate_limit: None, uses: true });

async fn uses_left(store: &dyn ManageStore, owner: &str) -> Option<u64> {
    let limits = store.owner_limits(owner, at(1)).await.expect("owner limits");
    limits.usage.map(|usage| usage.remaining)
}

/// An owner's budget is shared exactly by all the owner's tokens, spent in
/// the same change as each token's own uses: both or neither.
///
/// Steps: alice holds `before` when a budget of 10 is set (it is stamped
/// as sharing it); `after` is inserted, and `own` with 20 uses of its own
/// (both stamped); bob's `free` is not. 60 concurrent consuming calls,
/// taking turns between alice's three tokens: exactly 10 answer `Some`,
/// alice's budget has 0 left, and `own` spent exactly as many of its own
/// as succeeded on it (a refused call spent neither). Alice's budget set
/// to 5 and `one` inserted with 1 use of its own: a call on `one` takes
/// both; the next is refused, and her budget keeps 4. A rotation's
/// replacement shares the budget. Bob's token spends nothing of alice's.
/// Limits set to none: the owner reads empty limits and every active
/// token carries none.
pub async fn an_owners_budget_is_shared_exactly_by_its_tokens(store: Arc<dyn ManageStore>) {
    let before = sample_record("alice", "before");
    insert(&*store, &before).await;
    let set = store.set_owner_limits("alice", &budget(10), t0()).await.expect("set the limits");
    assert_eq!(set.usage.map(|usage| usage.remaining), Some(10));
    assert_eq!(get(&*store, &before.id).await.extras.owner_limits, SHARES_USES, "stamped when set");
    let after = sample_record("alice", "after");
    insert(&*store, &after).await;
    let mut own = sample_record("alice", "own");
    own.extras.usage = Some(Usage::new(20, t0()).expect("usage"));
    insert(&*store, &own).await;
    for record in [&after, &own] {
        assert_eq!(
            get(&*store, &record.id).await.extras.owner_limits,
            SHARES_USES,
            "stamped at insert"
        );
    }
    let free = sample_record("bob", "free");
    insert(&*store, &free).await;
    assert_eq!(
        get(&*store, &free.id).await.extras.owner_limits,
        None,
        "another owner is not stamped"
    );

    let tokens = [before.id, after.id, own.id];
    let calls: Vec<_> = (0..60)
        .map(|index| {
            let (store, id) = (Arc::clone(&store), tokens[index % 3]);
            async move { (id, store.consume_use(id, at(1)).await) }
        })
        .collect();
    let answers = all_at_once(calls).await;
    let passed =
        |id| answers.iter().filter(move |(on, answer)| *on == id && matches!(answer, Ok(Some(_))));
    let passed_on_own = passed(own.id).count() as u64;
    let total = tokens.iter().map(|id| passed(*id).count()).sum::<usize>();
    assert_eq!(total, 10, "exactly the owner's budget succeeds: {answers:?}");
    assert_eq!(uses_left(&*store, "alice").await, Some(0), "the store keeps the owner's count");
    let own_left = get(&*store, &own.id).await.extras.usage.map(|usage| usage.remaining);
    assert_eq!(own_left, Some(20 - passed_on_own), "a refused call spends neither budget");

    store.set_owner_limits("alice", &budget(5), at(2)).await.expect("set again");
    let mut one = sample_record("alice", "one");
    one.extras.usage = Some(Usage::new(1, t0()).expect("usage"));
    insert(&*store, &one).await;
    let first = store.consume_use(one.id, at(3)).await.expect("consume");
    assert_eq!(first.map(|usage| usage.remaining), Some(0), "the token's own usage answers");
    assert_eq!(store.consume_use(one.id, at(3)).await.expect("consume"), None);
    assert_eq!(uses_left(&*store, "alice").await, Some(4), "its refusal spent nothing of hers");

    let replacement = store.rotate(after.id, rotation(None, at(4), None)).await.expect("rotate");
    assert_eq!(get(&*store, &replacement.id).await.extras.owner_limits, SHARES_USES);
    store.consume_use(replacement.id, at(5)).await.expect("consume").expect("a use left");
    assert_eq!(store.consume_use(free.id, at(5)).await.expect("consume"), None);
    assert_eq!(uses_left(&*store, "alice").await, Some(3), "bob spent nothing of alice's");

    let lifted = OwnerLimitsUpdate { usage: Some(None), rate_limit: Some(None) };
    store.set_owner_limits("alice", &lifted, at(6)).await.expect("lift");
    assert_eq!(store.owner_limits("alice", at(6)).await.expect("read"), OwnerLimits::default());
    for record in [&before, &own, &one] {
        let stamp = get(&*store, &record.id).await.extras.owner_limits;
        assert_eq!(stamp, None, "lifted limits are lifted from every active token");
    }
    assert_eq!(get(&*store, &replacement.id).await.extras.owner_limits, None);
}

/// An owner's budget is spent exactly when the calls come through two
/// instances, and read the same through both.
///
/// Steps: through one, set alice's budget to 10 and insert two of her
/// tokens; 50 concurrent consuming calls, taking turns between the
/// instances and the tokens: exactly 10 answer `Some`; both instances
/// read 0 left of her budget.
pub async fn an_owners_budget_is_shared_exactly_across_instances(instances: Instances) {
    instances.one.set_owner_limits("alice", &budget(10), t0()).await.expect("set the limits");
    let tokens: Vec<TokenRecord> =
        ["laptop", "ci"].into_iter().map(|name| sample_record("alice", name)).collect();
    for record in &tokens {
        insert(&*instances.one, record).await;
    }
    let calls: Vec<_> = (0..50)
        .map(|index| {
            let store = instances.by_turns(index);
            let id = tokens[(index / 2) % 2].id;
            async move { store.consume_use(id, at(1)).await }
        })
        .collect();
    let answers = all_at_once(calls).await;
    let consumed = answers.iter().filter(|answer| matches!(answer, Ok(Some(_)))).count();
    assert_eq!(consumed, 10, "exactly the owner's budget succeeds across instances: {answers:?}");
    for store in [&instances.one, &instances.other] {
        assert_eq!(uses_left(&**store, "alice").await, Some(0), "both instances read the count");
    }
}
