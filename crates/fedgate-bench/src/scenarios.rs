//! The scenarios: each starts its own Fedgate, drives it, and prints one line per
//! measured phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fedgate_tests::{APP_REDIRECT, FakeGoogle, Person};
use sea_orm::{ConnectionTrait, Database};

use crate::server::{Configured, Costs, Server, Storage, configure, free_port};
use crate::{Options, proc, raw};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One line: throughput, latency, CPU per operation of each process, context
/// switches per operation, Fedgate's resident memory.
fn report(name: &str, unit: &str, wall: Duration, lat: &[Duration], costs: &Costs) {
    let n = lat.len().max(1) as f64;
    let per_op = |d: Duration| ms(d) / n;
    let mut line = format!(
        "{name:<26} n={:<7} {:>7.0} {unit}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  CPU/op: Fedgate {:.3} ms",
        lat.len(),
        n / wall.as_secs_f64(),
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.99)),
        per_op(costs.fedgate),
    );
    if let Some(pg) = costs.postgres {
        line.push_str(&format!("  PostgreSQL {:.3} ms", per_op(pg)));
    }
    if let Some(r) = costs.redis {
        line.push_str(&format!("  Redis {:.3} ms", per_op(r)));
    }
    if costs.postgres.is_some() || costs.redis.is_some() {
        let all =
            costs.fedgate + costs.postgres.unwrap_or_default() + costs.redis.unwrap_or_default();
        line.push_str(&format!("  together {:.3} ms", per_op(all)));
    }
    line.push_str(&format!(
        "  switches/op {:.1}  RSS {} KiB",
        costs.switches as f64 / n,
        costs.rss_kib
    ));
    if let Some(idle) = costs.machine.idle_percent() {
        line.push_str(&format!("  idle {idle:.0} %"));
    }
    println!("{line}");
}

/// The fake Google's person behind `hint`, the same whenever asked (so the second
/// login of a hint is a returning user).
fn person(hint: &str) -> Person {
    Person {
        sub: format!("sub-{hint}"),
        ..Person::gmail(hint)
    }
}

/// Latencies of complete logins and of their callback hop alone.
struct LoginRun {
    wall: Duration,
    total: Vec<Duration>,
    callback: Vec<Duration>,
}

/// One complete login in `browser`: start → provider → callback → back at the app.
/// The time of the whole and of the callback hop.
async fn one_login(browser: &reqwest::Client, start_url: &str) -> (Duration, Duration) {
    let t = Instant::now();
    let mut url = start_url.to_owned();
    let mut callback = Duration::ZERO;
    for hop in 0..3 {
        let h = Instant::now();
        let res = browser.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 302, "hop {hop} of {url}");
        if hop == 2 {
            callback = h.elapsed();
        }
        url = res.headers()["location"].to_str().unwrap().to_owned();
    }
    assert!(
        url.starts_with(APP_REDIRECT) && url.contains("autoLoginToken="),
        "{url}"
    );
    (t.elapsed(), callback)
}

