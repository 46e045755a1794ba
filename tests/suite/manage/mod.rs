//! Token management through the service, one file per area: the cap,
//! policy and input, a token's lifecycle, rotation, temporary tokens.
#![cfg(feature = "management")]

mod cap;
mod lifecycle;
mod policy;
mod rotation;
mod temporary;

use std::sync::Arc;

use crate::support::{builder, service, verifies};
use tokenkeep::record::TokenStatus;
use tokenkeep::rules::Refusal;
use tokenkeep::store::{MemoryStore, StoreError};
use tokenkeep::time::Duration;
use tokenkeep::{
    Actor, AuthError, Expiry, IssueRequest, ManageError, Prefix, Requirement, Scopes,
    TemporaryToken, TokenManager, TokenRef, TokenUpdate,
};

fn alice() -> Actor {
    Actor::User("alice".into())
}
