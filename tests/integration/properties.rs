use fedgate_tests::{Browser, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn google(secret: Option<&str>) -> Value {
    let mut v = json!({
        "kind": "google_oauth_credentials",
        "instanceName": "main",
        "clientId": "1234-abc.apps.googleusercontent.com",
        "projectNumber": "1234567890",
        "applicationName": "Chat"
    });
    if let Some(s) = secret {
        v["clientSecret"] = json!(s);
    }
    v
}

fn integration(uris: &[&str]) -> Value {
    json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": uris})
}

async fn props(b: &Browser, app_id: &str) -> Vec<Value> {
    b.get(&format!("/manage/v1/applications/{app_id}/properties"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn google_credentials_are_stored_and_the_secret_never_comes_back() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/properties", a.id);
    let secret = "GOCSPX-very-secret-value";

    let res = b.post(&path, &google(Some(secret))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(!text.contains(secret), "secret echoed: {text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["kind"], "google_oauth_credentials");
    assert_eq!(created["clientSecretSet"], true);
    assert_eq!(created["clientId"], "1234-abc.apps.googleusercontent.com");
    assert_eq!(created["projectNumber"], "1234567890");
    let id = created["id"].as_str().unwrap();

    for read in [path.clone(), format!("{path}/{id}")] {
        let text = b.get(&read).await.text().await.unwrap();
        assert!(
            !text.contains(secret) && text.contains("\"clientSecretSet\":true"),
            "{text}"
        );
    }
    let stored: Vec<u8> = {
        use sea_orm::EntityTrait;
        let row = fedgate_storage::entity::property::Entity::find_by_id(
            uuid::Uuid::parse_str(id).unwrap(),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
        row.sealed_secret.unwrap()
    };
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "secret stored in clear"
    );
}

#[tokio::test]
async fn updating_without_a_secret_keeps_it_and_with_one_replaces_it() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let base = format!("/manage/v1/applications/{}/properties", a.id);
    let created: Value = b
        .post(&base, &google(Some("first-secret")))
        .await
        .json()
        .await
        .unwrap();
    let item = format!("{base}/{}", created["id"].as_str().unwrap());
    let sealed = |app: &fedgate_tests::TestApp, id: String| {
        let db = app.db.clone();
        async move {
            use sea_orm::EntityTrait;
            fedgate_storage::entity::property::Entity::find_by_id(
                uuid::Uuid::parse_str(&id).unwrap(),
            )
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .sealed_secret
        }
    };
    let before = sealed(&app, created["id"].as_str().unwrap().to_owned()).await;

    let mut change = google(None);
    change["instanceName"] = json!("renamed");
    let res = b.send_json(Method::PUT, &item, &change).await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        (
            updated["instanceName"].as_str(),
            updated["clientSecretSet"].as_bool()
        ),
        (Some("renamed"), Some(true))
    );
    assert_eq!(
        sealed(&app, created["id"].as_str().unwrap().to_owned()).await,
        before,
        "secret kept"
    );

    assert_eq!(
        b.send_json(Method::PUT, &item, &google(Some("second-secret")))
            .await
            .status(),
        StatusCode::OK
    );
    assert_ne!(
        sealed(&app, created["id"].as_str().unwrap().to_owned()).await,
        before,
        "secret replaced"
    );

    let res = b
        .send_json(
            Method::PUT,
            &item,
            &integration(&["https://a.example.com/cb"]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "kind_mismatch");
}

#[tokio::test]
async fn google_credentials_need_a_secret_and_valid_fields() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/properties", a.id);
    let cases = [
        (google(None), "clientSecret"),
        (
            {
                let mut g = google(Some("s"));
                g["clientId"] = json!("");
                g
            },
            "clientId",
        ),
        (
            {
                let mut g = google(Some("s"));
                g["clientId"] = json!("has space");
                g
            },
            "clientId",
        ),
        (
            {
                let mut g = google(Some("s"));
                g["projectNumber"] = json!("12ab");
                g
            },
            "projectNumber",
        ),
        (
            {
                let mut g = google(Some("s"));
                g["instanceName"] = json!(" ");
                g
            },
            "instanceName",
        ),
    ];
    for (body, field) in cases {
        let res = b.post(&path, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(
            (err["code"].as_str(), err["field"].as_str()),
            (Some("validation_failed"), Some(field)),
            "{err}"
        );
    }
    assert!(props(&b, &a.id).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn every_unsafe_redirect_uri_is_rejected_with_a_reason_and_nothing_stored() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/properties", a.id);
    let cases: [(&[&str], &str, &str); 10] = [
        (&["/relative/cb"], "redirectUris[0]", "absolute"),
        (&["http://app.example.com/cb"], "redirectUris[0]", "https"),
        (
            &["https://app.example.com/cb#x"],
            "redirectUris[0]",
            "fragment",
        ),
        (&["https://*.example.com/cb"], "redirectUris[0]", "wildcard"),
        (
            &["https://app.example.com/*"],
            "redirectUris[0]",
            "wildcard",
        ),
        (
            &["https://u:p@app.example.com/cb"],
            "redirectUris[0]",
            "user information",
        ),
        (&["custom-scheme:/cb"], "redirectUris[0]", "host"),
        (
            &["https://ok.example.com/cb", "ftp://files.example.com/"],
            "redirectUris[1]",
            "https",
        ),
        (
            &["https://ok.example.com/cb", "https://ok.example.com/cb"],
            "redirectUris[1]",
            "twice",
        ),
        (&[], "redirectUris", "at least one"),
    ];
    for (uris, field, reason) in cases {
        let res = b.post(&path, &integration(uris)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{uris:?}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["field"], field, "{uris:?}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(reason),
            "{uris:?}: {err}"
        );
    }
    assert!(props(&b, &a.id).await.is_empty(), "nothing stored");

    let ok = [
        "https://app.example.com/auth/callback?x=1",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
    ];
    let res = b.post(&path, &integration(&ok)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["redirectUris"], json!(ok), "exact strings kept");
    assert_eq!(created["resultDelivery"], "query");
    assert_eq!(created["autoCreateUsers"], true);
    assert_eq!(created["requireStateSigning"], false);
}

#[tokio::test]
async fn integration_settings_round_trip_and_one_of_each_kind_per_application() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/properties", a.id);
    let body = json!({
        "kind": "oauth_integration", "instanceName": "backend", "redirectUris": ["https://app.example.com/cb"],
        "requireStateSigning": true, "resultDelivery": "code", "autoCreateUsers": false
    });
    let created: Value = b.post(&path, &body).await.json().await.unwrap();
    assert_eq!(created["requireStateSigning"], true);
    assert_eq!(created["resultDelivery"], "code");
    assert_eq!(created["autoCreateUsers"], false);

    let res = b
        .post(&path, &integration(&["https://other.example.com/cb"]))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "property_exists");
    assert_eq!(
        b.post(&path, &google(Some("s"))).await.status(),
        StatusCode::CREATED
    );
    let res = b.post(&path, &google(Some("s2"))).await;
    assert_eq!(error_code(res).await, "property_exists");
    assert_eq!(props(&b, &a.id).await.len(), 2);

    let item = format!("{path}/{}", created["id"].as_str().unwrap());
    assert_eq!(b.delete(&item).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.get(&item).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(b.delete(&item).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(props(&b, &a.id).await.len(), 1);
}
