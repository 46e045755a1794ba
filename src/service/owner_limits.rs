//! Limits an owner's tokens share: read by the owner or a manager, set by
//! a manager.

use super::audit::audited;
use super::policy::Actor;
use super::{ManageError, TokenManager};
use crate::record::{OwnerLimits, check_owner};
use crate::rules::{OwnerLimitsUpdate, TokenRules as _};

impl TokenManager {
    /// The limits every token of `owner` shares, as they are now (a due
    /// refill applied); empty when none are set. The owner or a manager.
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden), an invalid owner, or the
    /// store's failure.
    pub async fn owner_limits(
        &self,
        actor: &Actor,
        owner: &str,
    ) -> Result<OwnerLimits, ManageError> {
        check_owner(owner)?;
        self.manage.policy.require_owner(actor, owner)?;
        Ok(self.manage.store.owner_limits(owner, self.service().now()).await?)
    }

    /// Changes the limits every token of `owner` shares, beside each
    /// token's own: a request passes only if both allow it, and a refused
    /// request spends neither usage budget. Applied to the limits as they
    /// are inside the change, and to every active token of the owner and
    /// every token minted after; returns them as they now are. Managers
    /// only: an owner does not lift their own limits.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// use std::sync::Arc;
    /// use tokenkeep::record::Usage;
    /// use tokenkeep::rules::OwnerLimitsUpdate;
    /// use tokenkeep::store::MemoryStore;
    /// use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager};
    ///
    /// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
    /// let budget = Usage::new(2, tokens.service().now())?;
    /// let update = OwnerLimitsUpdate { usage: Some(Some(budget)), ..Default::default() };
    /// tokens.set_owner_limits(&Actor::Admin, "alice", &update).await?;
    /// // Two tokens, one budget of two uses between them.
    /// let laptop = tokens.issue(&Actor::Admin, IssueRequest::new("alice", "laptop")).await?;
    /// let ci = tokens.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await?;
    /// let service = tokens.service();
    /// assert!(service.verify_token(laptop.token.expose_secret(), Requirement::None).await.is_ok());
    /// assert!(service.verify_token(ci.token.expose_secret(), Requirement::None).await.is_ok());
    /// assert!(service.verify_token(ci.token.expose_secret(), Requirement::None).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Forbidden`](ManageError::Forbidden), an invalid owner, or the
    /// store's failure.
    pub async fn set_owner_limits(
        &self,
        actor: &Actor,
        owner: &str,
        update: &OwnerLimitsUpdate,
    ) -> Result<OwnerLimits, ManageError> {
        let set = async {
            check_owner(owner)?;
            self.manage.policy.require_manager(actor)?;
            let now = self.service().now();
            let limits = self.manage.store.set_owner_limits(owner, update, now).await?;
            self.service().signal_change();
            Ok(limits)
        };
        audited("set_owner_limits", actor, &owner, set.await)
    }
}
