//! Address allow-lists: a token with a list verifies only from inside it;
//! an unknown address is refused (fail closed); axum takes the address
//! from the connection, and from `X-Forwarded-For` only behind a proxy the
//! application trusts.
#![cfg(all(feature = "management", feature = "axum"))]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokenkeep::axum::Token;
use tokenkeep::store::MemoryStore;
use tokenkeep::{
    Actor, AuthError, InvalidToken, IssueRequest, Prefix, Requirement, TokenManager, TokenRef,
    TokenUpdate,
};

fn manager(trusted: &[&str]) -> TokenManager {
    TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .trusted_proxies(trusted.iter().map(|net| net.parse().unwrap()).collect())
        .build()
        .unwrap()
}

async fn issue(service: &TokenManager, name: &str, ranges: &[&str]) -> (String, TokenRef) {
    let ranges = ranges.iter().map(|net| net.parse().unwrap()).collect();
    let issued = service
        .issue(&Actor::Admin, IssueRequest::new("alice", name).allowed_ips(ranges))
        .await
        .unwrap();
    (issued.token.expose_secret().to_owned(), TokenRef::id(issued.record.id))
}

#[tokio::test]
async fn a_listed_token_verifies_only_from_inside_its_ranges() {
    let service = manager(&[]);
    let (token, by_id) = issue(&service, "office", &["10.0.0.0/8", "2001:db8::/32"]).await;
    let from = |address: Option<&str>| {
        let (service, token) = (service.clone(), token.clone());
        let client = address.map(|address| address.parse().unwrap());
        async move { service.service().verify_token_from(&token, Requirement::None, client).await }
    };
    assert!(from(Some("10.1.2.3")).await.is_ok());
    assert!(from(Some("2001:db8::7")).await.is_ok());
    for outside in [Some("192.0.2.1"), Some("11.0.0.1"), None] {
        let refused = from(outside).await;
        assert!(
            matches!(refused, Err(AuthError::InvalidToken(InvalidToken::AddressNotAllowed))),
            "{outside:?}: {refused:?}"
        );
    }
    // Without a list, any address, known or not.
    let (free, _) = issue(&service, "free", &[]).await;
    assert!(service.verifies_text(&free).await);
    // An empty list, set later, lifts it.
    let any = TokenUpdate { allowed_ips: Some(Vec::new()), ..TokenUpdate::default() };
    service.modify(&Actor::Admin, &by_id, any).await.unwrap();
    assert!(from(None).await.is_ok());
}

async fn owner(Token(who, ..): Token) -> String {
    who.owner().to_owned()
}

/// Serves a route behind the token extractor, with the connection's
/// address in each request.
async fn serve(service: &TokenManager) -> String {
    let app = Router::new().route("/whoami", get(owner)).with_state(service.service().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/whoami", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    address
}

async fn status(url: &str, token: &str, forwarded_for: Option<&str>) -> StatusCode {
    let mut request = reqwest::Client::new().get(url).bearer_auth(token);
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn axum_takes_the_connections_address_and_forwarded_ones_only_from_trusted_proxies() {
    // No trusted proxy: the header is the client's to forge, and ignored.
    let direct = manager(&[]);
    let url = serve(&direct).await;
    let (local, _) = issue(&direct, "local", &["127.0.0.0/8"]).await;
    let (office, _) = issue(&direct, "office", &["10.0.0.0/8"]).await;
    assert_eq!(status(&url, &local, None).await, StatusCode::OK);
    assert_eq!(status(&url, &office, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status(&url, &office, Some("10.1.2.3")).await,
        StatusCode::UNAUTHORIZED,
        "a forwarded address from an untrusted peer means nothing"
    );

    // Behind a trusted proxy (here, loopback), the forwarded address counts.
    let proxied = manager(&["127.0.0.1/32"]);
    let url = serve(&proxied).await;
    let (office, _) = issue(&proxied, "office", &["10.0.0.0/8"]).await;
    assert_eq!(status(&url, &office, Some("10.1.2.3")).await, StatusCode::OK);
    assert_eq!(
        status(&url, &office, Some("10.1.2.3, 192.0.2.8")).await,
        StatusCode::UNAUTHORIZED,
        "the right-most untrusted hop is the client"
    );
    assert_eq!(status(&url, &office, None).await, StatusCode::UNAUTHORIZED);
}

/// A connection verified from an address the token's list then drops is
/// ended by the revocation watch, as a new request from it is refused.
#[tokio::test]
async fn the_revocation_watch_re_judges_the_allow_list() {
    let service = manager(&[]);
    let (token, by_id) = issue(&service, "office", &["10.0.0.0/8"]).await;
    let client = Some("10.1.2.3".parse().unwrap());
    let who = service.service().verify_token_from(&token, Requirement::None, client).await.unwrap();
    assert_eq!(who.client(), client);
    let watch = {
        let (service, who) = (service.clone(), who.clone());
        tokio::spawn(async move { service.service().revocation(&who, Requirement::None).await })
    };
    let elsewhere = TokenUpdate {
        allowed_ips: Some(vec!["192.168.0.0/16".parse().unwrap()]),
        ..TokenUpdate::default()
    };
    service.modify(&Actor::Admin, &by_id, elsewhere).await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(3), watch)
        .await
        .expect("the watch resolves")
        .unwrap();
    assert!(matches!(ended, AuthError::InvalidToken(InvalidToken::AddressNotAllowed)), "{ended:?}");
}
