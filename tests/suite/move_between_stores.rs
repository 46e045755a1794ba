//! Export from SQLite, import into PostgreSQL and back: hashes and history
//! move, secrets never do, and the tokens still verify.
#![cfg(all(feature = "sqlite", feature = "postgres", feature = "management"))]

use crate::support::Calls as _;
use std::sync::Arc;

use crate::support::service_over;
use crate::support::sql::{postgres_store, sqlite_store};
use tokenkeep::{Actor, IssueRequest, Requirement};

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    let Some(postgres) = postgres_store().await else {
        return;
    };
    let sqlite = service_over(Arc::new(sqlite_store().await));
    let kept = sqlite.admin_issue(IssueRequest::new("alice", "kept")).await;
    let revoked = sqlite.admin_issue(IssueRequest::new("bob", "gone")).await;
    sqlite.admin_revoke(revoked.record.id).await;
    sqlite.verified(kept.token.expose_secret()).await;
    sqlite.service().flush_last_used().await.unwrap();
    let exported = sqlite.export(&Actor::Admin).await.unwrap();

    // Through JSON lines, as `token export | token import` would.
    let lines: Vec<String> = exported.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
    for line in &lines {
        assert!(!line.contains(&kept.token.expose_secret()[3..]));
    }
    let records = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();

    let postgres = service_over(Arc::new(postgres));
    let report = postgres.import(&Actor::Admin, records).await.unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(postgres.export(&Actor::Admin).await.unwrap(), exported);
    postgres.verified(kept.token.expose_secret()).await;
    assert!(!postgres.verifies_text(revoked.token.expose_secret()).await);
    assert!(postgres.is_claimed().await.unwrap());

    let back = service_over(Arc::new(sqlite_store().await));
    let report =
        back.import(&Actor::Admin, postgres.export(&Actor::Admin).await.unwrap()).await.unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(back.export(&Actor::Admin).await.unwrap(), exported);
    back.service().verify_token(kept.token.expose_secret(), Requirement::None).await.unwrap();
}
