//! The axum adapter over the [request pipeline](crate::http::verify_request):
//! it fills in the request's facts and renders the refusal. The extractors
//! and the layer both call [`verify_parts`].

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use crate::http::{
    Rejection, RequestFacts, RouteRequirement, Verdict, hide_credentials, verify_request,
};
use crate::service::{Authenticated, TokenService};

/// Where a request's credentials are read from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Credentials {
    /// The `Authorization: Bearer` header.
    Header,
    /// The `?token=` query parameter (browser WebSockets).
    Query,
}

/// A request's facts as the pipeline reads them: the method, the path, the
/// headers and the peer, the connection's address (served with
/// `into_make_service_with_connect_info::<SocketAddr>()`). Mark the
/// credentials sensitive first ([`hide_credentials`]).
pub(super) fn facts_of(parts: &Parts) -> RequestFacts<'_> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
    RequestFacts::of_parts(parts).peer(peer.map(|info| info.0.ip()))
}

/// Runs the pipeline on a request's parts. The peer is the connection's
/// address (served with `into_make_service_with_connect_info::<SocketAddr>()`);
/// a layer's verdict already in the extensions is reused.
pub(super) async fn verify_parts(
    service: &TokenService,
    requirement: &RouteRequirement,
    credentials: Credentials,
    parts: &mut Parts,
) -> Result<Verdict, Rejection> {
    hide_credentials(&mut parts.headers);
    let facts = facts_of(parts).verified(parts.extensions.get::<Authenticated>());
    let facts = match credentials {
        Credentials::Header => facts,
        Credentials::Query => facts.token_in_query(parts.uri.query()),
    };
    verify_request(service, &facts, requirement).await
}
