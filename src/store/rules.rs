//! The rules about tokens, written once as plans over
//! [`ManageStore::change`]: every store that runs a plan atomically gets
//! each of them right by construction, and no backend checks any of them.
//!
//! | operation | the rule, checked inside the change |
//! | --- | --- |
//! | `insert` | the name is free among the owner's name-holding tokens; the owner's active tokens (grace periods counted) are fewer than the cap; the name wins when both fail |
//! | `claim_setup` | only while the store has never held a token |
//! | `update` | the token is active; a new name is free |
//! | `revoke`, `revoke_owner` | a revoked token keeps its first revocation |
//! | `rotate` | the old token holds its name (active, not yet rotated); a grace period leaves room under the cap; the replacement is built from the old record as it is inside the change |
//! | `consume_use` | a rotation chain shares one budget: the newest token of the chain spends it |
//! | every write | temporary tokens are never written ([`Changes::new`]) |

#[cfg(feature = "management")]
use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ActiveRecords, ChangeScope, Changes, ManageStore, OwnerRecords, StoreError, Write};
#[cfg(feature = "management")]
use super::{ImportReport, InsertRules, Revocation, Rotation, TokenUpdate};
#[cfg(feature = "management")]
use crate::record::TokenKind;
use crate::record::{TokenId, TokenRecord, Usage};

/// How far a chain of rotations is followed: far beyond any real chain,
/// and a bound on a corrupt one that loops.
const MAX_CHAIN: usize = 100;

/// The operations every [`ManageStore`] has, each one change.
///
/// Implemented for every `ManageStore` (sealed: the rules are the crate's,
/// never a store's). Bring it into scope to call them:
///
/// ```
/// use tokenkeep::store::{ManageStoreExt as _, MemoryStore, StoreError};
/// # async fn run() -> Result<(), StoreError> {
/// let store = MemoryStore::new();
/// let unknown = tokenkeep::TokenId::random().expect("randomness");
/// let now = tokenkeep::time::OffsetDateTime::now_utc();
/// let spent = store.consume_use(&unknown, now).await;
/// assert!(matches!(spent, Err(StoreError::NotFound)));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[async_trait]
pub trait ManageStoreExt: ManageStore + sealed::Sealed {
    /// Runs `plan` in one change of what `scope` covers and returns what it produced
    /// besides the writes. The plan returns `(writes, output)`; its writes
    /// pass [`Changes::new`].
    ///
    /// # Errors
    /// The plan's, and as [`ManageStore::change`].
    async fn apply<T, F>(&self, scope: ChangeScope, mut plan: F) -> Result<T, StoreError>
    where
        T: Send,
        F: FnMut(&OwnerRecords) -> Result<(Vec<Write>, T), StoreError> + Send,
    {
        let mut output = None;
        self.change(&scope, &mut |read| {
            let (writes, produced) = plan(read)?;
            output = Some(produced);
            Changes::new(read, writes)
        })
        .await?;
        output
            .ok_or_else(|| StoreError::unavailable("the store committed without running the plan"))
    }

    /// The owner of the token with this id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Unavailable`].
    async fn owner_of(&self, id: &TokenId) -> Result<String, StoreError> {
        let record = self.get(id).await?.ok_or(StoreError::NotFound)?;
        Ok(record.owner)
    }

