//! A token store over Redis: the whole contract, with the optimistic form
//! of the atomic primitive. Records are JSON under `{ns}:rec:{id}`, found by
//! hash through `{ns}:hash:{hex}`; each owner has a set of ids and a version.
//! A change reads the owner's version and records, runs the plan, and
//! commits with one Lua script that writes only if the version is unchanged
//! (Redis runs a script atomically), else reads again. An owner's shared
//! limits are JSON under `{ns}:limits:{owner}`, read and written the same way. Last-used times live
//! in a sorted set, moved forward only by `ZADD XX GT`. Every rule is the
//! crate's, on top of `change`.
//!
//! `cargo run --example custom_store` (Redis on 127.0.0.1:6379);
//! `cargo test --example custom_store --features conformance`.

use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use tokenkeep::hash::TokenHash;
use tokenkeep::store::{
    ChangeScope, Changes, LastUse, ListQuery, ManageStore, OwnerRecords, Plan, StoreError,
    TokenStore, Write, async_trait,
};
use tokenkeep::time::OffsetDateTime;
use tokenkeep::{Prefix, TokenId, TokenRecord};

/// Applies a plan's writes if the owner's version is still `ARGV[1]`.
/// `KEYS[1]` is the version; `ARGV[2]` the namespace, `ARGV[3]` 1 for a
/// setup claim, `ARGV[4]` the writes as JSON.
const COMMIT: &str = r#"
local ns = ARGV[2]
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return 'conflict' end
if ARGV[3] == '1' and redis.call('EXISTS', ns .. ':ever') == 1 then return 'claimed' end
local writes = cjson.decode(ARGV[4])
for _, w in ipairs(writes) do
  local exists = w.id and redis.call('EXISTS', ns .. ':rec:' .. w.id) == 1
  if w.op == 'insert' and (exists or redis.call('EXISTS', ns .. ':hash:' .. w.hash) == 1) then
    return 'duplicate'
  end
  -- A replace finds its record by id, owner and hash, or it is a mistake.
  if w.op == 'replace' and (not exists
      or redis.call('GET', ns .. ':hash:' .. w.hash) ~= w.id
      or redis.call('SISMEMBER', ns .. ':owner:' .. w.owner, w.id) == 0) then
    return 'missing'
  end
end
for _, w in ipairs(writes) do
  if w.op == 'limits' then
    if w.json == '' then redis.call('DEL', ns .. ':limits:' .. w.owner)
    else redis.call('SET', ns .. ':limits:' .. w.owner, w.json) end
  elseif w.op == 'delete' then
    redis.call('DEL', ns .. ':rec:' .. w.id, ns .. ':hash:' .. w.hash)
    redis.call('SREM', ns .. ':owner:' .. w.owner, w.id)
    redis.call('SREM', ns .. ':all', w.id)
    redis.call('ZREM', ns .. ':used', w.id)
  else
    redis.call('SET', ns .. ':rec:' .. w.id, w.json)
  end
  if w.op == 'insert' then
    redis.call('SET', ns .. ':hash:' .. w.hash, w.id)
    redis.call('SADD', ns .. ':owner:' .. w.owner, w.id)
    redis.call('SADD', ns .. ':all', w.id)
    redis.call('SET', ns .. ':ever', '1')
    redis.call('ZADD', ns .. ':used', w.used, w.id)
  end
end
-- A committed claim marks the store, inserting or not.
if ARGV[3] == '1' then redis.call('SET', ns .. ':ever', '1') end
redis.call('INCR', KEYS[1])
return 'ok'
"#;

