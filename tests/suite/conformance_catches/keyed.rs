//! A store of another shape than the memory store, to plant bugs where
//! such a design makes them: records kept by hash with an index by owner
//! and one by id, as a Redis store keeps them, and changes committed
//! optimistically (read, plan, then commit only if the owner's version is
//! unchanged, else again), as a `WATCH`/`MULTI`/`EXEC` store does. The
//! data lives on a `Server`; each handle is a client of it, as each
//! instance of a service is, with a signal published to every client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokenkeep::conformance::Instances;
use tokenkeep::hash::TokenHash;
use tokenkeep::record::OwnerLimits;
use tokenkeep::store::{
    ChangeScope, Changes, LastUse, ListQuery, ManageStore, OwnerRecords, Plan, StoreError,
    TokenStore, Write, async_trait,
};
use tokenkeep::{TokenId, TokenRecord};

/// What a store of this shape gets wrong, one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flaw {
    /// None: the control, which passes the whole suite.
    None,
    /// The "has held a token" marker is read with the owner's records and
    /// not watched: claims by two owners both commit.
    MarkerReadWithTheRecords,
    /// The owner index is read with one `SCAN` of 100 and the cursor not
    /// followed.
    IndexReadOnePage,
    /// A replace writes the record under its own hash: one that changes
    /// the hash leaves the old key behind, verifying as before.
    ReplaceWritesUnderItsHash,
    /// A replace writes the plan's whole record, its last use included.
    ReplaceWritesTheLastUse,
    /// A last-use note reads the record and writes all of it back, watching
    /// nothing: a change in between is undone.
    LastUseWritesTheRecordBack,
    /// A commit that finds the version moved plans again on its first
    /// read, not a fresh one.
    RetriesOnTheFirstRead,
    /// Each client caches lookups and forgets them only on its own changes.
    ClientCachesLookups,
    /// `list` judges "active" by the revocation alone.
    ListsUnrevokedAsActive,
    /// The change signal is published to the client's own subscribers
    /// only, never through the server.
    PublishesLocally,
    /// Written for a release without owner limits: the write is dropped
    /// by a catch-all arm, and nothing is read.
    OwnerLimitsIgnored,
    /// Each client keeps the owner limits it read or wrote, and reads them
    /// from there again: two instances each spend a budget of their own.
    OwnerLimitsKeptByTheClient,
}

#[derive(Debug)]
struct Server {
    records: HashMap<TokenHash, TokenRecord>,
    ids: HashMap<TokenId, TokenHash>,
    /// Each owner's hashes, in the order inserted.
    owners: HashMap<String, Vec<TokenHash>>,
    limits: HashMap<String, OwnerLimits>,
    versions: HashMap<String, u64>,
    ever_held: bool,
    published: tokio::sync::watch::Sender<u64>,
}

impl Server {
    fn version(&self, owner: &str) -> u64 {
        self.versions.get(owner).copied().unwrap_or(0)
    }

    fn by_id(&self, id: &TokenId) -> Option<&TokenRecord> {
        self.ids.get(id).and_then(|hash| self.records.get(hash))
    }