/// Runs `one(browser, item)` for every item, `concurrency` at a time; each worker is
/// one browser with its own cookies (a hosted login is bound to the browser that
/// started it).
async fn run_browsers<T, F, Fut, R>(items: Vec<T>, concurrency: usize, one: F) -> (Duration, Vec<R>)
where
    T: Clone + Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(reqwest::Client, T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = R> + Send,
{
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let browser = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap();
            let (items, next, one) = (Arc::clone(&items), Arc::clone(&next), one.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    out.push(one(browser.clone(), item.clone()).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    (started.elapsed(), all)
}

/// Complete logins of the people `hints` (added to the fake Google when new).
async fn run_logins(
    server: &Server,
    google: &FakeGoogle,
    app: &str,
    hints: std::ops::Range<usize>,
    concurrency: usize,
) -> LoginRun {
    let urls: Vec<String> = hints
        .map(|i| {
            let h = format!("bench-{i}");
            google.add(&h, person(&h));
            format!(
                "{}/hosted/{app}/google/login?login_hint={h}&state=s",
                server.public
            )
        })
        .collect();
    let (wall, results) = run_browsers(urls, concurrency, |browser, url| async move {
        one_login(&browser, &url).await
    })
    .await;
    let (mut total, mut callback): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    total.sort();
    callback.sort();
    LoginRun {
        wall,
        total,
        callback,
    }
}

async fn measured_logins(
    name: &str,
    server: &Server,
    google: &FakeGoogle,
    app: &str,
    hints: std::ops::Range<usize>,
    concurrency: usize,
) -> LoginRun {
    let m = server.measure();
    let run = run_logins(server, google, app, hints, concurrency).await;
    report(name, "logins", run.wall, &run.total, &m.finish());
    run
}

/// The whole request-per-request scenario: `requests` through the raw driver.
async fn measured_requests(
    name: &str,
    server: &Server,
    requests: Vec<Vec<u8>>,
    concurrency: usize,
    check: fn(&raw::Response) -> bool,
) -> (Duration, Vec<Duration>, Costs) {
    let m = server.measure();
    let (wall, lat) = raw::run(&server.addr, requests, concurrency, check).await;
    let costs = m.finish();
    report(name, "requests", wall, &lat, &costs);
    (wall, lat, costs)
}

fn login_start_request(server: &Server, app: &str) -> Vec<u8> {
    let host = server.public.trim_start_matches("http://");
    raw::get(host, &format!("/hosted/{app}/google/login?state=s"))
}

/// Rounds in which the login start and its yardsticks take turns.
const START_ROUNDS: usize = 5;

/// A yardstick of the login start: `fedgate-bench bare-redirect PORT [REDIS_URL]`
/// (see `bare.rs`), a process of its own.
struct Yardstick {
    child: std::process::Child,
    addr: String,
}

impl Yardstick {
    async fn start(redis: Option<&str>) -> Self {
        let port = free_port();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["bare-redirect", &port.to_string()])
            .args(redis)
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child, addr }
    }
}

impl Drop for Yardstick {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who takes a turn.
#[derive(Clone, Copy)]
enum Side {
    Start,
    Bare,
    Storing,
}

/// Login start against the bare actix-web redirect, same driver, same connections:
/// `count` requests each, taking turns in [`START_ROUNDS`] rounds (the order
/// rotating) so that a machine that speeds up or slows down meanwhile weighs on all
/// alike; each round's ratio is printed with their median. With Redis, a third takes
/// turns too: the bare redirect storing one record in that Redis first, the most a
/// start that keeps its login record there can reach on this machine.
async fn login_start_against_bare(server: &Server, app: &str, count: usize, concurrency: usize) {
    println!("login start against the bare redirect, {concurrency} connections:");
    let start = login_start_request(server, app);
    let bare = Yardstick::start(None).await;
    let storing = match server.redis_url() {
        Some(redis) => Some(Yardstick::start(Some(redis)).await),
        None => None,
    };
    let mut sides = vec![Side::Start, Side::Bare];
    if storing.is_some() {
        sides.push(Side::Storing);
    }
    let turn = |side: Side| {
        let start = start.clone();
        let (bare, storing) = (&bare, storing.as_ref());
        async move {
            quiet().await;
            let yardstick = match side {
                Side::Start => None,
                Side::Bare => Some((bare, false)),
                Side::Storing => Some((storing.expect("a storing yardstick"), true)),
            };
            let (addr, request, measure) = match yardstick {
                None => (server.addr.as_str(), start, server.measure()),
                Some((y, uses_redis)) => (
                    y.addr.as_str(),
                    raw::get("localhost", "/start"),
                    server.measure_beside(y.child.id(), uses_redis),
                ),
            };
            let (wall, total) =
                raw::run(addr, vec![request; count], concurrency, |r| r.status == 302).await;
            let run = LoginRun {
                wall,
                total,
                callback: Vec::new(),
            };
            (run, measure.finish())
        }
    };
    let mut tallies: Vec<Tally> = sides.iter().map(|_| Tally::default()).collect();
    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); sides.len()];
    for round in 0..START_ROUNDS {
        for k in 0..sides.len() {
            let i = (round + k) % sides.len();
            let (run, costs) = turn(sides[i]).await;
            walls[i].push(run.wall);
            tallies[i].add(run, costs);
        }
    }
    drop((bare, storing));
    let names = [
        "login start only",
        "bare actix-web 302",
        "bare 302 + a Redis SET",
    ];
    for (tally, name) in tallies.iter_mut().zip(names) {
        tally.report(name, "requests");
    }
    let per_cpu = |t: &Tally| t.costs.unwrap_or_default().fedgate.as_secs_f64().recip();
    let (median, rounds) = throughput_ratio(&walls[0], &walls[1]);
    println!(
        "  login start / bare 302: {median:.0} % of its throughput through the same driver (median of {START_ROUNDS} rounds taking turns: {rounds} %), {:.0} % of its requests per CPU second",
        100.0 * per_cpu(&tallies[0]) / per_cpu(&tallies[1])
    );
    if let Some(storing_walls) = walls.get(2) {
        let (median, rounds) = throughput_ratio(storing_walls, &walls[1]);
        println!(
            "  bare 302 + a Redis SET / bare 302: {median:.0} % of its throughput (rounds: {rounds} %), the most a start storing its record in this Redis reaches here"
        );
    }
}

