//! The event log on both databases: what is appended is what is listed, field for
//! field, whatever the text holds and however many events go at once. PostgreSQL must
//! be reachable (FG_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432).

#![expect(clippy::unwrap_used, reason = "tests")]

mod common;

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use fedgate_domain::events::{Event, EventKind, EventQuery, LoginOutcome};
use fedgate_domain::ids::{ApplicationId, FederatedUserId, UserId};
use fedgate_domain::ports::EventRepository;
use fedgate_storage::SeaStore;

use common::{application, postgres, sqlite};

async fn stores(dir: &tempfile::TempDir) -> Vec<SeaStore> {
    vec![sqlite(dir, 5).await, postgres(5).await]
}

/// Every event of `app`, oldest first.
async fn listed(store: &SeaStore, app: ApplicationId) -> Vec<Event> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_events(
                app,
                &EventQuery {
                    before,
                    limit: 200,
                    ..EventQuery::default()
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        all.extend(page);
    }
    all.reverse();
    all
}

fn at(nanos: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 6, 47, 14).unwrap()
        + chrono::Duration::nanoseconds(nanos.into())
}

/// The events a login leaves, with every field and with text a statement could trip
/// on: quotes, backslashes, a `$1`, a cast, a line break, characters outside ASCII,
/// and values longer than their columns.
fn varied(app: ApplicationId) -> Vec<Event> {
    let mut started = Event::new(app, EventKind::LoginStarted, at(1));
    started.provider = Some("google".into());

    let mut failed = Event::new(app, EventKind::LoginFailed, at(123_456_789));
    failed.provider = Some(format!("oidc:{}", "p".repeat(150)));
    failed.reason = Some("id_token_invalid:nonce".into());
    failed.detail = Some(format!(
        "it's \"quoted\", a \\ back-slash, $1 and '$2'::json,\nnext line: é ü 🦀 — {}",
        "x".repeat(1200)
    ));

    let mut succeeded = Event::new(app, EventKind::LoginSucceeded, at(999_999_999));
    succeeded.provider = Some("google".into());
    succeeded.outcome = Some(LoginOutcome::LinkedByEmail);
    succeeded.federated_user_id = Some(FederatedUserId::generate());
    succeeded.user_id = Some(UserId::parse("user-1").unwrap());

    vec![started, failed, succeeded]
}

fn clamp(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_events_are_listed_as_they_were_written() {
    let dir = tempfile::tempdir().unwrap();
    for store in stores(&dir).await {
        let app = application(&store).await;
        let written = varied(app);
        store.append_events(&written).await.unwrap();
        store.append_events(&[]).await.unwrap();

        let read = listed(&store, app).await;
        assert_eq!(read.len(), written.len());
        for (w, r) in written.iter().zip(&read) {
            assert_eq!(r.id, w.id);
            assert_eq!(r.application_id, app);
            assert_eq!(r.kind, w.kind);
            // Kept to the microsecond at least (PostgreSQL cuts the rest), never
            // rounded up: the last event's 14.999999999 s stays in its second.
            assert_eq!(r.at.trunc_subsecs(6), w.at.trunc_subsecs(6));
            assert!(r.at <= w.at);
            assert_eq!(r.outcome, w.outcome);
            assert_eq!(r.reason, w.reason);
            assert_eq!(r.detail, w.detail.as_deref().map(|d| clamp(d, 1000)));
            assert_eq!(r.provider, w.provider.as_deref().map(|p| clamp(p, 100)));
            assert_eq!(r.federated_user_id, w.federated_user_id);
            assert_eq!(r.user_id, w.user_id);
        }
        assert!(read[1].detail.as_deref().unwrap().contains("🦀"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_lands_whole_and_only_in_its_application() {
    let dir = tempfile::tempdir().unwrap();
    for store in stores(&dir).await {
        let (app, other) = (application(&store).await, application(&store).await);
        let batch: Vec<Event> = (0..1_200)
            .map(|i| {
                let mut e = Event::new(app, EventKind::LoginStarted, Utc::now());
                e.provider = Some(format!("oidc:{i}"));
                e
            })
            .collect();
        store.append_events(&batch).await.unwrap();

        let read = listed(&store, app).await;
        assert_eq!(read.len(), 1_200);
        let ids: Vec<_> = read.iter().map(|e| e.id).collect();
        let expected: Vec<_> = batch.iter().map(|e| e.id).collect();
        assert_eq!(ids, expected);
        assert_eq!(read[1_199].provider.as_deref(), Some("oidc:1199"));
        assert!(listed(&store, other).await.is_empty());
    }
}
