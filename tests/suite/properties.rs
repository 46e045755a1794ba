//! Property tests of the core: ≥ 10,000 cases for each property.

use proptest::prelude::*;
use tokenkeep::hash::TokenHasher;
use tokenkeep::scope::{Ability, RoutePath};
use tokenkeep::token::{TokenFormat, parse_any};
use tokenkeep::{Access, Expiry, Prefix, Requirement, Route, Scopes};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(10_000)
}

proptest! {
    #![proptest_config(config())]

    /// Every minted token parses back, with its format and without it.
    #[test]
    fn mint_then_parse(prefix in "[A-Za-z0-9]{1,16}", bytes in 16usize..=64) {
        let format = TokenFormat::new(Prefix::new(&prefix).unwrap()).with_secret_bytes(bytes).unwrap();
        let minted = format.mint(&TokenHasher::sha256()).unwrap();
        let text = minted.secret.expose_secret();
        let parsed = format.parse(text).unwrap();
        prop_assert_eq!(parsed.prefix(), prefix.as_str());
        prop_assert_eq!(parse_any(text).unwrap(), parsed);
        prop_assert_eq!(text.len(), format.token_len());
    }

    /// Any one-character change (to any character at all) is rejected.
    #[test]
    fn any_one_character_change_is_rejected(position in 0usize..41, replacement in any::<char>()) {
        let format = TokenFormat::new(Prefix::new("tk").unwrap());
        let minted = format.mint(&TokenHasher::sha256()).unwrap();
        let original: Vec<char> = minted.secret.expose_secret().chars().collect();
        prop_assume!(original[position] != replacement);
        let mut changed = original.clone();
        changed[position] = replacement;
        let changed: String = changed.into_iter().collect();
        prop_assert!(format.parse(&changed).is_err());
        prop_assert!(parse_any(&changed).is_err());
    }
}

