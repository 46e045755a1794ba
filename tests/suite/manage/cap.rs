//! The per-owner cap: what counts, what is refused, and that it holds under concurrency and rotation.

use super::*;

#[tokio::test]
async fn the_eleventh_token_is_refused_and_nothing_is_deleted() {
    let (service, _) = service();
    for index in 0..10 {
        service.issue(&alice(), IssueRequest::new("alice", format!("t{index}"))).await.unwrap();
    }
    let eleventh = service.issue(&alice(), IssueRequest::new("alice", "t10")).await;
    assert!(matches!(eleventh, Err(ManageError::Refused(Refusal::LimitReached { limit: 10 }))));
    let listed = service.list(&alice(), None, false).await.unwrap();
    assert_eq!(listed.len(), 10, "nothing made room");
    service.revoke(&alice(), &TokenRef::id_or_name("t0")).await.unwrap();
    service.issue(&alice(), IssueRequest::new("alice", "t10")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_under_concurrent_issues() {
    let (service, _) = service();
    let attempts: Vec<_> = (0..50)
        .map(|index| {
            let service = service.clone();
            tokio::spawn(async move {
                service.issue(&Actor::Admin, IssueRequest::new("alice", format!("c{index}"))).await
            })
        })
        .collect();
    let mut ok = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ManageError::Refused(Refusal::LimitReached { .. })) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 10);
}

#[tokio::test]
async fn the_cap_is_configurable() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(1)).build().unwrap();
    service.issue(&alice(), IssueRequest::new("alice", "a")).await.unwrap();
    let second = service.issue(&alice(), IssueRequest::new("alice", "b")).await;
    assert!(matches!(second, Err(ManageError::Refused(Refusal::LimitReached { limit: 1 }))));
}

/// A token in its grace period still verifies, so it counts toward the
/// cap: at the cap, a rotation works without a grace period, and one with
/// a grace period is refused (it would leave two tokens verifying).
#[tokio::test]
async fn rotation_at_the_cap_needs_no_grace_period() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(1)).build().unwrap();
    service.issue(&alice(), IssueRequest::new("alice", "only")).await.unwrap();
    let only = TokenRef::id_or_name("only");
    let graceful = service.rotate(&alice(), &only, Some(Duration::minutes(5))).await;
    assert!(
        matches!(graceful, Err(ManageError::Refused(Refusal::LimitReached { limit: 1 }))),
        "{graceful:?}"
    );
    service.rotate(&alice(), &only, None).await.unwrap();
    let full = service.issue(&alice(), IssueRequest::new("alice", "another")).await;
    assert!(matches!(full, Err(ManageError::Refused(Refusal::LimitReached { limit: 1 }))));
}

/// Ten rotations with a long grace period and nine creates used to leave
/// twenty tokens verifying for one owner with a cap of ten.
#[tokio::test]
async fn grace_periods_count_toward_the_cap_and_are_bounded() {
    let (builder, _, _) = builder();
    let service = builder.max_active_per_owner(Some(10)).build().unwrap();
    service.issue(&alice(), IssueRequest::new("alice", "ci")).await.unwrap();
    let ci = TokenRef::id_or_name("ci");
    let too_long = service.rotate(&alice(), &ci, Some(Duration::days(36_500))).await;
    assert!(matches!(too_long, Err(ManageError::GraceTooLong { .. })), "{too_long:?}");
    assert_eq!(tokenkeep::ErrorCode::code(&too_long.unwrap_err()), "INVALID_DURATION");
    let mut rotated = 0;
    for _ in 0..10 {
        if service.rotate(&alice(), &ci, Some(Duration::days(7))).await.is_ok() {
            rotated += 1;
        }
    }
    let mut created = 0;
    for index in 0..9 {
        if service.issue(&alice(), IssueRequest::new("alice", format!("t{index}"))).await.is_ok() {
            created += 1;
        }
    }
    let verifying = service.list(&alice(), None, false).await.unwrap().len();
    assert!(verifying <= 10, "{verifying} tokens verify for a cap of 10");
    assert_eq!(rotated + created + 1, verifying, "every success counts");
}