/// The median of the rounds' throughput ratios of `a` to `b` (walls of the same
/// request counts) in per cent, and every round's.
fn throughput_ratio(a: &[Duration], b: &[Duration]) -> (f64, String) {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| 100.0 * b.as_secs_f64() / a.as_secs_f64())
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let rounds: Vec<String> = ratios.iter().map(|r| format!("{r:.0}")).collect();
    (sorted[sorted.len() / 2], rounds.join(", "))
}

/// A pause before each turn, for the work a turn leaves behind (Fedgate writes its
/// `login_started` events every 20 ms) to end before the other side's turn begins.
async fn quiet() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Token verification through the signed API: every request signed with its own
/// nonce before the measured window (the driver only sends bytes), revocation and the
/// user checked by Fedgate; then offline against the JWKS in this process.
async fn verification(server: &Server, configured: &Configured, count: usize, concurrency: usize) {
    let api = &configured.api;
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
    let host = server.base.trim_start_matches("http://");
    let path = "/api/v1/tokens/verify";
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let requests: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let body = serde_json::to_vec(&serde_json::json!({"token": tokens[i % tokens.len()]}))
                .unwrap();
            let nonce = format!("bench-nonce-{i:012}-{timestamp}");
            let signature = fedgate_signing::sign(
                configured.secret.as_bytes(),
                &fedgate_signing::RequestParts {
                    key_id: &configured.key_id,
                    timestamp,
                    nonce: &nonce,
                    method: "POST",
                    path,
                    query: "",
                    body: &body,
                },
            );
            raw::post_json(
                host,
                path,
                &[
                    (fedgate_signing::HEADER_KEY_ID, configured.key_id.clone()),
                    (fedgate_signing::HEADER_TIMESTAMP, timestamp.to_string()),
                    (fedgate_signing::HEADER_NONCE, nonce),
                    (fedgate_signing::HEADER_SIGNATURE, signature),
                ],
                &body,
            )
        })
        .collect();
    measured_requests("verify via API", server, requests, concurrency, |r| {
        r.status == 200 && r.body.windows(13).any(|w| w == b"\"active\":true")
    })
    .await;

    // Offline: the JWKS once, then pure signature and claim checks, on one thread.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(format!(
        "{}/hosted/{}/jwks.json",
        server.base, configured.app
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&[&configured.app]);
    validation.set_issuer(&[&server.public]);
    let offline = count * 2;
    let t = Instant::now();
    for i in 0..offline {
        jsonwebtoken::decode::<serde_json::Value>(&tokens[i % tokens.len()], &key, &validation)
            .unwrap();
    }
    println!(
        "{:<26} n={offline:<7} {:>7.0} verifications/s on one core of this process (jsonwebtoken, Ed25519)",
        "verify offline (JWKS)",
        offline as f64 / t.elapsed().as_secs_f64()
    );
}

