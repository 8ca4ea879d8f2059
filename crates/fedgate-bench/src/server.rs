//! The measured `fedgate` process: started from the release build beside this binary
//! on the embedded default or on PostgreSQL + Redis, configured through its
//! management API, and measured through `/proc`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fedgate_tests::{APP_REDIRECT, FakeGoogle};
use serde_json::{Value, json};

use crate::proc::{self, CpuReading, Group, MachineTicks, SwitchCounter};

/// Where Fedgate keeps its data.
#[derive(Debug, Clone)]
pub enum Storage {
    /// SQLite in a temporary data directory + the in-process state store.
    Embedded,
    /// A fresh database on this PostgreSQL server + this Redis.
    Shared {
        /// `postgres://user@host:port`, without a database.
        postgres: String,
        /// `redis://host:port`, or a Unix socket's `redis+unix:///path`.
        redis: String,
    },
}

impl Storage {
    /// From the command line's URLs.
    #[must_use]
    pub fn from(shared: Option<&(String, String)>) -> Self {
        shared.map_or(Self::Embedded, |(postgres, redis)| Self::Shared {
            postgres: postgres.clone(),
            redis: redis.clone(),
        })
    }

    /// How it is named in the output.
    #[must_use]
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded (SQLite + in-process store)",
            Self::Shared { .. } => "PostgreSQL + Redis",
        }
    }
}

fn is_local(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    // Redis on a Unix socket: `redis+unix:///path` or `unix:///path`.
    matches!(url.scheme(), "unix" | "redis+unix")
        || url
            .host_str()
            .is_some_and(|h| matches!(h, "127.0.0.1" | "localhost" | "::1" | "[::1]"))
}

/// A running `fedgate` process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// `127.0.0.1:<port>`, for the raw driver.
    pub addr: String,
    /// The public base URL (`localhost`): hosted logins start there, so the browser
    /// binding cookie set at the start comes back with the callback.
    pub public: String,
    /// The SQLite database file (embedded) or the PostgreSQL database URL.
    pub database_url: String,
    storage: Storage,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The master key of the PostgreSQL runs (an external database needs one given).
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A free loopback port.
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the `fedgate` binary on `storage` with `extra` environment on top of the
    /// benchmark's (rate limits lifted, the fake Google in place of Google).
    pub async fn start(google: &FakeGoogle, storage: &Storage, extra: &[(&str, String)]) -> Self {
        let bin = std::env::current_exe().unwrap().with_file_name("fedgate");
        assert!(
            bin.exists(),
            "{} not found: run `cargo build --release -p fedgate-server` first",
            bin.display()
        );
        let port = extra
            .iter()
            .find(|(k, _)| *k == "FEDGATE_LISTEN")
            .and_then(|(_, v)| v.rsplit(':').next()?.parse().ok())
            .unwrap_or_else(free_port);
        let data = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("FEDGATE_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("FEDGATE_DATA_DIR".into(), data.path().display().to_string()),
            ("FEDGATE_LOG_LEVEL".into(), "warn".into()),
        ];
        for limit in [
            "LOGIN_STARTS_PER_ADDRESS_PER_MINUTE",
            "CALLBACKS_PER_ADDRESS_PER_MINUTE",
            "LOGIN_STARTS_PER_APPLICATION_PER_MINUTE",
            "CALLBACKS_PER_APPLICATION_PER_MINUTE",
            // Every sign-in of the burst reaches the password check: what bounds
            // memory then is the hashing pool, not the throttles.
            "SIGNIN_FAILURES_PER_ACCOUNT",
            "SIGNIN_FAILURES_PER_ADDRESS",
            "SIGNIN_FAILURES_PER_ACCOUNT_PER_DAY",
        ] {
            env.push((format!("FEDGATE_LIMITS__{limit}"), "1000000000".into()));
        }
        let database_url = match storage {
            Storage::Embedded => data.path().join("fedgate.sqlite3").display().to_string(),
            Storage::Shared { postgres, redis } => {
                let database = fedgate_tests::postgres_database_at(postgres).await;
                let url = format!("{postgres}/{database}");
                env.push(("FEDGATE_DATABASE_URL".into(), url.clone()));
                env.push(("FEDGATE_REDIS_URL".into(), redis.clone()));
                env.push((
                    "FEDGATE_REDIS_PREFIX".into(),
                    format!("fgbench:{database}:"),
                ));
                env.push(("FEDGATE_MASTER_KEY".into(), MASTER_KEY.into()));
                url
            }
        };
        env.extend(google.override_env());
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let child = Command::new(bin)
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            addr: format!("127.0.0.1:{port}"),
            public: format!("http://localhost:{port}"),
            database_url,
            storage: storage.clone(),
            _data: data,
        };
        server.wait_ready().await;
        server
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if client
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fedgate at {} did not become ready", self.base);
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now.
    #[must_use]
    pub fn rss_kib(&self) -> u64 {
        proc::rss_kib(self.pid())
    }

    /// Starts measuring Fedgate (and PostgreSQL and Redis where they are local).
    #[must_use]
    pub fn measure(&self) -> Measure {
        self.measuring(self.pid(), true, true)
    }

    /// Starts measuring another process serving beside Fedgate (a yardstick), and
    /// Redis where it is local when the yardstick uses it.
    #[must_use]
    pub fn measure_beside(&self, pid: u32, uses_redis: bool) -> Measure {
        self.measuring(pid, false, uses_redis)
    }

    fn measuring(&self, pid: u32, with_postgres: bool, with_redis: bool) -> Measure {
        let (postgres, redis) = match &self.storage {
            Storage::Embedded => (None, None),
            Storage::Shared { postgres, redis } => (
                (with_postgres && is_local(postgres))
                    .then(|| CpuReading::start(Group::Named("postgres"))),
                (with_redis && is_local(redis))
                    .then(|| CpuReading::start(Group::Named("redis-server"))),
            ),
        };
        Measure {
            pid,
            fedgate: CpuReading::start(Group::Pids(vec![pid])),
            switches: SwitchCounter::start(pid),
            postgres,
            redis,
            machine: MachineTicks::now(),
        }
    }

    /// The Redis this instance uses, if any.
    #[must_use]
    pub fn redis_url(&self) -> Option<&str> {
        match &self.storage {
            Storage::Embedded => None,
            Storage::Shared { redis, .. } => Some(redis),
        }
    }
}

