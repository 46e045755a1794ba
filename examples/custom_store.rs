//! A third-party `TokenStore`, the way a framework integrator writes one:
//! a JSON-lines file (one change per line) with an in-memory index.
//!
//! - Reads go to the index, a `MemoryStore`, so verification never touches
//!   the file.
//! - Every change runs under one lock: the index applies it (and checks the
//!   cap, names and claim atomically), then the changed records are appended
//!   to the file and synced. Opening the file replays it; the last line for
//!   an id wins.
//! - The conformance suite at the bottom proves it keeps the contract.
//! - With the `conformance` feature, `main` also times its verification
//!   against the hardware floor (`compare_with_floor`).
//!
//! ```sh
//! cargo run --example custom_store
//! cargo run --release --example custom_store --features conformance   # with the floor comparison
//! cargo test --example custom_store --features conformance
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use tokenkeep::hash::TokenHash;
use tokenkeep::store::{
    ImportReport, InsertRules, LastUse, ListQuery, ManageStore, MemoryStore, Revocation, Rotation,
    StoreError, TokenStore, TokenUpdate, async_trait,
};
use tokenkeep::time::OffsetDateTime;
use tokenkeep::{Actor, IssueRequest, Prefix, Requirement, TokenId, TokenManager, TokenRecord};

/// One line of the file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Line {
    /// The record as it now is.
    Put { record: Box<TokenRecord> },
    /// The record was hard-deleted.
    Delete { id: TokenId },
}

impl Line {
    fn put(record: TokenRecord) -> Self {
        Self::Put {
            record: Box::new(record),
        }
    }
}

/// Token records in a JSON-lines file, indexed in memory.
#[derive(Debug)]
pub struct JsonLinesStore {
    index: MemoryStore,
    /// Kept apart from the index: a store that held a token stays claimed
    /// even after every record is deleted.
    ever_held: AtomicBool,
    log: tokio::sync::Mutex<File>,
}

impl JsonLinesStore {
    /// Opens (or creates) the file and replays it into the index.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| StoreError::unavailable(format!("{}: {e}", path.display())))?;
        let mut records = std::collections::BTreeMap::new();
        let mut ever_held = false;
        for (number, line) in BufReader::new(&file).lines().enumerate() {
            let line = line.map_err(StoreError::unavailable)?;
            let parsed = serde_json::from_str(&line).map_err(|e| {
                StoreError::unavailable(format!("{} line {}: {e}", path.display(), number + 1))
            })?;
            match parsed {
                Line::Put { record } => {
                    ever_held = true;
                    records.insert(record.id, *record);
                }
                Line::Delete { id } => {
                    records.remove(&id);
                }
            }
        }
        Ok(Self {
            index: MemoryStore::from_records(records.into_values()),
            ever_held: AtomicBool::new(ever_held),
            log: tokio::sync::Mutex::new(file),
        })
    }

    /// Appends lines and syncs them, so what a call returned survives a crash.
    fn append(file: &mut File, lines: &[Line]) -> Result<(), StoreError> {
        let mut text = String::new();
        for line in lines {
            text.push_str(&serde_json::to_string(line).map_err(StoreError::unavailable)?);
            text.push('\n');
        }
        file.write_all(text.as_bytes())
            .map_err(StoreError::unavailable)?;
        file.sync_data().map_err(StoreError::unavailable)
    }

    /// The current state of these records, as lines to append.
    async fn puts(&self, ids: Vec<TokenId>) -> Result<Vec<Line>, StoreError> {
        let mut lines = Vec::new();
        for id in ids {
            if let Some(record) = self.index.get(&id).await? {
                lines.push(Line::put(record));
            }
        }
        Ok(lines)
    }
}

