//! Import as one change per owner, held to the rules an insert is.

use std::collections::HashSet;

use super::{InsertRules, Refusal, RuleError, TokenRules as _, active_count, stored};
use crate::record::{TokenId, TokenRecord};
use crate::store::{ActiveRecords, ChangeScope, ManageStore, StoreError, Write};

/// The most imported names an owner's change reads one by one; more, and
/// it reads the owner's active tokens at once.
const NAMES_READ_ONE_BY_ONE: usize = 16;

/// Whether an import's change writes what its plan decides, or only
/// checks the rules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Commit {
    Yes,
    No,
}

/// Imports `incoming` (all of `owner`) in one change: a record whose id
/// or hash the owner holds, or that comes twice, is skipped; the rest,
/// with what the owner holds, keep the names unique and the cap. Answers
/// how many were imported and skipped.
pub(super) async fn import_owner<S: ManageStore + ?Sized>(
    store: &S,
    owner: &str,
    incoming: &[TokenRecord],
    rules: InsertRules,
    commit: Commit,
) -> Result<(usize, usize), RuleError> {
    let now = rules.now;
    let names: Vec<_> = incoming
        .iter()
        .filter(|record| record.holds_name(now))
        .map(|record| record.name.clone())
        .collect();
    // Without a cap, only the tokens holding an imported name matter; past
    // a few names, one read of every active token costs less than a read
    // per name.
    let active = match rules.max_active_per_owner {
        None if names.len() <= NAMES_READ_ONE_BY_ONE => ActiveRecords::Named(names),
        _ => ActiveRecords::All,
    };
    let scope = ChangeScope::new(owner, now)
        .reading(active)
        .with_ids(incoming.iter().map(|record| record.id))
        .with_hashes(incoming.iter().map(|record| record.hash))
        .with_owner_limits();
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
                return Err(Refusal::NameTaken);
            }
            if let Some(limit) = rules.max_active_per_owner {
                let imported = new.iter().filter(|record| record.is_active(now)).count();
                if active_count(read, now) + imported > limit {
                    return Err(Refusal::LimitReached { limit });
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
pub(super) async fn held_by_another<S: ManageStore + ?Sized>(
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
