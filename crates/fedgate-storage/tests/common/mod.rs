//! The databases and the application every storage test starts from.

use chrono::Utc;
use fedgate_domain::application::Application;
use fedgate_domain::email::Email;
use fedgate_domain::ids::{ApplicationId, SubscriberId};
use fedgate_domain::password::PasswordHashString;
use fedgate_domain::ports::{ApplicationRepository, SubscriberRepository};
use fedgate_storage::SeaStore;
use sea_orm::{ConnectionTrait, Database};

/// A fresh PostgreSQL database, migrated, with a pool of `connections`.
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn postgres(connections: u32) -> SeaStore {
    postgres_serving(connections, 0).await
}

/// [`postgres`] with `connections` shared by `serving_threads` threads' pools and the
/// shared one ([`SeaStore::connect_serving`]).
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn postgres_serving(connections: u32, serving_threads: usize) -> SeaStore {
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
    let store = SeaStore::connect_serving(&format!("{base}/{name}"), connections, serving_threads)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// A fresh SQLite database in `dir`, migrated, with a pool of `connections`.
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn sqlite(dir: &tempfile::TempDir, connections: u32) -> SeaStore {
    let store = SeaStore::connect(
        &format!("sqlite://{}/db.sqlite3?mode=rwc", dir.path().display()),
        connections,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

/// A new subscriber's application.
pub async fn application(store: &SeaStore) -> ApplicationId {
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
