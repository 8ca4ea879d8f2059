//! Uniqueness and limits under concurrency, on both databases. PostgreSQL must be
//! reachable (FG_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::Arc;

use chrono::Utc;
use fedgate_domain::access_key::NewAccessKey;
use fedgate_domain::email::Email;
use fedgate_domain::ids::SubscriberId;
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{AccessKeyRepository, Store, StoreError, SubscriberRepository};
use fedgate_domain::seal::{MasterKey, Sealer};
use fedgate_storage::SeaStore;
use sea_orm::ConnectionTrait;

use common::{application, postgres, sqlite};

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
    key_limit_holds_under_concurrency(postgres(20).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_key_limit_holds_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    key_limit_holds_under_concurrency(sqlite(&dir, 10).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_account_per_email() {
    one_account_per_email_under_concurrency(postgres(20).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_account_per_email() {
    let dir = tempfile::tempdir().unwrap();
    one_account_per_email_under_concurrency(sqlite(&dir, 10).await).await;
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, 10).await;
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}
