//! The curl, Python and JavaScript examples of docs/app-api.md, run against a live
//! server: the documentation cannot rot.

use std::process::Command;

use fedgate_tests::spawn_app;

/// The fenced blocks of docs/app-api.md whose info string is `<lang> fedgate-example`.
fn examples(lang: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/app-api.md"))
        .unwrap();
    let fence = format!("```{lang} fedgate-example\n");
    doc.split(&fence)
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap().to_owned())
        .collect()
}

async fn run(lang: &str, program: &str, file_name: &str, args: &[&str]) -> (String, String) {
    let blocks = examples(lang);
    assert_eq!(blocks.len(), 1, "one {lang} example in docs/app-api.md");
    let app = spawn_app().await;
    let owner = app.subscriber().await;
    let app_id = owner.create_app("Docs").await.id;
    let key = owner.create_key(&app_id).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, &blocks[0]).unwrap();
    let user = format!("docs-{lang}");
    let out = tokio::task::spawn_blocking({
        let (program, args, url, key_id, secret, user) = (
            program.to_owned(),
            args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(),
            app.address.clone(),
            key.key.id.clone(),
            key.secret.clone(),
            user.clone(),
        );
        move || {
            Command::new(program)
                .args(args)
                .arg(&path)
                .env("FEDGATE_URL", url)
                .env("FEDGATE_KEY_ID", key_id)
                .env("FEDGATE_KEY_SECRET", secret)
                .env("FEDGATE_EXAMPLE_USER", user)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{lang} example failed:\n{stdout}\n{stderr}"
    );
    // What the example did is visible through the typed client.
    let created = app.client(&key).get_user(&user).await.unwrap();
    assert_eq!(created.id, user);
    (stdout, created.screen_name.unwrap_or_default())
}

#[tokio::test]
async fn the_curl_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("sh", "bash", "example.sh", &[]).await;
    assert_eq!(name, "From curl");
    assert!(stdout.contains(r#""id":"docs-sh""#), "{stdout}");
}

#[tokio::test]
async fn the_python_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("python", "python3", "example.py", &[]).await;
    assert_eq!(name, "From Python");
    // Found by locator: the query string was signed in canonical form.
    assert!(stdout.contains("docs-python@example.com"), "{stdout}");
}

#[tokio::test]
async fn the_javascript_example_signs_requests_fedgate_accepts() {
    let (stdout, name) = run("js", "node", "example.mjs", &[]).await;
    assert_eq!(name, "From JavaScript");
    assert!(stdout.contains(r#""active":true"#), "{stdout}");
}
