//! The built-in development provider: a real OpenID Connect provider under
//! `/dev-provider/`, reached by the login through discovery like any other; the
//! Development sign-in tile; the result page; and the setting that keeps it off
//! wherever Fedgate is not the embedded default on loopback.

use fedgate_server::config::DevProvider;
use fedgate_tests::{APP_REDIRECT, Backend, Hop, TestApp, backend, hop, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

async fn world(mode: DevProvider) -> (TestApp, fedgate_tests::Browser, String) {
    let app = spawn_app_with(|s| s.dev_provider = mode).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.add_integration(&app_id, json!({})).await;
    (app, owner, app_id)
}

/// Activates the application's Development sign-in.
async fn activate(owner: &fedgate_tests::Browser, app_id: &str) {
    owner
        .add_property(
            app_id,
            json!({"kind": "development_provider", "instanceName": "Development sign-in"}),
            json!({}),
        )
        .await;
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The sign-in form posted with these fields (the OAuth parameters taken from the
/// authorization URL, as the page's hidden fields carry them).
async fn sign_in(authorize: &str, email: &str, verified: bool) -> reqwest::Response {
    let url = url::Url::parse(authorize).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.retain(|(k, _)| k != "scope" && k != "prompt" && k != "login_hint");
    form.push(("email".into(), email.into()));
    form.push(("name".into(), "Ann Dev".into()));
    if verified {
        form.push(("email_verified".into(), "true".into()));
    }
    let mut action = url.clone();
    action.set_query(None);
    no_redirects()
        .post(action)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Follows Fedgate's callback to the app.
async fn back_at_app(callback: &str) -> Hop {
    let back = hop(callback).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.body);
    back
}

#[tokio::test]
async fn a_newcomer_signs_in_as_anyone_and_comes_back_silently() {
    let (app, owner, app_id) = world(DevProvider::On).await;
    let instance: Value = owner.get("/manage/v1/instance").await.json().await.unwrap();
    assert_eq!(instance["devProvider"], true);
    let dev_app = instance["devAppCallback"].as_str().unwrap().to_owned();
    assert!(dev_app.ends_with("/dev-app/callback"), "{instance}");

    // The tile is there before anything is configured, INACTIVE until activated.
    let tile = |services: Vec<Value>| services.into_iter().find(|s| s["slug"] == "dev").unwrap();
    let t = tile(owner.services(&app_id).await);
    assert_eq!(
        (
            t["status"].as_str(),
            t["service"].as_str(),
            t["name"].as_str()
        ),
        (
            Some("INACTIVE"),
            Some("development"),
            Some("Development sign-in Authentication Service")
        )
    );
    assert_eq!(t["reasons"][0]["code"], "missing_development_provider");
    activate(&owner, &app_id).await;
    assert_eq!(tile(owner.services(&app_id).await)["status"], "ACTIVE");

    // Login start → the development provider's sign-in page.
    let start = hop(&app.provider_login_url(&app_id, "dev", "state=try-1")).await;
    assert_eq!(start.status, StatusCode::FOUND, "{}", start.body);
    let authorize = start.location.clone().unwrap();
    assert!(
        authorize.contains("/dev-provider/authorize?"),
        "{authorize}"
    );
    let page = hop(&authorize).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Development sign-in") && page.body.contains("name=\"email\""));

    // Type an email: back at Fedgate's callback with a code and `iss`, then at the app.
    let signed = sign_in(&authorize, "Ann@Example.com", true).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/dev-provider"),
        "{cookie}"
    );
    let callback = signed.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        callback.contains("iss="),
        "RFC 9207 on every response: {callback}"
    );
    let first = back_at_app(&callback).await;
    assert_eq!(first.target(), APP_REDIRECT);
    let p = first.params();
    assert_eq!(p["federationProvider"], "dev");
    assert_eq!(p["federatingService"], "OpenIdConnectFederationService");
    assert_eq!(p["state"], "try-1");
    assert!(
        p.contains_key("linkedUser") && p.contains_key("autoLoginToken"),
        "{p:?}"
    );

    // The next login in this browser: no page at all.
    let jar = cookie.split(';').next().unwrap().to_owned();
    let start = hop(&app.provider_login_url(&app_id, "dev", "state=try-2")).await;
    let silent = no_redirects()
        .get(start.location.unwrap())
        .header(COOKIE, &jar)
        .send()
        .await
        .unwrap();
    assert_eq!(silent.status(), StatusCode::SEE_OTHER, "no sign-in page");
    let again = back_at_app(silent.headers()[LOCATION].to_str().unwrap())
        .await
        .params();
    assert_eq!(again["linkedUser"], p["linkedUser"]);
    assert_eq!(again["federatedUserId"], p["federatedUserId"]);

    // prompt=none without a session: login_required, back at the app with its state.
    let start = hop(&app.provider_login_url(&app_id, "dev", "state=quiet&prompt=none")).await;
    let at = hop(start.location.as_deref().unwrap()).await;
    assert_eq!(at.status, StatusCode::SEE_OTHER);
    let p = back_at_app(at.location.as_deref().unwrap()).await.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("login_required", "quiet")
    );
}