    /// Consumes one use of a usage-limited token, exactly under any
    /// concurrency: of 50 concurrent calls on a token with 10 uses left,
    /// 10 answer `Some`. A token retired by a rotation spends from the
    /// newest token of its chain, so a chain shares one budget. Answers the
    /// usage after, or `None` when none is left (or the token has no usage
    /// limit); nothing is written then.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Unavailable`].
    async fn consume_use(
        &self,
        id: &TokenId,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, StoreError> {
        let record = self.get(id).await?.ok_or(StoreError::NotFound)?;
        spend_use(self, &record.owner, id, record.replaced_by, now).await
    }

    /// Inserts a new record: the owner's tokens that
    /// [hold a name](TokenRecord::holds_name) at `rules.now` must not hold
    /// this one, and the owner's [active](TokenRecord::is_active) tokens
    /// (grace periods included) must be fewer than the cap. Nothing is
    /// removed to make room; when both fail, the name wins.
    ///
    /// # Errors
    /// [`StoreError::NameTaken`], [`StoreError::LimitReached`],
    /// [`StoreError::Duplicate`], [`StoreError::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        // Without a cap, only the tokens holding the name matter.
        let scope = match rules.max_active_per_owner {
            Some(_) => ChangeScope::new(&record.owner, rules.now),
            None => ChangeScope::new(&record.owner, rules.now)
                .reading(ActiveRecords::Named(vec![record.name.clone()])),
        };
        self.apply(scope, |read| {
            if name_taken(read, &record, rules.now) {
                return Err(StoreError::NameTaken);
            }
            if let Some(limit) = rules.max_active_per_owner
                && active_count(read, rules.now) >= limit
            {
                return Err(StoreError::LimitReached { limit });
            }
            Ok((vec![Write::Insert(record.clone())], ()))
        })
        .await
    }

    /// Inserts the first token of a fresh installation, only while the
    /// store has never held a token: of any number of concurrent claims,
    /// exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError::AlreadyClaimed`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        let scope =
            ChangeScope::new(&record.owner, record.created_at).reading(ActiveRecords::Unread);
        self.change(&scope, &mut |read| {
            let mut changes = Changes::new(read, vec![Write::Insert(record.clone())])?;
            changes.only_if_never_held = true;
            Ok(changes)
        })
        .await?;
        Ok(())
    }

    /// Changes an active token and returns it as it now is; the change is
    /// applied to the record as it is inside the change, so concurrent
    /// changes of different fields all land. A new name must be free among
    /// the owner's other name-holding tokens; a token in its rotation grace
    /// keeps no name of its own to clash.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`],
    /// [`StoreError::NameTaken`], [`StoreError::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let owner = self.owner_of(id).await?;
        update_of(self, &owner, id, update, now).await
    }

    /// Marks a token revoked and returns it (the record stays, for the
    /// audit trail). Revoking a revoked token changes nothing.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        let owner = self.owner_of(id).await?;
        revoke_of(self, &owner, id, revocation).await
    }

    /// Revokes every token of `owner` active at `revocation.at`, in one
    /// change; returns how many. Temporary tokens are not in the store and
    /// stay.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        let all = |read: &OwnerRecords| read.records.iter().map(|record| record.id).collect();
        let scope = ChangeScope::new(owner, revocation.at);
        self.revoke_where(scope, revocation, all).await
    }

    /// Revokes, in one change of what `scope` covers, the tokens that
    /// `pick` names from the records as they are inside the change, those
    /// of them that are active and stored; returns how many.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke_where<P>(
        &self,
        scope: ChangeScope,
        revocation: &Revocation,
        pick: P,
    ) -> Result<usize, StoreError>
    where
        P: Fn(&OwnerRecords) -> Vec<TokenId> + Send + Sync,
    {
        self.apply(scope, |read| {
            let picked = pick(read);
            let writes = revocations(
                read.records
                    .iter()
                    .filter(|record| picked.contains(&record.id)),
                revocation,
            );
            let count = writes.len();
            Ok((writes, count))
        })
        .await
    }

    /// Replaces an active, not yet replaced token and returns the
    /// replacement, built from the old record as it is inside the change
    /// ([`Rotation::replacement_for`]); the old token is retired as
    /// [`Rotation::retire`] says. A grace period leaves both working, so
    /// the owner's active tokens must leave room for one more.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Inactive`],
    /// [`StoreError::LimitReached`], [`StoreError::Duplicate`],
    /// [`StoreError::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        let owner = self.owner_of(&rotation.old).await?;
        rotate_of(self, &owner, rotation).await
    }

    /// Removes a record for good (a data-removal request); returns whether
    /// it existed. [`has_ever_held_token`](super::TokenStore::has_ever_held_token)
    /// stays true.
    ///
    /// # Errors
    /// [`StoreError::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        match self.owner_of(id).await {
            Ok(owner) => delete_of(self, &owner, id).await,
            Err(StoreError::NotFound) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes records exported from another store, history included, as
    /// they are, held to the rules an insert is: in each owner's change,
    /// the owner's tokens [holding a name](TokenRecord::holds_name) at
    /// `rules.now`, stored and imported, hold each name once, and the
    /// owner's [active](TokenRecord::is_active) tokens, stored and
    /// imported, are at most the cap. A record whose id or hash is already
    /// stored is skipped. If any record is temporary, nothing is written.
    ///
    /// Every owner's rules are checked before any is written, so a refused
    /// import writes nothing; they are checked again inside each owner's
    /// write, so a concurrent issue cannot slip past them. Across owners an
    /// import is not atomic: after a failure, importing the same records
    /// again finishes the job (written ones are skipped).
    ///
    /// # Errors
    /// [`StoreError::NameTaken`], [`StoreError::LimitReached`],
    /// [`StoreError::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn import(
        &self,
        records: Vec<TokenRecord>,
        rules: InsertRules,
    ) -> Result<ImportReport, StoreError> {
        if records
            .iter()
            .any(|record| record.kind == TokenKind::Temporary)
        {
            return Err(StoreError::Temporary);
        }
        let mut by_owner: BTreeMap<String, Vec<TokenRecord>> = BTreeMap::new();
        for record in records {
            by_owner
                .entry(record.owner.clone())
                .or_default()
                .push(record);
        }
        for (owner, incoming) in &by_owner {
            import_owner(self, owner, incoming, rules, Commit::No).await?;
        }
        let mut report = ImportReport::default();
        for (owner, incoming) in by_owner {
            let (imported, skipped) =
                match import_owner(self, &owner, &incoming, rules, Commit::Yes).await {
                    // Another owner holds one of these ids or hashes: found
                    // record by record, and skipped as any record present is.
                    Err(StoreError::Duplicate) => {
                        let mut kept = Vec::with_capacity(incoming.len());
                        let mut elsewhere = 0;
                        for record in incoming {
                            if held_by_another(self, &record).await? {
                                elsewhere += 1;
                            } else {
                                kept.push(record);
                            }
                        }
                        let (imported, skipped) =
                            import_owner(self, &owner, &kept, rules, Commit::Yes).await?;
                        (imported, skipped + elsewhere)
                    }
                    outcome => outcome?,
                };
            report.imported += imported;
            report.skipped += skipped;
        }
        Ok(report)
    }
}

