//! Webhooks: deliveries written with the change they report, signed as the Standard
//! Webhooks specification says (verified with its reference library), retried with
//! the same `webhook-id`, given up after 24 hours, redelivered and tested from the
//! management API — and delivered once although several instances' workers run.

use fedgate_tests::{GoogleWorld as World, Person, Received, WebhookReceiver};
use fedgate_wire::users::CreateUserRequest;
use reqwest::StatusCode;
use serde_json::{Value, json};
use standardwebhooks::Webhook;

async fn world() -> World {
    World::start_with(|s| s.allow_loopback_providers = true, json!({})).await
}

/// Creates a webhook for `types` at `url`; its id and signing secret.
async fn add_webhook(w: &World, url: &str, types: &[&str]) -> (String, String) {
    let res = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/properties", w.app_id),
            &json!({"kind": "webhook", "instanceName": "Hooks", "url": url, "eventTypes": types}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["signingSecret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(w: &World, webhook: &str) -> Vec<Value> {
    let res = w
        .owner
        .get(&format!(
            "/manage/v1/applications/{}/webhooks/{webhook}/deliveries",
            w.app_id
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Waits until the webhook's deliveries satisfy `done`.
async fn settle(w: &World, webhook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let list = deliveries(w, webhook).await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "deliveries did not settle: {:?}",
        deliveries(w, webhook).await
    );
}

fn user(id: &str) -> CreateUserRequest {
    CreateUserRequest {
        id: Some(id.into()),
        screen_name: None,
        locators: Vec::new(),
    }
}

fn types(received: &[Received]) -> Vec<String> {
    let mut t: Vec<String> = received
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn a_webhook_hears_what_it_subscribed_to_signed_as_standard_webhooks_say() {
    let w = world().await;
    let hook = WebhookReceiver::start().await;
    let (id, secret) = add_webhook(
        &w,
        &hook.url,
        &[
            "user.created",
            "user.deleted",
            "identity.linked",
            "login.succeeded",
        ],
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let shown: Value = w
        .owner
        .get(&format!(
            "/manage/v1/applications/{}/properties/{id}",
            w.app_id
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        shown.get("signingSecret").is_none(),
        "the secret is shown once: {shown}"
    );

    let api = w.app.client(&w.owner.create_key(&w.app_id).await);
    api.create_user(&user("u-1")).await.unwrap();
    w.google.add("ann", Person::gmail("ann"));
    let back = w.app.google_login(&w.app_id, "").await;
    let linked_user = back.params()["linkedUser"].clone();
    api.delete_user("u-1").await.unwrap();
    // A failed login is not subscribed to: nothing for it.
    w.google.with(|s| s.deny = true);
    let _ = w.app.google_login(&w.app_id, "").await;

    hook.wait_for(5).await;
    // Nothing more arrives (the failed login was not subscribed to).
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let received = hook.received();
    assert_eq!(
        types(&received),
        [
            "identity.linked",
            "login.succeeded",
            "user.created",
            "user.created",
            "user.deleted"
        ]
    );
    let verifier = Webhook::new(&secret).unwrap();
    let mut ids = Vec::new();
    for r in &received {
        verifier
            .verify(&r.body, &r.headers)
            .unwrap_or_else(|e| panic!("the reference library refuses {r:?}: {e:?}"));
        let mut forged = r.body.clone();
        forged.push(b' ');
        assert!(verifier.verify(&forged, &r.headers).is_err());
        assert_eq!(r.header("content-type"), "application/json");
        ids.push(r.header("webhook-id"));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "every message has its own id");
    let created_by_login = received
        .iter()
        .map(Received::json)
        .find(|b| b["type"] == "user.created" && b["data"]["userId"] == linked_user.as_str())
        .expect("the login's user.created");
    assert_eq!(created_by_login["data"]["applicationId"], w.app_id.as_str());
    assert_eq!(created_by_login["data"]["outcome"], "new_user");
    assert!(created_by_login["data"]["federatedUserId"].is_string());
    assert!(
        created_by_login["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let list = deliveries(&w, &id).await;
    assert_eq!(list.len(), 5);
    assert!(
        list.iter().all(|d| d["status"] == "delivered"
            && d["attempts"] == 1
            && d["lastStatusCode"] == 204)
    );
}

#[tokio::test]
async fn a_delivery_is_written_with_its_change_and_never_without_it() {
    let w = world().await;
    // Nobody listens there: deliveries stay pending, so what was written is visible.
    let (id, _) = add_webhook(&w, "http://127.0.0.1:9/hook", &["user.created"]).await;
    let api = w.app.client(&w.owner.create_key(&w.app_id).await);
    api.create_user(&user("u-1")).await.unwrap();
    let taken = api.create_user(&user("u-1")).await.unwrap_err();
    assert_eq!(taken.code(), Some("user_id_taken"));
    let list = settle(&w, &id, |l| l.first().is_some_and(|d| d["attempts"] == 1)).await;
    assert_eq!(
        list.len(),
        1,
        "the refused creation wrote no delivery: {list:?}"
    );
    assert_eq!(list[0]["status"], "pending");
    assert!(list[0]["lastStatusCode"].is_null());
    assert!(list[0]["nextAttemptAt"].is_string());
    assert!(!list[0]["lastError"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_with_the_same_id_given_up_after_a_day_and_redelivered() {
    let w = world().await;
    let hook = WebhookReceiver::start().await;
    hook.answer(500);
    let (id, secret) = add_webhook(&w, &hook.url, &["user.created"]).await;
    let api = w.app.client(&w.owner.create_key(&w.app_id).await);
    api.create_user(&user("u-1")).await.unwrap();
    hook.wait_for(1).await;
    let first = settle(&w, &id, |l| l[0]["attempts"] == 1).await;
    assert_eq!(first[0]["status"], "pending");
    assert_eq!(first[0]["lastStatusCode"], 500);
    assert_eq!(first[0]["lastError"], "the endpoint answered HTTP 500");
    // 5 s (± 20 %) later it is tried again.
    w.app.clock.advance(7);
    hook.wait_for(2).await;
    settle(&w, &id, |l| l[0]["attempts"] == 2).await;
    // A day later the next attempt is the last.
    w.app.clock.advance(25 * 3600);
    hook.wait_for(3).await;
    let failed = settle(&w, &id, |l| l[0]["status"] == "failed").await;
    assert_eq!(failed[0]["attempts"], 3);
    assert!(failed[0]["nextAttemptAt"].is_null());

    // Redelivered once the endpoint works again: the same message, the same id.
    hook.answer(200);
    let delivery = failed[0]["id"].as_str().unwrap().to_owned();
    let res = w
        .owner
        .post(
            &format!(
                "/manage/v1/applications/{}/webhooks/{id}/deliveries/{delivery}/redeliver",
                w.app_id
            ),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let received = hook.wait_for(4).await;
    let done = settle(&w, &id, |l| l[0]["status"] == "delivered").await;
    assert_eq!(done[0]["attempts"], 4);
    let ids: Vec<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == delivery), "{ids:?}");
    // Each attempt is signed afresh, over the same body.
    let bodies: Vec<&[u8]> = received.iter().map(|r| r.body.as_slice()).collect();
    assert!(bodies.windows(2).all(|b| b[0] == b[1]));
    let key = fedgate_domain::webhook::secret_key(&secret).unwrap();
    for r in &received {
        let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert_eq!(
            r.header("webhook-signature"),
            fedgate_domain::webhook::signature(&key, &delivery, ts, &r.body)
        );
    }
}

#[tokio::test]
async fn a_test_event_is_delivered_and_a_stranger_sees_no_deliveries() {
    let w = world().await;
    let hook = WebhookReceiver::start().await;
    let (id, secret) = add_webhook(&w, &hook.url, &["token.revoked"]).await;
    let res = w
        .owner
        .post(
            &format!("/manage/v1/applications/{}/webhooks/{id}/test", w.app_id),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let received = hook.wait_for(1).await;
    assert_eq!(received[0].json()["type"], "webhook.test");
    Webhook::new(&secret)
        .unwrap()
        .verify(&received[0].body, &received[0].headers)
        .unwrap();
    let stranger = w.app.subscriber().await;
    for path in [
        format!(
            "/manage/v1/applications/{}/webhooks/{id}/deliveries",
            w.app_id
        ),
        format!(
            "/manage/v1/applications/{}/webhooks/{}/deliveries",
            w.app_id,
            uuid::Uuid::now_v7()
        ),
    ] {
        assert_eq!(stranger.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
    let unknown = w
        .owner
        .post(
            &format!(
                "/manage/v1/applications/{}/webhooks/{id}/deliveries/msg_nope/redeliver",
                w.app_id
            ),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_webhook_url_fedgate_would_never_call_is_refused_when_saved() {
    let w = World::start(json!({})).await;
    let path = format!("/manage/v1/applications/{}/properties", w.app_id);
    for (url, types, field) in [
        ("https://10.0.0.7/hook", json!(["user.created"]), "url"),
        (
            "https://169.254.169.254/latest",
            json!(["user.created"]),
            "url",
        ),
        ("http://hooks.example.com/x", json!(["user.created"]), "url"),
        ("http://127.0.0.1:9/hook", json!(["user.created"]), "url"),
        (
            "https://user:pw@hooks.example.com/x",
            json!(["user.created"]),
            "url",
        ),
        ("https://hooks.example.com/x", json!([]), "eventTypes"),
        (
            "https://hooks.example.com/x",
            json!(["user.made"]),
            "eventTypes",
        ),
        (
            "https://hooks.example.com/x",
            json!(["user.created", "user.created"]),
            "eventTypes",
        ),
    ] {
        let res = w
            .owner
            .post(
                &path,
                &json!({"kind": "webhook", "instanceName": "H", "url": url, "eventTypes": types}),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url} {types}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], field, "{url} {types}: {body}");
    }
    assert!(
        w.owner
            .properties(&w.app_id)
            .await
            .iter()
            .all(|p| p["kind"] != "webhook")
    );
}

#[tokio::test]
async fn with_two_instances_each_message_is_delivered_once() {
    let w = world().await;
    let hook = WebhookReceiver::start().await;
    let (id, _) = add_webhook(&w, &hook.url, &["user.created"]).await;
    let second = w.app.second_instance().await;
    let key = w.owner.create_key(&w.app_id).await;
    let (a, b) = (w.app.client(&key), w.app.client_at(&second, &key));
    for i in 0..20 {
        let api = if i % 2 == 0 { &a } else { &b };
        api.create_user(&user(&format!("u-{i}"))).await.unwrap();
    }
    hook.wait_for(20).await;
    settle(&w, &id, |l| {
        l.len() == 20 && l.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    // Both workers keep looking for a while: still no second delivery of anything.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let received = hook.received();
    let mut ids: Vec<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((received.len(), ids.len()), (20, 20));
}

#[tokio::test]
async fn a_webhook_made_through_one_instance_hears_the_others_within_a_second() {
    let w = world().await;
    let second = w.app.second_instance().await;
    let key = w.owner.create_key(&w.app_id).await;
    let (a, b) = (w.app.client(&key), w.app.client_at(&second, &key));
    // Both instances write an event a webhook could hear, so both have read the
    // application's (empty) subscriptions.
    a.create_user(&user("before-a")).await.unwrap();
    b.create_user(&user("before-b")).await.unwrap();
    let hook = WebhookReceiver::start().await;
    let (id, _) = add_webhook(&w, &hook.url, &["user.created", "user.deleted"]).await;
    let made = std::time::Instant::now();
    // The instance it was made through hears at once.
    a.create_user(&user("on-a")).await.unwrap();
    // Every other one within a second.
    tokio::time::sleep(std::time::Duration::from_secs(1).saturating_sub(made.elapsed())).await;
    b.create_user(&user("on-b")).await.unwrap();
    hook.wait_for(2).await;
    settle(&w, &id, |l| l.len() == 2).await;
    let mut heard: Vec<String> = hook
        .received()
        .iter()
        .map(|r| r.json()["data"]["userId"].as_str().unwrap().to_owned())
        .collect();
    heard.sort();
    assert_eq!(heard, ["on-a", "on-b"]);

    // Deleted through A: B stops within a second too.
    let deleted = w
        .owner
        .delete(&format!(
            "/manage/v1/applications/{}/properties/{id}",
            w.app_id
        ))
        .await;
    assert!(deleted.status().is_success());
    let gone = std::time::Instant::now();
    a.delete_user("on-a").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(1).saturating_sub(gone.elapsed())).await;
    b.delete_user("on-b").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(
        hook.received().len(),
        2,
        "nothing after the webhook was deleted"
    );
}
