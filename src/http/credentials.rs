//! Revocation of leaked credentials by whoever found them, as GitHub's
//! credential revocation API takes them: unauthenticated, up to 1,000 a
//! call, answering the same whatever existed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Rejection;
use crate::TokenManager;
use crate::record::RevokeReason;

/// The most credentials one call may name.
pub const MAX_CREDENTIALS: usize = 1_000;

/// The body of a call: `{"credentials": ["…", …]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reported {
    credentials: Vec<String>,
}

/// Revokes each token `body` names (`{"credentials": ["…", …]}`) that this
/// store holds, with the reason `leaked`; the others are ignored, and the
/// caller learns nothing of which existed (answer 202 `{}` either way).
/// Nobody is asked: whoever holds a token can use it, so killing it is the
/// lesser harm. Limit the calls per client address ([`CallsPerMinute`]).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::sync::Arc;
/// use tokenkeep::http::revoke_credentials;
/// use tokenkeep::record::RevokeReason;
/// use tokenkeep::store::MemoryStore;
/// use tokenkeep::{Actor, IssueRequest, Prefix, TokenManager, TokenRef};
///
/// let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk")?).build()?;
/// let issued = tokens.issue(&Actor::Admin, IssueRequest::new("alice", "ci")).await?;
/// let body = serde_json::json!({"credentials": [issued.token.expose_secret(), "tk_unknown"]});
/// revoke_credentials(&tokens, body.to_string().as_bytes()).await?;
/// let record = tokens.get(&Actor::Admin, &TokenRef::id(issued.record.id)).await?;
/// assert_eq!(record.extras.revoke_reason, Some(RevokeReason::Leaked));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// 400 `INVALID_JSON` for a body that is not the object above, 400
/// `INVALID_CREDENTIALS` for none or more than [`MAX_CREDENTIALS`], 503
/// when the store cannot answer (the tokens named before it failed stay
/// revoked; calling again is safe).
pub async fn revoke_credentials(manager: &TokenManager, body: &[u8]) -> Result<(), Rejection> {
    let reported: Reported = serde_json::from_slice(body).map_err(|_| {
        Rejection::new(400, "INVALID_JSON", r#"the body must be {"credentials": ["…", …]}"#)
    })?;
    let count = reported.credentials.len();
    if count == 0 || count > MAX_CREDENTIALS {
        return Err(Rejection::new(
            400,
            "INVALID_CREDENTIALS",
            format!("name between 1 and {MAX_CREDENTIALS} credentials, not {count}"),
        ));
    }
    for token in &reported.credentials {
        manager.revoke_presented(token, "credential revocation", RevokeReason::Leaked).await?;
    }
    Ok(())
}

/// At most so many calls a minute from one client address, for endpoints
/// anyone may call. The count is per process, in windows of a minute.
///
/// ```
/// use tokenkeep::http::CallsPerMinute;
/// let limit = CallsPerMinute::new(2);
/// let client = "192.0.2.1".parse().ok();
/// assert!(limit.admit(client).is_ok() && limit.admit(client).is_ok());
/// assert_eq!(limit.admit(client).unwrap_err().status(), 429);
/// assert!(limit.admit("192.0.2.2".parse().ok()).is_ok(), "another address has its own");
/// ```
#[derive(Debug)]
pub struct CallsPerMinute {
    calls: u32,
    windows: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl CallsPerMinute {
    /// The most addresses remembered; past it, every window starts again.
    const MAX_ADDRESSES: usize = 100_000;
    const WINDOW: Duration = Duration::from_secs(60);

    /// At most `calls` a minute from each address.
    pub fn new(calls: u32) -> Self {
        Self { calls, windows: Mutex::default() }
    }

    /// Counts a call from `client` (`None` when the address is unknown:
    /// those share one budget).
    ///
    /// # Errors
    /// 429 `RATE_LIMITED`, with the seconds until the window ends, past
    /// the limit.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), Rejection> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() >= Self::MAX_ADDRESSES && !windows.contains_key(&client) {
            windows.retain(|_, (started, _)| now.duration_since(*started) < Self::WINDOW);
            if windows.len() >= Self::MAX_ADDRESSES {
                windows.clear();
            }
        }
        let (started, count) = windows.entry(client).or_insert((now, 0));
        if now.duration_since(*started) >= Self::WINDOW {
            (*started, *count) = (now, 0);
        }
        if *count >= self.calls {
            let left = Self::WINDOW.saturating_sub(now.duration_since(*started));
            let seconds = left.as_secs().max(1);
            return Err(Rejection::new(
                429,
                "RATE_LIMITED",
                format!("at most {} calls a minute from one address", self.calls),
            )
            .with_retry_after(seconds));
        }
        *count += 1;
        Ok(())
    }
}