#[async_trait]
impl TokenStore for JsonLinesStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        self.index.find_by_hash(hash).await
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.index.get(id).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        self.index.list(query).await
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut log = self.log.lock().await;
        self.index.record_last_used(uses).await?;
        let lines = self.puts(uses.iter().map(|used| used.id).collect()).await?;
        Self::append(&mut log, &lines)
    }

    /// Uses are counted under the log's lock, so each consumption is
    /// written before the next one starts.
    async fn consume_use(
        &self,
        id: &TokenId,
        now: tokenkeep::time::OffsetDateTime,
    ) -> Result<Option<tokenkeep::record::Usage>, StoreError> {
        let mut log = self.log.lock().await;
        let after = self.index.consume_use(id, now).await?;
        if after.is_some() {
            Self::append(&mut log, &self.puts(vec![*id]).await?)?;
        }
        Ok(after)
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        Ok(self.ever_held.load(Ordering::SeqCst))
    }
}

#[async_trait]
impl ManageStore for JsonLinesStore {
    async fn insert(&self, record: TokenRecord, rules: InsertRules) -> Result<(), StoreError> {
        let mut log = self.log.lock().await;
        let id = record.id;
        self.index.insert(record, rules).await?;
        self.ever_held.store(true, Ordering::SeqCst);
        Self::append(&mut log, &self.puts(vec![id]).await?)
    }

    async fn claim_setup(&self, record: TokenRecord) -> Result<(), StoreError> {
        let mut log = self.log.lock().await;
        if self.ever_held.load(Ordering::SeqCst) {
            return Err(StoreError::AlreadyClaimed);
        }
        let id = record.id;
        self.index.claim_setup(record).await?;
        self.ever_held.store(true, Ordering::SeqCst);
        Self::append(&mut log, &self.puts(vec![id]).await?)
    }

    async fn update(
        &self,
        id: &TokenId,
        update: &TokenUpdate,
        now: OffsetDateTime,
    ) -> Result<TokenRecord, StoreError> {
        let mut log = self.log.lock().await;
        let record = self.index.update(id, update, now).await?;
        Self::append(&mut log, &[Line::put(record.clone())])?;
        Ok(record)
    }

    async fn revoke(
        &self,
        id: &TokenId,
        revocation: &Revocation,
    ) -> Result<TokenRecord, StoreError> {
        let mut log = self.log.lock().await;
        let record = self.index.revoke(id, revocation).await?;
        Self::append(&mut log, &[Line::put(record.clone())])?;
        Ok(record)
    }

    async fn revoke_owner(
        &self,
        owner: &str,
        revocation: &Revocation,
    ) -> Result<usize, StoreError> {
        let mut log = self.log.lock().await;
        let count = self.index.revoke_owner(owner, revocation).await?;
        let query = ListQuery {
            owner: Some(owner.to_owned()),
            include_inactive: true,
            now: revocation.at,
        };
        let owned = self.index.list(&query).await?;
        let lines: Vec<Line> = owned.into_iter().map(Line::put).collect();
        Self::append(&mut log, &lines)?;
        Ok(count)
    }

    async fn rotate(&self, rotation: Rotation) -> Result<TokenRecord, StoreError> {
        let mut log = self.log.lock().await;
        let ids = vec![rotation.old, rotation.new_id];
        let replacement = self.index.rotate(rotation).await?;
        Self::append(&mut log, &self.puts(ids).await?)?;
        Ok(replacement)
    }

    async fn delete(&self, id: &TokenId) -> Result<bool, StoreError> {
        let mut log = self.log.lock().await;
        let existed = self.index.delete(id).await?;
        if existed {
            Self::append(&mut log, &[Line::Delete { id: *id }])?;
        }
        Ok(existed)
    }

