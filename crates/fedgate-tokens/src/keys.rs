//! Each application's signing keys — created with the application, rotated on
//! request, sealed at rest — opened once per process into cached signers and
//! verifiers; and the planned → recorded → minted life of a user token. Shared by
//! the login service and both APIs.
//!
//! A key's life is read from the keys alone, against the clock: it is published
//! (JWKS, verification) from its creation; it signs from `activates_at` until the next
//! key activates; it is then retired — still published, so the tokens it signed verify
//! until they expire — and removed once the longest token lifetime has passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fedgate_domain::clock::Clock;
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{PlannedToken, Store, StoreError, StoredSigningKey, UserTokenRecord};
use fedgate_domain::seal::{SealContext, Sealer};
use secrecy::ExposeSecret;

use crate::{
    ALGORITHM, MintedToken, Rejection, SEAL_PURPOSE, TokenError, TokenSigner, TokenVerifier,
    Unverified,
};

/// How long verifiers may cache an application's JWKS (`Cache-Control: max-age`).
pub const JWKS_MAX_AGE_SECONDS: i64 = 300;
/// How long an instance uses an application's keys as read before reading them again:
/// a rotation made through another instance is seen within this.
const KEY_SET_CACHE: Duration = Duration::from_secs(10);
/// A next key becomes the signing key this long after the rotation: by then every
/// verifier honouring the JWKS `max-age` has fetched a key set holding it.
pub const NEXT_KEY_DELAY_SECONDS: i64 = JWKS_MAX_AGE_SECONDS + KEY_SET_CACHE.as_secs() as i64;
/// The longest lifetime of a user token (30 days): a retired key stays published this
/// long, so every token it signed verifies until it expires.
pub const MAX_TOKEN_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// Why a key or token could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key material or signing failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The stored key could not be opened (master key changed?).
    #[error("the signing key cannot be opened: {0}")]
    Sealed(String),
    /// No key signs now (cannot happen while the first key activates at creation).
    #[error("the application has no signing key in effect")]
    NoSigningKey,
    /// A rotation is under way: its next key is not the signing key yet.
    #[error("a rotation is under way: the next key becomes the signing key at {0}")]
    RotationPending(DateTime<Utc>),
}

/// Where a key is in its life at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Published, not signing yet.
    Next,
    /// Signs new tokens.
    Signing,
    /// Published for the tokens it signed; signs no more.
    Retired,
    /// Past its removal: neither published nor accepted.
    Removed,
}

impl KeyStatus {
    /// The status as the API spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Signing => "signing",
            Self::Retired => "retired",
            Self::Removed => "removed",
        }
    }

    /// Published in the JWKS and accepted by verification.
    #[must_use]
    pub const fn is_published(self) -> bool {
        !matches!(self, Self::Removed)
    }
}

/// One key with its life worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledKey {
    /// Key id.
    pub kid: String,
    /// Created (and published).
    pub created_at: DateTime<Utc>,
    /// Becomes (or became) the signing key.
    pub activates_at: DateTime<Utc>,
    /// Stopped signing: when the next key activated.
    pub retired_at: Option<DateTime<Utc>>,
    /// Leaves the JWKS: retirement plus the longest token lifetime.
    pub removed_at: Option<DateTime<Utc>>,
    /// Where it is now.
    pub status: KeyStatus,
}

/// The life of each of `keys` (earliest activation first, as stored) at `now`.
#[must_use]
pub fn schedule(keys: &[StoredSigningKey], now: DateTime<Utc>) -> Vec<ScheduledKey> {
    let mut keys: Vec<&StoredSigningKey> = keys.iter().collect();
    keys.sort_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)));
    let signing = keys.iter().rposition(|k| k.activates_at <= now);
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let retired_at = keys
                .get(i + 1)
                .map(|n| n.activates_at)
                .filter(|at| *at <= now);
            let removed_at =
                retired_at.map(|at| at + chrono::Duration::seconds(MAX_TOKEN_TTL_SECONDS));
            let status = match signing {
                _ if k.activates_at > now => KeyStatus::Next,
                Some(s) if s == i => KeyStatus::Signing,
                _ if removed_at.is_some_and(|at| at <= now) => KeyStatus::Removed,
                _ => KeyStatus::Retired,
            };
            ScheduledKey {
                kid: k.kid.clone(),
                created_at: k.created_at,
                activates_at: k.activates_at,
                retired_at,
                removed_at,
                status,
            }
        })
        .collect()
}

