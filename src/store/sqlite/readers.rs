//! The connections verification looks tokens up on, kept outside the pool.
//!
//! Through the pool, a lookup also pays for checking a connection out and
//! returning it (the return is a task of its own): `benches/verify_sql.rs`
//! measured a `SELECT 1` at 72 µs through the pool and 15 µs on a held
//! connection. Verification is the one hot read, so it gets connections of
//! its own; everything else goes through the pool.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::sqlite::{SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

use super::backend_error;
use crate::store::StoreError;

/// How many lookups run at once; more wait for the first to finish, a
/// matter of microseconds.
const READERS: usize = 2;

pub(super) struct Readers {
    connections: Box<[Mutex<SqliteConnection>]>,
    /// Where the next lookup starts looking for a free connection.
    next: AtomicUsize,
}

impl Readers {
    /// Takes its connections from `pool` (which opens them as it opens its
    /// own, pragmas and all), for good.
    pub(super) async fn take_from(pool: &SqlitePool) -> Result<Self, StoreError> {
        let mut connections = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let connection = pool.acquire().await.map_err(backend_error)?.detach();
            connections.push(Mutex::new(connection));
        }
        Ok(Self { connections: connections.into_boxed_slice(), next: AtomicUsize::new(0) })
    }

    /// A free connection, or the first to come free.
    pub(super) async fn get(&self) -> MutexGuard<'_, SqliteConnection> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            if let Ok(reader) = self.connections[(start + offset) % count].try_lock() {
                return reader;
            }
        }
        self.connections[start % count].lock().await
    }
}

impl fmt::Debug for Readers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readers").field("connections", &self.connections.len()).finish()
    }
}
