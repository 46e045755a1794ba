//! The conformance suite catches what breaks a store: a store with one
//! planted bug at a time, and the checks that must fail on it, five runs
//! each. Bugs are planted in two designs, since a bug can only be planted
//! where a design can make it: a layer over a correct `MemoryStore` (one
//! handle, or two on the same data), and `keyed`, a store of records kept
//! by hash with an owner index and optimistic commits.
//!
//! Every bug is a storage bug: since the rules live in the core, what a
//! store can get wrong is what it reads, how atomically it commits, and
//! what it shows afterwards.
#![cfg(feature = "conformance")]
// The planted store is test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod keyed;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokenkeep::conformance::{self, Holding, Instances, run_check};
use tokenkeep::hash::TokenHash;
use tokenkeep::store::{
    ActiveRecords, ChangeScope, Changes, LastUse, ListQuery, ManageStore, MemoryStore,
    OwnerRecords, Plan, StoreError, StoreLayer, TokenStore, Write, WriteLayer, async_trait,
};
use tokenkeep::time::OffsetDateTime;
use tokenkeep::{Prefix, TokenId, TokenRecord};

use keyed::{Flaw, Keyed};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    /// A read-through cache that nothing invalidates.
    StaleCache,
    /// `find_by_hash` answers the owner's first record, not the one asked.
    OwnersFirstRecord,
    /// Only an empty display prefix counts as a custom secret, so a token
    /// imported from a service with another prefix would never verify.
    CustomMeansEmptyPrefix,
    /// `change` reads, then commits later without a lock or a version
    /// check: a concurrent change in between is lost (a Redis store that
    /// forgot its `WATCH`).
    ReadsBeforeItLocks,
    /// `change` reads only the owner's active records, not those the scope
    /// names (an SQL filter too many): a revoke or rotation of a token no
    /// longer active finds nothing.
    ReadsOnlyActive,
    /// `change` leaves out records in a rotation's grace period, so the
    /// cap no longer counts them.
    ReadsWithoutGrace,
    /// `change` reads every owner's records, not only the one asked.
    ReadsEveryOwner,
    /// `change` reads none of the active records a scope asks for by name
    /// (only those named by id): a name is never found taken.
    IgnoresNamedRecords,
    /// `change` ignores `only_if_never_held`: a second setup claim wins.
    ClaimUnguarded,
    /// A replace writes the whole record, last use included, from the
    /// plan's copy.
    ReplaceOverwritesLastUse,
    /// Writes land one by one, and a failed one leaves the earlier ones.
    CommitsHalfway,
    /// An insert of a stored id overwrites the stored record.
    InsertOverwrites,
    /// `change` reads an owner's records through an index one page of 100
    /// at a time and stops after the first page (a `SCAN` cursor not
    /// followed): past 100 records, a revoke answers `NotFound` and the
    /// cap undercounts.
    ReadsOnePage,
    /// `changes` answers a signal that nothing moves (a pub/sub channel
    /// subscribed to, never published on): a long-lived connection is not
    /// told of a revoke until its periodic recheck.
    SilentSignal,
    /// A claim marks the store only through the record it inserts: a claim
    /// that inserts nothing leaves the store claimable again.
    ClaimMarksOnlyOnInsert,
    /// `list` judges "active" by the revocation alone: an expired token is
    /// listed as active.
    ListForgetsExpiry,
    /// `list_expiring` answers from an index of expiries written when a
    /// record is inserted and never after: a rotation's grace end is
    /// missing from it.
    ExpiryIndexedAtInsert,
    /// Reads by name go through an index of names written when a record is
    /// inserted and never after: a renamed token is found under its old
    /// name, not its new one, so two active tokens end up with one name.
    NameIndexedAtInsert,
    /// A last-use note reads the record, then writes the whole of it back
    /// with the new time: a change that lands in between is undone (a
    /// revoked token verifies again).
    LastUseRewritesTheRecord,
    /// Each handle keeps a read-through cache that only its own changes
    /// invalidate: a token revoked through one instance still verifies
    /// through another.
    CacheHearsOnlyItself,
    /// `change` reads, then commits later, holding a lock of its handle's
    /// (an in-process mutex) instead of one of the store's: changes
    /// through one handle never interleave, changes through two do.
    LocksPerInstance,
    /// The setup claim reads the "has held a token" marker before its
    /// change, holding a lock of the owner's: claims by one owner are
    /// serialized, claims by two both win.
    ClaimMarkerReadOutside,
    /// Each handle's signal moves on its own changes only (a pub/sub
    /// message published locally, never to the server).
    SignalHearsOnlyItself,
    /// A delete finds its record among what the change read (a store that
    /// builds its commit from the read): a delete of a record the change
    /// did not read writes nothing.
    DeletesOnlyWhatItRead,
    /// The control: no bug, for the checks that must pass on the pair.
    Nothing,
}

