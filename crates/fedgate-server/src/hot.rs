//! Short-lived copies of what the application API reads on every call: the access key
//! that signed it (with its application) and the verdict of a token verification.
//!
//! Safety over hit rate: every entry lives at most [`HOT_TTL`] (under a second), so a
//! revocation made on any instance — a token, a user, an access key, an application —
//! is refused by every other instance within one second without any message between
//! them, and survives a Redis flush because the database stays the source of truth.
//! On the instance that made the change, the application's entries are dropped at
//! once, and a copy read before the change but arriving after it is not kept. What is cached is keyed by exactly what was checked (a token by the SHA-256
//! of its full text), and time-dependent checks (expiry) run on every use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fedgate_domain::access_key::{AccessKey, AccessKeyId, StoredAccessKey};
use fedgate_domain::application::Application;
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{AccessKeyRepository, StoreResult};
use sha2::{Digest, Sha256};

/// The longest an entry is used: what another instance's revocation may wait for.
pub const HOT_TTL: Duration = Duration::from_millis(800);
/// Entries per map; past this, expired ones are dropped, then all of them.
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Clone)]
struct Timed<T> {
    at: Instant,
    value: T,
}

/// A small map of entries that expire after [`HOT_TTL`].
#[derive(Debug)]
struct TtlMap<K, V> {
    map: Mutex<HashMap<K, Timed<V>>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key)
            .filter(|e| e.at.elapsed() < HOT_TTL)
            .map(|e| e.value.clone())
    }

    /// Stores `value`, read after `changes` was `seen`, unless something changed
    /// since (checked under the map's lock, which the change's clean-up takes after
    /// counting itself: a copy read before a change never outlives it).
    fn put(&self, key: K, value: V, changes: &AtomicU64, seen: u64) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if changes.load(Ordering::SeqCst) != seen {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.at.elapsed() < HOT_TTL);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            key,
            Timed {
                at: Instant::now(),
                value,
            },
        );
    }

    fn update(&self, key: &K, f: impl FnOnce(&mut V)) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = map.get_mut(key) {
            f(&mut e.value);
        }
    }

    fn retain(&self, keep: impl Fn(&K, &V) -> bool) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|k, e| keep(k, &e.value));
    }
}

/// An active token's verdict as last checked: the response body, and until when it
/// may be given again without checking (the token's expiry).
#[derive(Debug, Clone)]
pub struct CachedVerdict {
    /// The serialized `TokenVerdictDto`.
    pub body: actix_web::web::Bytes,
    /// The token's `exp`.
    pub expires_at: DateTime<Utc>,
}

/// The hot path's caches.
#[derive(Debug)]
pub struct HotCache {
    /// Revocations and deletions made through this instance so far.
    changes: AtomicU64,
    keys: TtlMap<AccessKeyId, StoredAccessKey>,
    applications: TtlMap<ApplicationId, Application>,
    verdicts: TtlMap<(ApplicationId, [u8; 32]), CachedVerdict>,
}

impl Default for HotCache {
    fn default() -> Self {
        Self {
            changes: AtomicU64::new(0),
            keys: TtlMap::new(),
            applications: TtlMap::new(),
            verdicts: TtlMap::new(),
        }
    }
}

/// A token's cache key: the SHA-256 of its whole text.
#[must_use]
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl HotCache {
    /// What to hand back with a copy about to be read from storage (see the `put_*`).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// The application, if read less than [`HOT_TTL`] ago.
    #[must_use]
    pub fn application(&self, id: ApplicationId) -> Option<Application> {
        self.applications.get(&id)
    }

    /// Remembers an application read after [`HotCache::generation`] gave `seen`.
    pub fn put_application(&self, application: Application, seen: u64) {
        self.applications
            .put(application.id, application, &self.changes, seen);
    }

    /// The verdict of `token` for `app`, if one was reached less than [`HOT_TTL`]
    /// ago and the token has not expired since.
    #[must_use]
    pub fn verdict(
        &self,
        app: ApplicationId,
        digest: [u8; 32],
        now: DateTime<Utc>,
    ) -> Option<CachedVerdict> {
        self.verdicts
            .get(&(app, digest))
            .filter(|v| now < v.expires_at)
    }

    /// Remembers an active token's verdict, reached after [`HotCache::generation`] gave
    /// `seen`.
    pub fn put_verdict(
        &self,
        app: ApplicationId,
        digest: [u8; 32],
        verdict: CachedVerdict,
        seen: u64,
    ) {
        self.verdicts
            .put((app, digest), verdict, &self.changes, seen);
    }

    /// Drops everything cached about `app` (its keys, itself, its tokens' verdicts):
    /// called by this instance after it revokes or deletes anything there.
    pub fn forget_application(&self, app: ApplicationId) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.keys.retain(|_, k| k.key.application_id != app);
        self.applications.retain(|id, _| *id != app);
        self.verdicts.retain(|(a, _), _| *a != app);
    }

    /// The access keys, read through this cache.
    #[must_use]
    pub fn keys<'a>(&'a self, store: &'a dyn AccessKeyRepository) -> CachedKeys<'a> {
        CachedKeys { cache: self, store }
    }
}

/// The access-key repository with `find_access_key` answered from the cache while
/// fresh; everything else goes to the store (and revocation drops the cache's copy).
#[derive(Clone, Copy)]
pub struct CachedKeys<'a> {
    cache: &'a HotCache,
    store: &'a dyn AccessKeyRepository,
}

impl std::fmt::Debug for CachedKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedKeys").finish_non_exhaustive()
    }
}

#[async_trait]
impl AccessKeyRepository for CachedKeys<'_> {
    async fn insert_access_key(&self, key: &StoredAccessKey, max_active: u64) -> StoreResult<()> {
        self.store.insert_access_key(key, max_active).await
    }

    async fn list_access_keys(&self, app: ApplicationId) -> StoreResult<Vec<AccessKey>> {
        self.store.list_access_keys(app).await
    }

    async fn find_access_key(&self, id: &AccessKeyId) -> StoreResult<Option<StoredAccessKey>> {
        if let Some(key) = self.cache.keys.get(id) {
            return Ok(Some(key));
        }
        let seen = self.cache.generation();
        let found = self.store.find_access_key(id).await?;
        if let Some(key) = &found {
            self.cache
                .keys
                .put(id.clone(), key.clone(), &self.cache.changes, seen);
        }
        Ok(found)
    }

    async fn revoke_access_key(
        &self,
        app: ApplicationId,
        id: &AccessKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccessKey>> {
        let revoked = self.store.revoke_access_key(app, id, now).await;
        self.cache.forget_application(app);
        revoked
    }

    async fn touch_access_key(&self, id: &AccessKeyId, now: DateTime<Utc>) -> StoreResult<()> {
        self.store.touch_access_key(id, now).await?;
        // The cached copy would otherwise ask for a touch on every call until it expires.
        self.cache
            .keys
            .update(id, |k| k.key.last_used_at = Some(now));
        Ok(())
    }
}
