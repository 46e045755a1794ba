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
    pub(super) cost: std::num::NonZeroU32,
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
            cost: std::num::NonZeroU32::MIN,
        }
    }

    /// Every `Authorization` header value the request carries, as bytes.
    #[must_use]
    pub fn authorization(mut self, values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut values = values.into_iter();
        self.authorization = HeaderValues { first: values.next(), more: values.next().is_some() };
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

    /// Both headers the pipeline reads, `Authorization` and
    /// `X-Forwarded-For`, through `values`: every value of the header
    /// with this (lower-case) name, as a framework's header map gives them.
    ///
    /// ```
    /// use tokenkeep::http::RequestFacts;
    /// let headers = [("authorization", &b"Bearer tk_..."[..])];
    /// let facts = RequestFacts::new("GET", "/").headers(|name| {
    ///     headers.iter().filter(move |(key, _)| *key == name).map(|(_, value)| *value)
    /// });
    /// # let _ = facts;
    /// ```
    #[must_use]
    pub fn headers<I>(self, values: impl Fn(&'static str) -> I) -> Self
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        self.authorization(values("authorization")).forwarded_for(values("x-forwarded-for"))
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

    /// What the request costs the token: this many of its uses (and of its
    /// rate limit) at once, when it passes; 1 unless set. A token with
    /// fewer uses left is refused and spends nothing.
    #[must_use]
    pub fn cost(mut self, cost: std::num::NonZeroU32) -> Self {
        self.cost = cost;
        self
    }

    /// The client's address as the pipeline judges it: the peer's, or the
    /// forwarded one behind `service`'s trusted proxies
    /// ([`client_address`](super::client_address)). For a limit per
    /// address on an endpoint that verifies no token.
    pub fn client(&self, service: &crate::TokenService) -> Option<IpAddr> {
        super::client_address(self.peer, &self.forwarded_for, service.trusted_proxies())
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

/// Requests in the `http` crate's types: what axum, tonic and every tower
/// server hand an adapter.
#[cfg(any(feature = "axum", feature = "tonic"))]
impl<'a> RequestFacts<'a> {
    /// The method, the path and the headers of `parts`.
    pub(crate) fn of_parts(parts: &'a http::request::Parts) -> Self {
        Self::new(parts.method.as_str(), parts.uri.path()).headers(|name| {
            let values = parts.headers.get_all(name).into_iter();
            values.map(http::HeaderValue::as_bytes)
        })
    }
}

/// Marks every `Authorization` value of a request sensitive: `http`'s
/// `Debug`, and the tracing layers that honour it, never print it.
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) fn hide_credentials(headers: &mut http::HeaderMap) {
    if let http::header::Entry::Occupied(mut values) = headers.entry(http::header::AUTHORIZATION) {
        values.iter_mut().for_each(|value| value.set_sensitive(true));
    }
}

impl fmt::Debug for RequestFacts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { "[redacted]" } else { "none" };
        f.debug_struct("RequestFacts")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("authorization", &redacted(self.authorization.first.is_some()))
            .field("query", &self.query.map(|query| redacted(query.is_some())))
            .field("peer", &self.peer)
            .field("forwarded_for_lines", &self.forwarded_for.len())
            .field("verified", &self.verified.map(Authenticated::token_id))
            .field("cost", &self.cost)
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
