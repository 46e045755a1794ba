//! Token management: issue, list, get, rename, modify, revoke, rotate,
//! delete, export and import. Each call takes the acting principal and is
//! checked against the [`Policy`](super::Policy) first.

use time::Duration;

use super::audit::{AuditedResult, Named, audited};
use super::policy::Actor;
use super::{ManageError, TokenManager};
use crate::expiry::{DurationError, Expiry};
use crate::hash::TokenHash;
use crate::record::{
    IpNet, Metadata, RateLimit, RevokeReason, TokenId, TokenKind, TokenName, TokenRecord, Usage,
    check_owner,
};
use crate::rules::TokenRules as _;
use crate::rules::{InsertRules, Refusal, Revocation, Rotation, TokenUpdate};
use crate::scope::Scopes;
use crate::store::ListQuery;
use crate::token::{CustomSecretError, TokenSecret};

/// What to issue.
///
/// ```
/// use tokenkeep::{Expiry, IssueRequest, Scopes};
/// use time::Duration;
/// let request = IssueRequest::new("alice", "ci-deploy")
///     .expires(Expiry::After(Duration::days(90)))
///     .profile("staging");
/// ```
#[derive(Debug)]
#[must_use]
pub struct IssueRequest {
    /// Whom the token authenticates as.
    pub owner: String,
    /// Its label, unique among the owner's active tokens.
    pub name: String,
    /// Optional free text.
    pub description: Option<String>,
    /// What it may do.
    pub scopes: Scopes,
    /// What the application narrows it to.
    pub profile: Option<String>,
    /// When it stops working.
    pub expires: Expiry,
    /// A secret to adopt instead of minting one (migration); `None` mints.
    pub secret: Option<TokenSecret>,
    /// The application's own JSON object, returned with every verdict.
    pub metadata: Option<Metadata>,
    /// At most so many verifications per period, in each process.
    pub rate_limit: Option<RateLimit>,
    /// Uses left and refills (its `refilled_at` becomes the issue instant).
    pub usage: Option<Usage>,
    /// The client address ranges it may be used from; empty: any.
    pub allowed_ips: Vec<IpNet>,
}

impl IssueRequest {
    /// A token for `owner` named `name`, without scopes, never expiring.
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
            description: None,
            scopes: Scopes::default(),
            profile: None,
            expires: Expiry::Never,
            secret: None,
            metadata: None,
            rate_limit: None,
            usage: None,
            allowed_ips: Vec::new(),
        }
    }

    /// Sets the metadata.
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Sets the rate limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Sets the usage limit.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the client address ranges the token may be used from.
    pub fn allowed_ips(mut self, ranges: Vec<IpNet>) -> Self {
        self.allowed_ips = ranges;
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the scopes.
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the profile.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Sets the lifetime.
    pub fn expires(mut self, expires: Expiry) -> Self {
        self.expires = expires;
        self
    }

    /// Adopts a custom secret instead of minting one.
    pub fn secret(mut self, secret: TokenSecret) -> Self {
        self.secret = Some(secret);
        self
    }
}

/// A new token: the plaintext, returned this once, and its record.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The plaintext. It is not stored anywhere: show it, then drop it.
    pub token: TokenSecret,
    /// What was stored.
    pub record: TokenRecord,
}

impl AuditedResult for IssuedToken {
    fn token_id(&self) -> Option<TokenId> {
        Some(self.record.id)
    }
}

/// Names a token by id or by name (`token revoke ID|NAME`).
///
/// An id is tried first; otherwise the text is a name among the active
/// tokens of the given owner (a user's own by default; every owner's for a
/// manager, which is refused as ambiguous if several owners match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRef {
    text: String,
    owner: Option<String>,
}

