//! The reference server end to end: a separate process on a free port,
//! driven by a real HTTP client and a real WebSocket client. One module per
//! area; `api` holds the requests and the claimed-server fixture.
// The request helpers are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod api;
mod durability;
mod forged;
mod gateways;
mod hostile;
mod leak_reports;
mod mysql;
mod observe;
mod operator;
mod owners;
mod postgres;
mod protocols;
mod routes;
mod scale;
mod setup;
mod tokens;

/// What every area module uses.
mod prelude {
    pub(crate) use std::time::Duration;

    pub(crate) use futures_util::{SinkExt, StreamExt};
    pub(crate) use reqwest::{Client, Method, Response, StatusCode};
    pub(crate) use serde_json::{Value, json};

    pub(crate) use super::api::*;
    pub(crate) use super::support;
    pub(crate) use super::support::server::{
        SETUP_TOKEN, Server, client_command, raw_request, token_command,
    };
}
