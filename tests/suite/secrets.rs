//! No `Debug`, `Display`, error or serialised record ever shows a plaintext.
#![cfg(feature = "management")]

use crate::support::Calls as _;
use crate::support::service;
use tokenkeep::{Actor, IssueRequest, Requirement, TokenRef};

#[tokio::test]
async fn the_plaintext_never_shows() {
    let (service, _) = service();
    let issued = service.admin_issue(IssueRequest::new("alice", "laptop")).await;
    let plaintext = issued.token.expose_secret().to_owned();
    let secret_part = &plaintext[3..];

    let who = service.service().verify_token(&plaintext, Requirement::Manager).await;
    let mut tampered = plaintext.clone();
    tampered.push('x');
    let malformed = service.refused(&tampered).await;
    let header = format!("Bearer {plaintext} extra");
    let bad_header =
        service.service().verify_bearer(Some(&header), Requirement::None).await.unwrap_err();
    service.admin_revoke(issued.record.id).await;
    let revoked = service.refused(&plaintext).await;
    let record = service.get(&Actor::Admin, &TokenRef::id(issued.record.id)).await.unwrap();

    let shown = [
        format!("{issued:?}"),
        format!("{:#?}", issued.token),
        issued.token.to_string(),
        format!("{who:?}"),
        format!("{malformed} {malformed:?}"),
        format!("{bad_header} {bad_header:?}"),
        format!("{revoked} {revoked:?}"),
        format!("{record:?}"),
        serde_json::to_string(&record).unwrap(),
        format!("{service:?}"),
    ];
    for text in shown {
        assert!(!text.contains(secret_part), "plaintext in: {text}");
        assert!(
            !text.contains(&record.hash.to_hex()) || text.starts_with('{'),
            "full hash in: {text}"
        );
    }
}
