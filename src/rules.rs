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
//! | `delete` | a temporary token is not the store's to delete |
//! | `import` | as `insert`, for what the store holds and the import brings together; records already stored are skipped |
//! | `consume_use`, `consume_uses` | a rotation chain shares one budget whatever its links' states: the newest token of the chain spends it; a cost of several uses is taken whole or not at all; an owner's shared budget is spent in the same change, both or neither |
//! | `set_owner_limits` | applied to the owner's limits as they are inside the change; every active token of the owner is stamped with them in the same change |
//! | `insert`, `rotate`, `import`, `claim_setup` | the new record is stamped with its owner's limits as the change read them |
//! | every write | temporary tokens are never written ([`TokenRules::apply`] refuses them: [`Refusal::Temporary`]) |
//!
//! A plan refuses with a [`Refusal`], which the store passes on only as
//! `store::Refused`: why a rule refused stays with the rule, and a
//! [`RuleError`] says it.

mod chain;
mod error;
#[cfg(feature = "management")]
mod import;
#[cfg(feature = "management")]
mod input;

#[cfg(feature = "management")]
use std::collections::BTreeMap;

use std::borrow::Cow;

use async_trait::async_trait;
use time::OffsetDateTime;

#[cfg(feature = "management")]
use self::import::{Commit, held_by_another, import_owner};
use crate::record::{OwnerLimits, TokenId, TokenKind, TokenRecord, Usage};
use crate::store::{
    ActiveRecords, ChangeScope, Changes, ManageStore, OwnerRecords, Refused, StoreError, Write,
};
use chain::spend_use;
#[cfg(feature = "management")]
pub(crate) use chain::{ChainStart, apply_to_chain};
pub use error::{Refusal, RuleError};
#[cfg(feature = "management")]
pub use input::{ImportReport, InsertRules, OwnerLimitsUpdate, Revocation, Rotation, TokenUpdate};

/// How far a chain of rotations is followed: far beyond any real chain,
/// and a bound on a corrupt one that loops.
pub(crate) const MAX_CHAIN: usize = 100;

/// The operations every [`ManageStore`] has, each one change.
///
/// Implemented for every `ManageStore` (sealed: the rules are the crate's,
/// never a store's). Bring it into scope to call them:
///
/// ```
/// use tokenkeep::rules::{Refusal, RuleError, TokenRules as _};
/// use tokenkeep::store::MemoryStore;
/// # async fn run() -> Result<(), RuleError> {
/// let store = MemoryStore::new();
/// let unknown = tokenkeep::TokenId::random().expect("randomness");
/// let now = tokenkeep::time::OffsetDateTime::now_utc();
/// let spent = store.consume_use(&unknown, now).await;
/// assert!(matches!(spent, Err(RuleError::Refused(Refusal::NotFound))));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
#[async_trait]
pub trait TokenRules: ManageStore + sealed::Sealed {
    /// Runs `plan` in one change of what `scope` covers and returns what it
    /// produced besides the writes. The plan returns `(writes, output)`, or
    /// a [`Refusal`] that abandons the change; a write of a temporary
    /// token is refused here, once for every plan.
    ///
    /// # Errors
    /// The plan's, and as [`ManageStore::change`].
    async fn apply<T, F>(&self, scope: ChangeScope, mut plan: F) -> Result<T, RuleError>
    where
        T: Send,
        F: FnMut(&OwnerRecords) -> Result<(Vec<Write>, T), Refusal> + Send,
    {
        let mut output = None;
        let mut refusal = None;
        let reads_limits = scope.owner_limits;
        let committed = self
            .change(&scope, &mut |read| {
                let planned = plan(read).and_then(|(mut writes, produced)| {
                    never_temporary(read, &writes)?;
                    if reads_limits {
                        stamp_owner_limits(read, &mut writes);
                    } else {
                        debug_assert!(
                            !writes.iter().any(|write| matches!(write, Write::Insert(_))),
                            "a change that inserts reads the owner's limits to stamp them"
                        );
                    }
                    Ok((writes, produced))
                });
                // An optimistic store may run the plan again: the last run counts.
                match planned {
                    Ok((writes, produced)) => {
                        refusal = None;
                        output = Some(produced);
                        Ok(Changes::new(writes))
                    }
                    Err(refused) => {
                        refusal = Some(refused);
                        Err(Refused)
                    }
                }
            })
            .await;
        if let Some(refused) = refusal {
            return Err(refused.into());
        }
        committed?;
        output.ok_or_else(|| {
            StoreError::unavailable("the store committed without running the plan").into()
        })
    }

