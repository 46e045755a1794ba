//! A WebSocket that echoes text frames; browsers cannot send headers on a
//! WebSocket, so the token comes in `?token=` (weaker: it may be logged).
//!
//! The socket lives only as long as its token: when the token is revoked,
//! expires or is deleted, the server closes it with code 1008 (policy
//! violation), at once for a change made on this instance and within the
//! notification delay for one made on another.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokenkeep::axum::{AnyToken, QueryToken};
use tokenkeep::{Authenticated, Requirement, TokenService};

/// The close code for a token that is no longer good (RFC 6455, 1008).
const POLICY_VIOLATION: u16 = 1008;

/// The upgrade is extracted before the token: a request that is no
/// WebSocket handshake is refused (400) before its token is verified, so
/// it never consumes one of the token's uses.
pub(crate) async fn echo(
    State(service): State<TokenService>,
    upgrade: WebSocketUpgrade,
    QueryToken(who, ..): QueryToken<AnyToken>,
) -> Response {
    upgrade.on_upgrade(move |socket| echo_frames(socket, service, who))
}

async fn echo_frames(mut socket: WebSocket, service: TokenService, who: Authenticated) {
    let ended = service.revocation(&who, Requirement::None);
    tokio::pin!(ended);
    loop {
        tokio::select! {
            reason = &mut ended => {
                let close = CloseFrame {
                    code: POLICY_VIOLATION,
                    reason: reason.client_message().into(),
                };
                let _ = socket.send(Message::Close(Some(close))).await;
                break;
            }
            message = socket.recv() => {
                let reply = match message {
                    Some(Ok(Message::Text(text))) => Message::Text(text),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                if socket.send(reply).await.is_err() {
                    break;
                }
            }
        }
    }
}
