//! The arguments and results of store calls: what an implementer of
//! [`TokenStore`](super::TokenStore) or [`ManageStore`](super::ManageStore)
//! receives and returns, and nobody else needs.

use time::OffsetDateTime;

use crate::record::TokenId;
#[cfg(feature = "management")]
use crate::{
    record::{TokenName, TokenRecord},
    scope::Scopes,
};

/// Which records [`TokenStore::list`](super::TokenStore::list) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this owner's tokens; every owner's when `None`.
    pub owner: Option<String>,
    /// Also revoked and expired tokens (the audit trail).
    pub include_inactive: bool,
    /// The instant "expired" is judged at.
    pub now: OffsetDateTime,
}

/// One batched note that a token verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastUse {
    /// The token.
    pub id: TokenId,
    /// When it was used.
    pub at: OffsetDateTime,
}

/// The rules an insert must check atomically with the insert itself.
#[cfg(feature = "management")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsertRules {
    /// The instant "active" is judged at.
    pub now: OffsetDateTime,
    /// The most tokens an owner may hold active; `None` for no cap.
    pub max_active_per_owner: Option<usize>,
}

/// A change to an active token; `None` fields stay as they are.
#[cfg(feature = "management")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenUpdate {
    /// A new name, unique among the owner's active tokens.
    pub name: Option<TokenName>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New scopes, in effect from the next verification.
    pub scopes: Option<Scopes>,
    /// A new profile (`Some(None)` clears it).
    pub profile: Option<Option<String>>,
}

#[cfg(feature = "management")]
impl TokenUpdate {
    /// Applies the change to `record` (checks are the store's job).
    pub fn apply_to(&self, record: &mut TokenRecord) {
        if let Some(name) = &self.name {
            record.name = name.clone();
        }
        if let Some(description) = &self.description {
            record.description = description.clone();
        }
        if let Some(scopes) = &self.scopes {
            record.scopes = scopes.clone();
        }
        if let Some(profile) = &self.profile {
            record.profile = profile.clone();
        }
    }
}

/// A replacement for an active token, and what becomes of the old one.
#[cfg(feature = "management")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The token being replaced.
    pub old: TokenId,
    /// The new record (same owner, name and scopes; expiry never later).
    pub replacement: TokenRecord,
    /// `None`: revoke the old token at `now`. `Some(t)`: let it live until
    /// `t` (the caller has already bounded it by the old expiry).
    pub old_expires_at: Option<OffsetDateTime>,
    /// The instant of the rotation.
    pub now: OffsetDateTime,
}

#[cfg(feature = "management")]
impl Rotation {
    /// Applies the rotation's effect to the old record.
    pub fn retire(&self, old: &mut TokenRecord) {
        match self.old_expires_at {
            None => old.revoked_at = Some(self.now),
            Some(until) => {
                old.expires_at = Some(old.expires_at.map_or(until, |expiry| expiry.min(until)));
                old.replaced_by = Some(self.replacement.id);
            }
        }
    }
}

/// What an import did.
#[cfg(feature = "management")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records written.
    pub imported: usize,
    /// Records skipped because their id or hash was already there.
    pub skipped: usize,
}
