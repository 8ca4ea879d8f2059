//! Microsoft Entra multi-tenant sign-in: the `common` endpoint's discovery publishes a
//! templated issuer (`…/{tenantid}/v2.0`) and every ID token carries its own tenant's.
//! A stand-in for Entra serves exactly that on loopback; tokens come from two tenants.

use fedgate_tests::{FakeGoogle, Person, TENANT_A, TENANT_B, TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    app: TestApp,
    entra: FakeGoogle,
    owner: fedgate_tests::Browser,
    app_id: String,
}

impl World {
    async fn start(extra: Value) -> Self {
        let entra = FakeGoogle::start_entra().await;
        let app = spawn_app_with(|s| s.allow_loopback_providers = true).await;
        let owner = app.subscriber().await;
        let app_id = owner.create_app("Chat").await.id;
        owner.add_integration(&app_id, json!({})).await;
        owner.add_oidc(&app_id, &entra, "entra", extra).await;
        Self {
            app,
            entra,
            owner,
            app_id,
        }
    }

    async fn login(&self, hint: &str) -> std::collections::HashMap<String, String> {
        self.app
            .provider_login(&self.app_id, "entra", &format!("login_hint={hint}&state=s"))
            .await
            .params()
    }

    async fn federated(&self, id: &str) -> Value {
        self.owner.federated_user(&self.app_id, id).await
    }

    async fn last_failure(&self) -> String {
        let events = self.owner.events(&self.app_id, "?kind=login_failed").await;
        events[0]["reason"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn people_of_any_tenant_sign_in_each_under_their_tenants_issuer() {
    let w = World::start(json!({})).await;
    let services = w.owner.services(&w.app_id).await;
    let tile = services.iter().find(|s| s["slug"] == "entra").unwrap();
    assert_eq!(tile["status"], "ACTIVE", "{tile}");
    let props = w.owner.properties(&w.app_id).await;
    let entra = props.iter().find(|p| p["slug"] == "entra").unwrap();
    assert_eq!(entra["multiTenant"], true);
    let found: Value = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/discovery-check", w.app_id),
            &json!({"issuer": w.entra.issuer}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["multiTenant"], true);
    assert_eq!(
        found["issuer"],
        format!("{}/{{tenantid}}/v2.0", w.entra.base)
    );

    // The same subject in two tenants is two people.
    let mut ann = Person::at("ann", "contoso.example");
    ann.sub = "same-subject".into();
    w.entra.add("ann", ann);
    let a = w.login("ann").await;
    assert_eq!(a["federationProvider"], "entra", "{a:?}");
    let mut bob = Person::at("bob", "fabrikam.example");
    bob.sub = "same-subject".into();
    w.entra.add("bob", bob);
    w.entra.with(|s| s.tid = Some(TENANT_B.into()));
    let b = w.login("bob").await;
    assert!(b.contains_key("linkedUser"), "{b:?}");
    assert_ne!(a["federatedUserId"], b["federatedUserId"]);
    let fa = w.federated(&a["federatedUserId"]).await;
    let fb = w.federated(&b["federatedUserId"]).await;
    assert_eq!(fa["issuer"], format!("{}/{TENANT_A}/v2.0", w.entra.base));
    assert_eq!(fb["issuer"], format!("{}/{TENANT_B}/v2.0", w.entra.base));
    assert_eq!(w.app.count_people().await, (2, 2));
    // Returning from tenant B is the same person again.
    let again = w.login("bob").await;
    assert_eq!(again["federatedUserId"], b["federatedUserId"]);
}

#[tokio::test]
async fn only_allowed_tenants_sign_in() {
    let w = World::start(json!({"allowedTenants": [TENANT_A.to_uppercase()]})).await;
    assert!(w.login("x").await.contains_key("linkedUser"));
    w.entra.with(|s| s.tid = Some(TENANT_B.into()));
    let p = w.login("y").await;
    assert_eq!(p["error"], "server_error", "{p:?}");
    assert_eq!(w.last_failure().await, "id_token_invalid:tid");
    assert_eq!(w.app.count_people().await, (1, 1), "nothing created");
}

#[tokio::test]
async fn a_token_without_tid_or_naming_another_tenant_is_refused() {
    let w = World::start(json!({})).await;
    w.entra.with(|s| s.tid = None);
    let p = w.login("x").await;
    assert_eq!(p["error"], "server_error");
    assert_eq!(w.last_failure().await, "id_token_invalid:tid");
    // `iss` of tenant B on a token whose `tid` is tenant A.
    w.entra.with(|s| {
        s.tid = Some(TENANT_A.into());
        s.iss_tenant = Some(TENANT_B.into());
    });
    let p = w.login("x").await;
    assert_eq!(p["error"], "server_error");
    assert_eq!(w.last_failure().await, "id_token_invalid:iss");
    // A `tid` that is not a tenant id, with an issuer that spells it.
    w.entra.with(|s| {
        s.tid = Some("not-a-guid".into());
        s.iss_tenant = None;
    });
    let p = w.login("x").await;
    assert_eq!(p["error"], "server_error");
    assert_eq!(w.last_failure().await, "id_token_invalid:tid");
    assert_eq!(w.app.count_people().await, (0, 0));
}

#[tokio::test]
async fn emails_of_multi_tenant_sign_in_can_never_count_as_verified() {
    let w = World::start(json!({})).await;
    let path = format!("/manage/v1/applications/{}/properties", w.app_id);
    let base = json!({"kind": "openid_connect_provider", "instanceName": "x", "slug": "x",
        "displayName": "X", "issuer": w.entra.issuer, "clientId": "c", "clientSecret": "s"});
    let mut trusting = base.clone();
    trusting["verifiesEmails"] = json!(true);
    let res = w.owner.post(&path, &trusting).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["field"], "verifiesEmails");
    assert!(
        body["message"].as_str().unwrap().contains("Entra"),
        "{body}"
    );
    // Tenants are GUIDs, and only for Entra's multi-tenant issuers.
    let mut bad = base.clone();
    bad["allowedTenants"] = json!(["contoso.onmicrosoft.com"]);
    let body: Value = w.owner.post(&path, &bad).await.json().await.unwrap();
    assert_eq!(body["field"], "allowedTenants[0]");
    let mut elsewhere = base;
    elsewhere["issuer"] = json!("https://sso.acme.example");
    elsewhere["allowedTenants"] = json!([TENANT_A]);
    let body: Value = w.owner.post(&path, &elsewhere).await.json().await.unwrap();
    assert_eq!(body["field"], "allowedTenants");
    // A verified address from Entra does not link to the user owning it.
    w.app
        .seed_user(&w.app_id, "ann-user", "ann@contoso.example", true)
        .await;
    w.entra.add("ann", Person::at("ann", "contoso.example"));
    let p = w.login("ann").await;
    assert!(!p.contains_key("linkedUser"), "{p:?}");
    assert_eq!(p["linkCandidates"], "ann-user");
}