impl<S: ManageStore + ?Sized> ManageStoreExt for S {}

mod sealed {
    pub trait Sealed {}
    impl<S: super::ManageStore + ?Sized> Sealed for S {}
}

/// [`ManageStoreExt::update`] for a caller that knows the token's owner
/// already (the manager, which resolved the token): one read fewer.
#[cfg(feature = "management")]
pub(crate) async fn update_of<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    id: &TokenId,
    update: &TokenUpdate,
    now: OffsetDateTime,
) -> Result<TokenRecord, StoreError> {
    // A new name is checked against the active tokens holding it.
    let names = update.name.iter().cloned().collect();
    let scope = ChangeScope::new(owner, now)
        .reading(ActiveRecords::Named(names))
        .with_ids([*id]);
    store
        .apply(scope, |read| {
            let mut record = read.find(id).ok_or(StoreError::NotFound)?.clone();
            if !record.is_active(now) {
                return Err(StoreError::Inactive);
            }
            update.apply_to(&mut record);
            if update.name.is_some()
                && record.replaced_by.is_none()
                && name_taken(read, &record, now)
            {
                return Err(StoreError::NameTaken);
            }
            Ok((vec![Write::Replace(record.clone())], record))
        })
        .await
}

/// [`ManageStoreExt::revoke`] for a caller that knows the owner.
#[cfg(feature = "management")]
pub(crate) async fn revoke_of<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    id: &TokenId,
    revocation: &Revocation,
) -> Result<TokenRecord, StoreError> {
    let scope = ChangeScope::new(owner, revocation.at)
        .reading(ActiveRecords::Unread)
        .with_ids([*id]);
    store
        .apply(scope, |read| {
            let mut record = read.find(id).ok_or(StoreError::NotFound)?.clone();
            if record.revoked_at.is_some() {
                return Ok((Vec::new(), record));
            }
            revocation.apply_to(&mut record);
            Ok((vec![Write::Replace(record.clone())], record))
        })
        .await
}

