//! Plain OAuth2 providers — a platform with authorize, token and a profile endpoint,
//! no ID token, no discovery — read through a claim mapping, against an in-process
//! fake platform in GitHub's, a nested and a string-id shape.

use fedgate_tests::{
    APP_REDIRECT, FakeOAuth2, Member, ProfileMode, Shape, TestApp, hop, spawn_app_with,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server, an application with the integration, and `platform` under `platform`.
struct World {
    app: TestApp,
    platform: FakeOAuth2,
    owner: fedgate_tests::Browser,
    app_id: String,
    property: Value,
}

impl World {
    async fn start(shape: Shape, extra: Value) -> Self {
        let platform = FakeOAuth2::start(shape).await;
        let app = spawn_app_with(|s| {
            s.allow_loopback_providers = true;
            s.provider_timeout_seconds = 2;
        })
        .await;
        let owner = app.subscriber().await;
        let app_id = owner.create_app("Chat").await.id;
        owner.add_integration(&app_id, json!({})).await;
        let property = owner
            .add_oauth2(&app_id, &platform, "platform", extra)
            .await;
        Self {
            app,
            platform,
            owner,
            app_id,
            property,
        }
    }

    async fn login(&self, query: &str) -> fedgate_tests::Hop {
        self.app
            .provider_login(&self.app_id, "platform", query)
            .await
    }

    async fn federated(&self, id: &str) -> Value {
        self.owner.federated_user(&self.app_id, id).await
    }

    async fn failures(&self) -> Vec<String> {
        self.owner
            .events(&self.app_id, "?kind=login_failed")
            .await
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    async fn edit(&self, changes: Value) {
        let mut body = self.platform.property("platform");
        body.as_object_mut().unwrap().remove("clientSecret");
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        let path = format!(
            "/manage/v1/applications/{}/properties/{}",
            self.app_id,
            self.property["id"].as_str().unwrap()
        );
        let res = self
            .owner
            .send_json(reqwest::Method::PUT, &path, &body)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn a_github_shaped_platform_creates_the_user_from_the_mapped_profile_and_brings_them_back() {
    let w = World::start(Shape::GitHub, json!({})).await;
    let services = w.owner.services(&w.app_id).await;
    let tile = services.iter().find(|s| s["slug"] == "platform").unwrap();
    assert_eq!(
        (
            tile["status"].as_str(),
            tile["service"].as_str(),
            tile["name"].as_str()
        ),
        (
            Some("ACTIVE"),
            Some("oauth2"),
            Some("Our Platform Authentication Service")
        ),
        "{tile}"
    );

    let ann = Member::new("ann", "platform.example");
    w.platform.add("ann", ann.clone());
    let back = w.login("login_hint=ann&state=s1").await;
    assert_eq!(back.target(), APP_REDIRECT, "{}", back.body);
    let p = back.params();
    assert_eq!(p["federatingService"], "OAuth2FederationService");
    assert_eq!(p["federationProvider"], "platform");
    assert_eq!(p["state"], "s1");
    assert!(p.contains_key("autoLoginToken"), "{p:?}");
    let user = p["linkedUser"].clone();

    // What went to the platform: PKCE, no OpenID Connect nonce, the scopes as configured.
    let asked = w.platform.with(|s| s.last_authorize.clone());
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["scope"], "read:user user:email");
    assert!(!asked.contains_key("nonce"), "{asked:?}");
    w.platform.with(|s| {
        assert!(s.last_token_accept.contains("application/json"));
        assert!(
            !s.token_seen_in_query,
            "the access token never goes in a URL"
        );
        assert_eq!(s.header_token_reads, 2, "profile and emails, by header");
    });

    // The identity: the numeric id in its string form, the primary address from the
    // emails list, name and username from the profile.
    let f = w.federated(&p["federatedUserId"]).await;
    assert_eq!(f["subject"], ann.id.to_string());
    assert_eq!(f["issuer"], w.platform.base);
    assert_eq!(f["federatingService"], "OAuth2FederationService");
    assert_eq!(f["providerName"], "Our Platform");
    assert_eq!(f["profile"]["email"], ann.email);
    assert_eq!(f["profile"]["emailVerified"], true);
    assert_eq!(
        f["profile"]["emailTrusted"], false,
        "not trusted unless the subscriber says the provider verifies"
    );
    assert_eq!(f["profile"]["name"], "ann Example");
    assert_eq!(f["profile"]["username"], "ann");
    let u: Value = w
        .owner
        .get(&format!(
            "/manage/v1/applications/{}/users/{user}",
            w.app_id
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["screenName"], "ann Example", "{u}");

    // Later sign-ins bring the same user back; a form-encoded token answer is read too.
    w.platform.with(|s| s.always_form = true);
    let again = w.login("login_hint=ann").await.params();
    assert_eq!(again["linkedUser"], user);
    assert_eq!(again["federatedUserId"], p["federatedUserId"]);
    assert_eq!(w.app.count_people().await, (1, 1));
    let events = w.owner.events(&w.app_id, "?provider=platform").await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "login_succeeded" && e["outcome"] == "returning"),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_same_numeric_and_string_subject_are_one_identity() {
    let w = World::start(Shape::GitHub, json!({})).await;
    let bo = Member::new("bo", "platform.example");
    w.platform.add("bo", bo.clone());
    let first = w.login("login_hint=bo").await.params();
    // The platform starts sending its ids as strings.
    w.platform.with(|s| s.shape = Shape::StringId);
    let second = w.login("login_hint=bo").await.params();
    assert_eq!(second["federatedUserId"], first["federatedUserId"]);
    assert_eq!(second["linkedUser"], first["linkedUser"]);
    assert_eq!(w.app.count_people().await, (1, 1));
}

#[tokio::test]
async fn a_nested_profile_is_mapped_and_its_email_links_only_when_trusted_and_verified() {
    for (trust, verified, linked) in [
        (false, true, false),
        (true, false, false),
        (true, true, true),
    ] {
        let w = World::start(Shape::Nested, json!({"verifiesEmails": trust})).await;
        w.app
            .seed_user(&w.app_id, "cy-user", "cy@platform.example", true)
            .await;
        let mut cy = Member::new("cy", "platform.example");
        cy.verified = verified;
        w.platform.add("cy", cy.clone());
        let p = w.login("login_hint=cy").await.params();
        let f = w.federated(&p["federatedUserId"]).await;
        assert_eq!(f["subject"], cy.id.to_string(), "from /data/user/id");
        assert_eq!(f["profile"]["email"], "cy@platform.example");
        if linked {
            assert_eq!(p["linkedUser"], "cy-user");
        } else {
            assert!(
                !p.contains_key("linkedUser"),
                "trust {trust}, verified {verified}: {p:?}"
            );
            assert_eq!(p["linkCandidates"], "cy-user");
        }
    }
}

#[tokio::test]
async fn profiles_that_name_nobody_fail_the_login_clearly_and_create_nothing() {
    for (mode, reason) in [
        (ProfileMode::NoSubject, "profile_subject_missing"),
        (ProfileMode::ObjectSubject, "profile_subject_invalid"),
        (ProfileMode::ServerError, "provider_bad_response"),
        (ProfileMode::Garbage, "provider_bad_response"),
        (ProfileMode::QueryTokenOnly, "provider_bad_response"),
    ] {
        let w = World::start(Shape::StringId, json!({})).await;
        w.platform.with(|s| s.profile_mode = mode);
        let back = w.login("state=keep").await;
        assert_eq!(back.target(), APP_REDIRECT, "{mode:?}");
        let p = back.params();
        assert_eq!(
            (p["error"].as_str(), p["state"].as_str()),
            ("server_error", "keep"),
            "{mode:?}"
        );
        assert!(!p.contains_key("linkedUser"));
        assert_eq!(w.app.count_people().await, (0, 0), "{mode:?}");
        assert_eq!(w.failures().await, vec![reason.to_owned()], "{mode:?}");
        if mode == ProfileMode::NoSubject {
            assert!(
                p["error_description"].contains("no subject at /id"),
                "{p:?}"
            );
        }
        assert!(
            !w.platform.with(|s| s.token_seen_in_query),
            "{mode:?}: never retried with the token in the URL"
        );
    }
}

#[tokio::test]
async fn provider_errors_and_prompts_pass_through_to_the_app() {
    let w = World::start(Shape::GitHub, json!({})).await;
    let start = hop(&w.app.provider_login_url(
        &w.app_id,
        "platform",
        "prompt=none&login_hint=dee&state=quiet",
    ))
    .await;
    let to_platform = start.params();
    assert_eq!(
        (
            to_platform["prompt"].as_str(),
            to_platform["login_hint"].as_str()
        ),
        ("none", "dee")
    );
    w.platform
        .with(|s| s.authorize_error = Some("login_required"));
    let at = hop(start.location.as_deref().unwrap()).await;
    let p = hop(at.location.as_deref().unwrap()).await.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("login_required", "quiet")
    );
    assert!(
        p["error_description"].starts_with("Our Platform: "),
        "{p:?}"
    );
}

#[tokio::test]
async fn pkce_can_be_turned_off_for_a_server_that_rejects_it_and_client_auth_is_as_configured() {
    let w = World::start(Shape::StringId, json!({})).await;
    w.platform.with(|s| s.rejects_pkce = true);
    let p = w.login("").await.params();
    assert_eq!(p["error"], "server_error", "{p:?}");
    assert!(p["error_description"].contains("invalid_request"), "{p:?}");

    w.edit(json!({"pkce": false, "clientAuthentication": "client_secret_post"}))
        .await;
    let p = w.login("").await.params();
    assert!(p.contains_key("linkedUser"), "{p:?}");
    let asked = w.platform.with(|s| s.last_authorize.clone());
    assert!(!asked.contains_key("code_challenge"), "{asked:?}");
    assert_eq!(w.platform.with(|s| s.last_client_auth), "post");
}

#[tokio::test]
async fn oauth2_properties_are_validated_and_share_slugs_with_other_providers() {
    let w = World::start(Shape::GitHub, json!({})).await;
    let path = format!("/manage/v1/applications/{}/properties", w.app_id);
    let base = w.platform.property("fresh");
    assert_eq!(
        w.property["issuer"], w.platform.base,
        "the origin by default"
    );
    assert_eq!(w.property["pkce"], true);
    assert_eq!(w.property["clientSecretSet"], true);
    assert!(!w.property.to_string().contains(&w.platform.client_secret));
    for (field, value, named) in [
        (
            "claimMapping",
            json!({"subject": "id"}),
            "claimMapping.subject",
        ),
        (
            "claimMapping",
            json!({"subject": "/id", "email": "/a~2"}),
            "claimMapping.email",
        ),
        ("tokenUrl", json!("not a url"), "tokenUrl"),
        ("profileUrl", json!("ftp://x.example/me"), "profileUrl"),
        ("slug", json!("google"), "slug"),
        ("clientSecret", json!(null), "clientSecret"),
    ] {
        let mut b = base.clone();
        b[field] = value;
        let res = w.owner.post(&path, &b).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], named, "{body}");
    }
    // A subject pointer is required.
    let mut b = base.clone();
    b["claimMapping"] = json!({"email": "/email"});
    assert_eq!(
        w.owner.post(&path, &b).await.status(),
        StatusCode::BAD_REQUEST
    );
    // One slug space for every provider kind.
    let mut b = base.clone();
    b["slug"] = json!("platform");
    let res = w.owner.post(&path, &b).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "slug_taken");
    let mut b = base;
    b["issuer"] = json!("urn:platform:prod");
    let created = w.owner.add_property(&w.app_id, b, json!({})).await;
    assert_eq!(created["issuer"], "urn:platform:prod");
}

