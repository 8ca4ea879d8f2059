//! Development mode: the built-in OpenID Connect provider under `/dev-provider/` and the
//! result page `/dev-app/callback`, so a newcomer can try the whole flow on their own
//! machine without a Google project. Registered only when the setting `dev_provider`
//! says so (`auto`: the embedded default listening on loopback); otherwise these URLs
//! answer 404. The login itself knows nothing of it: the development sign-in is an
//! OpenID Connect provider found by discovery like any other.

pub mod app;
pub mod provider;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use self::provider::{Authorize, AuthorizeParams, DevProvider, Person, TokenParams};
use crate::error::ApiError;
use crate::html::{escape, page};
use crate::state::AppState;

/// The development provider's browser cookie.
const SESSION_COOKIE: &str = "fedgate_dev";

/// Adds the development routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/dev-provider/.well-known/openid-configuration",
        web::get().to(discovery),
    )
    .route("/dev-provider/jwks", web::get().to(jwks))
    .route("/dev-provider/authorize", web::get().to(authorize))
    .route("/dev-provider/authorize", web::post().to(sign_in))
    .route("/dev-provider/token", web::post().to(token))
    .route("/dev-provider/userinfo", web::get().to(userinfo))
    .route("/dev-app/callback", web::get().to(app::callback))
    .route("/dev-app/redeem", web::post().to(app::redeem));
}

fn dev(state: &AppState) -> Result<&DevProvider, ApiError> {
    state
        .dev
        .as_deref()
        .ok_or_else(|| ApiError::not_found("page"))
}

fn json(value: &serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

async fn discovery(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(json(&dev(&state)?.discovery()))
}

async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(json(&dev(&state)?.jwks()))
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refused(message: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Development sign-in: request refused",
        &format!("<p>{}</p>", escape(message)),
    )
}

async fn session_of(dev: &DevProvider, req: &HttpRequest) -> Result<Option<Person>, ApiError> {
    match req.cookie(SESSION_COOKIE) {
        Some(c) => Ok(dev.session(c.value()).await?),
        None => Ok(None),
    }
}

/// `GET /dev-provider/authorize`: back at once for a browser that signed in before,
/// the sign-in form otherwise.
async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<AuthorizeParams>,
) -> Result<HttpResponse, ApiError> {
    let dev = dev(&state)?;
    let params = params.into_inner();
    let session = session_of(dev, &req).await?;
    Ok(match dev.authorize(&params, session.as_ref()) {
        Authorize::Refused(why) => refused(&why),
        Authorize::Redirect(url) => found(url.as_str()),
        Authorize::Silent(person) => found(dev.grant(&params, &person).await?.as_str()),
        Authorize::SignIn => sign_in_page(dev, &params, None),
    })
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

fn sign_in_page(dev: &DevProvider, p: &AuthorizeParams, problem: Option<&str>) -> HttpResponse {
    let mut hidden_fields = [
        ("response_type", p.response_type.as_str()),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ]
    .iter()
    .map(|(k, v)| hidden(k, v))
    .collect::<String>();
    if let Some(n) = &p.nonce {
        hidden_fields.push_str(&hidden("nonce", n));
    }
    let email = p.login_hint.as_deref().unwrap_or("");
    let problem = problem
        .map(|m| {
            format!(
                "<p role=\"alert\" style=\"color:#b42318\">{}</p>",
                escape(m)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<p style=\"background:#fff7e0;border:1px solid #f0d589;padding:.6em .9em;border-radius:6px\">\
         Fedgate's built-in <strong>development</strong> provider, for trying Fedgate on this machine. \
         Type any address: you are signed in as that person. This browser is remembered, so the next sign-in \
         comes back without this page.</p>{problem}\
         <form method=\"post\" action=\"{action}\">{hidden_fields}\
         <p><label>Email<br><input name=\"email\" type=\"email\" required value=\"{email}\" style=\"width:100%\"></label></p>\
         <p><label>Name<br><input name=\"name\" type=\"text\" style=\"width:100%\"></label></p>\
         <p><label><input name=\"email_verified\" type=\"checkbox\" value=\"true\" checked> This address is verified</label></p>\
         <p><button type=\"submit\">Sign in</button></p></form>",
        action = escape(&format!("{}/authorize", dev.development().issuer())),
        email = escape(email),
    );
    page(StatusCode::OK, "Development sign-in", &body)
}

/// The sign-in form as posted.
#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email_verified: Option<String>,
}

/// `POST /dev-provider/authorize`: signs the browser in as the person typed.
async fn sign_in(
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    let dev = dev(&state)?;
    let f = form.into_inner();
    let params = AuthorizeParams {
        response_type: f.response_type,
        client_id: f.client_id,
        redirect_uri: f.redirect_uri,
        state: f.state,
        nonce: f.nonce,
        code_challenge: f.code_challenge,
        code_challenge_method: f.code_challenge_method,
        prompt: None,
        login_hint: Some(f.email.clone()),
    };
    // The same checks as the form's GET: a request it would not answer with the form
    // gets no code now either.
    match dev.authorize(&params, None) {
        Authorize::Refused(why) => return Ok(refused(&why)),
        Authorize::Redirect(url) => return Ok(found(url.as_str())),
        Authorize::SignIn | Authorize::Silent(_) => {}
    }
    let Ok(email) = fedgate_domain::email::Email::parse("email", &f.email) else {
        return Ok(sign_in_page(dev, &params, Some("Type an email address.")));
    };
    let name = f.name.trim();
    let person = Person {
        email: email.as_str().to_owned(),
        name: (!name.is_empty()).then(|| name.chars().take(100).collect()),
        email_verified: f.email_verified.as_deref() == Some("true"),
    };
    let session = dev.remember(&person).await?;
    let location = dev.grant(&params, &person).await?;
    let cookie = crate::session::private_cookie(
        &state,
        SESSION_COOKIE,
        session,
        "/dev-provider".to_owned(),
        provider::SESSION_TTL,
    );
    let mut res = found(location.as_str());
    res.add_cookie(&cookie)
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(res)
}

/// HTTP Basic client credentials (form-encoded id and secret).
fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

/// `POST /dev-provider/token`.
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenParams>,
) -> Result<HttpResponse, ApiError> {
    let dev = dev(&state)?;
    let now = state.clock.now().timestamp();
    Ok(match dev.token(&form, basic(&req), now).await? {
        Ok(body) => json(&body),
        Err(e) => HttpResponse::build(if e == provider::TokenError::InvalidClient {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": e.code() })),
    })
}

/// `GET /dev-provider/userinfo`.
async fn userinfo(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let dev = dev(&state)?;
    let access = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Ok(match dev.userinfo(access).await? {
        Some(body) => json(&body),
        None => HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .finish(),
    })
}