#[tokio::test]
async fn an_unverified_development_address_is_only_a_candidate() {
    let (app, owner, app_id) = world(DevProvider::On).await;
    activate(&owner, &app_id).await;
    app.seed_user(&app_id, "bo-user", "bo@example.com", true)
        .await;
    let start = hop(&app.provider_login_url(&app_id, "dev", "")).await;
    let signed = sign_in(start.location.as_deref().unwrap(), "bo@example.com", false).await;
    let p = back_at_app(signed.headers()[LOCATION].to_str().unwrap())
        .await
        .params();
    assert!(!p.contains_key("linkedUser"), "{p:?}");
    assert_eq!(p["linkCandidates"], "bo-user");
}

#[tokio::test]
async fn the_development_provider_refuses_what_it_must() {
    let (app, owner, app_id) = world(DevProvider::On).await;
    activate(&owner, &app_id).await;
    let start = hop(&app.provider_login_url(&app_id, "dev", "")).await;
    let authorize = start.location.unwrap();
    // A redirect URI other than the application's development callback: a page, no
    // redirect.
    let evil = authorize.replace(
        "redirect_uri=",
        "redirect_uri=https%3A%2F%2Fevil.example%2F&x=",
    );
    let refused = hop(&evil).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.location.is_none());
    // The token endpoint wants the application's credentials and the PKCE verifier.
    let signed = sign_in(&authorize, "cy@example.com", true).await;
    let callback = url::Url::parse(signed.headers()[LOCATION].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token_url = format!("{}/dev-provider/token", app.address);
    let res = no_redirects()
        .post(&token_url)
        .basic_auth(format!("fedgate-dev-{app_id}"), Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = no_redirects()
        .get(format!("{}/dev-provider/userinfo", app.address))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn when_off_its_urls_answer_404_and_no_tile_or_property_exists() {
    let (app, owner, app_id) = world(DevProvider::Off).await;
    for path in [
        "/dev-provider/.well-known/openid-configuration",
        "/dev-provider/authorize",
        "/dev-app/callback",
    ] {
        let res = hop(&format!("{}{path}", app.address)).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(
        owner
            .services(&app_id)
            .await
            .iter()
            .all(|s| s["slug"] != "dev"),
        "no Development tile"
    );
    let instance: Value = owner.get("/manage/v1/instance").await.json().await.unwrap();
    assert_eq!(instance["devProvider"], false);
    let res = owner
        .post(
            &format!("/manage/v1/applications/{app_id}/properties"),
            &json!({"kind": "development_provider", "instanceName": "dev"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "dev_provider_off"
    );
    let start = hop(&app.provider_login_url(&app_id, "dev", "")).await;
    assert_eq!(start.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn auto_is_on_only_for_the_embedded_default_on_loopback() {
    // These tests listen on loopback; the backend decides the rest.
    let (app, _owner, _app_id) = world(DevProvider::Auto).await;
    let res = hop(&format!(
        "{}/dev-provider/.well-known/openid-configuration",
        app.address
    ))
    .await;
    let expected = match backend() {
        Backend::Sqlite => StatusCode::OK,
        Backend::Postgres => StatusCode::NOT_FOUND,
    };
    assert_eq!(res.status, expected, "{:?}", backend());

    // Listening beyond loopback (requests still come from this machine): off.
    let everywhere = spawn_app_with(|s| {
        s.dev_provider = DevProvider::Auto;
        s.listen = "0.0.0.0:0".parse().unwrap();
    })
    .await;
    let res = hop(&format!(
        "{}/dev-provider/.well-known/openid-configuration",
        everywhere.address
    ))
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_result_page_verifies_the_token_and_redeems_a_result_code() {
    let app = spawn_app_with(|s| s.dev_provider = DevProvider::On).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    let dev_app = format!(
        "{}/dev-app/callback",
        app.address.replace("127.0.0.1", "localhost")
    );
    owner
        .add_property(
            &app_id,
            json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": [dev_app], "resultDelivery": "code"}),
            json!({}),
        )
        .await;
    activate(&owner, &app_id).await;
    let start = hop(&app.provider_login_url(&app_id, "dev", "")).await;
    let signed = sign_in(start.location.as_deref().unwrap(), "di@example.com", true).await;
    let back = back_at_app(signed.headers()[LOCATION].to_str().unwrap()).await;
    let result_page = back.location.unwrap().replace("localhost", "127.0.0.1");
    let code = url::Url::parse(&result_page)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "resultCode")
        .unwrap()
        .1
        .into_owned();
    let page = hop(&result_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("resultCode") && page.body.contains("Redeem"),
        "{}",
        page.body
    );

    // Redeemed with an access key through the signed API.
    let key = owner.create_key(&app_id).await;
    let res = reqwest::Client::new()
        .post(format!("{}/dev-app/redeem", app.address))
        .form(&[
            ("code", code.as_str()),
            ("key_id", key.key.id.as_str()),
            ("secret", key.secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("linkedUser"), "{body}");
    assert!(
        body.contains("data-valid=\"true\""),
        "the token verified against the application's key: {body}"
    );
    // A token that is not the application's is refused on the page.
    let forged = hop(&format!(
        "{}/dev-app/callback?autoLoginToken=eyJhbGciOiJFZERTQSJ9.eyJhdWQiOiIwMTlhMjM4ZC0zMGUzLTc1NTktYTdhOS1lNTRkMTNlZWM0YmMifQ.c2ln",
        app.address
    ))
    .await;
    assert!(
        forged.body.contains("data-valid=\"false\""),
        "{}",
        forged.body
    );
}
