//! Each application's signing key, created on first need and sealed at rest, opened
//! once per process into a cached signer and verifier; and the planned → recorded →
//! minted life of a user token. Shared by the login service and both APIs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::DateTime;
use fedgate_domain::clock::Clock;
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{PlannedToken, Store, StoreError, StoredSigningKey, UserTokenRecord};
use fedgate_domain::seal::{SealContext, Sealer};
use secrecy::ExposeSecret;

use crate::{ALGORITHM, MintedToken, SEAL_PURPOSE, TokenError, TokenSigner, TokenVerifier};

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
}

/// Signing keys, signers and verifiers of every application.
pub struct TokenKeys {
    store: Arc<dyn Store>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    issuer: String,
    signers: Mutex<HashMap<ApplicationId, Arc<TokenSigner>>>,
    verifiers: Mutex<HashMap<ApplicationId, Arc<TokenVerifier>>>,
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
            signers: Mutex::default(),
            verifiers: Mutex::default(),
        }
    }

    /// The application's signing key, created if it has none yet.
    pub async fn signing_key(&self, app: ApplicationId) -> Result<StoredSigningKey, KeyError> {
        if let Some(k) = self.store.get_signing_key(app).await? {
            return Ok(k);
        }
        let pair = crate::generate_key()?;
        let mut key = StoredSigningKey {
            kid: pair.kid,
            application_id: app,
            algorithm: ALGORITHM.to_owned(),
            sealed_private: Vec::new(),
            public_key: pair.public_x,
            created_at: self.clock.now(),
        };
        key.sealed_private = self
            .sealer
            .seal(&seal_context(&key), pair.private_pkcs8.expose_secret());
        match self.store.insert_signing_key(&key).await {
            Ok(()) => Ok(key),
            // A concurrent login created it first: use that one.
            Err(StoreError::Conflict(_)) => {
                self.store.get_signing_key(app).await?.ok_or_else(|| {
                    KeyError::Store(StoreError::Backend("signing key vanished".into()))
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A signer for the application's user tokens.
    pub async fn signer(&self, app: ApplicationId) -> Result<Arc<TokenSigner>, KeyError> {
        if let Some(s) = self
            .signers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&app)
        {
            return Ok(Arc::clone(s));
        }
        let key = self.signing_key(app).await?;
        let private = self
            .sealer
            .open(&seal_context(&key), &key.sealed_private)
            .map_err(|e| KeyError::Sealed(e.to_string()))?;
        let signer = Arc::new(TokenSigner::new(
            key.kid,
            &private,
            self.issuer.clone(),
            app.to_string(),
        ));
        self.signers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app, Arc::clone(&signer));
        Ok(signer)
    }

    /// A verifier for the application's user tokens.
    pub async fn verifier(&self, app: ApplicationId) -> Result<Arc<TokenVerifier>, KeyError> {
        if let Some(v) = self
            .verifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&app)
        {
            return Ok(Arc::clone(v));
        }
        let key = self.signing_key(app).await?;
        let verifier = Arc::new(TokenVerifier::new(
            key.kid,
            &key.public_key,
            &self.issuer,
            &app.to_string(),
        )?);
        self.verifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app, Arc::clone(&verifier));
        Ok(verifier)
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
