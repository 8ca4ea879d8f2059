//! The hosted login endpoints of every provider: the login endpoint apps send browsers
//! to and the callback the provider returns to, at `/hosted/{appId}/{slug}/…`
//! (`google` for Google). Parse → call `fedgate-login` → render a redirect or an error
//! page.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{Charge, StoreError};
use fedgate_domain::property::GOOGLE_SLUG;
use fedgate_login::outcome::ErrorPage;
use fedgate_login::{CallbackRequest, Completed, StartRequest, Started};

use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::Limit;

/// A page for a person in a browser, when there is nowhere safe to redirect.
fn error_page(page: &ErrorPage) -> HttpResponse {
    let body = format!(
        "<p>{}</p><p><small>Request id: {}</small></p>",
        crate::html::escape(&page.detail),
        crate::request_context::current_id()
    );
    crate::html::page(
        StatusCode::from_u16(page.status).unwrap_or(StatusCode::BAD_REQUEST),
        page.title,
        &body,
    )
}

/// A person's page when Fedgate's database or state store does not answer (a Redis
/// or PostgreSQL outage): a clear message and `Retry-After`, never a JSON body.
fn unavailable_page() -> HttpResponse {
    let mut page = error_page(&ErrorPage {
        status: 503,
        title: "Sign-in is temporarily unavailable",
        detail: "Fedgate cannot reach its storage right now. Please try again in a moment.".into(),
    });
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    page
}

/// A storage outage as a page for the person; other errors as they are.
fn for_a_person(e: ApiError) -> Result<HttpResponse, ApiError> {
    if e.code() == fedgate_wire::error::ErrorCode::Unavailable
        && e.status_code() == StatusCode::SERVICE_UNAVAILABLE
    {
        Ok(unavailable_page())
    } else {
        Err(e)
    }
}

fn redirect(location: &str) -> HttpResponse {
    let mut res = HttpResponse::Found();
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    match HeaderValue::from_str(location) {
        Ok(v) => res.insert_header((header::LOCATION, v)).finish(),
        Err(_) => error_page(&ErrorPage {
            status: 500,
            title: "Sign-in failed",
            detail: "The redirect address is invalid.".into(),
        }),
    }
}

/// The browser-binding cookie of hosted logins (`__Secure-` over https; not `__Host-`,
/// which would demand the path `/`).
fn binding_cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies() {
        "__Secure-fedgate_login"
    } else {
        "fedgate_login"
    }
}

/// The binding cookie: only the application's hosted endpoints see it, it outlives
/// no login record, and a cross-site top-level redirect back from the provider
/// still carries it (`SameSite=Lax`).
fn binding_cookie(state: &AppState, app: &str, value: String) -> Cookie<'static> {
    let path = ApplicationId::parse(app).map_or_else(
        || "/hosted/".to_owned(),
        |app| fedgate_login::services::hosted_path(&state.public_base_url, app),
    );
    crate::session::private_cookie(
        state,
        binding_cookie_name(state),
        value,
        path,
        std::time::Duration::from_secs(state.settings.login_ttl_seconds),
    )
}

/// The limits a hosted request counts against, in order, with its charges: its
/// client address's, then its application's when the path names one.
fn charges(
    state: &AppState,
    req: &HttpRequest,
    app: &str,
    per_address: Limit,
    per_application: Limit,
) -> (Vec<Limit>, Vec<Charge>) {
    let mut limits = vec![per_address];
    let mut charges = vec![per_address.charge(&state.client_ip(req))];
    if let Some(app) = ApplicationId::parse(app) {
        limits.push(per_application);
        charges.push(per_application.charge(&app.to_string()));
    }
    (limits, charges)
}

/// `GET /hosted/{appId}/{slug}/login` — a provider's OAuth endpoint.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/{slug}/login",
    tag = "hosted login",
    params(
        ("appId" = String, Path, description = "Application id"),
        ("slug" = String, Path, description = "The provider: `google`, or an OpenID Connect provider's slug"),
        ("redirect_uri" = Option<String>, Query, description = "Exactly one of the registered redirect URIs; optional when only one is registered"),
        ("state" = Option<String>, Query, description = "Opaque value returned to the app untouched"),
        ("login_hint" = Option<String>, Query, description = "Passed to the provider"),
        ("prompt" = Option<String>, Query, description = "Passed to the provider (`none`, `login`, `consent`, `select_account`)"),
        ("accessKeyId" = Option<String>, Query, description = "State signing: access key id"),
        ("timestamp" = Option<String>, Query, description = "State signing: Unix seconds"),
        ("nonce" = Option<String>, Query, description = "State signing: single-use nonce"),
        ("signature" = Option<String>, Query, description = "State signing: HMAC-SHA256, see docs/hosted-login.md")
    ),
    responses(
        (status = 302, description = "To the provider, setting the browser-binding cookie `fedgate_login` its callback needs"),
        (status = 400, description = "Error page: bad or unsigned request, unregistered redirect URI, inactive service"),
        (status = 404, description = "Error page: unknown application or provider"),
        (status = 503, description = "Error page with `Retry-After`: the in-process state store is nearly full, or the database or state store does not answer")
    )
)]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, slug) = path.into_inner();
    begin(&state, &req, &app, &slug).await
}