    /// `token` as the caller read it, or looked up.
    ///
    /// # Errors
    /// [`Refusal::NotFound`], [`StoreError::Unavailable`].
    async fn read_of<'a>(&self, token: Target<'a>) -> Result<Cow<'a, TokenRecord>, RuleError> {
        match token.read {
            Some(record) => Ok(Cow::Borrowed(record)),
            None => {
                let record = self.get(&token.id).await?.ok_or(Refusal::NotFound)?;
                Ok(Cow::Owned(record))
            }
        }
    }

    /// Consumes one use of a usage-limited token, exactly under any
    /// concurrency: of 50 concurrent calls on a token with 10 uses left,
    /// 10 answer `Some`. A token retired by a rotation spends from the
    /// newest token of its chain, so a chain shares one budget. Answers the
    /// usage after, or `None` when none is left (or the token has no usage
    /// limit); nothing is written then.
    ///
    /// # Errors
    /// [`Refusal::NotFound`], [`StoreError::Unavailable`].
    async fn consume_use<'a>(
        &self,
        token: impl Into<Target<'a>> + Send,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, RuleError> {
        self.consume_uses(token, 1, now).await
    }

    /// As [`consume_use`](Self::consume_use), for a call that costs `cost`
    /// uses at once: all of them are taken, or none (`None`) when fewer
    /// are left; exact under any concurrency.
    ///
    /// # Errors
    /// [`Refusal::NotFound`], [`StoreError::Unavailable`].
    async fn consume_uses<'a>(
        &self,
        token: impl Into<Target<'a>> + Send,
        cost: u64,
        now: OffsetDateTime,
    ) -> Result<Option<Usage>, RuleError> {
        let token = token.into();
        let read = self.read_of(token).await?;
        let owner_budget = read.extras.owner_limits.is_some_and(|shared| shared.uses);
        let token = (read.owner.as_str(), &token.id, read.extras.replaced_by);
        spend_use(self, token, owner_budget, (cost, now)).await
    }

    /// Inserts a new record: the owner's tokens that
    /// [hold a name](TokenRecord::holds_name) at `rules.now` must not hold
    /// this one, and the owner's [active](TokenRecord::is_active) tokens
    /// (grace periods included) must be fewer than the cap. Nothing is
    /// removed to make room; when both fail, the name wins.
    ///
    /// # Errors
    /// [`Refusal::NameTaken`], [`Refusal::LimitReached`],
    /// [`StoreError::Duplicate`], [`Refusal::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), RuleError> {
        // Without a cap, only the tokens holding the name matter.
        let scope = match rules.max_active_per_owner {
            Some(_) => ChangeScope::new(&record.owner, rules.now),
            None => ChangeScope::new(&record.owner, rules.now)
                .reading(ActiveRecords::Named(vec![record.name.clone()])),
        }
        .with_owner_limits();
        self.apply(scope, |read| {
            if name_taken(read, &record, rules.now) {
                return Err(Refusal::NameTaken);
            }
            if let Some(limit) = rules.max_active_per_owner
                && active_count(read, rules.now) >= limit
            {
                return Err(Refusal::LimitReached { limit });
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
    async fn claim_setup(&self, record: TokenRecord) -> Result<(), RuleError> {
        let writes = vec![Write::Insert(record.clone())];
        never_temporary(&OwnerRecords::default(), &writes)?;
        let scope = ChangeScope::new(&record.owner, record.created_at)
            .reading(ActiveRecords::Unread)
            .with_owner_limits();
        self.change(&scope, &mut |read| {
            let mut writes = writes.clone();
            stamp_owner_limits(read, &mut writes);
            let mut changes = Changes::new(writes);
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
    /// [`Refusal::NotFound`], [`Refusal::Inactive`],
    /// [`Refusal::NameTaken`], [`Refusal::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn update<'a>(
        &self,
        token: impl Into<Target<'a>> + Send,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, RuleError> {
        let token = token.into();
        let (id, read) = (&token.id, self.read_of(token).await?);
        let owner = &read.owner;
        // A new name is checked against the active tokens holding it.
        let names = update.name.iter().cloned().collect();
        let scope =
            ChangeScope::new(owner, now).reading(ActiveRecords::Named(names)).with_ids([*id]);
        self.apply(scope, |read| {
            let mut record = read.find(id).ok_or(Refusal::NotFound)?.clone();
            if !record.is_active(now) {
                return Err(Refusal::Inactive);
            }
            update.apply_to(&mut record);
            if update.name.is_some()
                && record.extras.replaced_by.is_none()
                && name_taken(read, &record, now)
            {
                return Err(Refusal::NameTaken);
            }
            Ok((vec![Write::Replace(record.clone())], record))
        })
        .await
    }

    /// Marks a token revoked and returns it (the record stays, for the
    /// audit trail). Revoking a revoked token changes nothing.
    ///
    /// # Errors
    /// [`Refusal::NotFound`], [`Refusal::Temporary`],
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke<'a>(
        &self,
        token: impl Into<Target<'a>> + Send,
        revocation: &Revocation,
    ) -> Result<TokenRecord, RuleError> {
        let token = token.into();
        let (id, read) = (&token.id, self.read_of(token).await?);
        // What the caller read goes along: a store may plan on it and write
        // only if the record is still as seen.
        let scope = ChangeScope::new(&read.owner, revocation.at)
            .reading(ActiveRecords::Unread)
            .with_ids([*id])
            .as_seen([read.into_owned()]);
        self.apply(scope, |read| {
            let mut record = read.find(id).ok_or(Refusal::NotFound)?.clone();
            if record.revoked_at.is_some() {
                return Ok((Vec::new(), record));
            }
            revocation.apply_to(&mut record);
            Ok((vec![Write::Replace(record.clone())], record))
        })
        .await
    }

    /// Revokes every token of `owner` active at `revocation.at`, in one
    /// change; returns how many. Temporary tokens are not in the store and
    /// stay.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn revoke_owner(&self, owner: &str, revocation: &Revocation) -> Result<usize, RuleError> {
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
    ) -> Result<usize, RuleError>
    where
        P: Fn(&OwnerRecords) -> Vec<TokenId> + Send + Sync,
    {
        self.apply(scope, |read| {
            let picked = pick(read);
            let writes = revocations(
                read.records.iter().filter(|record| picked.contains(&record.id)),
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
    /// [`Refusal::NotFound`], [`Refusal::Inactive`],
    /// [`Refusal::LimitReached`], [`StoreError::Duplicate`],
    /// [`Refusal::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn rotate<'a>(
        &self,
        old: impl Into<Target<'a>> + Send,
        rotation: Rotation,
    ) -> Result<TokenRecord, RuleError> {
        let old = old.into();
        let (old_id, read) = (old.id, self.read_of(old).await?);
        let owner = &read.owner;
        // Only a grace period under a cap counts the owner's tokens.
        let counted = rotation.grace_until.is_some() && rotation.max_active_per_owner.is_some();
        let active = if counted { ActiveRecords::All } else { ActiveRecords::Unread };
        let scope = ChangeScope::new(owner, rotation.now)
            .reading(active)
            .with_ids([old_id])
            .with_owner_limits();
        self.apply(scope, |read| {
            let mut retired = read.find(&old_id).ok_or(Refusal::NotFound)?.clone();
            if !retired.holds_name(rotation.now) {
                return Err(Refusal::Inactive);
            }
            if !rotation.fits_the_cap(active_count(read, rotation.now)) {
                return Err(Refusal::LimitReached {
                    limit: rotation.max_active_per_owner.unwrap_or(0),
                });
            }
            let replacement = rotation.replacement_for(&retired);
            rotation.retire(&mut retired);
            let writes = vec![Write::Replace(retired), Write::Insert(replacement.clone())];
            Ok((writes, replacement))
        })
        .await
    }

    /// The limits every token of `owner` shares, as they are at `now`
    /// (a due refill applied); empty when none are set.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn owner_limits(
        &self,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<OwnerLimits, RuleError> {
        let scope = ChangeScope::new(owner, now).reading(ActiveRecords::Unread).with_owner_limits();
        self.apply(scope, |read| Ok((Vec::new(), read.limits.unwrap_or_default().at(now)))).await
    }

    /// Changes the limits every token of `owner` shares, and stamps each of
    /// the owner's active tokens with them, in one change: from the next
    /// verification on, every token of the owner, and every token minted
    /// after, spends from them. Returns the limits as they now are.
    ///
    /// ```
    /// use tokenkeep::record::Usage;
    /// use tokenkeep::rules::{OwnerLimitsUpdate, TokenRules as _};
    /// use tokenkeep::store::MemoryStore;
    /// # async fn run() -> Result<(), tokenkeep::rules::RuleError> {
    /// let store = MemoryStore::new();
    /// let now = tokenkeep::time::OffsetDateTime::now_utc();
    /// let budget = Usage::new(1_000, now).expect("within bounds");
    /// let update = OwnerLimitsUpdate { usage: Some(Some(budget)), ..Default::default() };
    /// let limits = store.set_owner_limits("alice", &update, now).await?;
    /// assert_eq!(limits.usage.map(|usage| usage.remaining), Some(1_000));
    /// assert_eq!(store.owner_limits("alice", now).await?, limits);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn set_owner_limits(
        &self,
        owner: &str,
        update: &OwnerLimitsUpdate,
        now: OffsetDateTime,
    ) -> Result<OwnerLimits, RuleError> {
        let scope = ChangeScope::new(owner, now).with_owner_limits();
        self.apply(scope, |read| {
            let limits = update.apply_to(read.limits.unwrap_or_default().at(now));
            let shared = limits.shared();
            let mut writes: Vec<Write> = stored(read)
                .filter(|record| record.is_active(now) && record.extras.owner_limits != shared)
                .map(|record| {
                    let mut stamped = record.clone();
                    stamped.extras.owner_limits = shared;
                    Write::Replace(stamped)
                })
                .collect();
            writes.push(Write::OwnerLimits(limits));
            Ok((writes, limits))
        })
        .await
    }

    /// Removes a record for good (a data-removal request); returns whether
    /// it existed. [`has_ever_held_token`](crate::store::TokenStore::has_ever_held_token)
    /// stays true.
    ///
    /// # Errors
    /// [`Refusal::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn delete<'a>(&self, token: impl Into<Target<'a>> + Send) -> Result<bool, RuleError> {
        let token = token.into();
        let id = &token.id;
        let read = match self.read_of(token).await {
            Ok(read) => read,
            Err(RuleError::Refused(Refusal::NotFound)) => return Ok(false),
            Err(error) => return Err(error),
        };
        let scope = ChangeScope::new(&read.owner, OffsetDateTime::now_utc())
            .reading(ActiveRecords::Unread)
            .with_ids([*id]);
        self.apply(scope, |read| match read.find(id) {
            Some(_) => Ok((vec![Write::Delete(*id)], true)),
            None => Ok((Vec::new(), false)),
        })
        .await
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
    /// [`Refusal::NameTaken`], [`Refusal::LimitReached`],
    /// [`Refusal::Temporary`], [`StoreError::Unavailable`].
    #[cfg(feature = "management")]
    async fn import(
        &self,
        records: Vec<TokenRecord>,
        rules: InsertRules,
    ) -> Result<ImportReport, RuleError> {
        if records.iter().any(|record| record.kind == TokenKind::Temporary) {
            return Err(Refusal::Temporary.into());
        }
        let mut by_owner: BTreeMap<String, Vec<TokenRecord>> = BTreeMap::new();
        for record in records {
            by_owner.entry(record.owner.clone()).or_default().push(record);
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
                    Err(RuleError::Store(StoreError::Duplicate)) => {
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

impl<S: ManageStore + ?Sized> TokenRules for S {}

/// The token a rule acts on: its id, and the record as the caller last
/// read it when it has one. Its owner then spares the rule a read, and a
/// rotation chain's walk starts from the successor it names; the change
/// reads the token again either way, so a stale copy costs nothing but a
/// retry.
///
/// ```
/// use tokenkeep::rules::Target;
/// let id = tokenkeep::TokenId::random()?;
/// let by_id: Target<'_> = (&id).into();
/// assert_eq!(by_id.id(), id);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    id: TokenId,
    read: Option<&'a TokenRecord>,
}

impl<'a> Target<'a> {
    /// The token with this id, looked up by the rule.
    pub fn id_only(id: TokenId) -> Self {
        Self { id, read: None }
    }

    /// The token as the caller read it.
    pub fn read(record: &'a TokenRecord) -> Self {
        Self { id: record.id, read: Some(record) }
    }

    /// The token's id.
    pub fn id(&self) -> TokenId {
        self.id
    }
}

impl From<TokenId> for Target<'_> {
    fn from(id: TokenId) -> Self {
        Self::id_only(id)
    }
}

impl From<&TokenId> for Target<'_> {
    fn from(id: &TokenId) -> Self {
        Self::id_only(*id)
    }
}

impl<'a> From<&'a TokenRecord> for Target<'a> {
    fn from(record: &'a TokenRecord) -> Self {
        Self::read(record)
    }
}

mod sealed {
    pub trait Sealed {}
    impl<S: super::ManageStore + ?Sized> Sealed for S {}
}

/// The owner's stored tokens: temporary ones (which a layer may show a
/// plan) are the configuration's, and neither count toward the cap nor
/// hold a name against a stored token.
#[cfg(feature = "management")]
pub(crate) fn stored(read: &OwnerRecords) -> impl Iterator<Item = &TokenRecord> {
    read.records.iter().filter(|record| record.kind == TokenKind::Persistent)
}

/// Stamps every record `writes` inserts with what it carries of its
/// owner's limits as the change read them: a token minted, rotated in or
/// imported shares its owner's limits from its first use.
fn stamp_owner_limits(read: &OwnerRecords, writes: &mut [Write]) {
    let shared = read.limits.and_then(|limits| limits.shared());
    for write in writes {
        if let Write::Insert(record) = write {
            record.extras.owner_limits = shared;
        }
    }
}

/// Refuses a write of a temporary token (or a delete of one the plan
/// read): temporary tokens live in process memory only, and no plan
/// writes one.
fn never_temporary(read: &OwnerRecords, writes: &[Write]) -> Result<(), Refusal> {
    let temporary = |record: &TokenRecord| record.kind == TokenKind::Temporary;
    let refused = writes.iter().any(|write| match write {
        Write::Insert(record) | Write::Replace(record) => temporary(record),
        Write::Delete(id) => read.find(id).is_some_and(temporary),
        Write::OwnerLimits(_) => false,
    });
    if refused { Err(Refusal::Temporary) } else { Ok(()) }
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
pub(crate) fn active_count(read: &OwnerRecords, now: OffsetDateTime) -> usize {
    stored(read).filter(|record| record.is_active(now)).count()
}

/// Whether another of the owner's stored tokens holds `record`'s name at `now`.
#[cfg(feature = "management")]
fn name_taken(read: &OwnerRecords, record: &TokenRecord, now: OffsetDateTime) -> bool {
    stored(read)
        .any(|other| other.id != record.id && other.holds_name(now) && other.name == record.name)
}