#[derive(Debug)]
struct Planted {
    bug: Bug,
    /// The data, shared by every handle on it.
    inner: Arc<MemoryStore>,
    /// What each record was inserted as: the indexes of the `…AtInsert`
    /// bugs, kept with the data.
    inserted: Arc<Mutex<HashMap<TokenId, TokenRecord>>>,
    /// The owners' locks of `ClaimMarkerReadOutside`, kept with the data.
    owner_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// This handle's own: its cache, its lock, its signals.
    cache: Mutex<HashMap<TokenHash, Option<Arc<TokenRecord>>>>,
    lock: tokio::sync::Mutex<()>,
    /// The signal `SilentSignal` answers and never moves.
    silent: tokio::sync::watch::Sender<u64>,
    /// The signal `SignalHearsOnlyItself` answers: moved by this handle's changes.
    own_signal: tokio::sync::watch::Sender<u64>,
}

impl Planted {
    fn with(bug: Bug) -> Arc<dyn ManageStore> {
        Arc::new(Self::on(bug, Arc::default(), Arc::default(), Arc::default()))
    }

    /// Two handles on the same data, as two instances open them.
    fn pair(bug: Bug) -> Instances {
        let one = Self::on(bug, Arc::default(), Arc::default(), Arc::default());
        let other = Self::on(
            bug,
            Arc::clone(&one.inner),
            Arc::clone(&one.inserted),
            Arc::clone(&one.owner_locks),
        );
        Instances::new(Arc::new(one), Arc::new(other))
    }

    fn on(
        bug: Bug,
        inner: Arc<MemoryStore>,
        inserted: Arc<Mutex<HashMap<TokenId, TokenRecord>>>,
        owner_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    ) -> Self {
        Self {
            bug,
            inner,
            inserted,
            owner_locks,
            cache: Mutex::default(),
            lock: tokio::sync::Mutex::default(),
            silent: tokio::sync::watch::Sender::new(0),
            own_signal: tokio::sync::watch::Sender::new(0),
        }
    }

    /// What this handle does after a change through it: the handle-local
    /// bugs hear of it here, and nowhere else.
    fn heard_own_change(&self) {
        match self.bug {
            Bug::CacheHearsOnlyItself => self.cache.lock().unwrap().clear(),
            Bug::SignalHearsOnlyItself => self.own_signal.send_modify(|count| *count += 1),
            _ => {}
        }
    }

