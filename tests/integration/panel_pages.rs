//! The panel's pages and assets as the server delivers them: rendered HTML that loads
//! only our own files, the wasm with the type browsers need, revalidation by ETag.
//! (The browser suite in tests/e2e/panel.mjs drives the pages themselves.)

use fedgate_tests::spawn_app;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn pages_are_rendered_by_the_server_and_load_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let client = no_redirects();
    for path in [
        "/panel",
        "/panel/signin",
        "/panel/signup",
        "/panel/apps/some-app/hosted-services",
    ] {
        let res = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let html = res.text().await.unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{path}");
        // A fresh nonce per response, and the inline script carries it.
        let nonce = html
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no CSP nonce"));
        assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "{path}");
        assert!(html.contains("script-src 'self' 'nonce-"), "{path}");
        assert!(html.contains(r#"<link rel="stylesheet" href="/panel/pkg/panel.css">"#));
        assert!(
            html.contains("/panel/pkg/fedgate_panel.js"),
            "{path}: hydration script"
        );
        assert!(html.contains("/panel/pkg/fedgate_panel_bg.wasm"), "{path}");
        for foreign in ["http://", "https://", "src=\"//", "href=\"//"] {
            assert!(!html.contains(foreign), "{path} refers to {foreign}…");
        }
    }
    let signin = client
        .get(format!("{}/panel/signin", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        signin.contains(r#"<label for="email">Email</label>"#),
        "server-rendered form"
    );
    let missing = client
        .get(format!("{}/panel/no/such/page", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    let slash = client
        .get(format!("{}/panel/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(slash.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(slash.headers()[LOCATION], "/panel");
}

#[tokio::test]
async fn assets_are_served_with_their_types_and_revalidated() {
    let app = spawn_app().await;
    let client = no_redirects();
    let get = |file: &str| client.get(format!("{}/panel/pkg/{file}", app.address));
    for (file, kind) in [
        ("fedgate_panel_bg.wasm", "application/wasm"),
        ("fedgate_panel.js", "text/javascript; charset=utf-8"),
        ("panel.css", "text/css; charset=utf-8"),
    ] {
        let res = get(file).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{file}");
        assert_eq!(res.headers()[CONTENT_TYPE], kind);
        assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
        let etag = res.headers()[ETAG].clone();
        let body = res.bytes().await.unwrap();
        assert!(!body.is_empty());
        if file.ends_with(".wasm") {
            assert_eq!(&body[..4], b"\0asm");
        } else {
            let text = String::from_utf8(body.to_vec()).unwrap();
            let foreign = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .find(|l| l.contains("http://") || l.contains("https://"));
            assert_eq!(foreign, None, "{file} loads nothing from elsewhere");
        }
        let again = get(file).header(IF_NONE_MATCH, etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{file}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    assert_eq!(
        get("secrets.txt").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("..%2Fmaster.key").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
