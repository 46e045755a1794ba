//! The one request pipeline, through every framework over the network:
//! a request a route refuses never consumes a token's use (the layer and
//! the extractor of axum and actix-web, and tonic), nor does a bad path;
//! the client's address is derived the same way everywhere (every
//! `X-Forwarded-For` line, unreadable ones failing closed), so
//! allow-lists hold over gRPC too; a refused request does count against
//! a rate limit, as documented.
#![cfg(all(feature = "axum", feature = "actix", feature = "tonic", feature = "management"))]
#![allow(clippy::unwrap_used)]

use crate::support::Calls as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use reqwest::header::HeaderValue;
use tokenkeep::record::{RateLimit, Usage};
use tokenkeep::store::MemoryStore;
use tokenkeep::time::Duration;
use tokenkeep::{
    Access, Authenticated, IssueRequest, Prefix, Route, Scopes, TokenManager, TokenService,
};
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn manager(trusted: &[&str]) -> TokenManager {
    TokenManager::builder(Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
        .trusted_proxies(trusted.iter().map(|net| net.parse().unwrap()).collect())
        .build()
        .unwrap()
}

/// A token that may read `/files` and nothing else, from `request`.
async fn reader(tokens: &TokenManager, request: IssueRequest) -> String {
    let scopes =
        Scopes { routes: vec![Route::new("/files", Access::READ).unwrap()], ..Scopes::default() };
    let issued = tokens.admin_issue(request.scopes(scopes)).await;
    issued.token.expose_secret().to_owned()
}

/// An issue request for a new owner (one token each: no cap, no name
/// clash, however many a test issues).
fn fresh() -> IssueRequest {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let owner = format!("user{}", NEXT.fetch_add(1, Ordering::Relaxed));
    IssueRequest::new(owner, "token")
}

async fn with_uses(tokens: &TokenManager, uses: u64) -> String {
    let usage = Usage::new(uses, tokens.service().now()).unwrap();
    reader(tokens, fresh().usage(usage)).await
}

/// What a client asks of a front: read a file (allowed), write one or
/// call a manager's route (refused by the route), or send a path that
/// escapes its root.
#[derive(Clone, Copy, Debug)]
enum Ask {
    Read,
    Write,
    Admin,
    BadPath,
}

/// One framework's server, as a client sees it: a status per request.
enum Front {
    Http { files: String, admin: String },
    Grpc(Channel),
}

impl Front {
    async fn send(&self, ask: Ask, token: &str) -> u16 {
        match self {
            Self::Http { files, admin } => {
                let client = reqwest::Client::new();
                let request = match ask {
                    Ask::Read => client.get(format!("{files}/a")),
                    Ask::Write => client.put(format!("{files}/a")),
                    Ask::Admin => client.get(admin),
                    Ask::BadPath => client.get(format!("{files}/a/%2F..%2Fb")),
                };
                let response = request.bearer_auth(token).send().await.unwrap();
                response.status().as_u16()
            }
            // gRPC has one kind of call here: the open method reads, the
            // manager's method is refused.
            Self::Grpc(channel) => {
                let mut client = HealthClient::new(channel.clone());
                let request = grpc_request(token, None);
                let outcome = match ask {
                    Ask::Read => client.check(request).await.map(|_| ()),
                    Ask::Write | Ask::Admin => client.watch(request).await.map(|_| ()),
                    Ask::BadPath => unreachable!("gRPC paths are checked in a test of their own"),
                };
                grpc_status(outcome)
            }
        }
    }

    async fn statuses(&self, asks: &[Ask], token: &str) -> Vec<u16> {
        let mut statuses = Vec::new();
        for &ask in asks {
            statuses.push(self.send(ask, token).await);
        }
        statuses
    }
}

fn grpc_request(token: &str, forwarded_for: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    let bearer = format!("Bearer {token}");
    request.metadata_mut().insert("authorization", bearer.parse().unwrap());
    if let Some(forwarded) = forwarded_for {
        request.metadata_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
    }
    request
}

/// A gRPC outcome as the HTTP status the same refusal has.
fn grpc_status(outcome: Result<(), tonic::Status>) -> u16 {
    match outcome.map_err(|status| status.code()) {
        Ok(()) => 200,
        Err(tonic::Code::Unauthenticated) => 401,
        Err(tonic::Code::PermissionDenied) => 403,
        Err(tonic::Code::InvalidArgument) => 400,
        Err(tonic::Code::ResourceExhausted) => 429,
        Err(other) => panic!("unexpected {other:?}"),
    }
}

async fn owner(axum::Extension(who): axum::Extension<Authenticated>) -> String {
    who.owner().to_owned()
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    (listener, address)
}

async fn serve_axum(app: axum::Router) -> String {
    let (listener, address) = listen().await;
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

/// axum, requirements as layers: the files under `/v1` (the layer sees
/// `/files/a` inside the nest), the manager's route beside them.
async fn axum_layers(service: &TokenService) -> Front {
    use tokenkeep::axum::{RequireToken, RouteRequirement};
    let files = axum::Router::new()
        .route("/files/{*path}", get(owner).put(owner))
        .layer(RequireToken::new(service.clone(), RouteRequirement::PathByMethod));
    let app = axum::Router::new().nest("/v1", files).route(
        "/admin",
        get(owner).route_layer(RequireToken::new(service.clone(), RouteRequirement::Manager)),
    );
    let address = serve_axum(app).await;
    Front::Http { files: format!("{address}/v1/files"), admin: format!("{address}/admin") }
}

/// axum, requirements in the handlers' signatures, with a `TokenManager`
/// as the router's state.
async fn axum_extractors(tokens: &TokenManager) -> Front {
    use tokenkeep::axum::{Manager, PathByMethod, Token};
    async fn file(Token(who, ..): Token<PathByMethod>) -> String {
        who.owner().to_owned()
    }
    async fn admin(Token(who, ..): Token<Manager>) -> String {
        who.owner().to_owned()
    }
    let app = axum::Router::new()
        .route("/files/{*path}", get(file).put(file))
        .route("/admin", get(admin))
        .with_state(tokens.clone());
    let address = serve_axum(app).await;
    Front::Http { files: format!("{address}/files"), admin: format!("{address}/admin") }
}

/// actix-web on its own system thread: the middleware (`middleware:
/// true`) or the extractor guards the files and the manager's route.
fn actix(service: &TokenService, middleware: bool) -> Front {
    use actix_web::{App, HttpMessage as _, HttpRequest, HttpResponse, HttpServer, web};
    use tokenkeep::actix::{Manager, PathByMethod, RequireToken, RouteRequirement, Token};
    async fn from_middleware(request: HttpRequest) -> HttpResponse {
        let who = request.extensions().get::<Authenticated>().cloned();
        HttpResponse::Ok().body(who.map(|who| who.owner().to_owned()).unwrap_or_default())
    }
    async fn file(token: Token<PathByMethod>) -> HttpResponse {
        HttpResponse::Ok().body(token.0.owner().to_owned())
    }
    async fn admin(token: Token<Manager>) -> HttpResponse {
        HttpResponse::Ok().body(token.0.owner().to_owned())
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let service = service.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let guard = |requirement| RequireToken::new(service.clone(), requirement);
                App::new().app_data(web::Data::new(service.clone())).configure(|config| {
                    if middleware {
                        // Under `scope("/v1")` the middleware sees `/files/a`.
                        config
                            .service(
                                web::scope("/v1")
                                    .wrap(guard(RouteRequirement::PathByMethod))
                                    .default_service(web::to(from_middleware)),
                            )
                            .service(
                                web::scope("/admin")
                                    .wrap(guard(RouteRequirement::Manager))
                                    .default_service(web::to(from_middleware)),
                            );
                    } else {
                        config
                            .route("/files/{path:.*}", web::get().to(file))
                            .route("/files/{path:.*}", web::put().to(file))
                            .route("/admin", web::get().to(admin));
                    }
                })
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    let files = if middleware { "/v1/files" } else { "/files" };
    Front::Http { files: format!("{address}{files}"), admin: format!("{address}/admin") }
}

const WATCH: &str = "/grpc.health.v1.Health/Watch";

/// The health service behind the tonic layer: checks need any token,
/// watches a manager's.
async fn grpc_channel(service: &TokenService) -> Channel {
    use tokenkeep::tonic::{RequireToken, RouteRequirement};
    let (reporter, health) = tonic_health::server::health_reporter();
    let guard = RequireToken::new(service.clone(), RouteRequirement::AnyToken)
        .method(WATCH, RouteRequirement::Manager);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let incoming = futures_util::stream::unfold(listener, |listener| async move {
        Some((listener.accept().await.map(|(stream, _)| stream), listener))
    });
    tokio::spawn(async move {
        let _reporter = reporter;
        Server::builder()
            .layer(guard)
            .add_service(health)
            .serve_with_incoming(incoming)
            .await
            .unwrap();
    });
    Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap()
}

/// Every front over one manager, named for the messages.
async fn fronts(tokens: &TokenManager) -> Vec<(&'static str, Front)> {
    let service = tokens.service();
    vec![
        ("axum layer", axum_layers(service).await),
        ("axum extractor", axum_extractors(tokens).await),
        ("actix-web middleware", actix(service, true)),
        ("actix-web extractor", actix(service, false)),
        ("tonic", Front::Grpc(grpc_channel(service).await)),
    ]
}

#[tokio::test]
async fn a_request_the_route_refuses_keeps_the_tokens_use() {
    use Ask::*;
    let tokens = manager(&[]);
    for (name, front) in fronts(&tokens).await {
        // Three uses: two writes refused (the token reads only), then the
        // three reads it has left, then none.
        let token = with_uses(&tokens, 3).await;
        let asks = [Write, Write, Read, Read, Read, Read];
        let statuses = front.statuses(&asks, &token).await;
        assert_eq!(statuses, [403, 403, 200, 200, 200, 401], "{name}");

        // One use, refused by a manager's route: still there for a read.
        let token = with_uses(&tokens, 1).await;
        let statuses = front.statuses(&[Admin, Read, Read], &token).await;
        assert_eq!(statuses, [403, 200, 401], "{name}");
    }
}

#[tokio::test]
async fn a_path_that_escapes_its_root_consumes_no_use() {
    let tokens = manager(&[]);
    for (name, front) in fronts(&tokens).await {
        if matches!(front, Front::Grpc(_)) {
            continue;
        }
        let token = with_uses(&tokens, 1).await;
        let statuses = front.statuses(&[Ask::BadPath, Ask::Read, Ask::Read], &token).await;
        assert_eq!(statuses, [400, 200, 401], "{name}");
    }
}

#[tokio::test]
async fn a_grpc_path_that_cannot_be_normalised_is_invalid_argument() {
    use std::convert::Infallible;
    use tokenkeep::tonic::{RequireToken, RouteRequirement};
    use tower::{Layer as _, Service as _};

    let tokens = manager(&[]);
    let token = with_uses(&tokens, 1).await;
    let inner = tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(tonic::body::Body::empty()))
    });
    let mut guarded =
        RequireToken::new(tokens.service().clone(), RouteRequirement::ReadPath).layer(inner);
    let call = |path: &str| {
        http::Request::post(path)
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
    };
    let refused = guarded.call(call("/files/%2F..%2Fx")).await.unwrap();
    assert_eq!(refused.headers()["grpc-status"], "3", "INVALID_ARGUMENT");
    let let_through = guarded.call(call("/files/a")).await.unwrap();
    assert!(let_through.headers().get("grpc-status").is_none());
    let spent = guarded.call(call("/files/a")).await.unwrap();
    assert_eq!(spent.headers()["grpc-status"], "16", "UNAUTHENTICATED");
}

