//! The HTTP application: routes, body limits, start-up and shutdown.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tokenkeep::axum::{ApiError, Endpoints, RequireToken, RouteRequirement};
use tokenkeep::hash::TokenHasher;
use tokenkeep::token::TokenFormat;
use tokenkeep::{Prefix, TokenManager, TokenSecret};

use crate::state::AppState;
use crate::{api, files, guard, limits, listener, observe, web, ws};

/// The largest JSON body the API reads.
const API_BODY_LIMIT: usize = 64 * 1024;
/// The largest file the file area stores.
const FILE_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub(crate) fn router(state: AppState, endpoints: Endpoints, metrics: PrometheusHandle) -> Router {
    let scrape = observe::metrics_route(state.service.service().clone(), metrics);
    let files = Router::new()
        .route("/{*path}", get(files::read).put(files::write))
        .layer(DefaultBodyLimit::max(FILE_BODY_LIMIT))
        .layer(RequireToken::new(state.service.service().clone(), RouteRequirement::PathByMethod));
    let app = Router::new()
        .route("/api/setup/status", get(api::setup_status))
        .route("/api/setup/claim", post(api::claim))
        .route("/api/whoami", get(api::whoami))
        .route("/api/auth/tokens", post(api::create).get(api::list))
        .route("/api/auth/tokens/{id}", get(api::get_token).patch(api::modify).delete(api::revoke))
        .route("/api/auth/tokens/{id}/rotate", post(api::rotate))
        .route("/api/owners/{owner}/revoke-all", post(api::revoke_all))
        .route("/api/owners/{owner}/limits", get(limits::get_limits).put(limits::put_limits))
        .route("/ws", get(ws::echo))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .nest("/files", files)
        .merge(endpoints.router())
        .merge(web::routes())
        .fallback(|| async { ApiError::new(404, "NOT_FOUND", "no such route") })
        .layer(axum::middleware::from_fn(guard::browser_guard))
        .with_state(state)
        .merge(scrape);
    observe::access_log(app)
}

/// Serves until Ctrl-C or SIGTERM, then flushes pending last-used times.
pub(crate) async fn serve(
    (service, endpoints): (TokenManager, Endpoints),
    metrics: PrometheusHandle,
    listen: SocketAddr,
    (limits, socket_limits): (listener::Limits, ws::SocketLimits),
    data_dir: &Path,
    data: &str,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let state = AppState {
        service: service.clone(),
        files_dir: data_dir.join("files"),
        sockets: ws::Sockets::new(socket_limits),
    };
    let flusher = service.service().spawn_last_used_flusher();
    let shutdown = shutdown_signal()?;
    eprintln!("tokenkeep listening on http://{bound} (data: {data})");
    listener::serve(listener, router(state, endpoints, metrics), limits, shutdown).await;
    flusher.shutdown().await.map_err(|e| format!("could not write the last-used times: {e}"))?;
    eprintln!("tokenkeep stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM. The handlers are installed here, before the server
/// says it is listening, so a signal right after start-up still takes the
/// graceful path.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// A setup token for an operator who did not configure one, printed once.
/// It only matters while the instance is unclaimed; a claimed instance
/// refuses every claim anyway.
pub(crate) fn generated_setup_token() -> Result<TokenSecret, String> {
    let format = TokenFormat::new(Prefix::new("setup").map_err(|e| e.to_string())?);
    let minted = format.mint(&TokenHasher::sha256()).map_err(|e| e.to_string())?;
    eprintln!(
        "setup token (shown once; set TOKENKEEP_SETUP_TOKEN to choose your own): {}",
        minted.secret.expose_secret()
    );
    Ok(minted.secret)
}
