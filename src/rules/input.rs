//! What a rule is asked to do: the arguments of the [`TokenRules`](super::TokenRules)
//! operations, and what an import reports.

use time::OffsetDateTime;

use crate::hash::TokenHash;
use crate::record::{
    IpNet, Metadata, OwnerLimits, RateLimit, RecordError, RevokeReason, TokenId, TokenName,
    TokenRecord, Usage, check_description, check_profile,
};
use crate::scope::{Ability, Route, Scopes};

/// The rules an insert must check atomically with the insert itself.
///
/// The cap counts every token of the owner that still verifies at `now`:
/// not revoked and not expired, rotated ones in their grace period
/// included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsertRules {
    /// The instant "active" is judged at.
    pub now: OffsetDateTime,
    /// The most tokens an owner may hold active; `None` for no cap.
    pub max_active_per_owner: Option<usize>,
}

/// A change to an active token; `None` fields stay as they are: what a
/// manager's `modify` takes, and what the rule applies, once, to the
/// record as it is inside the change.
///
/// ```
/// use tokenkeep::{Access, Route, Scopes};
/// use tokenkeep::rules::TokenUpdate;
/// let narrower = TokenUpdate {
///     routes: Some(vec![Route::new("/releases", Access::READ)?]),
///     ..TokenUpdate::default()
/// };
/// let everything = TokenUpdate::default().scopes(Scopes::manager());
/// assert_eq!(everything.manager, Some(true));
/// # Ok::<(), tokenkeep::scope::ScopeError>(())
/// ```
///
/// Each field is a change of its own, applied by the store to the record
/// as it is inside the store's atomic section ([`apply_to`](Self::apply_to)),
/// so two concurrent changes of different fields both land: a change of
/// the routes and a change of the abilities never undo each other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenUpdate {
    /// A new name, unique among the owner's active tokens.
    pub name: Option<TokenName>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// Grants or withdraws `manager`.
    pub manager: Option<bool>,
    /// Replaces the abilities.
    pub abilities: Option<Vec<Ability>>,
    /// Replaces the routes.
    pub routes: Option<Vec<Route>>,
    /// A new profile (`Some(None)` clears it).
    pub profile: Option<Option<String>>,
    /// New metadata (`Some(None)` clears it).
    pub metadata: Option<Option<Metadata>>,
    /// A new rate limit (`Some(None)` lifts it).
    pub rate_limit: Option<Option<RateLimit>>,
    /// A new usage limit (`Some(None)` lifts it).
    pub usage: Option<Option<Usage>>,
    /// New client address ranges (`Some(vec![])`: any address).
    pub allowed_ips: Option<Vec<IpNet>>,
}

impl TokenUpdate {
    /// Applies the change to `record` (checks are the store's job). Call it
    /// on the record as it is inside the atomic section, never on a copy
    /// read before it.
    pub fn apply_to(&self, record: &mut TokenRecord) {
        if let Some(name) = &self.name {
            record.name = name.clone();
        }
        if let Some(description) = &self.description {
            record.extras.description = description.clone();
        }
        if let Some(manager) = self.manager {
            record.scopes.manager = manager;
        }
        if let Some(abilities) = &self.abilities {
            record.scopes.abilities = abilities.clone();
        }
        if let Some(routes) = &self.routes {
            record.scopes.routes = routes.clone();
        }
        if let Some(profile) = &self.profile {
            record.extras.profile = profile.clone();
        }
        if let Some(metadata) = &self.metadata {
            record.extras.metadata = metadata.clone();
        }
        if let Some(rate_limit) = self.rate_limit {
            record.extras.rate_limit = rate_limit;
        }
        if let Some(usage) = self.usage {
            record.extras.usage = usage;
        }
        if let Some(ranges) = &self.allowed_ips {
            record.extras.allowed_ips = ranges.clone();
        }
    }

    /// Whether the change touches the scopes (it takes effect on the next
    /// verification).
    pub fn changes_scopes(&self) -> bool {
        self.manager.is_some() || self.abilities.is_some() || self.routes.is_some()
    }

    /// Replaces all of the scopes: `manager`, abilities and routes.
    #[must_use]
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.manager = Some(scopes.manager);
        self.abilities = Some(scopes.abilities);
        self.routes = Some(scopes.routes);
        self
    }

    /// Checks what the change sets that its type does not check already:
    /// a description, a profile and a usage limit, as an issue checks
    /// them. (A name, scopes, metadata, a rate limit and address ranges
    /// are checked when they are made.)
    ///
    /// # Errors
    /// [`RecordError::Description`], [`RecordError::Profile`],
    /// [`RecordError::Usage`].
    pub fn check(&self) -> Result<(), RecordError> {
        if let Some(Some(description)) = &self.description {
            check_description(description)?;
        }
        if let Some(Some(profile)) = &self.profile {
            check_profile(profile)?;
        }
        if let Some(Some(usage)) = &self.usage {
            usage.check()?;
        }
        Ok(())
    }
}