impl std::fmt::Display for TokenRef {
    /// `owner/text` when an owner narrows the name, else the text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.owner {
            Some(owner) => write!(f, "{owner}/{}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

impl TokenRef {
    /// A token by its id.
    pub fn id(id: TokenId) -> Self {
        Self { text: id.to_string(), owner: None }
    }

    /// A token by id or name, as typed.
    pub fn id_or_name(text: impl Into<String>) -> Self {
        Self { text: text.into(), owner: None }
    }

    /// Looks the name up among this owner's tokens only.
    #[must_use]
    pub fn of_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }
}

impl TokenManager {
    /// Issues a token and returns its plaintext, once.
    ///
    /// # Errors
    /// [`ManageError`]: an invalid field (400), [`Forbidden`](ManageError::Forbidden)
    /// (403), [`NameTaken`](Refusal::NameTaken) or
    /// [`LimitReached`](Refusal::LimitReached) (409), or the store's failure.
    pub async fn issue(
        &self,
        actor: &Actor,
        mut request: IssueRequest,
    ) -> Result<IssuedToken, ManageError> {
        let secret = request.secret.take();
        let issued = async {
            let (token, hash, display_prefix) = self.mint_or_adopt(secret)?;
            let record = self.new_record(&request, hash, display_prefix, actor)?;
            self.require_issue(actor, &record)?;
            self.insert(record.clone()).await?;
            Ok(IssuedToken { token, record })
        };
        let target = Named(&request.owner, &request.name);
        audited("issue", actor, &target, issued.await)
    }

    /// Stores a SHA-256 (or HMAC) imported from another system, so the
    /// token minted there verifies here (with
    /// [`accept_custom_secrets`](super::ServiceBuilder::accept_custom_secrets)
    /// if its text is not in this service's format).
    ///
    /// # Errors
    /// As [`issue`](Self::issue).
    pub async fn adopt_hash(
        &self,
        actor: &Actor,
        request: IssueRequest,
        hash: TokenHash,
    ) -> Result<TokenRecord, ManageError> {
        let adopted = async {
            let record = self.new_record(&request, hash, String::new(), actor)?;
            self.require_issue(actor, &record)?;
            self.insert(record.clone()).await?;
            Ok(record)
        };
        let target = Named(&request.owner, &request.name);
        audited("adopt_hash", actor, &target, adopted.await)
    }

    /// Input is checked first (400), then whether the actor may issue it (403).
    fn require_issue(&self, actor: &Actor, record: &TokenRecord) -> Result<(), ManageError> {
        let policy = &self.manage.policy;
        policy.require_owner(actor, &record.owner)?;
        policy.require_grant(actor, record.scopes.manager)
    }

    async fn insert(&self, record: TokenRecord) -> Result<(), ManageError> {
        let rules = InsertRules {
            now: record.created_at,
            max_active_per_owner: self.manage.policy.max_active_per_owner,
        };
        let in_format = record.is_in_format_of(self.service().format().prefix());
        self.manage.store.insert(record, rules).await?;
        if !in_format {
            self.service().forget_absent_custom();
        }
        Ok(())
    }

    /// Lists tokens: one owner's (a user's own by default) or, for a
    /// manager, everyone's; active only unless `include_inactive`. Never a
    /// secret.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden) for another owner's tokens, or
    /// the store's failure.
    pub async fn list(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        include_inactive: bool,
    ) -> Result<Vec<TokenRecord>, ManageError> {
        let owner = self.whose(actor, owner)?;
        self.records(owner, include_inactive).await
    }

