//! The Redis state store, on one Redis or on a Redis Cluster. Every operation names
//! one key (and the counter script takes that key as its only `KEYS` entry), so no
//! operation spans hash slots and a cluster serves them as one Redis does.

use std::time::Duration;

use async_trait::async_trait;
use fedgate_domain::ports::{StateStore, StoreError, StoreResult};
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
        };
        store.ping().await?;
        Ok(store)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
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
