//! The application API for app backends, driven through `fedgate-client`.

use fedgate_client::Client;
use fedgate_client::wire::users::{
    CreateUserRequest, LinkStateDto, LocatorDto, LocatorKindDto, UpdateUserRequest,
};
use fedgate_tests::{GoogleWorld, Person, spawn_app};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

/// A [`GoogleWorld`] with an application-API client of its application.
struct World {
    base: GoogleWorld,
    api: Client,
}

impl std::ops::Deref for World {
    type Target = GoogleWorld;

    fn deref(&self) -> &GoogleWorld {
        &self.base
    }
}

async fn world(integration: Value) -> World {
    let base = GoogleWorld::start(integration).await;
    let api = base.app.client(&base.owner.create_key(&base.app_id).await);
    World { base, api }
}

fn email(value: &str, verified: bool) -> LocatorDto {
    LocatorDto {
        kind: LocatorKindDto::Email,
        value: value.into(),
        verified,
    }
}

fn new_user(id: Option<&str>, locators: Vec<LocatorDto>) -> CreateUserRequest {
    CreateUserRequest {
        id: id.map(Into::into),
        screen_name: Some("Ann Example".into()),
        locators,
    }
}

async fn kinds(w: &World) -> Vec<String> {
    w.owner
        .events(&w.app_id, "")
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_are_created_found_updated_and_deleted() {
    let w = world(json!({})).await;
    let generated = w
        .api
        .create_user(&new_user(None, vec![email("Ann@Example.com", false)]))
        .await
        .unwrap();
    assert_eq!(generated.id.len(), 36, "a UUID: {}", generated.id);
    assert_eq!(generated.screen_name.as_deref(), Some("Ann Example"));
    let chosen = w
        .api
        .create_user(&new_user(Some("bob.smith_1"), vec![]))
        .await
        .unwrap();
    assert_eq!(chosen.id, "bob.smith_1");

    assert_eq!(w.api.get_user("bob.smith_1").await.unwrap(), chosen);
    let found = w.api.find_user("email:ann@EXAMPLE.com").await.unwrap();
    assert_eq!(found.as_ref().map(|u| &u.id), Some(&generated.id));
    assert_eq!(
        w.api.find_user("email:nobody@example.com").await.unwrap(),
        None
    );
    let many = w
        .api
        .get_users(&["bob.smith_1", "no-such-user", &generated.id])
        .await
        .unwrap();
    assert_eq!(many.len(), 2);

    let page = w.api.list_users(None, Some(1)).await.unwrap();
    assert_eq!(page.users.len(), 1);
    let rest = w
        .api
        .list_users(page.next.as_deref(), Some(1))
        .await
        .unwrap();
    assert_eq!(rest.users.len(), 1);
    assert_ne!(rest.users[0].id, page.users[0].id);
    let end = w
        .api
        .list_users(rest.next.as_deref(), Some(1))
        .await
        .unwrap();
    assert!(end.users.is_empty() && end.next.is_none());

    let renamed = w
        .api
        .update_user(
            "bob.smith_1",
            &UpdateUserRequest {
                screen_name: Some(Some("Bob".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.screen_name.as_deref(), Some("Bob"));
    let untouched = w
        .api
        .update_user("bob.smith_1", &UpdateUserRequest::default())
        .await
        .unwrap();
    assert_eq!(untouched.screen_name.as_deref(), Some("Bob"));
    let cleared = w
        .api
        .update_user(
            "bob.smith_1",
            &UpdateUserRequest {
                screen_name: Some(None),
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.screen_name, None);

    w.api.delete_user("bob.smith_1").await.unwrap();
    let gone = w.api.get_user("bob.smith_1").await.unwrap_err();
    assert_eq!((gone.status(), gone.code()), (Some(404), Some("not_found")));
    let again = w.api.delete_user("bob.smith_1").await.unwrap_err();
    assert_eq!(again.status(), Some(404));
    let k = kinds(&w).await;
    assert!(k.contains(&"user_deleted".to_owned()), "{k:?}");
}

#[tokio::test]
async fn locators_are_added_verified_removed_and_unique_per_application() {
    let w = world(json!({})).await;
    w.api
        .create_user(&new_user(
            Some("ann"),
            vec![email("ann@example.com", false)],
        ))
        .await
        .unwrap();
    w.api
        .create_user(&new_user(Some("bob"), vec![]))
        .await
        .unwrap();

    let taken = w
        .api
        .add_locator("bob", &email("ANN@example.com", true))
        .await
        .unwrap_err();
    assert_eq!(
        (taken.status(), taken.code()),
        (Some(409), Some("locator_taken"))
    );
    let dup = w
        .api
        .create_user(&new_user(
            Some("carol"),
            vec![email("ann@example.com", false)],
        ))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("locator_taken"));
    let dup_id = w
        .api
        .create_user(&new_user(Some("ann"), vec![]))
        .await
        .unwrap_err();
    assert_eq!(
        (dup_id.status(), dup_id.code()),
        (Some(409), Some("user_id_taken"))
    );
    assert_eq!(w.app.count_people().await.0, 2, "nothing written");

    let phone = LocatorDto {
        kind: LocatorKindDto::Phone,
        value: "+14155550123".into(),
        verified: false,
    };
    let bob = w.api.add_locator("bob", &phone).await.unwrap();
    assert_eq!(bob.locators, vec![phone.clone()]);
    let bob = w
        .api
        .verify_locator("bob", "phone:+14155550123")
        .await
        .unwrap();
    assert!(bob.locators[0].verified);
    let missing = w
        .api
        .verify_locator("bob", "email:bob@example.com")
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
    let bob = w
        .api
        .remove_locator("bob", "phone:+14155550123")
        .await
        .unwrap();
    assert!(bob.locators.is_empty());
    // Another user's locator cannot be removed through this one.
    let other = w
        .api
        .remove_locator("bob", "email:ann@example.com")
        .await
        .unwrap_err();
    assert_eq!(other.status(), Some(404));
    assert_eq!(w.api.get_user("ann").await.unwrap().locators.len(), 1);
}

/// The reference manual's candidate story, end to end.
#[tokio::test]
async fn an_unverified_match_becomes_a_candidate_the_backend_links_and_the_next_login_signs_in() {
    let w = world(json!({})).await;
    w.api
        .create_user(&new_user(
            Some("existing-ann"),
            vec![email("ann@gmail.com", false)],
        ))
        .await
        .unwrap();
    w.google.add("ann", Person::gmail("ann"));

    let first = w
        .app
        .google_login(&w.app_id, "login_hint=ann")
        .await
        .params();
    assert_eq!(first["linkCandidates"], "existing-ann");
    assert!(!first.contains_key("linkedUser") && !first.contains_key("autoLoginToken"));
    let fid = first["federatedUserId"].clone();
    let f = w.api.federated_user(&fid).await.unwrap();
    assert_eq!(f.link_state, LinkStateDto::Unlinked);
    assert_eq!(f.link_candidates, vec!["existing-ann".to_owned()]);
    assert_eq!(f.federating_service, "GoogleFederationService");
    assert_eq!(f.profile.email.as_deref(), Some("ann@gmail.com"));
    assert!(f.profile.email_trusted);
    assert_eq!(w.app.count_people().await, (1, 1), "nothing created");

    let linked = w.api.link(&fid, "existing-ann", true).await.unwrap();
    assert_eq!(linked.federated_user.link_state, LinkStateDto::Linked);
    assert_eq!(
        linked.federated_user.linked_user.as_deref(),
        Some("existing-ann")
    );
    let token = linked.user_token.expect("a token was asked for");
    let verdict = w.api.verify_token(&token.token).await.unwrap();
    assert!(verdict.active, "{verdict:?}");
    assert_eq!(verdict.user.unwrap().id, "existing-ann");

    let second = w
        .app
        .google_login(&w.app_id, "login_hint=ann")
        .await
        .params();
    assert_eq!(second["linkedUser"], "existing-ann");
    assert_eq!(second["federatedUserId"], fid);
    let auto = w.api.verify_token(&second["autoLoginToken"]).await.unwrap();
    assert!(auto.active);
    let identities = w.api.federated_users_of("existing-ann").await.unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].federated_user_id, fid);
    assert!(
        kinds(&w)
            .await
            .contains(&"federated_user_linked".to_owned())
    );

    let again = w.api.link(&fid, "existing-ann", false).await.unwrap_err();
    assert_eq!(
        (again.status(), again.code()),
        (Some(409), Some("federated_user_linked"))
    );
}

#[tokio::test]
async fn a_deleted_user_is_no_longer_offered_as_a_candidate() {
    let w = world(json!({})).await;
    w.api
        .create_user(&new_user(
            Some("gone_1"),
            vec![email("eve@gmail.com", false)],
        ))
        .await
        .unwrap();
    // `_` is a wildcard in SQL LIKE: a look-alike id must stay a candidate.
    w.api
        .create_user(&new_user(
            Some("gone-1"),
            vec![email("fay@gmail.com", false)],
        ))
        .await
        .unwrap();
    w.google.add("eve", Person::gmail("eve"));
    w.google.add("fay", Person::gmail("fay"));
    let eve = w
        .app
        .google_login(&w.app_id, "login_hint=eve")
        .await
        .params();
    let fay = w
        .app
        .google_login(&w.app_id, "login_hint=fay")
        .await
        .params();
    assert_eq!(eve["linkCandidates"], "gone_1");
    assert_eq!(fay["linkCandidates"], "gone-1");
    w.api.delete_user("gone_1").await.unwrap();
    let f = w.api.federated_user(&eve["federatedUserId"]).await.unwrap();
    assert!(f.link_candidates.is_empty(), "{:?}", f.link_candidates);
    let f = w.api.federated_user(&fay["federatedUserId"]).await.unwrap();
    assert_eq!(f.link_candidates, vec!["gone-1".to_owned()]);
}

#[tokio::test]
async fn unlinking_and_detaching_stop_the_sign_in_until_linked_again() {
    let w = world(json!({})).await;
    w.google.add("dan", Person::gmail("dan"));
    let first = w
        .app
        .google_login(&w.app_id, "login_hint=dan")
        .await
        .params();
    let (fid, user) = (
        first["federatedUserId"].clone(),
        first["linkedUser"].clone(),
    );

    let unlinked = w.api.unlink(&fid).await.unwrap();
    assert_eq!(unlinked.federated_user.link_state, LinkStateDto::Unlinked);
    assert_eq!(unlinked.federated_user.linked_user, None);
    let after_unlink = w
        .app
        .google_login(&w.app_id, "login_hint=dan")
        .await
        .params();
    assert!(
        !after_unlink.contains_key("linkedUser") && !after_unlink.contains_key("autoLoginToken")
    );
    // The user still owns the verified address: offered as the candidate, not linked.
    assert_eq!(after_unlink["linkCandidates"], user);
    assert_eq!(w.app.count_people().await, (1, 1), "no second user");
    let not_linked = w.api.unlink(&fid).await.unwrap_err();
    assert_eq!(not_linked.code(), Some("federated_user_not_linked"));

    w.api.link(&fid, &user, false).await.unwrap();
    let detached = w.api.detach(&fid).await.unwrap();
    assert_eq!(detached.federated_user.link_state, LinkStateDto::Detached);
    assert_eq!(
        detached.federated_user.detached_from.as_deref(),
        Some(user.as_str())
    );
    let after_detach = w
        .app
        .google_login(&w.app_id, "login_hint=dan")
        .await
        .params();
    assert!(
        !after_detach.contains_key("linkedUser") && !after_detach.contains_key("autoLoginToken")
    );
    let after = w.api.federated_user(&fid).await.unwrap();
    assert_eq!(
        (after.link_state, after.detached_from.as_deref()),
        (LinkStateDto::Detached, Some(user.as_str())),
        "a sign-in does not undo a detach, nor forget whom it was detached from"
    );
    assert_eq!(
        w.api.detach(&fid).await.unwrap_err().code(),
        Some("federated_user_detached")
    );
    let relinked = w.api.link(&fid, &user, false).await.unwrap();
    assert_eq!(
        relinked.federated_user.linked_user.as_deref(),
        Some(user.as_str())
    );

    let no_user = w
        .api
        .unlink(&fid)
        .await
        .and(w.api.link(&fid, "ghost", false).await);
    let err = no_user.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("user_not_found"))
    );
    assert_eq!(
        w.api.federated_user(&fid).await.unwrap().link_state,
        LinkStateDto::Unlinked
    );
    let k = kinds(&w).await;
    for kind in [
        "federated_user_unlinked",
        "federated_user_detached",
        "federated_user_linked",
    ] {
        assert!(k.contains(&kind.to_owned()), "{kind} missing from {k:?}");
    }
}

