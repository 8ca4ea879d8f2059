use fedgate_tests::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_bodies_get_stable_codes_and_write_nothing() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let props = format!("/manage/v1/applications/{}/properties", a.id);
    let send = |path: &str, ctype: &str, body: Vec<u8>| {
        b.request(Method::POST, path)
            .header("content-type", ctype)
            .body(body)
            .send()
    };

    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        ("/manage/v1/applications", "application/json", b"{\"name\":".to_vec(), StatusCode::BAD_REQUEST, "malformed_json"),
        ("/manage/v1/applications", "application/json", b"not json".to_vec(), StatusCode::BAD_REQUEST, "malformed_json"),
        ("/manage/v1/applications", "text/plain", b"{\"name\":\"x\"}".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("/manage/v1/applications", "application/x-www-form-urlencoded", b"name=x".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("/manage/v1/applications", "application/json", b"{\"name\":\"x\",\"admin\":true}".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("/manage/v1/applications", "application/json", b"{\"name\":5}".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        ("/manage/v1/applications", "application/json", b"[]".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        (
            "/manage/v1/applications",
            "application/json",
            serde_json::to_vec(&json!({"name": "x".repeat(70_000)})).unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (&props, "application/json", b"{\"kind\":\"smtp\",\"instanceName\":\"x\"}".to_vec(), StatusCode::BAD_REQUEST, "invalid_body"),
        (
            &props,
            "application/json",
            b"{\"kind\":\"oauth_integration\",\"instanceName\":\"x\",\"redirectUris\":[\"https://a.example.com/cb\"],\"extra\":1}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (path, ctype, body, status, code) in cases {
        let res = send(path, ctype, body).await.unwrap();
        assert_eq!(res.status(), status, "{path} {ctype}");
        assert_eq!(error_code(res).await, code, "{path} {ctype}");
    }
    let apps: Vec<Value> = b.get("/manage/v1/applications").await.json().await.unwrap();
    assert_eq!(apps.len(), 1, "only the app created on purpose exists");
    assert_eq!(app.count_rows().await, (0, 0));
}

#[tokio::test]
async fn unknown_routes_and_malformed_ids_are_json_404s() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    for path in [
        "/manage/v1/nothing-here",
        "/manage/v1/applications/not-a-uuid",
        "/manage/v1/applications/not-a-uuid/properties",
        "/api/v1/nothing-here",
        "/definitely/not/a/route",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(res).await, "not_found", "{path}");
    }
    let a = b.create_app("Chat").await;
    let res = b
        .get(&format!("/manage/v1/applications/{}/properties/123", a.id))
        .await;
    assert_eq!(error_code(res).await, "not_found");
    let res = b
        .delete(&format!(
            "/manage/v1/applications/{}/access-keys/fgk_nope",
            a.id
        ))
        .await;
    assert_eq!(error_code(res).await, "not_found");
}

#[tokio::test]
async fn oversized_signed_bodies_are_refused() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let big = json!({"blob": "x".repeat(70_000)});
    let res = app
        .signer(&k.key.id, &k.secret)
        .send(Method::GET, "/api/v1/application", Some(&big))
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(res).await, "payload_too_large");
}
