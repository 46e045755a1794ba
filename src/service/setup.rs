//! Claiming a fresh installation: the operator configured a setup token;
//! whoever presents it first gets the first manager token.
//! Once the store has ever held a token, claiming answers conflict, even if
//! every token was revoked since.

use super::audit::{Named, audited_unauthenticated};
use super::{IssueRequest, IssuedToken, ManageError, TokenManager};
use crate::expiry::Expiry;
use crate::hash::TokenHasher;
use crate::rules::TokenRules as _;
use crate::scope::Scopes;
use crate::store::StoreError;
use crate::token::TokenSecret;

#[derive(Debug)]
pub(crate) struct SetupConfig {
    pub(crate) token: Option<TokenSecret>,
    pub(crate) skip_token: bool,
    pub(crate) owner: String,
}

impl Default for SetupConfig {
    fn default() -> Self {
        Self { token: None, skip_token: false, owner: TokenManager::DEFAULT_SETUP_OWNER.to_owned() }
    }
}

impl TokenManager {
    /// Whether the installation was claimed: whether the store has ever
    /// held a token.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn is_claimed(&self) -> Result<bool, StoreError> {
        self.service().store().has_ever_held_token().await
    }

    /// Claims a fresh installation with the configured setup token and
    /// returns the first manager token, named `name`. Of concurrent claims,
    /// exactly one wins.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokenkeep::store::{MemoryStore, StoreError};
    /// use tokenkeep::{ManageError, Prefix, TokenManager, TokenSecret};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let service = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?)
    ///     .setup_token(TokenSecret::custom("set-me-up-please")?)
    ///     .build()?;
    /// let first = service.claim_setup("admin", Some("set-me-up-please")).await?;
    /// assert!(first.record.scopes.manager);
    /// let again = service.claim_setup("admin", Some("set-me-up-please")).await;
    /// assert!(matches!(again, Err(ManageError::Store(StoreError::AlreadyClaimed))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::AlreadyClaimed`] (409),
    /// [`InvalidSetupToken`](ManageError::InvalidSetupToken) (401; also when
    /// no setup token is configured and the dangerous skip is off), a bad
    /// name (400), or the store's failure.
    pub async fn claim_setup(
        &self,
        name: &str,
        setup_token: Option<&str>,
    ) -> Result<IssuedToken, ManageError> {
        let setup = &self.manage.setup;
        let claimed = async {
            if self.is_claimed().await? {
                return Err(StoreError::AlreadyClaimed.into());
            }
            self.check_setup_token(setup_token)?;
            let mut request =
                IssueRequest::new(setup.owner.as_str(), name).scopes(Scopes::manager());
            // Under a lifetime policy the first token lives as long as allowed.
            if let Some(max) = self.manage.policy.max_lifetime {
                request = request.expires(Expiry::After(max));
            }
            let (token, hash, display_prefix) = self.mint_or_adopt(None)?;
            let record = self.new_record(&request, hash, display_prefix, &"setup")?;
            self.manage.store.claim_setup(record.clone()).await?;
            Ok(IssuedToken { token, record })
        };
        let target = Named(&setup.owner, name);
        audited_unauthenticated("claim_setup", &target, claimed.await)
    }

    /// Compares hashes of both texts, so the comparison is constant-time
    /// whatever their lengths.
    fn check_setup_token(&self, presented: Option<&str>) -> Result<(), ManageError> {
        let setup = &self.manage.setup;
        if setup.skip_token {
            return Ok(());
        }
        let hasher = TokenHasher::sha256();
        match (&setup.token, presented) {
            (Some(expected), Some(presented))
                if hasher.hash(expected.expose_secret()) == hasher.hash(presented) =>
            {
                Ok(())
            }
            _ => Err(ManageError::InvalidSetupToken),
        }
    }
}
