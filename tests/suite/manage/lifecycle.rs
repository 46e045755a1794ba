//! A token's life through the manager: list, get, rename and modify, revoke, delete, export, and the revocation watch.

use super::*;
use crate::support::Calls as _;

#[tokio::test]
async fn list_is_active_by_default_and_keeps_the_audit_trail_on_request() {
    let (service, clock) = service();
    let keep = service.issue(&alice(), IssueRequest::new("alice", "keep")).await.unwrap();
    clock.advance(Duration::seconds(1));
    let gone = service.issue(&alice(), IssueRequest::new("alice", "gone")).await.unwrap();
    clock.advance(Duration::seconds(1));
    service
        .issue(
            &alice(),
            IssueRequest::new("alice", "short").expires(Expiry::After(Duration::hours(1))),
        )
        .await
        .unwrap();
    service.revoke(&alice(), &TokenRef::id_or_name("gone")).await.unwrap();
    let revoked_at = service.service().now();
    clock.advance(Duration::hours(2));
    let active = service.list(&alice(), None, false).await.unwrap();
    assert_eq!(active.iter().map(|r| r.id).collect::<Vec<_>>(), [keep.record.id]);
    let all = service.list(&alice(), None, true).await.unwrap();
    let statuses: Vec<_> = all.iter().map(|r| r.status(service.service().now())).collect();
    assert_eq!(statuses, [TokenStatus::Active, TokenStatus::Revoked, TokenStatus::Expired]);
    let revoked = all.iter().find(|r| r.id == gone.record.id).unwrap();
    assert_eq!(revoked.revoked_at, Some(revoked_at));
}

#[tokio::test]
async fn get_rename_and_modify_by_id_or_name() {
    let (service, _) = service();
    let issued = service
        .issue(&alice(), IssueRequest::new("alice", "laptop").description("old"))
        .await
        .unwrap();
    let by_name = service.get(&alice(), &TokenRef::id_or_name("laptop")).await.unwrap();
    let by_id =
        service.get(&alice(), &TokenRef::id_or_name(issued.record.id.to_string())).await.unwrap();
    assert_eq!(by_name, by_id);

    let renamed =
        service.rename(&alice(), &TokenRef::id_or_name("laptop"), "work laptop").await.unwrap();
    assert_eq!(renamed.name.as_str(), "work laptop");
    assert!(matches!(
        service.get(&alice(), &TokenRef::id_or_name("laptop")).await,
        Err(ManageError::Refused(Refusal::NotFound))
    ));
    let changed = service
        .modify(
            &alice(),
            &TokenRef::id_or_name("work laptop"),
            TokenUpdate { description: Some(None), ..TokenUpdate::default() },
        )
        .await
        .unwrap();
    assert_eq!(changed.extras.description, None);
    let bad = service.rename(&alice(), &TokenRef::id_or_name("work laptop"), "").await;
    assert!(matches!(bad, Err(ManageError::InvalidName(_))));
}

#[tokio::test]
async fn a_name_shared_by_several_owners_needs_an_owner() {
    let (service, _) = service();
    service.admin_issue(IssueRequest::new("alice", "ci")).await;
    service.admin_issue(IssueRequest::new("bob", "ci")).await;
    let ambiguous = service.revoke(&Actor::Admin, &TokenRef::id_or_name("ci")).await;
    assert!(matches!(ambiguous, Err(ManageError::Ambiguous)));
    let revoked =
        service.revoke(&Actor::Admin, &TokenRef::id_or_name("ci").of_owner("bob")).await.unwrap();
    assert_eq!(revoked.owner, "bob");
}

#[tokio::test]
async fn revoke_all_revokes_one_owner_only() {
    let (service, _) = service();
    let mut alices = Vec::new();
    for index in 0..3 {
        alices.push(
            service.issue(&alice(), IssueRequest::new("alice", format!("a{index}"))).await.unwrap(),
        );
    }
    let bob = service.admin_issue(IssueRequest::new("bob", "b")).await;
    assert_eq!(service.revoke_all(&alice(), "alice").await.unwrap(), 3);
    for issued in &alices {
        assert!(!verifies(&service, &issued.token).await);
    }
    assert!(verifies(&service, &bob.token).await);
    assert!(matches!(service.revoke_all(&alice(), "bob").await, Err(ManageError::Forbidden)));
}