/// A Fedgate on the storage the options name, its application configured, and the
/// fake Google it signs people in with.
struct Started {
    storage: Storage,
    google: FakeGoogle,
    server: Server,
    configured: Configured,
}

async fn start(options: &Options) -> Started {
    let storage = Storage::from(options.shared.as_ref());
    let google = FakeGoogle::start().await;
    let server = Server::start(&google, &storage, &[]).await;
    let configured = configure(&server, &google).await;
    Started {
        storage,
        google,
        server,
        configured,
    }
}

/// New and returning users, login start against the bare redirect, verification.
pub async fn logins(options: &Options) {
    let (n, c) = (options.n.unwrap_or(2000), options.c);
    let Started {
        storage,
        google,
        server,
        configured,
    } = start(options).await;
    println!(
        "fedgate-bench logins: {}, N={n}, C={c}, release build, driver and fake provider on the same cores",
        storage.label()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("{:<26} {} KiB", "idle RSS after set-up", server.rss_kib());
    let app = &configured.app;
    measured_logins("new users", &server, &google, app, 0..n, c).await;
    measured_logins("returning users", &server, &google, app, 0..n, c).await;
    // As many connections as the logins' browsers, then enough for the start — which
    // waits on Redis where the bare redirect waits on nothing — to keep the cores busy.
    for connections in [c * 2, c * 8] {
        login_start_against_bare(&server, app, n * 10, connections).await;
    }
    verification(&server, &configured, n * 10, c * 2).await;
    println!("{:<26} {} KiB", "RSS after the run", server.rss_kib());
}

/// From an empty PostgreSQL database: new-user logins a thousand at a time, with the
/// CPU per login of Fedgate and PostgreSQL for each thousand (a plan chosen while the
/// tables were empty would show here as a climb).
pub async fn fill(options: &Options) {
    assert!(
        options.shared.is_some(),
        "fill needs POSTGRES_BASE_URL REDIS_URL"
    );
    let (users, c) = (options.n.unwrap_or(10_000), options.c);
    let Started {
        storage,
        google,
        server,
        configured,
    } = start(options).await;
    println!(
        "fedgate-bench fill: {} from an empty database, {users} new users a thousand at a time, C={c}",
        storage.label()
    );
    for from in (0..users).step_by(1000) {
        let to = (from + 1000).min(users);
        measured_logins(
            &format!("new users {from}..{to}"),
            &server,
            &google,
            &configured.app,
            from..to,
            c,
        )
        .await;
    }
}

/// The stored users' rows, copied from a real one `copies` times with new ids: a
/// million users in seconds instead of a million logins.
async fn seed_users(server: &Server, copies: usize) {
    let postgres = server.database_url.starts_with("postgres");
    let url = if postgres {
        server.database_url.clone()
    } else {
        format!("sqlite://{}?mode=rw", server.database_url)
    };
    let db = Database::connect(url).await.unwrap();
    let series = if postgres {
        format!("SELECT g FROM generate_series(1, {copies}) AS g")
    } else {
        format!(
            "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {copies}) SELECT g FROM s"
        )
    };
    let id = if postgres {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let concat = |a: &str| format!("'seed-' || {a}");
    let statements = [
        format!(
            "INSERT INTO users (application_id, id, screen_name, created_at, updated_at) \
             SELECT t.application_id, {}, NULL, t.created_at, t.updated_at \
             FROM ({series}) AS s, (SELECT * FROM users LIMIT 1) AS t",
            concat("s.g")
        ),
        format!(
            "INSERT INTO user_locators (application_id, kind, normalized, value, user_id, verified, created_at) \
             SELECT t.application_id, t.kind, {} || '@seed.example', {} || '@seed.example', {}, t.verified, t.created_at \
             FROM ({series}) AS s, (SELECT * FROM user_locators LIMIT 1) AS t",
            concat("s.g"),
            concat("s.g"),
            concat("s.g")
        ),
        format!(
            "INSERT INTO federated_users (id, application_id, provider_config, issuer, subject, link_state, user_id, candidates, profile, sealed_tokens, created_at, updated_at, last_login_at) \
             SELECT {id}, t.application_id, t.provider_config, t.issuer, {}, t.link_state, {}, t.candidates, t.profile, NULL, t.created_at, t.updated_at, t.last_login_at \
             FROM ({series}) AS s, (SELECT * FROM federated_users LIMIT 1) AS t",
            concat("s.g"),
            concat("s.g")
        ),
    ];
    let t = Instant::now();
    for sql in &statements {
        db.execute_unprepared(sql).await.unwrap();
    }
    if postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    } else {
        // The seed's hundreds of megabytes sit in the write-ahead log; a database that
        // grew over months has long had its log copied into the file, so the seed's is
        // copied before the logins are measured, not by their commits.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
    }
    db.close().await.unwrap();
    println!(
        "{:<26} {copies} users with a locator and a linked identity each, in {:.1} s",
        "seeded",
        t.elapsed().as_secs_f64()
    );
}

/// Callback latency with a thousand stored users and with a million.
pub async fn size(options: &Options) {
    let (users, c) = (options.n.unwrap_or(1_000_000), options.c);
    let storage = Storage::from(options.shared.as_ref());
    let google = FakeGoogle::start().await;
    // Two instances, each on a database of its own: one keeps its thousand or two
    // users, the other gets the seed. They take turns in rounds, so a machine that
    // speeds up or slows down meanwhile (a shared host) weighs on both sizes alike.
    let small = Server::start(&google, &storage, &[]).await;
    let large = Server::start(&google, &storage, &[]).await;
    let small_app = configure(&small, &google).await.app;
    let large_app = configure(&large, &google).await.app;
    let instances = [
        ("small", &small, small_app.as_str()),
        ("large", &large, large_app.as_str()),
    ];
    println!(
        "fedgate-bench size: {}, callback latency with 1 000 stored users and with {users}, \
         two instances taking turns, C={c}",
        storage.label()
    );
    for (which, server, app) in instances {
        let name = format!("first 1000 users, {which}");
        measured_logins(&name, server, &google, app, 0..1000, c).await;
    }
    seed_users(&large, users).await;
    // The large instance sat idle while the seed went in, and its allocator handed free
    // memory back: both warm up again before the measured rounds.
    for (which, server, app) in instances {
        let name = format!("warm-up, {which}");
        measured_logins(&name, server, &google, app, 0..500, c).await;
    }
    const ROUNDS: usize = 5;
    const BATCH: usize = 200;
    // [instance][returning, new]
    let mut tallies: [[Tally; 2]; 2] = Default::default();
    for round in 0..ROUNDS {
        let mut order = [0, 1];
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (_, server, app) = instances[i];
            let returning = round * BATCH..(round + 1) * BATCH;
            let new = 1000 + round * BATCH..1000 + (round + 1) * BATCH;
            for (kind, hints) in [returning, new].into_iter().enumerate() {
                let m = server.measure();
                let run = run_logins(server, &google, app, hints, c).await;
                tallies[i][kind].add(run, m.finish());
            }
        }
    }
    let stored = format!("{} stored", users + 1000);
    let [mut small_tally, mut large_tally] = tallies;
    for (kind, what) in ["returning", "new"].into_iter().enumerate() {
        let a = small_tally[kind].report(&format!("{what}, 1-2 k stored"), "logins");
        let b = large_tally[kind].report(&format!("{what}, {stored}"), "logins");
        println!(
            "  callback p50, {what}: {:.2} ms with 1-2 k users, {:.2} ms with {stored} ({:+.0} %)",
            ms(a),
            ms(b),
            100.0 * (b.as_secs_f64() / a.as_secs_f64() - 1.0)
        );
    }
}

