//! Request bodies a slow client cannot drag out: a body that sends
//! nothing for the idle limit (the header timeout), or is not whole by
//! its deadline, ends in an error, the request fails, and the connection
//! (whose body was never read to its end) is closed. With the header
//! timeout on every request head, no phase of a request can hold a
//! connection slot for longer than these limits.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep, sleep_until};

/// How long a body may pause, and how long it may take in all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyDeadlines {
    pub(crate) idle: Duration,
    pub(crate) whole: Duration,
}

/// Middleware: every request's body under its deadlines.
pub(crate) async fn limit_body(
    State(deadlines): State<BodyDeadlines>,
    request: Request,
    next: Next,
) -> Response {
    let request = request.map(|body| Body::new(DeadlineBody::new(body, deadlines)));
    next.run(request).await
}

struct DeadlineBody {
    inner: Body,
    idle: Duration,
    whole: Instant,
    timer: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Body, deadlines: BodyDeadlines) -> Self {
        let now = Instant::now();
        let whole = now + deadlines.whole;
        Self {
            inner,
            idle: deadlines.idle,
            whole,
            timer: Box::pin(sleep_until((now + deadlines.idle).min(whole))),
        }
    }
}

/// The error a late body ends with.
#[derive(Debug)]
struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for TooSlow {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                // Something arrived: the idle limit starts again.
                let next = (Instant::now() + this.idle).min(this.whole);
                this.timer.as_mut().reset(next);
                Poll::Ready(frame)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(TooSlow)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
