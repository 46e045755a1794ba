//! The route-scoped file area: `GET` needs read, `PUT` needs write, on the
//! file's path. The `RequireToken` layer has checked that already; files are
//! served by the same normalised path that was checked, and never through a
//! symbolic link (one planted inside `files/` could read `/etc` or write
//! into another route). What is written is private: 0700 and 0600.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use tokenkeep::axum::ApiError;
use tokenkeep::scope::RoutePath;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::private;
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "no such file")
}

/// The file's place on disk: the data directory's `files/` plus the
/// normalised segments, which cannot climb out of it; refused if any part
/// of the way, `files/` included, is a symbolic link.
fn locate(state: &AppState, uri: &Uri) -> Result<PathBuf, ApiError> {
    let path = RoutePath::parse(uri.path()).map_err(ApiError::invalid_path)?;
    if path.segments().next().is_none() {
        return Err(not_found());
    }
    let mut place = state.files_dir.clone();
    refuse_link(&place)?;
    for segment in path.segments() {
        place.push(segment);
        refuse_link(&place)?;
    }
    Ok(place)
}

/// A symbolic link is treated as if nothing were there to serve.
fn refuse_link(place: &Path) -> Result<(), ApiError> {
    match std::fs::symlink_metadata(place) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(not_found()),
        _ => Ok(()),
    }
}

pub(crate) async fn read(State(state): State<AppState>, uri: Uri) -> Result<Bytes, ApiError> {
    let file = locate(&state, &uri)?;
    match tokio::fs::read(&file).await {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        Err(_) => Err(not_found()),
    }
}

pub(crate) async fn write(
    State(state): State<AppState>,
    uri: Uri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let file = locate(&state, &uri)?;
    let failed = |_| ApiError::new(409, "CANNOT_WRITE", "the file cannot be written there");
    let written = tokio::task::spawn_blocking(move || {
        if let Some(directory) = file.parent() {
            private::directory(directory)?;
        }
        private::create_file(&file)?.write_all(&body)
    })
    .await
    .map_err(|_| failed(std::io::Error::other("the write did not finish")))?;
    written.map_err(failed)?;
    Ok(StatusCode::CREATED)
}
