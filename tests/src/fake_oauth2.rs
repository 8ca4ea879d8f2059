//! An in-process fake plain OAuth 2.0 server: no ID token, no discovery — authorize,
//! token and a profile endpoint, in the shapes real platforms have: GitHub's (numeric
//! ids, form-encoded token answers unless JSON is asked for, no email in the profile,
//! an emails list), a nested profile (`/data/user/id`), and string ids. Knobs make the
//! profile misbehave; it records where access tokens arrived.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The shape of the profile response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"id": 4711, "login", "name", "email": null, "avatar_url"}` and `/user/emails`.
    GitHub,
    /// `{"data": {"user": {"id": "…", "email", "email_verified", "name"}}}`.
    Nested,
    /// `{"id": "4711", "username", "email", "name"}`: the id as a string.
    StringId,
}

/// How the profile endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileMode {
    /// Correctly.
    Normal,
    /// HTTP 500.
    ServerError,
    /// 200 with a body that is not JSON.
    Garbage,
    /// The subject is left out.
    NoSubject,
    /// The subject is an object.
    ObjectSubject,
    /// Only `?access_token=` is accepted; a header gets 401.
    QueryTokenOnly,
}

/// Someone who can sign in at the platform.
#[derive(Debug, Clone)]
pub struct Member {
    /// Numeric id.
    pub id: u64,
    /// Login name.
    pub login: String,
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Verified by the platform.
    pub verified: bool,
}

