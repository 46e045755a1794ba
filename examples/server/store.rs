//! Choosing the store: SQLite in the data directory by default, or a URL.

use std::path::Path;
use std::sync::Arc;

use tokenkeep::store::{
    CacheConfig, CachedStore, InvalidationListener, ManageStore, PostgresStore, SqliteStore,
};

/// The database file inside the data directory.
pub(crate) const SQLITE_FILE: &str = "tokenkeep.db";

pub(crate) struct Opened {
    pub(crate) store: Arc<dyn ManageStore>,
    /// Where the data is, for the start-up line.
    pub(crate) description: String,
    /// Keeps the cache in step with the other instances while it lives.
    pub(crate) _listener: Option<InvalidationListener>,
}

/// Opens and migrates the store the options name.
pub(crate) async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Opened, String> {
    let failed =
        |error: tokenkeep::store::StoreError| format!("cannot open the token store: {error}");
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            // Many instances may share the database: verify from a cache that
            // every instance's changes invalidate at once.
            let store = PostgresStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            let cached = CachedStore::new(store, CacheConfig::default());
            let listener = cached.listen_for_invalidations().await.map_err(failed)?;
            Ok(Opened {
                store: Arc::new(cached),
                description: "postgres".to_owned(),
                _listener: Some(listener),
            })
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = SqliteStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Ok(Opened {
                store: Arc::new(store),
                description: url.to_owned(),
                _listener: None,
            })
        }
        Some(_) => Err("--database-url must start with postgres:// or sqlite:".to_owned()),
        None => {
            let path = data_dir.join(SQLITE_FILE);
            let store = SqliteStore::open(&path).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            Ok(Opened {
                store: Arc::new(store),
                description: format!("sqlite {}", path.display()),
                _listener: None,
            })
        }
    }
}
