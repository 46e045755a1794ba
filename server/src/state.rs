//! What every handler reads: the token manager, where the file area
//! lives, and the open WebSockets.

use std::path::PathBuf;

use axum::extract::FromRef;
use tokenkeep::{TokenManager, TokenService};

use crate::ws;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) service: TokenManager,
    /// Where `/files/…` lives.
    pub(crate) files_dir: PathBuf,
    /// The open WebSockets, counted per token.
    pub(crate) sockets: ws::Sockets,
}

impl FromRef<AppState> for TokenService {
    fn from_ref(state: &AppState) -> Self {
        state.service.service().clone()
    }
}

impl FromRef<AppState> for ws::Sockets {
    fn from_ref(state: &AppState) -> Self {
        state.sockets.clone()
    }
}
