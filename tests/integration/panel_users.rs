//! The management API's view of an application's users, as the panel uses it: search,
//! user detail, federated identities and their link changes, user tokens.

use fedgate_tests::{GoogleWorld, Person, error_code};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_subscriber_finds_a_user_and_manages_its_identities_and_tokens() {
    let w = GoogleWorld::start(json!({})).await;
    w.google.add("ann", Person::gmail("ann"));
    let login = w
        .app
        .google_login(&w.app_id, "login_hint=ann")
        .await
        .params();
    let (fid, user) = (&login["federatedUserId"], &login["linkedUser"]);
    let base = format!("/manage/v1/applications/{}", w.app_id);

    // Search by locator and by id; a miss is an empty list, not an error.
    let by_email = json_of(
        w.owner
            .get(&format!("{base}/users?locator=email:ann@gmail.com"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_email["users"][0]["id"], user.as_str());
    let by_id = json_of(
        w.owner.get(&format!("{base}/users?ids={user}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_id["users"][0]["locators"][0]["value"], "ann@gmail.com");
    let miss = json_of(
        w.owner
            .get(&format!("{base}/users?locator=email:nobody@example.com"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(miss["users"], json!([]));
    let listed = json_of(w.owner.get(&format!("{base}/users")).await, StatusCode::OK).await;
    assert_eq!(listed["users"].as_array().unwrap().len(), 1);

    let detail = json_of(
        w.owner.get(&format!("{base}/users/{user}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["id"], user.as_str());
    let identities = json_of(
        w.owner
            .get(&format!("{base}/users/{user}/federated-users"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        identities["federatedUsers"][0]["federatedUserId"],
        fid.as_str()
    );
    assert_eq!(identities["federatedUsers"][0]["linkState"], "linked");

    // The login's autoLoginToken is listed; the panel never sees a token itself.
    let tokens = json_of(
        w.owner.get(&format!("{base}/users/{user}/tokens")).await,
        StatusCode::OK,
    )
    .await;
    let token_id = tokens["tokens"][0]["tokenId"].as_str().unwrap().to_owned();
    assert!(!tokens.to_string().contains(&login["autoLoginToken"]));

    // Link changes: unlink, link back, detach — each recorded as done in the panel.
    let path = format!("{base}/federated-users/{fid}");
    let unlinked = json_of(
        w.owner.post(&format!("{path}/unlink"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unlinked["federatedUser"]["linkState"], "unlinked");
    let again = w.owner.post(&format!("{path}/unlink"), &json!({})).await;
    assert_eq!(error_code(again).await, "federated_user_not_linked");
    let linked = json_of(
        w.owner
            .post(&format!("{path}/link"), &json!({"userId": user}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(linked["federatedUser"]["linkedUser"], user.as_str());
    assert_eq!(linked["userToken"], Value::Null, "the panel gets no token");
    let no_token_asked = w
        .owner
        .post(
            &format!("{path}/link"),
            &json!({"userId": user, "issueToken": true}),
        )
        .await;
    assert_eq!(error_code(no_token_asked).await, "invalid_body");
    let detached = json_of(
        w.owner.post(&format!("{path}/detach"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detached["federatedUser"]["detachedFrom"], user.as_str());
    let got = json_of(w.owner.get(&path).await, StatusCode::OK).await;
    assert_eq!(got["linkState"], "detached");
    let events = w
        .owner
        .events(&w.app_id, "?kind=federated_user_detached")
        .await;
    assert!(
        events[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("in the panel by subscriber"),
        "{events:?}"
    );

    // Tokens: one, then all.
    let one = json_of(
        w.owner
            .delete(&format!("{base}/users/{user}/tokens/{token_id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["revoked"], 1);
    let listed = json_of(
        w.owner.get(&format!("{base}/users/{user}/tokens")).await,
        StatusCode::OK,
    )
    .await;
    assert!(listed["tokens"][0]["revokedAt"].is_string());
    let all = json_of(
        w.owner.delete(&format!("{base}/users/{user}/tokens")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["revoked"], 0, "nothing left to revoke");
}

#[tokio::test]
async fn another_subscriber_and_a_missing_csrf_token_change_nothing() {
    let w = GoogleWorld::start(json!({})).await;
    w.google.add("bob", Person::gmail("bob"));
    let login = w
        .app
        .google_login(&w.app_id, "login_hint=bob")
        .await
        .params();
    let (fid, user) = (&login["federatedUserId"], &login["linkedUser"]);
    let base = format!("/manage/v1/applications/{}", w.app_id);
    let stranger = w.app.subscriber().await;
    for path in [
        format!("{base}/users"),
        format!("{base}/users/{user}"),
        format!("{base}/users/{user}/federated-users"),
        format!("{base}/users/{user}/tokens"),
        format!("{base}/federated-users/{fid}"),
    ] {
        let res = stranger.get(&path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for (method, path) in [
        (Method::POST, format!("{base}/federated-users/{fid}/unlink")),
        (Method::POST, format!("{base}/federated-users/{fid}/detach")),
        (Method::DELETE, format!("{base}/users/{user}/tokens")),
    ] {
        let res = stranger.send_json(method.clone(), &path, &json!({})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let mut no_csrf = w.app.browser();
        no_csrf.client = w.owner.client.clone();
        let res = no_csrf.send_json(method, &path, &json!({})).await;
        assert_eq!(error_code(res).await, "csrf_token_invalid", "{path}");
    }
    let f = json_of(
        w.owner.get(&format!("{base}/federated-users/{fid}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(f["linkState"], "linked");
    let tokens = json_of(
        w.owner.get(&format!("{base}/users/{user}/tokens")).await,
        StatusCode::OK,
    )
    .await;
    assert!(tokens["tokens"][0]["revokedAt"].is_null());
}
