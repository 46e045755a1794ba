//! Rate limits shared through Redis: what one check costs on loopback
//! against the in-process limiter, measured side by side (p50, p99 over
//! 20,000 checks each, alternating in rounds), and how exact a shared
//! limit is: four limiters, one per simulated instance, hammering one
//! `100/10s` budget from four tasks for several windows, counting what
//! each window lets through.
//!
//! ```sh
//! cargo bench --bench shared_rate --features redis
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokenkeep::TokenId;
use tokenkeep::limiter::{
    Budget, InProcessRateLimiter, RateLimiter, RedisRateLimiter, Taken, WhenUnavailable,
};
use tokenkeep::record::RateLimit;

const REDIS: &str = "redis://127.0.0.1:6379";
const ROUNDS: usize = 5;
const CHECKS_PER_ROUND: usize = 4_000;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

async fn time_checks(limiter: &dyn RateLimiter, limit: RateLimit, into: &mut Vec<Duration>) {
    let budget = Budget::Token(TokenId::random().expect("randomness"));
    for _ in 0..CHECKS_PER_ROUND {
        let started = Instant::now();
        limiter.take(&budget, limit, 1).await.expect("a check");
        into.push(started.elapsed());
    }
}

#[tokio::main]
async fn main() {
    let prefix = format!("tokenkeep-bench:rate:{}:", std::process::id());
    let redis = RedisRateLimiter::new(REDIS, &prefix, WhenUnavailable::Refuse).expect("url");
    let budget = Budget::Token(TokenId::random().expect("randomness"));
    if redis.take(&budget, "1/1s".parse().expect("limit"), 1).await.is_err() {
        eprintln!("SKIPPED: no Redis at {REDIS}");
        return;
    }
    let local = InProcessRateLimiter::default();
    // High enough never to refuse: the cost of the check itself.
    let limit: RateLimit = "1000000/1s".parse().expect("limit");
    let (mut in_redis, mut in_process) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        time_checks(&redis, limit, &mut in_redis).await;
        time_checks(&local, limit, &mut in_process).await;
    }
    in_redis.sort_unstable();
    in_process.sort_unstable();
    println!("one check, {} each, {ROUNDS} alternating rounds:", in_redis.len());
    println!("| limiter | p50 | p99 |");
    println!("| --- | --- | --- |");
    for (name, times) in [("in process", &in_process), ("Redis, loopback", &in_redis)] {
        println!("| {name} | {:?} | {:?} |", percentile(times, 0.5), percentile(times, 0.99));
    }

    // Four instances, four clients, one `100/10s` budget: what each 10 s
    // window lets through, counted by the Redis server's clock windows
    // aligned to the first admission.
    let limiters: Vec<Arc<RedisRateLimiter>> = (0..4)
        .map(|_| {
            Arc::new(RedisRateLimiter::new(REDIS, &prefix, WhenUnavailable::Refuse).expect("url"))
        })
        .collect();
    let budget = Budget::Token(TokenId::random().expect("randomness"));
    let limit: RateLimit = "100/10s".parse().expect("limit");
    let windows: Arc<Vec<AtomicUsize>> = Arc::new((0..4).map(|_| AtomicUsize::new(0)).collect());
    let started = Instant::now();
    let period = Duration::from_secs(10);
    let clients: Vec<_> = limiters
        .iter()
        .map(|limiter| {
            let (limiter, budget, windows) =
                (Arc::clone(limiter), budget.clone(), Arc::clone(&windows));
            tokio::spawn(async move {
                while started.elapsed() < period * 4 {
                    if limiter.take(&budget, limit, 1).await.expect("a check") == Taken::Admitted {
                        #[allow(clippy::cast_possible_truncation)]
                        let window = (started.elapsed().as_millis() / period.as_millis()) as usize;
                        if let Some(count) = windows.get(window) {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("a client");
    }
    println!("\nfour limiters, four clients, one 100/10s budget, for 40 s:");
    println!("| window | let through |");
    println!("| --- | --- |");
    for (index, count) in windows.iter().enumerate() {
        println!("| {}–{} s | {} |", index * 10, index * 10 + 10, count.load(Ordering::Relaxed));
    }
}
