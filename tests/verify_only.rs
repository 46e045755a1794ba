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
    let service = TokenService::builder(store, Prefix::new("tk").unwrap())
        .build()
        .unwrap();
    let header = format!("Bearer {}", minted.secret.expose_secret());
    let path = RoutePath::parse("/releases/app.jar").unwrap();
    let who = service
        .verify_bearer(Some(&header), Requirement::Read(&path))
        .await
        .unwrap();
    assert_eq!(who.owner(), "alice");
    let write = service
        .verify_bearer(Some(&header), Requirement::Write(&path))
        .await;
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