/// An application's keys as read, with their verifiers and the signers opened so far.
struct KeySet {
    read_at: Instant,
    keys: Vec<StoredSigningKey>,
    verifiers: HashMap<String, Arc<TokenVerifier>>,
    signers: Mutex<HashMap<String, Arc<TokenSigner>>>,
}

/// Verifies an application's user tokens against every key published at the moment
/// of verification.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<(Arc<TokenVerifier>, Option<i64>)>,
}

impl KeyRing {
    /// Checks a token at `now` (Unix seconds): its `kid` must name a key still
    /// published then; then audience, signature, issuer and expiry as
    /// [`TokenVerifier::verify`].
    pub fn verify(&self, token: &str, now: i64) -> Result<crate::UserTokenClaims, Rejection> {
        let token = Unverified::parse(token)?;
        let published = |removed: &Option<i64>| removed.is_none_or(|at| now < at);
        let chosen = self
            .keys
            .iter()
            .find(|(v, removed)| Some(v.kid()) == token.kid() && published(removed))
            // An unknown or removed kid: any key answers — "audience" for another
            // application's token, else "signature".
            .or_else(|| self.keys.last());
        match chosen {
            Some((verifier, _)) => verifier.check(token, now),
            None => Err(Rejection::Signature),
        }
    }
}

/// Signing keys, signers and verifiers of every application.
pub struct TokenKeys {
    store: Arc<dyn Store>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    issuer: String,
    sets: Mutex<HashMap<ApplicationId, Arc<KeySet>>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn seal_context(key: &StoredSigningKey) -> SealContext<'_> {
    SealContext {
        purpose: SEAL_PURPOSE,
        application_id: key.application_id,
        row_id: &key.kid,
    }
}

