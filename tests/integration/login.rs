//! The hosted Google sign-in against an in-process fake Google.

use fedgate_tests::fake_google::Tamper;
use fedgate_tests::{APP_REDIRECT, GoogleWorld as World, Person, TokenMode, hop};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_new_person_gets_a_user_and_is_sent_back_with_every_reference_parameter() {
    let w = World::start(json!({})).await;
    let ann = Person::gmail("ann");
    w.google.add("ann", ann.clone());
    let start = hop(&w.app.login_url(
        &w.app_id,
        "state=opaque%2Fvalue&login_hint=ann&prompt=select_account",
    ))
    .await;
    assert_eq!(start.status, StatusCode::FOUND);
    assert_eq!(start.headers["cache-control"], "no-store");
    assert_eq!(start.headers["referrer-policy"], "no-referrer");
    let to_google = start.params();
    assert_eq!(to_google["scope"], "openid email profile");
    assert_eq!(to_google["code_challenge_method"], "S256");
    assert_eq!(to_google["client_id"], w.google.client_id);
    assert_eq!(
        (
            to_google["login_hint"].as_str(),
            to_google["prompt"].as_str()
        ),
        ("ann", "select_account")
    );
    assert_eq!(
        to_google["redirect_uri"],
        format!(
            "{}/hosted/{}/google/callback",
            w.app.address.replace("127.0.0.1", "localhost"),
            w.app_id
        )
    );
    assert!(
        !to_google.contains_key("access_type"),
        "offline access only with state signing"
    );
    assert_ne!(
        to_google["state"], "opaque/value",
        "the app's state never goes to Google"
    );

    let at_google = hop(start.location.as_deref().unwrap()).await;
    let back = hop(at_google.location.as_deref().unwrap()).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.body);
    assert_eq!(back.headers["cache-control"], "no-store");
    assert_eq!(back.headers["referrer-policy"], "no-referrer");
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    let names: Vec<String> = url::Url::parse(back.location.as_deref().unwrap())
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "federatingService",
            "linkCandidates",
            "autoLoginToken",
            "federatedUserId",
            "linkedUser",
            "externalServiceTokens",
            "federationProvider",
            "state"
        ]
    );
    assert_eq!(p["federatingService"], "GoogleFederationService");
    assert_eq!(p["federationProvider"], "google");
    assert_eq!(p["linkCandidates"], "");
    assert_eq!(p["state"], "opaque/value");
    assert!(
        p["externalServiceTokens"].starts_with("ya29.")
            && !p["externalServiceTokens"].contains(',')
    );
    let user = p["linkedUser"].clone();
    assert_ne!(
        p["federatedUserId"], user,
        "federatedUserId is not the user id"
    );

    // The token verifies against the application's JWKS.
    let jwks = reqwest::get(format!("{}/hosted/{}/jwks.json", w.app.address, w.app_id))
        .await
        .unwrap();
    assert!(
        jwks.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let jwks: Value = jwks.json().await.unwrap();
    let key = &jwks["keys"][0];
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&[&w.app_id]);
    v.set_issuer(&[w.app.address.replace("127.0.0.1", "localhost")]);
    let token = jsonwebtoken::decode::<Value>(&p["autoLoginToken"], &decoding, &v).unwrap();
    assert_eq!(token.claims["sub"], user.as_str());
    assert_eq!(token.header.kid.as_deref(), key["kid"].as_str());
    assert!(
        token.claims["jti"].is_string()
            && token.claims["exp"].as_i64().unwrap() - token.claims["iat"].as_i64().unwrap()
                == 3600
    );

    // The user exists with Google's profile and a verified email.
    let stored = {
        use fedgate_domain::ports::UserRepository;
        let app_id = fedgate_domain::ids::ApplicationId::parse(&w.app_id).unwrap();
        w.app
            .storage()
            .get_user(app_id, &fedgate_domain::ids::UserId::parse(&user).unwrap())
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(stored.screen_name.as_deref(), Some("ann Example"));
    assert_eq!(stored.locators.len(), 1);
    assert_eq!(
        stored.locators[0].locator.value(),
        ann.email.as_deref().unwrap()
    );
    assert!(stored.locators[0].verified);

    // Google's tokens are kept, sealed.
    let sealed = {
        use sea_orm::EntityTrait;
        let id = uuid::Uuid::parse_str(&p["federatedUserId"]).unwrap();
        fedgate_storage::entity::federated_user::Entity::find_by_id(id)
            .one(&w.app.db)
            .await
            .unwrap()
            .unwrap()
            .sealed_tokens
            .unwrap()
    };
    let access = p["externalServiceTokens"].as_bytes();
    assert!(
        !sealed.windows(access.len()).any(|win| win == access),
        "upstream token stored in clear"
    );

    let events = w.owner.events(&w.app_id, "").await;
    assert_eq!(events[0]["kind"], "login_succeeded");
    assert_eq!(events[0]["outcome"], "new_user");
    assert_eq!(events[0]["userId"], user.as_str());
    assert_eq!(events[1]["kind"], "login_started");
}

