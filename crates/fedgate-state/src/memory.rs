//! The in-process state store.
//!
//! Entries live in shards, each behind its own lock, so requests touching different
//! keys rarely wait for each other, and expired entries are swept one shard at a time
//! by a thread of the store's own: no request ever waits for a sweep of the whole
//! store, and a shard whose map has emptied gives its table back. A flood of login
//! starts therefore costs memory only until its records expire.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fedgate_domain::ports::{StateStore, StoreError, StoreResult};

/// Each shard is swept at most this often (and expired entries are ignored on read).
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// How often the sweeping thread looks for shards due.
const SWEEPER_TICK: Duration = Duration::from_millis(250);
/// Shards: a sweep holds one lock over 1/64th of the entries.
const SHARDS: usize = 64;
/// What an entry costs beyond its key and value (map slot, allocations, expiry).
const ENTRY_OVERHEAD: usize = 96;

#[derive(Debug)]
struct Entry {
    value: Box<[u8]>,
    expires: Instant,
}

fn cost(key: &str, value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

#[derive(Debug)]
struct Shard {
    map: HashMap<Box<str>, Entry>,
    next_sweep: Instant,
}

impl Shard {
    /// Drops expired entries and, when the map holds far fewer entries than it has
    /// room for, shrinks it. The bytes freed.
    fn sweep(&mut self, now: Instant) -> usize {
        let mut freed = 0;
        self.map.retain(|k, e| {
            let keep = e.expires > now;
            if !keep {
                freed += cost(k, &e.value);
            }
            keep
        });
        if self.map.capacity() > 64 && self.map.capacity() > 4 * self.map.len() {
            self.map.shrink_to(self.map.len() * 2);
        }
        self.next_sweep = now + SWEEP_EVERY;
        freed
    }
}

#[derive(Debug)]
struct Inner {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    /// The cost of every entry, expired or not.
    bytes: AtomicUsize,
    capacity: usize,
}

impl Inner {
    fn shard_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn lock(&self, shard: usize) -> StoreResult<MutexGuard<'_, Shard>> {
        self.shards[shard]
            .lock()
            .map_err(|_| StoreError::Backend("state store lock poisoned".into()))
    }

    /// Sweeps the shards that are due.
    fn sweep_due(&self) {
        for shard in &self.shards {
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            let now = Instant::now();
            if shard.next_sweep <= now {
                let freed = shard.sweep(now);
                self.bytes.fetch_sub(freed, Ordering::Relaxed);
            }
        }
    }

    /// Stores `key` in its (locked) shard if it fits under `limit` bytes (replacing a
    /// value of the same key is measured by the difference). When it does not fit,
    /// expired entries are swept first — this shard, then the others.
    fn insert(&self, shard: &mut Shard, key: &str, entry: Entry, limit: usize) -> StoreResult<()> {
        let new = cost(key, &entry.value);
        let fits = |shard: &Shard| {
            let old = shard.map.get(key).map_or(0, |e| cost(key, &e.value));
            self.bytes.load(Ordering::Relaxed) - old + new <= limit
        };
        if !fits(shard) {
            let freed = shard.sweep(Instant::now());
            self.bytes.fetch_sub(freed, Ordering::Relaxed);
            if !fits(shard) {
                self.sweep_others();
                if !fits(shard) {
                    return Err(StoreError::Full);
                }
            }
        }
        self.bytes.fetch_add(new, Ordering::Relaxed);
        if let Some(previous) = shard.map.insert(key.into(), entry) {
            self.bytes
                .fetch_sub(cost(key, &previous.value), Ordering::Relaxed);
        }
        Ok(())
    }

    /// Sweeps every shard but the one the caller holds locked: `try_lock` fails on
    /// that one (and skips any shard busy right now).
    fn sweep_others(&self) {
        for shard in &self.shards {
            let Ok(mut other) = shard.try_lock() else {
                continue;
            };
            let freed = other.sweep(Instant::now());
            self.bytes.fetch_sub(freed, Ordering::Relaxed);
        }
    }
}

impl Shard {
    fn remove(&mut self, key: &str, bytes: &AtomicUsize) -> Option<Entry> {
        let e = self.map.remove(key)?;
        bytes.fetch_sub(cost(key, &e.value), Ordering::Relaxed);
        Some(e)
    }

    fn live(&mut self, key: &str, bytes: &AtomicUsize) -> Option<&mut Entry> {
        let now = Instant::now();
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.remove(key, bytes);
        }
        self.map.get_mut(key)
    }
}

/// State kept in this process's memory: right for one embedded instance, lost on
/// restart. Every operation holds one shard's lock briefly, which makes each atomic.
///
/// It holds at most `capacity` bytes (keys, values and a fixed overhead per entry):
/// past that, writes of new keys fail with [`StoreError::Full`] — nothing is ever
/// evicted before it expires — and new work ([`StateStore::put_new`]) is refused
/// above 90 %, keeping the rest for work under way.
#[derive(Debug)]
pub struct MemoryStateStore {
    inner: Arc<Inner>,
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

