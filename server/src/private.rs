//! The data directory is the server's alone: 0700 directories and 0600
//! files whatever the umask, so that no other local user reads the hashes
//! or the route-scoped files (which would bypass the scopes). A data
//! directory left wider by an earlier release is tightened at start.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

const DIRECTORY: u32 = 0o700;
const FILE: u32 = 0o600;

/// Creates `dir` (and its parents) private, or makes it private.
pub(crate) fn directory(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIRECTORY);
    builder.create(dir)?;
    set_mode(dir, DIRECTORY)
}

/// Opens `file` for writing, created 0600 and emptied.
pub(crate) fn create_file(file: &Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE);
    options.open(file)
}

/// Makes an existing data directory private: the directory, the database
/// with its WAL and shared-memory files, and everything in `files/`.
pub(crate) fn tighten(data_dir: &Path, database: &str) -> io::Result<()> {
    directory(data_dir)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = data_dir.join(format!("{database}{suffix}"));
        if file.is_file() {
            set_mode(&file, FILE)?;
        }
    }
    let files = data_dir.join("files");
    if files.is_dir() {
        tighten_tree(&files)?;
    }
    Ok(())
}

/// Refuses a file of secrets (the `--token-file`) that another local user
/// could read: its tokens carry manager rights.
pub(crate) fn require_unshared(file: &Path) -> Result<(), String> {
    let mode = shared_bits(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if mode == 0 {
        return Ok(());
    }
    Err(format!(
        "{} is readable or writable by other users (mode {:o}): its tokens are secrets; run `chmod 600 {}`",
        file.display(),
        mode,
        file.display()
    ))
}

#[cfg(unix)]
fn shared_bits(file: &Path) -> io::Result<u32> {
    Ok(fs::metadata(file)?.permissions().mode() & 0o077)
}

#[cfg(not(unix))]
fn shared_bits(file: &Path) -> io::Result<u32> {
    fs::metadata(file).map(|_| 0)
}

/// Every directory 0700 and file 0600 below `dir`; links are not followed.
fn tighten_tree(dir: &Path) -> io::Result<()> {
    set_mode(dir, DIRECTORY)?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten_tree(&entry.path())?;
        } else if kind.is_file() {
            set_mode(&entry.path(), FILE)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}
