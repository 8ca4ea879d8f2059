//! Test support: `spawn_app` starts a real server on port 0 with its own database
//! and state store, on the backend chosen by `FG_TEST_BACKEND`:
//! - `sqlite` (default): SQLite in a temporary directory + the in-process store;
//! - `postgres`: a fresh PostgreSQL database per test (`FG_TEST_POSTGRES_URL`,
//!   default `postgres://postgres@127.0.0.1:5432`) + Redis (`FG_TEST_REDIS_URL`,
//!   default `redis://127.0.0.1:6379`) under a per-test key prefix.
//!
//! When the chosen backend is unreachable the test panics with a loud message; it
//! never silently falls back.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: failing loudly is the point"
)]

pub mod fake_google;
pub mod fake_oauth2;
pub mod tcp_proxy;
pub mod webhook_receiver;
pub mod webhook_verify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use fake_google::{FakeGoogle, IssParam, Person, TENANT_A, TENANT_B, TokenMode};
pub use fake_oauth2::{FakeOAuth2, Member, ProfileMode, Shape};
pub use tcp_proxy::TcpProxy;
pub use webhook_receiver::{Received, WebhookReceiver};

use fedgate_domain::seal::MasterKey;
use fedgate_domain::signing::{self, RequestParts};
use fedgate_server::{Application, Settings};
use fedgate_storage::entity::{access_key, property};
use fedgate_wire::account::SessionDto;
use fedgate_wire::applications::ApplicationDto;
use fedgate_wire::keys::CreatedAccessKeyDto;
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

/// The storage setup under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + in-process state store.
    Sqlite,
    /// PostgreSQL + Redis.
    Postgres,
}