    async fn import(&self, records: Vec<TokenRecord>) -> Result<ImportReport, StoreError> {
        let mut log = self.log.lock().await;
        let ids: Vec<TokenId> = records.iter().map(|record| record.id).collect();
        let report = self.index.import(records).await?;
        if report.imported > 0 {
            self.ever_held.store(true, Ordering::SeqCst);
        }
        // Appending skipped records again is harmless: they are unchanged.
        Self::append(&mut log, &self.puts(ids).await?)?;
        Ok(report)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("tokenkeep-{}.jsonl", TokenId::random()?));
    let service = |store: JsonLinesStore| {
        TokenManager::builder(Arc::new(store), Prefix::new("tk").expect("a valid prefix")).build()
    };

    let first = service(JsonLinesStore::open(&path)?)?;
    let issued = first
        .issue(&Actor::Admin, IssueRequest::new("alice", "laptop"))
        .await?;
    println!("issued {} into {}", issued.record.name, path.display());

    let reopened = service(JsonLinesStore::open(&path)?)?;
    let who = reopened
        .verify_token(issued.token.expose_secret(), Requirement::None)
        .await?;
    println!(
        "after reopening the file, the token verifies as {}",
        who.owner()
    );
    println!("the file holds hashes, never the token:");
    println!("{}", std::fs::read_to_string(&path)?.trim_end());
    std::fs::remove_file(&path)?;
    #[cfg(feature = "conformance")]
    compare_with_the_floor().await?;
    Ok(())
}

/// How this store's verification compares with the hardware floor.
#[cfg(feature = "conformance")]
async fn compare_with_the_floor() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("tokenkeep-{}.jsonl", TokenId::random()?));
    let store = Arc::new(JsonLinesStore::open(&path)?);
    let comparison = tokenkeep::conformance::compare_with_floor(store, 10_000).await?;
    println!(
        "verify at {} tokens: {:?} per token, floor {:?}: {:.2}x the floor",
        comparison.tokens,
        comparison.store,
        comparison.floor,
        comparison.ratio()
    );
    std::fs::remove_file(&path)?;
    Ok(())
}

#[cfg(test)]
#[cfg(feature = "conformance")]
mod tests {
    use super::JsonLinesStore;

    /// One file per check and process, named after the check.
    fn fresh_path(test: &str) -> std::path::PathBuf {
        let name = format!("custom-store-{test}-{}.jsonl", std::process::id());
        std::env::temp_dir().join(name)
    }

    async fn fresh_store(test: &'static str) -> JsonLinesStore {
        JsonLinesStore::open(fresh_path(test)).unwrap()
    }

    /// The file goes when the check ends, passed or failed.
    async fn remove_file(test: &'static str, _store: std::sync::Arc<JsonLinesStore>) {
        let _ = std::fs::remove_file(fresh_path(test));
    }

    tokenkeep::store_conformance_tests!(fresh_store, teardown = remove_file);

    #[tokio::test]
    async fn the_floor_comparison_runs_on_this_store() {
        let store =
            std::sync::Arc::new(fresh_store("the_floor_comparison_runs_on_this_store").await);
        let comparison = tokenkeep::conformance::compare_with_floor(store, 2_000)
            .await
            .unwrap();
        assert_eq!(comparison.tokens, 2_000);
        assert!(comparison.floor > std::time::Duration::ZERO);
        assert!(comparison.store > std::time::Duration::ZERO);
        assert!(comparison.ratio().is_finite());
    }

    #[tokio::test]
    async fn a_reopened_file_holds_what_was_written() {
        use tokenkeep::store::{ManageStore as _, TokenStore as _};
        let path = fresh_path("a_reopened_file_holds_what_was_written");
        let store = JsonLinesStore::open(&path).unwrap();
        let record = tokenkeep::conformance::sample_record("alice", "laptop");
        store.claim_setup(record.clone()).await.unwrap();
        store.delete(&record.id).await.unwrap();
        let reopened = JsonLinesStore::open(&path).unwrap();
        assert!(reopened.get(&record.id).await.unwrap().is_none());
        assert!(
            reopened.has_ever_held_token().await.unwrap(),
            "still claimed"
        );
    }
}
