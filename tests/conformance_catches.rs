//! The conformance suite catches what breaks revocation and the contract:
//! a store with one planted bug at a time (over a correct `MemoryStore`),
//! and the check that must fail on it, five runs each.
#![cfg(feature = "conformance")]
// The planted store is test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokenkeep::conformance::{self, run_check};
use tokenkeep::hash::TokenHash;
use tokenkeep::record::{TokenKind, Usage};
use tokenkeep::store::{
    ImportReport, InsertRules, LastUse, ListQuery, ManageStore, MemoryStore, Revocation, Rotation,
    StoreError, TokenStore, TokenUpdate, async_trait,
};
use tokenkeep::time::OffsetDateTime;
use tokenkeep::{Prefix, TokenId, TokenRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    /// A read-through cache that nothing invalidates.
    StaleCache,
    /// `find_by_hash` answers the owner's first record, not the one asked.
    OwnersFirstRecord,
    /// `update` rewrites every field from a copy read before its lock.
    UpdateFromStaleCopy,
    /// `rotate` gives the replacement the scopes read before its lock.
    RotationFromStaleCopy,
    /// The cap counts only tokens that hold a name, not those in grace.
    GraceOutsideTheCap,
    /// `import` stores a temporary record as if it were persistent.
    ImportsTemporary,
    /// Only an empty display prefix counts as a custom secret, so a token
    /// imported from a service with another prefix would never verify.
    CustomMeansEmptyPrefix,
    /// `consume_use` reads the count, then writes it back later: two
    /// concurrent verifications spend one use.
    UsesReadThenWritten,
}

#[derive(Debug)]
struct Planted {
    bug: Bug,
    inner: MemoryStore,
    cache: Mutex<HashMap<TokenHash, Option<Arc<TokenRecord>>>>,
}

impl Planted {
    fn with(bug: Bug) -> Arc<dyn ManageStore> {
        Arc::new(Self {
            bug,
            inner: MemoryStore::new(),
            cache: Mutex::new(HashMap::new()),
        })
    }
}

/// Long enough for a concurrent change to land in between.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

#[async_trait]
impl TokenStore for Planted {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        match self.bug {
            Bug::StaleCache => {
                if let Some(cached) = self.cache.lock().unwrap().get(hash) {
                    return Ok(cached.clone());
                }
                let found = self.inner.find_by_hash(hash).await?;
                self.cache.lock().unwrap().insert(*hash, found.clone());
                Ok(found)
            }
            Bug::OwnersFirstRecord => {
                let Some(found) = self.inner.find_by_hash(hash).await? else {
                    return Ok(None);
                };
                let query = ListQuery {
                    owner: Some(found.owner.clone()),
                    include_inactive: true,
                    now: OffsetDateTime::now_utc(),
                };
                let first = self.inner.list(&query).await?.into_iter().next();
                Ok(first.map(Arc::new))
            }
            _ => self.inner.find_by_hash(hash).await,
        }
    }
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list(query).await
    }
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        self.inner.record_last_used(uses).await
    }
    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        if self.bug != Bug::CustomMeansEmptyPrefix {
            return self.inner.may_hold_custom_secrets(prefix).await;
        }
        let query = ListQuery {
            owner: None,
            include_inactive: true,
            now: OffsetDateTime::now_utc(),
        };
        let records = self.inner.list(&query).await?;
        Ok(records
            .iter()
            .any(|record| record.display_prefix.is_empty()))
    }
    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        if self.bug != Bug::UsesReadThenWritten {
            return self.inner.consume_use(id, now).await;
        }
        let record = self.inner.get(id).await?.ok_or(StoreError::NotFound)?;
        let Some(after) = record.usage.and_then(|usage| usage.consume(now)) else {
            return Ok(None);
        };
        pause().await;
        let write = TokenUpdate {
            usage: Some(Some(after)),
            ..TokenUpdate::default()
        };
        self.inner.update(id, &write, now).await?;
        Ok(Some(after))
    }
    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.inner.has_ever_held_token().await
    }
}