#[tokio::test]
async fn one_user_may_hold_two_identities_of_one_provider_and_deleting_it_unlinks_both() {
    let w = world(json!({})).await;
    w.google.add("p1", Person::gmail("p1"));
    w.google.add("p2", Person::gmail("p2"));
    let one = w
        .app
        .google_login(&w.app_id, "login_hint=p1")
        .await
        .params();
    let two = w
        .app
        .google_login(&w.app_id, "login_hint=p2")
        .await
        .params();
    w.api.unlink(&two["federatedUserId"]).await.unwrap();
    w.api
        .link(&two["federatedUserId"], &one["linkedUser"], false)
        .await
        .unwrap();
    let both = w.api.federated_users_of(&one["linkedUser"]).await.unwrap();
    assert_eq!(both.len(), 2, "allowed and visible");

    let token = w.api.issue_token(&one["linkedUser"], None).await.unwrap();
    w.api.delete_user(&one["linkedUser"]).await.unwrap();
    for fid in [&one["federatedUserId"], &two["federatedUserId"]] {
        let f = w.api.federated_user(fid).await.unwrap();
        assert_eq!(
            (f.link_state, f.linked_user),
            (LinkStateDto::Unlinked, None)
        );
    }
    let verdict = w.api.verify_token(&token.token).await.unwrap();
    assert_eq!(
        (verdict.active, verdict.reason.as_deref()),
        (false, Some("revoked"))
    );
}

