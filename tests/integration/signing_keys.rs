//! User-token signing keys: created with the application, rotated with the next key
//! published first, retired keys kept until their tokens have expired, then removed.

use fedgate_tests::{Browser, Signer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct World {
    app: TestApp,
    owner: Browser,
    app_id: String,
    api: Signer,
}

impl World {
    async fn start() -> Self {
        let app = spawn_app().await;
        let owner = app.subscriber().await;
        let app_id = owner.create_app("Chat").await.id;
        let key = owner.create_key(&app_id).await;
        let api = app.signer(&key.key.id, &key.secret);
        app.seed_user(&app_id, "ann", "ann@example.com", true).await;
        Self {
            app,
            owner,
            app_id,
            api,
        }
    }

    async fn jwks_kids(&self) -> Vec<String> {
        let res = reqwest::get(format!(
            "{}/hosted/{}/jwks.json",
            self.app.address, self.app_id
        ))
        .await
        .unwrap();
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        let body: Value = res.json().await.unwrap();
        body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn keys(&self) -> Value {
        let res = self
            .owner
            .get(&format!(
                "/manage/v1/applications/{}/signing-keys",
                self.app_id
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn rotate(&self) -> (StatusCode, Value) {
        let res = self
            .owner
            .post(
                &format!(
                    "/manage/v1/applications/{}/signing-keys/rotate",
                    self.app_id
                ),
                &json!({}),
            )
            .await;
        (res.status(), res.json().await.unwrap())
    }

    /// Issues a token for ann living `ttl` seconds; returns it and its `kid`.
    async fn issue(&self, ttl: i64) -> (String, String) {
        let res = self
            .api
            .send(
                Method::POST,
                "/api/v1/users/ann/tokens",
                Some(&json!({"ttlSeconds": ttl})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        (token, kid)
    }

    async fn verify(&self, token: &str) -> Value {
        let res = self
            .api
            .send(
                Method::POST,
                "/api/v1/tokens/verify",
                Some(&json!({"token": token})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }
}

fn statuses(keys: &Value) -> Vec<(String, String)> {
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_application_publishes_its_key_before_any_token_is_signed() {
    let w = World::start().await;
    let published = w.jwks_kids().await;
    assert_eq!(published.len(), 1, "in the JWKS from the start");
    let keys = w.keys().await;
    assert_eq!(
        statuses(&keys),
        vec![(published[0].clone(), "signing".into())]
    );
    assert_eq!(
        keys["jwksUri"],
        format!("{}/hosted/{}/jwks.json", w.app.public_address(), w.app_id)
    );
    let (_, kid) = w.issue(3600).await;
    assert_eq!(kid, published[0], "the first token uses the published key");
}

#[tokio::test]
async fn a_rotation_publishes_the_next_key_first_signs_with_it_later_and_retires_the_old_one() {
    let w = World::start().await;
    let old = w.jwks_kids().await.remove(0);
    let (long_lived, _) = w.issue(30 * 24 * 3600).await;
    let (short_lived, _) = w.issue(3600).await;

    let (status, rotated) = w.rotate().await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let next = statuses(&rotated)[1].0.clone();
    assert_eq!(
        statuses(&rotated),
        vec![
            (old.clone(), "signing".into()),
            (next.clone(), "next".into())
        ]
    );
    assert_eq!(rotated["nextKeyDelaySeconds"], 310);
    assert_eq!(
        w.jwks_kids().await,
        vec![old.clone(), next.clone()],
        "published at once"
    );
    let (_, kid) = w.issue(3600).await;
    assert_eq!(
        kid, old,
        "the next key does not sign before verifiers can know it"
    );
    // A second rotation waits for the first.
    let (status, refused) = w.rotate().await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("rotation_pending"))
    );

    // After the JWKS max-age (and the instances' key cache) the next key signs.
    w.app.clock.advance(311);
    let (fresh, kid) = w.issue(3600).await;
    assert_eq!(kid, next);
    let keys = w.keys().await;
    assert_eq!(
        statuses(&keys),
        vec![
            (old.clone(), "retired".into()),
            (next.clone(), "signing".into())
        ]
    );
    assert!(keys["keys"][0]["removedAt"].is_string());
    // Tokens of both keys verify; the retired key stays published.
    assert_eq!(w.verify(&fresh).await["active"], true);
    assert_eq!(w.verify(&short_lived).await["active"], true);
    assert_eq!(w.jwks_kids().await, vec![old.clone(), next.clone()]);

    // Just before the longest token lifetime has passed since its retirement, the
    // retired key is still there; the long-lived token has expired by then.
    w.app.clock.advance(30 * 24 * 3600 - 10);
    assert_eq!(w.jwks_kids().await, vec![old.clone(), next.clone()]);
    assert_eq!(w.verify(&long_lived).await["reason"], "expired");
    // Then it is removed: out of the JWKS, and its tokens fail on their signature.
    w.app.clock.advance(20);
    assert_eq!(w.jwks_kids().await, vec![next.clone()]);
    let verdict = w.verify(&long_lived).await;
    assert_eq!(
        (verdict["active"].as_bool(), verdict["reason"].as_str()),
        (Some(false), Some("signature"))
    );
    assert_eq!(statuses(&w.keys().await)[0].1, "removed");
    // The next rotation deletes it.
    let (status, again) = w.rotate().await;
    assert_eq!(status, StatusCode::OK);
    let kids: Vec<String> = statuses(&again).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&old) && kids[0] == next);
}

#[tokio::test]
async fn only_the_owner_sees_and_rotates_an_applications_keys() {
    let w = World::start().await;
    let stranger = w.app.subscriber().await;
    let path = format!("/manage/v1/applications/{}/signing-keys", w.app_id);
    assert_eq!(stranger.get(&path).await.status(), StatusCode::NOT_FOUND);
    let res = stranger.post(&format!("{path}/rotate"), &json!({})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.jwks_kids().await.len(), 1, "nothing rotated");
    let anonymous = w.app.browser();
    assert_eq!(
        anonymous.get(&path).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_key_made_before_rotation_existed_moves_over_and_keeps_signing() {
    use fedgate_domain::seal::{MasterKey, SealContext, Sealer};
    use fedgate_storage::entity::{application, subscriber};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
    use sea_orm_migration::MigratorTrait;
    use sea_orm_migration::prelude::{Alias, Query};
    use secrecy::ExposeSecret;

    // A database as the previous version left it: one key in `signing_keys`.
    let dir = tempfile::tempdir().unwrap();
    let url = fedgate_tests::empty_database_url(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    fedgate_migrations::Migrator::up(&db, Some(5))
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let (owner, app) = (
        uuid::Uuid::new_v4(),
        fedgate_domain::ids::ApplicationId::generate(),
    );
    subscriber::ActiveModel {
        id: Set(owner),
        email: Set("old@example.com".into()),
        email_normalized: Set("old@example.com".into()),
        password_hash: Set("x".into()),
        created_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    application::ActiveModel {
        id: Set(app.as_uuid()),
        subscriber_id: Set(owner),
        name: Set("Legacy".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let master = MasterKey::generate();
    let pair = fedgate_tokens::generate_key().unwrap();
    let sealed = Sealer::new(&master).seal(
        &SealContext {
            purpose: fedgate_tokens::SEAL_PURPOSE,
            application_id: app,
            row_id: &pair.kid,
        },
        pair.private_pkcs8.expose_secret(),
    );
    let insert = Query::insert()
        .into_table(Alias::new("signing_keys"))
        .columns(
            [
                "kid",
                "application_id",
                "algorithm",
                "sealed_private",
                "public_key",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            pair.kid.clone().into(),
            app.as_uuid().into(),
            "EdDSA".into(),
            sealed.into(),
            pair.public_x.clone().into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();
    db.close().await.unwrap();

    // The new version migrates and serves it.
    let mut settings = fedgate_server::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(url),
        master_key: Some(master.to_base64()),
        dev_provider: fedgate_server::config::DevProvider::Off,
        log_level: "error".into(),
        workers: 1,
        ..fedgate_server::Settings::default()
    };
    if fedgate_tests::backend() == fedgate_tests::Backend::Postgres {
        settings.redis_url = Some(
            std::env::var("FG_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        );
        settings.redis_prefix = format!("fgtest:{}:", uuid::Uuid::new_v4().simple());
    }
    let server = fedgate_server::Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let jwks: Value = reqwest::get(format!("{address}/hosted/{app}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], pair.kid.as_str());
    assert_eq!(jwks["keys"][0]["x"], pair.public_x.as_str());
}
