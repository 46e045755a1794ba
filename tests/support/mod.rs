//! Shared set-up for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

#[cfg(all(feature = "axum", feature = "sqlite", feature = "postgres"))]
pub mod browser;
#[cfg(feature = "management")]
pub mod faulty;
#[cfg(all(feature = "axum", feature = "sqlite", feature = "postgres"))]
pub mod server;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;

use tokenkeep::time::OffsetDateTime;
use tokenkeep::{
    ManualClock, MemoryStore, Prefix, Requirement, ServiceBuilder, TokenSecret, TokenService,
    TokenStore,
};

/// 2026-01-01T00:00:00Z.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("a valid instant")
}

/// A builder over a fresh `MemoryStore` with a manual clock at t0.
pub fn builder() -> (ServiceBuilder, ManualClock, Arc<MemoryStore>) {
    let clock = ManualClock::new(t0());
    let store = Arc::new(MemoryStore::new());
    let builder = TokenService::builder(store.clone(), Prefix::new("tk").expect("a valid prefix"))
        .clock(clock.clone());
    (builder, clock, store)
}

/// A default service with a manual clock.
pub fn service() -> (TokenService, ManualClock) {
    let (builder, clock, _) = builder();
    (builder.build().expect("a valid configuration"), clock)
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Whether `token` verifies with no requirement.
pub async fn verifies(service: &TokenService, token: &TokenSecret) -> bool {
    service
        .verify_token(token.expose_secret(), Requirement::None)
        .await
        .is_ok()
}

/// A default service (system clock) over `store`.
pub fn service_over(store: Arc<dyn TokenStore>) -> TokenService {
    TokenService::builder(store, Prefix::new("tk").expect("a valid prefix"))
        .build()
        .expect("a valid configuration")
}

/// A record with a random id and hash, not stored anywhere yet.
pub fn fresh_record(name: &str) -> tokenkeep::TokenRecord {
    let id = tokenkeep::TokenId::random().expect("randomness");
    tokenkeep::TokenRecord {
        id,
        owner: "owner".to_owned(),
        name: tokenkeep::TokenName::new(name).expect("name"),
        description: None,
        hash: tokenkeep::TokenHasher::sha256().hash(&id.to_string()),
        display_prefix: String::new(),
        scopes: tokenkeep::Scopes::default(),
        profile: None,
        kind: tokenkeep::TokenKind::Persistent,
        created_at: t0(),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        replaced_by: None,
    }
}
