//! The in-process state store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fedgate_domain::ports::{StateStore, StoreError, StoreResult};

/// Expired entries are swept at most this often (and lazily on every read).
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// What an entry costs beyond its key and value (map slot, allocations, expiry).
const ENTRY_OVERHEAD: usize = 96;

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

fn cost(key: &str, value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

#[derive(Debug)]
struct Inner {
    map: HashMap<String, Entry>,
    /// The cost of every entry in `map`, expired or not.
    bytes: usize,
    last_sweep: Instant,
}

/// State kept in this process's memory: right for one embedded instance, lost on
/// restart. Every operation holds one lock briefly, which makes each atomic.
///
/// It holds at most `capacity` bytes (keys, values and a fixed overhead per entry):
/// past that, writes of new keys fail with [`StoreError::Full`] — nothing is ever
/// evicted before it expires — and new work ([`StateStore::put_new`]) is refused
/// above 90 %, keeping the rest for work under way.
#[derive(Debug)]
pub struct MemoryStateStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl Default for MemoryStateStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStateStore {
    /// An empty store with a capacity of 256 MiB.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(256 * 1024 * 1024)
    }

    /// An empty store holding at most `capacity` bytes.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                last_sweep: Instant::now(),
            }),
            capacity,
        }
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, Inner>> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Backend("state store lock poisoned".into()))?;
        if inner.last_sweep.elapsed() >= SWEEP_EVERY {
            inner.sweep();
        }
        Ok(inner)
    }

    /// Stores `key` if it fits under `limit` bytes (replacing a value of the same key
    /// is measured by the difference). Expired entries are swept first when needed.
    fn insert(&self, inner: &mut Inner, key: &str, entry: Entry, limit: usize) -> StoreResult<()> {
        let old = inner.map.get(key).map_or(0, |e| cost(key, &e.value));
        let new = cost(key, &entry.value);
        if inner.bytes - old + new > limit {
            inner.sweep();
            let old = inner.map.get(key).map_or(0, |e| cost(key, &e.value));
            if inner.bytes - old + new > limit {
                return Err(StoreError::Full);
            }
        }
        if let Some(previous) = inner.map.insert(key.to_owned(), entry) {
            inner.bytes -= cost(key, &previous.value);
        }
        inner.bytes += new;
        Ok(())
    }

    fn new_work_limit(&self) -> usize {
        self.capacity - self.capacity / 10
    }
}

impl Inner {
    fn sweep(&mut self) {
        let now = Instant::now();
        let mut freed = 0;
        self.map.retain(|k, e| {
            let keep = e.expires > now;
            if !keep {
                freed += cost(k, &e.value);
            }
            keep
        });
        self.bytes -= freed;
        self.last_sweep = now;
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let e = self.map.remove(key)?;
        self.bytes -= cost(key, &e.value);
        Some(e)
    }

    fn live(&mut self, key: &str) -> Option<&mut Entry> {
        let now = Instant::now();
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.remove(key);
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
        self.insert(&mut *self.lock()?, key, entry, self.capacity)
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let entry = Entry {
            value: value.to_vec(),
            expires: Instant::now() + ttl,
        };
        self.insert(&mut *self.lock()?, key, entry, self.new_work_limit())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock()?.live(key).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut inner = self.lock()?;
        if inner.live(key).is_none() {
            return Ok(None);
        }
        Ok(inner.remove(key).map(|e| e.value))
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        if inner.live(key).is_some() {
            return Ok(false);
        }
        let entry = Entry {
            value: value.to_vec(),
            expires: Instant::now() + ttl,
        };
        self.insert(&mut inner, key, entry, self.capacity)?;
        Ok(true)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        if let Some(entry) = inner.live(key) {
            let n = parse_counter(&entry.value) + 1;
            let value = n.to_string().into_bytes();
            let (old_len, new_len) = (entry.value.len(), value.len());
            entry.value = value;
            inner.bytes = inner.bytes + new_len - old_len;
            return Ok(n);
        }
        let entry = Entry {
            value: b"1".to_vec(),
            expires: Instant::now() + ttl,
        };
        self.insert(&mut inner, key, entry, self.capacity)?;
        Ok(1)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.lock()?.remove(key);
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn new_work_stops_before_the_capacity_and_nothing_is_evicted() {
        // Room for ten 100-byte entries (key "k0".."k9" + 2 + 96 overhead = 100 bytes).
        let store = MemoryStateStore::with_capacity(1000);
        let value = [7u8; 2];
        for i in 0..9 {
            store
                .put_new(&format!("k{i}"), &value, MINUTE)
                .await
                .unwrap();
        }
        // At 90 %: no new work, but work under way still has room.
        assert!(matches!(
            store.put_new("k9", &value, MINUTE).await,
            Err(StoreError::Full)
        ));
        store.put("n0", &value, MINUTE).await.unwrap();
        assert!(matches!(
            store.put("n1", &value, MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(
            store.put_if_absent("n1", &value, MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(
            store.increment("c", MINUTE).await,
            Err(StoreError::Full)
        ));
        // Nothing was evicted; replacing a value of the same size still fits.
        for i in 0..9 {
            assert!(store.get(&format!("k{i}")).await.unwrap().is_some());
        }
        store.put("k0", &value, MINUTE).await.unwrap();
        // Using records frees their room: back under 90 %, new work fits again.
        assert!(store.take("k1").await.unwrap().is_some());
        assert!(matches!(
            store.put_new("k9", &value, MINUTE).await,
            Err(StoreError::Full)
        ));
        store.delete("n0").await.unwrap();
        store.put_new("k9", &value, MINUTE).await.unwrap();
    }

    #[tokio::test]
    async fn expired_entries_make_room_and_the_count_returns_to_zero() {
        let store = MemoryStateStore::with_capacity(300);
        store
            .put("a0", &[0; 2], Duration::from_millis(20))
            .await
            .unwrap();
        store.put("b0", &[0; 2], MINUTE).await.unwrap();
        store.put("c0", &[0; 2], MINUTE).await.unwrap();
        assert!(matches!(
            store.put("d0", &[0; 2], MINUTE).await,
            Err(StoreError::Full)
        ));
        tokio::time::sleep(Duration::from_millis(30)).await;
        store.put("d0", &[0; 2], MINUTE).await.unwrap();
        for _ in 0..20 {
            store.increment("b0", MINUTE).await.unwrap();
        }
        for k in ["b0", "c0", "d0"] {
            store.delete(k).await.unwrap();
        }
        assert_eq!(store.inner.lock().unwrap().bytes, 0);
    }
}
