//! An in-process fake provider: Google by default ([`FakeGoogle::start`]), or a
//! company's own OpenID Connect server with its own issuer and a discovery document
//! ([`FakeGoogle::start_oidc`]). Its own RSA keys and JWKS, an authorization endpoint
//! that signs people in at once (chosen by `login_hint`), a token endpoint that checks
//! client credentials, PKCE and single use of codes, and userinfo. Knobs make it
//! misbehave in every way a test needs.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::json;
use sha2::{Digest, Sha256};

const KEY_1: &str = include_str!("../fixtures/google-key-1.pem");
const KEY_2: &str = include_str!("../fixtures/google-key-2.pem");
const MODULUS_1: &str = include_str!("../fixtures/google-key-1.modulus.hex");
const MODULUS_2: &str = include_str!("../fixtures/google-key-2.modulus.hex");

/// The fixture keys, parsed once: a provider signs every ID token, and the benchmark
/// drives thousands of logins a second through this fake.
static RSA_KEYS: LazyLock<[RsaKeyPair; 2]> = LazyLock::new(|| [rsa_key(KEY_1), rsa_key(KEY_2)]);

fn rsa_key(pem: &str) -> RsaKeyPair {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("fixture key is base64");
    RsaKeyPair::from_pkcs8(&der).expect("fixture key is a PKCS#8 RSA key")
}

/// An RS256 JWS of `claims` by fixture key `key` (0 or 1) under `kid` (none if absent).
fn rs256(key: usize, kid: Option<&str>, claims: &serde_json::Value) -> String {
    let mut header = json!({ "alg": "RS256", "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair = &RSA_KEYS[key];
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .expect("RSA signing");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Google's issuer, which the fake uses by default.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// An Entra tenant the fake signs people in from by default.
pub const TENANT_A: &str = "0f6e1b0c-1111-4a4a-9b9b-aaaaaaaaaaaa";
/// Another Entra tenant.
pub const TENANT_B: &str = "7c2d9e4f-2222-4b4b-8c8c-bbbbbbbbbbbb";

/// Someone who can sign in at the fake.
#[derive(Debug, Clone)]
pub struct Person {
    /// Subject.
    pub sub: String,
    /// Email.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: bool,
    /// `hd`.
    pub hd: Option<String>,
    /// Name.
    pub name: Option<String>,
}

impl Person {
    /// A person whose verified address is `local@domain`.
    #[must_use]
    pub fn at(local: &str, domain: &str) -> Self {
        Self {
            sub: format!("sub-{local}-{}", uuid::Uuid::new_v4().simple()),
            email: Some(format!("{local}@{domain}")),
            email_verified: true,
            hd: None,
            name: Some(format!("{local} Example")),
        }
    }

    /// A verified Gmail user.
    #[must_use]
    pub fn gmail(local: &str) -> Self {
        Self {
            sub: format!("sub-{local}-{}", uuid::Uuid::new_v4().simple()),
            email: Some(format!("{local}@gmail.com")),
            email_verified: true,
            hd: None,
            name: Some(format!("{local} Example")),
        }
    }
}

/// How the token endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// Correctly.
    Normal,
    /// HTTP 500.
    ServerError,
    /// 200 with a body that is not JSON.
    Garbage,
    /// Answers after this delay.
    Slow(Duration),
}

/// Ways to spoil the ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// `iss` of someone else.
    WrongIssuer,
    /// `aud` of another client.
    WrongAudience,
    /// `azp` of another client.
    WrongAzp,
    /// Two audiences and no `azp`.
    ExtraAudienceNoAzp,
    /// `exp` an hour ago.
    Expired,
    /// No `iat`.
    NoIat,
    /// `iat` an hour ahead.
    FutureIat,
    /// Another login's nonce.
    WrongNonce,
    /// No nonce.
    NoNonce,
    /// No `sub`.
    NoSub,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the public RSA modulus.
    AlgHs256,
    /// Signed by a key the JWKS does not publish.
    UnknownKid,
    /// Signed by another key under the published `kid`.
    BadSignature,
    /// No ID token in the token response.
    NoIdToken,
    /// Userinfo answers for another subject.
    UserinfoOtherSub,
}

/// Whether the authorization response carries `iss` (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssParam {
    /// Not sent.
    Omit,
    /// The fake's own issuer.
    Correct,
    /// Another issuer's.
    Wrong,
}