#[tokio::test]
async fn allow_lists_hold_over_grpc_from_the_peer_and_behind_trusted_proxies() {
    let issue = |tokens: TokenManager, name: &'static str, range: &'static str| async move {
        let ranges = vec![range.parse().unwrap()];
        reader(&tokens, IssueRequest::new("alice", name).allowed_ips(ranges)).await
    };
    let check = |channel: Channel, token: String, forwarded: Option<&'static str>| async move {
        let outcome = HealthClient::new(channel).check(grpc_request(&token, forwarded)).await;
        grpc_status(outcome.map(|_| ()))
    };

    let direct = manager(&[]);
    let channel = grpc_channel(direct.service()).await;
    let local = issue(direct.clone(), "local", "127.0.0.0/8").await;
    let office = issue(direct.clone(), "office", "10.0.0.0/8").await;
    assert_eq!(check(channel.clone(), local, None).await, 200);
    assert_eq!(check(channel.clone(), office.clone(), None).await, 401);
    assert_eq!(
        check(channel, office, Some("10.1.2.3")).await,
        401,
        "a forwarded address from an untrusted peer means nothing"
    );

    let proxied = manager(&["127.0.0.1/32"]);
    let channel = grpc_channel(proxied.service()).await;
    let office = issue(proxied.clone(), "office", "10.0.0.0/8").await;
    assert_eq!(check(channel.clone(), office.clone(), Some("10.1.2.3")).await, 200);
    assert_eq!(check(channel, office, Some("10.1.2.3, 192.0.2.8")).await, 401);
}