impl TokenKeys {
    /// Keys kept in `store`, sealed with `sealer`; tokens carry `issuer` as `iss`.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        sealer: Sealer,
        clock: Arc<dyn Clock>,
        issuer: String,
    ) -> Self {
        Self {
            store,
            sealer,
            clock,
            issuer,
            sets: Mutex::default(),
        }
    }

    /// A new key of `app`, signing from `activates_at`, stored.
    async fn create_key(
        &self,
        app: ApplicationId,
        activates_at: DateTime<Utc>,
    ) -> Result<StoredSigningKey, KeyError> {
        let pair = crate::generate_key()?;
        let mut key = StoredSigningKey {
            kid: pair.kid,
            application_id: app,
            algorithm: ALGORITHM.to_owned(),
            sealed_private: Vec::new(),
            public_key: pair.public_x,
            created_at: self.clock.now(),
            activates_at,
        };
        key.sealed_private = self
            .sealer
            .seal(&seal_context(&key), pair.private_pkcs8.expose_secret());
        self.store.insert_signing_key(&key).await?;
        Ok(key)
    }

    /// Gives a new application its first key, so the key is in the JWKS before any
    /// token is signed with it. Does nothing when it has one.
    pub async fn create_first_key(&self, app: ApplicationId) -> Result<(), KeyError> {
        self.key_set(app, true).await.map(|_| ())
    }

    /// The application's keys, read again when `fresh` or after [`KEY_SET_CACHE`]; an
    /// application without any (made before keys came with applications) gets one.
    async fn key_set(&self, app: ApplicationId, fresh: bool) -> Result<Arc<KeySet>, KeyError> {
        if !fresh
            && let Some(set) = self
                .sets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&app)
                .filter(|s| s.read_at.elapsed() < KEY_SET_CACHE)
        {
            return Ok(Arc::clone(set));
        }
        let mut keys = self.store.list_signing_keys(app).await?;
        if keys.is_empty() {
            // Two instances may both get here: each key is valid, and every instance
            // signs with the same one (the latest activation, then the greatest kid).
            keys.push(self.create_key(app, self.clock.now()).await?);
        }
        let verifiers = keys
            .iter()
            .map(|k| {
                let v = TokenVerifier::new(
                    k.kid.clone(),
                    &k.public_key,
                    &self.issuer,
                    &app.to_string(),
                )?;
                Ok((k.kid.clone(), Arc::new(v)))
            })
            .collect::<Result<_, TokenError>>()?;
        let set = Arc::new(KeySet {
            read_at: Instant::now(),
            keys,
            verifiers,
            signers: Mutex::default(),
        });
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app, Arc::clone(&set));
        Ok(set)
    }

    /// The life of each of the application's keys now, earliest activation first.
    pub async fn schedule(&self, app: ApplicationId) -> Result<Vec<ScheduledKey>, KeyError> {
        let set = self.key_set(app, false).await?;
        Ok(schedule(&set.keys, self.clock.now()))
    }

    /// Starts a rotation: a next key, published at once, that becomes the signing
    /// key after [`NEXT_KEY_DELAY_SECONDS`]. Keys past their removal are deleted.
    /// Refused while an earlier rotation's next key is not signing yet.
    pub async fn rotate(&self, app: ApplicationId) -> Result<Vec<ScheduledKey>, KeyError> {
        let set = self.key_set(app, true).await?;
        let now = self.clock.now();
        let before = schedule(&set.keys, now);
        if let Some(next) = before.iter().find(|k| k.status == KeyStatus::Next) {
            return Err(KeyError::RotationPending(next.activates_at));
        }
        let removed: Vec<String> = before
            .iter()
            .filter(|k| k.status == KeyStatus::Removed)
            .map(|k| k.kid.clone())
            .collect();
        self.store.delete_signing_keys(app, &removed).await?;
        self.create_key(app, now + chrono::Duration::seconds(NEXT_KEY_DELAY_SECONDS))
            .await?;
        let set = self.key_set(app, true).await?;
        Ok(schedule(&set.keys, now))
    }

    /// The public keys published now, as JWKs.
    pub async fn jwks(&self, app: ApplicationId) -> Result<Vec<serde_json::Value>, KeyError> {
        let set = self.key_set(app, false).await?;
        let now = self.clock.now();
        Ok(schedule(&set.keys, now)
            .iter()
            .filter(|k| k.status.is_published())
            .filter_map(|k| set.keys.iter().find(|s| s.kid == k.kid))
            .map(|k| crate::public_jwk(&k.kid, &k.public_key))
            .collect())
    }

    /// A signer with the application's signing key now.
    pub async fn signer(&self, app: ApplicationId) -> Result<Arc<TokenSigner>, KeyError> {
        let set = self.key_set(app, false).await?;
        let scheduled = schedule(&set.keys, self.clock.now());
        let kid = scheduled
            .iter()
            .find(|k| k.status == KeyStatus::Signing)
            .map(|k| k.kid.clone())
            .ok_or(KeyError::NoSigningKey)?;
        if let Some(s) = set
            .signers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&kid)
        {
            return Ok(Arc::clone(s));
        }
        let key = set
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(KeyError::NoSigningKey)?;
        let private = self
            .sealer
            .open(&seal_context(key), &key.sealed_private)
            .map_err(|e| KeyError::Sealed(e.to_string()))?;
        let signer = Arc::new(TokenSigner::new(
            kid.clone(),
            &private,
            self.issuer.clone(),
            app.to_string(),
        )?);
        set.signers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(kid, Arc::clone(&signer));
        Ok(signer)
    }

    /// A verifier of the application's user tokens, against every key it publishes.
    pub async fn verifier(&self, app: ApplicationId) -> Result<KeyRing, KeyError> {
        let set = self.key_set(app, false).await?;
        let keys = schedule(&set.keys, self.clock.now())
            .into_iter()
            .filter_map(|k| {
                let v = set.verifiers.get(&k.kid)?;
                Some((Arc::clone(v), k.removed_at.map(|at| at.timestamp())))
            })
            .collect();
        Ok(KeyRing { keys })
    }

    /// The id and lifetime of a token issued now, living `ttl_seconds`.
    #[must_use]
    pub fn plan(&self, ttl_seconds: i64) -> PlannedToken {
        let now = self.clock.now();
        // Whole seconds, as in the JWT.
        let issued_at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        PlannedToken {
            id: TokenId::generate(),
            issued_at,
            expires_at: issued_at + chrono::Duration::seconds(ttl_seconds),
        }
    }

    /// Issues a token for `user`: records it, then mints it.
    pub async fn issue(
        &self,
        app: ApplicationId,
        user: &UserId,
        ttl_seconds: i64,
    ) -> Result<(PlannedToken, MintedToken), KeyError> {
        let plan = self.plan(ttl_seconds);
        // The signing key first: a token must never be recorded without one to mint it.
        let signer = self.signer(app).await?;
        self.store
            .record_user_token(&record(app, user, &plan))
            .await?;
        Ok((plan, mint(&signer, user, &plan)?))
    }
}

