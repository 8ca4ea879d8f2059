//! Each application's resolved Google set-up (client id and secret, integration), kept
//! in memory briefly so a login start costs no database read. Changes made through
//! this instance invalidate it at once; other instances see them within
//! [`SETUP_TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use fedgate_domain::hosted::{self, ServiceStatus};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::property::{ClientSecret, OauthIntegration, PropertySettings};

use crate::error::ApiError;
use crate::state::AppState;

/// How long another instance's change may take to be seen.
pub const SETUP_TTL: Duration = Duration::from_secs(5);

/// What a login needs from an ACTIVE Google Authentication Service.
#[derive(Debug)]
pub struct GoogleSetup {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret, opened.
    pub client_secret: ClientSecret,
    /// The OAuth integration.
    pub integration: OauthIntegration,
}

/// An application's set-up: `None` when the application does not exist, `Err` with
/// the INACTIVE reason codes, or the set-up.
pub type Setup = Option<Result<GoogleSetup, String>>;

/// Set-ups by application, with when each was loaded.
pub type SetupEntries = std::collections::HashMap<ApplicationId, (Instant, Arc<Setup>)>;
/// Cached set-ups.
pub type SetupCache = std::sync::Mutex<SetupEntries>;

async fn load(state: &AppState, app: ApplicationId) -> Result<Setup, ApiError> {
    if state.store.find_application(app).await?.is_none() {
        return Ok(None);
    }
    let properties = state.store.list_properties(app).await?;
    let service = hosted::google_service(&state.public_base_url, app, &properties, &state.sealer);
    if let ServiceStatus::Inactive(reasons) = service.status {
        return Ok(Some(Err(reasons
            .iter()
            .map(|r| r.code)
            .collect::<Vec<_>>()
            .join(","))));
    }
    let mut credentials = None;
    let mut integration = None;
    for p in &properties {
        match p.parsed_settings() {
            Ok(PropertySettings::GoogleOauthCredentials(g)) => {
                if let Some(Ok(secret)) = p.open_secret(&state.sealer) {
                    credentials = Some((g.client_id.as_str().to_owned(), secret));
                }
            }
            Ok(PropertySettings::OauthIntegration(i)) => integration = Some(i),
            Err(_) => {}
        }
    }
    Ok(Some(match (credentials, integration) {
        (Some((client_id, client_secret)), Some(integration)) => Ok(GoogleSetup {
            client_id,
            client_secret,
            integration,
        }),
        _ => Err("incomplete".into()),
    }))
}

fn lock(state: &AppState) -> Result<std::sync::MutexGuard<'_, SetupEntries>, ApiError> {
    state
        .setups
        .lock()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("set-up cache lock poisoned")))
}

/// The application's set-up, from memory when fresh.
pub async fn get(state: &AppState, app: ApplicationId) -> Result<Arc<Setup>, ApiError> {
    if let Some((at, setup)) = lock(state)?.get(&app)
        && at.elapsed() < SETUP_TTL
    {
        return Ok(Arc::clone(setup));
    }
    let setup = Arc::new(load(state, app).await?);
    // Unknown applications are not remembered: random ids must not grow the cache.
    if setup.is_some() {
        lock(state)?.insert(app, (Instant::now(), Arc::clone(&setup)));
    }
    Ok(setup)
}

/// Forgets the application's set-up after a change through this instance.
pub fn invalidate(state: &AppState, app: ApplicationId) {
    if let Ok(mut cache) = state.setups.lock() {
        cache.remove(&app);
    }
}
