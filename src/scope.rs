//! What a token may do: `manager`, abilities, routes; and what a handler
//! requires of it.
//!
//! ```
//! use tokenkeep::scope::RoutePath;
//! use tokenkeep::{Access, Requirement, Route, Scopes};
//!
//! let scopes = Scopes {
//!     routes: vec![Route::new("/releases", Access::READ)?],
//!     ..Scopes::default()
//! };
//! let inside = RoutePath::parse("/releases/1.0/app.jar")?;
//! let beside = RoutePath::parse("/releases-private/key")?;
//! assert!(scopes.satisfies(&Requirement::Read(&inside)));
//! assert!(!scopes.satisfies(&Requirement::Read(&beside)));
//! assert!(!scopes.satisfies(&Requirement::Write(&inside)));
//! # Ok::<(), tokenkeep::scope::ScopeError>(())
//! ```

mod error;
mod route_path;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use route_path::RoutePath;

pub use error::ScopeError;

/// Everything a token is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    /// Full access to every route and requirement, and to every owner's
    /// tokens (Reposilite's `m`).
    #[serde(default)]
    pub manager: bool,
    /// Application-defined abilities such as `deploy` or `catalog:read`;
    /// `*` grants every ability.
    #[serde(default)]
    pub abilities: Vec<Ability>,
    /// Paths, each with read and/or write access to itself and below.
    #[serde(default)]
    pub routes: Vec<Route>,
}

impl Scopes {
    /// Scopes of a manager token.
    pub fn manager() -> Self {
        Self { manager: true, ..Self::default() }
    }

    /// Whether these scopes meet `requirement`. A manager meets every one.
    pub fn satisfies(&self, requirement: &Requirement<'_>) -> bool {
        if self.manager {
            return true;
        }
        match requirement {
            Requirement::None => true,
            Requirement::Manager => false,
            Requirement::Ability(wanted) => {
                self.abilities.iter().any(|ability| ability.0 == "*" || ability.0 == *wanted)
            }
            Requirement::Read(path) => self.grants(path, Access::READ),
            Requirement::Write(path) => self.grants(path, Access::WRITE),
        }
    }

    fn grants(&self, path: &RoutePath, access: Access) -> bool {
        self.routes.iter().any(|route| route.access.contains(access) && route.path.covers(path))
    }
}

/// An application-defined permission: 1–64 printable ASCII characters
/// without space, `"` or `\` (so it can appear in a `scope=` challenge).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ability(String);

impl Ability {
    /// The longest ability name.
    pub const MAX_LEN: usize = 64;

    /// Checks and wraps an ability name.
    ///
    /// # Errors
    /// [`ScopeError::Ability`] for an empty, long or unprintable name.
    pub fn new(name: impl Into<String>) -> Result<Self, ScopeError> {
        let name = name.into();
        let printable = name.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
        if name.is_empty() || name.len() > Ability::MAX_LEN || !printable {
            return Err(ScopeError::Ability);
        }
        Ok(Self(name))
    }

    /// The ability's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ability {
    type Error = ScopeError;
    fn try_from(name: String) -> Result<Self, ScopeError> {
        Self::new(name)
    }
}

impl From<Ability> for String {
    fn from(ability: Ability) -> Self {
        ability.0
    }
}

/// Read and/or write; never neither. Write does not imply read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Access {
    read: bool,
    write: bool,
}

impl Access {
    /// Read only (`r`).
    pub const READ: Self = Self { read: true, write: false };
    /// Write only (`w`).
    pub const WRITE: Self = Self { read: false, write: true };
    /// Both (`rw`).
    pub const READ_WRITE: Self = Self { read: true, write: true };

    /// Reads `r`, `w`, `rw` or `wr`.
    ///
    /// # Errors
    /// [`ScopeError::Access`] for anything else.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        match text {
            "r" => Ok(Self::READ),
            "w" => Ok(Self::WRITE),
            "rw" | "wr" => Ok(Self::READ_WRITE),
            _ => Err(ScopeError::Access),
        }
    }

    /// Whether read is granted.
    pub const fn read(self) -> bool {
        self.read
    }

    /// Whether write is granted.
    pub const fn write(self) -> bool {
        self.write
    }

    /// Whether everything in `other` is granted here.
    pub const fn contains(self, other: Self) -> bool {
        (self.read || !other.read) && (self.write || !other.write)
    }

    /// `r`, `w` or `rw`.
    pub const fn as_str(self) -> &'static str {
        match (self.read, self.write) {
            (true, true) => "rw",
            (false, true) => "w",
            _ => "r",
        }
    }
}

