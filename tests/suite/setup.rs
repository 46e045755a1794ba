//! Claiming a fresh installation with the setup token.
#![cfg(feature = "management")]

use crate::support::Calls as _;
use crate::support::builder;
use tokenkeep::store::StoreError;
use tokenkeep::{ManageError, Requirement, TokenSecret};

fn setup_secret() -> TokenSecret {
    TokenSecret::custom("claim-me-once-please").expect("a valid secret")
}

#[tokio::test]
async fn the_setup_token_claims_once_and_mints_a_manager() {
    let (builder, _, _) = builder();
    let service = builder.setup_token(setup_secret()).build().unwrap();
    assert!(!service.is_claimed().await.unwrap());

    let wrong = service.claim_setup("admin", Some("not-the-token")).await;
    assert!(matches!(wrong, Err(ManageError::InvalidSetupToken)));
    let missing = service.claim_setup("admin", None).await;
    assert!(matches!(missing, Err(ManageError::InvalidSetupToken)));
    assert!(!service.is_claimed().await.unwrap(), "failed claims change nothing");

    let first = service.claim_setup("admin", Some("claim-me-once-please")).await.unwrap();
    assert_eq!(first.record.owner, tokenkeep::TokenManager::DEFAULT_SETUP_OWNER);
    assert_eq!(first.record.name.as_str(), "admin");
    service
        .service()
        .verify_token(first.token.expose_secret(), Requirement::Manager)
        .await
        .unwrap();
    assert!(service.is_claimed().await.unwrap());
    let again = service.claim_setup("admin", Some("claim-me-once-please")).await;
    assert!(matches!(again, Err(ManageError::Store(StoreError::AlreadyClaimed))));
}

#[tokio::test]
async fn revoking_every_token_does_not_reopen_setup() {
    let (builder, _, _) = builder();
    let service = builder.setup_token(setup_secret()).build().unwrap();
    let first = service.claim_setup("admin", Some("claim-me-once-please")).await.unwrap();
    service.admin_revoke(first.record.id).await;
    let again = service.claim_setup("admin", Some("claim-me-once-please")).await;
    assert!(matches!(again, Err(ManageError::Store(StoreError::AlreadyClaimed))));
}

#[tokio::test]
async fn without_a_setup_token_nobody_can_claim_unless_told_it_is_safe() {
    let (builder, _, _) = builder();
    let locked = builder.build().unwrap();
    let refused = locked.claim_setup("admin", Some("anything-at-all")).await;
    assert!(matches!(refused, Err(ManageError::InvalidSetupToken)));

    let (builder, _, _) = crate::support::builder();
    let open = builder.dangerously_skip_setup_token().build().unwrap();
    open.claim_setup("admin", None).await.unwrap();
}

#[tokio::test]
async fn a_bad_name_is_refused_before_anything_is_written() {
    let (builder, _, _) = builder();
    let service = builder.setup_token(setup_secret()).build().unwrap();
    let bad = service.claim_setup("", Some("claim-me-once-please")).await;
    assert!(matches!(bad, Err(ManageError::InvalidName(_))));
    assert!(!service.is_claimed().await.unwrap());
}