    /// What storage itself refuses: a known id or hash inserted, a replace
    /// of what is not stored as it names it.
    fn check(&self, owner: &str, changes: &Changes, flaw: Flaw) -> Result<(), StoreError> {
        for write in &changes.writes {
            match write {
                Write::Insert(record)
                    if self.ids.contains_key(&record.id)
                        || self.records.contains_key(&record.hash) =>
                {
                    return Err(StoreError::Duplicate);
                }
                Write::Replace(record) => {
                    let stored = self.by_id(&record.id).filter(|stored| stored.owner == owner);
                    let moves = |stored: &TokenRecord| {
                        stored.owner != record.owner
                            || (stored.hash != record.hash
                                && flaw != Flaw::ReplaceWritesUnderItsHash)
                    };
                    if stored.is_none_or(moves) {
                        return Err(StoreError::unavailable("a replace of what is not stored"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn apply(&mut self, owner: &str, changes: &Changes, flaw: Flaw) {
        for write in &changes.writes {
            match write {
                Write::Insert(record) => {
                    self.ids.insert(record.id, record.hash);
                    self.owners.entry(record.owner.clone()).or_default().push(record.hash);
                    self.records.insert(record.hash, record.clone());
                }
                Write::Replace(record) => {
                    let Some(stored) = self.by_id(&record.id) else { continue };
                    let mut replaced = record.clone();
                    if flaw != Flaw::ReplaceWritesTheLastUse {
                        replaced.last_used_at = stored.last_used_at;
                    }
                    if flaw == Flaw::ReplaceWritesUnderItsHash {
                        self.ids.insert(record.id, record.hash);
                    }
                    self.records.insert(record.hash, replaced);
                }
                Write::Delete(id) => {
                    if self.by_id(id).is_some_and(|stored| stored.owner == owner)
                        && let Some(hash) = self.ids.remove(id)
                    {
                        self.records.remove(&hash);
                        if let Some(index) = self.owners.get_mut(owner) {
                            index.retain(|indexed| *indexed != hash);
                        }
                    }
                }
                Write::OwnerLimits(limits) if flaw != Flaw::OwnerLimitsIgnored => {
                    self.limits.insert(owner.to_owned(), *limits);
                }
                _ => {}
            }
        }
        *self.versions.entry(owner.to_owned()).or_default() += 1;
    }
}

/// One client of a [`Server`].
#[derive(Debug)]
pub(super) struct Keyed {
    flaw: Flaw,
    server: Arc<Mutex<Server>>,
    cache: Mutex<HashMap<TokenHash, Option<Arc<TokenRecord>>>>,
    kept_limits: Mutex<HashMap<String, OwnerLimits>>,
    own_signal: tokio::sync::watch::Sender<u64>,
}

impl Keyed {
    fn client(flaw: Flaw, server: Arc<Mutex<Server>>) -> Self {
        let own_signal = tokio::sync::watch::Sender::new(0);
        Self { flaw, server, cache: Mutex::default(), kept_limits: Mutex::default(), own_signal }
    }

    fn server() -> Arc<Mutex<Server>> {
        Arc::new(Mutex::new(Server {
            records: HashMap::new(),
            ids: HashMap::new(),
            owners: HashMap::new(),
            limits: HashMap::new(),
            versions: HashMap::new(),
            ever_held: false,
            published: tokio::sync::watch::Sender::new(0),
        }))
    }

    /// One client on a server of its own.
    pub(super) fn with(flaw: Flaw) -> Arc<dyn ManageStore> {
        Arc::new(Self::client(flaw, Self::server()))
    }

    /// Two clients of one server.
    pub(super) fn pair(flaw: Flaw) -> Instances {
        let server = Self::server();
        let one = Self::client(flaw, Arc::clone(&server));
        Instances::new(Arc::new(one), Arc::new(Self::client(flaw, server)))
    }

    fn lock(&self) -> MutexGuard<'_, Server> {
        self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What `scope` covers, read through the owner's index, with the
    /// owner's version and the marker as they were.
    fn read(&self, scope: &ChangeScope) -> (OwnerRecords, u64, bool) {
        let server = self.lock();
        let index = server.owners.get(&scope.owner).map(Vec::as_slice).unwrap_or_default();
        let page = match self.flaw {
            Flaw::IndexReadOnePage => &index[..index.len().min(100)],
            _ => index,
        };
        let records = page
            .iter()
            .filter_map(|hash| server.records.get(hash))
            .filter(|record| scope.covers(record))
            .cloned()
            .collect();
        let limits = match self.flaw {
            Flaw::OwnerLimitsIgnored => None,
            Flaw::OwnerLimitsKeptByTheClient => {
                let mut kept = self.kept_limits.lock().unwrap();
                let stored = server.limits.get(&scope.owner).copied();
                let limits = kept.get(&scope.owner).copied().or(stored);
                if let Some(limits) = limits {
                    kept.insert(scope.owner.clone(), limits);
                }
                limits.filter(|_| scope.owner_limits)
            }
            _ => server.limits.get(&scope.owner).copied().filter(|_| scope.owner_limits),
        };
        let read = OwnerRecords { owner: scope.owner.clone(), records, limits };
        (read, server.version(&scope.owner), server.ever_held)
    }

    fn publish(&self, server: &Server) {
        match self.flaw {
            Flaw::PublishesLocally => self.own_signal.send_modify(|count| *count += 1),
            _ => server.published.send_modify(|count| *count += 1),
        }
    }
}

#[async_trait]
impl TokenStore for Keyed {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        if self.flaw == Flaw::ClientCachesLookups
            && let Some(cached) = self.cache.lock().unwrap().get(hash)
        {
            return Ok(cached.clone());
        }
        let found = self.lock().records.get(hash).cloned().map(Arc::new);
        if self.flaw == Flaw::ClientCachesLookups {
            self.cache.lock().unwrap().insert(*hash, found.clone());
        }
        Ok(found)
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.lock().by_id(id).cloned())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let admits = |record: &TokenRecord| match self.flaw {
            Flaw::ListsUnrevokedAsActive => {
                query.owner.as_ref().is_none_or(|owner| *owner == record.owner)
                    && (query.include_inactive || record.revoked_at.is_none())
            }
            _ => query.admits(record),
        };
        let mut listed: Vec<_> =
            self.lock().records.values().filter(|r| admits(r)).cloned().collect();
        ListQuery::order(&mut listed);
        Ok(listed)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        for note in uses {
            if self.flaw == Flaw::LastUseWritesTheRecordBack {
                let Some(mut record) = self.get(&note.id).await? else { continue };
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                if record.last_used_at.is_none_or(|used| used < note.at) {
                    record.last_used_at = Some(note.at);
                    self.lock().records.insert(record.hash, record);
                }
                continue;
            }
            let mut server = self.lock();
            let Some(hash) = server.ids.get(&note.id).copied() else { continue };
            if let Some(record) = server.records.get_mut(&hash)
                && record.last_used_at.is_none_or(|used| used < note.at)
            {
                record.last_used_at = Some(note.at);
            }
        }
        Ok(())
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(match self.flaw {
            Flaw::PublishesLocally => self.own_signal.subscribe(),
            _ => self.lock().published.subscribe(),
        })
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(self.lock().ever_held)
    }
}

#[async_trait]
impl ManageStore for Keyed {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        let mut first_read = None;
        loop {
            let (read, version, held_when_read) = self.read(scope);
            // The round trip between the read and the commit.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let planned_on = match self.flaw {
                Flaw::RetriesOnTheFirstRead => first_read.get_or_insert(read),
                _ => &read,
            };
            let changes = plan(planned_on)?;
            let mut server = self.lock();
            if server.version(&scope.owner) != version {
                continue;
            }
            let held = match self.flaw {
                Flaw::MarkerReadWithTheRecords => held_when_read,
                _ => server.ever_held,
            };
            if changes.only_if_never_held && held {
                return Err(StoreError::AlreadyClaimed);
            }
            server.check(&scope.owner, &changes, self.flaw)?;
            server.apply(&scope.owner, &changes, self.flaw);
            if self.flaw == Flaw::OwnerLimitsKeptByTheClient {
                for write in &changes.writes {
                    if let Write::OwnerLimits(limits) = write {
                        self.kept_limits.lock().unwrap().insert(scope.owner.clone(), *limits);
                    }
                }
            }
            server.ever_held |= changes.only_if_never_held
                || changes.writes.iter().any(|write| matches!(write, Write::Insert(_)));
            self.publish(&server);
            drop(server);
            self.cache.lock().unwrap().clear();
            return Ok(changes);
        }
    }
}

/// The control passes the whole suite, one handle or two.
mod control {
    use std::sync::Arc;

    use super::{Flaw, Keyed};

    async fn keyed(_test: &'static str) -> Keyed {
        Keyed::client(Flaw::None, Keyed::server())
    }

    async fn another_client(_test: &'static str, first: &Arc<Keyed>) -> Arc<Keyed> {
        Arc::new(Keyed::client(Flaw::None, Arc::clone(&first.server)))
    }

    tokenkeep::store_conformance_tests!(keyed, another = another_client);
}
