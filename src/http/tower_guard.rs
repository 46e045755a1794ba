//! The tower service both tower integrations (axum and tonic) wrap around
//! a route: each request is verified before the inner service sees it.
//! What differs between them is the [`Guard`]: how a request is read, how
//! a refusal is answered, what becomes of an admitted response.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use tower::Service;

use super::{Rejection, Verdict};

/// One framework's side of a [`Guarded`] service. Sealed: the crate's
/// `RequireToken` layers are its only implementations.
pub trait Guard: sealed::Sealed + Clone + Send + Sync + 'static {
    /// The body of the framework's responses.
    type Body;

    /// Runs the request pipeline on a request's parts.
    fn verify(&self, parts: &mut Parts) -> impl Future<Output = Result<Verdict, Rejection>> + Send;

    /// The answer to a refused request.
    fn refuse(&self, rejection: Rejection) -> Response<Self::Body>;

    /// What becomes of an admitted request's response (unchanged, or
    /// watched for the token's revocation).
    fn admitted(&self, verdict: Verdict, response: Response<Self::Body>) -> Response<Self::Body> {
        let _ = verdict;
        response
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The service a tower `RequireToken` layer wraps around a route: the
/// verified [`Authenticated`](crate::Authenticated) goes into the request's
/// extensions, a refusal is answered without calling the inner service.
#[derive(Clone, Debug)]
pub struct Guarded<S, G> {
    inner: S,
    guard: G,
}

impl<S, G> Guarded<S, G> {
    pub(crate) fn new(inner: S, guard: G) -> Self {
        Self { inner, guard }
    }
}

impl<S, G, B> Service<Request<B>> for Guarded<S, G>
where
    S: Service<Request<B>, Response = Response<G::Body>> + Clone + Send + 'static,
    S::Future: Send,
    G: Guard,
    B: Send + 'static,
{
    type Response = Response<G::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let verdict = match guard.verify(&mut parts).await {
                Ok(verdict) => verdict,
                Err(rejection) => return Ok(guard.refuse(rejection)),
            };
            parts.extensions.insert(verdict.authenticated.clone());
            let response = inner.call(Request::from_parts(parts, body)).await?;
            Ok(guard.admitted(verdict, response))
        })
    }
}
