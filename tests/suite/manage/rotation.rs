//! Rotation: what the replacement keeps, and how long the old token lives.

use super::*;
use crate::support::Calls as _;

#[tokio::test]
async fn rotation_keeps_everything_but_the_secret_and_never_extends_expiry() {
    let (service, clock) = service();
    let scopes = Scopes::manager();
    let issued = service
        .issue(
            &Actor::Admin,
            IssueRequest::new("alice", "ci")
                .scopes(scopes.clone())
                .profile("prod")
                .expires(Expiry::After(Duration::days(30))),
        )
        .await
        .unwrap();
    clock.advance(Duration::days(10));
    let rotated =
        service.rotate(&Actor::Admin, &TokenRef::id(issued.record.id), None).await.unwrap();
    let new = &rotated.record;
    assert_ne!(new.id, issued.record.id);
    assert_ne!(rotated.token.expose_secret(), issued.token.expose_secret());
    assert_eq!((new.owner.as_str(), new.name.as_str()), ("alice", "ci"));
    assert_eq!(new.scopes, scopes);
    assert_eq!(new.extras.profile.as_deref(), Some("prod"));
    assert_eq!(new.expires_at, issued.record.expires_at, "same expiry, never later");
    assert!(!verifies(&service, &issued.token).await);
    assert!(verifies(&service, &rotated.token).await);
}

#[tokio::test]
async fn a_grace_period_never_outlasts_the_old_expiry() {
    let (service, clock) = service();
    let issued = service
        .issue(
            &alice(),
            IssueRequest::new("alice", "ci").expires(Expiry::After(Duration::hours(1))),
        )
        .await
        .unwrap();
    let old = issued.token.expose_secret();
    let rotated = service
        .rotate(&alice(), &TokenRef::id_or_name("ci"), Some(Duration::days(1)))
        .await
        .unwrap();
    // Both work during the grace period; the new one holds the name.
    service.verified(old).await;
    assert!(verifies(&service, &rotated.token).await);
    let by_name = service.get(&alice(), &TokenRef::id_or_name("ci")).await.unwrap();
    assert_eq!(by_name.id, rotated.record.id);
    let old_record = service.get(&alice(), &TokenRef::id(issued.record.id)).await.unwrap();
    assert_eq!(old_record.expires_at, issued.record.expires_at, "bounded by its own expiry");

    clock.advance(Duration::hours(1));
    assert!(!service.verifies_text(old).await);

    let (service, clock) = crate::support::service();
    let issued = service.issue(&alice(), IssueRequest::new("alice", "ci")).await.unwrap();
    service
        .rotate(&alice(), &TokenRef::id(issued.record.id), Some(Duration::minutes(10)))
        .await
        .unwrap();
    clock.advance(Duration::minutes(10) - Duration::seconds(1));
    assert!(verifies(&service, &issued.token).await);
    clock.advance(Duration::seconds(1));
    assert!(!verifies(&service, &issued.token).await);
    let bad = service.rotate(&alice(), &TokenRef::id_or_name("ci"), Some(Duration::ZERO)).await;
    assert!(matches!(bad, Err(ManageError::InvalidDuration(_))));
}
