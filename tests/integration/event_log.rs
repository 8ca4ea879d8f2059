//! The event log cannot be grown without bound by traffic without credentials: failed
//! logins past a per-application budget are counted in one summary event, and events
//! past the retention period are deleted.

use fedgate_tests::{GoogleWorld as World, hop};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn failed_logins_past_the_budget_are_counted_in_one_summary() {
    let w = World::start_with(
        |s| s.limits.failure_events_per_application_per_minute = 5,
        json!({}),
    )
    .await;
    // Start at the beginning of a minute of the server's clock, so all twelve
    // failures fall in one.
    let second = (fedgate_tests::unix_now() + w.app.clock.ahead()).rem_euclid(60);
    w.app.clock.advance(60 - second + 1);
    let forged = format!(
        "{}/hosted/{}/google/callback?state=forged-by-a-stranger",
        w.app.public_address(),
        w.app_id
    );
    for _ in 0..12 {
        assert_eq!(hop(&forged).await.status, StatusCode::BAD_REQUEST);
    }
    let failures = w.owner.events(&w.app_id, "?kind=login_failed").await;
    assert_eq!(failures.len(), 5, "only the budget is stored one by one");
    assert!(
        failures
            .iter()
            .all(|e| e["reason"] == "state_unknown_or_expired")
    );

    // Once the minute is over, the rest is there as one event.
    w.app.clock.advance(60);
    let failures = w.owner.events(&w.app_id, "?kind=login_failed").await;
    assert_eq!(failures.len(), 6, "{failures:#?}");
    let summary = &failures[0];
    assert_eq!(summary["reason"], "events_not_stored");
    assert!(
        summary["detail"]
            .as_str()
            .unwrap()
            .starts_with("7 more failed logins in the minute from"),
        "{summary}"
    );
}

#[tokio::test]
async fn events_past_the_retention_period_are_deleted() {
    let w = World::start(json!({})).await;
    let start = hop(&w.app.login_url(&w.app_id, "state=s")).await;
    assert_eq!(start.status, StatusCode::FOUND);
    assert_eq!(w.owner.events(&w.app_id, "").await.len(), 1);
    let retention = w.app.settings.event_retention_days;
    assert_eq!(retention, 90, "the default");
    let sweep = || async {
        fedgate_server::maintenance::sweep(&w.app.storage(), w.app.clock.as_ref(), retention)
            .await
            .unwrap()
    };

    w.app.clock.advance(89 * 24 * 3600);
    assert_eq!(sweep().await.old_events, 0);
    assert_eq!(w.owner.events(&w.app_id, "").await.len(), 1, "kept 89 days");
    w.app.clock.advance(2 * 24 * 3600);
    assert_eq!(sweep().await.old_events, 1);
    assert!(
        w.owner.events(&w.app_id, "").await.is_empty(),
        "gone after 91 days"
    );
}