impl Member {
    /// A member with a fresh id and a verified `login@domain`.
    #[must_use]
    pub fn new(login: &str, domain: &str) -> Self {
        Self {
            id: u64::from(uuid::Uuid::new_v4().as_fields().0),
            login: login.to_owned(),
            name: format!("{login} Example"),
            email: format!("{login}@{domain}"),
            verified: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Grant {
    member: Member,
    redirect_uri: String,
    challenge: Option<String>,
}

/// What the fake saw and how it should behave.
#[derive(Debug)]
pub struct FakeState {
    /// The profile shape (a platform may change it: `123` and `"123"` stay one person).
    pub shape: Shape,
    /// Members by `login_hint`; unknown hints sign in as `default_member`.
    pub members: HashMap<String, Member>,
    /// Who signs in without a known hint.
    pub default_member: Member,
    /// Profile endpoint behaviour.
    pub profile_mode: ProfileMode,
    /// Answer the token request form-encoded even when JSON is asked for.
    pub always_form: bool,
    /// Refuse authorization requests carrying a PKCE challenge (`invalid_request`).
    pub rejects_pkce: bool,
    /// Answer the authorization request with this OAuth error.
    pub authorize_error: Option<&'static str>,
    /// The query of the last authorization request.
    pub last_authorize: HashMap<String, String>,
    /// The `Accept` header of the last token request.
    pub last_token_accept: String,
    /// How the last token request authenticated: `basic` or `post`.
    pub last_client_auth: &'static str,
    /// Token requests answered with tokens.
    pub redeemed: u32,
    /// Profile and emails requests with the token in an `Authorization` header.
    pub header_token_reads: u32,
    /// Any request carried an access token in its URL.
    pub token_seen_in_query: bool,
    grants: HashMap<String, Grant>,
    access: HashMap<String, Member>,
}

/// A running fake OAuth2 platform.
#[derive(Debug, Clone)]
pub struct FakeOAuth2 {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client id it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    state: Arc<Mutex<FakeState>>,
}

impl FakeOAuth2 {
    /// Starts a platform with profiles of `shape` on a free loopback port.
    pub async fn start(shape: Shape) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            shape,
            members: HashMap::new(),
            default_member: Member::new("default", "platform.example"),
            profile_mode: ProfileMode::Normal,
            always_form: false,
            rejects_pkce: false,
            authorize_error: None,
            last_authorize: HashMap::new(),
            last_token_accept: String::new(),
            last_client_auth: "",
            redeemed: 0,
            header_token_reads: 0,
            token_seen_in_query: false,
            grants: HashMap::new(),
            access: HashMap::new(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let fake = Self {
            base,
            client_id: format!("Iv1.{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
            client_secret: uuid::Uuid::new_v4().simple().to_string(),
            state,
        };
        let shared = web::Data::new(fake.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/login/oauth/authorize", web::get().to(authorize))
                .route("/login/oauth/access_token", web::post().to(token))
                .route("/user", web::get().to(profile))
                .route("/user/emails", web::get().to(emails))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        fake
    }

    /// Changes the fake's behaviour or reads what it saw.
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().expect("fake state"))
    }

    /// Registers `member` under `login_hint`.
    pub fn add(&self, hint: &str, member: Member) {
        self.with(|s| s.members.insert(hint.to_owned(), member));
    }

    /// The `oauth2_provider` property fields for this platform (claim mapping by shape).
    #[must_use]
    pub fn property(&self, slug: &str) -> Value {
        let b = &self.base;
        let shape = self.with(|s| s.shape);
        let mapping = match shape {
            Shape::GitHub => json!({
                "subject": "/id", "email": "/email", "name": "/name",
                "picture": "/avatar_url", "username": "/login"
            }),
            Shape::Nested => json!({
                "subject": "/data/user/id", "email": "/data/user/email",
                "emailVerified": "/data/user/email_verified", "name": "/data/user/name"
            }),
            Shape::StringId => json!({
                "subject": "/id", "email": "/email", "emailVerified": "/email_verified",
                "name": "/name", "username": "/username"
            }),
        };
        let mut body = json!({
            "kind": "oauth2_provider",
            "instanceName": format!("{slug} platform"),
            "slug": slug,
            "displayName": "Our Platform",
            "authorizationUrl": format!("{b}/login/oauth/authorize"),
            "tokenUrl": format!("{b}/login/oauth/access_token"),
            "profileUrl": format!("{b}/user"),
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "scopes": ["read:user", "user:email"],
            "claimMapping": mapping,
        });
        if shape == Shape::GitHub {
            body["emailsUrl"] = json!(format!("{b}/user/emails"));
        }
        body
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", location))
        .finish()
}

async fn authorize(
    fake: web::Data<FakeOAuth2>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let q = q.into_inner();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let state = q.get("state").cloned().unwrap_or_default();
    let mut url = url::Url::parse(&redirect).expect("redirect_uri");
    let outcome = fake.with(|s| {
        s.last_authorize = q.clone();
        if let Some(e) = s.authorize_error {
            return Err(e);
        }
        if q.get("client_id") != Some(&fake.client_id)
            || q.get("response_type").map(String::as_str) != Some("code")
        {
            return Err("unauthorized_client");
        }
        let challenge = q.get("code_challenge").cloned();
        if challenge.is_some() && s.rejects_pkce {
            return Err("invalid_request");
        }
        let member = q
            .get("login_hint")
            .and_then(|h| s.members.get(h))
            .cloned()
            .unwrap_or_else(|| s.default_member.clone());
        let code = uuid::Uuid::new_v4().simple().to_string();
        s.grants.insert(
            code.clone(),
            Grant {
                member,
                redirect_uri: redirect.clone(),
                challenge,
            },
        );
        Ok(code)
    });
    match outcome {
        Ok(code) => url
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state),
        Err(error) => url
            .query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", &format!("platform: {error}"))
            .append_pair("state", &state),
    };
    found(url.as_str())
}

/// An answer in JSON, or form-encoded the way GitHub answers without `Accept: json`.
fn answer(as_json: bool, fields: &[(&str, &str)]) -> HttpResponse {
    if as_json {
        let map: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        return HttpResponse::Ok().json(map);
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    HttpResponse::Ok()
        .content_type("application/x-www-form-urlencoded; charset=utf-8")
        .body(body)
}

async fn token(
    fake: web::Data<FakeOAuth2>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let form = form.into_inner();
    let accept = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let as_json = accept.contains("application/json") && !fake.with(|s| s.always_form);
    let (id, secret, how) = crate::fake_google::client_credentials(&req, &form);
    fake.with(|s| {
        s.last_token_accept = accept;
        s.last_client_auth = how;
    });
    // GitHub answers errors with 200 and an `error` field.
    let refuse = |error: &str| answer(as_json, &[("error", error)]);
    if id != fake.client_id || secret != fake.client_secret {
        return refuse("incorrect_client_credentials");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = fake.with(|s| s.grants.remove(&code)) else {
        return refuse("bad_verification_code");
    };
    if let Some(challenge) = &grant.challenge {
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        if &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
            return refuse("bad_verification_code");
        }
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse("redirect_uri_mismatch");
    }
    let access = format!("gho_{}", uuid::Uuid::new_v4().simple());
    fake.with(|s| {
        s.redeemed += 1;
        s.access.insert(access.clone(), grant.member.clone());
    });
    answer(
        as_json,
        &[
            ("access_token", &access),
            ("token_type", "bearer"),
            ("scope", "read:user,user:email"),
        ],
    )
}

/// The member an access token belongs to, from where the mode says it must be.
fn bearer(fake: &FakeOAuth2, req: &HttpRequest) -> Option<Member> {
    let in_query = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    let in_header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    fake.with(|s| {
        s.token_seen_in_query |= in_query.is_some();
        s.header_token_reads += u32::from(in_header.is_some());
        let token = if s.profile_mode == ProfileMode::QueryTokenOnly {
            in_query
        } else {
            in_header
        }?;
        s.access.get(&token).cloned()
    })
}

async fn profile(fake: web::Data<FakeOAuth2>, req: HttpRequest) -> HttpResponse {
    let Some(m) = bearer(&fake, &req) else {
        return HttpResponse::Unauthorized().json(json!({"message": "Requires authentication"}));
    };
    let (mode, shape) = fake.with(|s| (s.profile_mode, s.shape));
    let mut body = match shape {
        Shape::GitHub => json!({
            "id": m.id, "login": m.login, "name": m.name, "email": null,
            "avatar_url": format!("https://avatars.example/{}", m.id)
        }),
        Shape::Nested => json!({"data": {"user": {
            "id": m.id.to_string(), "email": m.email, "email_verified": m.verified, "name": m.name
        }}}),
        Shape::StringId => json!({
            "id": m.id.to_string(), "username": m.login, "email": m.email,
            "email_verified": m.verified, "name": m.name
        }),
    };
    let subject = match shape {
        Shape::Nested => "/data/user",
        Shape::GitHub | Shape::StringId => "",
    };
    let holder = if subject.is_empty() {
        Some(&mut body)
    } else {
        body.pointer_mut(subject)
    };
    match mode {
        ProfileMode::ServerError => {
            return HttpResponse::InternalServerError().body("upstream exploded");
        }
        ProfileMode::Garbage => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("<html>sign in</html>");
        }
        ProfileMode::NoSubject => {
            if let Some(Value::Object(o)) = holder {
                o.remove("id");
            }
        }
        ProfileMode::ObjectSubject => {
            if let Some(Value::Object(o)) = holder {
                o.insert("id".into(), json!({"value": m.id}));
            }
        }
        ProfileMode::Normal | ProfileMode::QueryTokenOnly => {}
    }
    HttpResponse::Ok().json(body)
}

async fn emails(fake: web::Data<FakeOAuth2>, req: HttpRequest) -> HttpResponse {
    let Some(m) = bearer(&fake, &req) else {
        return HttpResponse::Unauthorized().json(json!({"message": "Requires authentication"}));
    };
    HttpResponse::Ok().json(json!([
        {"email": format!("old-{}", m.email), "primary": false, "verified": true, "visibility": null},
        {"email": m.email, "primary": true, "verified": m.verified, "visibility": "private"},
    ]))
}
