//! Per-token rate limits: a token that carries one gets that many
//! verifications per period in this process, then `RATE_LIMITED` (429)
//! with the time to wait; tokens without one are never limited.
#![cfg(feature = "management")]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::time::Duration;

use crate::support::service;
use tokenkeep::record::RateLimit;
use tokenkeep::{Actor, AuthError, IssueRequest, Requirement, TokenRef, TokenUpdate};

#[tokio::test]
async fn a_limited_token_gets_its_rate_and_then_a_time_to_wait() {
    let (service, _) = service();
    let limit: RateLimit = "3/1m".parse().unwrap();
    let limited = service
        .issue(&Actor::Admin, IssueRequest::new("alice", "ci").rate_limit(limit))
        .await
        .unwrap();
    let free = service.admin_issue(IssueRequest::new("alice", "free")).await;
    let token = limited.token.expose_secret();
    for _ in 0..3 {
        assert!(service.verifies_text(token).await);
    }
    let refused = service.service().verify_token(token, Requirement::None).await;
    let Err(AuthError::RateLimited { retry_after }) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        retry_after > Duration::ZERO && retry_after <= Duration::from_secs(20),
        "{retry_after:?}"
    );
    assert_eq!(AuthError::RateLimited { retry_after }.outcome(), "rate_limited");

    // Another token is not affected, and one without a limit never is.
    for _ in 0..100 {
        let free = free.token.expose_secret();
        assert!(service.verifies_text(free).await);
    }

    // A new limit is a new budget; lifting it lifts the limit.
    let raise =
        TokenUpdate { rate_limit: Some(Some("5/1m".parse().unwrap())), ..TokenUpdate::default() };
    let by_id = TokenRef::id(limited.record.id);
    service.modify(&Actor::Admin, &by_id, raise).await.unwrap();
    for _ in 0..5 {
        assert!(service.verifies_text(token).await);
    }
    assert!(!service.verifies_text(token).await);
    let lift = TokenUpdate { rate_limit: Some(None), ..TokenUpdate::default() };
    service.modify(&Actor::Admin, &by_id, lift).await.unwrap();
    assert!(service.verifies_text(token).await);
}

#[test]
fn rate_limits_are_written_as_requests_per_period() {
    for (text, shown) in
        [("100/1m", "100/1m"), ("1/1s", "1/1s"), ("10/60s", "10/1m"), ("5/1d", "5/1d")]
    {
        assert_eq!(text.parse::<RateLimit>().unwrap().to_string(), shown);
    }
    for bad in ["", "100", "/1m", "0/1m", "1/0s", "1/2d", "1000001/1m", "x/1m", "1/1q"] {
        assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
    }
}

/// Every record carries the option and few set it, so it stays small.
#[test]
fn an_absent_rate_limit_costs_a_record_sixteen_bytes() {
    assert_eq!(std::mem::size_of::<Option<RateLimit>>(), 16);
}