/// Logins of one kind on one instance (or requests of one kind), gathered over rounds.
#[derive(Default)]
struct Tally {
    wall: Duration,
    total: Vec<Duration>,
    callback: Vec<Duration>,
    costs: Option<Costs>,
}

impl Tally {
    fn add(&mut self, run: LoginRun, costs: Costs) {
        self.wall += run.wall;
        self.total.extend(run.total);
        self.callback.extend(run.callback);
        self.costs = Some(self.costs.map_or(costs, |before| before + costs));
    }

    /// Prints the rounds together as one line, counting `unit`; their callback p50.
    fn report(&mut self, name: &str, unit: &str) -> Duration {
        self.total.sort();
        self.callback.sort();
        if let Some(costs) = &self.costs {
            report(name, unit, self.wall, &self.total, costs);
        }
        percentile(&self.callback, 0.5)
    }
}

/// 1 000 sign-ins at once, all with the right password and all past the throttles:
/// Argon2 (19 MiB each) runs on a pool of one per core with a short queue, the rest
/// are told 503 — so the peak memory stays near idle + cores × 19 MiB.
async fn sign_in_burst(server: &Server, n: usize) {
    let client = reqwest::Client::new();
    let before = proc::peak_rss_kib(server.pid());
    let t = Instant::now();
    let attempts: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/manage/v1/signin", server.base);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"email": "bench@example.com", "password": "benchmark password"}))
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
        "{:<26} n={n:<7} in {:.1} s: {statuses:?} (status: count)  peak RSS {} KiB (before {before} KiB; bound idle + {cores} cores x 19 MiB Argon2)",
        "sign-in burst",
        t.elapsed().as_secs_f64(),
        proc::peak_rss_kib(server.pid()),
    );
}

