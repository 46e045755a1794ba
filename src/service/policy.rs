//! Who may manage which tokens.
//!
//! - A token cannot manage tokens unless it has `manager`; the
//!   application's own login (session, JWT, password) is the other way to
//!   act ([`Actor::User`], [`Actor::Admin`]).
//! - A manager may act on any owner's tokens; a user on their own only, and
//!   only a manager may grant `manager`.
//! - At most 10 active tokens per owner by default; the next is refused
//!   with `TOKEN_LIMIT_REACHED` and nothing is deleted to make room. Every
//!   token that still verifies counts, a rotated one in its grace period
//!   too, and a grace period lasts at most 7 days by default.

use super::ManageError;
use super::verify::Authenticated;
use time::{Duration, OffsetDateTime};

/// The principal behind a management call.
#[derive(Clone, Debug)]
pub enum Actor {
    /// The application's own login (session, JWT, password) of this user:
    /// manages only their own tokens and cannot grant `manager`.
    User(String),
    /// The application's administrator login, or an operator at the
    /// console: manages every owner's tokens.
    Admin,
    /// A verified token: with `manager` it acts like [`Admin`](Self::Admin)
    /// (unless the policy says otherwise); without it, it manages nothing.
    Token(Authenticated),
}

/// The management rules, all configurable.
///
/// ```
/// use tokenkeep::Policy;
/// let policy = Policy::default();
/// assert_eq!(policy.max_active_per_owner, Some(10));
/// assert!(policy.manager_tokens_may_manage);
/// assert_eq!(policy.max_rotation_grace, tokenkeep::time::Duration::days(7));
/// assert_eq!(policy.max_lifetime, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// The most active tokens one owner may hold; the next is refused with
    /// `TOKEN_LIMIT_REACHED` and nothing is deleted to make room.
    pub max_active_per_owner: Option<usize>,
    /// Whether a token with `manager` may manage tokens. Switch off to
    /// require the application's own login for every management call.
    pub manager_tokens_may_manage: bool,
    /// The longest grace period a rotation may give the old token (both
    /// verify meanwhile, and both count toward the cap).
    pub max_rotation_grace: Duration,
    /// The longest a token may live, from its issue (`None`: no limit, the
    /// default). With a limit every token must expire: one that would
    /// never expire or outlive the limit is refused with
    /// `LIFETIME_TOO_LONG` at issue, at import (records still active) and
    /// at rotation (a replacement keeps its predecessor's expiry); a setup
    /// claim's token expires at the limit.
    pub max_lifetime: Option<Duration>,
    /// Rotation reuse detection (off by default): presenting a token that a
    /// rotation retired (revoked at once, or after its grace period)
    /// revokes the token that replaced it and that one's successors, and
    /// every token the retired one minted after its rotation, with the
    /// reason `reuse_detected`. A stolen old token then burns the chain
    /// instead of quietly failing.
    ///
    /// **It burns wherever the retired token is presented**, so whoever
    /// holds an old leaked token can also revoke the owner's current one
    /// (GitLab shipped the same rule and narrowed it to its rotate
    /// endpoint after a production incident). Turn it on where a stolen
    /// token going unnoticed is worse than that denial of service; each
    /// burn is logged at `warn` with the client's address.
    pub detect_rotation_reuse: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_active_per_owner: Some(10),
            manager_tokens_may_manage: true,
            max_rotation_grace: Duration::days(7),
            max_lifetime: None,
            detect_rotation_reuse: false,
        }
    }
}

impl Policy {
    /// Whether `actor` may act on every owner's tokens.
    pub fn is_manager(&self, actor: &Actor) -> bool {
        match actor {
            Actor::Admin => true,
            Actor::Token(token) => self.manager_tokens_may_manage && token.scopes().manager,
            Actor::User(_) => false,
        }
    }

    /// Whether `actor` may act on `owner`'s tokens.
    pub fn may_manage(&self, actor: &Actor, owner: &str) -> bool {
        self.is_manager(actor) || matches!(actor, Actor::User(user) if user == owner)
    }

    /// Whether a token living from `from` until `expires_at` keeps within
    /// [`max_lifetime`](Self::max_lifetime).
    pub(crate) fn require_lifetime(
        &self,
        from: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), ManageError> {
        match (self.max_lifetime, expires_at) {
            (None, _) => Ok(()),
            (Some(max), Some(expiry)) if expiry - from <= max => Ok(()),
            (Some(max), _) => Err(ManageError::LifetimeTooLong { max }),
        }
    }

    pub(crate) fn require_manager(&self, actor: &Actor) -> Result<(), ManageError> {
        if self.is_manager(actor) { Ok(()) } else { Err(ManageError::Forbidden) }
    }

    pub(crate) fn require_owner(&self, actor: &Actor, owner: &str) -> Result<(), ManageError> {
        if self.may_manage(actor, owner) { Ok(()) } else { Err(ManageError::Forbidden) }
    }

    /// Only a manager may hand out `manager`; keeping what a token already
    /// had is not a grant.
    pub(crate) fn require_grant(
        &self,
        actor: &Actor,
        grants_manager: bool,
    ) -> Result<(), ManageError> {
        if grants_manager { self.require_manager(actor) } else { Ok(()) }
    }
}