/// A [`ManageStore`] over one Redis database, its keys under a namespace.
#[derive(Clone, Debug)]
pub struct RedisStore {
    redis: MultiplexedConnection,
    ns: String,
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl RedisStore {
    /// Connects to `url`; every key starts with `ns`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis cannot be reached.
    pub async fn connect(url: &str, ns: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::unavailable)?;
        let redis = client.get_multiplexed_async_connection().await;
        let redis = redis.map_err(StoreError::unavailable)?;
        Ok(Self { redis, ns: ns.into() })
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.ns)
    }

    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, StoreError> {
        command.query_async(&mut self.redis.clone()).await.map_err(StoreError::unavailable)
    }

    /// The records with these ids, each with its last-used time.
    async fn records(&self, ids: &[String]) -> Result<Vec<TokenRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key(&format!("rec:{id}"))).collect();
        let values: Vec<Option<String>> = self.query(redis::cmd("MGET").arg(&keys)).await?;
        let used: Vec<Option<i64>> =
            self.query(redis::cmd("ZMSCORE").arg(self.key("used")).arg(ids)).await?;
        let mut records = Vec::new();
        for (value, used) in values.into_iter().zip(used) {
            let Some(value) = value else { continue };
            let mut record: TokenRecord =
                serde_json::from_str(&value).map_err(StoreError::unavailable)?;
            let at =
                |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000);
            let used = used.filter(|&ms| ms > 0).map(at).transpose();
            record.last_used_at = used.map_err(StoreError::unavailable)?;
            records.push(record);
        }
        Ok(records)
    }
}

/// A write as the commit script reads it; the record's JSON leaves the
/// last-used time out (it lives in the `used` sorted set).
fn encode(write: &Write, read: &OwnerRecords) -> Result<Option<serde_json::Value>, StoreError> {
    let (op, record) = match write {
        Write::Insert(record) => ("insert", record),
        Write::Replace(record) => ("replace", record),
        Write::Delete(id) => match read.find(id) {
            Some(record) => ("delete", record),
            None => return Ok(None),
        },
        // The owner's shared limits, JSON under `{ns}:limits:{owner}`.
        Write::OwnerLimits(limits) => {
            let json = match limits.is_empty() {
                true => String::new(),
                false => serde_json::to_string(limits).map_err(StoreError::unavailable)?,
            };
            return Ok(Some(
                serde_json::json!({ "op": "limits", "owner": read.owner, "json": json }),
            ));
        }
        _ => return Err(StoreError::unavailable("a write this store does not know")),
    };
    let mut stored = record.clone();
    stored.last_used_at = None;
    let json = serde_json::to_string(&stored).map_err(StoreError::unavailable)?;
    Ok(Some(serde_json::json!({
        "op": op, "id": record.id.to_string(), "hash": record.hash.to_hex(),
        "owner": record.owner, "json": json, "used": record.last_used_at.map_or(0, millis),
    })))
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<Arc<TokenRecord>>, StoreError> {
        let id: Option<String> =
            self.query(redis::cmd("GET").arg(self.key(&format!("hash:{}", hash.to_hex())))).await?;
        let records = self.records(&id.into_iter().collect::<Vec<_>>()).await?;
        Ok(records.into_iter().next().map(Arc::new))
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.records(&[id.to_string()]).await?.into_iter().next())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<TokenRecord>, StoreError> {
        let set = match &query.owner {
            Some(owner) => self.key(&format!("owner:{owner}")),
            None => self.key("all"),
        };
        let ids: Vec<String> = self.query(redis::cmd("SMEMBERS").arg(set)).await?;
        let mut records = self.records(&ids).await?;
        records.retain(|record| query.admits(record));
        ListQuery::order(&mut records);
        Ok(records)
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), StoreError> {
        let mut notes = redis::cmd("ZADD");
        notes.arg(self.key("used")).arg("XX").arg("GT");
        for used in uses {
            notes.arg(millis(used.at)).arg(used.id.to_string());
        }
        match uses.is_empty() {
            true => Ok(()),
            false => self.query::<i64>(&notes).await.map(drop),
        }
    }

    async fn has_ever_held_token(&self) -> Result<bool, StoreError> {
        self.query(redis::cmd("EXISTS").arg(self.key("ever"))).await
    }
}

