//! Uniqueness and limits under concurrency, on both databases. PostgreSQL must be
//! reachable (FG_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use chrono::Utc;
use fedgate_domain::access_key::NewAccessKey;
use fedgate_domain::application::Application;
use fedgate_domain::email::Email;
use fedgate_domain::ids::{ApplicationId, SubscriberId};
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{
    AccessKeyRepository, ApplicationRepository, Store, StoreError, SubscriberRepository,
};
use fedgate_domain::seal::{MasterKey, Sealer};
use fedgate_storage::SeaStore;
use sea_orm::{ConnectionTrait, Database};

async fn postgres() -> SeaStore {
    let base = std::env::var("FG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("fg_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{base}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required and not reachable: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let store = SeaStore::connect(&format!("{base}/{name}"), 20)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

async fn sqlite(dir: &tempfile::TempDir) -> SeaStore {
    let store = SeaStore::connect(
        &format!("sqlite://{}/db.sqlite3?mode=rwc", dir.path().display()),
        10,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

async fn application(store: &SeaStore) -> ApplicationId {
    let owner = SubscriberId::generate();
    let email = Email::parse("email", &format!("{owner}@example.com")).unwrap();
    store
        .create_subscriber(owner, &email, &PasswordHashString("x".into()), Utc::now())
        .await
        .unwrap();
    let app = Application {
        id: ApplicationId::generate(),
        subscriber_id: owner,
        name: "a".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    store.create_application(&app).await.unwrap();
    app.id
}

/// Opens the pool's connections up front, so the burst below really runs in parallel.
async fn warm_pool(store: &Arc<SeaStore>) {
    let pings: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                store
                    .connection()
                    .execute_unprepared("SELECT 1")
                    .await
                    .unwrap();
            })
        })
        .collect();
    for p in pings {
        p.await.unwrap();
    }
}

async fn key_limit_holds_under_concurrency(store: SeaStore) {
    let store = Arc::new(store);
    let app = application(&store).await;
    let sealer = Sealer::new(&MasterKey::generate());
    warm_pool(&store).await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            let key = NewAccessKey::generate(app, &sealer, Utc::now());
            tokio::spawn(async move { store.insert_access_key(&key.stored, 5).await })
        })
        .collect();
    let mut inserted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => inserted += 1,
            Err(StoreError::LimitReached(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(inserted, 5);
    assert_eq!(store.list_access_keys(app).await.unwrap().len(), 5);
}

async fn one_account_per_email_under_concurrency(store: SeaStore) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            // Different spellings of one address.
            let email = Email::parse(
                "email",
                if i % 2 == 0 {
                    "Same@Example.com"
                } else {
                    "same@example.COM"
                },
            )
            .unwrap();
            tokio::spawn(async move {
                store
                    .create_subscriber(
                        SubscriberId::generate(),
                        &email,
                        &PasswordHashString("x".into()),
                        Utc::now(),
                    )
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_key_limit_holds_under_concurrency() {
    key_limit_holds_under_concurrency(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_key_limit_holds_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    key_limit_holds_under_concurrency(sqlite(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_account_per_email() {
    one_account_per_email_under_concurrency(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_account_per_email() {
    let dir = tempfile::tempdir().unwrap();
    one_account_per_email_under_concurrency(sqlite(&dir).await).await;
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}
