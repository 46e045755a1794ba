//! The tonic integration over loopback: a gRPC server (the standard health
//! service) behind the layer, a real tonic client; what a caller sees for
//! each kind of credential, a manager-only method beside an open one, and
//! a server stream that ends with `UNAUTHENTICATED` when its token is
//! revoked.
#![cfg(all(feature = "tonic", feature = "management"))]
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::kinds::{Kinds, kinds};
use tokenkeep::tonic::{RequireToken, RouteRequirement};
use tonic::Code;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const WATCH: &str = "/grpc.health.v1.Health/Watch";

/// The health service behind the layer (checks need any token, watches a
/// manager's) on a free port; a client channel to it.
async fn serve(kinds: &Kinds) -> Channel {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let guard = RequireToken::new(kinds.tokens.service().clone(), RouteRequirement::AnyToken)
        .method(WATCH, RouteRequirement::Manager)
        .end_streams_on_revocation();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Keeps the reporter (and the statuses it serves) alive.
        let _reporter = _reporter;
        Server::builder()
            .layer(guard)
            .add_service(health)
            .serve_with_incoming(tokio_stream_of(listener))
            .await
            .unwrap();
    });
    Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap()
}

/// The listener's connections as the stream tonic serves.
fn tokio_stream_of(
    listener: tokio::net::TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}

fn request(authorization: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    if let Some(value) = authorization {
        request.metadata_mut().insert("authorization", value.parse().unwrap());
    }
    request
}

async fn check(channel: &Channel, authorization: Option<&str>) -> Result<(), tonic::Status> {
    HealthClient::new(channel.clone()).check(request(authorization)).await.map(|_| ())
}

#[tokio::test]
async fn each_kind_of_credential_gets_its_grpc_status_and_never_the_token() {
    let kinds = kinds().await;
    let channel = serve(&kinds).await;
    let bearer = |token: &str| format!("Bearer {token}");

    let refused = [
        (None, Code::Unauthenticated),
        (Some("Basic dXNlcjpwYXNz".to_owned()), Code::Unauthenticated),
        (Some("Bearer a b".to_owned()), Code::Unauthenticated),
        (Some(bearer(&kinds.revoked)), Code::Unauthenticated),
        (Some(bearer(&kinds.expired)), Code::Unauthenticated),
        (Some(bearer("tk_not-a-token")), Code::Unauthenticated),
    ];
    for (authorization, code) in refused {
        let status = check(&channel, authorization.as_deref()).await.unwrap_err();
        assert_eq!(status.code(), code, "{authorization:?}: {status:?}");
        for token in [&kinds.revoked, &kinds.expired] {
            assert!(!status.message().contains(token.as_str()));
        }
    }
    check(&channel, Some(&bearer(&kinds.plain))).await.unwrap();
    check(&channel, Some(&bearer(&kinds.limited))).await.unwrap();
    let spent = check(&channel, Some(&bearer(&kinds.limited))).await.unwrap_err();
    assert_eq!(spent.code(), Code::ResourceExhausted, "{spent:?}");

    // The manager-only method beside the open one.
    let watched = HealthClient::new(channel.clone())
        .watch(request(Some(&bearer(&kinds.plain))))
        .await
        .unwrap_err();
    assert_eq!(watched.code(), Code::PermissionDenied);
    assert!(watched.message().contains("manager"), "{watched:?}");
    let mut stream = HealthClient::new(channel.clone())
        .watch(request(Some(&bearer(&kinds.manager))))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
}

/// A watch stream opened with a manager token ends with `UNAUTHENTICATED`
/// once that token is revoked.
#[tokio::test]
async fn a_server_stream_ends_when_its_token_is_revoked() {
    let kinds = kinds().await;
    let channel = serve(&kinds).await;
    let mut stream = HealthClient::new(channel.clone())
        .watch(request(Some(&format!("Bearer {}", kinds.manager))))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some(), "the first status");

    kinds.revoke(&kinds.manager).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ended");
    let status = ended.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(!status.message().contains(kinds.manager.as_str()));
}