    fn owner_lock(&self, owner: &str) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(self.owner_locks.lock().unwrap().entry(owner.to_owned()).or_default())
    }

    /// Runs `plan` as a claim judged by `held`, the marker as read before
    /// the change: the store's own guard is dropped.
    async fn claim_as_read(
        &self,
        held: bool,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
        guard_inserts: bool,
    ) -> Result<Changes, StoreError> {
        self.inner
            .change(scope, &mut |read| {
                let mut changes = plan(read)?;
                let inserts = changes.writes.iter().any(|write| matches!(write, Write::Insert(_)));
                if changes.only_if_never_held && !(guard_inserts && inserts) {
                    if held {
                        return Err(tokenkeep::store::Refused);
                    }
                    changes.only_if_never_held = false;
                }
                Ok(changes)
            })
            .await
            .map_err(|error| match error {
                StoreError::Refused if held => StoreError::AlreadyClaimed,
                other => other,
            })
    }

    fn everything() -> ListQuery {
        ListQuery { owner: None, include_inactive: true, now: OffsetDateTime::now_utc() }
    }

    /// What `scope` covers, read in a change of its own.
    async fn read_alone(&self, scope: &ChangeScope) -> Result<OwnerRecords, StoreError> {
        let mut seen = None;
        self.inner
            .change(scope, &mut |read| {
                seen = Some(read.clone());
                Ok(Changes::none())
            })
            .await?;
        Ok(seen.unwrap())
    }

    /// Indexes the records `changes` inserts, as they are inserted.
    fn index_inserts(&self, changes: &Changes) {
        let mut inserted = self.inserted.lock().unwrap();
        for write in &changes.writes {
            if let Write::Insert(record) = write {
                inserted.insert(record.id, record.clone());
            }
        }
    }

    /// One write on its own change, as a store without transactions would.
    async fn alone(&self, owner: &str, write: Write) -> Result<Changes, StoreError> {
        let scope = ChangeScope::new(owner, OffsetDateTime::now_utc());
        self.inner
            .change(&scope, &mut |_| {
                Ok(Changes { writes: vec![write.clone()], only_if_never_held: false })
            })
            .await
    }
}

/// Long enough for a concurrent change to land in between.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

#[async_trait]
impl StoreLayer for Planted {
    type Inner = MemoryStore;

    fn inner(&self) -> &MemoryStore {
        &self.inner
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        match self.bug {
            Bug::StaleCache | Bug::CacheHearsOnlyItself => {
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
                let query = ListQuery { owner: Some(found.owner.clone()), ..Self::everything() };
                let first = self.inner.list(&query).await?.into_iter().next();
                Ok(first.map(Arc::new))
            }
            _ => self.inner.find_by_hash(hash).await,
        }
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        if self.bug != Bug::ListForgetsExpiry || query.include_inactive {
            return self.inner.list(query).await;
        }
        let everything = ListQuery { include_inactive: true, ..query.clone() };
        let mut listed = self.inner.list(&everything).await?;
        listed.retain(|record| record.revoked_at.is_none());
        Ok(listed)
    }

    async fn list_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        if self.bug != Bug::ExpiryIndexedAtInsert {
            return self.inner.list_expiring(now, before).await;
        }
        let active = ListQuery { owner: None, include_inactive: false, now };
        let indexed = |record: &TokenRecord| {
            self.inserted.lock().unwrap().get(&record.id).and_then(|inserted| inserted.expires_at)
        };
        let mut listed = self.inner.list(&active).await?;
        listed.retain(|record| indexed(record).is_some_and(|expiry| expiry <= before));
        listed.sort_by_key(|record| (indexed(record), record.id));
        Ok(listed)
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        match self.bug {
            Bug::SilentSignal => Some(self.silent.subscribe()),
            Bug::SignalHearsOnlyItself => Some(self.own_signal.subscribe()),
            _ => self.inner.changes(),
        }
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        if self.bug != Bug::LastUseRewritesTheRecord {
            return self.inner.record_last_used(uses).await;
        }
        for note in uses {
            let Some(mut record) = self.inner.get(&note.id).await? else { continue };
            pause().await;
            record.last_used_at = Some(note.at);
            let owner = record.owner.clone();
            self.alone(&owner, Write::Delete(record.id)).await?;
            self.alone(&owner, Write::Insert(record)).await?;
        }
        Ok(())
    }

    async fn may_hold_custom_secrets(&self, prefix: &Prefix) -> Result<bool, StoreError> {
        if self.bug != Bug::CustomMeansEmptyPrefix {
            return self.inner.may_hold_custom_secrets(prefix).await;
        }
        let records = self.inner.list(&Self::everything()).await?;
        Ok(records.iter().any(|record| record.display_prefix.is_empty()))
    }
}

