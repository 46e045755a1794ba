//! The one atomic primitive every change goes through: read what one
//! owner holds, let a pure plan decide the writes, commit them together.
//!
//! A store implements [`ManageStore::change`](super::ManageStore::change)
//! and nothing else on the write side. The rules (caps, names, grace
//! periods, rotation chains, the setup claim, imports, temporary tokens)
//! are plans written once in the core ([`TokenRules`](crate::rules::TokenRules)),
//! so every store that runs a plan atomically is correct by construction.

use std::fmt;

use time::OffsetDateTime;

use crate::hash::TokenHash;
use crate::record::{OwnerLimits, TokenId, TokenName, TokenRecord};

#[cfg(doc)]
use super::StoreError;

/// Which records a change reads: the owner's records that are
/// [active](TokenRecord::is_active) at `now` (rotated ones in their grace
/// included), all of them or only those holding one of some names (as
/// [`active`](Self::active) says), and the owner's records with one of
/// `ids` or `hashes`, whatever their state. Never another owner's.
///
/// That is all any rule needs (the cap counts active tokens, a name is
/// checked against the active tokens that hold it, a change of one token
/// names it), so a change costs what the rule looks at, not the owner's
/// history. A store may read more of the owner's records (a store without
/// an index reads them all); it must read at least these:
/// [`covers`](Self::covers) says which.
///
/// ```
/// use tokenkeep::store::ChangeScope;
/// use tokenkeep::time::OffsetDateTime;
/// let id = tokenkeep::TokenId::random()?;
/// let scope = ChangeScope::new("alice", OffsetDateTime::now_utc()).with_ids([id]);
/// assert_eq!(scope.ids, [id]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangeScope {
    /// The owner whose records are read and written.
    pub owner: String,
    /// The instant "active" is judged at.
    pub now: OffsetDateTime,
    /// Which of the owner's active records are read.
    pub active: ActiveRecords,
    /// Records read whatever their state.
    pub ids: Vec<TokenId>,
    /// Records read whatever their state, by hash.
    pub hashes: Vec<TokenHash>,
    /// Whether the change reads the owner's shared limits
    /// ([`OwnerRecords::limits`]), which a plan may write
    /// ([`Write::OwnerLimits`]).
    pub owner_limits: bool,
    /// Some of the named records as the caller read them just before the
    /// change (a hint, perhaps stale). A store may skip its own read of
    /// them and plan on these, provided it then writes only where each
    /// record it plans on is, in every column but `last_used_at`, still
    /// as seen; a store may also ignore them.
    pub seen: Vec<TokenRecord>,
}

/// Which of an owner's active records a change reads.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActiveRecords {
    /// All of them (the cap counts them).
    All,
    /// Those holding one of these names (a name is checked against them).
    Named(Vec<TokenName>),
    /// None of them: the change needs only the records it names.
    Unread,
}

impl ChangeScope {
    /// All the owner's active records at `now`.
    pub fn new(owner: impl Into<String>, now: OffsetDateTime) -> Self {
        Self {
            owner: owner.into(),
            now,
            active: ActiveRecords::All,
            ids: Vec::new(),
            hashes: Vec::new(),
            owner_limits: false,
            seen: Vec::new(),
        }
    }

    /// And the owner's shared limits (see [`owner_limits`](Self::owner_limits)).
    #[must_use]
    pub fn with_owner_limits(mut self) -> Self {
        self.owner_limits = true;
        self
    }

    /// Of the owner's active records, only `active`.
    #[must_use]
    pub fn reading(mut self, active: ActiveRecords) -> Self {
        self.active = active;
        self
    }

    /// And the owner's records with these ids.
    #[must_use]
    pub fn with_ids(mut self, ids: impl IntoIterator<Item = TokenId>) -> Self {
        self.ids.extend(ids);
        self
    }

    /// And the records as the caller read them just before (see
    /// [`seen`](Self::seen)).
    #[must_use]
    pub fn as_seen(mut self, records: impl IntoIterator<Item = TokenRecord>) -> Self {
        self.seen.extend(records);
        self
    }

