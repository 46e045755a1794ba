//! Choosing the store: SQLite in the data directory by default, or a URL.

use std::path::Path;
use std::sync::Arc;

use std::time::Duration;

use tokenkeep::store::{
    CacheConfig, CachedStore, ChangeFeedPoller, InvalidationListener, ManageStore, MysqlStore,
    PostgresStore, SqliteStore,
};

/// Where the tokens are, as the options say.
pub(crate) struct Location<'a> {
    database_url: Option<&'a str>,
    /// How often a MySQL database's change feed is read.
    change_feed_poll: Duration,
    /// How often SQLite's commit counter is read; zero: before every answer.
    commit_check: Duration,
}

impl<'a> Location<'a> {
    pub(crate) fn of(cli: &'a crate::Cli) -> Self {
        Self {
            database_url: cli.database_url.as_deref(),
            change_feed_poll: Duration::from_millis(cli.change_feed_poll_ms.max(1)),
            commit_check: Duration::from_millis(cli.commit_check_ms),
        }
    }
}

/// What keeps a cache in step with the other instances while it lives
/// (held only to be dropped with it).
pub(crate) enum Follower {
    Listener { _listener: InvalidationListener },
    Poller { _poller: ChangeFeedPoller },
}

/// The database file inside the data directory.
pub(crate) const SQLITE_FILE: &str = "tokenkeep.db";

pub(crate) struct Opened {
    pub(crate) store: Arc<dyn ManageStore>,
    /// Where the data is, for the start-up line.
    pub(crate) description: String,
    /// Keeps the cache in step with the other instances while it lives.
    pub(crate) _follower: Option<Follower>,
}

/// Opens and migrates the store the options name.
pub(crate) async fn open(location: &Location<'_>, data_dir: &Path) -> Result<Opened, String> {
    let failed =
        |error: tokenkeep::store::StoreError| format!("cannot open the token store: {error}");
    match location.database_url {
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
                _follower: Some(Follower::Listener { _listener: listener }),
            })
        }
        Some(url) if url.starts_with("mysql://") || url.starts_with("mariadb://") => {
            // The same for MySQL, which has no LISTEN: each instance polls
            // the change feed every instance writes.
            let store = MysqlStore::connect(url).await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            let cached = CachedStore::new(store, CacheConfig::default());
            let poller = cached.poll_changes(location.change_feed_poll).await.map_err(failed)?;
            Ok(Opened {
                store: Arc::new(cached),
                description: "mysql".to_owned(),
                _follower: Some(Follower::Poller { _poller: poller }),
            })
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = SqliteStore::connect(url).await.map_err(failed)?;
            cached_sqlite(store, url.to_owned(), location.commit_check).await.map_err(failed)
        }
        Some(_) => {
            Err("--database-url must start with postgres://, mysql://, mariadb:// or sqlite:"
                .to_owned())
        }
        None => {
            let path = data_dir.join(SQLITE_FILE);
            let store = SqliteStore::open(&path).await.map_err(failed)?;
            let description = format!("sqlite {}", path.display());
            cached_sqlite(store, description, location.commit_check).await.map_err(failed)
        }
    }
}

/// SQLite behind the verification cache. This process is the file's only
/// server, and the operator's `token …` commands, which open the file
/// directly, are seen through its commit counter: the cache checks it
/// before every answer, so their revokes take effect at once, or every
/// `commit_check` when the operator chose a bound for a cheaper check.
async fn cached_sqlite(
    store: SqliteStore,
    description: String,
    commit_check: Duration,
) -> Result<Opened, tokenkeep::store::StoreError> {
    store.migrate().await?;
    let cached = |store| CachedStore::new(store, CacheConfig::default());
    let store: Arc<dyn ManageStore> = match store.commits() {
        Ok(commits) => Arc::new(cached(store).checking_every(commits, commit_check)),
        // In memory: no other process can write it, nothing to check.
        Err(_) => Arc::new(cached(store)),
    };
    Ok(Opened { store, description, _follower: None })
}
