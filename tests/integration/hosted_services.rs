use fedgate_tests::spawn_app_with;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn tile(b: &fedgate_tests::Browser, app_id: &str) -> Value {
    let res = b
        .get(&format!("/manage/v1/applications/{app_id}/hosted-services"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Vec<Value> = res.json().await.unwrap();
    assert_eq!(list.len(), 1);
    list.into_iter().next().unwrap()
}

fn codes(t: &Value) -> Vec<&str> {
    t["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn google_service_turns_active_with_both_properties_and_back() {
    let app = spawn_app_with(|s| {
        s.public_base_url = Some("https://login.example.com/fg".parse().unwrap())
    })
    .await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/properties", a.id);

    let t = tile(&b, &a.id).await;
    assert_eq!(t["name"], "Google Authentication Service");
    assert_eq!(t["providerRedirectUriLabel"], "Google Redirect URI");
    assert_eq!(t["loginEndpointLabel"], "Google OAuth endpoint");
    assert_eq!(
        t["providerRedirectUri"],
        format!(
            "https://login.example.com/fg/hosted/{}/google/callback",
            a.id
        )
    );
    assert_eq!(
        t["loginEndpoint"],
        format!("https://login.example.com/fg/hosted/{}/google/login", a.id)
    );
    assert_eq!(t["status"], "INACTIVE");
    assert_eq!(
        codes(&t),
        ["missing_google_credentials", "missing_oauth_integration"]
    );
    assert_eq!(t["reasons"][0]["propertyKind"], "google_oauth_credentials");
    assert!(
        t["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Google › Credentials › OAuth Credentials")
    );

    let creds: Value = b
        .post(&path, &json!({"kind": "google_oauth_credentials", "instanceName": "g", "clientId": "id", "clientSecret": "s"}))
        .await
        .json()
        .await
        .unwrap();
    let t = tile(&b, &a.id).await;
    assert_eq!(
        (t["status"].as_str(), codes(&t)),
        (Some("INACTIVE"), vec!["missing_oauth_integration"])
    );

    b.post(&path, &json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": ["https://app.example.com/cb"]})).await;
    let t = tile(&b, &a.id).await;
    assert_eq!(t["status"], "ACTIVE");
    assert!(codes(&t).is_empty());

    b.delete(&format!("{path}/{}", creds["id"].as_str().unwrap()))
        .await;
    let t = tile(&b, &a.id).await;
    assert_eq!(
        (t["status"].as_str(), codes(&t)),
        (Some("INACTIVE"), vec!["missing_google_credentials"])
    );
}

#[tokio::test]
async fn a_client_secret_copied_from_another_row_cannot_be_decrypted() {
    let app = fedgate_tests::spawn_app().await;
    let b = app.subscriber().await;
    let mut ids = Vec::new();
    let mut apps = Vec::new();
    for (name, secret) in [("A", "secret-of-a"), ("B", "secret-of-b")] {
        let a = b.create_app(name).await;
        let path = format!("/manage/v1/applications/{}/properties", a.id);
        let p: Value = b
            .post(&path, &json!({"kind": "google_oauth_credentials", "instanceName": "g", "clientId": "id", "clientSecret": secret}))
            .await
            .json()
            .await
            .unwrap();
        b.post(&path, &json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": ["https://app.example.com/cb"]})).await;
        assert_eq!(tile(&b, &a.id).await["status"], "ACTIVE");
        ids.push(p["id"].as_str().unwrap().to_owned());
        apps.push(a);
    }
    app.copy_property_secret(&ids[0], &ids[1]).await;
    assert_eq!(
        tile(&b, &apps[0].id).await["status"],
        "ACTIVE",
        "the source row is untouched"
    );
    let t = tile(&b, &apps[1].id).await;
    assert_eq!(
        (t["status"].as_str(), codes(&t)),
        (Some("INACTIVE"), vec!["unreadable_client_secret"])
    );
    assert_eq!(t["reasons"][0]["propertyId"], ids[1].as_str());
}
