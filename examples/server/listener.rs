//! Serving connections with limits a slow or hostile client cannot outlast:
//!
//! - a connection that has not sent a whole request head within the header
//!   timeout is closed: a new one that sends half a header, and an idle
//!   keep-alive one waiting for its next request, alike;
//! - at most `max_connections` are served at once; the next waits in the
//!   kernel's accept queue until one closes, so a flood of slow sockets
//!   cannot take every file descriptor (keep it below the process's
//!   descriptor limit; should accept fail anyway, the loop pauses instead
//!   of spinning).
//!
//! WebSocket upgrades are served on the same connections.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long open connections get to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);
/// The pause after a failed accept (out of file descriptors, say), so the
/// loop waits for one to be freed instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
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
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
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
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}
