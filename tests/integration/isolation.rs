use fedgate_tests::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn another_subscriber_can_neither_see_nor_change_anything() {
    let app = spawn_app().await;
    let owner = app.subscriber().await;
    let a = owner.create_app("Private").await;
    let base = format!("/manage/v1/applications/{}", a.id);
    let prop: Value = owner
        .post(&format!("{base}/properties"), &json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": ["https://a.example.com/cb"]}))
        .await
        .json()
        .await
        .unwrap();
    let prop_path = format!("{base}/properties/{}", prop["id"].as_str().unwrap());
    let key = owner.create_key(&a.id).await;
    let key_path = format!("{base}/access-keys/{}", key.key.id);

    let intruder = app.subscriber().await;
    let integration = json!({"kind": "oauth_integration", "instanceName": "evil", "redirectUris": ["https://evil.example.com/cb"]});
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, base.clone(), None),
        (Method::PATCH, base.clone(), Some(json!({"name": "pwned"}))),
        (Method::DELETE, base.clone(), None),
        (Method::GET, format!("{base}/properties"), None),
        (
            Method::POST,
            format!("{base}/properties"),
            Some(integration.clone()),
        ),
        (Method::GET, prop_path.clone(), None),
        (Method::PUT, prop_path.clone(), Some(integration)),
        (Method::DELETE, prop_path.clone(), None),
        (Method::GET, format!("{base}/access-keys"), None),
        (Method::POST, format!("{base}/access-keys"), None),
        (Method::DELETE, key_path.clone(), None),
        (Method::GET, format!("{base}/hosted-services"), None),
    ];
    for (method, path, body) in attempts {
        let mut rb = intruder.request(method.clone(), &path);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(error_code(res).await, "not_found");
    }
    let listed: Vec<Value> = intruder
        .get("/manage/v1/applications")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.is_empty());

    // Everything is as the owner left it.
    let mine: Value = owner.get(&base).await.json().await.unwrap();
    assert_eq!(mine["name"], "Private");
    let p: Value = owner.get(&prop_path).await.json().await.unwrap();
    assert_eq!(p["instanceName"], "web");
    let keys: Vec<Value> = owner
        .get(&format!("{base}/access-keys"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0]["revokedAt"].is_null());
    assert_eq!(
        app.signer(&key.key.id, &key.secret)
            .send(Method::GET, "/api/v1/application", None)
            .await
            .status(),
        StatusCode::OK
    );
}
