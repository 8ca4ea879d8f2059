use fedgate_tests::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn applications_can_be_created_listed_renamed_and_deleted() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let first = b.create_app("  Chat  ").await;
    assert_eq!(first.name, "Chat", "names are trimmed");
    let second = b.create_app("Shop").await;

    let list: Vec<Value> = b.get("/manage/v1/applications").await.json().await.unwrap();
    let names: Vec<&str> = list.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Chat", "Shop"]);

    let res = b
        .send_json(
            Method::PATCH,
            &format!("/manage/v1/applications/{}", first.id),
            &json!({"name": "Chat 2"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "Chat 2");
    let fetched: Value = b
        .get(&format!("/manage/v1/applications/{}", first.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["name"], "Chat 2");

    assert_eq!(
        b.delete(&format!("/manage/v1/applications/{}", second.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        b.get(&format!("/manage/v1/applications/{}", second.id))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.delete(&format!("/manage/v1/applications/{}", second.id))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn application_names_are_validated() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    for bad in ["", "   ", &"x".repeat(101), "tab\there"] {
        let res = b
            .post("/manage/v1/applications", &json!({"name": bad}))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "name");
    }
    let a = b.create_app("ok").await;
    let res = b
        .send_json(
            Method::PATCH,
            &format!("/manage/v1/applications/{}", a.id),
            &json!({"name": ""}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Vec<Value> = b.get("/manage/v1/applications").await.json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "ok");
}

#[tokio::test]
async fn deleting_an_application_removes_its_properties_and_keys() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Doomed").await;
    let res = b
        .post(
            &format!("/manage/v1/applications/{}/properties", a.id),
            &json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": ["https://app.example.com/cb"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let key = b.create_key(&a.id).await;
    let signer = app.signer(&key.key.id, &key.secret);
    assert_eq!(
        signer
            .send(Method::GET, "/api/v1/application", None)
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        b.delete(&format!("/manage/v1/applications/{}", a.id))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = signer.send(Method::GET, "/api/v1/application", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "access_key_unknown");
    assert_eq!(
        app.count_rows().await,
        (0, 0),
        "properties and keys left behind"
    );
}
