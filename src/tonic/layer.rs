//! The layer: from `authorization` metadata to a verdict, per method.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::status_for_rejection;
use super::stream::UntilRevoked;
use crate::http::{
    Rejection, RequestFacts, RouteRequirement, Verdict, hide_credentials, verify_request,
};
use crate::service::TokenService;

/// Verifies each call before the gRPC service sees it, against the
/// requirement of its method (`/package.Service/Method`) or the default.
#[derive(Clone, Debug)]
pub struct RequireToken {
    service: TokenService,
    default: RouteRequirement,
    methods: Arc<HashMap<String, RouteRequirement>>,
    end_streams: bool,
    peer: fn(&http::Extensions) -> Option<IpAddr>,
}

impl RequireToken {
    /// A layer requiring `default` of every method not named otherwise.
    pub fn new(service: TokenService, default: RouteRequirement) -> Self {
        Self {
            service,
            default,
            methods: Arc::new(HashMap::new()),
            end_streams: false,
            peer: tcp_peer,
        }
    }

    /// What one method requires, by its path: `/package.Service/Method`.
    #[must_use]
    pub fn method(mut self, path: impl Into<String>, requirement: RouteRequirement) -> Self {
        Arc::make_mut(&mut self.methods).insert(path.into(), requirement);
        self
    }

    /// Ends a response (a server stream) with `UNAUTHENTICATED` as soon as
    /// its token is revoked, expires, is deleted or loses the method's
    /// scope. Each watched call costs a store lookup when its response
    /// starts; leave it off for services with unary methods only.
    #[must_use]
    pub fn end_streams_on_revocation(mut self) -> Self {
        self.end_streams = true;
        self
    }

    /// Where the client's address comes from. By default it is the TCP
    /// peer that tonic's transport records (`TcpConnectInfo`); a server
    /// over TLS or another transport names its own (behind trusted proxies
    /// `x-forwarded-for` is read as everywhere else). Without an address a
    /// token with an address allow-list is refused.
    #[must_use]
    pub fn peer_from(mut self, peer: fn(&http::Extensions) -> Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Runs the pipeline on one call: gRPC calls are all POSTs to
    /// `/package.Service/Method`, which a path requirement reads.
    async fn verify(&self, request: &mut http::request::Parts) -> Result<Verdict, Rejection> {
        hide_credentials(&mut request.headers);
        let requirement = self.methods.get(request.uri.path());
        let facts = RequestFacts::of_parts(request).peer((self.peer)(&request.extensions));
        verify_request(&self.service, &facts, requirement.unwrap_or(&self.default)).await
    }
}

/// The TCP peer tonic's transport records for each connection.
fn tcp_peer(extensions: &http::Extensions) -> Option<IpAddr> {
    let info = extensions.get::<::tonic::transport::server::TcpConnectInfo>()?;
    info.remote_addr().map(|address| address.ip())
}

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireTokenService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RequireToken`] wraps around a gRPC server's routes.
#[derive(Clone, Debug)]
pub struct RequireTokenService<S> {
    inner: S,
    layer: RequireToken,
}

impl<S, B> Service<http::Request<B>> for RequireTokenService<S>
where
    S: Service<http::Request<B>, Response = http::Response<::tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = http::Response<::tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let (mut parts, body) = request.into_parts();
        Box::pin(async move {
            let Verdict {
                authenticated: who,
                requirement,
                ..
            } = match layer.verify(&mut parts).await {
                Ok(verdict) => verdict,
                Err(rejection) => return Ok(status_for_rejection(&rejection).into_http()),
            };
            parts.extensions.insert(who.clone());
            let request = http::Request::from_parts(parts, body);
            let response = inner.call(request).await?;
            if !layer.end_streams {
                return Ok(response);
            }
            let service = layer.service.clone();
            Ok(response.map(|body| {
                ::tonic::body::Body::new(UntilRevoked::new(body, service, who, requirement))
            }))
        })
    }
}