/// Memory: idle, a burst of sign-ins, after many logins, during and after a flood of
/// login starts.
pub async fn memory(options: &Options) {
    let (n, c) = (options.n.unwrap_or(100_000), options.c);
    let ttl = 20;
    let google = FakeGoogle::start().await;
    let server = Server::start(
        &google,
        &Storage::Embedded,
        &[("FEDGATE_LOGIN_TTL_SECONDS", ttl.to_string())],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "fedgate-bench memory: embedded, {n} logins, a 30 s flood of login starts, login records kept {ttl} s"
    );
    println!("{:<26} {} KiB", "idle RSS after start-up", server.rss_kib());
    let configured = configure(&server, &google).await;
    let app = &configured.app;
    sign_in_burst(&server, 1000).await;
    for from in (0..n).step_by(10_000) {
        let _ = run_logins(&server, &google, app, from..(from + 10_000).min(n), c).await;
    }
    println!(
        "{:<26} {} KiB",
        format!("RSS after {n} logins"),
        server.rss_kib()
    );

    // The flood: as many starts as the driver can send for 30 s.
    let request = login_start_request(&server, app);
    let flood = Duration::from_secs(30);
    let m = server.measure();
    let deadline = Instant::now() + flood;
    let mut lat = Vec::new();
    let mut wall = Duration::ZERO;
    while Instant::now() < deadline {
        // 503 "busy" is a right answer too: the store refuses new work near capacity.
        let (w, l) = raw::run(&server.addr, vec![request.clone(); 20_000], c * 2, |r| {
            r.status == 302 || r.status == 503
        })
        .await;
        wall += w;
        lat.extend(l);
    }
    lat.sort();
    report("flood of login starts", "requests", wall, &lat, &m.finish());
    println!(
        "{:<26} {} KiB (peak {} KiB)",
        "RSS after the flood",
        server.rss_kib(),
        proc::peak_rss_kib(server.pid())
    );
    // Records expire after `ttl`; the store's sweeper frees them within 5 s, the
    // allocator hands freed memory back over the next seconds.
    tokio::time::sleep(Duration::from_secs(ttl + 10)).await;
    println!(
        "{:<26} {} KiB",
        "RSS once records expired",
        server.rss_kib()
    );
    tokio::time::sleep(Duration::from_secs(20)).await;
    println!("{:<26} {} KiB", "RSS 20 s later", server.rss_kib());
    // Everyday traffic resumes.
    let (_, lat) = raw::run(&server.addr, vec![request; 2_000], c, |r| r.status == 302).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{:<26} {} KiB (p99 {:.2} ms)",
        "RSS after 2000 more starts",
        server.rss_kib(),
        ms(percentile(&lat, 0.99))
    );
}

