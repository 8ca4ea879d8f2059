//! The in-process state store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fedgate_domain::ports::{StateStore, StoreError, StoreResult};

/// Expired entries are swept at most this often (and lazily on every read).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

#[derive(Debug)]
struct Inner {
    map: HashMap<String, Entry>,
    last_sweep: Instant,
}

/// State kept in this process's memory: right for one embedded instance, lost on
/// restart. Every operation holds one lock briefly, which makes each atomic.
#[derive(Debug)]
pub struct MemoryStateStore {
    inner: Mutex<Inner>,
}

impl Default for MemoryStateStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStateStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, Inner>> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Backend("state store lock poisoned".into()))?;
        let now = Instant::now();
        if now.duration_since(inner.last_sweep) >= SWEEP_EVERY {
            inner.map.retain(|_, e| e.expires > now);
            inner.last_sweep = now;
        }
        Ok(inner)
    }
}

impl Inner {
    fn live(&mut self, key: &str) -> Option<&mut Entry> {
        let now = Instant::now();
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let entry = Entry {
            value: value.to_vec(),
            expires: Instant::now() + ttl,
        };
        self.lock()?.map.insert(key.to_owned(), entry);
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock()?.live(key).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut inner = self.lock()?;
        if inner.live(key).is_none() {
            return Ok(None);
        }
        Ok(inner.map.remove(key).map(|e| e.value))
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        if inner.live(key).is_some() {
            return Ok(false);
        }
        inner.map.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires: Instant::now() + ttl,
            },
        );
        Ok(true)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        if let Some(entry) = inner.live(key) {
            let n = parse_counter(&entry.value) + 1;
            entry.value = n.to_string().into_bytes();
            return Ok(n);
        }
        inner.map.insert(
            key.to_owned(),
            Entry {
                value: b"1".to_vec(),
                expires: Instant::now() + ttl,
            },
        );
        Ok(1)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.lock()?.map.remove(key);
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        self.lock().map(|_| ())
    }
}

fn parse_counter(bytes: &[u8]) -> u64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
