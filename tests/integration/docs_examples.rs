//! The curl, Python and JavaScript examples of docs/app-api.md, run against a live
//! server: the documentation cannot rot.

use std::process::Command;

use fedgate_tests::spawn_app;

/// The fenced blocks of docs/app-api.md whose info string is `<lang> fedgate-example`.
fn examples(lang: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/app-api.md"))
        .unwrap();
    let fence = format!("```{lang} fedgate-example\n");
    doc.split(&fence)
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap().to_owned())
        .collect()
}

async fn run(lang: &str, program: &str, file_name: &str, args: &[&str]) -> (String, String) {
    let blocks = examples(lang);
    assert_eq!(blocks.len(), 1, "one {lang} example in docs/app-api.md");
    let app = spawn_app().await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Docs").await.id;
    let key = owner.create_key(&app_id).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, &blocks[0]).unwrap();
    let user = format!("docs-{lang}");
    let out = tokio::task::spawn_blocking({
        let (program, args, url, key_id, secret, user) = (
            program.to_owned(),
            args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(),
            app.address.clone(),
            key.key.id.clone(),
            key.secret.clone(),
            user.clone(),
        );
        move || {
            Command::new(program)
                .args(args)
                .arg(&path)
                .env("FEDGATE_URL", url)
                .env("FEDGATE_KEY_ID", key_id)
                .env("FEDGATE_KEY_SECRET", secret)
                .env("FEDGATE_EXAMPLE_USER", user)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{lang} example failed:\n{stdout}\n{stderr}"
    );
    // What the example did is visible through the typed client.
    let created = app.client(&key).get_user(&user).await.unwrap();
    assert_eq!(created.id, user);
    (stdout, created.screen_name.unwrap_or_default())
}

#[tokio::test]
async fn the_curl_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("sh", "bash", "example.sh", &[]).await;
    assert_eq!(name, "From curl");
    assert!(stdout.contains(r#""id":"docs-sh""#), "{stdout}");
}

#[tokio::test]
async fn the_python_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("python", "python3", "example.py", &[]).await;
    assert_eq!(name, "From Python");
    // Found by locator: the query string was signed in canonical form.
    assert!(stdout.contains("docs-python@example.com"), "{stdout}");
}

#[tokio::test]
async fn the_javascript_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("js", "node", "example.mjs", &[]).await;
    assert_eq!(name, "From JavaScript");
    assert!(stdout.contains(r#""active":true"#), "{stdout}");
}

/// The fenced blocks of docs/webhooks.md whose info string is
/// `<lang> fedgate-webhook-example`.
fn webhook_example(lang: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/webhooks.md"))
        .unwrap();
    let fence = format!("```{lang} fedgate-webhook-example\n");
    let blocks: Vec<&str> = doc
        .split(&fence)
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap())
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "one {lang} webhook example in docs/webhooks.md"
    );
    blocks[0].to_owned()
}

/// Runs the `lang` webhook receiver of docs/webhooks.md, points a webhook at it,
/// sends a test event and returns what the receiver printed once it verified it.
async fn receive_with(lang: &str, program: &str, file_name: &str) -> String {
    use fedgate_tests::GoogleWorld;
    let w =
        GoogleWorld::start_with(|s| s.allow_loopback_providers = true, serde_json::json!({})).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let res = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/properties", w.app_id),
            &serde_json::json!({
                "kind": "webhook", "instanceName": "Docs",
                "url": format!("http://127.0.0.1:{port}/"), "eventTypes": ["user.created"],
            }),
        )
        .await;
    let created: serde_json::Value = res.json().await.unwrap();
    let (id, secret) = (
        created["id"].as_str().unwrap().to_owned(),
        created["signingSecret"].as_str().unwrap().to_owned(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, webhook_example(lang)).unwrap();
    let mut child = Command::new(program)
        .arg(&path)
        .env("WEBHOOK_SECRET", &secret)
        .env("WEBHOOK_PORT", port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until the receiver listens, attempts fail and are retried; a created user sends
    // a real event once it does.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let api = w.app.client(&w.owner.create_key(&w.app_id).await);
    api.create_user(&fedgate_wire::users::CreateUserRequest {
        id: Some(format!("docs-{lang}")),
        screen_name: None,
        locators: Vec::new(),
    })
    .await
    .unwrap();
    let mut exited = None;
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if exited.is_none() {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        exited.is_some_and(|s| s.success()),
        "the {lang} receiver did not verify a delivery:\n{stdout}\n{stderr}"
    );
    let list: Vec<serde_json::Value> = w
        .owner
        .get(&format!(
            "/manage/v1/applications/{}/webhooks/{id}/deliveries",
            w.app_id
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["lastStatusCode"], 204, "{list:?}");
    stdout
}

#[tokio::test]
async fn the_python_webhook_receiver_verifies_real_deliveries() {
    let out = receive_with("python", "python3", "receiver.py").await;
    assert!(out.starts_with("verified user.created msg_"), "{out}");
}

#[tokio::test]
async fn the_javascript_webhook_receiver_verifies_real_deliveries() {
    let out = receive_with("js", "node", "receiver.mjs").await;
    assert!(out.starts_with("verified user.created msg_"), "{out}");
}

#[tokio::test]
async fn the_rust_webhook_example_is_the_tested_one_and_verifies_real_deliveries() {
    use fedgate_tests::webhook_verify::verify_webhook;
    let tested = include_str!("../src/webhook_verify.rs");
    assert!(
        tested.contains(&webhook_example("rust")),
        "tests/src/webhook_verify.rs must hold docs/webhooks.md's Rust example verbatim"
    );
    let w = fedgate_tests::GoogleWorld::start_with(
        |s| s.allow_loopback_providers = true,
        serde_json::json!({}),
    )
    .await;
    let hook = fedgate_tests::WebhookReceiver::start().await;
    let created: serde_json::Value = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/properties", w.app_id),
            &serde_json::json!({
                "kind": "webhook", "instanceName": "Docs", "url": hook.url,
                "eventTypes": ["user.created"],
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["signingSecret"].as_str().unwrap();
    let api = w.app.client(&w.owner.create_key(&w.app_id).await);
    api.create_user(&fedgate_wire::users::CreateUserRequest {
        id: Some("docs-rust".into()),
        screen_name: None,
        locators: Vec::new(),
    })
    .await
    .unwrap();
    let r = &hook.wait_for(1).await[0];
    let now = fedgate_tests::unix_now();
    let (id, ts, sig) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    );
    assert_eq!(verify_webhook(secret, &id, &ts, &sig, &r.body, now), Ok(()));
    let mut forged = r.body.clone();
    forged[0] = b' ';
    assert!(verify_webhook(secret, &id, &ts, &sig, &forged, now).is_err());
    assert!(verify_webhook(secret, &id, &ts, &sig, &r.body, now + 600).is_err());
    assert!(verify_webhook(secret, "msg_other", &ts, &sig, &r.body, now).is_err());
}