#[derive(Debug, Clone)]
struct Grant {
    person: Person,
    nonce: String,
    redirect_uri: String,
    challenge: String,
    offline: bool,
}

/// What the fake saw and how it should behave.
#[derive(Debug)]
pub struct FakeState {
    /// People by `login_hint`; unknown hints sign in as `default_person`.
    pub people: HashMap<String, Person>,
    /// Who signs in without a known hint.
    pub default_person: Person,
    /// Token endpoint behaviour.
    pub token_mode: TokenMode,
    /// ID-token defect to introduce.
    pub tamper: Option<Tamper>,
    /// Refuse at the authorization endpoint with `access_denied`.
    pub deny: bool,
    /// The query of the last authorization request.
    pub last_authorize: HashMap<String, String>,
    /// Token endpoint calls.
    pub token_calls: u32,
    /// Codes redeemed successfully.
    pub redeemed: u32,
    /// JWKS fetches.
    pub jwks_calls: u32,
    /// Google rotated its keys: the JWKS publishes `key-1` and `key-2`, and ID tokens
    /// are signed with `key-2`.
    pub rotated: bool,
    /// Userinfo calls.
    pub userinfo_calls: u32,
    /// Discovery document fetches.
    pub discovery_calls: u32,
    /// Fields replacing those of the discovery document (`null` removes one).
    pub discovery_patch: serde_json::Map<String, serde_json::Value>,
    /// Answer discovery with a redirect to this URL instead.
    pub discovery_redirect: Option<String>,
    /// `iss` on authorization responses.
    pub iss_param: IssParam,
    /// ID tokens carry no `kid`.
    pub kidless: bool,
    /// How the last token request authenticated: `basic` or `post`.
    pub last_client_auth: &'static str,
    /// The JWKS publishes a second RSA key (`key-2`) beside `key-1`.
    pub two_keys: bool,
    /// The ID token carries no email (userinfo still does).
    pub email_in_userinfo_only: bool,
    /// Like Google for someone who consented before: a refresh token only with
    /// `prompt=consent`.
    pub refresh_only_on_consent: bool,
    /// Authorization requests received.
    pub authorize_calls: u32,
    /// ID tokens spell Google's issuer without the scheme (`accounts.google.com`), as
    /// Google sometimes does.
    pub short_issuer: bool,
    /// Entra: the `tid` of the next ID tokens (none: left out).
    pub tid: Option<String>,
    /// Entra: the tenant the `iss` names, when it should differ from `tid`.
    pub iss_tenant: Option<String>,
    grants: HashMap<String, Grant>,
    access: HashMap<String, Person>,
}

/// A running fake Google.
#[derive(Debug, Clone)]
pub struct FakeGoogle {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client id it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// Its issuer.
    pub issuer: String,
    /// Serves a discovery document (an OpenID Connect provider, not Google).
    pub discovery: bool,
    /// Plays Microsoft Entra's multi-tenant endpoint: `issuer` is `{base}/common/v2.0`,
    /// its discovery publishes `{base}/{tenantid}/v2.0`, and ID tokens carry their
    /// tenant's issuer and `tid`.
    pub entra: bool,
    state: Arc<Mutex<FakeState>>,
    server: Arc<Mutex<Option<actix_web::dev::ServerHandle>>>,
}

fn modulus_b64(hex_modulus: &str) -> String {
    URL_SAFE_NO_PAD.encode(hex::decode(hex_modulus.trim()).expect("fixture modulus is hex"))
}

impl FakeGoogle {
    /// Starts a fake Google on a free loopback port.
    pub async fn start() -> Self {
        Self::launch(false, false).await
    }

    /// Starts a stand-in for Microsoft Entra's multi-tenant `common` endpoint.
    pub async fn start_entra() -> Self {
        Self::launch(true, true).await
    }

    /// Starts a company's own OpenID Connect provider on a free loopback port: its
    /// issuer is its base URL, with a discovery document at the usual place.
    pub async fn start_oidc() -> Self {
        Self::launch(true, false).await
    }

