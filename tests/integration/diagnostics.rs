//! Redirect diagnostics: the last refused login starts with what was sent and why,
//! and each provider's last upstream error — on the Hosted Services tile and through
//! the management API, shared by every instance.

use fedgate_tests::{
    APP_REDIRECT, GoogleWorld as World, Person, TokenMode, hop, signed_login_query, spawn_app_with,
    unix_now,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn tile(w: &World) -> Value {
    let res = w
        .owner
        .get(&format!(
            "/manage/v1/applications/{}/hosted-services",
            w.app_id
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Vec<Value> = res.json().await.unwrap();
    list.into_iter().find(|t| t["slug"] == "google").unwrap()
}

async fn diagnostics(w: &World) -> Value {
    let res = w
        .owner
        .get(&format!("/manage/v1/applications/{}/diagnostics", w.app_id))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn encoded(uri: &str) -> String {
    url::form_urlencoded::byte_serialize(uri.as_bytes()).collect()
}

#[tokio::test]
async fn a_redirect_uri_mismatch_shows_what_was_sent_next_to_what_is_registered() {
    let w = World::start(json!({
        "redirectUris": [APP_REDIRECT, "https://staging.example.com/cb"]
    }))
    .await;
    let sent = format!("{APP_REDIRECT}/");
    let res = hop(&w
        .app
        .login_url(&w.app_id, &format!("redirect_uri={}", encoded(&sent))))
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let missing = hop(&w.app.login_url(&w.app_id, "")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    let t = tile(&w).await;
    let refused = t["refusedStarts"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{t}");
    assert_eq!(refused[0]["reason"], "redirect_uri_missing", "newest first");
    assert_eq!(refused[0]["redirectUri"]["received"], Value::Null);
    let mismatch = &refused[1];
    assert_eq!(mismatch["reason"], "redirect_uri_unregistered");
    assert_eq!(mismatch["provider"], "google");
    assert_eq!(mismatch["redirectUri"]["received"], sent.as_str());
    assert_eq!(
        mismatch["redirectUri"]["registered"],
        json!([
            { "uri": APP_REDIRECT, "firstDifference": APP_REDIRECT.chars().count() },
            { "uri": "https://staging.example.com/cb", "firstDifference": 8 },
        ])
    );
    assert!(
        mismatch["message"]
            .as_str()
            .unwrap()
            .contains("not one of this application's registered redirect URIs")
    );
    let d = diagnostics(&w).await;
    assert_eq!(d["refusedStarts"], t["refusedStarts"]);
}

#[tokio::test]
async fn only_the_last_twenty_refusals_are_kept_and_an_unknown_provider_is_one() {
    let w = World::start(json!({})).await;
    for i in 0..23 {
        let q = format!(
            "redirect_uri={}",
            encoded(&format!("https://x.example/{i}"))
        );
        assert_eq!(
            hop(&w.app.login_url(&w.app_id, &q)).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let unknown = hop(&w.app.provider_login_url(&w.app_id, "acmee", "")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let d = diagnostics(&w).await;
    let refused = d["refusedStarts"].as_array().unwrap();
    assert_eq!(refused.len(), 20);
    assert_eq!(
        (
            refused[0]["reason"].as_str(),
            refused[0]["provider"].as_str()
        ),
        (Some("provider_unknown"), Some("acmee"))
    );
    assert_eq!(
        refused[1]["redirectUri"]["received"],
        "https://x.example/22"
    );
    assert_eq!(
        refused[19]["redirectUri"]["received"],
        "https://x.example/4"
    );
    assert_eq!(
        tile(&w).await["refusedStarts"].as_array().unwrap().len(),
        19,
        "the Google tile shows the refusals at Google"
    );
}

#[tokio::test]
async fn a_start_past_its_rate_limit_is_refused_before_anything_is_kept() {
    let w = World::start_with(
        |s| s.limits.login_starts_per_address_per_minute = 2,
        json!({}),
    )
    .await;
    let wrong = format!("redirect_uri={}", encoded("https://x.example/cb"));
    for _ in 0..2 {
        let res = hop(&w.app.login_url(&w.app_id, &wrong)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    }
    let past = hop(&w.app.login_url(&w.app_id, &wrong)).await;
    assert_eq!(past.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(past.headers.contains_key("retry-after"));
    let unknown = hop(&w.app.provider_login_url(&w.app_id, "acmee", "")).await;
    assert_eq!(unknown.status, StatusCode::TOO_MANY_REQUESTS);
    let good = hop(&w.app.login_url(&w.app_id, "")).await;
    assert_eq!(good.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        good.headers.get("set-cookie").is_none(),
        "no login began, so no binding cookie"
    );
    let refused = diagnostics(&w).await["refusedStarts"].clone();
    assert_eq!(
        refused.as_array().map(Vec::len),
        Some(2),
        "only the starts within the limit are diagnosed: {refused}"
    );
}

#[tokio::test]
async fn a_refused_signature_names_the_check_and_the_parameter_that_failed() {
    let w = World::start(json!({"requireStateSigning": true})).await;
    let key = w.owner.create_key(&w.app_id).await;
    let stale = signed_login_query(
        &w.app_id,
        &key.key.id,
        &key.secret,
        "state=s",
        unix_now() - 3600,
        "nonce-0000000000000001",
    );
    let wrong = signed_login_query(
        &w.app_id,
        &key.key.id,
        "another-secret-entirely-0000000000000",
        "state=s",
        unix_now(),
        "nonce-0000000000000002",
    );
    for q in [stale, wrong, "state=s".to_owned()] {
        assert_eq!(
            hop(&w.app.login_url(&w.app_id, &q)).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let refused = diagnostics(&w).await["refusedStarts"].clone();
    let checks: Vec<(&str, &str, &str)> = refused
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap(),
                r["signature"]["check"].as_str().unwrap(),
                r["signature"]["parameter"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            (
                "signature_invalid:signature_missing",
                "signature_missing",
                "accessKeyId"
            ),
            (
                "signature_invalid:signature_mismatch",
                "signature_mismatch",
                "signature"
            ),
            (
                "signature_invalid:timestamp_out_of_window",
                "timestamp_out_of_window",
                "timestamp"
            ),
        ]
    );
    assert_eq!(refused[1]["signature"]["accessKeyId"], key.key.id.as_str());
    assert!(
        refused[0]["signature"]["detail"]
            .as_str()
            .unwrap()
            .contains("parameter accessKeyId is missing"),
        "{refused}"
    );
}

#[tokio::test]
async fn an_inactive_service_refusal_lists_its_reasons_then() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.add_integration(&app_id, json!({})).await;
    let res = hop(&app.login_url(&app_id, "")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let d: Value = owner
        .get(&format!("/manage/v1/applications/{app_id}/diagnostics"))
        .await
        .json()
        .await
        .unwrap();
    let refused = &d["refusedStarts"][0];
    assert_eq!(refused["reason"], "service_inactive");
    assert_eq!(
        refused["inactiveReasons"][0]["code"],
        "missing_google_credentials"
    );
}

#[tokio::test]
async fn a_providers_last_upstream_error_is_kept_and_a_persons_refusal_is_not() {
    let w = World::start(json!({})).await;
    w.google.add("ann", Person::gmail("ann"));
    assert_eq!(tile(&w).await["lastUpstreamError"], Value::Null);

    w.google.with(|s| s.token_mode = TokenMode::ServerError);
    let p = w.app.google_login(&w.app_id, "").await.params();
    assert_eq!(p["error"], "server_error");
    let e = tile(&w).await["lastUpstreamError"].clone();
    assert_eq!(
        (e["reason"].as_str(), e["status"].as_u64(), &e["error"]),
        (Some("provider_bad_response"), Some(500), &Value::Null),
        "{e}"
    );
    assert!(e["detail"].as_str().unwrap().contains("HTTP 500"));

    // A code the provider does not know: it answers invalid_grant with 400.
    w.google.with(|s| s.token_mode = TokenMode::Normal);
    let start = hop(&w.app.login_url(&w.app_id, "")).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let mut callback = url::Url::parse(at_google.location.as_deref().unwrap()).unwrap();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    callback.query_pairs_mut().clear().extend_pairs(pairs);
    let back = hop(callback.as_str()).await;
    assert_eq!(back.params()["error"], "server_error");
    let e = diagnostics(&w).await["providers"][0]["lastUpstreamError"].clone();
    assert_eq!(
        (
            e["reason"].as_str(),
            e["status"].as_u64(),
            e["error"].as_str()
        ),
        (
            Some("provider_refused:invalid_grant"),
            Some(400),
            Some("invalid_grant")
        ),
        "{e}"
    );

    // The person saying no at Google is not the provider's trouble.
    w.google.with(|s| s.deny = true);
    let p = w.app.google_login(&w.app_id, "").await.params();
    assert_eq!(p["error"], "access_denied");
    assert_eq!(
        tile(&w).await["lastUpstreamError"]["error"],
        "invalid_grant",
        "the last upstream error is still the provider's"
    );
}

#[tokio::test]
async fn another_subscriber_cannot_read_an_applications_diagnostics() {
    let w = World::start(json!({})).await;
    let stranger = w.app.subscriber().await;
    let res = stranger
        .get(&format!("/manage/v1/applications/{}/diagnostics", w.app_id))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
