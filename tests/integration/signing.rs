use fedgate_tests::{Signer, Tamper, error_code, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PATH: &str = "/api/v1/application";

#[tokio::test]
async fn a_correctly_signed_request_names_its_application_and_key() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let res = app
        .signer(&k.key.id, &k.secret)
        .send(Method::GET, PATH, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": a.id, "name": "Chat", "accessKeyId": k.key.id})
    );

    // Query order is not part of the signature; the query itself is.
    let signer = app.signer(&k.key.id, &k.secret);
    let t = Tamper {
        signed_path_and_query: Some(format!("{PATH}?a=1&b=x%20y")),
        ..Tamper::default()
    };
    assert_eq!(
        signer
            .send_tampered(Method::GET, &format!("{PATH}?b=x+y&a=1"), None, &t)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_kind_of_wrong_signature_is_refused_with_its_own_code() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let signer = app.signer(&k.key.id, &k.secret);
    let body = json!({"x": 1});
    let cases = [
        (
            Tamper {
                secret: Some("fgs_wrong".into()),
                ..Tamper::default()
            },
            None,
            PATH,
            "signature_mismatch",
        ),
        (
            Tamper {
                signed_body: Some(b"{\"x\":2}".to_vec()),
                ..Tamper::default()
            },
            Some(&body),
            PATH,
            "signature_mismatch",
        ),
        (
            Tamper {
                signed_path_and_query: Some("/api/v1/applications".into()),
                ..Tamper::default()
            },
            None,
            PATH,
            "signature_mismatch",
        ),
        (
            Tamper {
                signed_path_and_query: Some(format!("{PATH}?x=2")),
                ..Tamper::default()
            },
            None,
            "/api/v1/application?x=1",
            "signature_mismatch",
        ),
        (
            // One second past the 300 s window, and one more for the seconds the
            // client's and the server's clocks are read in (a request sent late in
            // a second may be checked early in the next).
            Tamper {
                clock_offset: -302,
                ..Tamper::default()
            },
            None,
            PATH,
            "timestamp_out_of_window",
        ),
        (
            Tamper {
                clock_offset: 302,
                ..Tamper::default()
            },
            None,
            PATH,
            "timestamp_out_of_window",
        ),
        (
            Tamper {
                nonce: Some("bad nonce!".into()),
                ..Tamper::default()
            },
            None,
            PATH,
            "signature_malformed",
        ),
    ];
    for (tamper, body, path, code) in cases {
        let res = signer.send_tampered(Method::GET, path, body, &tamper).await;
        let status = res.status();
        let got = error_code(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{tamper:?}: {got}");
        assert_eq!(got, code, "{tamper:?}");
    }
    // Within the window is fine.
    let near = Tamper {
        clock_offset: -240,
        ..Tamper::default()
    };
    assert_eq!(
        signer
            .send_tampered(Method::GET, PATH, None, &near)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_nonce_works_once() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let signer = app.signer(&k.key.id, &k.secret);
    let t = Tamper {
        nonce: Some("replayed-nonce-0001".into()),
        ..Tamper::default()
    };
    assert_eq!(
        signer
            .send_tampered(Method::GET, PATH, None, &t)
            .await
            .status(),
        StatusCode::OK
    );
    let res = signer.send_tampered(Method::GET, PATH, None, &t).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "nonce_reused");
}

#[tokio::test]
async fn unsigned_unknown_and_foreign_keys() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("A").await;
    let other = b.create_app("B").await;
    let ka = b.create_key(&a.id).await;
    let kb = b.create_key(&other.id).await;

    let res = reqwest::get(format!("{}{PATH}", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "signature_missing");

    let res = app
        .signer("fgk_000000000000000000000000", &ka.secret)
        .send(Method::GET, PATH, None)
        .await;
    assert_eq!(error_code(res).await, "access_key_unknown");

    // Application B's key authenticates as B, never as A; A's key id with B's secret fails.
    let as_b: Value = app
        .signer(&kb.key.id, &kb.secret)
        .send(Method::GET, PATH, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(as_b["id"], other.id.as_str());
    let res = app
        .signer(&ka.key.id, &kb.secret)
        .send(Method::GET, PATH, None)
        .await;
    assert_eq!(error_code(res).await, "signature_mismatch");
}

#[tokio::test]
async fn a_key_secret_moved_to_another_row_is_unusable() {
    let app = spawn_app().await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k1 = b.create_key(&a.id).await;
    let k2 = b.create_key(&a.id).await;
    app.copy_key_secret(&k1.key.id, &k2.key.id).await;
    for secret in [&k1.secret, &k2.secret] {
        let res = app
            .signer(&k2.key.id, secret)
            .send(Method::GET, PATH, None)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(res).await, "access_key_unusable");
    }
    assert_eq!(
        app.signer(&k1.key.id, &k1.secret)
            .send(Method::GET, PATH, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn failures_naming_no_key_are_limited_per_address() {
    let app = spawn_app_with(|s| s.limits.api_auth_failures_per_minute = 3).await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let k = b.create_key(&a.id).await;
    let unknown = app.signer("fgk_00000000000000000000000000000000", "fgs_wrong");
    for _ in 0..3 {
        assert_eq!(
            unknown.send(Method::GET, PATH, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Past the limit this address is refused before anything is checked.
    let res = app
        .signer(&k.key.id, &k.secret)
        .send(Method::GET, PATH, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "60");
}

/// Two clients behind a trusted proxy at 127.0.0.1.
fn from(address: &str) -> Tamper {
    Tamper {
        forwarded_for: Some(address.to_owned()),
        ..Tamper::default()
    }
}

#[tokio::test]
async fn a_keys_failures_lock_out_that_key_from_that_address_only() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.limits.api_auth_failures_per_key_per_minute = 3;
        s.limits.api_auth_failures_per_minute = 3;
    })
    .await;
    let b = app.subscriber().await;
    let (chat, shop) = (b.create_app("Chat").await, b.create_app("Shop").await);
    let (k_chat, k_shop) = (b.create_key(&chat.id).await, b.create_key(&shop.id).await);
    let broken = app.signer(&k_chat.key.id, "fgs_wrong");
    let shared = from("198.51.100.1");
    for _ in 0..3 {
        let res = broken.send_tampered(Method::GET, PATH, None, &shared).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let chat_ok = app.signer(&k_chat.key.id, &k_chat.secret);
    let status = |signer: &Signer, t: Tamper| {
        let signer = signer.clone();
        async move {
            signer
                .send_tampered(Method::GET, PATH, None, &t)
                .await
                .status()
        }
    };
    // That key, from that address: refused, even correctly signed.
    assert_eq!(
        status(&chat_ok, from("198.51.100.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another tenant behind the same address is not touched (the failures named a
    // key, so they did not count against the address) ...
    let shop_ok = app.signer(&k_shop.key.id, &k_shop.secret);
    assert_eq!(status(&shop_ok, from("198.51.100.1")).await, StatusCode::OK);
    // ... nor is the key's owner at another address.
    assert_eq!(status(&chat_ok, from("203.0.113.9")).await, StatusCode::OK);
}

#[tokio::test]
async fn an_applications_keys_share_a_failure_limit_per_address() {
    let app = spawn_app_with(|s| {
        s.limits.api_auth_failures_per_key_per_minute = 3;
        s.limits.api_auth_failures_per_application_per_minute = 4;
    })
    .await;
    let b = app.subscriber().await;
    let a = b.create_app("Chat").await;
    let (k1, k2, k3) = (
        b.create_key(&a.id).await,
        b.create_key(&a.id).await,
        b.create_key(&a.id).await,
    );
    let wrong = |k: &fedgate_wire::keys::CreatedAccessKeyDto| app.signer(&k.key.id, "fgs_wrong");
    for _ in 0..3 {
        assert_eq!(
            wrong(&k1).send(Method::GET, PATH, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The fourth failure, with another key, reaches the application's limit.
    assert_eq!(
        wrong(&k2).send(Method::GET, PATH, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        wrong(&k2).send(Method::GET, PATH, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Now every key of the application is refused from this address.
    let res = app
        .signer(&k3.key.id, &k3.secret)
        .send(Method::GET, PATH, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}
