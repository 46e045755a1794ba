//! [`TokenManager`]: a [`TokenService`] that also issues and manages tokens.

use std::sync::Arc;

use super::TokenService;
use super::policy::Policy;
use super::setup::SetupConfig;
use crate::store::ManageStore;

/// Issues, verifies and manages tokens over one [`ManageStore`]: the one
/// object a service that hands out tokens holds.
///
/// It holds the [`TokenService`] it verifies with: [`service`](Self::service)
/// verifies, and is what code that only verifies is handed. Cheap to clone
/// (two `Arc`s).
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenManager};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("myc")?).build()?;
/// let issued = tokens
///     .issue(&Actor::User("alice".into()), IssueRequest::new("alice", "laptop"))
///     .await?;
/// let header = format!("Bearer {}", issued.token.expose_secret());
/// let who = tokens.service().verify_bearer(Some(&header), Requirement::None).await?;
/// assert_eq!(who.owner(), "alice");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TokenManager {
    service: TokenService,
    pub(super) manage: Arc<ManagerInner>,
}

#[derive(Debug)]
pub(super) struct ManagerInner {
    /// The same layered store the service reads.
    pub(super) store: Arc<dyn ManageStore>,
    pub(super) policy: Policy,
    pub(super) setup: SetupConfig,
    /// Whether custom secrets may be adopted (they could not verify otherwise).
    pub(super) accept_custom_secrets: bool,
}

impl TokenManager {
    /// The owner of the first manager token a setup claim mints, unless
    /// configured otherwise.
    pub const DEFAULT_SETUP_OWNER: &'static str = "admin";

    pub(super) fn new(service: TokenService, manage: ManagerInner) -> Self {
        Self { service, manage: Arc::new(manage) }
    }

    /// The verifying half, for code that only verifies (an axum state, a
    /// middleware).
    pub fn service(&self) -> &TokenService {
        &self.service
    }

    /// The store this manager writes, with its temporary tokens in front.
    pub fn manage_store(&self) -> &Arc<dyn ManageStore> {
        &self.manage.store
    }

    /// The management rules in force.
    pub fn policy(&self) -> &Policy {
        &self.manage.policy
    }
}

impl From<TokenManager> for TokenService {
    fn from(manager: TokenManager) -> Self {
        manager.service
    }
}
