//! The axum integration in process: what a caller sees for each kind of
//! credential, and which path a route requirement checks.
#![cfg(all(feature = "axum", feature = "management"))]
// The helpers are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokenkeep::axum::{QueryToken, ReadPath, RequireToken, RouteRequirement, Token};
use tokenkeep::store::MemoryStore;
use tokenkeep::{
    Access, Actor, Authenticated, IssueRequest, Prefix, Route, Scopes, TokenManager, TokenService,
};

async fn owner(axum::Extension(who): axum::Extension<Authenticated>) -> String {
    who.owner().to_owned()
}

async fn read(Token(who, ..): Token<ReadPath>) -> String {
    who.owner().to_owned()
}

async fn socket(QueryToken(who, ..): QueryToken) -> String {
    who.owner().to_owned()
}

/// A manager, and the address of a router served on loopback.
async fn serve(router: impl FnOnce(TokenService) -> Router) -> (TokenManager, String) {
    let tokens = TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .build()
        .unwrap();
    let app = router(tokens.service().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (tokens, address)
}

async fn token_reading(tokens: &TokenManager, path: &str) -> String {
    let scopes =
        Scopes { routes: vec![Route::new(path, Access::READ).unwrap()], ..Scopes::default() };
    let issued = tokens
        .issue(&Actor::Admin, IssueRequest::new("alice", "reader").scopes(scopes))
        .await
        .unwrap();
    issued.token.expose_secret().to_owned()
}

async fn get_with(url: &str, token: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|value| value.to_str().unwrap().to_owned());
    (response.status(), challenge, response.text().await.unwrap())
}

fn files(service: TokenService) -> Router {
    let files = Router::new()
        .route("/{*path}", get(owner))
        .layer(RequireToken::new(service, RouteRequirement::PathByMethod));
    Router::new().nest("/files", files)
}

#[tokio::test]
async fn credentials_are_checked_before_the_path() {
    let (tokens, address) = serve(files).await;
    let escaping = format!("{address}/files/a/%2F..%2Fb");

    // No credentials: the 401 challenge, not a complaint about the path.
    let (status, challenge, _) = get_with(&escaping, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="tokenkeep""#));

    // A bad token: 401 invalid_token, still before the path.
    let (status, challenge, _) = get_with(&escaping, Some("tk_nonsense")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("invalid_token"));

    // An authenticated caller learns that the path itself is refused.
    let token = token_reading(&tokens, "/a").await;
    let (status, _, body) = get_with(&escaping, Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("INVALID_PATH"), "{body}");
    let (status, _, body) = get_with(&format!("{address}/files/a/b"), Some(&token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
}

#[tokio::test]
async fn path_requirements_check_the_path_as_the_router_sees_it() {
    let (tokens, address) = serve(|service| {
        let nested = Router::new().route("/{*path}", get(read));
        Router::new().nest("/docs", nested).route("/top/{*path}", get(read)).with_state(service)
    })
    .await;
    let token = token_reading(&tokens, "/releases").await;

    // Nested: the router strips `/docs`, so `/releases/a` is checked.
    let (status, _, _) = get_with(&format!("{address}/docs/releases/a"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    // Top level: nothing is stripped, so `/top/releases/a` is checked.
    let (status, challenge, _) = get_with(&format!("{address}/top/releases/a"), Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge.unwrap().contains(r#"scope="read:/top/releases/a""#));
}

#[tokio::test]
async fn query_token_rejections_name_the_query_not_a_header() {
    let (tokens, address) =
        serve(|service| Router::new().route("/ws", get(socket)).with_state(service)).await;

    let (status, challenge, body) = get_with(&format!("{address}/ws"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="tokenkeep""#));
    assert!(body.contains("authentication required"), "{body}");
    assert!(!body.contains("header"), "{body}");

    for query in ["token=", "token=%FF", "token=a&token=b"] {
        let (status, _, body) = get_with(&format!("{address}/ws?{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body.contains("query"), "{query}: {body}");
        assert!(!body.contains("Authorization header"), "{query}: {body}");
    }

    let token = token_reading(&tokens, "/").await;
    let url = format!("{address}/ws?token={token}");
    let (status, _, body) = get_with(&url, None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
    // A token in the query and a header beside it: two credentials.
    let (status, _, body) = get_with(&url, Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not both"), "{body}");
}

/// The README's shape: a group guarded by `RequireToken` and merged into
/// the app. With `route_layer` the guard wraps the group's routes only, so
/// a path no route serves is 404, with or without a token; with `layer` it
/// would also wrap the merged fallback and answer 401 for a route that
/// does not exist.
#[tokio::test]
async fn a_guarded_group_merged_into_the_app_leaves_unknown_paths_404() {
    let (tokens, base) = serve(|service| {
        let metrics = Router::new().route("/metrics", get(|| async { "ok" })).route_layer(
            RequireToken::new(service.clone(), RouteRequirement::Ability("metrics:read".into())),
        );
        Router::new().route("/whoami", get(owner)).merge(metrics).with_state(service)
    })
    .await;
    let (status, ..) = get_with(&format!("{base}/metrics"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the group is guarded");
    let token = token_reading(&tokens, "/files").await;
    for credential in [None, Some(token.as_str())] {
        let (status, ..) = get_with(&format!("{base}/no/such/route"), credential).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{credential:?}");
    }
}