#[async_trait]
impl WriteLayer for Planted {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let changed = self.change_as_planted(scope, plan).await;
        self.heard_own_change();
        changed
    }
}

impl Planted {
    async fn change_as_planted(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        match self.bug {
            Bug::DeletesOnlyWhatItRead => {
                self.inner
                    .change(scope, &mut |read| {
                        let mut changes = plan(read)?;
                        changes.writes.retain(|write| match write {
                            Write::Delete(id) => read.find(id).is_some(),
                            _ => true,
                        });
                        Ok(changes)
                    })
                    .await
            }
            Bug::LocksPerInstance => {
                let _instance = self.lock.lock().await;
                let seen = self.read_alone(scope).await?;
                pause().await;
                let changes = plan(&seen)?;
                self.inner.change(scope, &mut |_| Ok(changes.clone())).await
            }
            Bug::ClaimMarkerReadOutside => {
                let lock = self.owner_lock(&scope.owner);
                let _owner = lock.lock().await;
                let held = self.inner.has_ever_held_token().await?;
                pause().await;
                self.claim_as_read(held, scope, plan, false).await
            }
            Bug::ReadsBeforeItLocks => {
                let seen = self.read_alone(scope).await?;
                pause().await;
                let changes = plan(&seen)?;
                self.inner.change(scope, &mut |_| Ok(changes.clone())).await
            }
            Bug::ReadsOnlyActive | Bug::ReadsWithoutGrace => {
                let bug = self.bug;
                self.inner
                    .change(scope, &mut |read| {
                        let mut shown = read.clone();
                        shown.records.retain(|record| match bug {
                            Bug::ReadsOnlyActive => record.is_active(scope.now),
                            _ => record.extras.replaced_by.is_none(),
                        });
                        plan(&shown)
                    })
                    .await
            }
            Bug::IgnoresNamedRecords => {
                self.inner
                    .change(scope, &mut |read| {
                        let mut shown = read.clone();
                        if matches!(scope.active, ActiveRecords::Named(_)) {
                            shown.records.retain(|record| scope.ids.contains(&record.id));
                        }
                        plan(&shown)
                    })
                    .await
            }
            Bug::ReadsEveryOwner => {
                let everyone = self.inner.list(&Self::everything()).await?;
                self.inner
                    .change(scope, &mut |read| {
                        let shown = OwnerRecords { records: everyone.clone(), ..read.clone() };
                        plan(&shown)
                    })
                    .await
            }
            Bug::ClaimUnguarded => {
                self.inner
                    .change(scope, &mut |read| {
                        let mut changes = plan(read)?;
                        changes.only_if_never_held = false;
                        Ok(changes)
                    })
                    .await
            }
            Bug::ReplaceOverwritesLastUse | Bug::CommitsHalfway | Bug::InsertOverwrites => {
                let owner = scope.owner.as_str();
                let seen = self.read_alone(scope).await?;
                let changes = plan(&seen)?;
                for write in &changes.writes {
                    match (self.bug, write) {
                        (Bug::ReplaceOverwritesLastUse, Write::Replace(record)) => {
                            self.alone(owner, Write::Delete(record.id)).await?;
                            self.alone(owner, Write::Insert(record.clone())).await?;
                        }
                        (Bug::InsertOverwrites, Write::Insert(record)) => {
                            if let Some(stored) = self.inner.get(&record.id).await? {
                                self.alone(&stored.owner, Write::Delete(stored.id)).await?;
                            }
                            self.alone(owner, write.clone()).await?;
                        }
                        _ => {
                            self.alone(owner, write.clone()).await?;
                        }
                    }
                }
                Ok(changes)
            }
            Bug::ClaimMarksOnlyOnInsert => {
                let held = self.inner.has_ever_held_token().await?;
                self.claim_as_read(held, scope, plan, true).await
            }
            Bug::ReadsOnePage => {
                let query = ListQuery { owner: Some(scope.owner.clone()), ..Self::everything() };
                let mut owners = self.inner.list(&query).await?;
                owners.sort_by_key(|record| (record.created_at, record.id));
                let first_page: Vec<TokenId> =
                    owners.iter().take(100).map(|record| record.id).collect();
                self.inner
                    .change(scope, &mut |read| {
                        let mut shown = read.clone();
                        shown.records.retain(|record| first_page.contains(&record.id));
                        plan(&shown)
                    })
                    .await
            }
            Bug::ExpiryIndexedAtInsert | Bug::NameIndexedAtInsert => {
                // With the name index, the active records holding a name are
                // found through it; either way, inserts are indexed.
                let names = match (self.bug, &scope.active) {
                    (Bug::NameIndexedAtInsert, ActiveRecords::Named(names)) => Some(names),
                    _ => None,
                };
                let read_scope = match names {
                    Some(_) => scope.clone().reading(ActiveRecords::All),
                    None => scope.clone(),
                };
                self.inner
                    .change(&read_scope, &mut |read| {
                        let mut shown = read.clone();
                        if let Some(names) = names {
                            let inserted = self.inserted.lock().unwrap().clone();
                            shown.records.retain(|record| {
                                scope.ids.contains(&record.id)
                                    || inserted
                                        .get(&record.id)
                                        .is_some_and(|first| names.contains(&first.name))
                            });
                        }
                        let changes = plan(&shown)?;
                        self.index_inserts(&changes);
                        Ok(changes)
                    })
                    .await
            }
            _ => self.inner.change(scope, plan).await,
        }
    }
}