    /// And the owner's records with these hashes.
    #[must_use]
    pub fn with_hashes(mut self, hashes: impl IntoIterator<Item = TokenHash>) -> Self {
        self.hashes.extend(hashes);
        self
    }

    /// Whether a change must read `record`.
    pub fn covers(&self, record: &TokenRecord) -> bool {
        let active = || match &self.active {
            ActiveRecords::All => record.is_active(self.now),
            ActiveRecords::Named(names) => {
                names.contains(&record.name) && record.is_active(self.now)
            }
            ActiveRecords::Unread => false,
        };
        record.owner == self.owner
            && (self.ids.contains(&record.id) || self.hashes.contains(&record.hash) || active())
    }
}

/// What a plan reads: the owner's records its [`ChangeScope`] covers (a
/// store may add more of the owner's), as the store holds them at the
/// start of the change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerRecords {
    /// The owner whose records these are.
    pub owner: String,
    /// The records, in any order.
    pub records: Vec<TokenRecord>,
    /// The owner's shared limits as stored, when the scope asked for them
    /// ([`ChangeScope::owner_limits`]); `None` when none are set (or they
    /// were not asked for).
    pub limits: Option<OwnerLimits>,
}

impl OwnerRecords {
    /// The owner's record with this id.
    pub fn find(&self, id: &TokenId) -> Option<&TokenRecord> {
        self.records.iter().find(|record| record.id == *id)
    }
}

/// One write of a plan.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Write {
    /// Adds a record. The whole change fails with
    /// [`StoreError::Duplicate`] when a record with its id or its hash is
    /// stored (of any owner).
    Insert(TokenRecord),
    /// Replaces the stored record with this id, which the plan read: every
    /// field but `last_used_at`, which stays as stored (last-used notes
    /// arrive on their own path and only move forward). The id, owner and
    /// hash never change.
    Replace(TokenRecord),
    /// Removes the record with this id for good.
    Delete(TokenId),
    /// Sets the owner's shared limits ([`ChangeScope::owner_limits`] was
    /// asked for); limits with nothing set remove them. Only the core's
    /// rules write it, and they stamp the owner's records in the same
    /// change.
    OwnerLimits(OwnerLimits),
}

impl Write {
    /// The record written, for an insert or a replace.
    pub fn record(&self) -> Option<&TokenRecord> {
        match self {
            Self::Insert(record) | Self::Replace(record) => Some(record),
            Self::Delete(_) | Self::OwnerLimits(_) => None,
        }
    }
}

impl fmt::Debug for Write {
    // The record's own Debug holds no secret; ids are enough to follow a change.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Insert(record) => write!(f, "Insert({})", record.id),
            Self::Replace(record) => write!(f, "Replace({})", record.id),
            Self::Delete(id) => write!(f, "Delete({id})"),
            Self::OwnerLimits(limits) => write!(f, "OwnerLimits({limits:?})"),
        }
    }
}

/// What a plan decided: the writes, committed together or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The writes, in order.
    pub writes: Vec<Write>,
    /// Commit only if the store has never held a token, and fail the
    /// change with [`StoreError::AlreadyClaimed`] otherwise, atomically
    /// with the writes (the setup claim: of any number of concurrent
    /// claims, exactly one commits).
    pub only_if_never_held: bool,
}

impl Changes {
    /// No writes: the plan found nothing to do.
    pub fn none() -> Self {
        Self::default()
    }

    /// These writes, committed together.
    pub fn new(writes: Vec<Write>) -> Self {
        Self { writes, only_if_never_held: false }
    }

    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// A plan's refusal, opaque to the store: the change is abandoned with
/// nothing written, and the store answers [`StoreError::Refused`] (`?` on
/// the plan's result converts it). Why the plan refused is the rule's to
/// know, not the store's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the plan refused the change")
    }
}

impl std::error::Error for Refused {}

/// A plan: given the records read, the writes to commit, or [`Refused`]
/// to abandon the change with nothing written.
///
/// A plan is pure: it reads only what it is given and may be run more than
/// once (an optimistic store runs it again after a conflicting write).
pub type Plan<'a> = dyn FnMut(&OwnerRecords) -> Result<Changes, Refused> + Send + 'a;