/// Two instances on one PostgreSQL and one Redis; logins start on one and finish on
/// the other.
pub async fn two_instances(options: &Options) {
    let storage = Storage::from(options.shared.as_ref());
    let Storage::Shared { .. } = &storage else {
        panic!("two-instances needs POSTGRES_BASE_URL REDIS_URL");
    };
    let (n, c) = (options.n.unwrap_or(2000), options.c);
    let google = FakeGoogle::start().await;
    // A first, so the schema is in place before B starts; both share A's public URL
    // (the issuer of user tokens and the callback registered at the provider), its
    // database and the master key.
    let a_port = free_port();
    let public = format!("http://localhost:{a_port}");
    let master = ("FEDGATE_MASTER_KEY", crate::server::MASTER_KEY.to_owned());
    let a = Server::start(
        &google,
        &storage,
        &[
            ("FEDGATE_LISTEN", format!("127.0.0.1:{a_port}")),
            ("FEDGATE_PUBLIC_BASE_URL", public.clone()),
            master.clone(),
        ],
    )
    .await;
    let configured = configure(&a, &google).await;
    let database = a.database_url.rsplit('/').next().unwrap().to_owned();
    let b = Server::start(
        &google,
        &Storage::Embedded,
        &[
            ("FEDGATE_PUBLIC_BASE_URL", public.clone()),
            master,
            ("FEDGATE_DATABASE_URL", a.database_url.clone()),
            (
                "FEDGATE_REDIS_URL",
                options.shared.as_ref().unwrap().1.clone(),
            ),
            ("FEDGATE_REDIS_PREFIX", format!("fgbench:{database}:")),
        ],
    )
    .await;
    println!(
        "fedgate-bench two-instances: N={n} logins, C={c}, two instances on one PostgreSQL + Redis, each login started on one and completed on the other, release build"
    );
    let app = configured.app;
    let b_public = b.public.clone();
    let urls: Vec<(String, String)> = (0..n)
        .map(|i| {
            let h = format!("bench-{i}");
            google.add(&h, person(&h));
            // Even logins start on A and come back to B; odd ones the other way round.
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
    for name in ["new users (A+B)", "returning (A+B)"] {
        let (ma, mb) = (a.measure(), b.measure());
        let (wall, mut lat) = run_browsers(urls.clone(), c, crossing_login).await;
        lat.sort();
        let (ca, cb) = (ma.finish(), mb.finish());
        let both = Costs {
            fedgate: ca.fedgate + cb.fedgate,
            switches: ca.switches + cb.switches,
            postgres: ca.postgres,
            redis: ca.redis,
            rss_kib: ca.rss_kib + cb.rss_kib,
            machine: ca.machine,
        };
        report(name, "logins", wall, &lat, &both);
    }
    println!(
        "RSS after the run: A {} KiB, B {} KiB (Fedgate's CPU and switches above are both instances together)",
        a.rss_kib(),
        b.rss_kib()
    );
}

/// A login whose callback goes to another instance than its start: `(start URL,
/// origin of the instance the callback is sent to)`.
async fn crossing_login(browser: reqwest::Client, (start, other): (String, String)) -> Duration {
    let t = Instant::now();
    let res = browser.get(&start).send().await.unwrap();
    assert_eq!(res.status(), 302, "start {start}");
    let to_provider = res.headers()["location"].to_str().unwrap().to_owned();
    let res = browser.get(&to_provider).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let callback = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let crossed = format!(
        "{other}{}?{}",
        callback.path(),
        callback.query().unwrap_or_default()
    );
    let res = browser.get(&crossed).send().await.unwrap();
    assert_eq!(res.status(), 302, "callback {crossed}");
    let back = res.headers()["location"].to_str().unwrap();
    assert!(
        back.starts_with(APP_REDIRECT) && back.contains("autoLoginToken="),
        "{back}"
    );
    t.elapsed()
}
