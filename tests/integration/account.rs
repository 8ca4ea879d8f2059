use fedgate_tests::{error_code, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn sign_up_starts_a_session_that_me_reports() {
    let app = spawn_app().await;
    let mut b = app.browser();
    let (status, body) = b.sign_up("Ann@Example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["subscriber"]["email"], "Ann@Example.com");
    assert!(body["csrfToken"].as_str().unwrap().len() >= 43);
    assert!(body.get("password").is_none() && body["subscriber"].get("passwordHash").is_none());

    let me = b.get("/manage/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["subscriber"]["id"], body["subscriber"]["id"]);
    assert_eq!(me["csrfToken"], body["csrfToken"]);
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_secure_only_over_https() {
    let app = spawn_app().await;
    let res = app
        .browser()
        .client
        .post(format!("{}/manage/v1/signup", app.address))
        .json(&json!({"email": "a@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("fedgate_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    let https =
        spawn_app_with(|s| s.public_base_url = Some("https://login.example.com".parse().unwrap()))
            .await;
    let res = https
        .browser()
        .client
        .post(format!("{}/manage/v1/signup", https.address))
        .json(&json!({"email": "a@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn sign_up_validates_and_refuses_a_taken_email_in_any_case() {
    let app = spawn_app().await;
    let mut b = app.browser();
    let (status, body) = b.sign_up("not-an-email", PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("validation_failed"), Some("email"))
    );
    let (status, body) = b.sign_up("a@example.com", "short").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "password");

    assert_eq!(
        b.sign_up("a@example.com", PASSWORD).await.0,
        StatusCode::CREATED
    );
    let (status, body) = app
        .browser()
        .sign_up("A@EXAMPLE.com", "another password 123")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "email_taken");
    // The original password still works; the refused sign-up changed nothing.
    assert_eq!(
        app.browser().sign_in("a@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.browser()
            .sign_in("a@example.com", "another password 123")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sign_in_works_case_insensitively_and_wrong_passwords_get_one_message() {
    let app = spawn_app().await;
    app.browser().sign_up("bob@example.com", PASSWORD).await;
    let mut b = app.browser();
    let (status, body) = b.sign_in("BOB@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["subscriber"]["email"], "bob@example.com");
    assert_eq!(b.get("/manage/v1/me").await.status(), StatusCode::OK);

    let (status, wrong) = app
        .browser()
        .sign_in("bob@example.com", "wrong password!!")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, unknown) = app.browser().sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(
        wrong["message"], unknown["message"],
        "must not reveal which accounts exist"
    );
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_per_account() {
    let app = spawn_app().await;
    app.browser()
        .sign_up("eve-target@example.com", PASSWORD)
        .await;
    app.browser()
        .sign_up("bystander@example.com", PASSWORD)
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.browser()
                .sign_in("eve-target@example.com", "guess guess guess")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app
        .browser()
        .client
        .post(format!("{}/manage/v1/signin", app.address))
        .json(&json!({"email": "Eve-Target@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the window"
    );
    assert_eq!(res.headers()["retry-after"], "900");
    assert_eq!(error_code(res).await, "too_many_requests");
    assert_eq!(
        app.browser()
            .sign_in("bystander@example.com", PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let mut b = app.browser();
    let res = b
        .client
        .post(format!("{}/manage/v1/signup", app.address))
        .json(&json!({"email": "c@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    b.csrf = Some(
        res.json::<serde_json::Value>().await.unwrap()["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    let out = b
        .request(reqwest::Method::POST, "/manage/v1/signout")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        error_code(b.get("/manage/v1/me").await).await,
        "not_signed_in"
    );
    // A copy of the old cookie is worthless now.
    let replay = reqwest::Client::new()
        .get(format!("{}/manage/v1/me", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(replay).await, "session_expired");
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let app = spawn_app().await;
    let mut b = app.subscriber().await;
    let good = b.csrf.take();
    let res = b
        .post("/manage/v1/applications", &json!({"name": "x"}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "csrf_token_invalid");
    b.csrf = Some("forged-token".into());
    let res = b
        .post("/manage/v1/applications", &json!({"name": "x"}))
        .await;
    assert_eq!(error_code(res).await, "csrf_token_invalid");
    assert_eq!(
        b.delete("/manage/v1/applications/00000000-0000-0000-0000-000000000000")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let out = b
        .request(reqwest::Method::POST, "/manage/v1/signout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.status(),
        StatusCode::FORBIDDEN,
        "sign-out is state-changing too"
    );

    // Nothing was created, and reads need no token.
    let list: Vec<serde_json::Value> = b.get("/manage/v1/applications").await.json().await.unwrap();
    assert!(list.is_empty());
    b.csrf = good;
    assert_eq!(
        b.post("/manage/v1/applications", &json!({"name": "x"}))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn cross_origin_sign_in_is_refused_but_same_origin_is_fine() {
    let app = spawn_app().await;
    app.browser().sign_up("d@example.com", PASSWORD).await;
    let send = |origin: String| {
        let client = reqwest::Client::new();
        let url = format!("{}/manage/v1/signin", app.address);
        async move {
            client
                .post(url)
                .header("origin", origin)
                .json(&json!({"email": "d@example.com", "password": PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = send("https://evil.example".into()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "cross_origin_request");
    let own = format!(
        "http://localhost:{}",
        app.address.rsplit(':').next().unwrap()
    );
    assert_eq!(send(own).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn management_endpoints_need_a_session() {
    let app = spawn_app().await;
    let anon = app.browser();
    let id = "01a203b1-eaff-7314-a8da-12413dd2f432";
    for path in [
        "/manage/v1/me".to_owned(),
        "/manage/v1/applications".to_owned(),
        format!("/manage/v1/applications/{id}"),
        format!("/manage/v1/applications/{id}/properties"),
        format!("/manage/v1/applications/{id}/access-keys"),
        format!("/manage/v1/applications/{id}/hosted-services"),
    ] {
        let res = anon.get(&path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(error_code(res).await, "not_signed_in");
    }
    let res = anon
        .post("/manage/v1/applications", &json!({"name": "x"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
