//! Import is held to the rules issue applies: each owner's cap and unique
//! active names (counting what the store holds), valid usage limits
//! (never a panic on outside values), and rotation chains that stay
//! within their owner. A record that breaks a rule refuses the whole
//! import, and nothing is written.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use crate::support::{fresh_record, service, t0};
use tokenkeep::record::{RecordError, TokenName, Usage};
use tokenkeep::rules::Refusal;
use tokenkeep::store::{ChangeScope, Changes, ManageStore, Plan, StoreError};
use tokenkeep::time::Duration;
use tokenkeep::{Actor, ErrorCode as _, IssueRequest, ManageError, TokenRecord};

fn of(owner: &str, name: &str) -> TokenRecord {
    let mut record = fresh_record(name);
    record.owner = owner.to_owned();
    record.name = TokenName::new(name).unwrap();
    record
}

async fn stored_count(service: &tokenkeep::TokenManager) -> usize {
    service.export(&Actor::Admin).await.unwrap().len()
}

#[tokio::test]
async fn the_cap_counts_what_the_store_holds() {
    let (service, _) = service();
    for n in 0..9 {
        service.admin_issue(IssueRequest::new("alice", format!("t{n}"))).await;
    }
    let refused =
        service.import(&Actor::Admin, vec![of("alice", "a"), of("alice", "b")]).await.unwrap_err();
    assert!(
        matches!(refused, ManageError::Refused(Refusal::LimitReached { limit: 10 })),
        "{refused:?}"
    );
    assert_eq!(stored_count(&service).await, 9, "nothing written");
    // Revoked history does not count, and one more active fits.
    let mut old = of("alice", "old");
    old.revoked_at = Some(t0());
    let report = service.import(&Actor::Admin, vec![of("alice", "a"), old]).await.unwrap();
    assert_eq!(report.imported, 2);
}

#[tokio::test]
async fn active_names_stay_unique_per_owner() {
    let (service, _) = service();
    service.admin_issue(IssueRequest::new("alice", "ci")).await;
    for batch in [vec![of("alice", "ci")], vec![of("alice", "deploy"), of("alice", "deploy")]] {
        let refused = service.import(&Actor::Admin, batch).await.unwrap_err();
        assert_eq!(refused.code(), "NAME_TAKEN", "{refused:?}");
    }
    assert_eq!(stored_count(&service).await, 1, "nothing written");
    let mut revoked = of("alice", "ci");
    revoked.revoked_at = Some(t0());
    let report = service.import(&Actor::Admin, vec![revoked, of("bob", "ci")]).await.unwrap();
    assert_eq!(report.imported, 2, "history and another owner may share it");
}

#[tokio::test]
async fn usage_values_are_checked_and_never_panic() {
    let (service, _) = service();
    let usage = Usage::new(1, t0()).unwrap();
    let broken = [
        Usage { refill_to: Some(1), refill_every: Some(Duration::ZERO), ..usage },
        Usage { refill_to: Some(1), refill_every: Some(Duration::seconds(i64::MIN / 2)), ..usage },
        Usage { remaining: u64::MAX, ..usage },
        Usage { refill_to: Some(5), ..usage },
    ];
    for usage in broken {
        let mut record = of("alice", "limited");
        record.extras.usage = Some(usage);
        let refused = service.import(&Actor::Admin, vec![record]).await.unwrap_err();
        assert!(
            matches!(refused, ManageError::InvalidRecord(RecordError::Usage)),
            "{usage:?}: {refused:?}"
        );
        // Whatever a store holds, reading the limit never panics.
        let _ = usage.at(t0() + Duration::days(400)).consume(t0());
    }
    assert_eq!(stored_count(&service).await, 0);
}

#[tokio::test]
async fn a_rotation_chain_stays_within_its_owner() {
    let (service, _) = service();
    let bobs = service.admin_issue(IssueRequest::new("bob", "laptop")).await;
    let mut retired = of("alice", "ci");
    retired.revoked_at = Some(t0());
    retired.extras.replaced_by = Some(bobs.record.id);
    let refused = service.import(&Actor::Admin, vec![retired.clone()]).await.unwrap_err();
    assert_eq!(refused.code(), "INVALID_CHAIN", "{refused:?}");
    let mut batch_bob = of("bob", "other");
    retired.extras.replaced_by = Some(batch_bob.id);
    let refused =
        service.import(&Actor::Admin, vec![retired.clone(), batch_bob.clone()]).await.unwrap_err();
    assert_eq!(refused.code(), "INVALID_CHAIN");
    assert_eq!(stored_count(&service).await, 1, "nothing written");

    // Within the owner, in the batch: fine.
    batch_bob.owner = "alice".to_owned();
    let report = service.import(&Actor::Admin, vec![retired, batch_bob]).await.unwrap();
    assert_eq!(report.imported, 2);
}

