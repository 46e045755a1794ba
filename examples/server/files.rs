//! The route-scoped file area: `GET` needs read, `PUT` needs write, on the
//! file's path. The `RequireToken` layer has checked that already; files are
//! served by the same normalised path that was checked.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use tokenkeep::axum::ApiError;
use tokenkeep::scope::RoutePath;

use crate::app::AppState;

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such file")
}

/// The file's place on disk: the data directory's `files/` plus the
/// normalised segments, which cannot climb out of it.
fn locate(state: &AppState, uri: &Uri) -> Result<std::path::PathBuf, ApiError> {
    let path = RoutePath::parse(uri.path()).map_err(ApiError::invalid_path)?;
    if path.segments().next().is_none() {
        return Err(not_found());
    }
    Ok(path
        .segments()
        .fold(state.files_dir.clone(), |dir, segment| dir.join(segment)))
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
    let failed = |_| {
        ApiError::new(
            StatusCode::CONFLICT,
            "CANNOT_WRITE",
            "the file cannot be written there",
        )
    };
    if let Some(directory) = file.parent() {
        tokio::fs::create_dir_all(directory).await.map_err(failed)?;
    }
    tokio::fs::write(&file, &body).await.map_err(failed)?;
    Ok(StatusCode::CREATED)
}
