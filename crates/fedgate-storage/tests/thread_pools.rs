//! PostgreSQL pools of the threads that serve requests: each serving thread queries
//! through connections it opened itself, so its reads never wait on another thread's
//! runtime; other threads, and a serving thread whose runtime has ended, use the
//! shared pool. A serving thread's logins pass their connection on to its next login
//! without giving it back to the pool in between, never leaving the pool without a
//! connection for a read, and never one that waited long enough to have been dropped.
//! PostgreSQL must be reachable (FG_TEST_POSTGRES_URL, default
//! postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use fedgate_domain::federation::ProviderProfile;
use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::{
    ApplicationRepository, IdentityKey, LoginAttempt, LoginRepository, LoginTransaction, StoreError,
};
use fedgate_storage::SeaStore;
use sea_orm::ConnectionTrait;

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A thread that serves, the way an actix worker does: a runtime of its own, then
/// `serve_from_this_thread`, then three reads, each within two seconds. It says how
/// they went on `done`, then — its runtime stalled, as a worker busy with something
/// else — waits for `release`.
fn serving_thread(
    store: &SeaStore,
    app: ApplicationId,
    done: mpsc::Sender<bool>,
    release: mpsc::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    let store = store.clone();
    std::thread::spawn(move || {
        current_thread_runtime().block_on(async {
            store.serve_from_this_thread();
            let mut read = true;
            for _ in 0..3 {
                let found =
                    tokio::time::timeout(Duration::from_secs(2), store.find_application(app)).await;
                read &= matches!(found, Ok(Ok(Some(_))));
            }
            // The connections go back to the pool (a task of this runtime) …
            tokio::time::sleep(Duration::from_millis(100)).await;
            done.send(read).unwrap();
            // … and this runtime then runs nothing until released.
            release.recv().unwrap();
        });
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_serving_thread_reads_while_another_threads_runtime_is_stalled() {
    let store = common::postgres_serving(10, 2).await;
    let app = common::application(&store).await;
    let (shared, _) = store.pool_connections();
    let (done, finished) = mpsc::channel();
    let (release_first, first_released) = mpsc::channel();
    let first = serving_thread(&store, app, done.clone(), first_released);
    let finished = tokio::task::spawn_blocking(move || {
        let first = finished.recv().unwrap();
        (first, finished)
    });
    let (first_read, finished) = finished.await.unwrap();
    assert!(first_read, "the first thread reads");
    // The first thread's connection is idle now, and its runtime stalled. Through one
    // shared pool the second thread would be handed it, and its answer would wait for
    // the stalled runtime to notice it.
    let (release_second, second_released) = mpsc::channel();
    let second = serving_thread(&store, app, done, second_released);
    let second_read = tokio::task::spawn_blocking(move || finished.recv().unwrap())
        .await
        .unwrap();
    assert!(
        second_read,
        "the second thread reads through its own connection"
    );
    let (open, _) = store.pool_connections();
    assert!(open >= shared + 2, "each thread opened its own: {open}");
    assert!(open <= shared + 6, "within their shares (3 each): {open}");
    release_first.send(()).unwrap();
    release_second.send(()).unwrap();
    first.join().unwrap();
    second.join().unwrap();
    // Their runtimes ended: their pools serve no one and are not counted.
    assert_eq!(store.pool_connections().0, shared);
}

#[test]
fn a_serving_thread_whose_runtime_ended_reads_through_the_shared_pool() {
    // The shared pool's connections run on a runtime that keeps running.
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (store, app) = main.block_on(async {
        let store = common::postgres_serving(10, 2).await;
        let app = common::application(&store).await;
        (store, app)
    });
    let first = current_thread_runtime();
    first.block_on(async {
        store.serve_from_this_thread();
        assert!(store.find_application(app).await.unwrap().is_some());
        // The connection goes back to the pool, idle.
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    // The connection this thread opened was driven by the runtime that has now ended:
    // a read through it would fail.
    drop(first);
    current_thread_runtime().block_on(async {
        assert!(store.find_application(app).await.unwrap().is_some());
        // Its share is spent: serving again changes nothing.
        store.serve_from_this_thread();
        assert!(store.find_application(app).await.unwrap().is_some());
    });
}

/// The first attempt of a login of `subject` that claims its identity and commits: its
/// read, then its write (an insert for a new identity, an update for a known one).
async fn claim(store: &SeaStore, app: ApplicationId, subject: &str) -> Result<(), StoreError> {
    claimed(store, app, subject).await?.commit().await
}

/// [`claim`] up to its commit.
async fn claimed(
    store: &SeaStore,
    app: ApplicationId,
    subject: &str,
) -> Result<Box<dyn LoginTransaction>, StoreError> {
    let key = IdentityKey {
        application_id: app,
        provider_config: "google".into(),
        issuer: "https://accounts.google.com".into(),
        subject: subject.into(),
    };
    let profile = ProviderProfile {
        subject: subject.into(),
        ..ProviderProfile::default()
    };
    let mut txn = store.begin_login(LoginAttempt::First).await?;
    txn.claim_identity(&key, &profile, Utc::now(), &[]).await?;
    Ok(txn)
}

/// Runs `work` on a thread that serves, the way an actix worker does (a runtime of its
/// own, [`SeaStore::serve_from_this_thread`]).
fn on_a_serving_thread<F>(store: &SeaStore, work: impl FnOnce(SeaStore) -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    let store = store.clone();
    std::thread::spawn(move || {
        current_thread_runtime().block_on(async {
            store.serve_from_this_thread();
            work(store).await;
        });
    })
    .join()
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_serving_threads_logins_pass_their_connection_on_and_leave_the_pool_one() {
    // The serving thread's pool: 2 connections.
    let store = common::postgres_serving(4, 1).await;
    let app = common::application(&store).await;
    let (shared, _) = store.pool_connections();
    on_a_serving_thread(&store, move |store| async move {
        claim(&store, app, "ann").await.unwrap();
        assert_eq!(store.parked_connections(), 1, "kept for the next login");
        claim(&store, app, "ann").await.unwrap();
        claim(&store, app, "bob").await.unwrap();
        assert_eq!(store.parked_connections(), 1);
        assert_eq!(
            store.pool_connections().0,
            shared + 1,
            "one connection went from login to login"
        );

        // Two logins at once hold both connections; neither is kept when the pool
        // would be left with no connection and no room for one.
        let first = claimed(&store, app, "cid").await.unwrap();
        let second = claimed(&store, app, "dan").await.unwrap();
        assert_eq!(store.parked_connections(), 0);
        first.commit().await.unwrap();
        second.commit().await.unwrap();
        assert!(store.parked_connections() <= 1);
        // A read through the pool does not wait for a kept connection.
        let read = tokio::time::timeout(Duration::from_secs(2), store.find_application(app)).await;
        assert!(matches!(read, Ok(Ok(Some(_)))), "{read:?}");
        // Nor a transaction begun through the pool (a login's retry).
        let retry = tokio::time::timeout(Duration::from_secs(2), async {
            store.begin_login(LoginAttempt::Retry).await?.commit().await
        })
        .await;
        assert!(matches!(retry, Ok(Ok(()))), "{retry:?}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_connection_kept_too_long_for_the_next_login_is_tested_first() {
    let store = common::postgres_serving(4, 1).await;
    let app = common::application(&store).await;
    on_a_serving_thread(&store, move |store| async move {
        claim(&store, app, "ann").await.unwrap();
        assert_eq!(store.parked_connections(), 1);
        // The server drops every other connection (a restart, an idle timeout of a
        // proxy) while the kept one waits.
        store
            .connection()
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        // Kept longer than the pool leaves an idle connection untested, it goes back
        // to the pool, which finds it closed and opens another.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        claim(&store, app, "ann").await.unwrap();
        claim(&store, app, "bob").await.unwrap();
        assert_eq!(store.parked_connections(), 1);
    });
}
