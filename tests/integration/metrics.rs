//! `/metrics`: where it is served, who may read it, and that it counts what an
//! operator watches (logins by provider kind and reason, provider calls, signed API
//! outcomes, rate limits, state-store errors).

use fedgate_tests::{APP_REDIRECT, GoogleWorld, Person, TestApp, hop, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

const TOKEN: &str = "scrape-me-7f3a9c2e51b84d06";

async fn scrape(app: &TestApp) -> String {
    let res = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    res.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as exposed), 0 if absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn without_a_token_or_a_listener_there_is_no_metrics_endpoint() {
    let app = spawn_app_with(|_| {}).await;
    let res = reqwest::get(format!("{}/metrics", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn on_the_main_port_metrics_need_the_bearer_token() {
    let app = spawn_app_with(|s| s.metrics_token = Some(TOKEN.to_owned().into())).await;
    let url = format!("{}/metrics", app.address);
    let client = reqwest::Client::new();
    for auth in [None, Some("wrong"), Some("")] {
        let mut req = client.get(&url);
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "metrics_token_invalid");
    }
    let text = scrape(&app).await;
    assert!(text.contains("fedgate_build_info{version=\""), "{text}");
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn with_a_listener_of_their_own_metrics_are_there_and_not_on_the_main_port() {
    let app = spawn_app_with(|s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        s.metrics_token = Some(TOKEN.to_owned().into());
    })
    .await;
    let own = app.metrics_address.clone().expect("a metrics listener");
    let res = reqwest::get(format!("{own}/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("fedgate_database_connections")
    );
    assert_eq!(
        reqwest::get(format!("{own}/healthz"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "the metrics listener serves metrics only"
    );
    let main = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logins_provider_calls_api_outcomes_and_rate_limits_are_counted() {
    let w = GoogleWorld::start_with(
        |s| {
            s.metrics_token = Some(TOKEN.to_owned().into());
            s.limits.login_starts_per_address_per_minute = 4;
        },
        json!({}),
    )
    .await;
    w.google.add("ann", Person::gmail("ann"));
    let back = w.app.google_login(&w.app_id, "").await;
    assert_eq!(back.target(), APP_REDIRECT);
    let refused = hop(&w
        .app
        .login_url(&w.app_id, "redirect_uri=https%3A%2F%2Fevil.example%2F"))
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let key = w.owner.create_key(&w.app_id).await;
    let signer = w
        .app
        .signer(&key.key.id, "not-the-secret-but-long-enough-0123456789");
    let res = signer
        .send(reqwest::Method::GET, "/api/v1/application", None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let ok = w.app.client(&key).application().await;
    assert!(ok.is_ok(), "{ok:?}");

    // Starts 3 and 4 of the limit of 4 a minute pass; the fifth is refused.
    for _ in 0..3 {
        let _ = hop(&w.app.login_url(&w.app_id, "")).await;
    }

    let text = scrape(&w.app).await;
    let value = |series: &str| sample(&text, series);
    assert_eq!(
        value("fedgate_logins_started_total{provider_kind=\"google\"}"),
        3.0,
        "the one login and two of the later starts (the last was rate-limited)\n{text}"
    );
    assert_eq!(
        value("fedgate_logins_succeeded_total{provider_kind=\"google\",outcome=\"new_user\"}"),
        1.0
    );
    assert_eq!(
        value(
            "fedgate_logins_failed_total{provider_kind=\"google\",reason=\"redirect_uri_unregistered\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            "fedgate_provider_calls_total{provider_kind=\"google\",endpoint=\"token\",result=\"ok\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            "fedgate_provider_calls_total{provider_kind=\"google\",endpoint=\"jwks\",result=\"ok\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            "fedgate_provider_call_duration_seconds_count{provider_kind=\"google\",endpoint=\"token\"}"
        ),
        1.0
    );
    assert_eq!(value("fedgate_login_callback_duration_seconds_count"), 1.0);
    assert_eq!(value("fedgate_login_start_duration_seconds_count"), 5.0);
    assert_eq!(
        value("fedgate_api_requests_total{api=\"app\",outcome=\"signature_mismatch\"}"),
        1.0
    );
    assert_eq!(
        value("fedgate_api_requests_total{api=\"app\",outcome=\"ok\"}"),
        1.0
    );
    assert_eq!(
        value("fedgate_rate_limited_total{limit=\"login-start\"}"),
        1.0
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            !line.contains(&w.app_id) && !line.contains("evil.example"),
            "no ids or request text in labels: {line}"
        );
    }
}