    /// Whose tokens `actor` asks for: the owner named, a user's own by
    /// default, everyone's (`None`) for a manager who names no one.
    fn whose<'a>(
        &self,
        actor: &'a Actor,
        owner: Option<&'a str>,
    ) -> Result<Option<&'a str>, ManageError> {
        let owner = match (owner, actor) {
            (None, Actor::User(user)) => Some(user.as_str()),
            (owner, _) => owner,
        };
        match owner {
            Some(owner) => self.manage.policy.require_owner(actor, owner)?,
            None => self.manage.policy.require_manager(actor)?,
        }
        Ok(owner)
    }

    /// The active tokens that expire within `within` from now, soonest
    /// first: one owner's (a user's own by default) or, for a manager,
    /// everyone's. Call it on a schedule to tell owners before their tokens
    /// stop working.
    ///
    /// # Errors
    /// [`InvalidDuration`](ManageError::InvalidDuration) for a window that
    /// is not positive, [`Forbidden`](ManageError::Forbidden) for another
    /// owner's tokens, or the store's failure.
    pub async fn expiring(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        within: Duration,
    ) -> Result<Vec<TokenRecord>, ManageError> {
        if within <= Duration::ZERO {
            return Err(DurationError::Zero.into());
        }
        let owner = self.whose(actor, owner)?;
        let now = self.service().now();
        let before = now.checked_add(within).ok_or(DurationError::TooLong)?;
        let mut expiring = self.manage.store.list_expiring(now, before).await?;
        if let Some(owner) = owner {
            expiring.retain(|record| record.owner == owner);
        }
        Ok(expiring)
    }

    /// Records of one owner (or every owner), oldest first.
    async fn records(
        &self,
        owner: Option<&str>,
        include_inactive: bool,
    ) -> Result<Vec<TokenRecord>, ManageError> {
        let now = self.service().now();
        let query = ListQuery { owner: owner.map(str::to_owned), include_inactive, now };
        Ok(self.manage.store.list(&query).await?)
    }

    /// One token, with its last-used time; never the secret.
    ///
    /// # Errors
    /// [`NotFound`](Refusal::NotFound) (also for a token the actor may
    /// not see), [`Ambiguous`](ManageError::Ambiguous), or the store's failure.
    pub async fn get(&self, actor: &Actor, token: &TokenRef) -> Result<TokenRecord, ManageError> {
        self.resolve(actor, token).await
    }

    async fn resolve(&self, actor: &Actor, token: &TokenRef) -> Result<TokenRecord, ManageError> {
        let policy = &self.manage.policy;
        if let Actor::Token(_) = actor {
            policy.require_manager(actor)?;
        }
        if let Ok(id) = token.text.parse::<TokenId>() {
            let record = self.manage.store.get(&id).await?;
            if let Some(record) = record.filter(|record| policy.may_manage(actor, &record.owner)) {
                return Ok(record);
            }
        }
        let owner = token.owner.as_deref().or(match actor {
            Actor::User(user) => Some(user.as_str()),
            _ => None,
        });
        let now = self.service().now();
        let mut named: Vec<TokenRecord> = self
            .records(owner, false)
            .await?
            .into_iter()
            .filter(|record| record.name.as_str() == token.text && record.holds_name(now))
            .filter(|record| policy.may_manage(actor, &record.owner))
            .collect();
        match named.len() {
            0 => Err(ManageError::NOT_FOUND),
            1 => Ok(named.remove(0)),
            _ => Err(ManageError::Ambiguous),
        }
    }

    /// Renames a token (`token-rename`).
    ///
    /// # Errors
    /// As [`modify`](Self::modify).
    pub async fn rename(
        &self,
        actor: &Actor,
        token: &TokenRef,
        new_name: &str,
    ) -> Result<TokenRecord, ManageError> {
        let renamed = async {
            let update =
                TokenUpdate { name: Some(TokenName::new(new_name)?), ..TokenUpdate::default() };
            self.change(actor, token, update).await
        };
        audited("rename", actor, token, renamed.await)
    }

    /// Changes a token's name, description, scopes or profile
    /// (`token-modify`); a scope change takes effect on the next verification.
    ///
    /// # Errors
    /// An invalid field (400), [`Forbidden`](ManageError::Forbidden) to grant
    /// `manager` without being one, [`NotFound`](Refusal::NotFound),
    /// [`NameTaken`](Refusal::NameTaken), [`Inactive`](Refusal::Inactive),
    /// [`Temporary`](Refusal::Temporary), or the store's failure.
    pub async fn modify(
        &self,
        actor: &Actor,
        token: &TokenRef,
        update: TokenUpdate,
    ) -> Result<TokenRecord, ManageError> {
        audited("modify", actor, token, self.change(actor, token, update).await)
    }

    /// What `rename` and `modify` do.
    async fn change(
        &self,
        actor: &Actor,
        token: &TokenRef,
        update: TokenUpdate,
    ) -> Result<TokenRecord, ManageError> {
        let record = self.resolve(actor, token).await?;
        let grants_manager = update.manager == Some(true) && !record.scopes.manager;
        self.manage.policy.require_grant(actor, grants_manager)?;
        // Held to what issue and import check; the rule applies it once,
        // to the record as it is inside the change.
        update.check()?;
        let store = &*self.manage.store;
        let changed = store.update(&record, &update, self.service().now()).await?;
        self.service().signal_change();
        Ok(changed)
    }

    /// Revokes a token; from then on it answers `invalid_token`. The record
    /// stays for the audit trail. Revoking a revoked token changes nothing.
    ///
    /// # Errors
    /// [`NotFound`](Refusal::NotFound),
    /// [`Forbidden`](ManageError::Forbidden), or the store's failure.
    pub async fn revoke(
        &self,
        actor: &Actor,
        token: &TokenRef,
    ) -> Result<TokenRecord, ManageError> {
        let revoked = async {
            let record = self.resolve(actor, token).await?;
            let revocation =
                Revocation::new(self.service().now(), actor.to_string(), RevokeReason::Revoked);
            let store = &*self.manage.store;
            let revoked = store.revoke(&record, &revocation).await?;
            self.service().signal_change();
            Ok(revoked)
        };
        audited("revoke", actor, token, revoked.await)
    }

    /// Revokes the token whose text is `token`, on the word of whoever
    /// holds it: no actor's permission is asked, since holding the token is
    /// the proof (OAuth 2.0 revocation, RFC 7009; a leaked token reported
    /// by whoever found it). `by` is recorded as who revoked it, `reason`
    /// as why. Answers the record as it now stands (a token revoked before
    /// keeps its first revocation), or `None` when the text names no
    /// stored token (malformed, unknown, temporary): a caller answers the
    /// same either way, so the endpoint is no oracle.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use std::sync::Arc;
    /// use tokenkeep::record::RevokeReason;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Actor, IssueRequest, Prefix, TokenManager};
    ///
    /// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    /// let issued = tokens.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await?;
    /// let text = issued.token.expose_secret();
    /// let revoked = tokens.revoke_presented(text, "found in a paste", RevokeReason::Leaked).await?;
    /// assert_eq!(revoked.and_then(|record| record.extras.revoke_reason), Some(RevokeReason::Leaked));
    /// assert!(tokens.revoke_presented("tk_nonsense", "anyone", RevokeReason::Leaked).await?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The store's failure.
    pub async fn revoke_presented(
        &self,
        token: &str,
        by: &str,
        reason: RevokeReason,
    ) -> Result<Option<TokenRecord>, ManageError> {
        let Some(record) = self.service().find_presented_any(token).await? else {
            return Ok(None);
        };
        if record.kind == TokenKind::Temporary {
            return Ok(None);
        }
        let revoked = async {
            let revocation = Revocation::new(self.service().now(), by, reason);
            let revoked = self.manage.store.revoke(&*record, &revocation).await?;
            self.service().signal_change();
            Ok(revoked)
        };
        match audited("revoke", &by, &record.id, revoked.await) {
            Ok(revoked) => Ok(Some(revoked)),
            // Deleted since it was found: nothing left to revoke.
            Err(ManageError::Refused(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Revokes every active token of `owner` (password change,
    /// `--purge-tokens`, `revoke-tokens --tokens-only`); returns how many.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden), or the store's failure.
    pub async fn revoke_all(&self, actor: &Actor, owner: &str) -> Result<usize, ManageError> {
        let revoked = async {
            check_owner(owner)?;
            self.manage.policy.require_owner(actor, owner)?;
            let revocation =
                Revocation::new(self.service().now(), actor.to_string(), RevokeReason::RevokeAll);
            let revoked = self.manage.store.revoke_owner(owner, &revocation).await?;
            self.service().signal_change();
            Ok(revoked)
        };
        audited("revoke_all", actor, &owner, revoked.await)
    }

    /// Mints a replacement with the same owner, name, description, scopes,
    /// profile and expiry (never later), and revokes the old token now
    /// (`grace` of `None`) or lets it live for `grace`, but never past its
    /// own expiry.
    ///
    /// # Errors
    /// [`InvalidDuration`](ManageError::InvalidDuration) for a bad grace,
    /// [`Inactive`](Refusal::Inactive) for a revoked, expired or already
    /// rotated token, [`Temporary`](Refusal::Temporary), and as
    /// [`revoke`](Self::revoke).
    pub async fn rotate(
        &self,
        actor: &Actor,
        token: &TokenRef,
        grace: Option<Duration>,
    ) -> Result<IssuedToken, ManageError> {
        let rotated = self.replace(actor, token, grace).await;
        audited("rotate", actor, token, rotated)
    }

    /// What `rotate` does.
    async fn replace(
        &self,
        actor: &Actor,
        token: &TokenRef,
        grace: Option<Duration>,
    ) -> Result<IssuedToken, ManageError> {
        let old = self.resolve(actor, token).await?;
        // What cannot be rotated at all says so before any policy on what
        // the rotation would make.
        if old.kind == TokenKind::Temporary {
            return Err(Refusal::Temporary.into());
        }
        let now = self.service().now();
        if !old.holds_name(now) {
            return Err(Refusal::Inactive.into());
        }
        let policy = &self.manage.policy;
        // The replacement keeps the old token's expiry.
        policy.require_lifetime(now, old.expires_at)?;
        let grace_until = grace
            .map(|grace| {
                if grace <= Duration::ZERO {
                    return Err(DurationError::Zero.into());
                }
                if grace > policy.max_rotation_grace {
                    return Err(ManageError::GraceTooLong { max: policy.max_rotation_grace });
                }
                now.checked_add(grace).ok_or_else(|| DurationError::TooLong.into())
            })
            .transpose()?;
        let (secret, hash, display_prefix) = self.mint_or_adopt(None)?;
        let rotation = Rotation {
            new_id: TokenId::random()?,
            new_hash: hash,
            new_display_prefix: display_prefix,
            grace_until,
            now,
            max_active_per_owner: policy.max_active_per_owner,
            by: actor.to_string(),
        };
        // The store builds the replacement from the old token as it is then.
        let record = self.manage.store.rotate(&old, rotation).await?;
        self.service().signal_change();
        Ok(IssuedToken { token: secret, record })
    }

    /// Removes a token's record for good (a data-removal request). Managers only.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden), [`NotFound`](Refusal::NotFound),
    /// [`Temporary`](Refusal::Temporary), or the store's failure.
    pub async fn delete(&self, actor: &Actor, token: &TokenRef) -> Result<(), ManageError> {
        let deleted = async {
            self.manage.policy.require_manager(actor)?;
            let record = self.resolve(actor, token).await?;
            if self.manage.store.delete(&record).await? {
                self.service().signal_change();
                Ok(())
            } else {
                Err(ManageError::NOT_FOUND)
            }
        };
        audited("delete", actor, token, deleted.await)
    }

    /// Every stored record, revoked and expired ones included: hashes, never
    /// secrets. Managers only.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden), or the store's failure.
    pub async fn export(&self, actor: &Actor) -> Result<Vec<TokenRecord>, ManageError> {
        let exported = async {
            self.manage.policy.require_manager(actor)?;
            let query =
                ListQuery { owner: None, include_inactive: true, now: self.service().now() };
            Ok(self.manage.store.list(&query).await?)
        };
        audited("export", actor, &"all tokens", exported.await)
    }

    /// A fresh token, or the adopted custom secret; with its hash and
    /// display prefix.
    pub(crate) fn mint_or_adopt(
        &self,
        custom: Option<TokenSecret>,
    ) -> Result<(TokenSecret, TokenHash, String), ManageError> {
        let inner = &self.service().inner;
        let secret = match custom {
            Some(secret) => secret,
            None => inner.settings.format.mint(&inner.settings.hasher)?.secret,
        };
        let display_prefix = match inner.settings.format.parse(secret.expose_secret()) {
            Ok(parsed) => parsed.display_prefix().to_owned(),
            // Verification treats such text as a mistyped minted token.
            Err(_) if inner.settings.format.claims_prefix(secret.expose_secret()) => {
                return Err(CustomSecretError::ClaimsPrefix.into());
            }
            Err(_) if self.manage.accept_custom_secrets => String::new(),
            // It could never verify: refuse it now rather than store it.
            Err(_) => return Err(CustomSecretError::NotAccepted.into()),
        };
        let hash = inner.settings.hasher.hash(secret.expose_secret());
        Ok((secret, hash, display_prefix))
    }

    /// Checks every field of `request` and builds the record to store.
    /// A record for `request`, issued by `by` (an actor as the audit names
    /// it).
    pub(crate) fn new_record(
        &self,
        request: &IssueRequest,
        hash: TokenHash,
        display_prefix: String,
        by: &dyn std::fmt::Display,
    ) -> Result<TokenRecord, ManageError> {
        check_owner(&request.owner)?;
        let name = TokenName::new(request.name.as_str())?;
        let now = self.service().now();
        let expires_at = request.expires.expires_at(now)?;
        self.manage.policy.require_lifetime(now, expires_at)?;
        let mut record = TokenRecord::new(TokenId::random()?, &request.owner, name, hash, now);
        record.extras.description.clone_from(&request.description);
        record.display_prefix = display_prefix;
        record.scopes = request.scopes.clone();
        record.extras.profile.clone_from(&request.profile);
        record.expires_at = expires_at;
        record.created_by = Some(by.to_string());
        record.extras.metadata.clone_from(&request.metadata);
        record.extras.rate_limit = request.rate_limit;
        record.extras.usage = request.usage.map(|usage| Usage { refilled_at: now, ..usage });
        record.extras.allowed_ips.clone_from(&request.allowed_ips);
        super::fields::check_fields(&record)?;
        Ok(record)
    }
}
