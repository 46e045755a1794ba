//! A long-lived response that ends when its token stops being good: the
//! actix-web counterpart of closing a WebSocket with 1008.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::scope::Requirement;
use crate::service::{AuthError, Authenticated, TokenService};

/// The items of `stream` until `who`'s token is revoked, expires or is
/// deleted (see [`TokenService::revocation`]); then one last item made by
/// `last` from the reason, and the end. For a server-sent event stream:
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use tokenkeep::actix::{Token, until_revoked};
/// use tokenkeep::TokenService;
///
/// async fn events(token: Token, service: web::Data<TokenService>) -> HttpResponse {
///     let ticks = futures_util::stream::repeat_with(|| Ok::<_, actix_web::Error>(web::Bytes::from("data: tick\n\n")));
///     let body = until_revoked(TokenService::clone(&service), token.0, ticks, |reason| {
///         Ok(web::Bytes::from(format!("event: end\ndata: {}\n\n", reason.client_message())))
///     });
///     HttpResponse::Ok().content_type("text/event-stream").streaming(body)
/// }
/// ```
pub fn until_revoked<S, F>(
    service: TokenService,
    who: Authenticated,
    stream: S,
    last: F,
) -> UntilRevoked<S, F>
where
    S: Stream,
    F: FnOnce(AuthError) -> S::Item,
{
    let revoked = Box::pin(async move { service.revocation(&who, Requirement::None).await });
    UntilRevoked { stream: Box::pin(stream), revoked, last: Some(Box::new(last)) }
}

/// The stream [`until_revoked`] returns.
pub struct UntilRevoked<S, F> {
    stream: Pin<Box<S>>,
    revoked: Pin<Box<dyn Future<Output = AuthError>>>,
    /// Taken when the token's end has been told: the stream is over. Boxed,
    /// like the rest, so the stream is `Unpin` whatever it wraps.
    last: Option<Box<F>>,
}

impl<S, F> Stream for UntilRevoked<S, F>
where
    S: Stream,
    F: FnOnce(AuthError) -> S::Item,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        if this.last.is_none() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(reason) = this.revoked.as_mut().poll(cx) {
            return Poll::Ready(this.last.take().map(|last| last(reason)));
        }
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.last = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}
