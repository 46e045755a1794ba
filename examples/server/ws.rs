//! A WebSocket that echoes text frames; browsers cannot send headers on a
//! WebSocket, so the token comes in `?token=` (weaker: it may be logged).

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokenkeep::axum::{AnyToken, QueryToken};

pub(crate) async fn echo(
    QueryToken(_who, ..): QueryToken<AnyToken>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(echo_frames)
}

async fn echo_frames(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(text) => Message::Text(text),
            Message::Close(_) => break,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}