#[tokio::test]
async fn preview_mapping_shows_what_a_sample_profile_yields() {
    let w = World::start(Shape::GitHub, json!({})).await;
    let path = format!("/manage/v1/applications/{}/mapping-preview", w.app_id);
    let mapping =
        json!({"subject": "/id", "email": "/email", "name": "/name", "username": "/login"});
    let ok: Value = w
        .owner
        .post(
            &path,
            &json!({
                "claimMapping": mapping,
                "profile": r#"{"id": 4711, "login": "ann", "name": "Ann", "email": null}"#,
                "emails": r#"[{"email": "ann@x.example", "primary": true, "verified": true}]"#,
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            ok["subject"].as_str(),
            ok["email"].as_str(),
            ok["emailVerified"].as_bool(),
            ok["name"].as_str(),
            ok["username"].as_str(),
            ok["failure"].as_str()
        ),
        (
            Some("4711"),
            Some("ann@x.example"),
            Some(true),
            Some("Ann"),
            Some("ann"),
            None
        )
    );
    let failing: Value = w
        .owner
        .post(
            &path,
            &json!({"claimMapping": mapping, "profile": r#"{"id": {"n": 1}}"#}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        failing["failure"]
            .as_str()
            .unwrap()
            .starts_with("profile_subject_invalid"),
        "{failing}"
    );
    let res = w
        .owner
        .post(
            &path,
            &json!({"claimMapping": mapping, "profile": "{not json"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "profile");
}

#[tokio::test]
async fn without_the_loopback_setting_platform_urls_on_this_machine_are_refused() {
    let platform = FakeOAuth2::start(Shape::GitHub).await;
    let app = spawn_app_with(|_| {}).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.add_integration(&app_id, json!({})).await;
    owner
        .add_oauth2(&app_id, &platform, "platform", json!({}))
        .await;
    let services = owner.services(&app_id).await;
    let tile = services.iter().find(|s| s["slug"] == "platform").unwrap();
    assert_eq!(tile["status"], "INACTIVE");
    let codes: Vec<&str> = tile["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().all(|c| *c == "endpoint_refused") && codes.len() == 4,
        "{codes:?}"
    );
    let start = hop(&app.provider_login_url(&app_id, "platform", "")).await;
    assert_eq!(start.status, StatusCode::BAD_REQUEST, "{}", start.body);
    assert_eq!(platform.with(|s| s.redeemed), 0);
}

#[tokio::test]
async fn granted_scopes_are_recorded_and_a_scope_not_granted_is_said_in_the_event() {
    // The platform grants `read:user,user:email`; `admin:org` is asked for too.
    let w = World::start(
        Shape::GitHub,
        json!({"scopes": ["read:user", "user:email", "admin:org"]}),
    )
    .await;
    let p = w.login("").await.params();
    let events = w.owner.events(&w.app_id, "?kind=login_succeeded").await;
    assert_eq!(
        events[0]["detail"], "scopes not granted: admin:org",
        "{events:?}"
    );
    let key = w.owner.create_key(&w.app_id).await;
    let signer = w.app.signer(&key.key.id, &key.secret);
    let res = signer
        .send(
            reqwest::Method::GET,
            &format!(
                "/api/v1/federated-users/{}/upstream-tokens",
                p["federatedUserId"]
            ),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let upstream: Value = res.json().await.unwrap();
    assert_eq!(upstream["grantedScope"], "read:user,user:email");
    assert_eq!(upstream["accessToken"], p["externalServiceTokens"]);
}