/// A store on which another instance issues a token the moment the next
/// change begins: what an import checked before its change is stale by
/// the time it writes.
#[derive(Debug)]
struct IssuedMeanwhile {
    inner: std::sync::Arc<dyn ManageStore>,
    armed: std::sync::Mutex<Option<(tokenkeep::TokenManager, IssueRequest)>>,
}

#[tokenkeep::store::async_trait]
impl tokenkeep::store::StoreLayer for IssuedMeanwhile {
    type Inner = dyn ManageStore;

    fn inner(&self) -> &dyn ManageStore {
        &*self.inner
    }
}

#[tokenkeep::store::async_trait]
impl tokenkeep::store::WriteLayer for IssuedMeanwhile {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let armed = self.armed.lock().unwrap().take();
        if let Some((other_instance, request)) = armed {
            other_instance.issue(&Actor::Admin, request).await.unwrap();
        }
        self.inner.change(scope, plan).await
    }
}

/// An import racing an issue for the same owner: the cap and the unique
/// names hold, because the import checks them inside its change. (0.3
/// checked them before, and left 11 active tokens under a cap of 10, or
/// two active tokens with one name.)
#[tokio::test]
async fn an_issue_racing_the_import_cannot_break_the_cap_or_the_names() {
    for (racing, imported, code) in
        [("tenth", "imported", "TOKEN_LIMIT_REACHED"), ("ci", "ci", "NAME_TAKEN")]
    {
        let shared: std::sync::Arc<dyn ManageStore> =
            std::sync::Arc::new(tokenkeep::store::MemoryStore::new());
        let layered = std::sync::Arc::new(IssuedMeanwhile {
            inner: shared.clone(),
            armed: std::sync::Mutex::new(None),
        });
        let service = crate::support::service_over(layered.clone());
        let other_instance = crate::support::service_over(shared);
        for n in 0..9 {
            service.admin_issue(IssueRequest::new("alice", format!("t{n}"))).await;
        }
        *layered.armed.lock().unwrap() = Some((other_instance, IssueRequest::new("alice", racing)));
        let refused = service.import(&Actor::Admin, vec![of("alice", imported)]).await.unwrap_err();
        assert_eq!(refused.code(), code, "{refused:?}");
        let active = service.list(&Actor::Admin, Some("alice"), false).await.unwrap();
        assert_eq!(active.len(), 10, "the import wrote nothing");
    }
}

/// A display prefix is what minting shows of a token or nothing: terminal
/// escapes, line breaks and direction overrides from an import file are
/// refused, and nothing is written. (0.3 took any text, and `token list`
/// printed it raw.)
#[tokio::test]
async fn a_display_prefix_is_what_minting_shows() {
    let (service, _) = service();
    for forged in [
        "tk_\u{1b}[2J\u{1b}[H",
        "tk_3f12c4\nforged row",
        "tk_3f\u{202e}2c4",
        "tk_3f12c4  alice  tk_000000",
        "not a prefix",
    ] {
        let mut record = of("alice", "ci");
        record.display_prefix = forged.to_owned();
        let refused = service.import(&Actor::Admin, vec![record]).await.unwrap_err();
        assert_eq!(refused.code(), "INVALID_DISPLAY_PREFIX", "{forged:?}");
    }
    assert_eq!(stored_count(&service).await, 0, "nothing written");
    for shown in ["", "tk_3f12c4", "glpat_AbC-_9"] {
        let mut record = of("alice", &format!("ok{}", shown.len()));
        record.display_prefix = shown.to_owned();
        service.import(&Actor::Admin, vec![record]).await.unwrap();
    }
}

/// Without a cap, an import of many names for one owner reads the owner's
/// active tokens at once instead of one name at a time: names stay unique
/// either way, against what the store holds and within the import.
#[tokio::test]
async fn many_names_without_a_cap_stay_unique() {
    use tokenkeep::rules::{InsertRules, RuleError, TokenRules as _};
    use tokenkeep::store::TokenStore as _;
    let store = tokenkeep::store::MemoryStore::new();
    let rules = InsertRules { now: t0(), max_active_per_owner: None };
    let many = |from: usize| -> Vec<TokenRecord> {
        (from..from + 40).map(|n| of("alice", &format!("t{n}"))).collect()
    };
    let report = store.import(many(0), rules).await.unwrap();
    assert_eq!(report.imported, 40);
    let mut clashing = many(100);
    clashing.push(of("alice", "t3"));
    let refused = store.import(clashing, rules).await.unwrap_err();
    assert!(
        matches!(refused, RuleError::Refused(tokenkeep::rules::Refusal::NameTaken)),
        "{refused:?}"
    );
    let mut twice = many(200);
    twice.push(of("alice", "t200"));
    let refused = store.import(twice, rules).await.unwrap_err();
    assert_eq!(refused.code(), "NAME_TAKEN");
    assert_eq!(
        store
            .list(&tokenkeep::store::ListQuery {
                owner: Some("alice".into()),
                include_inactive: true,
                now: t0(),
            })
            .await
            .unwrap()
            .len(),
        40,
        "nothing more written"
    );
}