#[tokio::test]
async fn hard_delete_is_for_managers() {
    let (service, _) = service();
    let issued = service.issue(&alice(), IssueRequest::new("alice", "laptop")).await.unwrap();
    let by_user = service.delete(&alice(), &TokenRef::id(issued.record.id)).await;
    assert!(matches!(by_user, Err(ManageError::Forbidden)));
    service.admin_delete(issued.record.id).await;
    assert!(service.list(&Actor::Admin, None, true).await.unwrap().is_empty());
    let error =
        service.service().verify_token(issued.token.expose_secret(), Requirement::None).await;
    assert!(matches!(error, Err(AuthError::InvalidToken(_))));
}

#[tokio::test]
async fn exported_records_verify_in_another_store() {
    let (service, _) = service();
    let kept = service.issue(&alice(), IssueRequest::new("alice", "kept")).await.unwrap();
    let revoked = service.issue(&alice(), IssueRequest::new("alice", "revoked")).await.unwrap();
    service.revoke(&alice(), &TokenRef::id_or_name("revoked")).await.unwrap();
    assert!(verifies(&service, &kept.token).await);
    service.service().flush_last_used().await.unwrap();

    assert!(matches!(service.export(&alice()).await, Err(ManageError::Forbidden)));
    let exported = service.export(&Actor::Admin).await.unwrap();
    assert_eq!(exported.len(), 2);
    let json = serde_json::to_string(&exported).unwrap();
    assert!(!json.contains(kept.token.expose_secret()));

    let target = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .build()
        .unwrap();
    let records = serde_json::from_str(&json).unwrap();
    let report = target.import(&Actor::Admin, records).await.unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(target.export(&Actor::Admin).await.unwrap(), exported);
    target.verified(kept.token.expose_secret()).await;
    let still_revoked =
        target.service().verify_token(revoked.token.expose_secret(), Requirement::None).await;
    assert!(matches!(
        still_revoked,
        Err(AuthError::InvalidToken(tokenkeep::InvalidToken::Revoked))
    ));
    assert!(target.is_claimed().await.unwrap());
}

/// A long-lived connection learns why its token stopped being good: a
/// revoke, a scope taken away, a delete, each the moment the manager
/// returns (no timing is asserted; the bound is generous).
#[tokio::test]
async fn the_revocation_watch_resolves_with_the_reason() {
    let (service, _) = service();
    let within = std::time::Duration::from_secs(3);
    let deploy = tokenkeep::scope::Ability::new("deploy").unwrap();
    let issue = |name: &'static str| {
        let (service, deploy) = (service.clone(), deploy.clone());
        async move {
            let scopes = Scopes { abilities: vec![deploy], ..Scopes::default() };
            service.issue(&alice(), IssueRequest::new("alice", name).scopes(scopes)).await
        }
    };
    let verified = |token: tokenkeep::TokenSecret| {
        let service = service.clone();
        async move { service.verified(token.expose_secret()).await }
    };

    let revoked = issue("revoked").await.unwrap();
    let who = verified(revoked.token).await;
    let watch = service.service().revocation(&who, Requirement::None);
    tokio::pin!(watch);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), &mut watch).await.is_err(),
        "a good token's watch does not resolve"
    );
    service.revoke(&alice(), &TokenRef::id(revoked.record.id)).await.unwrap();
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(
        matches!(reason, AuthError::InvalidToken(tokenkeep::InvalidToken::Revoked)),
        "{reason:?}"
    );

    let narrowed = issue("narrowed").await.unwrap();
    let who = verified(narrowed.token).await;
    let watch = service.service().revocation(&who, Requirement::Ability("deploy"));
    let changes = TokenUpdate { abilities: Some(Vec::new()), ..TokenUpdate::default() };
    service.modify(&alice(), &TokenRef::id(narrowed.record.id), changes).await.unwrap();
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(matches!(reason, AuthError::InsufficientScope { .. }), "{reason:?}");

    let deleted = issue("deleted").await.unwrap();
    let who = verified(deleted.token).await;
    let watch = service.service().revocation(&who, Requirement::None);
    service.admin_delete(deleted.record.id).await;
    let reason = tokio::time::timeout(within, watch).await.unwrap();
    assert!(
        matches!(reason, AuthError::InvalidToken(tokenkeep::InvalidToken::Unknown)),
        "{reason:?}"
    );
}