#[async_trait]
impl ManageStore for Planted {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        let mut rules = rules;
        if self.bug == Bug::GraceOutsideTheCap {
            let query = ListQuery {
                owner: Some(record.owner.clone()),
                include_inactive: false,
                now: rules.now,
            };
            let in_grace = self
                .inner
                .list(&query)
                .await?
                .iter()
                .filter(|other| other.replaced_by.is_some())
                .count();
            rules.max_active_per_owner = rules.max_active_per_owner.map(|cap| cap + in_grace);
        }
        self.inner.insert(record, rules).await
    }
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        self.inner.claim_setup(record).await
    }
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        if self.bug != Bug::UpdateFromStaleCopy {
            return self.inner.update(id, update, now).await;
        }
        let mut copy = self.inner.get(id).await?.ok_or(StoreError::NotFound)?;
        pause().await;
        update.apply_to(&mut copy);
        let everything = TokenUpdate {
            description: Some(copy.description),
            manager: Some(copy.scopes.manager),
            abilities: Some(copy.scopes.abilities),
            routes: Some(copy.scopes.routes),
            profile: Some(copy.profile),
            ..update.clone()
        };
        self.inner.update(id, &everything, now).await
    }
    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        self.inner.revoke(id, revocation).await
    }
    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        self.inner.revoke_owner(owner, revocation).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        match self.bug {
            Bug::RotationFromStaleCopy => {
                let stale = self
                    .inner
                    .get(&rotation.old)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                pause().await;
                let now = rotation.now;
                let replacement = self.inner.rotate(rotation).await?;
                let old_scopes = TokenUpdate {
                    manager: Some(stale.scopes.manager),
                    abilities: Some(stale.scopes.abilities),
                    routes: Some(stale.scopes.routes),
                    ..TokenUpdate::default()
                };
                self.inner.update(&replacement.id, &old_scopes, now).await
            }
            Bug::GraceOutsideTheCap => {
                let rotation = Rotation {
                    max_active_per_owner: None,
                    ..rotation
                };
                self.inner.rotate(rotation).await
            }
            _ => self.inner.rotate(rotation).await,
        }
    }
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.inner.delete(id).await
    }
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        let records = if self.bug == Bug::ImportsTemporary {
            records
                .into_iter()
                .map(|record| TokenRecord {
                    kind: TokenKind::Persistent,
                    ..record
                })
                .collect()
        } else {
            records
        };
        self.inner.import(records).await
    }
}

/// Runs `check` on a fresh store with `bug` five times; every run must fail.
macro_rules! caught {
    ($bug:expr, $check:ident) => {
        for run in 0..5 {
            let outcome = run_check(conformance::$check(Planted::with($bug))).await;
            assert!(
                outcome.is_err(),
                "{} did not catch {:?} (run {run})",
                stringify!($check),
                $bug
            );
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_nothing_invalidates_is_caught_by_every_visibility_check() {
    caught!(Bug::StaleCache, revoke_is_visible_at_once);
    caught!(
        Bug::StaleCache,
        revoke_owner_is_visible_at_once_for_that_owner_only
    );
    caught!(
        Bug::StaleCache,
        update_is_visible_at_once_and_keeps_names_unique
    );
    caught!(Bug::StaleCache, rotate_revokes_or_keeps_a_grace_period);
    caught!(Bug::StaleCache, delete_is_visible_at_once);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_another_record_of_the_owner_is_caught() {
    caught!(
        Bug::OwnersFirstRecord,
        find_by_hash_answers_exactly_that_record
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_from_a_stale_copy_is_caught() {
    caught!(
        Bug::UpdateFromStaleCopy,
        concurrent_changes_of_different_fields_all_land
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_from_a_stale_copy_is_caught() {
    caught!(
        Bug::RotationFromStaleCopy,
        a_rotation_racing_a_change_carries_it
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_that_ignores_grace_periods_is_caught() {
    caught!(
        Bug::GraceOutsideTheCap,
        cap_counts_tokens_in_their_grace_period
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_that_stores_temporary_records_is_caught() {
    caught!(Bug::ImportsTemporary, temporary_records_are_never_stored);
}

/// The same checks pass on the store without a planted bug, so a catch
/// above is the bug's doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_pass_without_a_bug() {
    conformance::revoke_is_visible_at_once(Arc::new(MemoryStore::new())).await;
    conformance::find_by_hash_answers_exactly_that_record(Arc::new(MemoryStore::new())).await;
    conformance::concurrent_changes_of_different_fields_all_land(Arc::new(MemoryStore::new()))
        .await;
    conformance::a_rotation_racing_a_change_carries_it(Arc::new(MemoryStore::new())).await;
    conformance::cap_counts_tokens_in_their_grace_period(Arc::new(MemoryStore::new())).await;
    conformance::temporary_records_are_never_stored(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denying_foreign_tokens_are_custom_is_caught() {
    caught!(Bug::CustomMeansEmptyPrefix, custom_secrets_are_never_denied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uses_counted_outside_an_atomic_section_are_caught() {
    caught!(
        Bug::UsesReadThenWritten,
        uses_are_consumed_exactly_under_50_concurrent_calls
    );
}
