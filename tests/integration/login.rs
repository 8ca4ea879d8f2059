//! The hosted Google sign-in against an in-process fake Google.

use fedgate_tests::fake_google::Tamper;
use fedgate_tests::{APP_REDIRECT, Browser, FakeGoogle, Person, TestApp, TokenMode, hop, spawn_app_with_google};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    app: TestApp,
    google: FakeGoogle,
    owner: Browser,
    app_id: String,
}

async fn world(integration: Value) -> World {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.configure_google(&app_id, &google, integration).await;
    World { app, google, owner, app_id }
}

#[tokio::test]
async fn a_new_person_gets_a_user_and_is_sent_back_with_every_reference_parameter() {
    let w = world(json!({})).await;
    let ann = Person::gmail("ann");
    w.google.add("ann", ann.clone());
    let start = hop(&w.app.login_url(&w.app_id, "state=opaque%2Fvalue&login_hint=ann&prompt=select_account")).await;
    assert_eq!(start.status, StatusCode::FOUND);
    assert_eq!(start.headers["cache-control"], "no-store");
    assert_eq!(start.headers["referrer-policy"], "no-referrer");
    let to_google = start.params();
    assert_eq!(to_google["scope"], "openid email profile");
    assert_eq!(to_google["code_challenge_method"], "S256");
    assert_eq!(to_google["client_id"], w.google.client_id);
    assert_eq!((to_google["login_hint"].as_str(), to_google["prompt"].as_str()), ("ann", "select_account"));
    assert_eq!(to_google["redirect_uri"], format!("{}/hosted/{}/google/callback", w.app.address.replace("127.0.0.1", "localhost"), w.app_id));
    assert!(!to_google.contains_key("access_type"), "offline access only with state signing");
    assert_ne!(to_google["state"], "opaque/value", "the app's state never goes to Google");

    let at_google = hop(start.location.as_deref().unwrap()).await;
    let back = hop(at_google.location.as_deref().unwrap()).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.body);
    assert_eq!(back.headers["cache-control"], "no-store");
    assert_eq!(back.headers["referrer-policy"], "no-referrer");
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    let names: Vec<String> = url::Url::parse(back.location.as_deref().unwrap()).unwrap().query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(
        names,
        ["federatingService", "linkCandidates", "autoLoginToken", "federatedUserId", "linkedUser", "externalServiceTokens", "state"]
    );
    assert_eq!(p["federatingService"], "GoogleFederationService");
    assert_eq!(p["linkCandidates"], "");
    assert_eq!(p["state"], "opaque/value");
    assert!(p["externalServiceTokens"].starts_with("ya29.") && !p["externalServiceTokens"].contains(','));
    let user = p["linkedUser"].clone();
    assert_ne!(p["federatedUserId"], user, "federatedUserId is not the user id");

    // The token verifies against the application's JWKS.
    let jwks = reqwest::get(format!("{}/hosted/{}/jwks.json", w.app.address, w.app_id)).await.unwrap();
    assert!(jwks.headers()["cache-control"].to_str().unwrap().contains("max-age="));
    let jwks: Value = jwks.json().await.unwrap();
    let key = &jwks["keys"][0];
    let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&[&w.app_id]);
    v.set_issuer(&[w.app.address.replace("127.0.0.1", "localhost")]);
    let token = jsonwebtoken::decode::<Value>(&p["autoLoginToken"], &decoding, &v).unwrap();
    assert_eq!(token.claims["sub"], user.as_str());
    assert_eq!(token.header.kid.as_deref(), key["kid"].as_str());
    assert!(token.claims["jti"].is_string() && token.claims["exp"].as_i64().unwrap() - token.claims["iat"].as_i64().unwrap() == 3600);

    // The user exists with Google's profile and a verified email.
    let stored = {
        use fedgate_domain::ports::UserRepository;
        let app_id = fedgate_domain::ids::ApplicationId::parse(&w.app_id).unwrap();
        w.app.storage().get_user(app_id, &fedgate_domain::ids::UserId::parse(&user).unwrap()).await.unwrap().unwrap()
    };
    assert_eq!(stored.screen_name.as_deref(), Some("ann Example"));
    assert_eq!(stored.locators.len(), 1);
    assert_eq!(stored.locators[0].locator.value(), ann.email.as_deref().unwrap());
    assert!(stored.locators[0].verified);

    let events = w.owner.events(&w.app_id, "").await;
    assert_eq!(events[0]["kind"], "login_succeeded");
    assert_eq!(events[0]["outcome"], "new_user");
    assert_eq!(events[0]["userId"], user.as_str());
    assert_eq!(events[1]["kind"], "login_started");
}
