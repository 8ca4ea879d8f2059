//! An in-process webhook endpoint: records every POST (headers and body) and answers
//! with the status a test sets — to see what Fedgate delivers, how often, and how it
//! signs.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request received.
#[derive(Clone)]
pub struct Received {
    /// Its headers, as an `http` 1 map (what the Standard Webhooks library takes).
    pub headers: reqwest::header::HeaderMap,
    /// Its body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}",
            self.header("webhook-id"),
            String::from_utf8_lossy(&self.body)
        )
    }
}

impl Received {
    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The body as JSON.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct Inner {
    received: Vec<Received>,
    status: Option<u16>,
}

/// The endpoint.
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn hook(
    state: web::Data<WebhookReceiver>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in req.headers() {
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            reqwest::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(n, v);
        }
    }
    let status = {
        let mut inner = state.inner.lock().unwrap();
        inner.received.push(Received {
            headers,
            body: body.to_vec(),
        });
        inner.status.unwrap_or(204)
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl WebhookReceiver {
    /// Starts one on a free loopback port, answering 204.
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            inner: Arc::default(),
        };
        let data = web::Data::new(me.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(hook))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        me
    }

    /// Answers every request from now on with `status`.
    pub fn answer(&self, status: u16) {
        self.inner.lock().unwrap().status = Some(status);
    }

    /// Everything received so far.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (up to 15 s) until at least `n` requests have arrived; all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let got = self.received();
        panic!(
            "expected {n} webhook deliveries, got {}: {got:?}",
            got.len()
        );
    }
}