#[tokio::test]
async fn user_tokens_are_issued_listed_verified_and_revoked_on_every_instance() {
    let w = world(json!({})).await;
    w.api
        .create_user(&new_user(Some("tess"), vec![]))
        .await
        .unwrap();
    let short = w.api.issue_token("tess", Some(120)).await.unwrap();
    assert_eq!((short.expires_at - short.issued_at).num_seconds(), 120);
    let long = w.api.issue_token("tess", None).await.unwrap();
    assert_eq!((long.expires_at - long.issued_at).num_seconds(), 3600);
    for ttl in [59, 2_592_001] {
        let bad = w.api.issue_token("tess", Some(ttl)).await.unwrap_err();
        assert_eq!(bad.code(), Some("validation_failed"), "{ttl}");
    }

    let listed = w.api.list_tokens("tess").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|t| t.last_seen_at.is_none() && t.revoked_at.is_none())
    );
    let verdict = w.api.verify_token(&short.token).await.unwrap();
    assert!(verdict.active);
    assert_eq!(verdict.token_id.as_deref(), Some(short.token_id.as_str()));
    let seen = w.api.list_tokens("tess").await.unwrap();
    let short_listed = seen.iter().find(|t| t.token_id == short.token_id).unwrap();
    assert!(short_listed.last_seen_at.is_some(), "last seen is recorded");

    let other = w.app.second_instance().await;
    let other_api = w
        .app
        .client_at(&other, &w.owner.create_key(&w.app_id).await);
    assert!(other_api.verify_token(&long.token).await.unwrap().active);

    assert_eq!(
        w.api.revoke_token("tess", &short.token_id).await.unwrap(),
        1
    );
    assert_eq!(
        w.api.revoke_token("tess", &short.token_id).await.unwrap(),
        0
    );
    for api in [&w.api, &other_api] {
        let v = api.verify_token(&short.token).await.unwrap();
        assert_eq!((v.active, v.reason.as_deref()), (false, Some("revoked")));
        assert!(api.verify_token(&long.token).await.unwrap().active);
    }
    assert_eq!(w.api.revoke_tokens("tess").await.unwrap(), 1);
    let revoked = std::time::Instant::now();
    let v = w.api.verify_token(&long.token).await.unwrap();
    assert_eq!((v.active, v.reason.as_deref()), (false, Some("revoked")));
    // The other instance answered for this token a moment ago and may give that
    // answer again for under a second (the API's short-lived copies).
    loop {
        let v = other_api.verify_token(&long.token).await.unwrap();
        if !v.active {
            assert_eq!(v.reason.as_deref(), Some("revoked"));
            break;
        }
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(2),
            "still active on the other instance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        revoked.elapsed() < std::time::Duration::from_secs(1),
        "revoke-all holds on the other instance within a second"
    );
    let listed = w.api.list_tokens("tess").await.unwrap();
    assert!(listed.iter().all(|t| t.revoked_at.is_some()));
    assert!(kinds(&w).await.contains(&"user_tokens_revoked".to_owned()));

    for (token, reason) in [
        ("garbage", "malformed"),
        ("a.b.c", "malformed"),
        (&*flip_signature_char(&long.token), "signature"),
    ] {
        let v = w.api.verify_token(token).await.unwrap();
        assert_eq!(
            (v.active, v.reason.as_deref()),
            (false, Some(reason)),
            "{token}"
        );
    }
    let missing = w.api.revoke_token("tess", "not-a-token").await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

