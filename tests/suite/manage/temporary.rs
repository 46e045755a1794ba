//! Temporary tokens: listed, never changed, never stored, never shadowed.

use super::*;
use crate::support::Calls as _;

#[tokio::test]
async fn temporary_tokens_are_listed_but_never_changed_or_revoked() {
    let (builder, clock, store) = builder();
    let service = builder
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap().owner("alice"))
        .build()
        .unwrap();
    clock.advance(Duration::seconds(1));
    service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let listed = service.list(&alice(), None, false).await.unwrap();
    let names: Vec<_> = listed.iter().map(|record| record.name.as_str()).collect();
    assert_eq!(names, ["root", "laptop"], "temporary and stored, oldest first");
    assert_eq!(store.len(), 1, "only the stored token is in the store");

    let root = TokenRef::id_or_name("root").of_owner("alice");
    for refused in [
        service.rename(&Actor::Admin, &root, "renamed").await.err(),
        service.rotate(&Actor::Admin, &root, None).await.err(),
        service.revoke(&Actor::Admin, &root).await.err(),
        service.delete(&Actor::Admin, &root).await.err(),
    ] {
        let error = refused.expect("a temporary token cannot be changed");
        assert!(matches!(error, ManageError::Refused(Refusal::Temporary)), "{error:?}");
        assert_eq!(tokenkeep::ErrorCode::code(&error), "TOKEN_TEMPORARY");
    }
    assert!(
        service.service().verify_token("root-secret", Requirement::Manager).await.is_ok(),
        "still as configured"
    );

    // Revoke-all revokes what the store holds; a revocation of the
    // temporary one would not outlive a restart, so none is pretended.
    assert_eq!(service.revoke_all(&Actor::Admin, "alice").await.unwrap(), 1);
    assert!(service.verifies_text("root-secret").await);
    assert_eq!(store.len(), 1);
}

/// A lifetime limit does not make a temporary token's rotation look like
/// a policy problem: it cannot be rotated at all, and says so first.
#[tokio::test]
async fn rotating_a_temporary_token_is_token_temporary_whatever_the_lifetime_policy() {
    let (builder, _, _) = builder();
    let service = builder
        .max_lifetime(Some(Duration::days(30)))
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build()
        .unwrap();
    let root = service.verified("root-secret").await;
    let root = TokenRef::id(root.token_id());
    let refused = service.rotate(&Actor::Admin, &root, None).await.unwrap_err();
    assert_eq!(tokenkeep::ErrorCode::code(&refused), "TOKEN_TEMPORARY", "{refused:?}");
}

/// An imported record of kind `temporary` would live in the store, where
/// revoking it as a temporary token (in memory) left it verifying.
#[tokio::test]
async fn import_refuses_temporary_records_and_writes_nothing() {
    let (service, _) = service();
    let stored = crate::support::fresh_record("laptop");
    let mut temporary = crate::support::fresh_record("root");
    temporary.kind = tokenkeep::record::TokenKind::Temporary;
    let refused = service.import(&Actor::Admin, vec![stored.clone(), temporary]).await;
    assert!(matches!(refused, Err(ManageError::Refused(Refusal::Temporary))), "{refused:?}");
    assert!(service.export(&Actor::Admin).await.unwrap().is_empty(), "nothing was written");
}

/// A stored token with a temporary token's text would be shadowed by it,
/// and the temporary one carries manager rights.
#[tokio::test]
async fn a_temporary_tokens_secret_is_never_stored_and_never_shadows() {
    let (builder, _, store) = builder();
    let service = builder
        .accept_custom_secrets(true)
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build()
        .unwrap();
    let adopted = service
        .issue(
            &Actor::Admin,
            IssueRequest::new("mallory", "copy")
                .secret(tokenkeep::TokenSecret::custom("root-secret").unwrap()),
        )
        .await;
    assert!(matches!(adopted, Err(ManageError::Store(StoreError::Duplicate))), "{adopted:?}");
    let mut imported = crate::support::fresh_record("copy");
    imported.hash = tokenkeep::hash::TokenHasher::sha256().hash("root-secret");
    let report = service.import(&Actor::Admin, vec![imported]).await.unwrap();
    assert_eq!((report.imported, report.skipped), (0, 1));
    assert!(store.is_empty(), "the temporary token's hash is never stored");

    // A stored token with that text already: the service refuses to start.
    let mut stored = crate::support::fresh_record("copy");
    stored.hash = tokenkeep::hash::TokenHasher::sha256().hash("root-secret");
    let shared = Arc::new(MemoryStore::from_records([stored]));
    let refused = TokenManager::builder(shared, Prefix::new("tk").unwrap())
        .accept_custom_secrets(true)
        .temporary_token(TemporaryToken::parse_spec("root:root-secret").unwrap())
        .build_checked()
        .await;
    assert!(matches!(refused, Err(tokenkeep::ConfigError::TemporaryToken(_))), "{refused:?}");
}
