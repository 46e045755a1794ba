//! Serving connections with limits a slow or hostile client cannot outlast:
//!
//! - a connection that has not sent a whole request head within the header
//!   timeout is closed: a new one that sends half a header, and an idle
//!   keep-alive one waiting for its next request, alike; a request body
//!   has its own limits (`body_deadline.rs`);
//! - HTTP/1.1 only: cleartext HTTP/2 (a client opening with its preface)
//!   is refused, since an idle HTTP/2 session has no timeout to end it
//!   (behind a TLS proxy, HTTP/2 ends at the proxy);
//! - a client that stops reading is cut off: a write that makes no
//!   progress for the header timeout ends the connection (`socket.rs`),
//!   and a client may send at most [`READ_AHEAD`] bytes of pipelined
//!   requests beyond the answer being written;
//! - at most `max_connections` sockets are open at once, WebSockets
//!   included (an upgraded connection keeps its slot); the next waits in
//!   the kernel's accept queue until one closes, so a flood of slow
//!   sockets cannot take every file descriptor (keep it below the
//!   process's descriptor limit; should accept fail anyway, the loop
//!   pauses instead of spinning).
//!
//! WebSocket upgrades are served on the same connections.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::body_deadline::{BodyDeadlines, limit_body};
use crate::socket::Socket;

/// How long open connections get to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);
/// The pause after a failed accept (out of file descriptors, say), so the
/// loop waits for one to be freed instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The most a connection reads ahead of the request being answered: a
/// request head may be this long, and pipelined requests queue no
/// further (hyper's default is 400 KiB).
const READ_AHEAD: usize = 64 * 1024;

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
    /// The most a whole request body may take (it may pause for at most
    /// the header timeout at a time).
    pub(crate) body_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// connections finish for a while.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    // hyper's HTTP/1 builder, not the auto-detecting one: with upgrades
    // (WebSockets) that one always speaks HTTP/2 too.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(READ_AHEAD);
    let deadlines = BodyDeadlines { idle: limits.header_timeout, whole: limits.body_timeout };
    let app = app.layer(axum::middleware::from_fn_with_state(deadlines, limit_body));
    let max_connections = u32::try_from(limits.max_connections.clamp(1, 1 << 20)).unwrap_or(1);
    let slots = Arc::new(Semaphore::new(max_connections as usize));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, or a reset before accept: wait a
                // moment rather than spin, then go on.
                Err(_) => {
                    drop(slot);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The peer's address, for address allow-lists.
        let app = app.clone().layer(axum::Extension(ConnectInfo(peer)));
        let service = TowerToHyperService::new(app);
        // The socket holds the slot, through an upgrade too.
        let socket = Socket::new(stream, slot, limits.header_timeout);
        let connection = builder.serve_connection(TokioIo::new(socket), service).with_upgrades();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stopping.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    // Every connection finishes its request and closes; the drain is over
    // when every slot is back (WebSockets included), or when its time is up.
    let _ = stop.send(true);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(max_connections)).await;
}
