//! Normalised paths: the only form in which routes are compared.

use serde::{Deserialize, Serialize};

use super::ScopeError;

/// A path after normalisation: percent-decoded segment by segment, empty
/// segments and `.` dropped, `..` resolved, always starting with `/` and
/// never ending with one (except the root itself). A literal `%` is written
/// `%25`, so the normalised text is canonical: parsing it again gives it
/// back unchanged.
///
/// A decoded segment that holds `/`, `\` or a control character is refused
/// (an encoded slash could otherwise hide a `..`), and so is a `..` that
/// would climb above the root. Comparison is byte-wise: case-sensitive, and
/// Unicode is not normalised, so look-alike characters never match each
/// other. Serve files by this normalised form, never by the raw one, so that
/// what is checked is what is served.
///
/// ```
/// use tokenkeep::scope::RoutePath;
/// assert_eq!(RoutePath::parse("releases//a/./b/../c%20d")?.as_str(), "/releases/a/c d");
/// assert!(RoutePath::parse("/a/%2F..%2F/b").is_err());
/// # Ok::<(), tokenkeep::scope::ScopeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoutePath(String);

impl RoutePath {
    /// The longest raw path accepted.
    pub const MAX_LEN: usize = 2048;

    /// Normalises a raw path (as a URL carries it, or as an operator typed it).
    ///
    /// # Errors
    /// [`ScopeError::Path`] for an over-long path, invalid UTF-8 after
    /// decoding, a forbidden character in a segment, or an escape above the root.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        if raw.len() > RoutePath::MAX_LEN {
            return Err(ScopeError::Path);
        }
        let mut segments: Vec<String> = Vec::new();
        for segment in raw.split('/').filter(|s| !s.is_empty()) {
            let decoded = percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| ScopeError::Path)?;
            if decoded.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
                return Err(ScopeError::Path);
            }
            match &*decoded {
                "" | "." => {}
                ".." => {
                    segments.pop().ok_or(ScopeError::Path)?;
                }
                // A literal `%` stays encoded, so the normalised text parses
                // back to itself: stored routes keep their meaning when loaded.
                _ => segments.push(decoded.replace('%', "%25")),
            }
        }
        let normalised = format!("/{}", segments.join("/"));
        // The canonical form may be longer than the raw one (`%` → `%25`);
        // it must stay within the limit too, or it would not parse again.
        if normalised.len() > RoutePath::MAX_LEN {
            return Err(ScopeError::Path);
        }
        Ok(Self(normalised))
    }

    /// The root, `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, without the leading `/`; none for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// Whether `other` is this path or below it, on a segment boundary.
    pub fn covers(&self, other: &RoutePath) -> bool {
        self.0 == "/"
            || other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'/'))
    }
}

impl TryFrom<String> for RoutePath {
    type Error = ScopeError;
    fn try_from(raw: String) -> Result<Self, ScopeError> {
        Self::parse(&raw)
    }
}

impl From<RoutePath> for String {
    fn from(path: RoutePath) -> Self {
        path.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_limit_is_exact() {
        let longest = format!("/{}", "a".repeat(RoutePath::MAX_LEN - 1));
        assert_eq!(RoutePath::parse(&longest).map(|path| path.0.len()), Ok(RoutePath::MAX_LEN));
        let over = format!("/{}", "a".repeat(RoutePath::MAX_LEN));
        assert_eq!(RoutePath::parse(&over), Err(ScopeError::Path));
        // The raw text is bounded before any work, even when it would
        // normalise to something shorter.
        let raw_over = format!("//{}", "a".repeat(RoutePath::MAX_LEN - 1));
        assert_eq!(RoutePath::parse(&raw_over), Err(ScopeError::Path));
        let raw_fits = format!("//{}", "a".repeat(RoutePath::MAX_LEN - 2));
        assert!(RoutePath::parse(&raw_fits).is_ok());
        // The canonical form counts too: `%` becomes `%25`.
        let grows = format!("/{}%", "a".repeat(RoutePath::MAX_LEN - 2));
        assert_eq!(RoutePath::parse(&grows), Err(ScopeError::Path));
        let fits = format!("/{}%", "a".repeat(RoutePath::MAX_LEN - 4));
        assert_eq!(RoutePath::parse(&fits).map(|path| path.0.len()), Ok(RoutePath::MAX_LEN));
    }

    #[test]
    fn normalises() {
        for (raw, normal) in [
            ("", "/"),
            ("/", "/"),
            ("a", "/a"),
            ("/a/", "/a"),
            ("//a///b//", "/a/b"),
            ("/a/./b/.", "/a/b"),
            ("/a/b/..", "/a"),
            ("/a/%2e%2E/b", "/b"),
            ("/a/%252e%252e/b", "/a/%252e%252e/b"),
            ("/caf%C3%A9", "/caf\u{e9}"),
            ("/100%", "/100%25"),
            ("/a/%2541", "/a/%2541"),
            ("/e/%%%622", "/e/%25%25b2"),
        ] {
            assert_eq!(RoutePath::parse(raw).unwrap().as_str(), normal, "{raw}");
        }
    }

    #[test]
    fn normalising_is_idempotent() {
        // Found by the route_scope fuzz target: a literal `%` re-decoded.
        let long = format!("/{}", "%".repeat(1_000));
        assert!(RoutePath::parse(&long).is_err(), "its canonical form is over the limit");
        for raw in
            ["/e/%%%622", "/a/%2541", "/100%", "/%25%25", "r/./?/r3e%2e%2/e", &"%".repeat(600)]
        {
            let once = RoutePath::parse(raw).unwrap();
            assert_eq!(RoutePath::parse(once.as_str()).unwrap(), once, "{raw}");
        }
    }

    #[test]
    fn refuses_escapes_and_hidden_separators() {
        for raw in [
            "/..",
            "/a/../..",
            "/%2e%2e",
            "/a%2Fb",
            "/a%2fb",
            "/a%5Cb",
            "/a\\b",
            "/a%00b",
            "/a%0Ab",
            "/%C3%28",
            &"/a".repeat(1025),
        ] {
            assert_eq!(RoutePath::parse(raw).unwrap_err(), ScopeError::Path, "{raw}");
        }
    }

    #[test]
    fn covers_on_segment_boundaries_only() {
        let route = RoutePath::parse("/releases").unwrap();
        let p = |s| RoutePath::parse(s).unwrap();
        assert!(route.covers(&p("/releases")));
        assert!(route.covers(&p("/releases/x")));
        assert!(!route.covers(&p("/releases-private")));
        assert!(!route.covers(&p("/release")));
        assert!(RoutePath::root().covers(&p("/anything")));
        assert_eq!(p("/a/b").segments().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(RoutePath::root().segments().count(), 0);
    }
}
