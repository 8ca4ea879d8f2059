//! Several instances behind one URL, proven: two instances on one database and one
//! shared state store — Redis, or a Redis Cluster — serve one deployment. A login
//! started on one completes on the other, a session made on one works on the other,
//! a revoked key, a revoked token and a deleted user are refused by the other within
//! a second (the application API's caches live under a second: `crate::hot`), and
//! rate limits are shared. (On the
//! SQLite run the two instances share the SQLite file and Redis; on the PostgreSQL run,
//! PostgreSQL and Redis.) Webhooks delivered once by two workers: `webhooks.rs`.

use std::time::{Duration, Instant};

use fedgate_server::Settings;
use fedgate_tests::{
    APP_REDIRECT, GoogleWorld, Person, TcpProxy, hop, redis_cluster_urls, redis_url,
};
use reqwest::StatusCode;
use serde_json::json;

/// One Redis for the deployment, whatever the backend.
fn on_redis(s: &mut Settings) {
    s.redis_url = Some(redis_url());
    s.redis_prefix = format!("fgtest:{}:", uuid::Uuid::new_v4().simple());
}

/// A Redis Cluster for the deployment.
fn on_redis_cluster(s: &mut Settings) {
    s.redis_url = None;
    s.redis_cluster_urls = redis_cluster_urls();
    s.redis_prefix = format!("fgtest:{}:", uuid::Uuid::new_v4().simple());
}

/// `url` with its origin replaced by `origin` (the same path on the other instance).
fn on(origin: &str, url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!(
        "{origin}{}{}",
        u.path(),
        u.query().map(|q| format!("?{q}")).unwrap_or_default()
    )
}

async fn login_across(adjust: fn(&mut Settings)) {
    let w = GoogleWorld::start_with(adjust, json!({})).await;
    w.google.add("ann", Person::gmail("ann"));
    let other = w
        .app
        .second_instance()
        .await
        .replace("127.0.0.1", "localhost");
    // Started on A…
    let start = hop(&w.app.login_url(&w.app_id, "state=s1")).await;
    assert_eq!(start.status, StatusCode::FOUND);
    let at_google = hop(start.location.as_deref().unwrap()).await;
    // …the provider's answer lands on B.
    let callback = at_google.location.clone().unwrap();
    let back = hop(&on(&other, &callback)).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.body);
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    assert_eq!(p["state"], "s1");
    assert!(p.contains_key("linkedUser"), "{p:?}");
    // Replaying the same answer on A: the state was spent on B.
    let replay = hop(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(w.app.count_people().await, (1, 1));
}

#[tokio::test]
async fn a_login_started_on_one_instance_completes_on_another() {
    login_across(on_redis).await;
}

#[tokio::test]
async fn on_a_redis_cluster_a_login_started_on_one_instance_completes_on_another() {
    login_across(on_redis_cluster).await;
}