/// A world whose JWKS cache may refetch for an unknown `kid` every `refetch` seconds.
async fn world_refetching_every(refetch: u64) -> World {
    World::start_with(
        move |s| s.provider_jwks_refetch_seconds = refetch,
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_google_key_rotation_is_picked_up_by_one_refetch_of_its_keys() {
    let w = world_refetching_every(0).await;
    let before = w.app.google_login(&w.app_id, "login_hint=ann").await;
    assert!(before.params().contains_key("linkedUser"));
    assert_eq!(w.google.with(|s| s.jwks_calls), 1);

    // Google publishes a second key and signs with it; the cached set (max-age one
    // hour) does not know its kid yet.
    w.google.with(|s| s.rotated = true);
    let after = w
        .app
        .google_login(&w.app_id, "login_hint=ann")
        .await
        .params();
    assert_eq!(after["linkedUser"], before.params()["linkedUser"]);
    assert_eq!(w.google.with(|s| s.jwks_calls), 2, "one refetch");
    w.app.google_login(&w.app_id, "login_hint=ann").await;
    assert_eq!(w.google.with(|s| s.jwks_calls), 2, "the new key is cached");
}

#[tokio::test]
async fn tokens_with_unknown_kids_do_not_make_fedgate_hammer_googles_keys() {
    let w = world_refetching_every(3600).await;
    w.app.google_login(&w.app_id, "login_hint=ann").await;
    assert_eq!(w.google.with(|s| s.jwks_calls), 1);
    w.google.with(|s| s.tamper = Some(Tamper::UnknownKid));
    for _ in 0..3 {
        let res = w
            .app
            .google_login(&w.app_id, "login_hint=ann")
            .await
            .params();
        assert_eq!(res["error"], "server_error");
        assert_eq!(last_event(&w).await["reason"], "id_token_invalid:kid");
    }
    assert_eq!(
        w.google.with(|s| s.jwks_calls),
        1,
        "no refetch within the interval"
    );
}

async fn last_event(w: &World) -> Value {
    w.owner
        .events(&w.app_id, "")
        .await
        .into_iter()
        .next()
        .unwrap()
}

#[tokio::test]
async fn a_returning_person_signs_in_as_the_same_user_even_after_changing_email() {
    let w = World::start(json!({})).await;
    let mut bob = Person::gmail("bob");
    w.google.add("bob", bob.clone());
    let first = w
        .app
        .google_login(&w.app_id, "login_hint=bob")
        .await
        .params();
    bob.email = Some("bob.new@gmail.com".into());
    w.google.add("bob", bob);
    let second = w
        .app
        .google_login(&w.app_id, "login_hint=bob")
        .await
        .params();
    assert_eq!(first["linkedUser"], second["linkedUser"]);
    assert_eq!(first["federatedUserId"], second["federatedUserId"]);
    assert_ne!(first["autoLoginToken"], second["autoLoginToken"]);
    assert_eq!(w.app.count_people().await, (1, 1));
    assert_eq!(last_event(&w).await["outcome"], "returning");
    assert_eq!(
        w.google.with(|s| s.jwks_calls),
        1,
        "Google's keys are cached per Cache-Control"
    );
}

#[tokio::test]
async fn a_verified_gmail_address_links_to_the_existing_user_owning_it() {
    let w = World::start(json!({})).await;
    w.app
        .seed_user(&w.app_id, "existing-ann", "ANN.Smith@gmail.com", true)
        .await;
    let mut ann = Person::gmail("ann.smith");
    ann.email = Some("ann.smith@GMAIL.com".into());
    w.google.add("ann", ann);
    let p = w
        .app
        .google_login(&w.app_id, "login_hint=ann")
        .await
        .params();
    assert_eq!(p["linkedUser"], "existing-ann");
    assert_eq!(p["linkCandidates"], "existing-ann");
    assert!(p.contains_key("autoLoginToken"));
    assert_eq!(w.app.count_people().await, (1, 1), "no new user");
    assert_eq!(last_event(&w).await["outcome"], "linked_by_email");
}

#[tokio::test]
async fn a_workspace_address_with_hd_links_but_without_hd_it_does_not() {
    let w = World::start(json!({})).await;
    w.app
        .seed_user(&w.app_id, "corp-ann", "ann@corp.example", true)
        .await;
    w.app
        .seed_user(&w.app_id, "corp-bob", "bob@corp.example", true)
        .await;
    let mut ann = Person::gmail("x");
    ann.email = Some("ann@corp.example".into());
    ann.hd = Some("corp.example".into());
    w.google.add("ann", ann);
    let mut bob = Person::gmail("y");
    bob.email = Some("bob@corp.example".into());
    w.google.add("bob", bob);

    assert_eq!(
        w.app
            .google_login(&w.app_id, "login_hint=ann")
            .await
            .params()["linkedUser"],
        "corp-ann"
    );
    let p = w
        .app
        .google_login(&w.app_id, "login_hint=bob")
        .await
        .params();
    assert!(
        !p.contains_key("linkedUser") && !p.contains_key("autoLoginToken"),
        "Google does not vouch for it: {p:?}"
    );
    assert_eq!(p["linkCandidates"], "corp-bob");
    assert_eq!(last_event(&w).await["outcome"], "candidates");
}

#[tokio::test]
async fn an_email_google_has_not_verified_links_nothing() {
    let w = World::start(json!({})).await;
    w.app
        .seed_user(&w.app_id, "victim", "victim@gmail.com", true)
        .await;
    let mut mallory = Person::gmail("m");
    mallory.email = Some("victim@gmail.com".into());
    mallory.email_verified = false;
    w.google.add("m", mallory);
    let p = w.app.google_login(&w.app_id, "login_hint=m").await.params();
    assert!(!p.contains_key("linkedUser") && !p.contains_key("autoLoginToken"));
    assert_eq!(p["linkCandidates"], "victim");
    assert_eq!(
        w.app.count_people().await,
        (1, 1),
        "no user created for the unverified address"
    );
}

#[tokio::test]
async fn an_existing_user_whose_email_is_unverified_is_returned_as_a_candidate() {
    let w = World::start(json!({})).await;
    w.app
        .seed_user(&w.app_id, "unverified-carol", "carol@gmail.com", false)
        .await;
    w.google.add(
        "carol",
        Person {
            email: Some("carol@gmail.com".into()),
            ..Person::gmail("carol")
        },
    );
    let p = w
        .app
        .google_login(&w.app_id, "login_hint=carol")
        .await
        .params();
    assert_eq!(p["linkCandidates"], "unverified-carol");
    assert!(!p.contains_key("linkedUser") && !p.contains_key("autoLoginToken"));
    assert!(p.contains_key("federatedUserId"));
}

#[tokio::test]
async fn with_auto_creation_off_a_new_person_gets_no_user() {
    let w = World::start(json!({"autoCreateUsers": false})).await;
    let p = w.app.google_login(&w.app_id, "").await.params();
    assert_eq!(p["linkCandidates"], "");
    assert!(!p.contains_key("linkedUser") && !p.contains_key("autoLoginToken"));
    assert_eq!(w.app.count_people().await, (0, 1));
    assert_eq!(last_event(&w).await["outcome"], "unlinked");
}

#[tokio::test]
async fn access_denied_at_google_comes_back_as_an_error_with_the_apps_state() {
    let w = World::start(json!({})).await;
    w.google.with(|s| s.deny = true);
    let back = w.app.google_login(&w.app_id, "state=xyz").await;
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("access_denied", "xyz")
    );
    assert!(p.contains_key("error_description"));
    assert!(!p.contains_key("federatedUserId"));
    assert_eq!(w.google.with(|s| s.token_calls), 0);
    assert_eq!(
        last_event(&w).await["reason"],
        "provider_error:access_denied"
    );
}

async fn provider_failure(mode: TokenMode, error: &str, reason: &str) {
    let w = World::start(json!({})).await;
    w.google.with(|s| s.token_mode = mode);
    let p = w.app.google_login(&w.app_id, "state=s1").await.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        (error, "s1"),
        "{p:?}"
    );
    assert_eq!(w.app.count_people().await, (0, 0));
    let event = last_event(&w).await;
    assert_eq!(event["reason"], reason);
    if mode == TokenMode::ServerError {
        assert!(
            event["detail"].as_str().unwrap().contains("HTTP 500"),
            "the status is named: {event}"
        );
    }
}

