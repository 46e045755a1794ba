//! A lifetime policy: with a longest lifetime, every token must expire
//! within it, at issue, import and rotation; what the policy does not
//! allow is refused with `LIFETIME_TOO_LONG` and nothing is written.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use crate::support::{builder, fresh_record, t0};
use tokenkeep::time::Duration;
use tokenkeep::{
    Actor, ErrorCode, Expiry, IssueRequest, ManageError, Prefix, TokenManager, TokenRef,
    TokenSecret,
};

fn refused_for_lifetime<T: std::fmt::Debug>(result: Result<T, ManageError>) -> bool {
    matches!(&result, Err(error @ ManageError::LifetimeTooLong { .. }) if error.code() == "LIFETIME_TOO_LONG")
}

fn with_policy() -> TokenManager {
    let (builder, _, _) = builder();
    builder
        .max_lifetime(Some(Duration::days(90)))
        .accept_custom_secrets(true)
        .dangerously_skip_setup_token()
        .build()
        .unwrap()
}

#[tokio::test]
async fn issue_adopt_and_claim_keep_within_the_longest_lifetime() {
    let service = with_policy();
    let admin = Actor::Admin;
    let forever = IssueRequest::new("alice", "forever");
    assert!(refused_for_lifetime(service.issue(&admin, forever).await));
    let too_long = IssueRequest::new("alice", "long").expires(Expiry::After(Duration::days(91)));
    assert!(refused_for_lifetime(service.issue(&admin, too_long).await));
    let custom = IssueRequest::new("alice", "custom")
        .secret(TokenSecret::custom("a-legacy-secret").unwrap());
    assert!(refused_for_lifetime(service.issue(&admin, custom).await));
    let hash = service.service().hasher().hash("imported-elsewhere");
    let adopted = service.adopt_hash(&admin, IssueRequest::new("alice", "adopted"), hash).await;
    assert!(refused_for_lifetime(adopted));
    assert!(service.list(&admin, None, true).await.unwrap().is_empty(), "nothing written");

    let within = IssueRequest::new("alice", "ok").expires(Expiry::After(Duration::days(90)));
    assert!(service.issue(&admin, within).await.is_ok());

    // The first token lives as long as the policy allows.
    let fresh = with_policy();
    let claimed = fresh.claim_setup("admin", None).await.unwrap();
    assert_eq!(claimed.record.expires_at, Some(t0() + Duration::days(90)));
}

#[tokio::test]
async fn import_and_rotation_refuse_what_would_outlive_the_policy() {
    let (builder, clock, store) = builder();
    let open = builder.build().unwrap();
    let legacy = open.admin_issue(IssueRequest::new("alice", "legacy")).await;
    // The policy arrives after the token: rotating it would keep "never".
    let strict = TokenManager::builder(store, Prefix::new("tk").unwrap())
        .clock(clock)
        .max_lifetime(Some(Duration::days(30)))
        .build()
        .unwrap();
    let rotated = strict.rotate(&Actor::Admin, &TokenRef::id(legacy.record.id), None).await;
    assert!(refused_for_lifetime(rotated));

    let never = fresh_record("never");
    let mut revoked = fresh_record("history");
    revoked.revoked_at = Some(t0());
    assert!(refused_for_lifetime(strict.import(&Actor::Admin, vec![never, revoked.clone()]).await));
    let report = strict.import(&Actor::Admin, vec![revoked]).await.unwrap();
    assert_eq!(report.imported, 1, "a revoked record is history, kept as it was");
}
