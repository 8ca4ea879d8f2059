//! The `fedgate` binary as an operator runs it.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] fns fail loudly by design"
)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fedgate");

fn fedgate(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FEDGATE_DATA_DIR", data)
        .env("FEDGATE_LOG_LEVEL", "info");
    cmd
}

#[test]
fn migrate_creates_the_embedded_database_and_a_private_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = fedgate(&data).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("fedgate.sqlite3").is_file());
    // `migrate` opens the database only; the key is made by the first `serve`.
    assert!(!data.join("master.key").exists());
    let again = fedgate(&data).arg("migrate").output().unwrap();
    assert!(again.status.success(), "migrations are idempotent");
}

#[test]
fn unknown_configuration_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = fedgate(dir.path())
        .env("FEDGATE_LISTN", "127.0.0.1:1")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listn"), "{err}");

    let out = fedgate(dir.path()).arg("frobnicate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: fedgate"));
}

#[test]
fn an_external_database_requires_an_explicit_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::env::var("FG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let out = fedgate(dir.path())
        .env("FEDGATE_DATABASE_URL", format!("{base}/postgres"))
        .env("FEDGATE_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FEDGATE_MASTER_KEY is required"));
}

/// Signs up, creates an application with Google credentials and an access key, and
/// returns the secrets that were sent or received on the way.
async fn exercise_secrets(base: &str) -> Vec<String> {
    use serde_json::{Value, json};
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let post = |path: String, csrf: Option<&str>, body: Value| {
        let mut rb = client.post(format!("{base}{path}")).json(&body);
        if let Some(csrf) = csrf {
            rb = rb.header("x-csrf-token", csrf);
        }
        async move {
            let res = rb.send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            res.json::<Value>().await.unwrap()
        }
    };
    let password = "a-very-private-passphrase";
    let session = post(
        "/manage/v1/signup".into(),
        None,
        json!({"email": "ops@example.com", "password": password}),
    )
    .await;
    let csrf = session["csrfToken"].as_str().unwrap().to_owned();
    let app = post(
        "/manage/v1/applications".into(),
        Some(&csrf),
        json!({"name": "Chat"}),
    )
    .await;
    let apps = format!("/manage/v1/applications/{}", app["id"].as_str().unwrap());
    let client_secret = "GOCSPX-never-log-this-value";
    let google = json!({"kind": "google_oauth_credentials", "instanceName": "g", "clientId": "id", "clientSecret": client_secret});
    post(format!("{apps}/properties"), Some(&csrf), google).await;
    let key = post(format!("{apps}/access-keys"), Some(&csrf), json!({})).await;
    vec![
        password.to_owned(),
        client_secret.to_owned(),
        key["secret"].as_str().unwrap().to_owned(),
        csrf,
    ]
}

#[tokio::test]
async fn serve_generates_a_0600_master_key_keeps_secrets_out_of_logs_and_stops_gracefully_on_sigterm()
 {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = fedgate(dir.path())
        .env("FEDGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FEDGATE_LOG_FORMAT", "json")
        .env("FEDGATE_LOG_LEVEL", "debug")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let started = Instant::now();
    loop {
        if reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secrets = exercise_secrets(&format!("http://127.0.0.1:{port}")).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "exit: {:?}", out.status);
    let logs = String::from_utf8_lossy(&out.stdout);
    // Structured logs: one JSON object per line, request lines carry the request id.
    let request_line = logs
        .lines()
        .find(|l| l.contains("request finished"))
        .expect("an access log line");
    let parsed: serde_json::Value = serde_json::from_str(request_line).unwrap();
    assert!(
        parsed["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 32),
        "{request_line}"
    );
    assert!(logs.contains("fedgate stopped"), "{logs}");
    let all = format!("{logs}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        all.contains("property created") && all.contains("access key created"),
        "the flow was logged"
    );
    for secret in secrets {
        assert!(!all.contains(&secret), "a secret reached the logs");
    }
}