/// The backend chosen by `FG_TEST_BACKEND`.
#[must_use]
pub fn backend() -> Backend {
    match std::env::var("FG_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("FG_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

/// The PostgreSQL server the suite uses (FG_TEST_POSTGRES_URL), without a database.
#[must_use]
pub fn postgres_base() -> String {
    std::env::var("FG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The Redis the suite uses (FG_TEST_REDIS_URL).
#[must_use]
pub fn redis_url() -> String {
    std::env::var("FG_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The nodes of the 3-node Redis Cluster `scripts/redis-cluster` starts
/// (FG_TEST_REDIS_CLUSTER_URLS, comma-separated).
#[must_use]
pub fn redis_cluster_urls() -> Vec<String> {
    std::env::var("FG_TEST_REDIS_CLUSTER_URLS")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7101,redis://127.0.0.1:7102,redis://127.0.0.1:7103".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// A running server and handles to reach it and under it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The server's own database connection (shared pool).
    pub db: DatabaseConnection,
    /// The backend in use.
    pub backend: Backend,
    /// The PostgreSQL database name, when on PostgreSQL.
    pub pg_database: Option<String>,
    /// The settings the server was built with.
    pub settings: Settings,
    /// The server's clock: the real time plus whatever a test moved it forward.
    pub clock: Arc<TestClock>,
    /// `http://127.0.0.1:<port>` of the metrics listener, when `metrics_listen` is set.
    pub metrics_address: Option<String>,
    _data_dir: tempfile::TempDir,
}

/// The real time, moved forward on request.
#[derive(Debug, Default)]
pub struct TestClock {
    ahead_seconds: std::sync::atomic::AtomicI64,
}

impl TestClock {
    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.ahead_seconds
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }

    /// How far ahead of the real time it is.
    #[must_use]
    pub fn ahead(&self) -> i64 {
        self.ahead_seconds.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl fedgate_domain::clock::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        fedgate_domain::clock::SystemClock.now() + chrono::Duration::seconds(self.ahead())
    }
}

/// Starts a server with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The redirect URI test apps register.
pub const APP_REDIRECT: &str = "https://app.example.com/auth/callback";

/// Starts a server whose Google is `fake`.
pub async fn spawn_app_with_google(fake: &FakeGoogle) -> TestApp {
    spawn_app_with_google_and(fake, |_| {}).await
}

/// Starts a server whose Google is `fake`, after `adjust` has changed the settings.
pub async fn spawn_app_with_google_and(
    fake: &FakeGoogle,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let o = fake.override_settings();
    spawn_app_with(move |s| {
        s.testing.google = Some(o);
        s.provider_timeout_seconds = 2;
        adjust(s);
    })
    .await
}

/// A server with a fake Google, a signed-in subscriber, and one application whose
/// Google credentials and OAuth integration are configured (so it is ACTIVE).
#[derive(Debug)]
pub struct GoogleWorld {
    /// The server.
    pub app: TestApp,
    /// Its Google.
    pub google: FakeGoogle,
    /// The subscriber owning the application.
    pub owner: Browser,
    /// The application.
    pub app_id: String,
}

impl GoogleWorld {
    /// Starts one whose OAuth integration has `integration`'s fields over the defaults.
    pub async fn start(integration: Value) -> Self {
        Self::start_with(|_| {}, integration).await
    }

    /// Like [`GoogleWorld::start`], after `adjust` has changed the server's settings.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings), integration: Value) -> Self {
        let google = FakeGoogle::start().await;
        let app = spawn_app_with_google_and(&google, adjust).await;
        let owner = app.subscriber().await;
        let app_id = owner.create_app("Chat").await.id;
        owner.configure_google(&app_id, &google, integration).await;
        Self {
            app,
            google,
            owner,
            app_id,
        }
    }
}

/// A server allowing loopback providers, a signed-in subscriber, and one application
/// with an OAuth integration and one OpenID Connect provider (slug `acme`) served by
/// an in-process fake with its own issuer.
#[derive(Debug)]
pub struct OidcWorld {
    /// The server.
    pub app: TestApp,
    /// The company's identity server.
    pub idp: FakeGoogle,
    /// The subscriber owning the application.
    pub owner: Browser,
    /// The application.
    pub app_id: String,
}

impl OidcWorld {
    /// Starts one whose provider property has `provider`'s fields over the defaults.
    pub async fn start(provider: Value) -> Self {
        let idp = FakeGoogle::start_oidc().await;
        let app = spawn_app_with(|s| {
            s.allow_loopback_providers = true;
            s.provider_timeout_seconds = 2;
        })
        .await;
        let owner = app.subscriber().await;
        let app_id = owner.create_app("Chat").await.id;
        owner.add_integration(&app_id, json!({})).await;
        owner.add_oidc(&app_id, &idp, "acme", provider).await;
        Self {
            app,
            idp,
            owner,
            app_id,
        }
    }

    /// A whole sign-in at the provider `acme`.
    pub async fn login(&self, query: &str) -> Hop {
        self.app.provider_login(&self.app_id, "acme", query).await
    }
}

/// One HTTP response of a redirect chain, not followed.
#[derive(Debug)]
pub struct Hop {
    /// Status.
    pub status: StatusCode,
    /// `Location`, if any.
    pub location: Option<String>,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body text.
    pub body: String,
}

impl Hop {
    /// The query parameters of `Location`.
    #[must_use]
    pub fn params(&self) -> HashMap<String, String> {
        let loc = self.location.as_deref().expect("a redirect");
        url::Url::parse(loc)
            .expect("absolute location")
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// `Location` without its query.
    #[must_use]
    pub fn target(&self) -> String {
        let mut u = url::Url::parse(self.location.as_deref().expect("a redirect"))
            .expect("absolute location");
        u.set_query(None);
        u.to_string()
    }
}

/// The cookies of the person whose browser [`hop`] plays: one jar for the test
/// process, as a browser has one. Hosted logins bind themselves to it with a cookie
/// scoped to the application's path, and every test's applications are its own.
static PERSON: std::sync::LazyLock<std::sync::Arc<reqwest::cookie::Jar>> =
    std::sync::LazyLock::new(Default::default);

/// GETs `url` as the person's browser (keeping cookies) without following redirects.
pub async fn hop(url: &str) -> Hop {
    hop_in(&PERSON, url).await
}

/// A browser of somebody else: its own, empty cookie jar.
#[must_use]
pub fn other_browser() -> std::sync::Arc<reqwest::cookie::Jar> {
    std::sync::Arc::default()
}

/// GETs `url` with the cookies of `browser`, without following redirects.
pub async fn hop_in(browser: &std::sync::Arc<reqwest::cookie::Jar>, url: &str) -> Hop {
    // A client per request: a client outlives no test's runtime.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(browser.clone())
        .build()
        .unwrap();
    let res = client.get(url).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Hop {
        status,
        location,
        headers,
        body: res.text().await.unwrap(),
    }
}

/// Creates an empty PostgreSQL database for one test and returns its name.
pub async fn postgres_database() -> String {
    postgres_database_at(&postgres_base()).await
}

/// Creates an empty PostgreSQL database on the server at `base`
/// (`postgres://user@host:port`) and returns its name.
pub async fn postgres_database_at(base: &str) -> String {
    let name = format!("fg_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{base}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for FG_TEST_BACKEND=postgres and is not reachable: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.unwrap();
    name
}

/// An empty database of the backend under test (SQLite: a file in `dir`), as a URL.
pub async fn empty_database_url(dir: &std::path::Path) -> String {
    match backend() {
        Backend::Postgres => format!("{}/{}", postgres_base(), postgres_database().await),
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("fedgate.db").display()),
    }
}

/// Starts a server after `adjust` has changed the test settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_outbound(adjust, fedgate_provider::Outbound::default()).await
}

/// Starts a server whose calls to subscriber-given URLs go out as `outbound` says (an
/// injected resolver, a connection counter).
pub async fn spawn_app_with_outbound(
    adjust: impl FnOnce(&mut Settings),
    outbound: fedgate_provider::Outbound,
) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_path_buf(),
        log_level: std::env::var("FG_TEST_LOG").unwrap_or_else(|_| "error".into()),
        workers: 2,
        ..Settings::default()
    };
    // Whatever a test configures, provider calls never leave the machine.
    settings.testing.outbound_loopback_only = true;
    // The development provider only where a test turns it on.
    settings.dev_provider = fedgate_server::config::DevProvider::Off;
    let backend = backend();
    let mut pg_database = None;
    if backend == Backend::Postgres {
        let name = postgres_database().await;
        settings.database_url = Some(format!("{}/{name}", postgres_base()));
        settings.database_max_connections = 5;
        settings.redis_url = Some(redis_url());
        settings.redis_prefix = format!("fgtest:{}:", uuid::Uuid::new_v4().simple());
        settings.master_key = Some(MasterKey::generate().to_base64());
        pg_database = Some(name);
    }
    adjust(&mut settings);
    fedgate_server::telemetry::init(&settings);
    let clock = Arc::new(TestClock::default());
    let app = Application::build_with_clock(settings.clone(), outbound, clock.clone()).await.unwrap_or_else(|e| {
        panic!("the server did not start on backend {backend:?} (are PostgreSQL and Redis running?): {e:#}")
    });
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let db = app.database().connection().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        backend,
        pg_database,
        settings,
        clock,
        metrics_address,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// A fresh browser-like client (own cookie jar) for this server.
    #[must_use]
    pub fn browser(&self) -> Browser {
        Browser::at(&self.address)
    }

    /// A browser signed up as a new random subscriber.
    pub async fn subscriber(&self) -> Browser {
        let mut b = self.browser();
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let (status, body) = b.sign_up(&email, "correct horse battery staple").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        b
    }

    /// Makes the database unreachable for the running server.
    pub async fn take_database_down(&self) {
        match &self.pg_database {
            Some(name) => {
                let admin = Database::connect(format!("{}/postgres", postgres_base()))
                    .await
                    .unwrap();
                admin
                    .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                    .await
                    .unwrap();
            }
            // SQLite has no server to stop: close the server's own pool instead.
            None => self.db.close_by_ref().await.unwrap(),
        }
    }

    /// Rows in `properties` and `access_keys`, across all applications.
    pub async fn count_rows(&self) -> (u64, u64) {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let props = property::Entity::find().count(&self.db).await.unwrap();
        let keys = access_key::Entity::find().count(&self.db).await.unwrap();
        (props, keys)
    }

    /// Rows in `users` and `federated_users`, across all applications.
    pub async fn count_people(&self) -> (u64, u64) {
        use fedgate_storage::entity::{federated_user, user};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let users = user::Entity::find().count(&self.db).await.unwrap();
        let feds = federated_user::Entity::find()
            .count(&self.db)
            .await
            .unwrap();
        (users, feds)
    }

    /// Creates a user directly in storage with one email locator.
    pub async fn seed_user(&self, app_id: &str, user_id: &str, email: &str, verified: bool) {
        use fedgate_domain::ports::UserRepository;
        use fedgate_domain::user::{Locator, LocatorKind, User, UserLocator};
        let user = User {
            id: fedgate_domain::ids::UserId::parse(user_id).unwrap(),
            application_id: fedgate_domain::ids::ApplicationId::parse(app_id).unwrap(),
            screen_name: None,
            locators: vec![UserLocator {
                locator: Locator::parse(LocatorKind::Email, "email", email).unwrap(),
                verified,
            }],
            created_at: chrono::Utc::now(),
        };
        self.storage().create_user(&user, None).await.unwrap();
    }

    /// Copies one property's sealed secret over another's, as an attacker with
    /// database access might.
    pub async fn copy_property_secret(&self, from: &str, to: &str) {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let src = property::Entity::find_by_id(uuid::Uuid::parse_str(from).unwrap())
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        let dst = property::Entity::find_by_id(uuid::Uuid::parse_str(to).unwrap())
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(src.sealed_secret, dst.sealed_secret);
        let mut dst: property::ActiveModel = dst.into();
        dst.sealed_secret = Set(src.sealed_secret);
        dst.update(&self.db).await.unwrap();
    }

    /// Copies one access key's sealed secret over another's.
    pub async fn copy_key_secret(&self, from: &str, to: &str) {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let src = access_key::Entity::find_by_id(from.to_owned())
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        let dst = access_key::Entity::find_by_id(to.to_owned())
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        let mut dst: access_key::ActiveModel = dst.into();
        dst.sealed_secret = Set(src.sealed_secret);
        dst.update(&self.db).await.unwrap();
    }

    /// The address apps and providers know the server by: its public base URL
    /// (`http://localhost:<port>` unless set) without the trailing slash. Hosted
    /// logins start there, so their browser-binding cookie is the callback's.
    #[must_use]
    pub fn public_address(&self) -> String {
        self.settings.public_base_url.as_ref().map_or_else(
            || self.address.replace("127.0.0.1", "localhost"),
            |u| u.as_str().trim_end_matches('/').to_owned(),
        )
    }

    /// The hosted login endpoint of an application with `query` appended.
    #[must_use]
    pub fn login_url(&self, app_id: &str, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "?" };
        format!(
            "{}/hosted/{app_id}/google/login{sep}{query}",
            self.public_address()
        )
    }

    /// The login endpoint of the provider `slug` with `query` appended.
    #[must_use]
    pub fn provider_login_url(&self, app_id: &str, slug: &str, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "?" };
        format!(
            "{}/hosted/{app_id}/{slug}/login{sep}{query}",
            self.public_address()
        )
    }

    /// A whole sign-in at the provider `slug`: login endpoint, the fake's authorization
    /// endpoint, and the callback, whose response is returned.
    pub async fn provider_login(&self, app_id: &str, slug: &str, query: &str) -> Hop {
        let start = hop(&self.provider_login_url(app_id, slug, query)).await;
        assert_eq!(
            start.status,
            StatusCode::FOUND,
            "login start refused: {}",
            start.body
        );
        let at_provider = hop(start.location.as_deref().unwrap()).await;
        assert_eq!(at_provider.status, StatusCode::FOUND);
        hop(at_provider.location.as_deref().unwrap()).await
    }

    /// A whole Google sign-in: the login endpoint, the fake's authorization endpoint,
    /// and the callback, whose response (normally the redirect to the app) is returned.
    pub async fn google_login(&self, app_id: &str, query: &str) -> Hop {
        let start = hop(&self.login_url(app_id, query)).await;
        assert_eq!(
            start.status,
            StatusCode::FOUND,
            "login start refused: {}",
            start.body
        );
        let at_google = hop(start.location.as_deref().unwrap()).await;
        assert_eq!(at_google.status, StatusCode::FOUND);
        hop(at_google.location.as_deref().unwrap()).await
    }

    /// A storage handle on the server's database.
    #[must_use]
    pub fn storage(&self) -> fedgate_storage::SeaStore {
        fedgate_storage::SeaStore::from_connection(self.db.clone())
    }

    /// A `fedgate-client` for the application API with the given key.
    #[must_use]
    pub fn client(&self, key: &CreatedAccessKeyDto) -> fedgate_client::Client {
        self.client_at(&self.address, key)
    }

    /// A `fedgate-client` talking to the server at `base` (another instance).
    #[must_use]
    pub fn client_at(&self, base: &str, key: &CreatedAccessKeyDto) -> fedgate_client::Client {
        fedgate_client::Client::new(base, key.key.id.clone(), key.secret.clone()).unwrap()
    }

    /// Starts a second instance on the same database, state store and master key
    /// (as a deployment with several instances would) and returns its base URL.
    pub async fn second_instance(&self) -> String {
        let mut settings = self.settings.clone();
        settings.listen = "127.0.0.1:0".parse().unwrap();
        // Instances of one deployment share the public URL (tokens' `iss`).
        if settings.public_base_url.is_none() {
            let port = self.address.rsplit(':').next().unwrap();
            settings.public_base_url = Some(format!("http://localhost:{port}/").parse().unwrap());
        }
        let app = Application::build(settings).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    /// Starts another instance on the same database and state store with `adjust`
    /// applied to this one's settings (its own public URL, `http://localhost:<port>`),
    /// and returns its public URL — or why it did not start.
    pub async fn instance_with(
        &self,
        adjust: impl FnOnce(&mut Settings),
    ) -> Result<String, String> {
        let mut settings = self.settings.clone();
        settings.listen = "127.0.0.1:0".parse().unwrap();
        settings.public_base_url = None;
        adjust(&mut settings);
        let app = Application::build(settings)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let address = format!("http://localhost:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Ok(address)
    }

    /// The master key the server runs with: configured, or the embedded default's
    /// `master.key`.
    #[must_use]
    pub fn master_key(&self) -> MasterKey {
        let text = self.settings.master_key.clone().unwrap_or_else(|| {
            std::fs::read_to_string(self.settings.data_dir.join("master.key"))
                .unwrap()
                .trim()
                .to_owned()
                .into()
        });
        MasterKey::parse(&text).unwrap()
    }

    /// A signer for the application API with the given key.
    #[must_use]
    pub fn signer(&self, key_id: &str, secret: &str) -> Signer {
        Signer {
            client: reqwest::Client::new(),
            base: self.address.clone(),
            clock: Arc::clone(&self.clock),
            key_id: key_id.into(),
            secret: secret.into(),
        }
    }
}

/// A cookie-keeping client acting as a subscriber's browser (or a script using the
/// management API). Sends the CSRF token on state-changing requests once it has one.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The HTTP client with its cookie jar.
    pub client: reqwest::Client,
    /// The server's address.
    pub base: String,
    /// The CSRF token of the current session.
    pub csrf: Option<String>,
}

impl Browser {
    /// A fresh browser (own cookie jar) for the server at `base`.
    #[must_use]
    pub fn at(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: base.to_owned(),
            csrf: None,
        }
    }

    /// Signs up, keeping the session; returns the status and JSON body.
    pub async fn sign_up(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        self.account_call("signup", email, password).await
    }

    /// Signs in, keeping the session; returns the status and JSON body.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        self.account_call("signin", email, password).await
    }

    async fn account_call(
        &mut self,
        action: &str,
        email: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        let res = self
            .client
            .post(format!("{}/manage/v1/{action}", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        if status.is_success() {
            let session: SessionDto = serde_json::from_value(body.clone()).unwrap();
            self.csrf = Some(session.csrf_token);
        }
        (status, body)
    }

    /// A request with the CSRF header when a token is known.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(csrf) = &self.csrf {
            rb = rb.header("x-csrf-token", csrf);
        }
        rb
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// A JSON body with the given method.
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.unwrap()
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, body).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    /// Creates an application and returns it.
    pub async fn create_app(&self, name: &str) -> ApplicationDto {
        let res = self
            .post("/manage/v1/applications", &json!({"name": name}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    /// Adds Google credentials for `fake` and an OAuth integration with `integration`
    /// fields merged over the defaults (one redirect URI, [`APP_REDIRECT`]).
    pub async fn configure_google(&self, app_id: &str, fake: &FakeGoogle, integration: Value) {
        let path = format!("/manage/v1/applications/{app_id}/properties");
        let creds = json!({"kind": "google_oauth_credentials", "instanceName": "google", "clientId": fake.client_id, "clientSecret": fake.client_secret});
        assert_eq!(self.post(&path, &creds).await.status(), StatusCode::CREATED);
        self.add_integration(app_id, integration).await;
    }

    /// Adds an OAuth integration with `integration`'s fields over the defaults (one
    /// redirect URI, [`APP_REDIRECT`]).
    pub async fn add_integration(&self, app_id: &str, integration: Value) {
        let body = json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": [APP_REDIRECT]});
        self.add_property(app_id, body, integration).await;
    }

    /// Creates the property `body` with `extra`'s fields over it; returns it as stored.
    pub async fn add_property(&self, app_id: &str, mut body: Value, extra: Value) -> Value {
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let path = format!("/manage/v1/applications/{app_id}/properties");
        let res = self.post(&path, &body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Adds an OpenID Connect provider served by `idp` under `slug`, with `extra`
    /// fields over the defaults; returns the stored property.
    pub async fn add_oidc(
        &self,
        app_id: &str,
        idp: &FakeGoogle,
        slug: &str,
        extra: Value,
    ) -> Value {
        let body = json!({
            "kind": "openid_connect_provider",
            "instanceName": format!("{slug} provider"),
            "slug": slug,
            "displayName": format!("{} SSO", slug.to_uppercase()),
            "issuer": idp.issuer,
            "clientId": idp.client_id,
            "clientSecret": idp.client_secret,
        });
        self.add_property(app_id, body, extra).await
    }

    /// Adds a plain OAuth2 provider served by `platform` under `slug`, with `extra`
    /// fields over the defaults; returns the stored property.
    pub async fn add_oauth2(
        &self,
        app_id: &str,
        platform: &FakeOAuth2,
        slug: &str,
        extra: Value,
    ) -> Value {
        self.add_property(app_id, platform.property(slug), extra)
            .await
    }

    /// The application's properties, as the management API lists them.
    pub async fn properties(&self, app_id: &str) -> Vec<Value> {
        let res = self
            .get(&format!("/manage/v1/applications/{app_id}/properties"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// One federated user of the application, as the management API shows it.
    pub async fn federated_user(&self, app_id: &str, id: &str) -> Value {
        let res = self
            .get(&format!(
                "/manage/v1/applications/{app_id}/federated-users/{id}"
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// The application's hosted services.
    pub async fn services(&self, app_id: &str) -> Vec<Value> {
        let res = self
            .get(&format!("/manage/v1/applications/{app_id}/hosted-services"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// The application's events, newest first.
    pub async fn events(&self, app_id: &str, query: &str) -> Vec<Value> {
        let res = self
            .get(&format!("/manage/v1/applications/{app_id}/events{query}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Creates an access key and returns it with its secret.
    pub async fn create_key(&self, app_id: &str) -> CreatedAccessKeyDto {
        let res = self
            .request(
                Method::POST,
                &format!("/manage/v1/applications/{app_id}/access-keys"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }
}

/// Signs application API requests as documented in docs/api-signing.md.
#[derive(Debug, Clone)]
pub struct Signer {
    client: reqwest::Client,
    base: String,
    /// The server's clock, whose time signatures carry.
    clock: Arc<TestClock>,
    /// Key id.
    pub key_id: String,
    /// Secret.
    pub secret: String,
}

/// What to vary when signing, to build wrong requests on purpose.
#[derive(Debug, Clone, Default)]
pub struct Tamper {
    /// Seconds added to the real time in the timestamp.
    pub clock_offset: i64,
    /// Use this nonce instead of a fresh one.
    pub nonce: Option<String>,
    /// Sign this body but send the real one.
    pub signed_body: Option<Vec<u8>>,
    /// Sign this path-and-query but send the real one.
    pub signed_path_and_query: Option<String>,
    /// Sign with this secret.
    pub secret: Option<String>,
    /// Send this `X-Forwarded-For` (a client behind a trusted proxy).
    pub forwarded_for: Option<String>,
}

/// Current Unix time in seconds.
#[must_use]
pub fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

impl Signer {
    /// Sends a correctly signed request.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Response {
        self.send_tampered(method, path_and_query, body, &Tamper::default())
            .await
    }

    /// Sends a request signed with the given deviations.
    pub async fn send_tampered(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        t: &Tamper,
    ) -> Response {
        let body_bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let nonce = t
            .nonce
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let timestamp = unix_now() + self.clock.ahead() + t.clock_offset;
        let signed_target = t
            .signed_path_and_query
            .clone()
            .unwrap_or_else(|| path_and_query.to_owned());
        let (path, query) = signed_target
            .split_once('?')
            .unwrap_or((&signed_target, ""));
        let signed_body = t.signed_body.clone().unwrap_or_else(|| body_bytes.clone());
        let parts = RequestParts {
            key_id: &self.key_id,
            timestamp,
            nonce: &nonce,
            method: method.as_str(),
            path,
            query,
            body: &signed_body,
        };
        let secret = t.secret.clone().unwrap_or_else(|| self.secret.clone());
        let signature = signing::sign(secret.as_bytes(), &parts);
        let mut rb = self
            .client
            .request(method, format!("{}{path_and_query}", self.base))
            .header(signing::HEADER_KEY_ID, &self.key_id)
            .header(signing::HEADER_TIMESTAMP, timestamp.to_string())
            .header(signing::HEADER_NONCE, &nonce)
            .header(signing::HEADER_SIGNATURE, signature);
        if let Some(xff) = &t.forwarded_for {
            rb = rb.header("x-forwarded-for", xff);
        }
        if body.is_some() {
            rb = rb
                .header("content-type", "application/json")
                .body(body_bytes);
        }
        rb.send().await.unwrap()
    }
}

/// Reads an error body and returns its `code`, checking the shape on the way.
pub async fn error_code(res: Response) -> String {
    let has_request_id = res.headers().contains_key("x-request-id");
    let body: Value = res.json().await.expect("error responses are JSON");
    assert!(body["message"].is_string(), "error without message: {body}");
    let request_id = body["requestId"].as_str().expect("error without requestId");
    assert!(
        !request_id.is_empty() && has_request_id,
        "request id missing: {body}"
    );
    body["code"]
        .as_str()
        .expect("error without code")
        .to_owned()
}

/// The query of a signed Google login start of `app_id` (state signing): `extra`
/// followed by the signature parameters, signed with the access key `key_id`/`secret`
/// at Unix time `ts` with `nonce`.
#[must_use]
pub fn signed_login_query(
    app_id: &str,
    key_id: &str,
    secret: &str,
    extra: &str,
    ts: i64,
    nonce: &str,
) -> String {
    let path = format!("/hosted/{app_id}/google/login");
    let parts = fedgate_domain::signing::RequestParts {
        key_id,
        timestamp: ts,
        nonce,
        method: "GET",
        path: &path,
        query: extra,
        body: b"",
    };
    let sig = fedgate_domain::signing::sign(secret.as_bytes(), &parts);
    format!("{extra}&accessKeyId={key_id}&timestamp={ts}&nonce={nonce}&signature={sig}")
}

impl FakeGoogle {
    /// The `FEDGATE_TESTING__GOOGLE__*` variables that point a `fedgate` process's
    /// Google at this fake.
    #[must_use]
    pub fn override_env(&self) -> Vec<(String, String)> {
        let o = self.override_settings();
        vec![
            (
                "FEDGATE_TESTING__GOOGLE__AUTHORIZATION_URL".into(),
                o.authorization_url.to_string(),
            ),
            (
                "FEDGATE_TESTING__GOOGLE__TOKEN_URL".into(),
                o.token_url.to_string(),
            ),
            (
                "FEDGATE_TESTING__GOOGLE__USERINFO_URL".into(),
                o.userinfo_url.map(|u| u.to_string()).unwrap_or_default(),
            ),
            (
                "FEDGATE_TESTING__GOOGLE__JWKS_URL".into(),
                o.jwks_url.to_string(),
            ),
            ("FEDGATE_TESTING__GOOGLE__ISSUER".into(), o.issuer),
        ]
    }
}