/// The record of a planned token for `user`.
#[must_use]
pub fn record(app: ApplicationId, user: &UserId, plan: &PlannedToken) -> UserTokenRecord {
    UserTokenRecord {
        id: plan.id,
        application_id: app,
        user_id: user.clone(),
        issued_at: plan.issued_at,
        expires_at: plan.expires_at,
        revoked_at: None,
        last_seen_at: None,
    }
}

/// Mints the planned token for `user` (already recorded).
pub fn mint(
    signer: &TokenSigner,
    user: &UserId,
    plan: &PlannedToken,
) -> Result<MintedToken, TokenError> {
    signer.mint(
        user,
        plan.id.to_string(),
        plan.issued_at.timestamp(),
        plan.expires_at.timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, activates_at: i64) -> StoredSigningKey {
        StoredSigningKey {
            kid: kid.into(),
            application_id: ApplicationId::generate(),
            algorithm: ALGORITHM.into(),
            sealed_private: Vec::new(),
            public_key: String::new(),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            activates_at: DateTime::from_timestamp(activates_at, 0).unwrap(),
        }
    }

    fn statuses(keys: &[StoredSigningKey], now: i64) -> Vec<KeyStatus> {
        schedule(keys, DateTime::from_timestamp(now, 0).unwrap())
            .into_iter()
            .map(|k| k.status)
            .collect()
    }

    #[test]
    fn a_key_is_next_then_signing_then_retired_then_removed() {
        use KeyStatus::{Next, Removed, Retired, Signing};
        let keys = [key("a", 0), key("b", 1000), key("c", 2000)];
        assert_eq!(statuses(&keys, 999), [Signing, Next, Next]);
        assert_eq!(statuses(&keys, 1000), [Retired, Signing, Next]);
        assert_eq!(statuses(&keys, 2000), [Retired, Retired, Signing]);
        let gone = 1000 + MAX_TOKEN_TTL_SECONDS;
        assert_eq!(statuses(&keys, gone - 1), [Retired, Retired, Signing]);
        assert_eq!(statuses(&keys, gone), [Removed, Retired, Signing]);
        let s = schedule(&keys, DateTime::from_timestamp(gone, 0).unwrap());
        assert_eq!(s[0].retired_at.unwrap().timestamp(), 1000);
        assert_eq!(s[2].retired_at, None);
        // Stored in any order, two keys activating at once: one signer, the same on
        // every instance (the greater kid).
        let tied = [key("y", 5), key("x", 5)];
        assert_eq!(
            schedule(&tied, DateTime::from_timestamp(6, 0).unwrap())
                .iter()
                .map(|k| (k.kid.as_str(), k.status))
                .collect::<Vec<_>>(),
            [("x", Retired), ("y", Signing)]
        );
    }
}