impl TryFrom<String> for Access {
    type Error = ScopeError;
    fn try_from(text: String) -> Result<Self, ScopeError> {
        Self::parse(&text)
    }
}

impl From<Access> for String {
    fn from(access: Access) -> Self {
        access.as_str().to_owned()
    }
}

/// A path and the access granted to it and everything below it, on segment
/// boundaries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The normalised path.
    pub path: RoutePath,
    /// What may be done there.
    pub access: Access,
}

impl Route {
    /// A route from a raw path, normalised.
    ///
    /// # Errors
    /// As [`RoutePath::parse`].
    pub fn new(path: &str, access: Access) -> Result<Self, ScopeError> {
        Ok(Self { path: RoutePath::parse(path)?, access })
    }

    /// Reads `PATH:ACCESS` as the command line writes it (`/releases:rw`).
    ///
    /// # Errors
    /// [`ScopeError`] for a missing or bad access, or a bad path.
    pub fn parse_spec(spec: &str) -> Result<Self, ScopeError> {
        let (path, access) = spec.rsplit_once(':').ok_or(ScopeError::Access)?;
        Self::new(path, Access::parse(access)?)
    }
}

/// What a handler needs from the token presented to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement<'a> {
    /// Any valid token.
    None,
    /// The `manager` permission.
    Manager,
    /// An application-defined ability (`*` in the token grants it).
    Ability(&'a str),
    /// Read access to this (normalised) path.
    Read(&'a RoutePath),
    /// Write access to this (normalised) path.
    Write(&'a RoutePath),
}

impl fmt::Display for Requirement<'_> {
    /// The scope an `insufficient_scope` challenge names: `manager`, the
    /// ability, `read:/path` or `write:/path`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Manager => f.write_str("manager"),
            Self::Ability(ability) => f.write_str(ability),
            Self::Read(path) => write!(f, "read:{}", path.as_str()),
            Self::Write(path) => write!(f, "write:{}", path.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_reads_writes_and_names_itself() {
        for (text, access, read, write) in [
            ("r", Access::READ, true, false),
            ("w", Access::WRITE, false, true),
            ("rw", Access::READ_WRITE, true, true),
        ] {
            assert_eq!(Access::parse(text), Ok(access), "{text}");
            assert_eq!((access.read(), access.write()), (read, write), "{text}");
            assert_eq!(access.as_str(), text);
        }
        assert_eq!(Access::parse("x"), Err(ScopeError::Access));
        assert_eq!(Ability::new("deploy").unwrap().as_str(), "deploy");
    }

    fn path(text: &str) -> RoutePath {
        RoutePath::parse(text).unwrap()
    }

    fn routes(list: &[(&str, Access)]) -> Scopes {
        Scopes {
            routes: list.iter().map(|(p, a)| Route::new(p, *a).unwrap()).collect(),
            ..Scopes::default()
        }
    }

    #[test]
    fn routes_grant_on_segment_boundaries() {
        let scopes = routes(&[("/releases", Access::READ)]);
        for inside in ["/releases", "/releases/", "/releases/a", "/releases/a/b"] {
            assert!(scopes.satisfies(&Requirement::Read(&path(inside))), "{inside}");
        }
        for outside in ["/releases-private", "/releasesx/a", "/", "/other", "/Releases"] {
            assert!(!scopes.satisfies(&Requirement::Read(&path(outside))), "{outside}");
        }
    }

    #[test]
    fn write_does_not_imply_read() {
        let scopes = routes(&[("/w", Access::WRITE), ("/r", Access::READ)]);
        assert!(scopes.satisfies(&Requirement::Write(&path("/w/x"))));
        assert!(!scopes.satisfies(&Requirement::Read(&path("/w/x"))));
        assert!(scopes.satisfies(&Requirement::Read(&path("/r/x"))));
        assert!(!scopes.satisfies(&Requirement::Write(&path("/r/x"))));
        let both = routes(&[("/rw", Access::READ_WRITE)]);
        assert!(both.satisfies(&Requirement::Read(&path("/rw"))));
        assert!(both.satisfies(&Requirement::Write(&path("/rw"))));
    }

    #[test]
    fn escapes_are_resolved_before_matching() {
        let scopes = routes(&[("/releases", Access::READ)]);
        // `..` is resolved, so this is /private, outside the route.
        let climbed = path("/releases/../private");
        assert_eq!(climbed.as_str(), "/private");
        assert!(!scopes.satisfies(&Requirement::Read(&climbed)));
        let encoded = path("/releases/%2e%2e/private");
        assert!(!scopes.satisfies(&Requirement::Read(&encoded)));
        assert!(RoutePath::parse("/releases%2F..%2Fprivate").is_err());
        assert!(RoutePath::parse("/releases/..%2fprivate").is_err());
        assert!(RoutePath::parse("/../releases").is_err());
        assert!(scopes.satisfies(&Requirement::Read(&path("//releases//a"))));
    }

    #[test]
    fn the_root_route_covers_everything() {
        let scopes = routes(&[("/", Access::READ)]);
        assert!(scopes.satisfies(&Requirement::Read(&path("/any/thing"))));
    }

    #[test]
    fn abilities_match_exactly_or_by_star() {
        let scopes =
            Scopes { abilities: vec![Ability::new("deploy").unwrap()], ..Scopes::default() };
        assert!(scopes.satisfies(&Requirement::Ability("deploy")));
        assert!(!scopes.satisfies(&Requirement::Ability("deploy:prod")));
        assert!(!scopes.satisfies(&Requirement::Manager));
        let star = Scopes { abilities: vec![Ability::new("*").unwrap()], ..Scopes::default() };
        assert!(star.satisfies(&Requirement::Ability("anything")));
        assert!(!star.satisfies(&Requirement::Manager));
        assert!(!star.satisfies(&Requirement::Read(&path("/a"))));
    }

    #[test]
    fn a_manager_meets_every_requirement() {
        let manager = Scopes::manager();
        for requirement in [
            Requirement::None,
            Requirement::Manager,
            Requirement::Ability("x"),
            Requirement::Write(&path("/a")),
        ] {
            assert!(manager.satisfies(&requirement));
        }
        assert!(Scopes::default().satisfies(&Requirement::None));
    }

    #[test]
    fn bad_abilities_and_access_are_refused() {
        for bad in ["", "has space", "quo\"te", "back\\slash", &"a".repeat(65), "\u{e9}"] {
            assert_eq!(Ability::new(bad).unwrap_err(), ScopeError::Ability, "{bad}");
        }
        for bad in ["", "x", "rwx", "R"] {
            assert_eq!(Access::parse(bad).unwrap_err(), ScopeError::Access);
        }
        assert_eq!(Route::parse_spec("/a").unwrap_err(), ScopeError::Access);
        assert_eq!(
            Route::parse_spec("/a:rw").unwrap(),
            Route::new("/a", Access::READ_WRITE).unwrap()
        );
    }

    #[test]
    fn requirements_name_the_missing_scope() {
        let p = path("/releases/x");
        assert_eq!(Requirement::Write(&p).to_string(), "write:/releases/x");
        assert_eq!(Requirement::Read(&p).to_string(), "read:/releases/x");
        assert_eq!(Requirement::Manager.to_string(), "manager");
        assert_eq!(Requirement::Ability("deploy").to_string(), "deploy");
    }

    #[test]
    fn scopes_serialise_as_the_server_contract_says() {
        let scopes = Scopes {
            manager: false,
            abilities: vec![Ability::new("deploy").unwrap()],
            routes: vec![Route::new("releases", Access::READ_WRITE).unwrap()],
        };
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(
            json,
            r#"{"manager":false,"abilities":["deploy"],"routes":[{"path":"/releases","access":"rw"}]}"#
        );
        assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), scopes);
        let escaping = r#"{"routes":[{"path":"/../etc","access":"r"}]}"#;
        assert!(serde_json::from_str::<Scopes>(escaping).is_err());
        assert!(
            serde_json::from_str::<Scopes>(r#"{"routes":[{"path":"/a","access":"x"}]}"#).is_err()
        );
    }
}
