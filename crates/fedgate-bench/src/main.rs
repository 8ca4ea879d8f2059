//! Drives complete hosted logins through a separately running `fedgate` process and a
//! fast in-process fake Google, and prints throughput, latency percentiles and
//! Fedgate's own CPU time per login (from /proc, so the fake provider's and this
//! driver's CPU are not counted).
//!
//! `cargo build --release -p fedgate-server && cargo run --release -p fedgate-bench -- [N] [C]`
//!
//! `… fedgate-bench -- two-instances POSTGRES_BASE_URL REDIS_URL [N] [C]` runs two
//! instances on one PostgreSQL (a fresh database) and one Redis, the driver
//! alternating between them: each login starts on one instance and its callback lands
//! on the other.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark driver fails loudly"
)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fedgate_tests::{APP_REDIRECT, FakeGoogle, Person};
use serde_json::{Value, json};

/// Fedgate's CPU time (user + system) so far.
fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc stat");
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The highest resident set size the process has had.
fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct Server {
    child: Child,
    base: String,
    /// The public base URL (`localhost`): hosted logins start there, so the browser
    /// binding cookie set at the start comes back with the callback.
    public: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_fedgate(google: &FakeGoogle) -> Server {
    start_fedgate_with(google, &[])
}

/// Starts the `fedgate` binary with `extra` environment on top of the benchmark's.
fn start_fedgate_with(google: &FakeGoogle, extra: &[(String, String)]) -> Server {
    let bin = std::env::current_exe().unwrap().with_file_name("fedgate");
    assert!(
        bin.exists(),
        "{} not found: run `cargo build --release -p fedgate-server` first",
        bin.display()
    );
    // The port `extra` names in FEDGATE_LISTEN, or a free one.
    let port = extra
        .iter()
        .find(|(k, _)| k == "FEDGATE_LISTEN")
        .and_then(|(_, v)| v.rsplit(':').next()?.parse().ok())
        .unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(bin)
        .env("FEDGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FEDGATE_DATA_DIR", data.path())
        .env("FEDGATE_LOG_LEVEL", "warn")
        .env(
            "FEDGATE_LIMITS__LOGIN_STARTS_PER_ADDRESS_PER_MINUTE",
            "100000000",
        )
        .env(
            "FEDGATE_LIMITS__CALLBACKS_PER_ADDRESS_PER_MINUTE",
            "100000000",
        )
        // Every sign-in of the burst reaches the password check: what bounds memory
        // then is the hashing pool, not the throttles.
        .env("FEDGATE_LIMITS__SIGNIN_FAILURES_PER_ACCOUNT", "100000000")
        .env("FEDGATE_LIMITS__SIGNIN_FAILURES_PER_ADDRESS", "100000000")
        .env(
            "FEDGATE_LIMITS__SIGNIN_FAILURES_PER_ACCOUNT_PER_DAY",
            "100000000",
        )
        .envs(google.override_env())
        .envs(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        public: format!("http://localhost:{port}"),
        _data: data,
    }
}

/// Signs up, creates and configures an application; returns its id and an access key.
async fn setup(
    client: &reqwest::Client,
    base: &str,
    google: &FakeGoogle,
) -> (String, fedgate_client::Client) {
    for _ in 0..100 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    post(props.clone(), json!({"kind": "google_oauth_credentials", "instanceName": "g", "clientId": google.client_id, "clientSecret": google.client_secret})).await.unwrap();
    post(
        props,
        json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": [APP_REDIRECT]}),
    )
    .await
    .unwrap();
    let key: Value = post(
        format!("/manage/v1/applications/{id}/access-keys"),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let api = fedgate_client::Client::new(
        base,
        key["key"]["id"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    )
    .unwrap();
    (id, api)
}

/// User-token verification: through the signed API (signature, expiry, revocation and
/// the user looked up), and offline against the application's JWKS as an app's own
/// service would.
async fn verification(
    base: &str,
    app: &str,
    api: &fedgate_client::Client,
    pid: u32,
    n: usize,
    concurrency: usize,
) {
    let mut tokens = Vec::new();
    for i in 0..100 {
        let user = api
            .create_user(&fedgate_client::wire::users::CreateUserRequest {
                id: Some(format!("verify-{i}")),
                ..Default::default()
            })
            .await
            .unwrap();
        tokens.push(api.issue_token(&user.id, None).await.unwrap().token);
    }
    let tokens = Arc::new(tokens);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu0 = cpu_of(pid);
    let t = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (api, tokens, next) = (api.clone(), Arc::clone(&tokens), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let v = api.verify_token(&tokens[i % tokens.len()]).await.unwrap();
                    assert!(v.active, "{v:?}");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let wall = t.elapsed();
    let cpu = cpu_of(pid) - cpu0;
    println!(
        "verify via API         n={n:<6} {:>8.0} requests/s (driver on the same 2 cores)   Fedgate CPU {:>5.3} ms/request => {:>6.0} requests/s per Fedgate core",
        n as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / n as f64,
        n as f64 / cpu.as_secs_f64()
    );

    // Offline: the JWKS once, then pure signature and claim checks, on one thread.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(format!("{base}/hosted/{app}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&[app]);
    validation.set_issuer(&[base.replace("127.0.0.1", "localhost")]);
    let offline = n * 4;
    let t = Instant::now();
    for i in 0..offline {
        jsonwebtoken::decode::<Value>(&tokens[i % tokens.len()], &key, &validation).unwrap();
    }
    let wall = t.elapsed();
    println!(
        "verify offline (JWKS)  n={offline:<6} {:>8.0} verifications/s on one core (jsonwebtoken, Ed25519)",
        offline as f64 / wall.as_secs_f64()
    );
}

/// 1 000 sign-ins at once, all with the right password and all past the throttles:
/// Argon2 (19 MiB each) runs on a pool of one per core with a short queue, the rest
/// are told 503 — so the peak memory stays near idle + cores × 19 MiB.
async fn sign_in_burst(base: &str, pid: u32, n: usize) {
    let client = reqwest::Client::new();
    let before = peak_rss_kib(pid);
    let t = Instant::now();
    let attempts: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/manage/v1/signin");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"email": "bench@example.com", "password": "benchmark password"}))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16())
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for a in attempts {
        *statuses.entry(a.await.unwrap()).or_default() += 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "sign-in burst          n={n:<6} in {:.1} s: {statuses:?} (status: count)   peak RSS {} KiB (before {} KiB; bound idle + {cores} cores x 19 MiB Argon2)",
        t.elapsed().as_secs_f64(),
        peak_rss_kib(pid),
        before
    );
}

async fn one_login(client: &reqwest::Client, start_url: &str) -> Duration {
    let t = Instant::now();
    let mut url = start_url.to_owned();
    for hop in 0..3 {
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 302, "hop {hop} of {url}");
        url = res.headers()["location"].to_str().unwrap().to_owned();
    }
    assert!(
        url.starts_with(APP_REDIRECT) && url.contains("autoLoginToken="),
        "{url}"
    );
    t.elapsed()
}

async fn run_logins(urls: Vec<String>, concurrency: usize) -> (Duration, Vec<Duration>) {
    run_browsers(urls, concurrency, |client, url| async move {
        one_login(&client, &url).await
    })
    .await
}

/// Runs `one(browser, item)` for every item, `concurrency` at a time; each worker is
/// one browser (its own cookies: a hosted login is bound to the browser that started
/// it). The wall time and the sorted latencies.
async fn run_browsers<T, F, Fut>(
    items: Vec<T>,
    concurrency: usize,
    one: F,
) -> (Duration, Vec<Duration>)
where
    T: Clone + Send + Sync + 'static,
    F: Fn(reqwest::Client, T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let items = Arc::new(items);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap();
            let (items, next, one) = (Arc::clone(&items), Arc::clone(&next), one.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    lat.push(one(client.clone(), item.clone()).await);
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all.sort();
    (started.elapsed(), all)
}

fn report(name: &str, n: usize, wall: Duration, lat: &[Duration], cpu: Duration) {
    println!(
        "{name:<22} n={n:<6} {:>8.0} logins/s   p50 {:>6.2} ms   p99 {:>6.2} ms   Fedgate CPU {:>5.3} ms/login",
        n as f64 / wall.as_secs_f64(),
        percentile(lat, 0.50).as_secs_f64() * 1e3,
        percentile(lat, 0.99).as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3 / n as f64
    );
}

/// Two instances on one PostgreSQL and one Redis; logins start on one and finish on
/// the other.
async fn two_instances(mut args: impl Iterator<Item = String>) {
    let postgres = args
        .next()
        .expect("POSTGRES_BASE_URL (postgres://user@host:port)");
    let redis = args.next().expect("REDIS_URL (redis://host:port)");
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let google = FakeGoogle::start().await;
    let database = fedgate_tests::postgres_database_at(&postgres).await;
    let shared = |public: &str| {
        vec![
            (
                "FEDGATE_DATABASE_URL".to_owned(),
                format!("{postgres}/{database}"),
            ),
            ("FEDGATE_REDIS_URL".to_owned(), redis.clone()),
            (
                "FEDGATE_REDIS_PREFIX".to_owned(),
                format!("fgbench:{database}:"),
            ),
            (
                "FEDGATE_MASTER_KEY".to_owned(),
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
            ),
            ("FEDGATE_PUBLIC_BASE_URL".to_owned(), public.to_owned()),
        ]
    };
    // A first, so the schema is in place before B starts; both share A's public URL
    // (the issuer of user tokens and the callback registered at the provider).
    let a_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://localhost:{a_port}");
    let mut env_a = shared(&public);
    env_a.push(("FEDGATE_LISTEN".to_owned(), format!("127.0.0.1:{a_port}")));
    let a = start_fedgate_with(&google, &env_a);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let (app, _api) = setup(&client, &a.base, &google).await;
    let b = start_fedgate_with(&google, &shared(&public));
    for _ in 0..100 {
        if client
            .get(format!("{}/readyz", b.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b_public = b.public.clone();
    println!(
        "fedgate-bench two-instances: N={n} logins, concurrency C={concurrency}, two instances on one PostgreSQL + Redis, each login started on one and completed on the other, release build"
    );
    let hints: Vec<String> = (0..n).map(|i| format!("bench-{i}")).collect();
    for h in &hints {
        google.add(h, Person::gmail(h));
    }
    // Even logins start on A and come back to B; odd ones the other way round.
    let urls: Vec<(String, String)> = hints
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (start, back) = if i % 2 == 0 {
                (&public, &b_public)
            } else {
                (&b_public, &public)
            };
            (
                format!("{start}/hosted/{app}/google/login?login_hint={h}&state=s"),
                back.clone(),
            )
        })
        .collect();
    let pids = [a.child.id(), b.child.id()];
    let cpu = || pids.iter().map(|p| cpu_of(*p)).sum::<Duration>();
    let cpu0 = cpu();
    let (wall, lat) = run_crossing_logins(urls.clone(), concurrency).await;
    report("new users (A+B)", n, wall, &lat, cpu() - cpu0);
    let cpu0 = cpu();
    let (wall, lat) = run_crossing_logins(urls, concurrency).await;
    report("returning (A+B)", n, wall, &lat, cpu() - cpu0);
    println!(
        "RSS after the run: A {} KiB, B {} KiB (Fedgate CPU above is both instances together; PostgreSQL's and Redis's are not counted)",
        rss_kib(pids[0]),
        rss_kib(pids[1])
    );
}

/// Logins whose callback goes to another instance than their start: `(start URL,
/// origin of the instance the callback is sent to)`.
async fn run_crossing_logins(
    urls: Vec<(String, String)>,
    concurrency: usize,
) -> (Duration, Vec<Duration>) {
    run_browsers(urls, concurrency, |client, (start, other)| async move {
        let t = Instant::now();
        let res = client.get(&start).send().await.unwrap();
        assert_eq!(res.status(), 302, "start {start}");
        let to_provider = res.headers()["location"].to_str().unwrap().to_owned();
        let res = client.get(&to_provider).send().await.unwrap();
        assert_eq!(res.status(), 302);
        let callback = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        let crossed = format!(
            "{other}{}?{}",
            callback.path(),
            callback.query().unwrap_or_default()
        );
        let res = client.get(&crossed).send().await.unwrap();
        assert_eq!(res.status(), 302, "callback {crossed}");
        let back = res.headers()["location"].to_str().unwrap();
        assert!(
            back.starts_with(APP_REDIRECT) && back.contains("autoLoginToken="),
            "{back}"
        );
        t.elapsed()
    })
    .await
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("two-instances") {
        args.next();
        return two_instances(args).await;
    }
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let google = FakeGoogle::start().await;
    let server = start_fedgate(&google);
    let pid = server.child.id();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let (app, api) = setup(&client, &server.base, &google).await;
    println!(
        "fedgate-bench: N={n} logins, concurrency C={concurrency}, SQLite + in-process store, release build"
    );
    println!("idle RSS after start-up: {} KiB", rss_kib(pid));
    sign_in_burst(&server.base, pid, 1000).await;

    let hints: Vec<String> = (0..n).map(|i| format!("bench-{i}")).collect();
    for h in &hints {
        google.add(h, Person::gmail(h));
    }
    let urls: Vec<String> = hints
        .iter()
        .map(|h| {
            format!(
                "{}/hosted/{app}/google/login?login_hint={h}&state=s",
                server.public
            )
        })
        .collect();

    let cpu0 = cpu_of(pid);
    let (wall, lat) = run_logins(urls.clone(), concurrency).await;
    report("new users", n, wall, &lat, cpu_of(pid) - cpu0);

    let cpu0 = cpu_of(pid);
    let (wall, lat) = run_logins(urls, concurrency).await;
    report("returning users", n, wall, &lat, cpu_of(pid) - cpu0);

    // Login start alone: the redirect to the provider.
    let start_url = format!("{}/hosted/{app}/google/login?state=s", server.public);
    let starts = n * 10;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu0 = cpu_of(pid);
    let t = Instant::now();
    let workers: Vec<_> = (0..concurrency * 2)
        .map(|_| {
            let (client, url, next) = (client.clone(), start_url.clone(), Arc::clone(&next));
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < starts {
                    let res = client.get(&url).send().await.unwrap();
                    assert_eq!(res.status(), 302);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let wall = t.elapsed();
    let cpu = cpu_of(pid) - cpu0;
    println!(
        "login start only       n={starts:<6} {:>8.0} requests/s (driver on the same 2 cores)   Fedgate CPU {:>5.3} ms/request => {:>6.0} requests/s per Fedgate core",
        starts as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / starts as f64,
        starts as f64 / cpu.as_secs_f64()
    );
    verification(&server.base, &app, &api, pid, n * 5, concurrency).await;
    println!("RSS after the run: {} KiB", rss_kib(pid));
}
