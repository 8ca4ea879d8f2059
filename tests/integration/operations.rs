use fedgate_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness_report_dependencies() {
    let app = spawn_app().await;
    let health = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (body["database"].as_str(), body["stateStore"].as_str()),
        (Some("ok"), Some("ok"))
    );

    app.take_database_down().await;
    let ready = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (body["database"].as_str(), body["stateStore"].as_str()),
        (Some("unreachable"), Some("ok"))
    );
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.address))
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the process is still up"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_that_errors_repeat() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/manage/v1/me", app.address))
        .await
        .unwrap();
    let header = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["requestId"], header.as_str());
    let other = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), header);
    assert_eq!(other.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint_and_the_ui_is_self_hosted() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/manage/v1/signup", &["post"][..]),
        ("/manage/v1/signin", &["post"]),
        ("/manage/v1/signout", &["post"]),
        ("/manage/v1/me", &["get"]),
        ("/manage/v1/applications", &["get", "post"]),
        (
            "/manage/v1/applications/{appId}",
            &["get", "patch", "delete"],
        ),
        (
            "/manage/v1/applications/{appId}/properties",
            &["get", "post"],
        ),
        (
            "/manage/v1/applications/{appId}/properties/{propertyId}",
            &["get", "put", "delete"],
        ),
        (
            "/manage/v1/applications/{appId}/access-keys",
            &["get", "post"],
        ),
        (
            "/manage/v1/applications/{appId}/access-keys/{keyId}",
            &["delete"],
        ),
        ("/manage/v1/applications/{appId}/hosted-services", &["get"]),
        ("/manage/v1/applications/{appId}/events", &["get"]),
        ("/hosted/{appId}/google/login", &["get"]),
        ("/hosted/{appId}/google/callback", &["get"]),
        ("/hosted/{appId}/jwks.json", &["get"]),
        ("/api/v1/application", &["get"]),
        ("/api/v1/login-results/redeem", &["post"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
    ] {
        for m in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(*m)).is_some(),
                "{m} {path} undocumented"
            );
        }
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for s in [
        "session",
        "csrf",
        "accessKeyId",
        "timestamp",
        "nonce",
        "signature",
    ] {
        assert!(schemes.contains_key(s), "{s}");
    }

    let ui = reqwest::get(format!("{}/api-docs/", app.address))
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::OK);
    let html = ui.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for cdn in ["unpkg.com", "cdn.jsdelivr", "cdnjs", "https://"] {
        assert!(!html.contains(cdn), "the UI page loads from {cdn}");
    }
    let init = reqwest::get(format!("{}/api-docs/swagger-initializer.js", app.address))
        .await
        .unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    assert!(init.text().await.unwrap().contains("/openapi.json"));
    let bundle = reqwest::get(format!("{}/api-docs/swagger-ui-bundle.js", app.address))
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK, "assets are served locally");
}
