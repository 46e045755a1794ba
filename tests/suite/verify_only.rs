//! What an edge service without the `management` feature can do: verify
//! tokens from records written elsewhere, and temporary tokens.

use std::sync::Arc;

use tokenkeep::hash::TokenHasher;
use tokenkeep::record::TokenName;
use tokenkeep::scope::RoutePath;
use tokenkeep::store::MemoryStore;
use tokenkeep::time::OffsetDateTime;
use tokenkeep::token::TokenFormat;
use tokenkeep::{
    Access, AuthError, Prefix, Requirement, Route, Scopes, TemporaryToken, TokenId, TokenRecord,
    TokenService,
};

#[tokio::test]
async fn verifies_records_written_by_another_service() {
    let format = TokenFormat::new(Prefix::new("tk").unwrap());
    let minted = format.mint(&TokenHasher::sha256()).unwrap();
    let mut record = TokenRecord::new(
        TokenId::random().unwrap(),
        "alice",
        TokenName::new("laptop").unwrap(),
        minted.hash,
        OffsetDateTime::now_utc(),
    );
    record.scopes = Scopes {
        routes: vec![Route::new("/releases", Access::READ).unwrap()],
        ..Scopes::default()
    };
    let store = Arc::new(MemoryStore::from_records([record]));
    let service = TokenService::builder(store, Prefix::new("tk").unwrap()).build().unwrap();
    let header = format!("Bearer {}", minted.secret.expose_secret());
    let path = RoutePath::parse("/releases/app.jar").unwrap();
    let who = service.verify_bearer(Some(&header), Requirement::Read(&path)).await.unwrap();
    assert_eq!(who.owner(), "alice");
    let write = service.verify_bearer(Some(&header), Requirement::Write(&path)).await;
    assert!(matches!(write, Err(AuthError::InsufficientScope { .. })));
    assert_eq!(service.flush_last_used().await.unwrap(), 1);
}

#[tokio::test]
async fn verifies_a_legacy_admin_bearer() {
    let service = TokenService::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .temporary_token(TemporaryToken::parse_spec("legacy:a-legacy-admin-bearer").unwrap())
        .build()
        .unwrap();
    let who = service
        .verify_bearer(Some("Bearer a-legacy-admin-bearer"), Requirement::Manager)
        .await
        .unwrap();
    assert_eq!(who.name(), "legacy");
}

/// Usage limits in a verify-only build: a service over a store it may write
/// counts each use in one change of the store, exactly; one over a store
/// it may only read refuses such a token (503, fail closed), never letting
/// it through uncounted.
#[tokio::test]
async fn a_usage_limited_token_is_counted_where_the_store_can_be_written() {
    let format = TokenFormat::new(Prefix::new("tk").unwrap());
    let minted = format.mint(&TokenHasher::sha256()).unwrap();
    let now = OffsetDateTime::now_utc();
    let name = TokenName::new("ci").unwrap();
    let mut record = TokenRecord::new(TokenId::random().unwrap(), "bob", name, minted.hash, now);
    record.extras.usage = Some(tokenkeep::record::Usage::new(2, now).unwrap());
    let token = minted.secret.expose_secret();

    let store = Arc::new(MemoryStore::from_records([record]));
    let read_only =
        TokenService::builder(store.clone(), Prefix::new("tk").unwrap()).build().unwrap();
    let refused = read_only.verify_token(token, Requirement::None).await;
    assert!(matches!(refused, Err(AuthError::Unavailable(_))), "{refused:?}");

    let counting =
        TokenService::writable_builder(store, Prefix::new("tk").unwrap()).build().unwrap();
    for _ in 0..2 {
        counting.verify_token(token, Requirement::None).await.unwrap();
    }
    let spent = counting.verify_token(token, Requirement::None).await;
    assert!(
        matches!(spent, Err(AuthError::InvalidToken(tokenkeep::InvalidToken::UsesExhausted))),
        "{spent:?}"
    );
}