/// The token with one character of its signature changed (not the last, whose low
/// bits base64 leaves unused).
fn flip_signature_char(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn upstream_tokens_are_readable_through_the_signed_api_only() {
    let w = world(json!({"resultDelivery": "code", "requireStateSigning": false})).await;
    w.google.add("uma", Person::gmail("uma"));
    let back = w
        .app
        .google_login(&w.app_id, "login_hint=uma")
        .await
        .params();
    let result = w.api.redeem_result(&back["resultCode"]).await.unwrap();
    let upstream = w
        .api
        .upstream_tokens(&result.federated_user_id)
        .await
        .unwrap();
    assert_eq!(upstream.access_token, result.external_service_tokens);
    assert_eq!(
        upstream.refresh_token, None,
        "no offline access without state signing"
    );
    let f = w
        .api
        .federated_user(&result.federated_user_id)
        .await
        .unwrap();
    assert!(f.has_upstream_tokens);
    // At rest they are sealed: the stored bytes do not hold the token.
    let row = fedgate_storage::entity::federated_user::Entity::find_by_id(
        uuid::Uuid::parse_str(&result.federated_user_id).unwrap(),
    )
    .one(&w.app.db)
    .await
    .unwrap()
    .unwrap();
    let sealed = row.sealed_tokens.expect("tokens are stored");
    let plain = upstream.access_token.as_bytes();
    assert!(
        !sealed.windows(plain.len()).any(|w| w == plain),
        "stored in clear"
    );
    // The management API (the panel's) never shows them.
    let panel = w
        .owner
        .get(&format!("/manage/v1/applications/{}/events", w.app_id))
        .await
        .text()
        .await
        .unwrap();
    assert!(!panel.contains(&upstream.access_token));
}

#[tokio::test]
async fn another_applications_key_finds_nothing_of_this_one() {
    let w = world(json!({})).await;
    w.google.add("iris", Person::gmail("iris"));
    let p = w
        .app
        .google_login(&w.app_id, "login_hint=iris")
        .await
        .params();
    let (fid, user) = (p["federatedUserId"].clone(), p["linkedUser"].clone());
    w.api
        .add_locator(&user, &email("iris@example.com", true))
        .await
        .unwrap();
    let token = w.api.issue_token(&user, None).await.unwrap();

    // Application B of the same subscriber, with its own key.
    let b_id = w.owner.create_app("Other").await.id;
    let b = w.app.client(&w.owner.create_key(&b_id).await);
    let not_found = |r: Result<(), fedgate_client::Error>, what: &str| {
        let e = r.unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (Some(404), Some("not_found")),
            "{what}: {e}"
        );
    };
    not_found(b.get_user(&user).await.map(drop), "get user");
    not_found(
        b.update_user(&user, &UpdateUserRequest::default())
            .await
            .map(drop),
        "update user",
    );
    not_found(
        b.add_locator(&user, &email("x@example.com", false))
            .await
            .map(drop),
        "add locator",
    );
    not_found(
        b.verify_locator(&user, "email:iris@example.com")
            .await
            .map(drop),
        "verify locator",
    );
    not_found(
        b.remove_locator(&user, "email:iris@example.com")
            .await
            .map(drop),
        "remove locator",
    );
    not_found(b.federated_users_of(&user).await.map(drop), "identities");
    not_found(b.issue_token(&user, None).await.map(drop), "issue token");
    not_found(b.list_tokens(&user).await.map(drop), "list tokens");
    not_found(b.revoke_tokens(&user).await.map(drop), "revoke all");
    not_found(
        b.revoke_token(&user, &token.token_id).await.map(drop),
        "revoke one",
    );
    not_found(b.federated_user(&fid).await.map(drop), "federated user");
    not_found(b.unlink(&fid).await.map(drop), "unlink");
    not_found(b.detach(&fid).await.map(drop), "detach");
    not_found(b.upstream_tokens(&fid).await.map(drop), "upstream tokens");
    not_found(b.delete_user(&user).await, "delete user");
    // Linking A's identity from B names a federated user B does not have.
    not_found(b.link(&fid, &user, false).await.map(drop), "link");
    assert_eq!(b.find_user("email:iris@example.com").await.unwrap(), None);
    assert!(b.get_users(&[user.as_str()]).await.unwrap().is_empty());
    assert!(b.list_users(None, None).await.unwrap().users.is_empty());
    let v = b.verify_token(&token.token).await.unwrap();
    assert_eq!((v.active, v.reason.as_deref()), (false, Some("audience")));

    // And nothing changed in A.
    let f = w.api.federated_user(&fid).await.unwrap();
    assert_eq!(f.linked_user.as_deref(), Some(user.as_str()));
    assert!(w.api.verify_token(&token.token).await.unwrap().active);
    assert_eq!(w.api.get_user(&user).await.unwrap().locators.len(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_code_and_writes_nothing() {
    let app = spawn_app().await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Chat").await.id;
    let key = owner.create_key(&app_id).await;
    let api = app.client(&key);

    let bad_locator = api
        .create_user(&new_user(None, vec![email("not-an-email", false)]))
        .await
        .unwrap_err();
    assert_eq!(bad_locator.code(), Some("validation_failed"));
    let Some(400..=499) = bad_locator.status() else {
        panic!("{bad_locator}")
    };
    let bad_phone = api
        .create_user(&new_user(
            None,
            vec![LocatorDto {
                kind: LocatorKindDto::Phone,
                value: "555-1234".into(),
                verified: false,
            }],
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_phone.code(), Some("validation_failed"));
    for id in [
        "-starts-with-dash",
        "has space",
        "x".repeat(65).as_str(),
        "ünïcode",
    ] {
        let e = api
            .create_user(&new_user(Some(id), vec![]))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("validation_failed"), "{id}");
    }
    let raw = |body: &str| {
        let api = api.clone();
        let body = body.as_bytes().to_vec();
        async move {
            let res = api
                .send(Method::POST, "/api/v1/users", Some(body))
                .await
                .unwrap();
            let status = res.status().as_u16();
            let code = res.json::<Value>().await.unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned();
            (status, code)
        }
    };
    assert_eq!(
        raw(r#"{"id":"a","nickname":"x"}"#).await,
        (400, "invalid_body".into())
    );
    assert_eq!(raw(r#"{"id":"#).await, (400, "malformed_json".into()));
    assert_eq!(
        raw(r#"{"locators":"email:a@b.c"}"#).await,
        (400, "invalid_body".into())
    );
    let huge = format!(r#"{{"screenName":"{}"}}"#, "x".repeat(100 * 1024));
    assert_eq!(raw(&huge).await, (413, "payload_too_large".into()));
    let long_name = format!(r#"{{"screenName":"{}"}}"#, "x".repeat(201));
    assert_eq!(raw(&long_name).await, (422, "validation_failed".into()));
    let too_many: Vec<LocatorDto> = (0..21)
        .map(|i| email(&format!("u{i}@example.com"), false))
        .collect();
    let e = api
        .create_user(&new_user(None, too_many))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("validation_failed"));
    let twice = api
        .create_user(&new_user(
            None,
            vec![email("a@example.com", false), email("A@example.com", true)],
        ))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Some("validation_failed"));

    let bad_query = api.find_user("fax:123").await.unwrap_err();
    assert_eq!(bad_query.code(), Some("validation_failed"));
    let mixed = api
        .send(Method::GET, "/api/v1/users?ids=a&locator=email:a@b.c", None)
        .await
        .unwrap();
    assert_eq!(mixed.status().as_u16(), 400);
    let unknown_param = api
        .send(Method::GET, "/api/v1/users?colour=red", None)
        .await
        .unwrap();
    assert_eq!(unknown_param.status().as_u16(), 400);
    let limit = api.list_users(None, Some(0)).await.unwrap_err();
    assert_eq!(limit.code(), Some("validation_failed"));

    assert_eq!(app.count_people().await, (0, 0), "nothing was written");
}