/// A measurement under way.
#[derive(Debug)]
pub struct Measure {
    pid: u32,
    fedgate: CpuReading,
    switches: SwitchCounter,
    postgres: Option<CpuReading>,
    redis: Option<CpuReading>,
    machine: MachineTicks,
}

/// What a measured phase cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Costs {
    /// Fedgate's CPU (or a yardstick's, measured the same way).
    pub fedgate: Duration,
    /// Fedgate's context switches.
    pub switches: u64,
    /// PostgreSQL's CPU, when local.
    pub postgres: Option<Duration>,
    /// Redis's CPU, when local.
    pub redis: Option<Duration>,
    /// Fedgate's resident memory at the end.
    pub rss_kib: u64,
    /// The whole machine's CPU time meanwhile: how much of it sat idle.
    pub machine: MachineTicks,
}

impl std::ops::Add for Costs {
    type Output = Self;

    /// Two phases together, with the resident memory at the end of the later.
    fn add(self, later: Self) -> Self {
        let sum = |a: Option<Duration>, b: Option<Duration>| {
            (a.is_some() || b.is_some()).then(|| a.unwrap_or_default() + b.unwrap_or_default())
        };
        Self {
            fedgate: self.fedgate + later.fedgate,
            switches: self.switches + later.switches,
            postgres: sum(self.postgres, later.postgres),
            redis: sum(self.redis, later.redis),
            rss_kib: later.rss_kib,
            machine: self.machine + later.machine,
        }
    }
}

impl Measure {
    /// Ends the measurement.
    #[must_use]
    pub fn finish(self) -> Costs {
        Costs {
            fedgate: self.fedgate.used(),
            postgres: self.postgres.as_ref().map(CpuReading::used),
            redis: self.redis.as_ref().map(CpuReading::used),
            switches: self.switches.finish(self.pid),
            rss_kib: proc::rss_kib(self.pid),
            machine: MachineTicks::now().since(self.machine),
        }
    }
}

/// The configured application: its id and an access key.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The application's id.
    pub app: String,
    /// The access key's id.
    pub key_id: String,
    /// Its secret.
    pub secret: String,
    /// A signed API client with that key.
    pub api: fedgate_client::Client,
}

/// Signs up, creates and configures an application (Google credentials for the fake
/// Google, an OAuth integration accepting the bench's redirect), makes an access key.
pub async fn configure(server: &Server, google: &FakeGoogle) -> Configured {
    let base = &server.base;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let s: Value = client
        .post(format!("{base}/manage/v1/signup"))
        .json(&json!({"email": "bench@example.com", "password": "benchmark password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = s["csrfToken"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-up failed: {s}"))
        .to_owned();
    let post = |path: String, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let app: Value = post("/manage/v1/applications".into(), json!({"name": "bench"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = app["id"].as_str().unwrap().to_owned();
    let props = format!("/manage/v1/applications/{id}/properties");
    for body in [
        json!({"kind": "google_oauth_credentials", "instanceName": "g", "clientId": google.client_id, "clientSecret": google.client_secret}),
        json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": [APP_REDIRECT]}),
    ] {
        let res = post(props.clone(), body).await.unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    let key: Value = post(
        format!("/manage/v1/applications/{id}/access-keys"),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let key_id = key["key"]["id"].as_str().unwrap().to_owned();
    let secret = key["secret"].as_str().unwrap().to_owned();
    let api = fedgate_client::Client::new(base, key_id.clone(), secret.clone()).unwrap();
    Configured {
        app: id,
        key_id,
        secret,
        api,
    }
}
