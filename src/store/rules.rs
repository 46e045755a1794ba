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
        let owner = self.owner_of(id).await?;
        spend_use(self, &owner, id, now).await
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
            let writes: Vec<Write> = stored(read)
                .filter(|record| record.is_active(revocation.at) && picked.contains(&record.id))
                .map(|record| {
                    let mut revoked = record.clone();
                    revocation.apply_to(&mut revoked);
                    Write::Replace(revoked)
                })
                .collect();
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
    /// they are: one change per owner. A record whose id or hash is already
    /// stored is skipped. If any record is temporary, nothing is written.
    /// Not atomic across owners: after a failure, importing the same
    /// records again finishes the job (written ones are skipped).
    ///
    /// # Errors
    /// [`StoreError::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        if records
            .iter()
            .any(|record| record.kind == TokenKind::Temporary)
        {
            return Err(StoreError::Temporary);
        }
        let mut report = ImportReport::default();
        let mut by_owner: BTreeMap<String, Vec<TokenRecord>> = BTreeMap::new();
        for record in records {
            by_owner
                .entry(record.owner.clone())
                .or_default()
                .push(record);
        }
        for (owner, incoming) in by_owner {
            let (imported, skipped) = match import_owner(self, &owner, &incoming).await {
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
                    let (imported, skipped) = import_owner(self, &owner, &kept).await?;
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

/// Imports `incoming` (all of `owner`) in one change: a record whose id
/// or hash the owner holds, or that comes twice, is skipped. Answers how
/// many were imported and skipped.
#[cfg(feature = "management")]
async fn import_owner<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    incoming: &[TokenRecord],
) -> Result<(usize, usize), StoreError> {
    use std::collections::HashSet;
    let scope = ChangeScope::new(owner, OffsetDateTime::now_utc())
        .reading(ActiveRecords::Unread)
        .with_ids(incoming.iter().map(|record| record.id))
        .with_hashes(incoming.iter().map(|record| record.hash));
    store
        .apply(scope, |read| {
            let mut ids: HashSet<TokenId> = read.records.iter().map(|record| record.id).collect();
            let mut hashes: HashSet<_> = read.records.iter().map(|record| record.hash).collect();
            let writes: Vec<Write> = incoming
                .iter()
                .filter(|record| ids.insert(record.id) & hashes.insert(record.hash))
                .map(|record| Write::Insert(record.clone()))
                .collect();
            let imported = writes.len();
            Ok((writes, (imported, incoming.len() - imported)))
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
/// already knows.
pub(crate) async fn spend_use<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    id: &TokenId,
    now: OffsetDateTime,
) -> Result<Option<Usage>, StoreError> {
    // The token alone first: a token never rotated spends its own uses.
    // One rotated reads the owner's active tokens, where its successors are.
    let alone = ChangeScope::new(owner, now).reading(ActiveRecords::Unread);
    for scope in [alone, ChangeScope::new(owner, now)] {
        let successors_unread = scope.active == ActiveRecords::Unread;
        let spent = store
            .apply(scope.with_ids([*id]), |read| {
                let holder = budget_holder(read, id).ok_or(StoreError::NotFound)?;
                if successors_unread && holder.replaced_by.is_some() {
                    return Ok((Vec::new(), Spent::NeedsChain));
                }
                let Some(after) = holder.usage.and_then(|usage| usage.consume(now)) else {
                    return Ok((Vec::new(), Spent::Done(None)));
                };
                let mut spent = holder.clone();
                spent.usage = Some(after);
                Ok((vec![Write::Replace(spent)], Spent::Done(Some(after))))
            })
            .await?;
        if let Spent::Done(after) = spent {
            return Ok(after);
        }
    }
    Err(StoreError::unavailable(
        "the store did not read the token's rotation chain",
    ))
}

/// What one attempt to spend a use came to.
enum Spent {
    Done(Option<Usage>),
    /// The token was rotated, and its successors were not read.
    NeedsChain,
}

/// Whose usage budget a verification of `id` spends: the newest token of
/// its rotation chain. A rotation with a grace period leaves two tokens
/// working, and the successor starts with the old one's uses left; were
/// each to spend its own copy, 10 uses would give 20 successes.
fn budget_holder<'a>(read: &'a OwnerRecords, id: &TokenId) -> Option<&'a TokenRecord> {
    let record = read.find(id)?;
    Some(successors(read, record).last().copied().unwrap_or(record))
}

/// The successors of `record`, oldest first, as its rotation chain names
/// them: the one walk of a chain, for the usage budget and for reuse
/// detection alike. Bounded, so a corrupt chain that loops ends.
pub(crate) fn successors<'a>(read: &'a OwnerRecords, record: &TokenRecord) -> Vec<&'a TokenRecord> {
    let mut chain = Vec::new();
    let mut next = record.replaced_by;
    while let Some(successor) = next.and_then(|id| read.find(&id)) {
        if chain.len() == MAX_CHAIN {
            break;
        }
        chain.push(successor);
        next = successor.replaced_by;
    }
    chain
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