/// Behind a trusted proxy (loopback): a client's own `X-Forwarded-For`
/// line ahead of the proxy's does not win, and an unreadable line never
/// falls back to the proxy's address.
#[tokio::test]
async fn every_forwarded_line_counts_and_unreadable_ones_fail_closed() {
    let tokens = manager(&["127.0.0.1/32"]);
    let only = |range: &str| {
        let ranges = vec![range.parse().unwrap()];
        reader(&tokens, fresh().allowed_ips(ranges))
    };
    let spoofed_client = only("10.9.9.9/32").await;
    let proxy_network = only("127.0.0.0/8").await;
    for (name, front) in fronts(&tokens).await {
        let Front::Http { files, .. } = front else {
            continue;
        };
        let status = |token: &str, lines: &[&[u8]]| {
            let mut request = reqwest::Client::new().get(format!("{files}/a")).bearer_auth(token);
            for line in lines {
                request = request.header("x-forwarded-for", HeaderValue::from_bytes(line).unwrap());
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(status(&spoofed_client, &[b"10.9.9.9"]).await, 200, "{name}");
        assert_eq!(
            status(&spoofed_client, &[b"10.9.9.9", b"203.0.113.5"]).await,
            401,
            "{name}: the proxy's own line is the client"
        );
        assert_eq!(status(&proxy_network, &[]).await, 200, "{name}");
        assert_eq!(
            status(&proxy_network, &[b"\x80, 203.0.113.5"]).await,
            401,
            "{name}: unreadable, so no address rather than the proxy's"
        );
    }
}

/// Documented: the rate limit is checked before the route's requirement,
/// so a refused request spends one of the token's requests.
#[tokio::test]
async fn a_refused_request_counts_against_the_rate_limit() {
    let tokens = manager(&[]);
    let front = axum_layers(tokens.service()).await;
    let limit = RateLimit::new(2, Duration::minutes(1)).unwrap();
    let token = reader(&tokens, fresh().rate_limit(limit)).await;
    let statuses = front.statuses(&[Ask::Write, Ask::Read, Ask::Read], &token).await;
    assert_eq!(statuses, [403, 200, 429]);
}

/// A gRPC server over TLS or another transport names where the peer's
/// address comes from; without one, an allow-listed token is refused
/// (fail closed).
#[tokio::test]
async fn a_grpc_peer_can_come_from_the_servers_own_connection_info() {
    use std::convert::Infallible;
    use tokenkeep::tonic::{RequireToken, RouteRequirement};
    use tower::{Layer as _, Service as _};

    let tokens = manager(&[]);
    let ranges = vec!["10.0.0.0/8".parse().unwrap()];
    let token = reader(&tokens, fresh().allowed_ips(ranges)).await;
    let inner = tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(tonic::body::Body::empty()))
    });
    let call = || {
        http::Request::post("/pkg.Service/Method")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
    };
    let layer = RequireToken::new(tokens.service().clone(), RouteRequirement::AnyToken);
    let mut unknown = layer.clone().layer(inner);
    let refused = unknown.call(call()).await.unwrap();
    assert_eq!(refused.headers()["grpc-status"], "16", "no address: refused");
    let mut named = layer.peer_from(|_| Some("10.1.2.3".parse().unwrap())).layer(inner);
    let allowed = named.call(call()).await.unwrap();
    assert!(allowed.headers().get("grpc-status").is_none());
}