    async fn launch(oidc: bool, entra: bool) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            people: HashMap::new(),
            default_person: Person::gmail("default"),
            token_mode: TokenMode::Normal,
            tamper: None,
            deny: false,
            last_authorize: HashMap::new(),
            token_calls: 0,
            redeemed: 0,
            jwks_calls: 0,
            rotated: false,
            userinfo_calls: 0,
            discovery_calls: 0,
            discovery_patch: serde_json::Map::new(),
            discovery_redirect: None,
            iss_param: IssParam::Omit,
            kidless: false,
            last_client_auth: "",
            two_keys: false,
            email_in_userinfo_only: false,
            refresh_only_on_consent: false,
            authorize_calls: 0,
            short_issuer: false,
            tid: Some(TENANT_A.to_owned()),
            iss_tenant: None,
            grants: HashMap::new(),
            access: HashMap::new(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let fake = Self {
            issuer: match (oidc, entra) {
                (_, true) => format!("{base}/common/v2.0"),
                (true, false) => base.clone(),
                (false, false) => GOOGLE_ISSUER.into(),
            },
            base,
            client_id: format!(
                "{}.apps.googleusercontent.com",
                uuid::Uuid::new_v4().simple()
            ),
            client_secret: format!("GOCSPX-{}", uuid::Uuid::new_v4().simple()),
            discovery: oidc,
            entra,
            state,
            server: Arc::default(),
        };
        let shared = web::Data::new(fake.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/o/oauth2/v2/auth", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/v1/userinfo", web::get().to(userinfo))
                .route("/oauth2/v3/certs", web::get().to(jwks))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route(
                    "/common/v2.0/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        *fake.server.lock().expect("server handle") = Some(server.handle());
        tokio::spawn(server);
        fake
    }

    /// Takes the provider down: its port refuses connections from now on.
    pub async fn stop(&self) {
        let handle = self.server.lock().expect("server handle").take();
        if let Some(h) = handle {
            h.stop(false).await;
        }
    }

    /// Changes the fake's behaviour or reads what it saw.
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().expect("fake state"))
    }

    /// Registers `person` under `login_hint`.
    pub fn add(&self, hint: &str, person: Person) {
        self.with(|s| s.people.insert(hint.to_owned(), person));
    }

    /// The `testing.google` settings pointing Fedgate at this fake.
    #[must_use]
    pub fn override_settings(&self) -> fedgate_server::config::GoogleOverride {
        fedgate_server::config::GoogleOverride {
            authorization_url: format!("{}/o/oauth2/v2/auth", self.base)
                .parse()
                .expect("url"),
            token_url: format!("{}/token", self.base).parse().expect("url"),
            userinfo_url: Some(format!("{}/v1/userinfo", self.base).parse().expect("url")),
            jwks_url: format!("{}/oauth2/v3/certs", self.base)
                .parse()
                .expect("url"),
            issuer: self.issuer.clone(),
        }
    }

    fn id_token(&self, grant: &Grant, tamper: Option<Tamper>) -> String {
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_secs(),
        )
        .expect("time");
        let p = &grant.person;
        let userinfo_only = self.with(|s| s.email_in_userinfo_only);
        let (tid, iss_tenant) = self.with(|s| (s.tid.clone(), s.iss_tenant.clone()));
        let issuer = if self.with(|s| s.short_issuer) {
            self.issuer.trim_start_matches("https://").to_owned()
        } else if self.entra {
            let tenant = iss_tenant
                .or_else(|| tid.clone())
                .unwrap_or_else(|| TENANT_A.into());
            format!("{}/{tenant}/v2.0", self.base)
        } else {
            self.issuer.clone()
        };
        let mut claims = json!({
            "iss": issuer, "aud": self.client_id, "azp": self.client_id, "sub": p.sub,
            "iat": now, "exp": now + 3600, "nonce": grant.nonce,
            "email": p.email, "email_verified": p.email_verified, "name": p.name,
        });
        if let Some(hd) = &p.hd {
            claims["hd"] = json!(hd);
        }
        if self.entra
            && let Some(tid) = tid
        {
            claims["tid"] = json!(tid);
        }
        if userinfo_only {
            claims.as_object_mut().expect("object").remove("email");
            claims
                .as_object_mut()
                .expect("object")
                .remove("email_verified");
        }
        let c = claims.as_object_mut().expect("object");
        match tamper {
            Some(Tamper::WrongIssuer) => {
                drop(c.insert("iss".into(), json!("https://accounts.evil.example")))
            }
            Some(Tamper::WrongAudience) => drop(c.insert(
                "aud".into(),
                json!("someone-else.apps.googleusercontent.com"),
            )),
            Some(Tamper::WrongAzp) => drop(c.insert(
                "azp".into(),
                json!("someone-else.apps.googleusercontent.com"),
            )),
            Some(Tamper::ExtraAudienceNoAzp) => {
                c.insert("aud".into(), json!([self.client_id, "other-client"]));
                c.remove("azp");
            }
            Some(Tamper::Expired) => {
                c.insert("iat".into(), json!(now - 7200));
                c.insert("exp".into(), json!(now - 3600));
            }
            Some(Tamper::NoIat) => drop(c.remove("iat")),
            Some(Tamper::FutureIat) => drop(c.insert("iat".into(), json!(now + 3600))),
            Some(Tamper::WrongNonce) => {
                drop(c.insert("nonce".into(), json!("not-this-logins-nonce")))
            }
            Some(Tamper::NoNonce) => drop(c.remove("nonce")),
            Some(Tamper::NoSub) => drop(c.remove("sub")),
            _ => {}
        }
        let kidless = self.with(|s| s.kidless);
        let kid = |kid| (!kidless).then_some(kid);
        match tamper {
            Some(Tamper::AlgNone) => {
                let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"key-1","typ":"JWT"}"#);
                format!("{h}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
            }
            Some(Tamper::AlgHs256) => {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = kid("key-1").map(str::to_owned);
                let secret = EncodingKey::from_secret(modulus_b64(MODULUS_1).as_bytes());
                jsonwebtoken::encode(&header, &claims, &secret).expect("sign")
            }
            Some(Tamper::UnknownKid) => rs256(1, kid("key-2"), &claims),
            Some(Tamper::BadSignature) => rs256(1, kid("key-1"), &claims),
            _ if self.with(|s| s.rotated) => rs256(1, kid("key-2"), &claims),
            _ => rs256(0, kid("key-1"), &claims),
        }
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", location))
        .finish()
}