/// `GET /hosted/{appId}/google/login` — the Google OAuth endpoint: the login endpoint
/// of the provider `google`.
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
        (status = 302, description = "To Google, setting the browser-binding cookie `fedgate_login` its callback needs"),
        (status = 400, description = "Error page: bad or unsigned request, unregistered redirect URI, inactive service"),
        (status = 404, description = "Error page: unknown application"),
        (status = 503, description = "Error page with `Retry-After`: the in-process state store is nearly full, or the database or state store does not answer")
    )
)]
pub async fn google_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    begin(&state, &req, &path, GOOGLE_SLUG).await
}

fn browser_cookie(state: &AppState, req: &HttpRequest) -> Option<String> {
    req.cookie(binding_cookie_name(state))
        .map(|c| c.value().to_owned())
}

async fn begin(
    state: &AppState,
    req: &HttpRequest,
    app: &str,
    slug: &str,
) -> Result<HttpResponse, ApiError> {
    let _timer = state.metrics.login_timer(false);
    let l = &state.settings.limits;
    let (limits, charges) = charges(
        state,
        req,
        app,
        Limit::per_minute("login-start", l.login_starts_per_address_per_minute),
        Limit::per_minute("login-start-app", l.login_starts_per_application_per_minute),
    );
    let started = state
        .login
        .start(StartRequest {
            app,
            slug,
            path: req.uri().path(),
            query: req.uri().query().unwrap_or(""),
            browser: browser_cookie(state, req).as_deref(),
            charges: &charges,
        })
        .await;
    let started = match started {
        Err(StoreError::Full) => {
            state.metrics.rate_limited("state-store-capacity");
            let mut page = error_page(&ErrorPage {
                status: 503,
                title: "Sign-in is busy",
                detail: "Too many sign-ins are under way right now. Please try again in a minute."
                    .into(),
            });
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            return Ok(page);
        }
        Err(e) => return for_a_person(e.into()),
        Ok(started) => started,
    };
    Ok(match started {
        Started::Redirect { url, browser } => {
            let mut res = redirect(url.as_str());
            res.add_cookie(&binding_cookie(state, app, browser))
                .map_err(ApiError::internal)?;
            res
        }
        Started::Refused(refusal) => error_page(&refusal.page()),
        Started::Limited(over) => return for_a_person(limits[over].refused()),
    })
}

/// `GET /hosted/{appId}/{slug}/callback` — a provider's Redirect URI.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/{slug}/callback",
    tag = "hosted login",
    params(
        ("appId" = String, Path, description = "Application id"),
        ("slug" = String, Path, description = "The provider: `google`, or an OpenID Connect provider's slug")
    ),
    responses(
        (status = 302, description = "To the app's redirect URI with the result (or `error`, `error_description`, `state`)"),
        (status = 400, description = "Error page: unknown, expired or replayed state, a response for another application or provider, or a browser without the login's `fedgate_login` cookie"),
        (status = 503, description = "Error page with `Retry-After`: the state store does not answer (the login record cannot be read)")
    )
)]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, slug) = path.into_inner();
    finish(&state, &req, &app, &slug).await
}

/// `GET /hosted/{appId}/google/callback` — the Google Redirect URI: the callback of
/// the provider `google`.
#[utoipa::path(
    get,
    path = "/hosted/{appId}/google/callback",
    tag = "hosted login",
    params(("appId" = String, Path, description = "Application id")),
    responses(
        (status = 302, description = "To the app's redirect URI with the result (or `error`, `error_description`, `state`)"),
        (status = 400, description = "Error page: unknown, expired or replayed state, or a browser without the login's `fedgate_login` cookie"),
        (status = 503, description = "Error page with `Retry-After`: the state store does not answer (the login record cannot be read)")
    )
)]
pub async fn google_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    finish(&state, &req, &path, GOOGLE_SLUG).await
}

async fn finish(
    state: &AppState,
    req: &HttpRequest,
    app: &str,
    slug: &str,
) -> Result<HttpResponse, ApiError> {
    let _timer = state.metrics.login_timer(true);
    let l = &state.settings.limits;
    let (limits, charges) = charges(
        state,
        req,
        app,
        Limit::per_minute("callback", l.callbacks_per_address_per_minute),
        Limit::per_minute("callback-app", l.callbacks_per_application_per_minute),
    );
    let completed = match state
        .login
        .complete(CallbackRequest {
            app,
            slug,
            query: req.uri().query().unwrap_or(""),
            browser: browser_cookie(state, req).as_deref(),
            charges: &charges,
        })
        .await
    {
        Ok(completed) => completed,
        Err(e) => return for_a_person(e.into()),
    };
    match completed {
        Completed::Redirect(location) => Ok(redirect(&location)),
        Completed::Refused(page) => Ok(error_page(&page)),
        Completed::Limited(over) => for_a_person(limits[over].refused()),
    }
}
