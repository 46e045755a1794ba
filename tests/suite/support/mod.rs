//! Shared set-up for the integration tests.
#![allow(dead_code, unreachable_pub)]

#[cfg(feature = "management")]
use std::sync::Arc;

#[cfg(feature = "management")]
pub mod faulty;
#[cfg(feature = "management")]
pub mod kinds;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;

use tokenkeep::time::OffsetDateTime;
#[cfg(feature = "management")]
use tokenkeep::{
    Prefix, Requirement, TokenManager, TokenSecret,
    expiry::ManualClock,
    service::ServiceBuilder,
    store::{ManageStore, MemoryStore},
};

/// 2026-01-01T00:00:00Z.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("a valid instant")
}

/// A builder over a fresh `MemoryStore` with a manual clock at t0.
#[cfg(feature = "management")]
pub fn builder() -> (ServiceBuilder<dyn ManageStore, TokenManager>, ManualClock, Arc<MemoryStore>) {
    let clock = ManualClock::new(t0());
    let store = Arc::new(MemoryStore::new());
    let builder = TokenManager::builder(store.clone(), Prefix::new("tk").expect("a valid prefix"))
        .clock(clock.clone());
    (builder, clock, store)
}

/// A default service with a manual clock.
#[cfg(feature = "management")]
pub fn service() -> (TokenManager, ManualClock) {
    let (builder, clock, _) = builder();
    (builder.build().expect("a valid configuration"), clock)
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Whether `token` verifies with no requirement.
#[cfg(feature = "management")]
pub async fn verifies(service: &TokenManager, token: &TokenSecret) -> bool {
    service.verifies_text(token.expose_secret()).await
}

/// What the tests call most, one line each (as the administrator where a
/// call has an actor): an unexpected answer is a failed test.
#[cfg(feature = "management")]
#[allow(async_fn_in_trait)]
pub trait Calls {
    /// Issues `request`.
    async fn admin_issue(&self, request: tokenkeep::IssueRequest) -> tokenkeep::IssuedToken;
    /// Revokes the token `id`; the record after.
    async fn admin_revoke(&self, id: tokenkeep::TokenId) -> tokenkeep::TokenRecord;
    /// Deletes the token `id`.
    async fn admin_delete(&self, id: tokenkeep::TokenId);
    /// Whether the token text `token` verifies with no requirement.
    async fn verifies_text(&self, token: &str) -> bool;
    /// Who `token` is; it must verify with no requirement.
    async fn verified(&self, token: &str) -> tokenkeep::Authenticated;
    /// Why `token` does not verify with no requirement.
    async fn refused(&self, token: &str) -> tokenkeep::AuthError;
}

#[cfg(feature = "management")]
impl Calls for TokenManager {
    async fn admin_issue(&self, request: tokenkeep::IssueRequest) -> tokenkeep::IssuedToken {
        self.issue(&tokenkeep::Actor::Admin, request).await.unwrap()
    }

    async fn admin_revoke(&self, id: tokenkeep::TokenId) -> tokenkeep::TokenRecord {
        let token = tokenkeep::TokenRef::id(id);
        self.revoke(&tokenkeep::Actor::Admin, &token).await.unwrap()
    }

    async fn admin_delete(&self, id: tokenkeep::TokenId) {
        let token = tokenkeep::TokenRef::id(id);
        self.delete(&tokenkeep::Actor::Admin, &token).await.unwrap();
    }

    async fn verifies_text(&self, token: &str) -> bool {
        let verdict = self.service().verify_token(token, Requirement::None);
        verdict.await.is_ok()
    }

    async fn verified(&self, token: &str) -> tokenkeep::Authenticated {
        let verdict = self.service().verify_token(token, Requirement::None);
        verdict.await.unwrap()
    }

    async fn refused(&self, token: &str) -> tokenkeep::AuthError {
        let verdict = self.service().verify_token(token, Requirement::None);
        verdict.await.unwrap_err()
    }
}

/// A default service (system clock) over `store`.
#[cfg(feature = "management")]
pub fn service_over(store: Arc<dyn ManageStore>) -> TokenManager {
    TokenManager::builder(store, Prefix::new("tk").expect("a valid prefix"))
        .build()
        .expect("a valid configuration")
}

/// A record with a random id and hash, not stored anywhere yet.
pub fn fresh_record(name: &str) -> tokenkeep::TokenRecord {
    let id = tokenkeep::TokenId::random().expect("randomness");
    let hash = tokenkeep::hash::TokenHasher::sha256().hash(&id.to_string());
    let name = tokenkeep::record::TokenName::new(name).expect("name");
    tokenkeep::TokenRecord::new(id, "owner", name, hash, t0())
}
