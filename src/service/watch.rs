//! The end of a verified connection: a future that resolves when the token
//! a long-lived connection (a WebSocket, a server-sent event stream, a
//! streaming RPC) was opened with stops being good for it.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::{AuthError, Authenticated, InvalidToken, RECHECK, TokenService};
use crate::expiry::unix_millis;
use crate::scope::Requirement;

impl TokenService {
    /// Resolves when `who`'s token no longer passes `requirement`, with the
    /// answer a new verification from the same client would now get:
    /// revoked, expired, deleted (`Unknown`), an address allow-list that no
    /// longer holds the client (`AddressNotAllowed`), a scope taken away
    /// (`InsufficientScope`), or a store that cannot answer (`Unavailable`:
    /// fail closed). It never resolves while the token stays good.
    ///
    /// It does not re-judge what belongs to one request: the rate limit,
    /// and the usage limit (the connection consumed its use when it
    /// opened; one with no uses left since stays open).
    ///
    /// How soon: at once for a change made through this process's
    /// `TokenManager`; at the token's expiry; within
    /// the notification delay for a change another instance announces
    /// through the store's [`changes`](crate::store::TokenStore::changes)
    /// (PostgreSQL behind `CachedStore`); within five seconds otherwise.
    ///
    /// Hold it beside the connection and end the connection when it
    /// resolves:
    ///
    /// ```
    /// # use tokenkeep::{Authenticated, Requirement, TokenService};
    /// async fn serve(service: TokenService, who: Authenticated, mut frames: tokio::sync::mpsc::Receiver<String>) {
    ///     let ended = service.revocation(&who, Requirement::None);
    ///     tokio::pin!(ended);
    ///     loop {
    ///         tokio::select! {
    ///             reason = &mut ended => {
    ///                 // Close the connection, e.g. WebSocket code 1008, saying `reason.client_message()`.
    ///                 let _ = reason;
    ///                 break;
    ///             }
    ///             frame = frames.recv() => match frame {
    ///                 Some(_frame) => { /* serve it */ }
    ///                 None => break,
    ///             },
    ///         }
    ///     }
    /// }
    /// ```
    pub async fn revocation(&self, who: &Authenticated, requirement: Requirement<'_>) -> AuthError {
        let inner = &*self.inner;
        let hash = who.record().hash;
        let mut from_here = Some(inner.changes.subscribe());
        let mut from_store = inner.store.changes();
        loop {
            let record = match self.ask_store(&hash).await {
                Err(error) => return AuthError::Unavailable(error),
                Ok(None) => return AuthError::InvalidToken(InvalidToken::Unknown),
                Ok(Some(record)) if record.hash != hash => {
                    return AuthError::InvalidToken(InvalidToken::Unknown);
                }
                Ok(Some(record)) => record,
            };
            if record.is_revoked() {
                return AuthError::InvalidToken(InvalidToken::Revoked);
            }
            let now = inner.settings.clock.now_unix_millis();
            let left = record.expires_at.map(|expiry| unix_millis(expiry) - now);
            if left.is_some_and(|left| left <= 0) {
                return AuthError::InvalidToken(InvalidToken::Expired);
            }
            if !record.allows_address(who.client()) {
                return AuthError::InvalidToken(InvalidToken::AddressNotAllowed);
            }
            if !record.scopes.satisfies(&requirement) {
                return AuthError::InsufficientScope { scope: requirement.to_string() };
            }
            let wait = left
                .map(|left| Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX)))
                .map_or(RECHECK, |left| left.min(RECHECK));
            let sleep = std::pin::pin!(tokio::time::sleep(wait));
            let here = std::pin::pin!(next_change(&mut from_here));
            let store = std::pin::pin!(next_change(&mut from_store));
            first_of(sleep, here, store).await;
        }
    }
}

/// Whichever of three futures finishes first.
async fn first_of(
    mut a: Pin<&mut impl Future<Output = ()>>,
    mut b: Pin<&mut impl Future<Output = ()>>,
    mut c: Pin<&mut impl Future<Output = ()>>,
) {
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready()
            || b.as_mut().poll(cx).is_ready()
            || c.as_mut().poll(cx).is_ready()
        {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

/// The next change signal; never, if there is none (any more).
async fn next_change(changes: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    let Some(receiver) = changes else {
        return std::future::pending().await;
    };
    if receiver.changed().await.is_err() {
        // The signal is gone: the periodic check remains.
        *changes = None;
        std::future::pending::<()>().await;
    }
}
