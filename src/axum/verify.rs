//! The axum adapter over the [request pipeline](crate::http::verify_request):
//! it fills in the request's facts and renders the refusal. The extractors
//! and the layer both call [`verify_parts`].

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, Entry};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};

use super::ApiError;
use crate::http::{RequestFacts, RouteRequirement, Verdict, verify_request};
use crate::service::{Authenticated, TokenService};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Where a request's credentials are read from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Credentials {
    /// The `Authorization: Bearer` header.
    Header,
    /// The `?token=` query parameter (browser WebSockets).
    Query,
}

/// Runs the pipeline on a request's parts. The peer is the connection's
/// address (served with `into_make_service_with_connect_info::<SocketAddr>()`);
/// a layer's verdict already in the extensions is reused.
pub(super) async fn verify_parts(
    service: &TokenService,
    requirement: &RouteRequirement,
    credentials: Credentials,
    parts: &mut Parts,
) -> Result<Verdict, ApiError> {
    // `http`'s `Debug`, and tracing layers that honour it, never print it.
    if let Entry::Occupied(mut values) = parts.headers.entry(AUTHORIZATION) {
        values
            .iter_mut()
            .for_each(|value| value.set_sensitive(true));
    }
    let values = |name| {
        parts
            .headers
            .get_all(name)
            .into_iter()
            .map(HeaderValue::as_bytes)
    };
    let facts = RequestFacts::new(parts.method.as_str(), parts.uri.path())
        .authorization(values(AUTHORIZATION))
        .forwarded_for(values(X_FORWARDED_FOR))
        .peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        )
        .verified(parts.extensions.get::<Authenticated>());
    let facts = match credentials {
        Credentials::Header => facts,
        Credentials::Query => facts.token_in_query(parts.uri.query()),
    };
    Ok(verify_request(service, &facts, requirement).await?)
}