/// [`ManageStoreExt::rotate`] for a caller that knows the owner.
#[cfg(feature = "management")]
pub(crate) async fn rotate_of<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    rotation: Rotation,
) -> Result<TokenRecord, StoreError> {
    // Only a grace period under a cap counts the owner's tokens.
    let counted = rotation.grace_until.is_some() && rotation.max_active_per_owner.is_some();
    let active = if counted {
        ActiveRecords::All
    } else {
        ActiveRecords::Unread
    };
    let scope = ChangeScope::new(owner, rotation.now)
        .reading(active)
        .with_ids([rotation.old]);
    store
        .apply(scope, |read| {
            let mut old = read
                .find(&rotation.old)
                .ok_or(StoreError::NotFound)?
                .clone();
            if !old.holds_name(rotation.now) {
                return Err(StoreError::Inactive);
            }
            if !rotation.fits_the_cap(active_count(read, rotation.now)) {
                return Err(StoreError::LimitReached {
                    limit: rotation.max_active_per_owner.unwrap_or(0),
                });
            }
            let replacement = rotation.replacement_for(&old);
            rotation.retire(&mut old);
            let writes = vec![Write::Replace(old), Write::Insert(replacement.clone())];
            Ok((writes, replacement))
        })
        .await
}

/// [`ManageStoreExt::delete`] for a caller that knows the owner.
#[cfg(feature = "management")]
pub(crate) async fn delete_of<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    id: &TokenId,
) -> Result<bool, StoreError> {
    let scope = ChangeScope::new(owner, OffsetDateTime::now_utc())
        .reading(ActiveRecords::Unread)
        .with_ids([*id]);
    store
        .apply(scope, |read| match read.find(id) {
            Some(_) => Ok((vec![Write::Delete(*id)], true)),
            None => Ok((Vec::new(), false)),
        })
        .await
}

/// Whether an import's change writes what its plan decides, or only
/// checks the rules.
#[cfg(feature = "management")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    Yes,
    No,
}

/// Imports `incoming` (all of `owner`) in one change: a record whose id
/// or hash the owner holds, or that comes twice, is skipped; the rest,
/// with what the owner holds, keep the names unique and the cap. Answers
/// how many were imported and skipped.
#[cfg(feature = "management")]
async fn import_owner<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    incoming: &[TokenRecord],
    rules: InsertRules,
    commit: Commit,
) -> Result<(usize, usize), StoreError> {
    use std::collections::HashSet;
    let now = rules.now;
    // Without a cap, only the tokens holding an imported name matter.
    let active = match rules.max_active_per_owner {
        Some(_) => ActiveRecords::All,
        None => ActiveRecords::Named(
            incoming
                .iter()
                .filter(|record| record.holds_name(now))
                .map(|record| record.name.clone())
                .collect(),
        ),
    };
    let scope = ChangeScope::new(owner, now)
        .reading(active)
        .with_ids(incoming.iter().map(|record| record.id))
        .with_hashes(incoming.iter().map(|record| record.hash));
    store
        .apply(scope, |read| {
            let mut ids: HashSet<TokenId> = read.records.iter().map(|record| record.id).collect();
            let mut hashes: HashSet<_> = read.records.iter().map(|record| record.hash).collect();
            let new: Vec<&TokenRecord> = incoming
                .iter()
                .filter(|record| ids.insert(record.id) & hashes.insert(record.hash))
                .collect();
            let mut names = HashSet::new();
            let holding = stored(read).chain(new.iter().copied());
            if !holding
                .filter(|record| record.holds_name(now))
                .all(|record| names.insert(&record.name))
            {
                return Err(StoreError::NameTaken);
            }
            if let Some(limit) = rules.max_active_per_owner {
                let imported = new.iter().filter(|record| record.is_active(now)).count();
                if active_count(read, now) + imported > limit {
                    return Err(StoreError::LimitReached { limit });
                }
            }
            let outcome = (new.len(), incoming.len() - new.len());
            let writes = match commit {
                Commit::Yes => new.into_iter().cloned().map(Write::Insert).collect(),
                Commit::No => Vec::new(),
            };
            Ok((writes, outcome))
        })
        .await
}

