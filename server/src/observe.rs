//! What the server tells its operator: logs configured by `RUST_LOG` (text
//! or JSON), an access log that never carries a credential, and the
//! crate's metrics in the Prometheus text format on `/metrics`, for
//! manager tokens only.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Request, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokenkeep::TokenService;
use tokenkeep::axum::{RequireToken, RouteRequirement};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

use crate::log_line::EscapedStderr;

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Logs to standard error, filtered by `RUST_LOG` (`default` when unset).
pub(crate) fn init_logging(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests in one process) keeps the first.
    let _ = match format {
        // No colours: their escape sequences would be escaped with the
        // rest (see `log_line.rs`).
        LogFormat::Text => builder.with_ansi(false).with_writer(|| EscapedStderr).try_init(),
        LogFormat::Json => {
            builder.with_writer(std::io::stderr).json().flatten_event(true).try_init()
        }
    };
}

/// Headers that carry credentials: marked sensitive, so no layer prints them.
const SENSITIVE: [HeaderName; 3] =
    [header::AUTHORIZATION, header::COOKIE, header::PROXY_AUTHORIZATION];

/// The access log: one `request` span per request (method, path, the query
/// with any `token=` value redacted) and one `info` line per response with
/// its status and latency.
pub(crate) fn access_log(app: Router) -> Router {
    app.layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request<_>| {
                tracing::info_span!(
                    target: "access",
                    "request",
                    method = %request.method(),
                    path = request.uri().path(),
                    query = redacted_query(request.uri().query()).as_deref(),
                )
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    )
    .layer(SetSensitiveRequestHeadersLayer::new(SENSITIVE))
}

/// The query with the value of every `token` parameter replaced.
fn redacted_query(query: Option<&str>) -> Option<String> {
    let query = query?;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("token") => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    Some(pairs.join("&"))
}

/// Installs the process-wide Prometheus recorder.
pub(crate) fn install_metrics() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))
}

#[derive(Clone)]
struct Scrape {
    service: TokenService,
    handle: PrometheusHandle,
}

/// `GET /metrics`: the Prometheus text format, manager tokens only.
pub(crate) fn metrics_route(service: TokenService, handle: PrometheusHandle) -> Router {
    let guard = RequireToken::new(service.clone(), RouteRequirement::Manager);
    Router::new().route("/metrics", get(render)).layer(guard).with_state(Scrape { service, handle })
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    // The gauge is counted on demand: one list per scrape.
    let _ = scrape.service.report_active_tokens().await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], scrape.handle.render())
}

#[cfg(test)]
mod tests {
    use super::redacted_query;

    #[test]
    fn token_values_are_redacted_from_queries() {
        assert_eq!(
            redacted_query(Some("a=1&token=tk_secret&TOKEN=x&b")).as_deref(),
            Some("a=1&token=[redacted]&TOKEN=[redacted]&b")
        );
        assert_eq!(redacted_query(None), None);
    }
}
