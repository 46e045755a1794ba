//! Following a rotation chain inside one change: a chain is one chain, so
//! every link is read whatever its state, and a plan over it runs only
//! when the change has read all of it.

use time::OffsetDateTime;

use super::{MAX_CHAIN, Refusal, RuleError, TokenRules as _};
use crate::record::{OwnerLimits, TokenId, TokenRecord, Usage};
use crate::store::{ActiveRecords, ChangeScope, ManageStore, OwnerRecords, StoreError, Write};

/// `cost` uses of `id` (an `owner`'s token), spent from the newest token
/// of its rotation chain and, when `owner_budget` (the token was read
/// carrying a shared usage budget), from the owner's budget in the same
/// change: both or neither. The verification path calls it with the owner
/// it already knows and the successor the token named when it was read.
/// Answers the usage after (the token's own, else the owner's), `None`
/// when either budget has too few left.
pub(crate) async fn spend_use<S: ManageStore + ?Sized>(
    store: &S,
    token: (&str, &TokenId, Option<TokenId>),
    owner_budget: bool,
    (cost, now): (u64, OffsetDateTime),
) -> Result<Option<Usage>, RuleError> {
    let (owner, id, successor) = token;
    let start = ChainStart { owner, id: *id, successor, now, owner_limits: owner_budget };
    apply_to_chain(store, start, |read, record, chain| {
        let mut writes = Vec::new();
        // A rotation with a grace period leaves two tokens working, and
        // the successor starts with the old one's uses left; were each to
        // spend its own copy, 10 uses would give 20 successes. So the
        // newest link holds the budget, whatever the state of the links
        // between.
        let holder = chain.last().copied().unwrap_or(record);
        let own = match holder.extras.usage {
            Some(usage) => {
                let Some(after) = usage.consume_n(cost, now) else {
                    return Ok((Vec::new(), None));
                };
                let mut spent = holder.clone();
                spent.extras.usage = Some(after);
                writes.push(Write::Replace(spent));
                Some(after)
            }
            None => None,
        };
        // The owner's budget, as this change read it: limits set since the
        // token was read apply from its next use.
        let shared = match read.limits {
            Some(limits @ OwnerLimits { usage: Some(usage), .. }) => {
                let Some(after) = usage.consume_n(cost, now) else {
                    return Ok((Vec::new(), None));
                };
                writes.push(Write::OwnerLimits(OwnerLimits { usage: Some(after), ..limits }));
                Some(after)
            }
            _ => None,
        };
        Ok((writes, own.or(shared)))
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
    /// Whether the change reads the owner's shared limits too.
    pub(crate) owner_limits: bool,
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
) -> Result<T, RuleError>
where
    S: ManageStore + ?Sized,
    T: Send,
    F: FnMut(&OwnerRecords, &TokenRecord, &[&TokenRecord]) -> Result<(Vec<Write>, T), Refusal>
        + Send,
{
    let mut named = vec![start.id];
    let mut unread = start.successor;
    loop {
        if let Some(next) = unread {
            read_links(store, next, &mut named).await?;
        }
        let mut scope = ChangeScope::new(start.owner, start.now)
            .reading(ActiveRecords::Unread)
            .with_ids(named.iter().copied());
        if start.owner_limits {
            scope = scope.with_owner_limits();
        }
        let walked = store
            .apply(scope, |read| {
                let record = read.find(&start.id).ok_or(Refusal::NotFound)?;
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
                )
                .into());
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
        next = store.get(&id).await?.and_then(|link| link.extras.replaced_by);
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
    let mut next = record.extras.replaced_by;
    while let Some(id) = next.filter(|_| chain.len() < MAX_CHAIN) {
        match read.find(&id) {
            Some(successor) => {
                chain.push(successor);
                next = successor.extras.replaced_by;
            }
            None if named.contains(&id) => break,
            None => return Err(id),
        }
    }
    Ok(chain)
}
