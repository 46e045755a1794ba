//! The facts of one request that verification reads, as a framework
//! adapter fills them in.

use std::fmt;
use std::net::IpAddr;

use crate::service::Authenticated;

/// What the [pipeline](super::verify_request) knows of one request: every
/// framework adapter fills one in from its own request type and nothing
/// more, so the verification order cannot differ between frameworks.
///
/// ```
/// use tokenkeep::http::RequestFacts;
/// let facts = RequestFacts::new("GET", "/releases/a")
///     .authorization([&b"Bearer tk_..."[..]])
///     .peer(Some("192.0.2.7".parse()?))
///     .forwarded_for([&b"203.0.113.9"[..]]);
/// # let _ = facts;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its `Debug` never shows a credential.
#[derive(Clone)]
pub struct RequestFacts<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) authorization: HeaderValues<'a>,
    pub(super) query: Option<Option<&'a str>>,
    pub(super) peer: Option<IpAddr>,
    pub(super) forwarded_for: Vec<&'a [u8]>,
    pub(super) verified: Option<&'a Authenticated>,
}

/// The `Authorization` values: the first, and whether there were more
/// (two credentials are refused whatever they say).
#[derive(Clone, Copy, Default)]
pub(super) struct HeaderValues<'a> {
    pub(super) first: Option<&'a [u8]>,
    pub(super) more: bool,
}

impl<'a> RequestFacts<'a> {
    /// A request with this method and path: the path **as the router sees
    /// it** (inside a nested router or scope, without the prefix it
    /// consumed; see [`RouteRequirement`](super::RouteRequirement)). An
    /// empty path is `/`.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            authorization: HeaderValues::default(),
            query: None,
            peer: None,
            forwarded_for: Vec::new(),
            verified: None,
        }
    }

    /// Every `Authorization` header value the request carries, as bytes.
    #[must_use]
    pub fn authorization(mut self, values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut values = values.into_iter();
        self.authorization = HeaderValues {
            first: values.next(),
            more: values.next().is_some(),
        };
        self
    }

    /// The route takes its token from the `?token=` query parameter (a
    /// browser WebSocket cannot send headers): this is the request's query
    /// string. Weaker than a header, since query strings end up in logs and
    /// history; a request that also sends an `Authorization` header is
    /// refused (two credentials).
    #[must_use]
    pub fn token_in_query(mut self, query: Option<&'a str>) -> Self {
        self.query = Some(query);
        self
    }

    /// The address of the connection's peer, when the server knows it.
    #[must_use]
    pub fn peer(mut self, peer: Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Every `X-Forwarded-For` line, in the order received. Read only when
    /// the peer is one of the service's trusted proxies (see
    /// [`client_address`](super::client_address)).
    #[must_use]
    pub fn forwarded_for(mut self, lines: impl IntoIterator<Item = &'a [u8]>) -> Self {
        self.forwarded_for = lines.into_iter().collect();
        self
    }

    /// The verdict an outer layer already reached for this request: its
    /// credential is not verified again (and no second use is consumed);
    /// only the route's requirement is judged.
    #[must_use]
    pub fn verified(mut self, who: Option<&'a Authenticated>) -> Self {
        self.verified = who;
        self
    }
}

impl fmt::Debug for RequestFacts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { "[redacted]" } else { "none" };
        f.debug_struct("RequestFacts")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "authorization",
                &redacted(self.authorization.first.is_some()),
            )
            .field("query", &self.query.map(|query| redacted(query.is_some())))
            .field("peer", &self.peer)
            .field("forwarded_for_lines", &self.forwarded_for.len())
            .field("verified", &self.verified.map(Authenticated::token_id))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_credential() {
        let facts = RequestFacts::new("GET", "/ws")
            .authorization([&b"Bearer tk_secret"[..]])
            .token_in_query(Some("token=tk_other"));
        let shown = format!("{facts:?}");
        assert!(!shown.contains("tk_"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