/// Runs a check on a fresh store with `bug` five times; every run must
/// fail. `read:` checks get the store through a `Holding`.
macro_rules! caught {
    (read: $bug:expr, $check:ident) => {
        caught!(@runs $bug, $check, Holding::writable(Planted::with($bug)))
    };
    (across: $bug:expr, $check:ident) => {
        caught!(@runs $bug, $check, Planted::pair($bug))
    };
    ($bug:expr, $check:ident) => {
        caught!(@runs $bug, $check, Planted::with($bug))
    };
    (keyed: $flaw:expr, $check:ident) => {
        caught!(@runs $flaw, $check, Keyed::with($flaw))
    };
    (keyed read: $flaw:expr, $check:ident) => {
        caught!(@runs $flaw, $check, Holding::writable(Keyed::with($flaw)))
    };
    (keyed across: $flaw:expr, $check:ident) => {
        caught!(@runs $flaw, $check, Keyed::pair($flaw))
    };
    (@runs $bug:expr, $check:ident, $store:expr) => {
        for run in 0..5 {
            let outcome = run_check(conformance::$check($store)).await;
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
    caught!(Bug::StaleCache, revoke_owner_is_visible_at_once_for_that_owner_only);
    caught!(Bug::StaleCache, update_is_visible_at_once_and_keeps_names_unique);
    caught!(Bug::StaleCache, rotate_revokes_or_keeps_a_grace_period);
    caught!(Bug::StaleCache, delete_is_visible_at_once);
    caught!(Bug::StaleCache, changes_of_one_owner_never_interleave);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_another_record_of_the_owner_is_caught() {
    caught!(read: Bug::OwnersFirstRecord, find_by_hash_answers_exactly_that_record);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denying_foreign_tokens_are_custom_is_caught() {
    caught!(read: Bug::CustomMeansEmptyPrefix, custom_secrets_are_never_denied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_reads_before_it_locks_is_caught() {
    caught!(Bug::ReadsBeforeItLocks, changes_of_one_owner_never_interleave);
    caught!(Bug::ReadsBeforeItLocks, concurrent_changes_of_different_fields_all_land);
    caught!(Bug::ReadsBeforeItLocks, cap_holds_under_50_concurrent_inserts);
    caught!(Bug::ReadsBeforeItLocks, uses_are_consumed_exactly_under_50_concurrent_calls);
    caught!(Bug::ReadsBeforeItLocks, a_cost_of_several_uses_is_taken_whole_or_not_at_all);
    caught!(Bug::ReadsBeforeItLocks, one_name_wins_among_concurrent_inserts);
    caught!(Bug::ReadsBeforeItLocks, a_rotation_racing_a_change_carries_it);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_reads_too_little_or_too_much_is_caught() {
    caught!(Bug::ReadsOnlyActive, a_change_reads_what_its_scope_covers_and_no_other_owner);
    caught!(Bug::ReadsWithoutGrace, a_change_reads_what_its_scope_covers_and_no_other_owner);
    caught!(Bug::ReadsWithoutGrace, cap_counts_tokens_in_their_grace_period);
    caught!(Bug::ReadsEveryOwner, a_change_reads_what_its_scope_covers_and_no_other_owner);
    caught!(Bug::ReadsEveryOwner, names_are_unique_among_an_owners_active_tokens);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_skips_the_records_holding_a_name_is_caught() {
    caught!(Bug::IgnoresNamedRecords, a_change_reads_what_its_scope_covers_and_no_other_owner);
    caught!(Bug::IgnoresNamedRecords, names_are_unique_among_an_owners_active_tokens);
    caught!(Bug::IgnoresNamedRecords, one_name_wins_among_concurrent_inserts);
    caught!(Bug::IgnoresNamedRecords, update_is_visible_at_once_and_keeps_names_unique);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unguarded_setup_claim_is_caught() {
    caught!(Bug::ClaimUnguarded, setup_claim_succeeds_once);
    caught!(Bug::ClaimUnguarded, setup_claim_has_one_winner_among_50);
    caught!(Bug::ClaimUnguarded, setup_claim_refused_once_any_token_was_held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_that_loses_the_last_use_is_caught() {
    caught!(Bug::ReplaceOverwritesLastUse, replace_keeps_the_last_use_and_delete_removes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_commits_halfway_is_caught() {
    caught!(Bug::CommitsHalfway, a_change_commits_all_its_writes_or_none);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_that_overwrites_is_caught() {
    caught!(Bug::InsertOverwrites, a_change_commits_all_its_writes_or_none);
    caught!(Bug::InsertOverwrites, duplicate_id_or_hash_is_refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_that_never_moves_is_caught() {
    caught!(Bug::SilentSignal, every_change_moves_the_signal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_marks_only_through_an_insert_is_caught() {
    caught!(Bug::ClaimMarksOnlyOnInsert, a_guarded_change_is_a_claim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_stops_after_one_page_is_caught() {
    caught!(Bug::ReadsOnePage, an_owner_with_many_records_is_read_whole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_forgets_expiry_is_caught() {
    caught!(read: Bug::ListForgetsExpiry, list_filters_by_owner_and_activity);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_index_written_only_at_insert_is_caught() {
    caught!(Bug::ExpiryIndexedAtInsert, expiring_follows_rotations_and_revokes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_index_written_only_at_insert_is_caught() {
    caught!(Bug::NameIndexedAtInsert, a_name_follows_its_token_through_renames_and_rotations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_use_note_that_rewrites_the_record_is_caught() {
    caught!(Bug::LastUseRewritesTheRecord, a_last_use_note_never_undoes_a_change);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_only_what_was_read_is_caught() {
    caught!(Bug::DeletesOnlyWhatItRead, replace_keeps_the_last_use_and_delete_removes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_that_hears_only_its_own_instance_is_caught() {
    caught!(across: Bug::CacheHearsOnlyItself, a_change_through_one_instance_is_seen_through_the_other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_per_instance_is_caught() {
    caught!(across: Bug::LocksPerInstance, names_and_caps_hold_across_instances);
    caught!(across: Bug::LocksPerInstance, uses_are_consumed_exactly_across_instances);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_marker_read_outside_the_change_is_caught() {
    caught!(
        across: Bug::ClaimMarkerReadOutside,
        the_setup_claim_has_one_winner_across_instances_and_owners
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_that_hears_only_its_own_instance_is_caught() {
    caught!(across: Bug::SignalHearsOnlyItself, every_instance_hears_every_change);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_use_note_that_rewrites_the_record_on_another_instance_is_caught() {
    caught!(
        across: Bug::LastUseRewritesTheRecord,
        a_last_use_note_never_undoes_a_change_on_another_instance
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_that_reads_the_claim_marker_with_the_records_is_caught() {
    caught!(
        keyed across: Flaw::MarkerReadWithTheRecords,
        the_setup_claim_has_one_winner_across_instances_and_owners
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_that_reads_one_page_of_its_index_is_caught() {
    caught!(keyed: Flaw::IndexReadOnePage, an_owner_with_many_records_is_read_whole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_whose_replace_writes_under_its_hash_is_caught() {
    caught!(keyed: Flaw::ReplaceWritesUnderItsHash, replace_keeps_the_last_use_and_delete_removes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_whose_replace_writes_the_last_use_is_caught() {
    caught!(keyed: Flaw::ReplaceWritesTheLastUse, replace_keeps_the_last_use_and_delete_removes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_whose_last_use_note_writes_the_record_back_is_caught() {
    caught!(keyed: Flaw::LastUseWritesTheRecordBack, a_last_use_note_never_undoes_a_change);
    caught!(
        keyed across: Flaw::LastUseWritesTheRecordBack,
        a_last_use_note_never_undoes_a_change_on_another_instance
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_that_retries_on_its_first_read_is_caught() {
    caught!(keyed: Flaw::RetriesOnTheFirstRead, uses_are_consumed_exactly_under_50_concurrent_calls);
    caught!(keyed across: Flaw::RetriesOnTheFirstRead, uses_are_consumed_exactly_across_instances);
    caught!(keyed: Flaw::RetriesOnTheFirstRead, one_name_wins_among_concurrent_inserts);
    caught!(keyed: Flaw::RetriesOnTheFirstRead, a_cost_of_several_uses_is_taken_whole_or_not_at_all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_whose_clients_cache_lookups_is_caught() {
    caught!(
        keyed across: Flaw::ClientCachesLookups,
        a_change_through_one_instance_is_seen_through_the_other
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_that_lists_unrevoked_as_active_is_caught() {
    caught!(keyed read: Flaw::ListsUnrevokedAsActive, list_filters_by_owner_and_activity);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_that_publishes_locally_is_caught() {
    caught!(keyed across: Flaw::PublishesLocally, every_instance_hears_every_change);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_written_before_owner_limits_is_caught() {
    caught!(keyed: Flaw::OwnerLimitsIgnored, an_owners_budget_is_shared_exactly_by_its_tokens);
    caught!(
        keyed across: Flaw::OwnerLimitsIgnored,
        an_owners_budget_is_shared_exactly_across_instances
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_whose_clients_keep_owner_limits_is_caught() {
    caught!(
        keyed across: Flaw::OwnerLimitsKeptByTheClient,
        an_owners_budget_is_shared_exactly_across_instances
    );
}

/// The handle-local bugs pass the checks of one handle: only the checks
/// across instances find them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_local_bugs_pass_on_one_handle() {
    conformance::revoke_is_visible_at_once(Planted::with(Bug::CacheHearsOnlyItself)).await;
    conformance::delete_is_visible_at_once(Planted::with(Bug::CacheHearsOnlyItself)).await;
    conformance::changes_of_one_owner_never_interleave(Planted::with(Bug::LocksPerInstance)).await;
    conformance::uses_are_consumed_exactly_under_50_concurrent_calls(Planted::with(
        Bug::LocksPerInstance,
    ))
    .await;
    conformance::setup_claim_has_one_winner_among_50(Planted::with(Bug::ClaimMarkerReadOutside))
        .await;
    conformance::every_change_moves_the_signal(Planted::with(Bug::SignalHearsOnlyItself)).await;
    conformance::an_owners_budget_is_shared_exactly_by_its_tokens(Keyed::with(
        Flaw::OwnerLimitsKeptByTheClient,
    ))
    .await;
}

/// Every check that catches a bug above passes on the store without one,
/// so each catch is the bug's doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_pass_without_a_bug() {
    let fresh = || -> Arc<dyn ManageStore> { Arc::new(MemoryStore::new()) };
    let holding = || Holding::writable(fresh());
    conformance::find_by_hash_answers_exactly_that_record(holding()).await;
    conformance::custom_secrets_are_never_denied(holding()).await;
    conformance::revoke_is_visible_at_once(fresh()).await;
    conformance::revoke_owner_is_visible_at_once_for_that_owner_only(fresh()).await;
    conformance::update_is_visible_at_once_and_keeps_names_unique(fresh()).await;
    conformance::rotate_revokes_or_keeps_a_grace_period(fresh()).await;
    conformance::delete_is_visible_at_once(fresh()).await;
    conformance::changes_of_one_owner_never_interleave(fresh()).await;
    conformance::concurrent_changes_of_different_fields_all_land(fresh()).await;
    conformance::cap_holds_under_50_concurrent_inserts(fresh()).await;
    conformance::uses_are_consumed_exactly_under_50_concurrent_calls(fresh()).await;
    conformance::a_cost_of_several_uses_is_taken_whole_or_not_at_all(fresh()).await;
    conformance::one_name_wins_among_concurrent_inserts(fresh()).await;
    conformance::a_rotation_racing_a_change_carries_it(fresh()).await;
    conformance::a_change_reads_what_its_scope_covers_and_no_other_owner(fresh()).await;
    conformance::cap_counts_tokens_in_their_grace_period(fresh()).await;
    conformance::names_are_unique_among_an_owners_active_tokens(fresh()).await;
    conformance::setup_claim_succeeds_once(fresh()).await;
    conformance::setup_claim_has_one_winner_among_50(fresh()).await;
    conformance::setup_claim_refused_once_any_token_was_held(fresh()).await;
    conformance::replace_keeps_the_last_use_and_delete_removes(fresh()).await;
    conformance::a_change_commits_all_its_writes_or_none(fresh()).await;
    conformance::duplicate_id_or_hash_is_refused(fresh()).await;
    conformance::a_last_use_note_never_undoes_a_change(fresh()).await;
    conformance::list_filters_by_owner_and_activity(holding()).await;
    conformance::expiring_follows_rotations_and_revokes(fresh()).await;
    conformance::a_name_follows_its_token_through_renames_and_rotations(fresh()).await;
    conformance::an_owner_with_many_records_is_read_whole(fresh()).await;
    conformance::a_guarded_change_is_a_claim(fresh()).await;
    let cached = || -> Arc<dyn ManageStore> {
        Arc::new(tokenkeep::store::CachedStore::new(MemoryStore::new(), Default::default()))
    };
    conformance::every_change_moves_the_signal(cached()).await;
    let pair = || Planted::pair(Bug::Nothing);
    conformance::a_change_through_one_instance_is_seen_through_the_other(pair()).await;
    conformance::names_and_caps_hold_across_instances(pair()).await;
    conformance::the_setup_claim_has_one_winner_across_instances_and_owners(pair()).await;
    conformance::uses_are_consumed_exactly_across_instances(pair()).await;
    conformance::a_last_use_note_never_undoes_a_change_on_another_instance(pair()).await;
    conformance::every_instance_hears_every_change(pair()).await;
}
