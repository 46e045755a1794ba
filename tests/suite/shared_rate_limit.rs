//! Rate limits shared by every instance through Redis: two services on one
//! store, each with its own limiter on one Redis, together allow the rate
//! once; without Redis, each limiter does what it was told, and it finds
//! Redis again by itself. Without a Redis at 127.0.0.1:6379 these say
//! SKIPPED, and fail under `CI`.
#![cfg(all(feature = "management", feature = "redis"))]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use tokenkeep::limiter::{Budget, RateLimiter, RedisRateLimiter, Taken, WhenUnavailable};
use tokenkeep::record::RateLimit;
use tokenkeep::store::MemoryStore;
use tokenkeep::{Actor, AuthError, IssueRequest, Prefix, Requirement, TokenId, TokenManager};

const REDIS: &str = "redis://127.0.0.1:6379";

/// A key prefix of the test's own, or `None` when no Redis answers.
async fn namespace() -> Option<String> {
    let reachable = match redis::Client::open(REDIS) {
        Ok(client) => {
            let connecting = client.get_multiplexed_async_connection();
            matches!(tokio::time::timeout(Duration::from_secs(2), connecting).await, Ok(Ok(_)))
        }
        Err(_) => false,
    };
    if !reachable {
        tokenkeep::conformance::unreachable_backend("shared rate limits");
        return None;
    }
    Some(format!("tokenkeep-test:rate:{}:", TokenId::random().unwrap()))
}

fn instance(store: &Arc<MemoryStore>, limiter: RedisRateLimiter) -> TokenManager {
    TokenManager::builder(Arc::clone(store) as _, Prefix::new("tk").unwrap())
        .rate_limiter(Arc::new(limiter))
        .build()
        .unwrap()
}

#[tokio::test]
async fn two_instances_sharing_redis_allow_the_rate_once() {
    let Some(prefix) = namespace().await else { return };
    let store = Arc::new(MemoryStore::new());
    let limiter = || RedisRateLimiter::new(REDIS, &prefix, WhenUnavailable::Refuse).unwrap();
    let (one, other) = (instance(&store, limiter()), instance(&store, limiter()));
    let limit: RateLimit = "5/1m".parse().unwrap();
    let request = IssueRequest::new("alice", "ci").rate_limit(limit);
    let issued = one.issue(&Actor::Admin, request).await.unwrap();
    let token = issued.token.expose_secret();
    let mut admitted = 0;
    for round in 0..20 {
        let service = if round % 2 == 0 { one.service() } else { other.service() };
        match service.verify_token(token, Requirement::None).await {
            Ok(_) => admitted += 1,
            Err(AuthError::RateLimited { retry_after }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(12));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted, 5, "two instances let the rate through once");
}

#[tokio::test]
async fn concurrent_checks_never_pass_the_limit() {
    let Some(prefix) = namespace().await else { return };
    let limiters: Vec<Arc<RedisRateLimiter>> = (0..4)
        .map(|_| Arc::new(RedisRateLimiter::new(REDIS, &prefix, WhenUnavailable::Refuse).unwrap()))
        .collect();
    let budget = Budget::Token(TokenId::random().unwrap());
    let limit: RateLimit = "25/1m".parse().unwrap();
    let checks: Vec<_> = (0..100)
        .map(|index| {
            let limiter = Arc::clone(&limiters[index % limiters.len()]);
            let budget = budget.clone();
            tokio::spawn(async move { limiter.take(&budget, limit, 1).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for check in checks {
        admitted += usize::from(check.await.unwrap() == Taken::Admitted);
    }
    assert_eq!(admitted, 25);
    let heavy = limiters[0].take(&Budget::Token(TokenId::random().unwrap()), limit, 20).await;
    assert_eq!(heavy.unwrap(), Taken::Admitted, "a cost of 20 within a burst of 25");
}

/// A TCP relay to Redis that can be cut and restored on the same port.
struct Relay {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:6379").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { port, task: Some(task) }
    }

    /// Cuts every link and stops listening.
    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[tokio::test]
async fn without_redis_a_limiter_falls_back_or_refuses_and_recovers_by_itself() {
    let Some(prefix) = namespace().await else { return };
    let mut relay = Relay::start(0).await;
    let url = format!("redis://127.0.0.1:{}", relay.port);
    let limit: RateLimit = "3/1m".parse().unwrap();
    let budget = Budget::Token(TokenId::random().unwrap());
    let falling_back = RedisRateLimiter::new(&url, &prefix, WhenUnavailable::InProcess).unwrap();
    let refusing = RedisRateLimiter::new(&url, &prefix, WhenUnavailable::Refuse).unwrap();
    assert_eq!(falling_back.take(&budget, limit, 1).await.unwrap(), Taken::Admitted, "in Redis");

    relay.cut();
    // The multiplexed connection notices the cut at its next call.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(falling_back.take(&budget, limit, 1).await.unwrap(), Taken::Admitted, "in process");
    assert!(refusing.take(&budget, limit, 1).await.is_err(), "refused while Redis is away");

    let _relay = Relay::start(relay.port).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Redis still holds the first request: two more, then spent.
    assert_eq!(falling_back.take(&budget, limit, 1).await.unwrap(), Taken::Admitted);
    assert_eq!(falling_back.take(&budget, limit, 1).await.unwrap(), Taken::Admitted);
    assert!(matches!(falling_back.take(&budget, limit, 1).await.unwrap(), Taken::Spent { .. }));
    assert!(matches!(refusing.take(&budget, limit, 1).await.unwrap(), Taken::Spent { .. }));
}