#[tokio::test]
async fn a_session_made_on_one_instance_works_on_another_and_ends_on_both() {
    let w = GoogleWorld::start_with(on_redis, json!({})).await;
    let other = w.app.second_instance().await;
    let mine = format!("/manage/v1/applications/{}", w.app_id);
    let on_other = |path: &str| {
        let mut rb = w.owner.client.get(format!("{other}{path}"));
        if let Some(csrf) = &w.owner.csrf {
            rb = rb.header("x-csrf-token", csrf);
        }
        rb
    };
    let res = on_other(&mine).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the session made on A is known to B"
    );
    // A change through B with the session's CSRF token.
    let renamed = w
        .owner
        .client
        .patch(format!("{other}{mine}"))
        .header("x-csrf-token", w.owner.csrf.clone().unwrap())
        .json(&json!({"name": "Chat (B)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    // Signing out on A ends it on B.
    let out = w.owner.post("/manage/v1/signout", &json!({})).await;
    assert!(out.status().is_success());
    let res = on_other(&mine).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Calls `refused` every 20 ms until it returns true; how long that took. Panics
/// after two seconds.
async fn until_refused<F, Fut>(mut refused: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !refused().await {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "still accepted two seconds after the change"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn an_access_key_revoked_on_one_instance_is_refused_on_every_instance_within_a_second() {
    let w = GoogleWorld::start_with(on_redis, json!({})).await;
    let other = w.app.second_instance().await;
    let key = w.owner.create_key(&w.app_id).await;
    let (on_a, on_b) = (w.app.client(&key), w.app.client_at(&other, &key));
    // Both instances have the key in their caches.
    on_a.application().await.unwrap();
    on_b.application().await.unwrap();
    let revoked = w
        .owner
        .delete(&format!(
            "/manage/v1/applications/{}/access-keys/{}",
            w.app_id, key.key.id
        ))
        .await;
    assert!(revoked.status().is_success());
    let changed = Instant::now();
    // The instance that revoked it refuses it at once.
    let refused = on_a.application().await.unwrap_err();
    assert_eq!(refused.code(), Some("access_key_revoked"));
    until_refused(|| async {
        match on_b.application().await {
            Ok(_) => false,
            Err(e) => {
                assert_eq!(e.code(), Some("access_key_revoked"));
                true
            }
        }
    })
    .await;
    let waited = changed.elapsed();
    assert!(waited < Duration::from_secs(1), "refused after {waited:?}");
}

#[tokio::test]
async fn a_token_revoked_or_a_user_deleted_on_one_instance_is_refused_on_every_instance_within_a_second()
 {
    let w = GoogleWorld::start_with(on_redis, json!({})).await;
    let other = w.app.second_instance().await;
    let key = w.owner.create_key(&w.app_id).await;
    let (on_a, on_b) = (w.app.client(&key), w.app.client_at(&other, &key));
    let mut tokens = Vec::new();
    for id in ["tess", "otto"] {
        on_a.create_user(&fedgate_client::wire::users::CreateUserRequest {
            id: Some(id.to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
        tokens.push(on_a.issue_token(id, None).await.unwrap());
    }
    // Both verdicts are cached on both instances.
    for t in &tokens {
        for api in [&on_a, &on_b] {
            assert!(api.verify_token(&t.token).await.unwrap().active);
        }
    }
    let reason = |api: &fedgate_client::Client, token: String| {
        let api = api.clone();
        async move { api.verify_token(&token).await.unwrap().reason }
    };

    // A token revoked through A.
    assert_eq!(
        on_a.revoke_token("tess", &tokens[0].token_id)
            .await
            .unwrap(),
        1
    );
    let changed = Instant::now();
    assert_eq!(
        reason(&on_a, tokens[0].token.clone()).await.as_deref(),
        Some("revoked")
    );
    until_refused(|| async {
        reason(&on_b, tokens[0].token.clone()).await.as_deref() == Some("revoked")
    })
    .await;
    let waited = changed.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "token refused after {waited:?}"
    );

    // A user deleted through B: its token goes with it.
    on_b.delete_user("otto").await.unwrap();
    let changed = Instant::now();
    assert_eq!(
        reason(&on_b, tokens[1].token.clone()).await.as_deref(),
        Some("revoked")
    );
    until_refused(|| async { reason(&on_a, tokens[1].token.clone()).await.is_some() }).await;
    let waited = changed.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "deleted user's token refused after {waited:?}"
    );
    assert_eq!(
        reason(&on_a, tokens[1].token.clone()).await.as_deref(),
        Some("revoked")
    );
}

#[tokio::test]
async fn login_starts_make_no_round_trip_to_redis_each() {
    let proxy = TcpProxy::to_url(&redis_url()).await;
    let through = proxy.url(&redis_url());
    let w = GoogleWorld::start_with(
        move |s| {
            on_redis(s);
            s.redis_url = Some(through);
            s.limits.login_starts_per_address_per_minute = 100_000;
        },
        json!({}),
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = w.app.login_url(&w.app_id, "");
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::FOUND
    );
    // The record travels sealed in the state and the limits are counted here and
    // shared every 50 ms: Redis hears of the starts, not from each of them. (One
    // round trip of a charge alone sends Redis some 250 bytes.)
    let before = proxy.sent();
    let starts = 500;
    for _ in 0..starts {
        assert_eq!(
            client.get(&url).send().await.unwrap().status(),
            StatusCode::FOUND
        );
    }
    let sent = proxy.sent() - before;
    eprintln!("{starts} login starts sent Redis {sent} bytes");
    assert!(sent < starts * 100, "{sent} bytes for {starts} starts");
}

#[tokio::test]
async fn rate_limits_count_across_instances() {
    let w = GoogleWorld::start_with(
        |s| {
            on_redis(s);
            s.limits.login_starts_per_address_per_minute = 4;
        },
        json!({}),
    )
    .await;
    let other = w
        .app
        .second_instance()
        .await
        .replace("127.0.0.1", "localhost");
    let a = w.app.login_url(&w.app_id, "");
    let b = on(&other, &a);
    // Each instance judges a login start on the counts it knows and shares its own
    // within a flush (50 ms): starts a few tenths of a second apart, on alternating
    // instances, are counted together.
    let mut statuses = Vec::new();
    for url in [&a, &b, &a, &b, &a, &b] {
        statuses.push(hop(url).await.status);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