    /// An empty store holding at most `capacity` bytes, with its sweeping thread
    /// (which ends when the store is dropped).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let now = Instant::now();
        let inner = Arc::new(Inner {
            shards: (0..SHARDS)
                .map(|i| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        // Staggered, so the shards come due one after another.
                        next_sweep: now + SWEEP_EVERY.mul_f64((i + 1) as f64 / SHARDS as f64),
                    })
                })
                .collect(),
            hasher: RandomState::new(),
            bytes: AtomicUsize::new(0),
            capacity,
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        // If the thread cannot be started, expired entries are still ignored on read
        // and swept when room is needed.
        let _ = std::thread::Builder::new()
            .name("fedgate-state-sweep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(SWEEPER_TICK);
                    let Some(inner) = weak.upgrade() else { return };
                    inner.sweep_due();
                }
            });
        Self { inner }
    }

    fn new_work_limit(&self) -> usize {
        self.inner.capacity - self.inner.capacity / 10
    }

    /// Runs `f` on the shard of `key`, locked.
    fn with_shard<R>(
        &self,
        key: &str,
        f: impl FnOnce(&Inner, &mut Shard) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let inner = &*self.inner;
        let mut shard = inner.lock(inner.shard_of(key))?;
        f(inner, &mut shard)
    }

    fn entry(value: &[u8], ttl: Duration) -> Entry {
        Entry {
            value: value.into(),
            expires: Instant::now() + ttl,
        }
    }

    /// The bytes accounted, expired entries included (tests).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.bytes.load(Ordering::Relaxed)
    }

    /// The entries and the room the shards' tables hold (tests).
    #[cfg(test)]
    fn table_sizes(&self) -> (usize, usize) {
        self.inner.shards.iter().fold((0, 0), |(len, cap), s| {
            let s = s.lock().unwrap();
            (len + s.map.len(), cap + s.map.capacity())
        })
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let limit = self.inner.capacity;
        self.with_shard(key, |inner, shard| {
            inner.insert(shard, key, Self::entry(value, ttl), limit)
        })
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        let limit = self.new_work_limit();
        self.with_shard(key, |inner, shard| {
            inner.insert(shard, key, Self::entry(value, ttl), limit)
        })
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with_shard(key, |inner, shard| {
            Ok(shard.live(key, &inner.bytes).map(|e| e.value.to_vec()))
        })
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with_shard(key, |inner, shard| {
            if shard.live(key, &inner.bytes).is_none() {
                return Ok(None);
            }
            Ok(shard.remove(key, &inner.bytes).map(|e| e.value.into_vec()))
        })
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let limit = self.inner.capacity;
        self.with_shard(key, |inner, shard| {
            if shard.live(key, &inner.bytes).is_some() {
                return Ok(false);
            }
            inner.insert(shard, key, Self::entry(value, ttl), limit)?;
            Ok(true)
        })
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        let limit = self.inner.capacity;
        self.with_shard(key, |inner, shard| {
            if let Some(entry) = shard.live(key, &inner.bytes) {
                let n = parse_counter(&entry.value) + 1;
                let value: Box<[u8]> = n.to_string().into_bytes().into();
                let (old_len, new_len) = (entry.value.len(), value.len());
                entry.value = value;
                inner.bytes.fetch_add(new_len, Ordering::Relaxed);
                inner.bytes.fetch_sub(old_len, Ordering::Relaxed);
                return Ok(n);
            }
            inner.insert(shard, key, Self::entry(b"1", ttl), limit)?;
            Ok(1)
        })
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.with_shard(key, |inner, shard| {
            shard.remove(key, &inner.bytes);
            Ok(())
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.lock(0).map(|_| ())
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
        assert_eq!(store.bytes(), 0);
    }

    #[tokio::test]
    async fn the_sweeping_thread_frees_expired_entries_and_their_room() {
        let store = MemoryStateStore::with_capacity(1 << 30);
        for i in 0..20_000 {
            store
                .put_new(&format!("login:{i}"), &[1; 200], Duration::from_millis(100))
                .await
                .unwrap();
        }
        store.put("kept", b"1", MINUTE).await.unwrap();
        let (len, room) = store.table_sizes();
        assert_eq!(len, 20_001);
        assert!(room >= 20_001);
        // Every shard comes due within SWEEP_EVERY plus a tick, with no request made.
        tokio::time::sleep(SWEEP_EVERY + SWEEPER_TICK * 3).await;
        let (len, room) = store.table_sizes();
        assert_eq!(len, 1);
        assert!(room < 2_000, "tables keep room for {room} entries");
        assert_eq!(store.bytes(), cost("kept", b"1"));
        assert_eq!(store.get("kept").await.unwrap().as_deref(), Some(&b"1"[..]));
    }
}
