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
            cached_sqlite(store, url.to_owned()).await.map_err(failed)
        }
        Some(_) => Err("--database-url must start with postgres:// or sqlite:".to_owned()),
        None => {
            let path = data_dir.join(SQLITE_FILE);
            let store = SqliteStore::open(&path).await.map_err(failed)?;
            cached_sqlite(store, format!("sqlite {}", path.display())).await.map_err(failed)
        }
    }
}

/// SQLite behind the verification cache. This process is the file's only
/// server, and the operator's `token …` commands, which open the file
/// directly, are seen through its commit counter: the cache checks it
/// before every answer, so their revokes take effect at once.
async fn cached_sqlite(
    store: SqliteStore,
    description: String,
) -> Result<Opened, tokenkeep::store::StoreError> {
    store.migrate().await?;
    let store: Arc<dyn ManageStore> = match store.commits() {
        Ok(commits) => Arc::new(CachedStore::new(store, CacheConfig::default()).checking(commits)),
        // In memory: no other process can write it, nothing to check.
        Err(_) => Arc::new(CachedStore::new(store, CacheConfig::default())),
    };
    Ok(Opened { store, description, _listener: None })
}