/// Whether another owner holds a record with this one's id or hash.
#[cfg(feature = "management")]
async fn held_by_another<S: ManageStore + ?Sized>(
    store: &S,
    record: &TokenRecord,
) -> Result<bool, StoreError> {
    let by_id = store.get(&record.id).await?;
    let by_hash = match by_id {
        Some(_) => None,
        None => store.find_by_hash(&record.hash).await?,
    };
    let other = by_id.as_ref().or(by_hash.as_deref());
    Ok(other.is_some_and(|stored| stored.owner != record.owner))
}

/// One use of `id` (an `owner`'s token), spent from the newest token of
/// its rotation chain; the verification path calls it with the owner it
/// already knows and the successor the token named when it was read.
pub(crate) async fn spend_use<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    id: &TokenId,
    successor: Option<TokenId>,
    now: OffsetDateTime,
) -> Result<Option<Usage>, StoreError> {
    let start = ChainStart {
        owner,
        id: *id,
        successor,
        now,
    };
    apply_to_chain(store, start, |_, record, chain| {
        // A rotation with a grace period leaves two tokens working, and
        // the successor starts with the old one's uses left; were each to
        // spend its own copy, 10 uses would give 20 successes. So the
        // newest link holds the budget, whatever the state of the links
        // between.
        let holder = chain.last().copied().unwrap_or(record);
        let Some(after) = holder.usage.and_then(|usage| usage.consume(now)) else {
            return Ok((Vec::new(), None));
        };
        let mut spent = holder.clone();
        spent.usage = Some(after);
        Ok((vec![Write::Replace(spent)], Some(after)))
    })
    .await
}

/// Where a walk of a rotation chain starts: the owner's token `id`, and
/// the successor it was last seen to name (a hint: the change reads the
/// chain again).
pub(crate) struct ChainStart<'a> {
    pub(crate) owner: &'a str,
    pub(crate) id: TokenId,
    pub(crate) successor: Option<TokenId>,
    pub(crate) now: OffsetDateTime,
}

