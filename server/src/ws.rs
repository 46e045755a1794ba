//! A WebSocket that echoes text frames; browsers cannot send headers on a
//! WebSocket, so the token comes in `?token=` (weaker: it may be logged).
//!
//! The socket lives only as long as its token: when the token is revoked,
//! expires or is deleted, the server closes it with code 1008 (policy
//! violation), at once for a change made on this instance and within the
//! notification delay for one made on another.
//!
//! And only as long as it is used, within bounds a client cannot outlast:
//! a socket that receives nothing for the idle timeout is closed (1001,
//! going away); one token holds at most `per_token` sockets at once (the
//! next answers 429 `TOO_MANY_SOCKETS`); every socket holds one of the
//! server's connection slots while it is open (`socket.rs`), and a send the
//! client does not read ends it after the header timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse as _, Response};
use tokenkeep::axum::{AnyToken, ApiError, QueryToken};
use tokenkeep::{Authenticated, Requirement, TokenId, TokenService};

/// The close code for a token that is no longer good (RFC 6455, 1008).
const POLICY_VIOLATION: u16 = 1008;
/// The close code for a socket closed for idling (RFC 6455, 1001).
const GOING_AWAY: u16 = 1001;

/// How long a socket may stay silent and how many one token may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SocketLimits {
    pub(crate) idle_timeout: Duration,
    pub(crate) per_token: usize,
}

/// The open sockets of each token, held to [`SocketLimits`].
#[derive(Clone, Debug)]
pub(crate) struct Sockets {
    limits: SocketLimits,
    open: Arc<Mutex<HashMap<TokenId, usize>>>,
}

impl Sockets {
    pub(crate) fn new(limits: SocketLimits) -> Self {
        Self { limits, open: Arc::default() }
    }

    /// A place for one more socket of `token`, while it has fewer than the
    /// limit open; the place is given back when the guard drops.
    fn take_place(&self, token: TokenId) -> Option<Place> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(token).or_default();
        if *count >= self.limits.per_token {
            return None;
        }
        *count += 1;
        Some(Place { token, open: Arc::clone(&self.open) })
    }
}

/// One open socket of a token, counted while it lives.
struct Place {
    token: TokenId,
    open: Arc<Mutex<HashMap<TokenId, usize>>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.token) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

/// The upgrade is extracted before the token: a request that is no
/// WebSocket handshake is refused (400) before its token is verified, so
/// it never consumes one of the token's uses.
pub(crate) async fn echo(
    State(service): State<TokenService>,
    State(sockets): State<Sockets>,
    upgrade: WebSocketUpgrade,
    QueryToken(who, ..): QueryToken<AnyToken>,
) -> Response {
    let Some(place) = sockets.take_place(who.token_id()) else {
        return ApiError::new(
            429,
            "TOO_MANY_SOCKETS",
            format!(
                "this token holds {} WebSockets already; close one first",
                sockets.limits.per_token
            ),
        )
        .into_response();
    };
    let idle_timeout = sockets.limits.idle_timeout;
    upgrade.on_upgrade(move |socket| async move {
        echo_frames(socket, service, who, idle_timeout).await;
        drop(place);
    })
}

async fn echo_frames(
    mut socket: WebSocket,
    service: TokenService,
    who: Authenticated,
    idle_timeout: Duration,
) {
    let ended = service.revocation(&who, Requirement::None);
    tokio::pin!(ended);
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    let close = loop {
        tokio::select! {
            reason = &mut ended => break Some(CloseFrame {
                code: POLICY_VIOLATION,
                reason: reason.client_message().into(),
            }),
            () = &mut idle => break Some(CloseFrame {
                code: GOING_AWAY,
                reason: "idle for too long".into(),
            }),
            message = socket.recv() => {
                idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                let reply = match message {
                    Some(Ok(Message::Text(text))) => Message::Text(text),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => continue,
                };
                if socket.send(reply).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some(close) = close {
        let _ = socket.send(Message::Close(Some(close))).await;
    }
}
