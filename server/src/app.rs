//! The HTTP application: state, routes, body limits, start-up and shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use tokenkeep::axum::{ApiError, RequireToken, RouteRequirement};
use tokenkeep::hash::TokenHasher;
use tokenkeep::token::TokenFormat;
use tokenkeep::{Prefix, TokenManager, TokenSecret, TokenService};

use crate::{api, files, guard, listener, observe, web, ws};

/// The largest JSON body the API reads.
const API_BODY_LIMIT: usize = 64 * 1024;
/// The largest file the file area stores.
const FILE_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) service: TokenManager,
    /// Where `/files/…` lives.
    pub(crate) files_dir: PathBuf,
    /// The open WebSockets, counted per token.
    pub(crate) sockets: ws::Sockets,
}

impl FromRef<AppState> for TokenService {
    fn from_ref(state: &AppState) -> Self {
        state.service.service().clone()
    }
}

impl FromRef<AppState> for ws::Sockets {
    fn from_ref(state: &AppState) -> Self {
        state.sockets.clone()
    }
}

pub(crate) fn router(state: AppState, metrics: PrometheusHandle) -> Router {
    let scrape = observe::metrics_route(state.service.service().clone(), metrics);
    let files = Router::new()
        .route("/{*path}", get(files::read).put(files::write))
        .layer(DefaultBodyLimit::max(FILE_BODY_LIMIT))
        .layer(RequireToken::new(
            state.service.service().clone(),
            RouteRequirement::PathByMethod,
        ));
    let app = Router::new()
        .route("/api/setup/status", get(api::setup_status))
        .route("/api/setup/claim", post(api::claim))
        .route("/api/whoami", get(api::whoami))
        .route("/api/auth/tokens", post(api::create).get(api::list))
        .route(
            "/api/auth/tokens/{id}",
            get(api::get_token).patch(api::modify).delete(api::revoke),
        )
        .route("/api/auth/tokens/{id}/rotate", post(api::rotate))
        .route("/api/owners/{owner}/revoke-all", post(api::revoke_all))
        .route("/ws", get(ws::echo))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .nest("/files", files)
        .merge(web::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route") })
        .layer(axum::middleware::from_fn(guard::browser_guard))
        .with_state(state)
        .merge(scrape);
    observe::access_log(app)
}

/// Serves until Ctrl-C or SIGTERM, then flushes pending last-used times.
pub(crate) async fn serve(
    service: TokenManager,
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
    let flusher = service.spawn_last_used_flusher();
    let shutdown = shutdown_signal()?;
    eprintln!("tokenkeep listening on http://{bound} (data: {data})");
    listener::serve(listener, router(state, metrics), limits, shutdown).await;
    flusher
        .shutdown()
        .await
        .map_err(|e| format!("could not write the last-used times: {e}"))?;
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
    let minted = format
        .mint(&TokenHasher::sha256())
        .map_err(|e| e.to_string())?;
    eprintln!(
        "setup token (shown once; set TOKENKEEP_SETUP_TOKEN to choose your own): {}",
        minted.secret.expose_secret()
    );
    Ok(minted.secret)
}

/// A JSON body, refused with the JSON error shape: 415
/// `UNSUPPORTED_MEDIA_TYPE` unless it is sent as `application/json`; 400
/// `INVALID_REQUEST` for malformed JSON, wrong types or unknown fields,
/// with a message that never repeats what was sent (it may be a token);
/// 413 over the body limit. An empty body reads as `T::default()` where
/// the route allows it.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "PAYLOAD_TOO_LARGE",
                        "the body is too large",
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "INVALID_REQUEST",
                        rejection.body_text(),
                    )
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as Content-Type: application/json",
            ));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                json_problem(&error),
            )
        })
    }
}

/// What is wrong with a JSON body, by kind and place only: serde's own
/// message quotes the value it refused, which may be a token.
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Syntax => "the body is not valid JSON",
        Category::Eof => "the body ends too early",
        Category::Data => "a field is unknown, missing, or has the wrong type or value",
        Category::Io => "the body could not be read",
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}
