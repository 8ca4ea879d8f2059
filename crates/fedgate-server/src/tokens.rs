//! Per-application user-token signing keys: created on first need, sealed at rest,
//! opened once per process and cached.

use std::sync::Arc;

use chrono::DateTime;
use fedgate_domain::ids::{ApplicationId, TokenId, UserId};
use fedgate_domain::ports::{PlannedToken, StoreError, StoredSigningKey, UserTokenRecord};
use fedgate_domain::seal::SealContext;
use fedgate_tokens::{ALGORITHM, MintedToken, SEAL_PURPOSE, TokenSigner, TokenVerifier};
use fedgate_wire::users::IssuedTokenDto;
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

/// The `iss` of user tokens: the public base URL without its trailing slash.
fn issuer(state: &AppState) -> String {
    state
        .public_base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

fn poisoned() -> ApiError {
    ApiError::internal(anyhow::anyhow!("lock poisoned"))
}

/// A signer for the application's user tokens.
pub async fn signer(state: &AppState, app: ApplicationId) -> Result<Arc<TokenSigner>, ApiError> {
    if let Some(s) = state.signers.lock().map_err(|_| poisoned())?.get(&app) {
        return Ok(Arc::clone(s));
    }
    let key = signing_key(state, app).await?;
    let private = state
        .sealer
        .open(&seal_context(&key), &key.sealed_private)
        .map_err(ApiError::internal)?;
    let signer = Arc::new(TokenSigner::new(
        key.kid,
        &private,
        issuer(state),
        app.to_string(),
    ));
    state
        .signers
        .lock()
        .map_err(|_| poisoned())?
        .insert(app, Arc::clone(&signer));
    Ok(signer)
}

/// A verifier for the application's user tokens.
pub async fn verifier(
    state: &AppState,
    app: ApplicationId,
) -> Result<Arc<TokenVerifier>, ApiError> {
    if let Some(v) = state.verifiers.lock().map_err(|_| poisoned())?.get(&app) {
        return Ok(Arc::clone(v));
    }
    let key = signing_key(state, app).await?;
    let verifier = Arc::new(
        TokenVerifier::new(key.kid, &key.public_key, &issuer(state), &app.to_string())
            .map_err(ApiError::internal)?,
    );
    state
        .verifiers
        .lock()
        .map_err(|_| poisoned())?
        .insert(app, Arc::clone(&verifier));
    Ok(verifier)
}

/// The id and lifetime of a token to issue now, living `ttl_seconds`.
pub fn plan(state: &AppState, ttl_seconds: i64) -> PlannedToken {
    let now = state.clock.now();
    // Whole seconds, as in the JWT.
    let issued_at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    PlannedToken {
        id: TokenId::generate(),
        issued_at,
        expires_at: issued_at + chrono::Duration::seconds(ttl_seconds),
    }
}

/// Mints the planned token for `user` (already recorded) with the application's
/// signer.
pub fn mint(
    signer: &TokenSigner,
    user: &UserId,
    plan: &PlannedToken,
) -> Result<MintedToken, ApiError> {
    signer
        .mint(
            user,
            plan.id.to_string(),
            plan.issued_at.timestamp(),
            plan.expires_at.timestamp(),
        )
        .map_err(ApiError::internal)
}

/// Issues a token for `user`: records it, then mints it.
pub async fn issue(
    state: &AppState,
    app: ApplicationId,
    user: &UserId,
    ttl_seconds: i64,
) -> Result<IssuedTokenDto, ApiError> {
    let plan = plan(state, ttl_seconds);
    // The signing key first: a token must never be recorded without one to mint it.
    let signer = signer(state, app).await?;
    state
        .store
        .record_user_token(&UserTokenRecord {
            id: plan.id,
            application_id: app,
            user_id: user.clone(),
            issued_at: plan.issued_at,
            expires_at: plan.expires_at,
            revoked_at: None,
            last_seen_at: None,
        })
        .await?;
    Ok(IssuedTokenDto {
        token: mint(&signer, user, &plan)?.token,
        token_id: plan.id.to_string(),
        user_id: user.to_string(),
        issued_at: plan.issued_at,
        expires_at: plan.expires_at,
    })
}
