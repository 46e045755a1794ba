//! The library's tests, one binary: a module per area, the shared
//! set-up in `support`. (One binary links the crate once; thirty linked it
//! thirty times.)
//!
//! Run one area with its module name: `cargo test --all-features --test
//! suite verify::`.
// The helpers are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

mod allowed_ips;
mod client;
mod conformance_catches;
mod faults;
mod import;
mod integration_actix;
mod integration_axum;
mod integration_tonic;
mod introspection;
mod last_used;
mod lifetime;
mod manage;
mod metadata;
mod move_between_stores;
mod mysql;
mod pipeline;
mod postgres;
mod properties;
mod races;
mod rate_limit;
mod read_only_store;
mod reuse;
mod secrets;
mod setup;
mod shared_rate_limit;
mod sqlite;
mod unauthenticated_work;
mod usage;
mod verify;
mod verify_only;
