//! OpenID Connect providers — a company's own identity server — next to Google, several
//! per application, against in-process fakes with their own issuers and discovery.

use std::net::SocketAddr;
use std::sync::Arc;

use fedgate_provider::Outbound;
use fedgate_provider::net::ConnectTap;
use fedgate_tests::fake_google::Tamper;
use fedgate_tests::{
    APP_REDIRECT, FakeGoogle, IssParam, OidcWorld, Person, hop, spawn_app_with,
    spawn_app_with_google_and, spawn_app_with_outbound,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn tile<'a>(services: &'a [Value], slug: &str) -> &'a Value {
    services
        .iter()
        .find(|s| s["slug"] == slug)
        .unwrap_or_else(|| panic!("no tile {slug} in {services:?}"))
}

fn codes(tile: &Value) -> Vec<String> {
    tile["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn google_and_two_openid_connect_providers_make_three_tiles_three_logins_and_three_identities()
 {
    let google = FakeGoogle::start().await;
    let acme = FakeGoogle::start_oidc().await;
    let globex = FakeGoogle::start_oidc().await;
    let app = spawn_app_with_google_and(&google, |s| s.allow_loopback_providers = true).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.configure_google(&app_id, &google, json!({})).await;
    owner.add_oidc(&app_id, &acme, "acme", json!({})).await;
    owner
        .add_oidc(
            &app_id,
            &globex,
            "globex",
            json!({"displayName": "Globex Login", "clientAuthentication": "client_secret_post"}),
        )
        .await;

    let services = owner.services(&app_id).await;
    assert_eq!(services.len(), 3, "{services:?}");
    assert_eq!(services[0]["slug"], "google", "Google's tile first");
    assert_eq!(services[0]["name"], "Google Authentication Service");
    assert_eq!(
        services[0]["providerRedirectUriLabel"],
        "Google Redirect URI"
    );
    let g = tile(&services, "globex");
    assert_eq!(
        (
            g["status"].as_str(),
            g["service"].as_str(),
            g["displayName"].as_str()
        ),
        (Some("ACTIVE"), Some("openid_connect"), Some("Globex Login"))
    );
    assert_eq!(g["name"], "Globex Login Authentication Service");
    assert_eq!(
        g["providerRedirectUri"],
        format!(
            "{}/hosted/{app_id}/globex/callback",
            app.address.replace("127.0.0.1", "localhost")
        )
    );
    assert_eq!(
        g["loginEndpoint"],
        format!(
            "{}/hosted/{app_id}/globex/login",
            app.address.replace("127.0.0.1", "localhost")
        )
    );
    assert_eq!(tile(&services, "acme")["status"], "ACTIVE");

    google.add("g", Person::gmail("gina"));
    acme.add("a", Person::at("ann", "acme.example"));
    globex.add("x", Person::at("xavier", "globex.example"));
    let mut identities = Vec::new();
    for (slug, hint, service) in [
        ("google", "g", "GoogleFederationService"),
        ("acme", "a", "OpenIdConnectFederationService"),
        ("globex", "x", "OpenIdConnectFederationService"),
    ] {
        let back = app
            .provider_login(&app_id, slug, &format!("login_hint={hint}&state=s-{slug}"))
            .await;
        assert_eq!(back.target(), APP_REDIRECT, "{slug}: {}", back.body);
        let p = back.params();
        assert_eq!(p["federatingService"], service, "{slug}");
        assert_eq!(p["federationProvider"], slug);
        assert_eq!(p["state"], format!("s-{slug}"));
        assert!(
            p.contains_key("autoLoginToken") && p.contains_key("linkedUser"),
            "{p:?}"
        );
        identities.push((p["federatedUserId"].clone(), p["linkedUser"].clone()));
    }
    assert_eq!(
        app.count_people().await,
        (3, 3),
        "three users, three identities"
    );
    // Client authentication as configured.
    assert_eq!(globex.with(|s| s.last_client_auth), "post");
    assert_eq!(acme.with(|s| s.last_client_auth), "basic");

    // The second sign-in at a provider is a returning one.
    let again = app
        .provider_login(&app_id, "acme", "login_hint=a")
        .await
        .params();
    assert_eq!(again["federatedUserId"], identities[1].0);
    assert_eq!(again["linkedUser"], identities[1].1);

    // Federated users and events name their provider.
    let key = owner.create_key(&app_id).await;
    let api = app.client(&key);
    let f = api.federated_user(&identities[2].0).await.unwrap();
    assert_eq!(f.federating_service, "OpenIdConnectFederationService");
    assert_eq!(f.federation_provider.as_deref(), Some("globex"));
    assert_eq!(f.provider_name.as_deref(), Some("Globex Login"));
    assert!(f.provider.starts_with("oidc:"), "{}", f.provider);
    assert_eq!(f.issuer, globex.issuer);
    let acme_events = owner.events(&app_id, "?provider=acme").await;
    assert!(!acme_events.is_empty());
    assert!(
        acme_events
            .iter()
            .all(|e| e["federationProvider"] == "acme" && e["providerName"] == "ACME SSO"),
        "{acme_events:?}"
    );
    let res = owner
        .get(&format!(
            "/manage/v1/applications/{app_id}/events?provider=nope"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_callback_at_one_providers_address_with_anothers_state_is_refused_unredeemed() {
    let w = OidcWorld::start(json!({})).await;
    let other = FakeGoogle::start_oidc().await;
    w.owner
        .add_oidc(&w.app_id, &other, "other", json!({}))
        .await;
    let start = hop(&w.app.provider_login_url(&w.app_id, "other", "")).await;
    let at_other = hop(start.location.as_deref().unwrap()).await;
    let misdelivered = at_other
        .location
        .unwrap()
        .replace("/other/callback", "/acme/callback");
    let res = hop(&misdelivered).await;
    assert_eq!(
        (res.status, res.location.is_none()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(
        other.with(|s| s.token_calls) + w.idp.with(|s| s.token_calls),
        0
    );
    let events = w.owner.events(&w.app_id, "").await;
    assert_eq!(events[0]["reason"], "callback_mismatch");
}

#[tokio::test]
async fn rfc_9207_a_missing_or_wrong_iss_is_refused_before_the_code_is_redeemed() {
    // The provider advertises iss: a response without it is refused.
    let w = OidcWorld::start(json!({})).await;
    w.idp.with(|s| {
        s.discovery_patch.insert(
            "authorization_response_iss_parameter_supported".into(),
            json!(true),
        );
    });
    let fresh = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/discovery-check", w.app_id),
            &json!({"issuer": w.idp.issuer}),
        )
        .await;
    let found: Value = fresh.json().await.unwrap();
    assert_eq!(found["issParameterSupported"], true);
    for (mode, reason) in [
        (IssParam::Omit, "issuer_missing"),
        (IssParam::Wrong, "issuer_mismatch"),
    ] {
        w.idp.with(|s| s.iss_param = mode);
        let p = w.login("state=st").await.params();
        assert_eq!(
            (p["error"].as_str(), p["state"].as_str()),
            ("server_error", "st")
        );
        assert_eq!(w.owner.events(&w.app_id, "").await[0]["reason"], reason);
    }
    assert_eq!(w.idp.with(|s| s.token_calls), 0, "no code was redeemed");
    w.idp.with(|s| s.iss_param = IssParam::Correct);
    let p = w.login("").await.params();
    assert!(p.contains_key("linkedUser"), "{p:?}");
}

#[tokio::test]
async fn a_google_callback_carrying_another_issuer_is_refused_too() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google_and(&google, |_| {}).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.configure_google(&app_id, &google, json!({})).await;
    google.with(|s| s.iss_param = IssParam::Wrong);
    let p = app.google_login(&app_id, "").await.params();
    assert_eq!(p["error"], "server_error");
    assert_eq!(google.with(|s| s.token_calls), 0);
    google.with(|s| s.iss_param = IssParam::Correct);
    assert!(
        app.google_login(&app_id, "")
            .await
            .params()
            .contains_key("linkedUser")
    );
}

#[tokio::test]
async fn discovery_defects_make_the_tile_inactive_with_their_reason() {
    let w = OidcWorld::start(json!({})).await;
    let check = |issuer: String| {
        let owner = w.owner.clone();
        let path = format!("/manage/v1/applications/{}/discovery-check", w.app_id);
        async move {
            let res = owner.post(&path, &json!({ "issuer": issuer })).await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        w.idp.with(|s| s.discovery_calls),
        1,
        "fetched when the property was saved"
    );
    let (status, found) = check(w.idp.issuer.clone()).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(w.idp.with(|s| s.discovery_calls), 2, "a check fetches now");
    assert_eq!(found["tokenEndpoint"], format!("{}/token", w.idp.base));
    assert_eq!(found["signingAlgorithms"], json!(["RS256"]));

    for (patch, code) in [
        (
            json!({"issuer": "https://someone-else.example"}),
            "discovery_issuer_mismatch",
        ),
        (json!({"jwks_uri": null}), "discovery_no_jwks"),
        (
            json!({"code_challenge_methods_supported": ["plain"]}),
            "discovery_no_s256",
        ),
        (
            json!({"response_types_supported": ["id_token"]}),
            "discovery_no_code_flow",
        ),
        (
            json!({"token_endpoint": "http://token.example/t"}),
            "discovery_not_https",
        ),
    ] {
        w.idp
            .with(|s| s.discovery_patch = patch.as_object().unwrap().clone());
        let (status, body) = check(w.idp.issuer.clone()).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some("issuer")),
            "{body}"
        );
        let services = w.owner.services(&w.app_id).await;
        let t = tile(&services, "acme");
        assert_eq!(t["status"], "INACTIVE");
        assert_eq!(codes(t), [code]);
        assert_eq!(
            t["reasons"][0]["recheckIssuer"], w.idp.issuer,
            "can be checked again"
        );
        let start = hop(&w.app.provider_login_url(&w.app_id, "acme", "")).await;
        assert_eq!(start.status, StatusCode::BAD_REQUEST);
        assert!(start.body.contains("INACTIVE"), "{}", start.body);
    }
    w.idp.with(|s| s.discovery_patch.clear());
    check(w.idp.issuer.clone()).await;
    assert_eq!(
        tile(&w.owner.services(&w.app_id).await, "acme")["status"],
        "ACTIVE"
    );

    // Unreachable: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (status, body) = check(format!("http://127.0.0.1:{port}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("discovery_unreachable")
        )
    );
}

#[tokio::test]
async fn without_the_loopback_setting_a_loopback_or_plain_http_issuer_is_refused() {
    let idp = FakeGoogle::start_oidc().await;
    let app = spawn_app_with(|_| {}).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner.add_integration(&app_id, json!({})).await;
    owner.add_oidc(&app_id, &idp, "acme", json!({})).await;
    let https_port = idp.base.replace("http://", "https://");
    owner
        .add_oidc(&app_id, &idp, "tls", json!({"issuer": https_port}))
        .await;
    let services = owner.services(&app_id).await;
    assert_eq!(codes(tile(&services, "acme")), ["discovery_not_https"]);
    assert_eq!(codes(tile(&services, "tls")), ["discovery_address_refused"]);
    assert_eq!(
        idp.with(|s| s.discovery_calls),
        0,
        "nothing reached the provider"
    );
}

/// Maps test host names to the addresses an attacker would aim at, and loopback.
#[derive(Debug)]
struct HostileDns {
    loopback_port: u16,
}

impl reqwest::dns::Resolve for HostileDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr: SocketAddr = match name.as_str() {
            "private.test" => "10.0.0.1:443".parse().unwrap(),
            "metadata.test" => "169.254.169.254:443".parse().unwrap(),
            "ula.test" => "[fd00::1]:443".parse().unwrap(),
            // A public address: the guard lets it through, the test's tap stops it.
            "public.test" => "93.184.216.34:443".parse().unwrap(),
            _ => SocketAddr::from(([127, 0, 0, 1], self.loopback_port)),
        };
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

#[tokio::test]
async fn ssrf_private_and_metadata_addresses_are_never_connected_to() {
    let idp = FakeGoogle::start_oidc().await;
    let port: u16 = idp.base.rsplit(':').next().unwrap().parse().unwrap();
    let tap = ConnectTap::default();
    let outbound = Outbound {
        resolver: Some(Arc::new(HostileDns {
            loopback_port: port,
        })),
        connect_tap: Some(tap.clone()),
        ..Outbound::default()
    };
    let app = spawn_app_with_outbound(|s| s.allow_loopback_providers = true, outbound).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    let check = |issuer: String| {
        let owner = owner.clone();
        let path = format!("/manage/v1/applications/{app_id}/discovery-check");
        async move {
            let res = owner.post(&path, &json!({ "issuer": issuer })).await;
            res.json::<Value>().await.unwrap()
        }
    };
    // A control: through the same resolver and tap, loopback is reached.
    let control = check(format!("http://localhost:{port}")).await;
    assert_eq!(control["code"], "discovery_issuer_mismatch", "{control}");
    assert_eq!(tap.seen().len(), 1, "the tap sees connections");
    assert!(tap.seen()[0].ip().is_loopback());

    for host in ["private.test", "metadata.test", "ula.test"] {
        let body = check(format!("https://{host}/realms/x")).await;
        assert_eq!(body["code"], "discovery_address_refused", "{host}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(host),
            "{host}: {body}"
        );
    }
    assert_eq!(
        tap.seen().len(),
        1,
        "no refused address reached the connector"
    );

    // A loopback discovery that redirects to the metadata address: not followed.
    idp.with(|s| s.discovery_redirect = Some("https://metadata.test/latest/meta-data".into()));
    let body = check(format!("http://localhost:{port}")).await;
    assert_eq!(body["code"], "discovery_http_status", "{body}");
    assert!(
        tap.seen().iter().all(|a| a.ip().is_loopback()),
        "{:?}",
        tap.seen()
    );
    assert_eq!(idp.with(|s| s.discovery_calls), 2);

    // A provider saved with such an issuer is INACTIVE with that reason.
    owner.add_integration(&app_id, json!({})).await;
    owner
        .add_oidc(
            &app_id,
            &idp,
            "meta",
            json!({"issuer": "https://metadata.test"}),
        )
        .await;
    let services = owner.services(&app_id).await;
    assert_eq!(
        codes(tile(&services, "meta")),
        ["discovery_address_refused"]
    );
    assert!(tap.seen().iter().all(|a| a.ip().is_loopback()));
}

#[tokio::test]
async fn an_id_token_without_kid_is_accepted_with_one_key_and_refused_with_two() {
    let w = OidcWorld::start(json!({})).await;
    w.idp.with(|s| s.kidless = true);
    let p = w.login("").await.params();
    assert!(p.contains_key("linkedUser"), "one key: accepted {p:?}");
    let other = OidcWorld::start(json!({})).await;
    other.idp.with(|s| {
        s.kidless = true;
        s.two_keys = true;
    });
    let p = other.login("state=k").await.params();
    assert_eq!(p["error"], "server_error", "{p:?}");
    assert_eq!(
        other.owner.events(&other.app_id, "").await[0]["reason"],
        "id_token_invalid:kid"
    );
    assert_eq!(other.app.count_people().await, (0, 0));
}

#[tokio::test]
async fn the_id_token_checks_hold_for_every_provider() {
    for (tamper, reason) in [
        (Tamper::WrongIssuer, "id_token_invalid:iss"),
        (Tamper::WrongAudience, "id_token_invalid:aud"),
        (Tamper::WrongNonce, "id_token_invalid:nonce"),
        (Tamper::AlgNone, "id_token_invalid:alg"),
        (Tamper::AlgHs256, "id_token_invalid:alg"),
        (Tamper::BadSignature, "id_token_invalid:signature"),
        (Tamper::Expired, "id_token_invalid:exp"),
    ] {
        let w = OidcWorld::start(json!({})).await;
        w.idp.with(|s| s.tamper = Some(tamper));
        let p = w.login("state=t").await.params();
        assert_eq!(p["error"], "server_error", "{tamper:?}");
        assert_eq!(w.owner.events(&w.app_id, "").await[0]["reason"], reason);
        assert_eq!(w.app.count_people().await, (0, 0), "{tamper:?}");
        assert_eq!(w.idp.with(|s| s.userinfo_calls), 0, "{tamper:?}");
    }
}

#[tokio::test]
async fn an_email_links_only_when_the_subscriber_trusts_the_providers_verification() {
    for (trust, domains, linked) in [
        (json!(false), json!([]), false),
        (json!(true), json!([]), true),
        (json!(true), json!(["other.example"]), false),
        (json!(true), json!(["acme.example"]), true),
    ] {
        let w = OidcWorld::start(json!({"verifiesEmails": trust, "allowedEmailDomains": domains}))
            .await;
        w.app
            .seed_user(&w.app_id, "ann-user", "ann@acme.example", true)
            .await;
        w.idp.add("ann", Person::at("ann", "acme.example"));
        let p = w.login("login_hint=ann").await.params();
        if linked {
            assert_eq!(p["linkedUser"], "ann-user", "{trust} {domains}");
        } else {
            assert!(!p.contains_key("linkedUser"), "{trust} {domains}: {p:?}");
            assert_eq!(p["linkCandidates"], "ann-user", "returned as a candidate");
        }
    }
}

#[tokio::test]
async fn emails_from_userinfo_count_like_emails_in_the_id_token() {
    let w = OidcWorld::start(json!({"verifiesEmails": true})).await;
    w.app
        .seed_user(&w.app_id, "ann-user", "ann@acme.example", true)
        .await;
    w.idp.with(|s| s.email_in_userinfo_only = true);
    w.idp.add("ann", Person::at("ann", "acme.example"));
    let p = w.login("login_hint=ann").await.params();
    assert_eq!(p["linkedUser"], "ann-user");
}

#[tokio::test]
async fn a_recycled_subject_with_a_known_email_is_only_a_candidate() {
    let w = OidcWorld::start(json!({"verifiesEmails": true})).await;
    let first = Person::at("ann", "acme.example");
    w.idp.add("ann", first.clone());
    let p = w.login("login_hint=ann").await.params();
    let ann = p["linkedUser"].clone();
    // The provider deleted Ann's account and gave the address to someone new.
    let mut recycled = first;
    recycled.sub = "a-new-subject".into();
    w.idp.add("new", recycled);
    let p = w.login("login_hint=new").await.params();
    assert!(!p.contains_key("linkedUser"), "{p:?}");
    assert_eq!(p["linkCandidates"], ann);
    assert_eq!(w.app.count_people().await, (1, 2));
}

#[tokio::test]
async fn a_changed_issuer_stops_using_the_old_discovery_and_keys() {
    let w = OidcWorld::start(json!({})).await;
    assert!(w.login("").await.params().contains_key("linkedUser"));
    let replacement = FakeGoogle::start_oidc().await;
    replacement.with(|s| s.default_person = Person::at("zed", "globex.example"));
    let props = w.owner.properties(&w.app_id).await;
    let acme = props.iter().find(|p| p["slug"] == "acme").unwrap();
    let mut body = acme.clone();
    for k in [
        "id",
        "createdAt",
        "updatedAt",
        "clientSecretSet",
        "multiTenant",
    ] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["issuer"] = json!(replacement.issuer);
    body["clientId"] = json!(replacement.client_id);
    body["clientSecret"] = json!(replacement.client_secret);
    let res = w
        .owner
        .send_json(
            reqwest::Method::PUT,
            &format!(
                "/manage/v1/applications/{}/properties/{}",
                w.app_id,
                acme["id"].as_str().unwrap()
            ),
            &body,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let start = hop(&w.app.provider_login_url(&w.app_id, "acme", "")).await;
    assert!(
        start
            .location
            .as_deref()
            .unwrap()
            .starts_with(&replacement.base),
        "goes to the new provider"
    );
    let p = w.login("").await.params();
    assert!(p.contains_key("linkedUser"), "{p:?}");
    assert_eq!(replacement.with(|s| s.redeemed), 1);
    assert_eq!(
        w.idp.with(|s| s.redeemed),
        1,
        "the old provider saw only the first login"
    );
    assert_eq!(
        w.app.count_people().await.1,
        2,
        "another issuer, another identity"
    );
}

#[tokio::test]
async fn prompt_none_comes_back_as_login_required_and_hints_pass_through() {
    let w = OidcWorld::start(json!({})).await;
    let start = hop(&w.app.provider_login_url(
        &w.app_id,
        "acme",
        "prompt=none&login_hint=needs-login&state=quiet",
    ))
    .await;
    let to_idp = start.params();
    assert_eq!(
        (to_idp["prompt"].as_str(), to_idp["login_hint"].as_str()),
        ("none", "needs-login")
    );
    assert_eq!(to_idp["scope"], "openid email profile");
    let at_idp = hop(start.location.as_deref().unwrap()).await;
    let p = hop(at_idp.location.as_deref().unwrap()).await.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("login_required", "quiet")
    );
    assert!(p["error_description"].starts_with("ACME SSO: "), "{p:?}");
}

#[tokio::test]
async fn state_signing_asks_an_openid_connect_provider_for_offline_access() {
    let idp = FakeGoogle::start_oidc().await;
    let app = spawn_app_with(|s| s.allow_loopback_providers = true).await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    owner
        .add_integration(&app_id, json!({"requireStateSigning": true}))
        .await;
    owner.add_oidc(&app_id, &idp, "acme", json!({})).await;
    let key = owner.create_key(&app_id).await;
    let path = format!("/hosted/{app_id}/acme/login");
    let ts = fedgate_tests::unix_now();
    let parts = fedgate_domain::signing::RequestParts {
        key_id: &key.key.id,
        timestamp: ts,
        nonce: "nonce-oidc-000000000001",
        method: "GET",
        path: &path,
        query: "state=s",
        body: b"",
    };
    let sig = fedgate_domain::signing::sign(key.secret.as_bytes(), &parts);
    let q = format!(
        "state=s&accessKeyId={}&timestamp={ts}&nonce=nonce-oidc-000000000001&signature={sig}",
        key.key.id
    );
    let start = hop(&app.provider_login_url(&app_id, "acme", &q)).await;
    assert_eq!(start.status, StatusCode::FOUND, "{}", start.body);
    let to_idp = start.params();
    assert_eq!(to_idp["scope"], "openid email profile offline_access");
    assert!(!to_idp.contains_key("prompt"), "consent is not forced");
    assert!(!to_idp.contains_key("access_type"), "that is Google's way");
    // The provider issues a refresh token for offline_access: back at the app with it
    // after one round, no consent screen asked for.
    let at_idp = hop(start.location.as_deref().unwrap()).await;
    let p = hop(at_idp.location.as_deref().unwrap()).await.params();
    assert_eq!(p["externalServiceTokens"].split(',').count(), 2, "{p:?}");
    assert_eq!(idp.with(|s| s.authorize_calls), 1);
}

#[tokio::test]
async fn provider_properties_are_validated_capped_and_keep_their_slug() {
    let w = OidcWorld::start(json!({})).await;
    let path = format!("/manage/v1/applications/{}/properties", w.app_id);
    let base = json!({"kind": "openid_connect_provider", "instanceName": "x", "slug": "acme",
        "displayName": "X", "issuer": w.idp.issuer, "clientId": "c", "clientSecret": "s"});
    // Slugs are unique per application.
    let res = w.owner.post(&path, &base).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("slug_taken"), Some("slug"))
    );
    // Field errors name their field.
    for (field, value) in [
        ("slug", json!("Not A Slug")),
        ("slug", json!("google")),
        ("issuer", json!("not a url")),
        ("clientSecret", json!(null)),
    ] {
        let mut b = base.clone();
        b["slug"] = json!("fresh");
        b["instanceName"] = json!(format!("bad {field}"));
        b[field] = value;
        let res = w.owner.post(&path, &b).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], field, "{body}");
    }
    // The secret is never returned; the slug cannot change.
    let props: Vec<Value> = w.owner.get(&path).await.json().await.unwrap();
    let acme = props.iter().find(|p| p["slug"] == "acme").unwrap();
    assert_eq!(acme["clientSecretSet"], true);
    assert!(!acme.to_string().contains(&w.idp.client_secret));
    assert_eq!(acme["scopes"], json!(["openid", "email", "profile"]));
    let mut renamed = base.clone();
    renamed["slug"] = json!("renamed");
    renamed.as_object_mut().unwrap().remove("clientSecret");
    let res = w
        .owner
        .send_json(
            reqwest::Method::PUT,
            &format!("{path}/{}", acme["id"].as_str().unwrap()),
            &renamed,
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["field"], "slug", "{body}");
    // At most 20 providers.
    for i in 1..20 {
        let mut b = base.clone();
        b["slug"] = json!(format!("p{i}"));
        b["instanceName"] = json!(format!("p{i}"));
        assert_eq!(
            w.owner.post(&path, &b).await.status(),
            StatusCode::CREATED,
            "{i}"
        );
    }
    let mut b = base.clone();
    b["slug"] = json!("p20");
    b["instanceName"] = json!("p20");
    let res = w.owner.post(&path, &b).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "limit_reached");
    // An unknown slug on a known application is a page, not a redirect.
    let res = hop(&w.app.provider_login_url(&w.app_id, "nobody", "")).await;
    assert_eq!(
        (res.status, res.location.is_none()),
        (StatusCode::NOT_FOUND, true)
    );
}
