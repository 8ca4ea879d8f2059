use fedgate_tests::{TestApp, error_code, spawn_app, spawn_app_with};
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

/// A sign-in from `address` (through a proxy the server trusts).
async fn sign_in_from(
    app: &TestApp,
    address: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/manage/v1/signin", app.address))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

const ATTACKER: &str = "198.51.100.7";
const OWNER: &str = "203.0.113.9";

#[tokio::test]
async fn failures_from_one_address_wait_longer_but_never_lock_the_owner_out() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.browser()
        .sign_up("eve-target@example.com", PASSWORD)
        .await;
    for _ in 0..5 {
        let res = sign_in_from(
            &app,
            ATTACKER,
            "eve-target@example.com",
            "guess guess guess",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The attacker's address now waits, even with the right password…
    let res = sign_in_from(&app, ATTACKER, "Eve-Target@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "2", "the first wait is short");
    assert_eq!(error_code(res).await, "too_many_requests");
    // …the owner, elsewhere, signs in at once.
    let res = sign_in_from(&app, OWNER, "eve-target@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // After the wait, one more attempt; failing it doubles the wait.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let res = sign_in_from(
        &app,
        ATTACKER,
        "eve-target@example.com",
        "guess again guess",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = sign_in_from(&app, ATTACKER, "eve-target@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "4");
}

/// `n` parallel wrong guesses at `email` from the attacker's address: how many were
/// checked (401); every other one must be refused (429).
async fn parallel_guesses(app: &TestApp, email: &str, n: usize) -> usize {
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..n {
        let url = format!("{}/manage/v1/signin", app.address);
        let body = json!({"email": email, "password": format!("guess number {i}")});
        tries.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", ATTACKER)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = tries.join_all().await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    let checked = count(StatusCode::UNAUTHORIZED);
    assert_eq!(
        checked + count(StatusCode::TOO_MANY_REQUESTS),
        n,
        "{statuses:?}"
    );
    checked
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_runs_at_most_the_free_attempts() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        // The pair's limits are under test, not the address's.
        s.limits.signin_failures_per_address = 1000;
    })
    .await;
    app.browser().sign_up("burst@example.com", PASSWORD).await;
    let checked = parallel_guesses(&app, "burst@example.com", 200).await;
    assert!(checked <= 5, "{checked} passwords were checked");
    // After the wait, a second burst gets one check: the turn goes to one of them.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let checked = parallel_guesses(&app, "burst@example.com", 30).await;
    assert_eq!(checked, 1, "passwords checked in a burst after the wait");
    // The owner still gets in from elsewhere.
    let res = sign_in_from(&app, OWNER, "burst@example.com", PASSWORD).await;
    let status = res.status();
    assert_eq!(status, StatusCode::OK, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn a_daily_ceiling_slows_guessing_spread_over_addresses() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.limits.signin_failures_per_account_per_day = 3;
    })
    .await;
    app.browser().sign_up("spread@example.com", PASSWORD).await;
    app.browser()
        .sign_up("bystander@example.com", PASSWORD)
        .await;
    for n in 1..=3 {
        let res = sign_in_from(
            &app,
            &format!("198.51.100.{n}"),
            "spread@example.com",
            "guess guess guess",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Past the ceiling, an address that failed for this account waits…
    let res = sign_in_from(&app, "198.51.100.1", "spread@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // …one that has not failed may still sign in with the right password.
    let res = sign_in_from(&app, OWNER, "spread@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Other accounts are not affected.
    let res = sign_in_from(&app, "198.51.100.1", "bystander@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
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

#[tokio::test]
async fn over_https_the_session_cookie_carries_the_host_prefix() {
    let app =
        spawn_app_with(|s| s.public_base_url = Some("https://fedgate.example".parse().unwrap()))
            .await;
    let res = reqwest::Client::new()
        .post(format!("{}/manage/v1/signup", app.address))
        .header("origin", "https://fedgate.example")
        .json(&json!({"email": "host@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-fedgate_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // Over plain http (local development) the plain name.
    let local = spawn_app().await;
    let res = reqwest::Client::new()
        .post(format!("{}/manage/v1/signup", local.address))
        .json(&json!({"email": "plain@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("fedgate_session=")
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_does_not_change_the_bucket() {
    // No trusted proxy: the peer is the client, whatever X-Forwarded-For says.
    let app = spawn_app().await;
    app.browser().sign_up("spoof@example.com", PASSWORD).await;
    for n in 1..=5 {
        let res = sign_in_from(
            &app,
            &format!("198.51.100.{n}"),
            "spoof@example.com",
            "guess guess guess",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = sign_in_from(&app, OWNER, "spoof@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one bucket: the peer's"
    );

    // Behind a trusted proxy, the left-most value is the client's own writing: the
    // right-most untrusted address counts.
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.browser().sign_up("spoof@example.com", PASSWORD).await;
    for _ in 0..5 {
        let res = sign_in_from(
            &app,
            &format!("{OWNER}, {ATTACKER}"),
            "spoof@example.com",
            "guess guess guess",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = sign_in_from(
        &app,
        &format!("{OWNER}, {ATTACKER}"),
        "spoof@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "still the attacker's bucket"
    );
    let res = sign_in_from(&app, OWNER, "spoof@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}