/// Replaces an active token with a new secret, and says what becomes of
/// the old one.
///
/// The store builds the replacement from the old record **as it is inside
/// its atomic section** ([`replacement_for`](Self::replacement_for)), so a
/// change that committed just before the rotation is carried over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The replacement's id.
    pub new_id: TokenId,
    /// The replacement's hash.
    pub new_hash: TokenHash,
    /// The replacement's display prefix.
    pub new_display_prefix: String,
    /// `None`: revoke the old token at `now`. `Some(t)`: let it live until
    /// `t`, but never past its own expiry. Then both tokens verify for a
    /// while, and both count toward the owner's cap.
    pub grace_until: Option<OffsetDateTime>,
    /// The instant of the rotation.
    pub now: OffsetDateTime,
    /// The most tokens the owner may hold active; checked, atomically with
    /// the rotation, only when a grace period lets the count grow.
    pub max_active_per_owner: Option<usize>,
    /// Who rotates: the replacement's `created_by`, the old token's
    /// `revoked_by`.
    pub by: String,
}

impl Rotation {
    /// The new record, made from the old one as the store holds it: same
    /// owner, name, description, scopes, profile and expiry (never later).
    pub fn replacement_for(&self, old: &TokenRecord) -> TokenRecord {
        let mut new = TokenRecord {
            id: self.new_id,
            hash: self.new_hash,
            display_prefix: self.new_display_prefix.clone(),
            created_at: self.now,
            last_used_at: None,
            revoked_at: None,
            created_by: Some(self.by.clone()),
            ..old.clone()
        };
        new.extras.replaced_by = None;
        new.extras.revoked_by = None;
        new.extras.revoke_reason = None;
        new
    }

    /// Applies the rotation's effect to the old record.
    pub fn retire(&self, old: &mut TokenRecord) {
        old.extras.revoked_by = Some(self.by.clone());
        // The successor is named either way: reuse detection follows it.
        old.extras.replaced_by = Some(self.new_id);
        match self.grace_until {
            None => {
                old.revoked_at = Some(self.now);
                old.extras.revoke_reason = Some(RevokeReason::Rotated);
            }
            Some(until) => {
                old.expires_at = Some(old.expires_at.map_or(until, |expiry| expiry.min(until)));
                old.extras.revoke_reason = Some(RevokeReason::RotationGrace);
            }
        }
    }

    /// Whether the owner's `active` tokens (the old one among them) leave
    /// room for this rotation: with a grace period the count grows by one.
    pub fn fits_the_cap(&self, active: usize) -> bool {
        match (self.grace_until, self.max_active_per_owner) {
            (Some(_), Some(limit)) => active < limit,
            _ => true,
        }
    }
}

/// A revocation: when, by whom, why. A token already revoked keeps its
/// first revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub at: OffsetDateTime,
    /// The acting principal (`admin`, `user:alice`, `token:<id>`).
    pub by: String,
    /// Why.
    pub reason: RevokeReason,
}

impl Revocation {
    /// A revocation at `at` by `by` for `reason`.
    pub fn new(at: OffsetDateTime, by: impl Into<String>, reason: RevokeReason) -> Self {
        Self { at, by: by.into(), reason }
    }

    /// Applies it to `record`, unless the record is revoked already.
    pub fn apply_to(&self, record: &mut TokenRecord) {
        if record.revoked_at.is_none() {
            record.revoked_at = Some(self.at);
            record.extras.revoked_by = Some(self.by.clone());
            record.extras.revoke_reason = Some(self.reason);
        }
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records written.
    pub imported: usize,
    /// Records skipped because their id or hash was already there.
    pub skipped: usize,
}

/// A change to the limits an owner's tokens share; `None` fields stay as
/// they are, `Some(None)` lifts a limit. Applied once, to the limits as
/// they are inside the change ([`apply_to`](Self::apply_to)), so a change
/// of the rate never resets a budget that verifications are spending.
///
/// ```
/// use tokenkeep::record::OwnerLimits;
/// use tokenkeep::rules::OwnerLimitsUpdate;
/// let update = OwnerLimitsUpdate { rate_limit: Some(Some("100/1m".parse()?)), ..Default::default() };
/// let limits = update.apply_to(OwnerLimits::default());
/// assert_eq!(limits.rate_limit.map(|limit| limit.to_string()).as_deref(), Some("100/1m"));
/// assert_eq!(limits.usage, None);
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnerLimitsUpdate {
    /// A new shared rate limit (`Some(None)` lifts it).
    pub rate_limit: Option<Option<RateLimit>>,
    /// A new shared usage budget (`Some(None)` lifts it).
    pub usage: Option<Option<Usage>>,
}

impl OwnerLimitsUpdate {
    /// `limits` with the change applied.
    #[must_use]
    pub fn apply_to(&self, limits: OwnerLimits) -> OwnerLimits {
        OwnerLimits {
            rate_limit: self.rate_limit.unwrap_or(limits.rate_limit),
            usage: self.usage.unwrap_or(limits.usage),
        }
    }
}
