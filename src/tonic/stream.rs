//! A response body that ends with `UNAUTHENTICATED` when its token stops
//! being good: the gRPC counterpart of closing a WebSocket with 1008.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::status_for;
use crate::http::Resolved;
use crate::service::{AuthError, Authenticated, TokenService};

type Revocation = Pin<Box<dyn Future<Output = AuthError> + Send>>;

/// The inner body, until the token's revocation resolves; then the trailers
/// of the status it earned, and the end.
pub(super) struct UntilRevoked {
    inner: ::tonic::body::Body,
    revoked: Revocation,
    ended: bool,
}

impl UntilRevoked {
    pub(super) fn new(
        inner: ::tonic::body::Body,
        service: TokenService,
        who: Authenticated,
        requirement: Resolved,
    ) -> Self {
        let revoked =
            Box::pin(async move { service.revocation(&who, requirement.as_requirement()).await });
        Self { inner, revoked, ended: false }
    }
}

impl Body for UntilRevoked {
    type Data = Bytes;
    type Error = ::tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ::tonic::Status>>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        if let Poll::Ready(error) = this.revoked.as_mut().poll(cx) {
            this.ended = true;
            let mut trailers = http::HeaderMap::new();
            return Poll::Ready(Some(
                status_for(&error).add_header(&mut trailers).map(|()| Frame::trailers(trailers)),
            ));
        }
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.ended = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
