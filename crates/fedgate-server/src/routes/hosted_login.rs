//! The hosted Google sign-in: the login endpoint apps send browsers to, and the
//! callback Google returns to. A bad start gets an error page and no redirect; once a
//! start was valid, every outcome goes back to the app's registered redirect URI.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use fedgate_domain::access_key::{ReceivedRequest, SignatureHeaders};
use fedgate_domain::events::{Event, EventKind};
use fedgate_domain::federation::{
    GOOGLE_PROVIDER, ProviderProfile, TOKENS_PURPOSE, UpstreamTokens,
};
use fedgate_domain::hosted::{self, ServiceKind};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::linking::AssertedLocator;
use fedgate_domain::login::{
    self, LOGIN_RECORD_TTL_SECONDS, LoginRecord, LoginResult, RESULT_CODE_TTL_SECONDS,
};
use fedgate_domain::ports::{FederatedLogin, TokenSeal};
use fedgate_domain::property::ResultDelivery;
use fedgate_domain::seal::SealContext;
use fedgate_domain::user::Locator;
use fedgate_provider::{AuthorizationRequest, IdTokenClaims, ProviderError};
use serde::Deserialize;

use crate::error::ApiError;
use crate::login_setup;
use crate::state::AppState;
use crate::throttle::Limit;

/// Query parameters that carry a login request's signature (state signing).
const SIGNATURE_PARAMS: [&str; 4] = ["accessKeyId", "timestamp", "nonce", "signature"];

/// A page for a person in a browser, when there is nowhere safe to redirect.
fn error_page(status: StatusCode, title: &str, detail: &str) -> HttpResponse {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>{t}</h1><p>{d}</p><p><small>Request id: {id}</small></p></body></html>",
        t = escape(title),
        d = escape(detail),
        id = crate::request_context::current_id()
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(body)
}

fn redirect(location: &str) -> HttpResponse {
    let mut res = HttpResponse::Found();
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    match HeaderValue::from_str(location) {
        Ok(v) => res.insert_header((header::LOCATION, v)).finish(),
        Err(_) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The redirect address is invalid.",
        ),
    }
}

fn failure(state: &AppState, app: ApplicationId, reason: &str, detail: String) {
    let mut e = Event::new(app, EventKind::LoginFailed, state.clock.now());
    e.provider = Some(GOOGLE_PROVIDER.into());
    e.reason = Some(reason.to_owned());
    e.detail = Some(detail);
    state.events.record(e);
}

fn callback_uri(state: &AppState, app: ApplicationId) -> String {
    hosted::google_callback_url(&state.public_base_url, app).to_string()
}

const fn per_minute(name: &'static str, limit: u64) -> Limit {
    Limit {
        name,
        limit,
        window: Duration::from_secs(60),
    }
}

/// Parameters of the login endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct StartParams {
    redirect_uri: Option<String>,
    state: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
    #[serde(rename = "accessKeyId")]
    access_key_id: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    signature: Option<String>,
}