/// A path segment as meant, rendered in one of several spellings.
#[derive(Clone, Debug)]
enum Piece {
    Name(&'static str),
    Dot,
    DotDot,
    Empty,
    /// A name with an encoded separator inside: must be refused.
    HiddenSeparator,
}

const NAMES: &[&str] = &[
    "releases",
    "Releases",
    "RELEASES",
    "releases-private",
    "release",
    "snapshots",
    "\u{ff52}\u{ff45}\u{ff4c}\u{ff45}\u{ff41}\u{ff53}\u{ff45}\u{ff53}",
    "releases\u{200b}",
    "caf\u{e9}",
    "cafe\u{301}",
    "a b",
    "%",
];

fn piece() -> impl Strategy<Value = (Piece, u8)> {
    let piece = prop_oneof![
        4 => (0..NAMES.len()).prop_map(|i| Piece::Name(NAMES[i])),
        1 => Just(Piece::Dot),
        2 => Just(Piece::DotDot),
        1 => Just(Piece::Empty),
        1 => Just(Piece::HiddenSeparator),
    ];
    (piece, any::<u8>())
}

/// Renders a piece; `spelling` picks among equivalent forms.
fn render(piece: &Piece, spelling: u8) -> String {
    match piece {
        Piece::Name(name) if spelling.is_multiple_of(2) => (*name).to_owned(),
        Piece::Name(name) => {
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        }
        Piece::Dot => [".", "%2e", "%2E"][usize::from(spelling % 3)].to_owned(),
        Piece::DotDot => ["..", "%2e%2e", "%2E.", ".%2e"][usize::from(spelling % 4)].to_owned(),
        Piece::Empty => String::new(),
        Piece::HiddenSeparator => {
            ["a%2Fb", "a%2fb", "..%2f..", "a%5Cb", "%2F"][usize::from(spelling % 5)].to_owned()
        }
    }
}

/// What the pieces must normalise to, or `None` if they must be refused.
fn model(pieces: &[(Piece, u8)]) -> Option<Vec<String>> {
    let mut segments: Vec<String> = Vec::new();
    for (piece, _) in pieces {
        match piece {
            // Canonical form: a literal `%` is written `%25`.
            Piece::Name(name) => segments.push(name.replace('%', "%25")),
            Piece::Dot | Piece::Empty => {}
            Piece::DotDot => {
                segments.pop()?;
            }
            Piece::HiddenSeparator => return None,
        }
    }
    Some(segments)
}

fn raw(pieces: &[(Piece, u8)]) -> String {
    let rendered: Vec<String> =
        pieces.iter().map(|(piece, spelling)| render(piece, *spelling)).collect();
    format!("/{}", rendered.join("/"))
}

proptest! {
    #![proptest_config(config())]

    /// Normalisation agrees with the model, whatever the spelling.
    #[test]
    fn paths_normalise_as_meant(pieces in prop::collection::vec(piece(), 0..8)) {
        let parsed = RoutePath::parse(&raw(&pieces));
        match model(&pieces) {
            None => prop_assert!(parsed.is_err(), "{} was accepted", raw(&pieces)),
            Some(segments) => {
                let parsed = parsed.unwrap();
                prop_assert_eq!(parsed.segments().collect::<Vec<_>>(), segments);
            }
        }
    }

    /// A route grants exactly the paths whose meaning lies at or below it:
    /// no `..`, `//`, `%2F`, case or Unicode trick reaches outside.
    #[test]
    fn routes_never_grant_outside(
        route in prop::collection::vec((0..4usize).prop_map(|i| NAMES[i]), 1..3),
        request in prop::collection::vec(piece(), 0..8),
        write in any::<bool>(),
    ) {
        let route_path = format!("/{}", route.join("/"));
        let access = if write { Access::WRITE } else { Access::READ };
        let scopes = Scopes { routes: vec![Route::new(&route_path, access).unwrap()], ..Scopes::default() };
        let Ok(path) = RoutePath::parse(&raw(&request)) else {
            prop_assert!(model(&request).is_none());
            return Ok(());
        };
        let meant = model(&request).unwrap();
        let inside = meant.len() >= route.len() && meant.iter().zip(&route).all(|(a, b)| a == &b.replace('%', "%25"));
        let asked = if write { Requirement::Write(&path) } else { Requirement::Read(&path) };
        prop_assert_eq!(scopes.satisfies(&asked), inside, "{} under {}", raw(&request), route_path);
        let other = if write { Requirement::Read(&path) } else { Requirement::Write(&path) };
        prop_assert!(!scopes.satisfies(&other), "access of the other kind was granted");
    }

    /// Scopes grant nothing beyond what they list.
    #[test]
    fn scopes_grant_only_what_they_list(
        manager in any::<bool>(),
        abilities in prop::collection::vec(prop_oneof!["deploy", "read", "\\*", "catalog:read"], 0..3),
        routes in prop::collection::vec(((0..4usize).prop_map(|i| NAMES[i]), any::<bool>(), any::<bool>()), 0..3),
        wanted in prop_oneof!["deploy", "read", "admin", "catalog:write"],
        request in prop::collection::vec((0..6usize).prop_map(|i| NAMES[i]), 0..4),
    ) {
        let routes: Vec<Route> = routes
            .iter()
            .filter(|(_, read, write)| *read || *write)
            .map(|(name, read, write)| {
                let access = match (read, write) { (true, true) => Access::READ_WRITE, (true, false) => Access::READ, _ => Access::WRITE };
                Route::new(&format!("/{name}"), access).unwrap()
            })
            .collect();
        let scopes = Scopes {
            manager,
            abilities: abilities.iter().map(|a| Ability::new(a.as_str()).unwrap()).collect(),
            routes: routes.clone(),
        };
        let ability_granted = manager || abilities.iter().any(|a| a == "*" || *a == wanted);
        prop_assert_eq!(scopes.satisfies(&Requirement::Ability(&wanted)), ability_granted);
        prop_assert_eq!(scopes.satisfies(&Requirement::Manager), manager);
        let path = RoutePath::parse(&format!("/{}", request.join("/"))).unwrap();
        let covered = |access: Access| routes.iter().any(|route| {
            route.access.contains(access)
                && route.path.segments().zip(path.segments()).filter(|(a, b)| a == b).count() == route.path.segments().count()
                && path.segments().count() >= route.path.segments().count()
        });
        prop_assert_eq!(scopes.satisfies(&Requirement::Read(&path)), manager || covered(Access::READ));
        prop_assert_eq!(scopes.satisfies(&Requirement::Write(&path)), manager || covered(Access::WRITE));
    }
}

proptest! {
    #![proptest_config(config())]

    /// exp − 1 s verifies; exp and exp + 1 s do not.
    #[test]
    fn expiry_boundary_holds(start in -1_000_000_000i64..4_000_000_000, lifetime in 1i64..=3_153_600_000) {
        let start = tokenkeep::time::OffsetDateTime::from_unix_timestamp(start).unwrap();
        let lifetime = tokenkeep::time::Duration::seconds(lifetime);
        let expires = Expiry::After(lifetime).expires_at(start).unwrap().unwrap();
        let record_at = |now: tokenkeep::time::OffsetDateTime| {
            let mut record = crate::support::fresh_record("boundary");
            record.expires_at = Some(expires);
            record.is_expired(now)
        };
        let second = tokenkeep::time::Duration::SECOND;
        prop_assert!(!record_at(expires - second));
        prop_assert!(record_at(expires));
        prop_assert!(record_at(expires + second));
    }
}

/// The verification path agrees with the record at the boundary too.
#[cfg(feature = "management")]
#[tokio::test]
async fn the_service_refuses_at_expiry_exactly() {
    use tokenkeep::TokenManager;
    use tokenkeep::expiry::ManualClock;
    use tokenkeep::store::MemoryStore;

    use crate::support::Calls as _;

    let clock = ManualClock::new(crate::support::t0());
    let service =
        TokenManager::builder(std::sync::Arc::new(MemoryStore::new()), Prefix::new("tk").unwrap())
            .clock(clock.clone())
            .build()
            .unwrap();
    let lifetime = tokenkeep::time::Duration::seconds(90);
    let issued = service
        .issue(
            &tokenkeep::Actor::Admin,
            tokenkeep::IssueRequest::new("a", "b").expires(Expiry::After(lifetime)),
        )
        .await
        .unwrap();
    let token = issued.token.expose_secret();
    clock.set(crate::support::t0() + lifetime - tokenkeep::time::Duration::SECOND);
    assert!(service.verifies_text(token).await);
    clock.set(crate::support::t0() + lifetime);
    assert!(!service.verifies_text(token).await);
}

/// The expiry property again in child processes under other time zones:
/// nothing may depend on the host's zone.
#[test]
fn expiry_holds_under_several_time_zones() {
    if std::env::var_os("TOKENKEEP_TZ_CHILD").is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // The test's name as the harness knows it: its path inside the binary.
    let property = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::expiry_boundary_holds"),
        None => "expiry_boundary_holds".to_owned(),
    };
    for zone in
        ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati", "Europe/Berlin"]
    {
        let status = std::process::Command::new(&exe)
            .args(["--exact", property.as_str(), "--quiet"])
            .env("TZ", zone)
            .env("TOKENKEEP_TZ_CHILD", "1")
            .env("PROPTEST_CASES", "2000")
            .status()
            .unwrap();
        assert!(status.success(), "the expiry property failed under TZ={zone}");
    }
}