#[async_trait]
impl ManageStore for RedisStore {
    async fn change(
        &self,
        scope: &ChangeScope,
        plan: &mut Plan<'_>,
    ) -> Result<Changes, StoreError> {
        // All of the owner's records: at least what the scope covers.
        let owner = &scope.owner;
        let commit = redis::Script::new(COMMIT);
        let version_key = self.key(&format!("ver:{owner}"));
        loop {
            let version: Option<i64> = self.query(redis::cmd("GET").arg(&version_key)).await?;
            let owned = redis::cmd("SMEMBERS").arg(self.key(&format!("owner:{owner}"))).clone();
            let records = self.records(&self.query::<Vec<String>>(&owned).await?).await?;
            let limits = match scope.owner_limits {
                true => {
                    self.query(redis::cmd("GET").arg(self.key(&format!("limits:{owner}")))).await?
                }
                false => None::<String>,
            };
            let limits = limits.map(|json| serde_json::from_str(&json)).transpose();
            let limits = limits.map_err(StoreError::unavailable)?;
            let read = OwnerRecords { owner: owner.into(), records, limits };
            let changes = plan(&read)?;
            let writes = changes.writes.iter().map(|write| encode(write, &read));
            let writes: Vec<_> = writes.filter_map(Result::transpose).collect::<Result<_, _>>()?;
            let answer: String = commit
                .key(&version_key)
                .arg(version.unwrap_or(0))
                .arg(&self.ns)
                .arg(u8::from(changes.only_if_never_held))
                .arg(serde_json::Value::from(writes).to_string())
                .invoke_async(&mut self.redis.clone())
                .await
                .map_err(StoreError::unavailable)?;
            match answer.as_str() {
                "ok" => return Ok(changes),
                "conflict" => continue,
                "claimed" => return Err(StoreError::AlreadyClaimed),
                "duplicate" => return Err(StoreError::Duplicate),
                _ => {
                    return Err(StoreError::unavailable(
                        "a replace names a record that is not stored with its owner and hash",
                    ));
                }
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use tokenkeep::{Actor, IssueRequest, Requirement, TokenManager, TokenRef};
    let store = RedisStore::connect("redis://127.0.0.1:6379", "tokenkeep-example").await?;
    let manager = TokenManager::builder(Arc::new(store), Prefix::new("ex")?).build()?;
    let alice = Actor::User("alice".into());
    let issued = manager.issue(&alice, IssueRequest::new("alice", "laptop")).await?;
    let header = format!("Bearer {}", issued.token.expose_secret());
    let who = manager.service().verify_bearer(Some(&header), Requirement::None).await?;
    println!("verified {} ({}) through Redis", who.owner(), who.name());
    // Revoked, the name is free for the next run.
    let laptop = TokenRef::id(issued.record.id);
    manager.revoke(&alice, &laptop).await?;
    Ok(())
}

#[cfg(all(test, feature = "conformance"))]
mod conformance {
    use super::RedisStore;

    /// A namespace of its own for each check; `None` when Redis is down.
    async fn redis_store(test: &'static str) -> Option<RedisStore> {
        let ns = format!("tokenkeep-test:{test}:{}", tokenkeep::TokenId::random().ok()?);
        RedisStore::connect("redis://127.0.0.1:6379", &ns).await.ok()
    }

    /// Deletes every key of the check's namespace.
    async fn drop_keys(_test: &'static str, store: std::sync::Arc<RedisStore>) {
        let keys: Vec<String> =
            store.query(redis::cmd("KEYS").arg(store.key("*"))).await.expect("the check's keys");
        if !keys.is_empty() {
            store
                .query::<i64>(redis::cmd("DEL").arg(keys))
                .await
                .expect("the check's keys are deleted");
        }
    }

    /// A second instance: another connection to the same namespace.
    async fn same_namespace(
        _test: &'static str,
        first: &std::sync::Arc<RedisStore>,
    ) -> std::sync::Arc<RedisStore> {
        let again = RedisStore::connect("redis://127.0.0.1:6379", &first.ns).await;
        std::sync::Arc::new(again.expect("the first connection succeeded"))
    }

    tokenkeep::store_conformance_tests!(
        maybe: redis_store,
        another = same_namespace,
        teardown = drop_keys
    );
}