/// The raw query without the signature parameters: what a signed start covers.
fn unsigned_query(raw: &str) -> String {
    raw.split('&')
        .filter(|piece| {
            let name = piece.split('=').next().unwrap_or("");
            !SIGNATURE_PARAMS.contains(&name)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /hosted/{appId}/google/login` — the Google OAuth endpoint.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/google/login",
    tag = "hosted login",
    params(
        ("appId" = String, Path, description = "Application id"),
        ("redirect_uri" = Option<String>, Query, description = "Exactly one of the registered redirect URIs; optional when only one is registered"),
        ("state" = Option<String>, Query, description = "Opaque value returned to the app untouched"),
        ("login_hint" = Option<String>, Query, description = "Passed to Google"),
        ("prompt" = Option<String>, Query, description = "Passed to Google (`none`, `consent`, `select_account`)"),
        ("accessKeyId" = Option<String>, Query, description = "State signing: access key id"),
        ("timestamp" = Option<String>, Query, description = "State signing: Unix seconds"),
        ("nonce" = Option<String>, Query, description = "State signing: single-use nonce"),
        ("signature" = Option<String>, Query, description = "State signing: HMAC-SHA256, see docs/hosted-login.md")
    ),
    responses(
        (status = 302, description = "To Google"),
        (status = 400, description = "Error page: bad or unsigned request, unregistered redirect URI, inactive service"),
        (status = 404, description = "Error page: unknown application")
    )
)]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let limit = per_minute(
        "login-start",
        state.settings.limits.login_starts_per_address_per_minute,
    );
    limit
        .hit(state.state.as_ref(), &state.client_ip(&req))
        .await?;
    let raw_query = req.uri().query().unwrap_or("");
    let Ok(params) = web::Query::<StartParams>::from_query(raw_query) else {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in request not understood",
            "The request's parameters are malformed.",
        ));
    };
    let params = params.into_inner();
    let unknown = || {
        error_page(
            StatusCode::NOT_FOUND,
            "Unknown application",
            "This sign-in link does not belong to any application.",
        )
    };
    let Some(app) = ApplicationId::parse(&path) else {
        return Ok(unknown());
    };
    let cached = login_setup::get(&state, app).await?;
    let setup = match cached.as_ref() {
        None => return Ok(unknown()),
        Some(Ok(s)) => s,
        Some(Err(reasons)) => {
            failure(
                &state,
                app,
                "service_inactive",
                format!("Google Authentication Service is INACTIVE: {reasons}"),
            );
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "Sign-in is not available",
                "This application's Google sign-in is not set up (its Hosted Services status is INACTIVE).",
            ));
        }
    };
    let registered = &setup.integration.redirect_uris;
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if registered.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            failure(
                &state,
                app,
                "redirect_uri_unregistered",
                "redirect_uri is not registered".into(),
            );
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "Sign-in request refused",
                "The redirect_uri is not one of this application's registered redirect URIs (they must match exactly).",
            ));
        }
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            failure(
                &state,
                app,
                "redirect_uri_missing",
                "several redirect URIs are registered; none was given".into(),
            );
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "Sign-in request refused",
                "redirect_uri is required for this application.",
            ));
        }
    };
    if setup.integration.require_state_signing {
        let headers = SignatureHeaders {
            key_id: params.access_key_id.as_deref(),
            timestamp: params.timestamp.as_deref(),
            nonce: params.nonce.as_deref(),
            signature: params.signature.as_deref(),
        };
        let query = unsigned_query(raw_query);
        let received = ReceivedRequest {
            method: "GET",
            path: req.uri().path(),
            query: &query,
            body: b"",
        };
        let outcome = crate::signed::authenticate(&state, headers, received).await;
        let reason = match outcome {
            Ok(key) if key.application_id == app => None,
            Ok(_) => Some("signature_foreign_key".to_owned()),
            Err(e) => Some(format!("signature_invalid:{}", ApiError::from(e).code())),
        };
        if let Some(reason) = reason {
            failure(
                &state,
                app,
                &reason,
                "state signing is required and the request's signature was refused".into(),
            );
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "Sign-in request refused",
                "This application only accepts sign-in requests signed by its backend, and this one's signature was missing, wrong, stale or already used.",
            ));
        }
    }

    let (pkce_verifier, pkce_challenge) = fedgate_provider::pkce_pair();
    let nonce = fedgate_domain::random::token();
    let provider_state = fedgate_domain::random::token();
    let record = LoginRecord {
        application_id: app,
        provider_config: GOOGLE_PROVIDER.into(),
        issuer: state.google.canonical_issuer.clone(),
        client_id: setup.client_id.clone(),
        redirect_uri,
        app_state: params.state.clone(),
        pkce_verifier,
        nonce: nonce.clone(),
        offline: setup.integration.require_state_signing,
        result_delivery: setup.integration.result_delivery,
        auto_create_users: setup.integration.auto_create_users,
    };
    let bytes = serde_json::to_vec(&record).map_err(ApiError::internal)?;
    state
        .state
        .put(
            &format!("login:{provider_state}"),
            &bytes,
            Duration::from_secs(LOGIN_RECORD_TTL_SECONDS),
        )
        .await?;
    let callback = callback_uri(&state, app);
    let url = fedgate_provider::authorization_url(
        &state.google,
        &AuthorizationRequest {
            client_id: &setup.client_id,
            redirect_uri: &callback,
            state: &provider_state,
            nonce: &nonce,
            pkce_challenge: &pkce_challenge,
            login_hint: params.login_hint.as_deref(),
            prompt: params.prompt.as_deref(),
            offline: record.offline,
        },
    );
    let mut event = Event::new(app, EventKind::LoginStarted, state.clock.now());
    event.provider = Some(GOOGLE_PROVIDER.into());
    state.events.record(event);
    Ok(redirect(url.as_str()))
}

/// Parameters Google sends to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn error_redirect(record: &LoginRecord, error: &str, description: &str) -> HttpResponse {
    let pairs = [
        ("error", error.to_owned()),
        ("error_description", description.to_owned()),
    ];
    redirect(&login::redirect_to_app(
        &record.redirect_uri,
        &pairs,
        record.app_state.as_deref(),
    ))
}

/// `GET /hosted/{appId}/google/callback` — the Google Redirect URI.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/google/callback",
    tag = "hosted login",
    params(("appId" = String, Path, description = "Application id")),
    responses(
        (status = 302, description = "To the app's redirect URI with the result (or `error`, `error_description`, `state`)"),
        (status = 400, description = "Error page: unknown, expired or replayed state")
    )
)]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let limit = per_minute(
        "callback",
        state.settings.limits.callbacks_per_address_per_minute,
    );
    limit
        .hit(state.state.as_ref(), &state.client_ip(&req))
        .await?;
    let params = web::Query::<CallbackParams>::from_query(req.uri().query().unwrap_or(""))
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let app = ApplicationId::parse(&path);
    let Some(provider_state) = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 128)
    else {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "The sign-in response has no state; start again from the app.",
        ));
    };
    let Some(bytes) = state.state.take(&format!("login:{provider_state}")).await? else {
        let replayed = state
            .state
            .get(&format!("login-used:{provider_state}"))
            .await?
            .is_some();
        if let Some(app) = app
            && state.store.find_application(app).await?.is_some()
        {
            let reason = if replayed {
                "state_replayed"
            } else {
                "state_unknown_or_expired"
            };
            failure(
                &state,
                app,
                reason,
                "the callback's state matches no pending login".into(),
            );
        }
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "This sign-in response was already used or has expired. Start again from the app.",
        ));
    };
    state
        .state
        .put(
            &format!("login-used:{provider_state}"),
            b"1",
            Duration::from_secs(LOGIN_RECORD_TTL_SECONDS),
        )
        .await?;
    let record: LoginRecord = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    // Mix-up defence: the record must belong to this application and this provider.
    if app != Some(record.application_id) || record.provider_config != GOOGLE_PROVIDER {
        failure(
            &state,
            record.application_id,
            "callback_mismatch",
            "the login came back to another application's callback".into(),
        );
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "This sign-in response does not belong here.",
        ));
    }
    let app = record.application_id;

    if let Some(error) = params.error.as_deref() {
        let description = params
            .error_description
            .clone()
            .unwrap_or_else(|| "the provider refused the sign-in".into());
        failure(
            &state,
            app,
            &format!("provider_error:{error}"),
            description.clone(),
        );
        let code = if error == "access_denied" {
            "access_denied"
        } else {
            "server_error"
        };
        return Ok(error_redirect(
            &record,
            code,
            &format!("Google: {description}"),
        ));
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        failure(
            &state,
            app,
            "code_missing",
            "the provider sent neither code nor error".into(),
        );
        return Ok(error_redirect(
            &record,
            "server_error",
            "Google sent no authorization code",
        ));
    };

    match complete(&state, &record, code).await {
        Ok(location) => Ok(redirect(&location)),
        Err(Failure {
            reason,
            detail,
            error,
        }) => {
            failure(&state, app, &reason, detail.clone());
            Ok(error_redirect(&record, error, &detail))
        }
    }
}

/// A failure after a valid start: event reason, description, OAuth error code.
struct Failure {
    reason: String,
    detail: String,
    error: &'static str,
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        let error = match &e {
            ProviderError::Unreachable(_) => "temporarily_unavailable",
            _ => "server_error",
        };
        Self {
            reason: e.reason(),
            detail: e.to_string(),
            error,
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        tracing::error!(error = %e, "login could not be completed");
        Self {
            reason: "internal_error".into(),
            detail: "Fedgate could not complete the sign-in".into(),
            error: "server_error",
        }
    }
}

fn profile_from(
    claims: &IdTokenClaims,
    userinfo: &serde_json::Map<String, serde_json::Value>,
) -> ProviderProfile {
    let text = |k: &str| userinfo.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    ProviderProfile {
        subject: claims.sub.clone(),
        email: claims.email.clone(),
        email_verified: claims.email_verified,
        email_vouched: ProviderProfile::google_vouches(
            claims.email.as_deref(),
            claims.email_verified,
            claims.hd.as_deref(),
        ),
        name: claims.name.clone().or_else(|| text("name")),
        given_name: claims.given_name.clone().or_else(|| text("given_name")),
        family_name: claims.family_name.clone().or_else(|| text("family_name")),
        picture: claims.picture.clone().or_else(|| text("picture")),
        locale: claims.locale.clone().or_else(|| text("locale")),
        hosted_domain: claims.hd.clone(),
    }
}

/// Redeems the code, validates, resolves the user, and returns where to send the browser.
async fn complete(state: &AppState, record: &LoginRecord, code: &str) -> Result<String, Failure> {
    let app = record.application_id;
    let changed = |detail: &str| Failure {
        reason: "configuration_changed".into(),
        detail: detail.to_owned(),
        error: "server_error",
    };
    let cached = login_setup::get(state, app).await?;
    let Some(Ok(setup)) = cached.as_ref() else {
        return Err(changed(
            "the Google Authentication Service is no longer ACTIVE",
        ));
    };
    if setup.client_id != record.client_id {
        return Err(changed("the Google client id changed during sign-in"));
    }
    let (client_id, secret) = (&setup.client_id, &setup.client_secret);
    let callback = callback_uri(state, app);
    let tokens = state
        .provider
        .redeem_code(
            &state.google,
            client_id,
            secret.expose(),
            &callback,
            code,
            &record.pkce_verifier,
        )
        .await?;
    let id_token = tokens.id_token.as_deref().ok_or(ProviderError::NoIdToken)?;
    let now = state.clock.now();
    let claims = state
        .provider
        .validate_id_token(
            &state.google,
            id_token,
            client_id,
            &record.nonce,
            now.timestamp(),
        )
        .await
        .map_err(ProviderError::from)?;
    let userinfo = state
        .provider
        .userinfo(&state.google, &tokens.access_token, &claims.sub)
        .await?;
    let profile = profile_from(&claims, &userinfo);
    let asserted: Vec<AssertedLocator> = profile
        .email
        .as_deref()
        .and_then(|e| Locator::parse(fedgate_domain::user::LocatorKind::Email, "email", e).ok())
        .map(|locator| AssertedLocator {
            locator,
            vouched: profile.email_vouched,
        })
        .into_iter()
        .collect();
    let upstream = UpstreamTokens {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
    };
    let plain = serde_json::to_vec(&upstream).map_err(ApiError::internal)?;
    let sealer = state.sealer.clone();
    let seal = TokenSeal::new(move |fed_id| {
        let row = fed_id.to_string();
        sealer.seal(
            &SealContext {
                purpose: TOKENS_PURPOSE,
                application_id: app,
                row_id: &row,
            },
            &plain,
        )
    });
    let plan = crate::tokens::plan(state, state.settings.user_token_ttl_seconds);
    // The key exists before the token is recorded in the resolving transaction.
    let signer = crate::tokens::signer(state, app).await?;
    let resolution = state
        .store
        .resolve_federated_login(&FederatedLogin {
            application_id: app,
            provider_config: record.provider_config.clone(),
            issuer: record.issuer.clone(),
            profile,
            asserted,
            auto_create: record.auto_create_users,
            now,
            upstream_tokens: Some(seal),
            login_token: Some(plan),
        })
        .await
        .map_err(ApiError::from)?;
    let fed_id = resolution.federated_user_id;

    let auto_login_token = match &resolution.user_id {
        Some(user) => Some(crate::tokens::mint(&signer, user, &plan)?.token),
        None => None,
    };
    let mut external = tokens.access_token.clone();
    if record.offline
        && let Some(refresh) = &tokens.refresh_token
    {
        external.push(',');
        external.push_str(refresh);
    }
    let result = LoginResult {
        federating_service: ServiceKind::GoogleAuthentication
            .federating_service()
            .to_owned(),
        link_candidates: resolution.candidates.clone(),
        auto_login_token,
        federated_user_id: fed_id,
        linked_user: resolution.user_id.clone(),
        external_service_tokens: external,
    };

    let mut event = Event::new(app, EventKind::LoginSucceeded, now);
    event.provider = Some(record.provider_config.clone());
    event.outcome = Some(resolution.outcome.to_owned());
    event.federated_user_id = Some(fed_id);
    event.user_id = resolution.user_id.clone();
    if resolution.user_id.is_none() {
        event.detail = Some(format!("{} candidate(s)", resolution.candidates.len()));
    }
    state.events.record(event);

    Ok(match record.result_delivery {
        ResultDelivery::Query => login::redirect_to_app(
            &record.redirect_uri,
            &result.query_pairs(),
            record.app_state.as_deref(),
        ),
        ResultDelivery::Code => {
            let code = fedgate_domain::random::token();
            let stored = serde_json::to_vec(&result).map_err(ApiError::internal)?;
            state
                .state
                .put(
                    &result_key(app, &code),
                    &stored,
                    Duration::from_secs(RESULT_CODE_TTL_SECONDS),
                )
                .await
                .map_err(ApiError::from)?;
            login::redirect_to_app(
                &record.redirect_uri,
                &[("resultCode", code)],
                record.app_state.as_deref(),
            )
        }
    })
}

/// The state-store key of a result code: scoped to its application, so another
/// application's key cannot even consume it.
pub fn result_key(app: ApplicationId, code: &str) -> String {
    format!("result:{app}:{code}")
}
