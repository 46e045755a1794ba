//! Route normalisation and matching: never panics; normalising is
//! idempotent; a route covers only paths at or below it, on segment
//! boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeep::scope::RoutePath;
use tokenkeep::{Access, Requirement, Route, Scopes};

fuzz_target!(|input: (&str, &str)| {
    let (route, request) = input;
    let Ok(route) = Route::new(route, Access::READ) else {
        return;
    };
    let Ok(path) = RoutePath::parse(request) else {
        return;
    };
    assert_eq!(
        RoutePath::parse(path.as_str()).as_ref(),
        Ok(&path),
        "normalising is idempotent"
    );
    assert_eq!(
        RoutePath::parse(route.path.as_str()).as_ref(),
        Ok(&route.path)
    );
    let scopes = Scopes {
        routes: vec![route.clone()],
        ..Scopes::default()
    };
    if scopes.satisfies(&Requirement::Read(&path)) {
        let inside: Vec<&str> = route.path.segments().collect();
        let asked: Vec<&str> = path.segments().take(inside.len()).collect();
        assert_eq!(inside, asked, "granted outside the route");
    }
    assert!(
        !scopes.satisfies(&Requirement::Write(&path)),
        "write was never granted"
    );
});
