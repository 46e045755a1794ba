//! What the crate tells operators: `tracing` events and spans (always),
//! and counters and histograms through the [`metrics`](https://docs.rs/metrics) facade
//! (feature `metrics`). The application installs the subscriber or the
//! recorder and picks the output; without one, nothing is recorded.
//!
//! # Tracing
//!
//! No event or span carries token text or a full hash: tokens are named by
//! their id and owner. A flood of garbage bearers logs nothing at `info`.
//!
//! | target | level | message | fields |
//! | --- | --- | --- | --- |
//! | `tokenkeep::verify` | `trace` | `verified` | `token_id`, `owner` |
//! | `tokenkeep::verify` | `debug` | `verification refused` | `outcome`, `reason`, and `token_id`, `owner` when the token is known (revoked, expired, insufficient scope) |
//! | `tokenkeep::verify` | `debug` | `address not in the token's allow-list` | `token_id`, `client` |
//! | `tokenkeep::verify` | `warn` | `token store unavailable` | `error` (verification failed closed) |
//! | `tokenkeep::verify` | `warn` | `rotation reuse detected: …` | `retired`, `owner`, `revoked` (how many successors) |
//! | `tokenkeep::store` | `debug` span | `store_call` | `op` (`find_by_hash`, `get`, `list`, `change`, …) |
//! | `tokenkeep::store` | `debug` | `store call` | `op`, `outcome` (`ok` or an error code), `duration_us` |
//! | `tokenkeep::store` | `warn` | `store call failed` | `op`, `outcome`, `duration_us`, `error` |
//! | `tokenkeep::manage` | `info` (a refused setup claim: `debug`) | `management action` | `action`, `actor` (`admin`, `user:alice`, `token:<id>`), `subject` (what it acted on: `alice/laptop`, a token id, an owner), `result` (`ok` or an error code), `token_id` when one is known |
//! | `tokenkeep::last_used` | `warn` | `last-used batch not stored` | `notes`, `error` |
//! | `tokenkeep::rate` | `warn` | `the shared rate limit store cannot be reached` | `error`, `when_unavailable` (once per outage) |
//! | `tokenkeep::rate` | `info` | `the shared rate limit store is reached again` | |
//!
//! `RUST_LOG=tokenkeep=info` shows who managed what; `tokenkeep::verify=debug`
//! adds every refusal; `tokenkeep::store=debug` every store call.
//!
//! # Metrics
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `tokenkeep_verifications_total` | counter | `outcome` | every verification: `ok` or [`AuthError::outcome`](crate::AuthError::outcome) |
//! | `tokenkeep_store_call_seconds` | histogram | `op`, `outcome` | every store call the service makes (not answers from memory) |
//! | `tokenkeep_cache_hits_total` | counter | | `CachedStore` lookups answered from the cache |
//! | `tokenkeep_cache_misses_total` | counter | | `CachedStore` lookups that asked the store |
//! | `tokenkeep_cache_invalidations_total` | counter | | `CachedStore` invalidations (one per change) |
//! | `tokenkeep_last_used_batch_size` | histogram | | notes per last-used write |
//! | `tokenkeep_last_used_failures_total` | counter | | last-used writes the store refused (retried later) |
//! | `tokenkeep_rate_limiter_unavailable_total` | counter | | checks a shared rate limiter answered without its store (falling back or refusing, as configured) |
//! | `tokenkeep_active_tokens` | gauge | | set by [`TokenService::report_active_tokens`](crate::TokenService::report_active_tokens) |
//!
//! With the feature off the recording functions compile to nothing.

use std::time::Duration;

/// One verification's outcome.
pub(crate) fn verification(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tokenkeep_verifications_total", "outcome" => outcome).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}

/// One store call's outcome and duration.
pub(crate) fn store_call(op: &'static str, outcome: &'static str, took: Duration) {
    #[cfg(feature = "metrics")]
    ::metrics::histogram!("tokenkeep_store_call_seconds", "op" => op, "outcome" => outcome)
        .record(took.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = (op, outcome, took);
}

/// A `CachedStore` lookup: answered from the cache or not.
pub(crate) fn cache_lookup(hit: bool) {
    #[cfg(feature = "metrics")]
    if hit {
        ::metrics::counter!("tokenkeep_cache_hits_total").increment(1);
    } else {
        ::metrics::counter!("tokenkeep_cache_misses_total").increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

/// One invalidation of a `CachedStore`.
pub(crate) fn cache_invalidation() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tokenkeep_cache_invalidations_total").increment(1);
}

/// One last-used write: its size, and whether the store took it.
pub(crate) fn last_used_batch(notes: usize, stored: bool) {
    #[cfg(feature = "metrics")]
    {
        #[allow(clippy::cast_precision_loss)] // a batch is far below 2^52
        ::metrics::histogram!("tokenkeep_last_used_batch_size").record(notes as f64);
        if !stored {
            ::metrics::counter!("tokenkeep_last_used_failures_total").increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (notes, stored);
}

/// A check a shared rate limiter answered without its store.
#[cfg(feature = "redis")]
pub(crate) fn rate_limiter_unavailable() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tokenkeep_rate_limiter_unavailable_total").increment(1);
}

/// The number of active tokens in the store.
pub(crate) fn active_tokens(count: usize) {
    #[cfg(feature = "metrics")]
    {
        #[allow(clippy::cast_precision_loss)]
        ::metrics::gauge!("tokenkeep_active_tokens").set(count as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = count;
}
