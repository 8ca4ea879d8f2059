//! Faults survived, nothing lost: a TCP proxy in the test process between Fedgate and
//! its services cuts and restores connections (no root needed), and providers go slow
//! or down.

use std::time::{Duration, Instant};

use fedgate_domain::seal::MasterKey;
use fedgate_tests::{
    APP_REDIRECT, FakeGoogle, GoogleWorld, Hop, OidcWorld, Person, TcpProxy, TokenMode,
    WebhookReceiver, hop, hop_in, other_browser, postgres_base, postgres_database, redis_url,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "faults-metrics-token-0123456789";

async fn scrape(address: &str) -> String {
    reqwest::Client::new()
        .get(format!("{address}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn with_redis_unreachable_readiness_fails_starts_get_a_clear_page_and_logins_resume_without_a_restart()
 {
    let proxy = TcpProxy::to_url(&redis_url()).await;
    let through = proxy.url(&redis_url());
    let w = GoogleWorld::start_with(
        move |s| {
            s.redis_url = Some(through);
            s.redis_prefix = format!("fgtest:{}:", uuid::Uuid::new_v4().simple());
            s.metrics_token = Some(TOKEN.to_owned().into());
        },
        json!({}),
    )
    .await;
    w.google.add("ann", Person::gmail("ann"));
    assert_eq!(
        w.app
            .google_login(&w.app_id, "login_hint=ann")
            .await
            .target(),
        APP_REDIRECT
    );

    proxy.cut();
    let ready = reqwest::get(format!("{}/readyz", w.app.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (body["database"].as_str(), body["stateStore"].as_str()),
        (Some("ok"), Some("unreachable"))
    );
    let start = hop(&w.app.login_url(&w.app_id, "")).await;
    assert_eq!(start.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        start.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(start.headers.contains_key("retry-after"));
    assert!(
        start.body.contains("Sign-in is temporarily unavailable"),
        "{}",
        start.body
    );
    assert_eq!(
        reqwest::get(format!("{}/healthz", w.app.address))
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the process is up"
    );
    assert!(
        sample(
            &scrape(&w.app.address).await,
            "fedgate_state_store_errors_total"
        ) >= 1.0
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let start = hop(&w.app.login_url(&w.app_id, "login_hint=ann")).await;
        if start.status == StatusCode::FOUND {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "logins did not resume: {}",
            start.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        w.app
            .google_login(&w.app_id, "login_hint=ann")
            .await
            .target(),
        APP_REDIRECT
    );
    let ready = reqwest::get(format!("{}/readyz", w.app.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// How one login ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// Back at the app, signed in as this user.
    Completed(String),
    /// Back at the app with `error`.
    Failed(String),
    /// The start was refused with a page (storage down before the login began).
    NotStarted(StatusCode),
}

async fn login_in_own_browser(w: &GoogleWorld, hint: &str) -> Ended {
    let browser = other_browser();
    let start = hop_in(
        &browser,
        &w.app.login_url(&w.app_id, &format!("login_hint={hint}")),
    )
    .await;
    if start.status != StatusCode::FOUND {
        return Ended::NotStarted(start.status);
    }
    let at_google = hop_in(&browser, start.location.as_deref().unwrap()).await;
    let back: Hop = hop_in(&browser, at_google.location.as_deref().unwrap()).await;
    assert_eq!(
        back.status,
        StatusCode::FOUND,
        "a callback answered without a redirect: {}",
        back.body
    );
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    match (p.get("linkedUser"), p.get("error")) {
        (Some(user), None) => Ended::Completed(user.clone()),
        (None, Some(error)) => Ended::Failed(error.clone()),
        other => panic!("neither a result nor an error: {other:?}"),
    }
}

#[tokio::test]
async fn postgresql_cut_during_concurrent_first_logins_leaves_no_duplicate_no_orphan_and_no_lost_event()
 {
    // Always PostgreSQL here (the fault is a cut connection), with whatever state store
    // the run uses.
    let proxy = TcpProxy::to_url(&postgres_base()).await;
    let name = postgres_database().await;
    let url = format!(
        "{}/{name}",
        proxy.url(&postgres_base()).trim_end_matches('/')
    );
    let w = GoogleWorld::start_with(
        move |s| {
            s.database_url = Some(url);
            s.database_max_connections = 5;
            if s.master_key.is_none() {
                s.master_key = Some(MasterKey::generate().to_base64());
            }
            s.allow_loopback_providers = true;
            s.metrics_token = Some(TOKEN.to_owned().into());
        },
        json!({}),
    )
    .await;
    let hook = WebhookReceiver::start().await;
    let res = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/properties", w.app_id),
            &json!({"kind": "webhook", "instanceName": "H", "url": hook.url,
                    "eventTypes": ["user.created", "login.succeeded", "login.failed"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    const PEOPLE: usize = 12;
    for i in 0..PEOPLE {
        w.google
            .add(&format!("p{i}"), Person::gmail(&format!("person{i}")));
    }
    // Slow code redemption keeps callbacks in flight while the connections are cut.
    w.google
        .with(|s| s.token_mode = TokenMode::Slow(Duration::from_millis(150)));
    let w = std::sync::Arc::new(w);
    let mut runs = Vec::new();
    // Each person signs in twice at once (two browsers), staggered over ~1.2 s.
    for i in 0..PEOPLE * 2 {
        let w = std::sync::Arc::clone(&w);
        runs.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50 * (i as u64 / 2))).await;
            login_in_own_browser(&w, &format!("p{}", i / 2)).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.restore();
    let mut ended = Vec::new();
    for r in runs {
        ended.push(r.await.unwrap());
    }
    let completed: Vec<&String> = ended
        .iter()
        .filter_map(|e| match e {
            Ended::Completed(u) => Some(u),
            _ => None,
        })
        .collect();
    let failed = ended
        .iter()
        .filter(|e| matches!(e, Ended::Failed(_)))
        .count();
    // The cut hit some logins. How many it spared depends on the machine: on a loaded
    // one every login may reach the database while the cut lasts, or meet a connection
    // it dropped; a login made later completes (at the end).
    assert!(
        completed.len() + failed > 0 && completed.len() < PEOPLE * 2,
        "the cut hit some logins: {ended:?}"
    );
    for e in &ended {
        if let Ended::Failed(error) = e {
            assert!(
                ["temporarily_unavailable", "server_error"].contains(&error.as_str()),
                "{e:?}"
            );
        }
    }

    // The database answers again; what it holds is whole.
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{}/readyz", w.app.address))
        .await
        .unwrap()
        .status()
        != StatusCode::OK
    {
        assert!(Instant::now() < deadline, "the database did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A delivery claimed just before the cut stays leased to its attempt for twice
    // the provider timeout and more; move past that instead of waiting.
    w.app.clock.advance(60);
    let mut distinct: Vec<&String> = completed.clone();
    distinct.sort();
    distinct.dedup();
    let (users, federated) = w.app.count_people().await;
    assert_eq!(
        users, federated,
        "every user has its identity and every identity its user"
    );
    // A commit whose acknowledgement the cut swallowed stands although the app was
    // told to try again: such a person has a user too (and signs in as it next time).
    // Never two: both browsers of a person who got in name one user.
    assert!(
        (distinct.len()..=PEOPLE).contains(&(users as usize)),
        "{users} users for {} people who got in, {PEOPLE} in all",
        distinct.len()
    );
    let events = w.owner.events(&w.app_id, "?limit=200").await;
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    let succeeded = count("login_succeeded");
    assert!(
        (completed.len()..=completed.len() + failed).contains(&succeeded),
        "a success event per completed login (and per swallowed commit): {succeeded} for {} completed, {failed} failed",
        completed.len()
    );
    assert_eq!(
        count("login_failed"),
        failed,
        "a failure event per failed login, written once the database is back"
    );
    // The outbox: exactly the deliveries the stored events and users call for — at
    // least once; a delivery whose result could not be recorded during the cut is sent
    // again with the same `webhook-id`, which is how a receiver drops it.
    let expected = succeeded + failed + users as usize;
    hook.wait_for(expected).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut received = hook.received();
    received.sort_by_key(|r| r.header("webhook-id"));
    received.dedup_by_key(|r| r.header("webhook-id"));
    assert_eq!(received.len(), expected, "{received:?}");
    let kinds = |t: &str| received.iter().filter(|r| r.json()["type"] == t).count();
    assert_eq!(
        (
            kinds("login.succeeded"),
            kinds("login.failed"),
            kinds("user.created")
        ),
        (succeeded, failed, users as usize)
    );
    // Past 2 s a worker's connections that the cut dropped are tested before use,
    // whether idle in its pool or kept for its next login: a login completes again.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    w.google.with(|s| s.token_mode = TokenMode::Normal);
    w.google.add("late", Person::gmail("late-comer"));
    let late = login_in_own_browser(&w, "late").await;
    assert!(matches!(late, Ended::Completed(_)), "{late:?}");
}

#[tokio::test]
async fn a_slow_or_down_provider_is_temporarily_unavailable_within_the_timeout_and_spares_the_others()
 {
    let w = OidcWorld::start(json!({})).await;
    let beta = FakeGoogle::start_oidc().await;
    w.owner.add_oidc(&w.app_id, &beta, "beta", json!({})).await;
    // acme answers its token endpoint after 5 s; the provider timeout is 2 s.
    w.idp
        .with(|s| s.token_mode = TokenMode::Slow(Duration::from_secs(5)));
    let slow = {
        let app = w.app.provider_login_url(&w.app_id, "acme", "state=a");
        tokio::spawn(async move {
            let browser = other_browser();
            let started = Instant::now();
            let start = hop_in(&browser, &app).await;
            let at = hop_in(&browser, start.location.as_deref().unwrap()).await;
            let back = hop_in(&browser, at.location.as_deref().unwrap()).await;
            (back, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Meanwhile beta signs people in as usual.
    let beta_started = Instant::now();
    let back = w.app.provider_login(&w.app_id, "beta", "state=b").await;
    let beta_took = beta_started.elapsed();
    assert!(
        back.params().contains_key("linkedUser"),
        "{:?}",
        back.params()
    );
    let (slow_back, slow_took) = slow.await.unwrap();
    let p = slow_back.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("temporarily_unavailable", "a"),
        "{p:?}"
    );
    assert!(
        slow_took < Duration::from_secs(4),
        "gave up within the 2 s timeout: {slow_took:?}"
    );
    assert!(
        beta_took < slow_took,
        "beta did not wait for acme: {beta_took:?} vs {slow_took:?}"
    );

    // acme goes down altogether (its discovery is cached; its token endpoint refuses
    // connections): the same answer, and beta still works.
    w.idp.with(|s| s.token_mode = TokenMode::Normal);
    let start = hop(&w.app.provider_login_url(&w.app_id, "acme", "state=c")).await;
    let at = hop(start.location.as_deref().unwrap()).await;
    w.idp.stop().await;
    let back = hop(at.location.as_deref().unwrap()).await;
    let p = back.params();
    assert_eq!(p["error"], "temporarily_unavailable", "{p:?}");
    let d: Value = w
        .owner
        .get(&format!("/manage/v1/applications/{}/diagnostics", w.app_id))
        .await
        .json()
        .await
        .unwrap();
    let acme = d["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "acme")
        .unwrap();
    assert_eq!(acme["lastUpstreamError"]["reason"], "provider_unreachable");
    assert!(
        w.app
            .provider_login(&w.app_id, "beta", "")
            .await
            .params()
            .contains_key("linkedUser")
    );
}
