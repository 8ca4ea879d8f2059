//! The Redis state store.

use std::time::Duration;

use async_trait::async_trait;
use fedgate_domain::ports::{StateStore, StoreError, StoreResult};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// INCR, and set the expiry only when the counter was just created: atomic in Redis.
const INCREMENT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// State in Redis, shared by every instance. Keys are `{prefix}{key}`.
#[derive(Clone)]
pub struct RedisStateStore {
    conn: ConnectionManager,
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
