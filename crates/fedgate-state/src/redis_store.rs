//! The Redis state store, on one Redis or on a Redis Cluster. On a cluster every
//! operation names one key (the counter script takes that key as its only `KEYS`
//! entry), so no operation spans hash slots and a cluster serves them as one Redis
//! does. On one Redis, the charges of an event and the record it stores go in one
//! script: one round trip for a login start.

use std::time::Duration;

use async_trait::async_trait;
use fedgate_domain::ports::{Charge, StateStore, StoreError, StoreResult, charge_each};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// INCR, and set the expiry only when the counter was just created: atomic in Redis.
const INCREMENT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// Counts the charges in order (`KEYS[1..n]`; `ARGV[1]` is `n`, then each counter's
/// window in ms and limit), stopping at the first past its limit and returning its
/// 1-based index; with none past, stores the record `KEYS[n+1]` when given (its value
/// and ttl in ms follow in `ARGV`) and returns 0. Atomic in Redis.
const CHARGE_SCRIPT: &str = r"
local n = tonumber(ARGV[1])
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
  if count > tonumber(ARGV[2 * i + 1]) then return i end
end
if #KEYS > n then
  redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'PX', ARGV[2 * n + 3])
end
return 0
";

/// A connection to one Redis (reconnecting on its own) or to a cluster (following
/// its slots).
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// State in Redis, shared by every instance. Keys are `{prefix}{key}`.
#[derive(Clone)]
pub struct RedisStateStore {
    conn: Connection,
    prefix: String,
    increment: redis::Script,
    charge: redis::Script,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(e: &redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis: {e}"))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStateStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); keys get `prefix`.
    /// Fails at once if Redis does not answer, so a bad URL stops start-up.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(|e| backend(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| backend(&e))?;
        Self::over(Connection::Single(conn), prefix).await
    }

    /// Connects to the Redis Cluster that `nodes` (some of its nodes' URLs) belong to;
    /// keys get `prefix`. Fails at once if the cluster does not answer.
    pub async fn connect_cluster(nodes: &[String], prefix: &str) -> StoreResult<Self> {
        if nodes.is_empty() {
            return Err(StoreError::Backend(
                "redis: a cluster needs at least one node URL".into(),
            ));
        }
        let client = ClusterClient::builder(nodes.iter().map(String::as_str))
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(Duration::from_secs(5))
            .retries(2)
            .build()
            .map_err(|e| backend(&e))?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(|e| backend(&e))?;
        Self::over(Connection::Cluster(conn), prefix).await
    }

    async fn over(conn: Connection, prefix: &str) -> StoreResult<Self> {
        let store = Self {
            conn,
            prefix: prefix.to_owned(),
            increment: redis::Script::new(INCREMENT_SCRIPT),
            charge: redis::Script::new(CHARGE_SCRIPT),
        };
        store.ping().await?;
        Ok(store)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The charge script over `charges` and, when given, a record to store: the index
    /// of the charge past its limit. One Redis only (its keys span hash slots).
    async fn charge_script(
        &self,
        charges: &[Charge],
        record: Option<(&str, &[u8], Duration)>,
    ) -> StoreResult<Option<usize>> {
        let mut invocation = self.charge.prepare_invoke();
        invocation.arg(charges.len());
        for c in charges {
            invocation
                .key(self.key(&c.key))
                .arg(millis(c.window))
                .arg(c.limit);
        }
        if let Some((key, value, ttl)) = record {
            invocation.key(self.key(key)).arg(value).arg(millis(ttl));
        }
        let over: usize = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))?;
        Ok(over.checked_sub(1))
    }
}

#[async_trait]
impl StateStore for RedisStateStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let reply: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))?;
        Ok(reply.is_some())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        self.increment
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }

    async fn charge(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        match self.conn {
            Connection::Single(_) if !charges.is_empty() => self.charge_script(charges, None).await,
            _ => charge_each(self, charges).await,
        }
    }

    async fn put_new_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Option<usize>> {
        if let Connection::Single(_) = self.conn {
            return self.charge_script(charges, Some((key, value, ttl))).await;
        }
        if let Some(over) = charge_each(self, charges).await? {
            return Ok(Some(over));
        }
        self.put(key, value, ttl).await.map(|()| None)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }

    async fn ping(&self) -> StoreResult<()> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| backend(&e))
    }
}