/// Runs `plan` in one change that reads the whole rotation chain after
/// `start.id`, every link whatever its state (revoked, expired, out of its
/// grace): a chain is one chain, and a link that no longer verifies is
/// walked through, never a place to stop. The plan gets the token and its
/// successors, oldest first.
///
/// A change reads the records it names, so the chain is named link by
/// link: what the store held before the change is a hint, and a link the
/// change finds but did not read (a rotation that landed meanwhile) is
/// named in the next try. Each try names one link more, so it ends.
pub(crate) async fn apply_to_chain<S, T, F>(
    store: &S,
    start: ChainStart<'_>,
    mut plan: F,
) -> Result<T, StoreError>
where
    S: ManageStore + ?Sized,
    T: Send,
    F: FnMut(&OwnerRecords, &TokenRecord, &[&TokenRecord]) -> Result<(Vec<Write>, T), StoreError>
        + Send,
{
    let mut named = vec![start.id];
    let mut unread = start.successor;
    loop {
        if let Some(next) = unread {
            read_links(store, next, &mut named).await?;
        }
        let scope = ChangeScope::new(start.owner, start.now)
            .reading(ActiveRecords::Unread)
            .with_ids(named.iter().copied());
        let walked = store
            .apply(scope, |read| {
                let record = read.find(&start.id).ok_or(StoreError::NotFound)?;
                match walk_chain(read, record, &named) {
                    Ok(chain) => plan(read, record, &chain).map(|(writes, out)| (writes, Ok(out))),
                    Err(next) => Ok((Vec::new(), Err(next))),
                }
            })
            .await?;
        match walked {
            Ok(out) => return Ok(out),
            Err(next) if named.len() <= MAX_CHAIN => unread = Some(next),
            Err(_) => {
                return Err(StoreError::unavailable(
                    "a rotation chain is longer than any rotation makes",
                ));
            }
        }
    }
}

/// Names `first` and the links after it as the store holds them now, up
/// to the bound; a link that cannot be found ends the list.
async fn read_links<S: ManageStore + ?Sized>(
    store: &S,
    first: TokenId,
    named: &mut Vec<TokenId>,
) -> Result<(), StoreError> {
    let mut next = Some(first);
    while let Some(id) = next.filter(|id| named.len() <= MAX_CHAIN && !named.contains(id)) {
        named.push(id);
        next = store.get(&id).await?.and_then(|link| link.replaced_by);
    }
    Ok(())
}

/// The successors of `record`, oldest first, as the change read them: the
/// one walk of a chain. A link that `named` names but the change did not
/// find was deleted, and ends the chain; one it does not name is the
/// `Err`, to be read. Bounded, so a corrupt chain that loops ends.
fn walk_chain<'a>(
    read: &'a OwnerRecords,
    record: &TokenRecord,
    named: &[TokenId],
) -> Result<Vec<&'a TokenRecord>, TokenId> {
    let mut chain = Vec::new();
    let mut next = record.replaced_by;
    while let Some(id) = next.filter(|_| chain.len() < MAX_CHAIN) {
        match read.find(&id) {
            Some(successor) => {
                chain.push(successor);
                next = successor.replaced_by;
            }
            None if named.contains(&id) => break,
            None => return Err(id),
        }
    }
    Ok(chain)
}

/// The owner's stored tokens: temporary ones (which a layer may show a
/// plan) are the configuration's, and neither count toward the cap nor
/// hold a name against a stored token.
#[cfg(feature = "management")]
fn stored(read: &OwnerRecords) -> impl Iterator<Item = &TokenRecord> {
    read.records
        .iter()
        .filter(|record| record.kind == TokenKind::Persistent)
}

/// The writes that revoke those of `records` that are stored and active
/// when `revocation` is made; a revoked token keeps its first revocation.
#[cfg(feature = "management")]
pub(crate) fn revocations<'a>(
    records: impl Iterator<Item = &'a TokenRecord>,
    revocation: &Revocation,
) -> Vec<Write> {
    records
        .filter(|record| record.kind == TokenKind::Persistent && record.is_active(revocation.at))
        .map(|record| {
            let mut revoked = record.clone();
            revocation.apply_to(&mut revoked);
            Write::Replace(revoked)
        })
        .collect()
}

/// How many of the owner's stored tokens still verify at `now`.
#[cfg(feature = "management")]
fn active_count(read: &OwnerRecords, now: OffsetDateTime) -> usize {
    stored(read).filter(|record| record.is_active(now)).count()
}

/// Whether another of the owner's stored tokens holds `record`'s name at `now`.
#[cfg(feature = "management")]
fn name_taken(read: &OwnerRecords, record: &TokenRecord, now: OffsetDateTime) -> bool {
    stored(read)
        .any(|other| other.id != record.id && other.holds_name(now) && other.name == record.name)
}