#[tokio::test]
async fn a_provider_500_is_an_error_redirect() {
    provider_failure(
        TokenMode::ServerError,
        "server_error",
        "provider_bad_response",
    )
    .await;
}

#[tokio::test]
async fn a_provider_timeout_is_an_error_redirect() {
    provider_failure(
        TokenMode::Slow(std::time::Duration::from_secs(4)),
        "temporarily_unavailable",
        "provider_timeout",
    )
    .await;
}

#[tokio::test]
async fn provider_garbage_is_an_error_redirect() {
    provider_failure(TokenMode::Garbage, "server_error", "provider_bad_response").await;
}

async fn defect(tamper: Tamper, reason: &str) {
    let w = World::start(json!({})).await;
    w.google.with(|s| s.tamper = Some(tamper));
    let back = w.app.google_login(&w.app_id, "state=st").await;
    assert_eq!(back.target(), APP_REDIRECT);
    let p = back.params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("server_error", "st"),
        "{tamper:?}: {p:?}"
    );
    assert!(!p.contains_key("autoLoginToken") && !p.contains_key("federatedUserId"));
    assert_eq!(
        w.app.count_people().await,
        (0, 0),
        "{tamper:?} created someone"
    );
    assert_eq!(last_event(&w).await["reason"], reason, "{tamper:?}");
    if !matches!(tamper, Tamper::UserinfoOtherSub) {
        assert_eq!(
            w.google.with(|s| s.userinfo_calls),
            0,
            "userinfo only after the ID token passed"
        );
    }
}

macro_rules! id_token_defects {
    ($($name:ident: $tamper:ident => $reason:literal,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                defect(Tamper::$tamper, $reason).await;
            }
        )*
    };
}

id_token_defects! {
    id_token_from_another_issuer_is_refused: WrongIssuer => "id_token_invalid:iss",
    id_token_for_another_audience_is_refused: WrongAudience => "id_token_invalid:aud",
    id_token_with_another_authorized_party_is_refused: WrongAzp => "id_token_invalid:azp",
    id_token_with_two_audiences_and_no_azp_is_refused: ExtraAudienceNoAzp => "id_token_invalid:azp",
    expired_id_token_is_refused: Expired => "id_token_invalid:exp",
    id_token_without_iat_is_refused: NoIat => "id_token_invalid:iat",
    id_token_issued_in_the_future_is_refused: FutureIat => "id_token_invalid:iat",
    id_token_with_another_nonce_is_refused: WrongNonce => "id_token_invalid:nonce",
    id_token_without_nonce_is_refused: NoNonce => "id_token_invalid:nonce",
    id_token_without_sub_is_refused: NoSub => "id_token_invalid:sub",
    unsigned_alg_none_id_token_is_refused: AlgNone => "id_token_invalid:alg",
    hmac_signed_id_token_is_refused: AlgHs256 => "id_token_invalid:alg",
    id_token_from_an_unknown_key_is_refused: UnknownKid => "id_token_invalid:kid",
    id_token_with_a_bad_signature_is_refused: BadSignature => "id_token_invalid:signature",
    token_response_without_id_token_is_refused: NoIdToken => "id_token_missing",
    userinfo_for_another_subject_is_refused: UserinfoOtherSub => "userinfo_subject_mismatch",
}