async fn authorize(
    fake: web::Data<FakeGoogle>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let q = q.into_inner();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let state = q.get("state").cloned().unwrap_or_default();
    let mut url = url::Url::parse(&redirect).expect("redirect_uri");
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id") == Some(&fake.client_id)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.contains_key("nonce");
    let grant = fake.with(|s| {
        s.last_authorize = q.clone();
        s.authorize_calls += 1;
        let consented = q.get("prompt").map(String::as_str) == Some("consent");
        let refresh_allowed = consented || !s.refresh_only_on_consent;
        if s.deny || !ok {
            return None;
        }
        let person = q
            .get("login_hint")
            .and_then(|h| s.people.get(h))
            .cloned()
            .unwrap_or_else(|| s.default_person.clone());
        let code = uuid::Uuid::new_v4().simple().to_string();
        s.grants.insert(
            code.clone(),
            Grant {
                person,
                nonce: q["nonce"].clone(),
                redirect_uri: redirect.clone(),
                challenge: q.get("code_challenge").cloned().unwrap_or_default(),
                offline: refresh_allowed
                    && (q.get("access_type").map(String::as_str) == Some("offline")
                        || q.get("scope")
                            .is_some_and(|sc| sc.split(' ').any(|x| x == "offline_access"))),
            },
        );
        Some(code)
    });
    // `prompt=none` for someone who has not signed in before: the provider cannot
    // answer without a screen.
    let needs_screen = q.get("prompt").map(String::as_str) == Some("none")
        && q.get("login_hint").map(String::as_str) == Some("needs-login");
    match grant {
        Some(_) if needs_screen => url
            .query_pairs_mut()
            .append_pair("error", "login_required")
            .append_pair("error_description", "The user must sign in")
            .append_pair("state", &state),
        Some(code) => url
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state),
        None => url
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied access")
            .append_pair("state", &state),
    };
    match fake.with(|s| s.iss_param) {
        IssParam::Omit => {}
        IssParam::Correct => {
            url.query_pairs_mut().append_pair("iss", &fake.issuer);
        }
        IssParam::Wrong => {
            url.query_pairs_mut()
                .append_pair("iss", "https://attacker.example");
        }
    }
    found(url.as_str())
}

