//! Per-application user-token signing keys: created on first need, sealed at rest,
//! opened once per process and cached.

use std::sync::Arc;

use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{StoreError, StoredSigningKey};
use fedgate_domain::seal::SealContext;
use fedgate_tokens::{ALGORITHM, SEAL_PURPOSE, TokenSigner};
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::state::AppState;

fn seal_context(key: &StoredSigningKey) -> SealContext<'_> {
    SealContext {
        purpose: SEAL_PURPOSE,
        application_id: key.application_id,
        row_id: &key.kid,
    }
}

/// The application's signing key, created if it has none yet.
pub async fn signing_key(
    state: &AppState,
    app: ApplicationId,
) -> Result<StoredSigningKey, ApiError> {
    if let Some(k) = state.store.get_signing_key(app).await? {
        return Ok(k);
    }
    let pair = fedgate_tokens::generate_key().map_err(ApiError::internal)?;
    let mut key = StoredSigningKey {
        kid: pair.kid,
        application_id: app,
        algorithm: ALGORITHM.to_owned(),
        sealed_private: Vec::new(),
        public_key: pair.public_x,
        created_at: state.clock.now(),
    };
    key.sealed_private = state
        .sealer
        .seal(&seal_context(&key), pair.private_pkcs8.expose_secret());
    match state.store.insert_signing_key(&key).await {
        Ok(()) => Ok(key),
        // A concurrent login created it first: use that one.
        Err(StoreError::Conflict(_)) => state
            .store
            .get_signing_key(app)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("signing key vanished"))),
        Err(e) => Err(e.into()),
    }
}

/// A signer for the application's user tokens.
pub async fn signer(state: &AppState, app: ApplicationId) -> Result<Arc<TokenSigner>, ApiError> {
    if let Some(s) = state
        .signers
        .lock()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("lock poisoned")))?
        .get(&app)
    {
        return Ok(Arc::clone(s));
    }
    let key = signing_key(state, app).await?;
    let private = state
        .sealer
        .open(&seal_context(&key), &key.sealed_private)
        .map_err(ApiError::internal)?;
    let issuer = state
        .public_base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let signer = Arc::new(TokenSigner::new(
        key.kid,
        &private,
        issuer,
        app.to_string(),
        state.settings.user_token_ttl_seconds,
    ));
    state
        .signers
        .lock()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("lock poisoned")))?
        .insert(app, Arc::clone(&signer));
    Ok(signer)
}
