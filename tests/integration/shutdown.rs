//! SIGTERM during load, on the real binary: in-flight logins complete, the event
//! batch is flushed, the process exits cleanly, and nothing is lost — what the
//! restarted binary reads back is every login.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fedgate_tests::{APP_REDIRECT, Browser, FakeGoogle, Person, TokenMode, hop_in, other_browser};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The `fedgate` binary beside this test binary (`<target>/debug/fedgate`; the test
/// command builds it first).
fn binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("fedgate");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build -p fedgate-server; ./scripts/test does)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on `data` and waits until it is ready.
#[expect(
    clippy::zombie_processes,
    reason = "the child is returned, and the caller waits for it"
)]
async fn start(data: &std::path::Path, port: u16, google: &FakeGoogle) -> Child {
    let mut child = Command::new(binary())
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FEDGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "FEDGATE_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .env("FEDGATE_DATA_DIR", data)
        .env("FEDGATE_LOG_LEVEL", "warn")
        .env("FEDGATE_DEV_PROVIDER", "off")
        .env("FEDGATE_SHUTDOWN_TIMEOUT_SECONDS", "20")
        .env("FEDGATE_TESTING__OUTBOUND_LOOPBACK_ONLY", "true")
        .envs(google.override_env())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fedgate did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sigterm_during_load_lets_in_flight_logins_finish_and_loses_no_event() {
    let google = FakeGoogle::start().await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut fedgate = start(data.path(), port, &google).await;

    let mut owner = Browser::at(&base);
    let (status, _) = owner
        .sign_up("owner@example.com", "correct horse battery staple")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let app_id = owner.create_app("Chat").await.id;
    owner.configure_google(&app_id, &google, json!({})).await;

    // Eight people past the provider's sign-in; their callbacks wait ~1 s on code
    // redemption, so they are in flight when the signal comes.
    const PEOPLE: usize = 8;
    google.with(|s| s.token_mode = TokenMode::Slow(Duration::from_millis(1200)));
    let mut callbacks = Vec::new();
    for i in 0..PEOPLE {
        google.add(&format!("p{i}"), Person::gmail(&format!("person{i}")));
        let browser = other_browser();
        let start = hop_in(
            &browser,
            &format!("{base}/hosted/{app_id}/google/login?login_hint=p{i}&state=s{i}"),
        )
        .await;
        assert_eq!(start.status, StatusCode::FOUND, "{}", start.body);
        let at_google = hop_in(&browser, start.location.as_deref().unwrap()).await;
        let callback = at_google.location.clone().unwrap();
        callbacks.push(tokio::spawn(
            async move { hop_in(&browser, &callback).await },
        ));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &fedgate.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());

    for (i, c) in callbacks.into_iter().enumerate() {
        let back = c.await.unwrap();
        assert_eq!(
            back.status,
            StatusCode::FOUND,
            "login {i} was cut off: {}",
            back.body
        );
        assert_eq!(back.target(), APP_REDIRECT);
        let p = back.params();
        assert!(p.contains_key("linkedUser"), "login {i}: {p:?}");
        assert_eq!(p["state"], format!("s{i}"));
    }
    let exited = tokio::task::spawn_blocking(move || fedgate.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exited.success(), "fedgate exited with {exited}");
    assert!(signalled.elapsed() < Duration::from_secs(15));

    // Restarted on the same data: every login is there, and every start's event.
    google.with(|s| s.token_mode = TokenMode::Normal);
    let mut again = start(data.path(), port, &google).await;
    let mut owner = Browser::at(&base);
    let (status, _) = owner
        .sign_in("owner@example.com", "correct horse battery staple")
        .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<Value> = owner
        .get(&format!(
            "/manage/v1/applications/{app_id}/events?limit=100"
        ))
        .await
        .json()
        .await
        .unwrap();
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(
        (
            count("login_started"),
            count("login_succeeded"),
            count("login_failed")
        ),
        (PEOPLE, PEOPLE, 0)
    );
    let users: Value = owner
        .get(&format!("/manage/v1/applications/{app_id}/users"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        users["users"].as_array().map_or(0, Vec::len),
        PEOPLE,
        "{users}"
    );
    again.kill().unwrap();
    let _ = again.wait();
}
