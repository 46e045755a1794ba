//! The client's address, for a token's address allow-list.

use std::net::IpAddr;

use crate::record::IpNet;

/// The client's address for an address allow-list: the peer's, unless the
/// peer is one of the application's `trusted` proxies; then the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy (the one the
/// nearest untrusted hop added, which a client cannot forge).
///
/// `forwarded_for` is every `X-Forwarded-For` line of the request, in the
/// order received: a proxy that adds a line of its own instead of
/// appending to the client's is read the same way, as one list. A header
/// from an untrusted peer is ignored. Anything unreadable (a line that is
/// not visible ASCII, an entry on the walk that is not an address) gives
/// no address, so an allow-listed token is refused: never the proxy's own
/// address in the client's place.
///
/// ```
/// use tokenkeep::http::client_address;
/// let proxy: tokenkeep::record::IpNet = "10.0.0.0/8".parse()?;
/// let peer = Some("10.0.0.2".parse()?);
/// let forwarded: &[&[u8]] = &[b"203.0.113.9, 198.51.100.7"];
/// assert_eq!(client_address(peer, forwarded, &[proxy]), Some("198.51.100.7".parse()?));
/// // The client's own line first, the proxy's after it: still one list.
/// let two_lines: &[&[u8]] = &[b"10.9.9.9", b"203.0.113.5"];
/// assert_eq!(client_address(peer, two_lines, &[proxy]), Some("203.0.113.5".parse()?));
/// // Unreadable: no address, not the proxy's.
/// assert_eq!(client_address(peer, &[b"\x80, 203.0.113.5"], &[proxy]), None);
/// // The same header from a peer that is no proxy of ours means nothing.
/// let stranger = Some("192.0.2.1".parse()?);
/// assert_eq!(client_address(stranger, forwarded, &[proxy]), stranger);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&[u8]],
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    let peer = peer?;
    if !is_trusted(&peer) || forwarded_for.is_empty() {
        return Some(peer);
    }
    let lines =
        forwarded_for.iter().map(|line| visible_ascii(line)).collect::<Option<Vec<&str>>>()?;
    let hop = |entry: &str| entry.trim_matches([' ', '\t']).parse::<IpAddr>().ok();
    for entry in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        let address = hop(entry)?;
        if !is_trusted(&address) {
            return Some(address);
        }
    }
    // Every hop is one of ours: the left-most is as near the client as
    // the header goes.
    hop(lines.first()?.split(',').next()?)
}

/// The text of a header value whose bytes are all visible ASCII (or
/// tabs), as `http`'s `HeaderValue::to_str` accepts; `None` otherwise.
pub(super) fn visible_ascii(value: &[u8]) -> Option<&str> {
    let visible = value.iter().all(|&byte| byte == b'\t' || (0x20..0x7f).contains(&byte));
    if visible { std::str::from_utf8(value).ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn every_line_is_read_as_one_list_right_to_left() {
        let proxies = [net("10.0.0.0/8")];
        let peer = ip("10.0.0.2");
        // A proxy that adds its own line: the client's spoofed first line
        // does not win.
        let lines: &[&[u8]] = &[b"10.9.9.9", b"203.0.113.5"];
        assert_eq!(client_address(peer, lines, &proxies), ip("203.0.113.5"));
        // Trusted hops are skipped across lines too.
        let lines: &[&[u8]] = &[b"198.51.100.1, 10.0.0.7", b"10.0.0.8"];
        assert_eq!(client_address(peer, lines, &proxies), ip("198.51.100.1"));
        // Every hop ours: the left-most of the first line.
        let lines: &[&[u8]] = &[b"10.1.1.1 , 10.0.0.7", b"10.0.0.8"];
        assert_eq!(client_address(peer, lines, &proxies), ip("10.1.1.1"));
        // No header: the peer itself.
        assert_eq!(client_address(peer, &[], &proxies), peer);
    }

    #[test]
    fn header_text_is_visible_ascii_and_tabs_only() {
        assert_eq!(visible_ascii(b"a\tb c"), Some("a\tb c"));
        for refused in [&b"a\x01b"[..], b"\x7f", b"\x80", b"\n"] {
            assert_eq!(visible_ascii(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn anything_unreadable_gives_no_address_never_the_proxys() {
        let proxies = [net("10.0.0.0/8")];
        let peer = ip("10.0.0.2");
        let cases: [&[&[u8]]; 5] = [
            &[b"\x80, 203.0.113.5"],
            &[b"203.0.113.5", b"\xff"],
            &[b"203.0.113.5, nonsense"],
            &[b""],
            &[b"203.0.113.5,"],
        ];
        for lines in cases {
            assert_eq!(client_address(peer, lines, &proxies), None, "{lines:?}");
        }
        // Without a peer there is nothing to go on.
        assert_eq!(client_address(None, &[b"203.0.113.5"], &proxies), None);
    }
}
