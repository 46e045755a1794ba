//! Shared set-up for the server's tests: the server process, a browser,
//! and PostgreSQL schemas (the library tests' helper, shared by path).
#![allow(dead_code, unreachable_pub)]

pub mod browser;
pub mod server;
// The library's helper: its `feature = …` gates name the library's
// features, which this package does not have (the items the server's
// tests use are not gated).
#[path = "../../../tests/suite/support/sql.rs"]
#[allow(unexpected_cfgs)]
pub mod sql;