/// A token request's client credentials: from HTTP Basic (form-encoded id and
/// secret) or from the form body; and which of the two it was (`basic`, `post`).
pub(crate) fn client_credentials(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> (String, String, &'static str) {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let decode = |s: &str| {
        url::form_urlencoded::parse(s.as_bytes())
            .map(|(k, _)| k.into_owned())
            .next()
            .unwrap_or_default()
    };
    match basic.as_deref().and_then(|b| b.split_once(':')) {
        Some((i, s)) => (decode(i), decode(s), "basic"),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
            "post",
        ),
    }
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .json(json!({ "error": error, "error_description": format!("fake google: {error}") }))
}

async fn token(
    fake: web::Data<FakeGoogle>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let form = form.into_inner();
    let (mode, tamper) = fake.with(|s| {
        s.token_calls += 1;
        (s.token_mode, s.tamper)
    });
    match mode {
        TokenMode::ServerError => {
            return HttpResponse::InternalServerError().body("upstream exploded");
        }
        TokenMode::Garbage => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("<html>not json");
        }
        TokenMode::Slow(d) => tokio::time::sleep(d).await,
        TokenMode::Normal => {}
    }
    let (id, secret, how) = client_credentials(&req, &form);
    fake.with(|s| s.last_client_auth = how);
    if id != fake.client_id || secret != fake.client_secret {
        return oauth_error("invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error("unsupported_grant_type");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = fake.with(|s| s.grants.remove(&code)) else {
        return oauth_error("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return oauth_error("invalid_grant");
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    let access = format!("ya29.{}", uuid::Uuid::new_v4().simple());
    let mut body = json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile" });
    if tamper != Some(Tamper::NoIdToken) {
        body["id_token"] = json!(fake.id_token(&grant, tamper));
    }
    if grant.offline {
        body["refresh_token"] = json!(format!("1//{}", uuid::Uuid::new_v4().simple()));
    }
    fake.with(|s| {
        s.redeemed += 1;
        s.access.insert(access, grant.person.clone());
    });
    HttpResponse::Ok().json(body)
}

async fn userinfo(fake: web::Data<FakeGoogle>, req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (person, tamper) = fake.with(|s| {
        s.userinfo_calls += 1;
        (s.access.get(token).cloned(), s.tamper)
    });
    let Some(p) = person else {
        return HttpResponse::Unauthorized().finish();
    };
    let sub = if tamper == Some(Tamper::UserinfoOtherSub) {
        "someone-else".to_owned()
    } else {
        p.sub
    };
    HttpResponse::Ok().json(json!({ "sub": sub, "email": p.email, "email_verified": p.email_verified, "name": p.name, "picture": "https://example.com/p.png" }))
}

async fn jwks(fake: web::Data<FakeGoogle>) -> HttpResponse {
    let (rotated, two) = fake.with(|s| {
        s.jwks_calls += 1;
        (s.rotated, s.two_keys)
    });
    let key = |kid: &str, modulus: &str| json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": modulus_b64(modulus), "e": "AQAB" });
    let mut keys = vec![key("key-1", MODULUS_1)];
    if rotated || two {
        keys.push(key("key-2", MODULUS_2));
    }
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(json!({ "keys": keys }))
}

async fn discovery(fake: web::Data<FakeGoogle>) -> HttpResponse {
    let (patch, redirect) = fake.with(|s| {
        s.discovery_calls += 1;
        (s.discovery_patch.clone(), s.discovery_redirect.clone())
    });
    if !fake.discovery {
        return HttpResponse::NotFound().finish();
    }
    if let Some(to) = redirect {
        return found(&to);
    }
    let b = &fake.base;
    let issuer = if fake.entra {
        format!("{b}/{{tenantid}}/v2.0")
    } else {
        fake.issuer.clone()
    };
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{b}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/v1/userinfo"),
        "jwks_uri": format!("{b}/oauth2/v3/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
    });
    let object = doc.as_object_mut().expect("object");
    for (k, v) in patch {
        if v.is_null() {
            object.remove(&k);
        } else {
            object.insert(k, v);
        }
    }
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(doc)
}
