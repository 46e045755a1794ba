//! The layer: from `authorization` metadata to a verdict, per method.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use tower::{Layer, Service};

use super::status_for;
use super::stream::UntilRevoked;
use crate::bearer::{BearerError, one_authorization_value};
use crate::http::RouteRequirement;
use crate::scope::Requirement;
use crate::service::{AuthError, Authenticated, TokenService};

/// Verifies each call before the gRPC service sees it, against the
/// requirement of its method (`/package.Service/Method`) or the default.
#[derive(Clone, Debug)]
pub struct RequireToken {
    service: TokenService,
    default: RouteRequirement,
    methods: Arc<HashMap<String, RouteRequirement>>,
    end_streams: bool,
}

impl RequireToken {
    /// A layer requiring `default` of every method not named otherwise.
    pub fn new(service: TokenService, default: RouteRequirement) -> Self {
        Self {
            service,
            default,
            methods: Arc::new(HashMap::new()),
            end_streams: false,
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

    /// Verifies one call: credentials first, then its method's requirement.
    async fn verify(
        &self,
        headers: &http::HeaderMap,
        path: &str,
    ) -> Result<(Authenticated, crate::http::Resolved), AuthError> {
        let header = authorization(headers)?;
        let who = self
            .service
            .verify_bearer(header, Requirement::None)
            .await?;
        let requirement = self.methods.get(path).unwrap_or(&self.default);
        // gRPC calls are all POSTs: a path requirement reads the method's path.
        let resolved = requirement
            .resolve("POST", path)
            .map_err(|_| AuthError::InvalidRequest(BearerError::InvalidCharacter))?;
        who.require(&resolved.as_requirement())?;
        Ok((who, resolved))
    }
}

/// The `authorization` metadata's value (see [`one_authorization_value`]).
fn authorization(headers: &http::HeaderMap) -> Result<Option<&str>, BearerError> {
    one_authorization_value(
        headers
            .get_all(AUTHORIZATION)
            .iter()
            .map(|value| value.to_str()),
    )
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let (who, resolved) = match layer.verify(request.headers(), &path).await {
                Ok(verdict) => verdict,
                Err(error) => return Ok(status_for(&error).into_http()),
            };
            request.extensions_mut().insert(who.clone());
            let response = inner.call(request).await?;
            if !layer.end_streams {
                return Ok(response);
            }
            let service = layer.service.clone();
            Ok(response.map(|body| {
                ::tonic::body::Body::new(UntilRevoked::new(body, service, who, resolved))
            }))
        })
    }
}
