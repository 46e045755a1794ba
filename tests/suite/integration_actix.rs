//! The actix-web integration over the network: a real server on a bound
//! port, a real HTTP client; what a caller sees for each kind of
//! credential, which path the middleware checks, and a server-sent event
//! stream that ends when its token is revoked.
#![cfg(all(feature = "actix", feature = "management"))]
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::kinds::{Kinds, kinds};
use actix_web::{App, HttpMessage as _, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use tokenkeep::actix::{AnyToken, Manager, RequireToken, RouteRequirement, Token, until_revoked};
use tokenkeep::{Authenticated, TokenService};

async fn whoami(token: Token<AnyToken>) -> HttpResponse {
    HttpResponse::Ok().body(token.0.owner().to_owned())
}

async fn admin(token: Token<Manager>) -> HttpResponse {
    HttpResponse::Ok().body(token.0.owner().to_owned())
}

async fn file(request: HttpRequest) -> HttpResponse {
    let owner = request.extensions().get::<Authenticated>().map(|who| who.owner().to_owned());
    HttpResponse::Ok().body(owner.unwrap_or_default())
}

/// Ticks every 20 ms until the token stops being good, then one `revoked`
/// event and the end.
async fn events(token: Token<AnyToken>, service: web::Data<TokenService>) -> HttpResponse {
    let ticks = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from_static(b"data: tick\n\n")), ()))
    });
    let body = until_revoked(TokenService::clone(&service), token.0, ticks, |reason| {
        let frame = format!("event: revoked\ndata: {}\n\n", reason.client_message());
        Ok(web::Bytes::from(frame))
    });
    HttpResponse::Ok().content_type("text/event-stream").streaming(body)
}

/// Serves the app on a free port from its own actix system thread.
fn serve(service: TokenService) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let files = web::scope("/files")
                    .wrap(RequireToken::new(service.clone(), RouteRequirement::PathByMethod))
                    .default_service(web::to(file));
                App::new()
                    .app_data(web::Data::new(service.clone()))
                    .route("/whoami", web::get().to(whoami))
                    .route("/admin", web::get().to(admin))
                    .route("/events", web::get().to(events))
                    .service(files)
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    address
}

async fn setup() -> (Kinds, String) {
    let kinds = kinds().await;
    let address = serve(kinds.tokens.service().clone());
    (kinds, address)
}

/// Status, `WWW-Authenticate`, and the JSON error code (or the body).
async fn call(
    method: reqwest::Method,
    url: &str,
    header: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(header) = header {
        request = request.header("authorization", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge =
        response.headers().get("www-authenticate").map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str::<serde_json::Value>(&text)
        .map(|json| json["error"].as_str().unwrap_or_default().to_owned())
        .unwrap_or(text);
    (status, challenge, body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn each_kind_of_credential_gets_the_axum_integrations_answer() {
    let (kinds, address) = setup().await;
    let whoami = format!("{address}/whoami");
    let get = |header: Option<String>| {
        let url = whoami.clone();
        async move { call(reqwest::Method::GET, &url, header.as_deref()).await }
    };

    let (status, challenge, body) = get(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="tokenkeep""#));
    assert_eq!(body, "UNAUTHORIZED");

    let (status, challenge, body) = get(Some("Basic dXNlcjpwYXNz".to_owned())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another scheme is no bearer");
    assert_eq!(body, "UNAUTHORIZED");
    assert!(challenge.is_some());
    let (status, _, body) = get(Some("Bearer a b".to_owned())).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "INVALID_REQUEST"));

    for token in [&kinds.revoked, &kinds.expired, "tk_not-a-token"] {
        let (status, challenge, body) = get(Some(bearer(token))).await;
        assert_eq!((status, body.as_str()), (StatusCode::UNAUTHORIZED, "INVALID_TOKEN"));
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer realm="tokenkeep", error="invalid_token""#)
        );
    }

    let (status, _, body) = get(Some(bearer(&kinds.plain))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));

    // A spent rate limit: 429 with the time to wait.
    let (status, _, _) = get(Some(bearer(&kinds.limited))).await;
    assert_eq!(status, StatusCode::OK);
    let response =
        reqwest::Client::new().get(&whoami).bearer_auth(&kinds.limited).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    let admin = format!("{address}/admin");
    let (status, challenge, body) =
        call(reqwest::Method::GET, &admin, Some(&bearer(&kinds.plain))).await;
    assert_eq!((status, body.as_str()), (StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE"));
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="tokenkeep", error="insufficient_scope", scope="manager""#)
    );
    let (status, _, body) = call(reqwest::Method::GET, &admin, Some(&bearer(&kinds.manager))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "root"));
}

/// Under `scope("/files")` the middleware checks the path inside the scope,
/// by method: a `/releases` reader reads `/files/releases/a`, may not write
/// it, and reads nothing else; no credentials is the 401 challenge even on
/// a path that cannot be normalised.
#[tokio::test]
async fn the_middleware_checks_the_path_inside_its_scope_by_method() {
    let (kinds, address) = setup().await;
    let reader = bearer(&kinds.reader);
    let url = |path: &str| format!("{address}/files{path}");
    let (status, _, body) = call(reqwest::Method::GET, &url("/releases/a"), Some(&reader)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
    let (status, _, body) = call(reqwest::Method::PUT, &url("/releases/a"), Some(&reader)).await;
    assert_eq!((status, body.as_str()), (StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE"));
    let (status, _, _) = call(reqwest::Method::GET, &url("/secrets/a"), Some(&reader)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) =
        call(reqwest::Method::GET, &url("/releases/%2e%2e/secrets"), None).await;
    assert_eq!((status, body.as_str()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    // A hidden separator is refused, not read as a deeper path.
    let (status, _, body) = call(reqwest::Method::GET, &url("/releases%2Fa"), Some(&reader)).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "INVALID_PATH"));
}

/// A server-sent event stream opened with a token ends, with a `revoked`
/// event, once the token is revoked.
#[tokio::test]
async fn an_event_stream_ends_when_its_token_is_revoked() {
    let (kinds, address) = setup().await;
    let response = reqwest::Client::new()
        .get(format!("{address}/events"))
        .bearer_auth(&kinds.plain)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut response = response;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: tick"));

    kinds.revoke(&kinds.plain).await;
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        let mut rest = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            rest.extend_from_slice(&chunk);
        }
        rest
    })
    .await
    .expect("the stream ended");
    let rest = String::from_utf8(rest).unwrap();
    assert!(
        rest.ends_with("event: revoked\ndata: the token is invalid, expired or revoked\n\n"),
        "{rest}"
    );
}
