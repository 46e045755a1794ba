//! [`TokenManager`]: a [`TokenService`] that also issues and manages tokens.

use std::ops::Deref;
use std::sync::Arc;

use super::TokenService;
use super::builder::ServiceBuilder;
use super::policy::Policy;
use super::setup::SetupConfig;
use crate::store::ManageStore;
use crate::token::Prefix;

/// Issues, verifies and manages tokens over one [`ManageStore`]: the one
/// object a service that hands out tokens holds.
///
/// It derefs to the [`TokenService`] it verifies with, so one object does
/// both; hand [`service`](Self::service) to code that only verifies.
/// Cheap to clone (two `Arc`s).
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
/// let who = tokens.verify_bearer(Some(&header), Requirement::None).await?;
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

    /// Starts configuring a manager over `store` whose tokens carry `prefix`.
    pub fn builder(
        store: Arc<dyn ManageStore>,
        prefix: Prefix,
    ) -> ServiceBuilder<dyn ManageStore, TokenManager> {
        ServiceBuilder::new(store, prefix)
    }

    pub(super) fn new(service: TokenService, manage: ManagerInner) -> Self {
        Self {
            service,
            manage: Arc::new(manage),
        }
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

impl Deref for TokenManager {
    type Target = TokenService;

    fn deref(&self) -> &TokenService {
        &self.service
    }
}

impl From<TokenManager> for TokenService {
    fn from(manager: TokenManager) -> Self {
        manager.service
    }
}
