use fedgate_tests::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn a_key_secret_is_shown_once_and_listing_shows_use() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/access-keys", a.id);
    let res = b.request(Method::POST, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let key_id = created["key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("fgs_") && secret.len() >= 40);
    assert!(key_id.starts_with("fgk_"));

    let text = b.get(&path).await.text().await.unwrap();
    assert!(!text.contains(&secret), "secret listed: {text}");
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], key_id.as_str());
    assert!(list[0]["lastUsedAt"].is_null() && list[0]["revokedAt"].is_null());
    assert!(list[0].get("secret").is_none());

    let signer = app.signer(&key_id, &secret);
    assert_eq!(
        signer
            .send(Method::GET, "/api/v1/application", None)
            .await
            .status(),
        StatusCode::OK
    );
    let list: Vec<Value> = b.get(&path).await.json().await.unwrap();
    assert!(
        list[0]["lastUsedAt"].is_string(),
        "use recorded: {}",
        list[0]
    );
}

#[tokio::test]
async fn at_most_five_keys_are_active_and_revoking_frees_a_slot() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/access-keys", a.id);
    let mut keys = Vec::new();
    for _ in 0..5 {
        keys.push(b.create_key(&a.id).await);
    }
    let res = b.request(Method::POST, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "access_key_limit");

    let res = b.delete(&format!("{path}/{}", keys[0].key.id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let revoked: Value = res.json().await.unwrap();
    assert!(revoked["revokedAt"].is_string());
    assert_eq!(
        b.request(Method::POST, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let list: Vec<Value> = b.get(&path).await.json().await.unwrap();
    assert_eq!(list.len(), 6);
    assert_eq!(list.iter().filter(|k| k["revokedAt"].is_null()).count(), 5);
}

#[tokio::test]
async fn concurrent_creations_cannot_exceed_the_limit() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let path = format!("/manage/v1/applications/{}/access-keys", a.id);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let rb = b.request(Method::POST, &path);
            tokio::spawn(async move { rb.send().await.unwrap().status() })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 5);
    let list: Vec<Value> = b.get(&path).await.json().await.unwrap();
    assert_eq!(list.len(), 5);
}

#[tokio::test]
async fn a_revoked_key_fails_at_once() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let signer = app.signer(&k.key.id, &k.secret);
    assert_eq!(
        signer
            .send(Method::GET, "/api/v1/application", None)
            .await
            .status(),
        StatusCode::OK
    );
    b.delete(&format!(
        "/manage/v1/applications/{}/access-keys/{}",
        a.id, k.key.id
    ))
    .await;
    let res = signer.send(Method::GET, "/api/v1/application", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "access_key_revoked");
}