#[tokio::test]
async fn a_state_works_once_and_its_code_is_never_redeemed_twice() {
    let w = World::start(json!({})).await;
    let start = hop(&w.app.login_url(&w.app_id, "")).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let callback = at_google.location.clone().unwrap();
    assert_eq!(hop(&callback).await.status, StatusCode::FOUND);
    let replay = hop(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.location.is_none(), "no redirect on replay");
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(
        w.google.with(|s| s.token_calls),
        1,
        "the code was redeemed once"
    );
    assert_eq!(last_event(&w).await["reason"], "state_replayed");

    let unknown = hop(&format!(
        "{}/hosted/{}/google/callback?state=forged&code=x",
        w.app.address, w.app_id
    ))
    .await;
    assert_eq!(
        (unknown.status, unknown.location.is_none()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(w.google.with(|s| s.token_calls), 1);
    assert_eq!(last_event(&w).await["reason"], "state_unknown_or_expired");
}

#[tokio::test]
async fn a_state_altered_in_transit_or_past_its_lifetime_is_refused() {
    let w = World::start(json!({})).await;
    let start = hop(&w.app.login_url(&w.app_id, "state=app-state")).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let callback = at_google.location.clone().unwrap();
    let state = provider_state(&callback);
    assert!(
        !state.contains("app-state"),
        "the login record travels sealed"
    );
    // One character changed, anywhere, and the state is nobody's.
    for at in [0, state.len() / 2, state.len() - 1] {
        let mut bent = state.clone().into_bytes();
        bent[at] = if bent[at] == b'A' { b'B' } else { b'A' };
        let bent = String::from_utf8(bent).unwrap();
        let res = hop(&callback.replace(&state, &bent)).await;
        assert_eq!(
            (res.status, res.location.is_none()),
            (StatusCode::BAD_REQUEST, true),
            "changed at {at}"
        );
        assert_eq!(last_event(&w).await["reason"], "state_unknown_or_expired");
    }
    // Past the login's lifetime (`login_ttl_seconds`) the state opens no more.
    w.app.clock.advance(601);
    let late = hop(&callback).await;
    assert_eq!(
        (late.status, late.location.is_none()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(last_event(&w).await["reason"], "state_unknown_or_expired");
    assert_eq!(w.google.with(|s| s.token_calls), 0, "no code was redeemed");
}

#[tokio::test]
async fn a_login_with_a_record_too_large_for_the_state_is_kept_and_works_once() {
    let w = World::start(json!({})).await;
    let app_state = "s".repeat(2048);
    let start = hop(&w.app.login_url(&w.app_id, &format!("state={app_state}"))).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let callback = at_google.location.clone().unwrap();
    assert_eq!(provider_state(&callback).len(), 43, "a random key to it");
    let back = hop(&callback).await;
    assert_eq!(back.target(), APP_REDIRECT);
    assert_eq!(back.params()["state"], app_state);
    assert!(back.params().contains_key("autoLoginToken"));
    let replay = hop(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(last_event(&w).await["reason"], "state_replayed");
    assert_eq!(w.google.with(|s| s.token_calls), 1);
}

#[tokio::test]
async fn a_callback_cannot_be_replayed_on_another_applications_callback() {
    let w = World::start(json!({})).await;
    let other = w.owner.create_app("Other").await.id;
    w.owner.configure_google(&other, &w.google, json!({})).await;
    let start = hop(&w.app.login_url(&w.app_id, "")).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let mixed = at_google.location.unwrap().replace(&w.app_id, &other);
    let res = hop(&mixed).await;
    assert_eq!(
        (res.status, res.location.is_none()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(w.google.with(|s| s.token_calls), 0);
}

#[tokio::test]
async fn redirect_uris_must_match_exactly() {
    let w = World::start(json!({"redirectUris": [APP_REDIRECT, "https://app.example.com/other"]}))
        .await;
    for wrong in [
        "https://app.example.com/auth/callbacK",
        "https://app.example.com/auth/callback/",
        "https://APP.example.com/auth/callback",
        "https://app.example.com/auth/callbac",
        "https://app.example.com/auth/callback?x=1",
        "https://evil.example.com/auth/callback",
    ] {
        let q = format!(
            "redirect_uri={}",
            url::form_urlencoded::byte_serialize(wrong.as_bytes()).collect::<String>()
        );
        let res = hop(&w.app.login_url(&w.app_id, &q)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{wrong}");
        assert!(res.location.is_none(), "{wrong}: no redirect");
        assert!(res.body.contains("redirect_uri"), "{}", res.body);
    }
    let missing = hop(&w.app.login_url(&w.app_id, "")).await;
    assert_eq!(
        missing.status,
        StatusCode::BAD_REQUEST,
        "required when several are registered"
    );
    let q = format!(
        "redirect_uri={}",
        url::form_urlencoded::byte_serialize(b"https://app.example.com/other").collect::<String>()
    );
    let back = w.app.google_login(&w.app_id, &q).await;
    assert_eq!(back.target(), "https://app.example.com/other");
    assert_eq!(w.google.with(|s| s.token_calls), 1);
}

#[tokio::test]
async fn bad_starts_get_an_error_page_and_no_redirect() {
    let w = World::start(json!({})).await;
    let unknown = hop(&w.app.login_url("01a203e7-c96a-7272-8dee-481300d54f2c", "")).await;
    assert_eq!(
        (unknown.status, unknown.location.is_none()),
        (StatusCode::NOT_FOUND, true)
    );
    assert!(
        unknown.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let garbage = hop(&w.app.login_url("not-an-app", "")).await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    let inactive = w.owner.create_app("Unconfigured").await.id;
    let res = hop(&w.app.login_url(&inactive, "")).await;
    assert_eq!(
        (res.status, res.location.is_none()),
        (StatusCode::BAD_REQUEST, true)
    );
    assert!(res.body.contains("INACTIVE"));
    let evil = hop(&w.app.login_url(&w.app_id, "redirect_uri=%3Cscript%3E")).await;
    assert!(!evil.body.contains("<script>"));
}

#[tokio::test]
async fn both_spellings_of_googles_issuer_are_accepted() {
    let w = World::start(json!({})).await;
    w.google.with(|s| s.short_issuer = true);
    let p = w.app.google_login(&w.app_id, "").await.params();
    assert!(p.contains_key("linkedUser"), "accounts.google.com: {p:?}");
}

#[tokio::test]
async fn oversized_starts_are_refused_before_anything_is_stored() {
    let w = World::start(json!({})).await;
    let at_limit = hop(&w
        .app
        .login_url(&w.app_id, &format!("state={}", "s".repeat(2048))))
    .await;
    assert_eq!(at_limit.status, StatusCode::FOUND, "2 KiB of state is fine");
    for (query, what) in [
        (format!("state={}", "s".repeat(2049)), "state"),
        (format!("login_hint={}", "h".repeat(321)), "login_hint"),
        (format!("state=a&padding={}", "p".repeat(8 * 1024)), "query"),
    ] {
        let res = hop(&w.app.login_url(&w.app_id, &query)).await;
        assert_eq!(
            (res.status, res.location.is_none()),
            (StatusCode::BAD_REQUEST, true),
            "{what}"
        );
        assert!(res.body.contains(what), "{what}: {}", res.body);
    }
    let starts = w.owner.events(&w.app_id, "?kind=login_started").await;
    assert_eq!(starts.len(), 1, "only the start at the limit went through");
}

mod state_signing {
    use fedgate_tests::unix_now;
    use fedgate_wire::keys::CreatedAccessKeyDto;
    use std::collections::HashMap;

    use super::*;

    #[tokio::test]
    async fn signed_starts_get_offline_access_and_the_refresh_token() {
        let w = World::start(json!({"requireStateSigning": true})).await;
        let key = w.owner.create_key(&w.app_id).await;
        let q = fedgate_tests::signed_login_query(
            &w.app_id,
            &key.key.id,
            &key.secret,
            "state=abc&login_hint=x",
            unix_now(),
            "nonce-0000000000000001",
        );
        let start = hop(&w.app.login_url(&w.app_id, &q)).await;
        assert_eq!(start.status, StatusCode::FOUND, "{}", start.body);
        let to_google = start.params();
        assert_eq!(to_google["access_type"], "offline");
        assert!(!to_google.contains_key("prompt"), "consent is not forced");
        let at_google = hop(start.location.as_deref().unwrap()).await;
        let p = hop(at_google.location.as_deref().unwrap()).await.params();
        let tokens: Vec<&str> = p["externalServiceTokens"].split(',').collect();
        assert_eq!(tokens.len(), 2, "access and refresh token");
        assert!(tokens[0].starts_with("ya29.") && tokens[1].starts_with("1//"));
        assert_eq!(p["state"], "abc");
    }

    /// One signed sign-in as `hint` with `extra` query parameters, followed through
    /// every hop until the browser is back at the app; the number of rounds at Google.
    async fn signed_login(
        w: &World,
        key: &CreatedAccessKeyDto,
        extra: &str,
        nonce: &str,
    ) -> (HashMap<String, String>, u32) {
        let q = fedgate_tests::signed_login_query(
            &w.app_id,
            &key.key.id,
            &key.secret,
            extra,
            unix_now(),
            nonce,
        );
        let before = w.google.with(|s| s.authorize_calls);
        let mut at = hop(&w.app.login_url(&w.app_id, &q)).await;
        assert_eq!(at.status, StatusCode::FOUND, "{}", at.body);
        while !at.target().starts_with(APP_REDIRECT) {
            at = hop(at.location.as_deref().unwrap()).await;
            assert_eq!(at.status, StatusCode::FOUND, "{}", at.body);
        }
        (at.params(), w.google.with(|s| s.authorize_calls) - before)
    }

    #[tokio::test]
    async fn consent_is_asked_for_only_when_no_refresh_token_is_stored() {
        let w = World::start(json!({"requireStateSigning": true})).await;
        let key = w.owner.create_key(&w.app_id).await;
        // Like Google for someone who consented long ago: a new refresh token only
        // with prompt=consent.
        w.google.with(|s| s.refresh_only_on_consent = true);
        w.google.add("ann", Person::gmail("ann"));
        let (first, rounds) = signed_login(
            &w,
            &key,
            "state=one&login_hint=ann",
            "nonce-consent-00000001",
        )
        .await;
        assert_eq!(rounds, 2, "sent back once to consent");
        assert_eq!(
            w.google
                .with(|s| s.last_authorize.get("prompt").cloned())
                .as_deref(),
            Some("consent")
        );
        assert_eq!(
            w.google
                .with(|s| s.last_authorize.get("login_hint").cloned())
                .as_deref(),
            Some("ann")
        );
        assert_eq!(first["state"], "one");
        let refresh = first["externalServiceTokens"]
            .split(',')
            .nth(1)
            .expect("a refresh token")
            .to_owned();

        // With a refresh token stored, the next sign-in asks nothing: one silent round,
        // and the stored refresh token comes back.
        let (second, rounds) = signed_login(
            &w,
            &key,
            "state=two&login_hint=ann&prompt=select_account",
            "nonce-consent-00000002",
        )
        .await;
        assert_eq!(rounds, 1);
        assert_eq!(
            w.google
                .with(|s| s.last_authorize.get("prompt").cloned())
                .as_deref(),
            Some("select_account"),
            "the app's prompt passes through"
        );
        assert_eq!(second["linkedUser"], first["linkedUser"]);
        assert_eq!(
            second["externalServiceTokens"].split(',').nth(1),
            Some(refresh.as_str())
        );

        // prompt=none never gets a consent screen: the login completes without a
        // refresh token, and the event says so.
        w.google.add("bo", Person::gmail("bo"));
        let (quiet, rounds) = signed_login(
            &w,
            &key,
            "state=three&login_hint=bo&prompt=none",
            "nonce-consent-00000003",
        )
        .await;
        assert_eq!(rounds, 1);
        assert_eq!(
            quiet["externalServiceTokens"].split(',').count(),
            1,
            "{quiet:?}"
        );
        let events = w.owner.events(&w.app_id, "?kind=login_succeeded").await;
        assert!(
            events[0]["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("no refresh token"),
            "{:?}",
            events[0]
        );
    }

    #[tokio::test]
    async fn unsigned_wrong_stale_and_replayed_starts_are_refused() {
        let w = World::start(json!({"requireStateSigning": true})).await;
        let key = w.owner.create_key(&w.app_id).await;
        let other_app = w.owner.create_app("Other").await.id;
        let foreign = w.owner.create_key(&other_app).await;
        let good = fedgate_tests::signed_login_query(
            &w.app_id,
            &key.key.id,
            &key.secret,
            "state=abc",
            unix_now(),
            "nonce-0000000000000002",
        );
        let cases = [
            (
                "missing",
                "state=abc".to_owned(),
                "signature_invalid:signature_missing",
            ),
            (
                "wrong secret",
                fedgate_tests::signed_login_query(
                    &w.app_id,
                    &key.key.id,
                    "fgs_wrong",
                    "state=abc",
                    unix_now(),
                    "nonce-0000000000000003",
                ),
                "signature_invalid:signature_mismatch",
            ),
            (
                "stale",
                fedgate_tests::signed_login_query(
                    &w.app_id,
                    &key.key.id,
                    &key.secret,
                    "state=abc",
                    unix_now() - 400,
                    "nonce-0000000000000004",
                ),
                "signature_invalid:timestamp_out_of_window",
            ),
            (
                "altered",
                good.replace("state=abc", "state=abd"),
                "signature_invalid:signature_mismatch",
            ),
            (
                "foreign key",
                fedgate_tests::signed_login_query(
                    &w.app_id,
                    &foreign.key.id,
                    &foreign.secret,
                    "state=abc",
                    unix_now(),
                    "nonce-0000000000000005",
                ),
                "signature_foreign_key",
            ),
        ];
        for (what, q, reason) in cases {
            let res = hop(&w.app.login_url(&w.app_id, &q)).await;
            assert_eq!(
                (res.status, res.location.is_none()),
                (StatusCode::BAD_REQUEST, true),
                "{what}"
            );
            assert_eq!(last_event(&w).await["reason"], reason, "{what}");
        }
        assert_eq!(
            hop(&w.app.login_url(&w.app_id, &good)).await.status,
            StatusCode::FOUND
        );
        let replay = hop(&w.app.login_url(&w.app_id, &good)).await;
        assert_eq!(
            (replay.status, replay.location.is_none()),
            (StatusCode::BAD_REQUEST, true),
            "replayed"
        );
        assert_eq!(
            last_event(&w).await["reason"],
            "signature_invalid:nonce_reused"
        );
    }
}

mod result_codes {
    use fedgate_tests::Signer;

    use super::*;

    async fn redeem(signer: &Signer, code: &str) -> reqwest::Response {
        signer
            .send(
                reqwest::Method::POST,
                "/api/v1/login-results/redeem",
                Some(&json!({"resultCode": code})),
            )
            .await
    }

    #[tokio::test]
    async fn a_result_code_is_redeemed_once_by_its_own_application_only() {
        let w = World::start(json!({"resultDelivery": "code"})).await;
        let back = w.app.google_login(&w.app_id, "state=s").await;
        let p = back.params();
        let names: Vec<&String> = p.keys().collect();
        assert_eq!(p.len(), 2, "only resultCode and state travel: {names:?}");
        assert_eq!(p["state"], "s");
        let code = p["resultCode"].clone();

        let other_app = w.owner.create_app("Other").await.id;
        let foreign = w.owner.create_key(&other_app).await;
        let res = redeem(&w.app.signer(&foreign.key.id, &foreign.secret), &code).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "another application's key"
        );

        let key = w.owner.create_key(&w.app_id).await;
        let signer = w.app.signer(&key.key.id, &key.secret);
        let res = redeem(&signer, &code).await;
        assert_eq!(res.status(), StatusCode::OK);
        let result: Value = res.json().await.unwrap();
        assert_eq!(result["federatingService"], "GoogleFederationService");
        assert!(result["autoLoginToken"].is_string() && result["linkedUser"].is_string());
        assert!(
            result["externalServiceTokens"]
                .as_str()
                .unwrap()
                .starts_with("ya29.")
        );
        assert_eq!(result["linkCandidates"], json!([]));

        let again = redeem(&signer, &code).await;
        assert_eq!(again.status(), StatusCode::NOT_FOUND, "single use");
        assert_eq!(fedgate_tests::error_code(again).await, "not_found");
    }
}

#[tokio::test]
async fn concurrent_first_logins_of_one_person_make_one_user() {
    let w = World::start(json!({})).await;
    let dana = Person::gmail("dana");
    w.google.add("dana", dana);
    // Start many logins, then complete their callbacks all at once.
    let mut callbacks = Vec::new();
    for _ in 0..12 {
        let start = hop(&w.app.login_url(&w.app_id, "login_hint=dana")).await;
        let at_google = hop(start.location.as_deref().unwrap()).await;
        callbacks.push(at_google.location.unwrap());
    }
    let tasks: Vec<_> = callbacks
        .into_iter()
        .map(|c| tokio::spawn(async move { hop(&c).await }))
        .collect();
    let mut users = std::collections::HashSet::new();
    let mut feds = std::collections::HashSet::new();
    for t in tasks {
        let p = t.await.unwrap().params();
        assert!(!p.contains_key("error"), "{p:?}");
        users.insert(p["linkedUser"].clone());
        feds.insert(p["federatedUserId"].clone());
    }
    assert_eq!((users.len(), feds.len()), (1, 1));
    assert_eq!(w.app.count_people().await, (1, 1));
}

#[tokio::test]
async fn a_configuration_change_applies_to_the_next_login_at_once() {
    let w = World::start(json!({})).await;
    assert_eq!(
        hop(&w.app.login_url(&w.app_id, "")).await.status,
        StatusCode::FOUND
    );
    let props = w.owner.properties(&w.app_id).await;
    let integration = props
        .iter()
        .find(|p| p["kind"] == "oauth_integration")
        .unwrap();
    let path = format!(
        "/manage/v1/applications/{}/properties/{}",
        w.app_id,
        integration["id"].as_str().unwrap()
    );
    let res = w
        .owner
        .send_json(reqwest::Method::PUT, &path, &json!({"kind": "oauth_integration", "instanceName": "web", "redirectUris": ["https://app.example.com/new"]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let q = format!(
        "redirect_uri={}",
        url::form_urlencoded::byte_serialize(APP_REDIRECT.as_bytes()).collect::<String>()
    );
    assert_eq!(
        hop(&w.app.login_url(&w.app_id, &q)).await.status,
        StatusCode::BAD_REQUEST,
        "the removed URI is refused at once"
    );
    assert_eq!(
        w.app.google_login(&w.app_id, "").await.target(),
        "https://app.example.com/new"
    );

    assert_eq!(w.owner.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let res = hop(&w.app.login_url(&w.app_id, "")).await;
    assert_eq!(
        (res.status, res.location.is_none()),
        (StatusCode::BAD_REQUEST, true),
        "INACTIVE at once"
    );
}

#[tokio::test]
async fn an_oversized_provider_error_is_still_logged_and_returned() {
    let w = World::start(json!({})).await;
    let start = hop(&w.app.login_url(&w.app_id, "state=s")).await;
    let provider_state = start.params()["state"].clone();
    let long = "x".repeat(300);
    // A description with a line break and a terminal escape, and far too long.
    let description = format!("forged%0D%0AERROR%1B[31m{}", "y".repeat(2000));
    let callback = format!(
        "{}/hosted/{}/google/callback?state={provider_state}&error={long}&error_description={description}",
        w.app.public_address(),
        w.app_id
    );
    let back = hop(&callback).await;
    assert_eq!(back.target(), APP_REDIRECT);
    assert_eq!(back.params()["error"], "server_error");
    let told = back.params()["error_description"].clone();
    assert!(
        told.contains("forgedERROR[31myyy")
            && !told.chars().any(char::is_control)
            && told.chars().count() < 400,
        "{told}"
    );
    let event = last_event(&w).await;
    assert_eq!(
        event["kind"], "login_failed",
        "the failure event was stored"
    );
    let reason = event["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("provider_error:xxx") && reason.chars().count() <= 100,
        "{reason}"
    );
    let detail = event["detail"].as_str().unwrap();
    assert!(
        !detail.chars().any(char::is_control) && detail.chars().count() <= 300,
        "{detail}"
    );
}

#[tokio::test]
async fn a_very_long_provider_name_still_creates_the_user() {
    let w = World::start(json!({})).await;
    let mut eve = Person::gmail("eve");
    eve.name = Some("N".repeat(500));
    w.google.add("eve", eve);
    let p = w
        .app
        .google_login(&w.app_id, "login_hint=eve")
        .await
        .params();
    assert!(p.contains_key("linkedUser"), "{p:?}");
}

#[tokio::test]
async fn login_starts_and_callbacks_are_limited_per_address_and_per_application() {
    let w = World::start_with(
        |s| {
            s.trusted_proxies = vec!["127.0.0.1".into()];
            s.limits.login_starts_per_address_per_minute = 3;
            s.limits.login_starts_per_application_per_minute = 5;
            s.limits.callbacks_per_address_per_minute = 2;
        },
        json!({}),
    )
    .await;
    let start = |address: &'static str| {
        let url = w.app.login_url(&w.app_id, "");
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(url)
                .header("x-forwarded-for", address)
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(start("198.51.100.1").await.status(), StatusCode::FOUND);
    }
    let refused = start("198.51.100.1").await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "per address"
    );
    assert!(refused.headers().contains_key("retry-after"));
    // Another address still starts, until the application's own limit.
    assert_eq!(start("198.51.100.2").await.status(), StatusCode::FOUND);
    assert_eq!(start("198.51.100.3").await.status(), StatusCode::FOUND);
    assert_eq!(
        start("198.51.100.4").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "per application"
    );
    // Callbacks, per address.
    let callback = format!(
        "{}/hosted/{}/google/callback?state=made-up",
        w.app.address, w.app_id
    );
    assert_eq!(hop(&callback).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(hop(&callback).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(hop(&callback).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_callback_reaching_another_browser_is_refused_and_its_code_never_redeemed() {
    let w = World::start(json!({})).await;
    w.google.add("mallory", Person::gmail("mallory"));
    // The attacker signs in to the provider in their own browser and stops before
    // the callback; then hands its URL to a victim.
    let attacker = fedgate_tests::other_browser();
    let start = fedgate_tests::hop_in(
        &attacker,
        &w.app.login_url(&w.app_id, "state=s&login_hint=mallory"),
    )
    .await;
    assert_eq!(start.status, StatusCode::FOUND);
    let cookie = start.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("fedgate_login=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains(&format!("Path=/hosted/{}/", w.app_id))
            && cookie.contains("Max-Age=600"),
        "{cookie}"
    );
    let at_google = hop(start.location.as_deref().unwrap()).await;
    let callback = at_google.location.unwrap();

    let victim = hop(&callback).await;
    assert_eq!(victim.status, StatusCode::BAD_REQUEST, "{}", victim.body);
    assert!(victim.body.contains("started in another browser"));
    assert_eq!(w.google.with(|s| s.token_calls), 0, "code never redeemed");
    let event = last_event(&w).await;
    assert_eq!(event["reason"], "browser_mismatch");
    // The login is spent: not even the attacker's browser can finish it now.
    let late = fedgate_tests::hop_in(&attacker, &callback).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(w.google.with(|s| s.token_calls), 0);
    let federated = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        fedgate_storage::entity::federated_user::Entity::find()
            .count(&w.app.db)
            .await
            .unwrap()
    };
    assert_eq!(federated, 0, "nobody signed in");
}

#[tokio::test]
async fn logins_in_two_tabs_of_one_browser_both_complete() {
    let w = World::start(json!({})).await;
    w.google.add("ann", Person::gmail("ann"));
    w.google.add("bob", Person::gmail("bob"));
    let tab = |hint: &'static str| {
        let url = w.app.login_url(&w.app_id, &format!("login_hint={hint}"));
        async move {
            let start = hop(&url).await;
            hop(start.location.as_deref().unwrap()).await
        }
    };
    // Both started before either comes back: the second start keeps the cookie.
    let (ann, bob) = (tab("ann").await, tab("bob").await);
    for at_google in [bob, ann] {
        let back = hop(at_google.location.as_deref().unwrap()).await;
        assert_eq!(back.target(), APP_REDIRECT);
        assert!(back.params().contains_key("autoLoginToken"), "{back:?}");
    }
}

#[tokio::test]
async fn abandoned_starts_take_no_room_and_a_full_state_store_refuses_only_records_it_must_keep() {
    let w = World::start_with(
        |s| {
            // The in-process store, whatever the backend, at its smallest capacity.
            s.redis_url = None;
            s.memory_state_capacity_mib = 1;
            s.limits.login_starts_per_address_per_minute = 100_000;
            s.limits.login_starts_per_application_per_minute = 100_000;
        },
        json!({}),
    )
    .await;
    w.google.add("ann", Person::gmail("ann"));
    let start = hop(&w.app.login_url(&w.app_id, "login_hint=ann")).await;
    let at_google = hop(start.location.as_deref().unwrap()).await;

    // Someone starts logins and never finishes them. Their records travel sealed in
    // the state sent to the provider and take no room here: far more of them than a
    // 1 MiB store could hold all go to the provider.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let small = w.app.login_url(&w.app_id, "state=abandoned");
    for i in 0..3000 {
        let res = client.get(&small).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "start {i}");
    }

    // A record too large to travel in the state (a 2 KiB app state) is kept in the
    // store: those fill it, and then new ones are refused.
    let large = w
        .app
        .login_url(&w.app_id, &format!("state={}", "x".repeat(2048)));
    let mut started = 0;
    let refused = loop {
        let res = client.get(&large).send().await.unwrap();
        if res.status() != StatusCode::FOUND {
            break res;
        }
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let state = provider_state(&location);
        assert_eq!(state.len(), 43, "a kept record's state is a random key");
        started += 1;
        assert!(started < 5000, "a 1 MiB store never filled up");
    };
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "30");
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Too many sign-ins are under way")
    );
    assert!(started > 100, "only {started} large logins fitted in 1 MiB");
    eprintln!("{started} pending large logins filled 90 % of a 1 MiB in-process store");

    // Logins that need no room still start, and the one started before finishes.
    assert_eq!(
        client.get(&small).send().await.unwrap().status(),
        StatusCode::FOUND
    );
    let back = hop(at_google.location.as_deref().unwrap()).await;
    assert_eq!(back.target(), APP_REDIRECT);
    assert!(back.params().contains_key("autoLoginToken"), "{back:?}");
    // Still full for records it would have to keep.
    assert_eq!(
        client.get(&large).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// The `state` a start sent to the provider.
fn provider_state(location: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}
