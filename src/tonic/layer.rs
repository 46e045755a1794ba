//! The layer: from `authorization` metadata to a verdict, per method.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use tower::Layer;

use super::status_for_rejection;
use super::stream::UntilRevoked;
use crate::http::{
    Guard, Guarded, Rejection, RequestFacts, RouteRequirement, Verdict, hide_credentials, sealed,
    verify_request,
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
}

/// The TCP peer tonic's transport records for each connection.
fn tcp_peer(extensions: &http::Extensions) -> Option<IpAddr> {
    let info = extensions.get::<::tonic::transport::server::TcpConnectInfo>()?;
    info.remote_addr().map(|address| address.ip())
}

/// The service [`RequireToken`] wraps around a gRPC server's routes.
pub type RequireTokenService<S> = Guarded<S, RequireToken>;

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded::new(inner, self.clone())
    }
}

impl sealed::Sealed for RequireToken {}

impl Guard for RequireToken {
    type Body = ::tonic::body::Body;

    /// Runs the pipeline on one call: gRPC calls are all POSTs to
    /// `/package.Service/Method`, which a path requirement reads.
    async fn verify(&self, request: &mut http::request::Parts) -> Result<Verdict, Rejection> {
        hide_credentials(&mut request.headers);
        let requirement = self.methods.get(request.uri.path());
        let facts = RequestFacts::of_parts(request).peer((self.peer)(&request.extensions));
        verify_request(&self.service, &facts, requirement.unwrap_or(&self.default)).await
    }

    fn refuse(&self, rejection: Rejection) -> http::Response<Self::Body> {
        status_for_rejection(&rejection).into_http()
    }

    /// With [`end_streams_on_revocation`](RequireToken::end_streams_on_revocation),
    /// the response ends when its token is revoked.
    fn admitted(
        &self,
        verdict: Verdict,
        response: http::Response<Self::Body>,
    ) -> http::Response<Self::Body> {
        if !self.end_streams {
            return response;
        }
        let Verdict { authenticated: who, requirement, .. } = verdict;
        let service = self.service.clone();
        response.map(|body| Self::Body::new(UntilRevoked::new(body, service, who, requirement)))
    }
}
