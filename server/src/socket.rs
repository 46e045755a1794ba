//! One accepted socket, with the two limits a client that stops reading
//! would otherwise escape:
//!
//! - it holds its connection slot for as long as it lives: through every
//!   request on it and, once upgraded, for the whole WebSocket session (the
//!   slot is freed when the socket is dropped, not when HTTP is done with
//!   it);
//! - a write that makes no progress for the stall limit fails, and so ends
//!   the connection: a client that sends requests (pipelined or not) and
//!   never reads the answers fills the kernel's buffers, and without this
//!   would keep its slot for ever.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

/// An accepted TCP stream, its slot, and the deadline of a stalled write.
pub(crate) struct Socket {
    stream: TcpStream,
    stall_limit: Duration,
    /// Armed when a write could not proceed; disarmed by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
    _slot: OwnedSemaphorePermit,
}

impl Socket {
    pub(crate) fn new(
        stream: TcpStream,
        slot: OwnedSemaphorePermit,
        stall_limit: Duration,
    ) -> Self {
        Self { stream, stall_limit, stalled: None, _slot: slot }
    }

    /// `attempt` as it came, unless it is one more `Pending` of a write
    /// that has made no progress for the stall limit: that one fails.
    fn unless_stalled<T>(
        &mut self,
        cx: &mut Context<'_>,
        attempt: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if attempt.is_ready() {
            self.stalled = None;
            return attempt;
        }
        let limit = self.stall_limit;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer read nothing for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let attempt = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.unless_stalled(cx, attempt)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let attempt = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.unless_stalled(cx, attempt)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let attempt = Pin::new(&mut this.stream).poll_flush(cx);
        this.unless_stalled(cx, attempt)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let attempt = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.unless_stalled(cx, attempt)
    }
}
