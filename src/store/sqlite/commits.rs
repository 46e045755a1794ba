//! Seeing another process's commits to the same SQLite file, for a cache
//! that must not serve a token revoked by the operator's command line.
//!
//! In WAL mode every connection, in every process, shares the
//! `<file>-shm` wal-index, whose header counts transactions: SQLite's file
//! format gives its first 48 bytes as the header, with `iChange` ("a
//! counter incremented with each transaction") at byte 8 and `mxFrame`
//! at byte 16. A writer updates it before its commit returns, so one
//! positioned read of those bytes, after the commit, shows it changed.
//!
//! The last connection to close deletes the file, and the next one to
//! open makes a new one that an open handle would not see; the store's
//! verification connections stay open for its life, so the file stays.
//! A file that cannot be read reads as a change every time.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::ChangeStamp;

/// The commit counter of one SQLite database in WAL mode: a
/// [`ChangeStamp`] that changes with every transaction any process
/// commits to it. Made by
/// [`SqliteStore::commits`](crate::store::SqliteStore::commits).
#[derive(Debug)]
pub struct SqliteCommits {
    path: PathBuf,
    /// The wal-index, opened while the store's connections hold it.
    shm: File,
    /// Counts reads that failed, so each one reads as a change.
    failures: AtomicU64,
}

impl SqliteCommits {
    /// The counter of the database at `database`, whose connections must
    /// be open (they create the wal-index); `None` when there is no such
    /// file (an in-memory database).
    pub(crate) fn open(database: &Path) -> Option<Self> {
        let mut path = database.as_os_str().to_owned();
        path.push("-shm");
        let path = PathBuf::from(path);
        Some(Self { shm: File::open(&path).ok()?, path, failures: AtomicU64::new(0) })
    }

    /// The header's first 20 bytes: one positioned read.
    fn header(&self) -> Option<[u8; 20]> {
        let mut header = [0u8; 20];
        self.shm.read_exact_at(&mut header, 0).ok()?;
        Some(header)
    }

    /// The wal-index file read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ChangeStamp for SqliteCommits {
    /// `iChange` and `mxFrame` of the header; when the file cannot be read,
    /// a value never returned before, so the cache never trusts itself
    /// when it cannot tell.
    fn stamp(&self) -> u64 {
        match self.header() {
            Some(header) => {
                let word = |at: usize| {
                    u64::from(u32::from_ne_bytes([
                        header[at],
                        header[at + 1],
                        header[at + 2],
                        header[at + 3],
                    ]))
                };
                word(8) | word(16) << 32
            }
            _ => u64::MAX - self.failures.fetch_add(1, Ordering::Relaxed),
        }
    }
}
