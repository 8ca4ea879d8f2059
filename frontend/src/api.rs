//! The panel's one way to the server: JSON calls to the management API from the
//! browser, carrying the session cookie and, on changes, the session's CSRF token. A
//! lapsed session sends the subscriber to sign in and back to where they were.
//!
//! Data is loaded in the browser only (`LocalResource`): the server renders each page
//! with its loading state, and nothing here runs on the server.

use fedgate_wire::error::{ErrorBody, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the management API lives.
pub const MANAGE: &str = "/manage/v1";

/// Why a call failed, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// The API's stable error code ([`ErrorCode::Unknown`] when the server could not
    /// be reached or did not answer with an API error).
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// The input the error is about, for validation errors.
    pub field: Option<String>,
    /// The server's request id, to quote to support.
    pub request_id: Option<String>,
}

impl Failure {
    fn unreachable() -> Self {
        Self {
            status: 0,
            code: ErrorCode::Unknown,
            message: "The server could not be reached. Check your connection and try again.".into(),
            field: None,
            request_id: None,
        }
    }

    #[cfg_attr(
        not(feature = "hydrate"),
        expect(dead_code, reason = "only the browser receives responses")
    )]
    fn from_response(status: u16, text: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(text) {
            Ok(e) => Self {
                status,
                code: e.code,
                message: e.message,
                field: e.field,
                request_id: Some(e.request_id),
            },
            Err(_) => Self {
                status,
                code: ErrorCode::Unknown,
                message: format!("The server answered with status {status}. Try again."),
                field: None,
                request_id: None,
            },
        }
    }

    /// Whether the error is about `field` (`redirectUris[1]` is about `redirectUris`).
    #[must_use]
    pub fn is_about(&self, field: &str) -> bool {
        self.field.as_deref().is_some_and(|f| {
            f == field || f.strip_prefix(field).is_some_and(|r| r.starts_with('['))
        })
    }

    /// Whether this is a lapsed or missing session.
    #[must_use]
    pub fn is_signed_out(&self) -> bool {
        self.status == 401
            && matches!(
                self.code,
                ErrorCode::NotSignedIn | ErrorCode::SessionExpired
            )
    }
}

/// `GET` a JSON resource.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    decode(transport::call("GET", path, None).await?)
}

/// A state-changing call with a JSON body; decodes the JSON answer.
pub async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &impl Serialize,
) -> Result<T, Failure> {
    let json = serde_json::to_string(body).map_err(|_| Failure::unreachable())?;
    decode(transport::call(method, path, Some(json)).await?)
}

/// A state-changing call without a body whose answer is not needed (e.g. `204`).
pub async fn act(method: &str, path: &str) -> Result<(), Failure> {
    transport::call(method, path, None).await.map(|_| ())
}

/// A state-changing call without a body; decodes the JSON answer.
pub async fn act_for<T: DeserializeOwned>(method: &str, path: &str) -> Result<T, Failure> {
    decode(transport::call(method, path, None).await?)
}

fn decode<T: DeserializeOwned>(text: String) -> Result<T, Failure> {
    serde_json::from_str(&text).map_err(|_| Failure {
        status: 200,
        code: ErrorCode::Unknown,
        message: "The server's answer could not be read. Reload the page.".into(),
        field: None,
        request_id: None,
    })
}

/// Forgets the cached CSRF token (after signing out).
pub fn forget_session() {
    transport::set_csrf(None);
}

/// Remembers the CSRF token of a session just started.
pub fn remember_csrf(token: String) {
    transport::set_csrf(Some(token));
}

/// Loads a page afresh, dropping everything held in the browser.
pub fn load_page(path: &str) {
    transport::load_page(path);
}

/// Percent-encodes `text` for a path segment or query value.
#[must_use]
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go back to after signing in: only paths of the panel itself.
#[must_use]
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        (n == "/panel" || n.starts_with("/panel/") || n.starts_with("/panel?"))
            && !n.starts_with("/panel//")
            && !n.contains('\\')
    })
    .unwrap_or_else(|| "/panel".into())
}

#[cfg(feature = "hydrate")]
mod transport {
    use std::cell::RefCell;

    use fedgate_wire::account::SessionDto;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{Failure, MANAGE};

    thread_local! {
        static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    pub(super) fn set_csrf(token: Option<String>) {
        CSRF.with(|c| *c.borrow_mut() = token);
    }

    async fn csrf() -> Result<String, Failure> {
        if let Some(t) = CSRF.with(|c| c.borrow().clone()) {
            return Ok(t);
        }
        let (status, text) = fetch("GET", &format!("{MANAGE}/me"), None, None).await?;
        let session: SessionDto = super::decode(checked(&format!("{MANAGE}/me"), status, text)?)?;
        set_csrf(Some(session.csrf_token.clone()));
        Ok(session.csrf_token)
    }

    pub(super) async fn call(
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<String, Failure> {
        if method == "GET" || is_account_entry(path) {
            let (status, text) = fetch(method, path, body, None).await?;
            return checked(path, status, text);
        }
        let (status, text) = fetch(method, path, body.clone(), Some(csrf().await?)).await?;
        match checked(path, status, text) {
            // Signed in again elsewhere (another tab): the session and its token
            // changed. Fetch the new token once and retry.
            Err(f) if f.code == fedgate_wire::error::ErrorCode::CsrfTokenInvalid => {
                set_csrf(None);
                let (status, text) = fetch(method, path, body, Some(csrf().await?)).await?;
                checked(path, status, text)
            }
            answer => answer,
        }
    }

    fn is_account_entry(path: &str) -> bool {
        path == format!("{MANAGE}/signin") || path == format!("{MANAGE}/signup")
    }

    fn checked(path: &str, status: u16, text: String) -> Result<String, Failure> {
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let failure = Failure::from_response(status, &text);
        if failure.is_signed_out() && !is_account_entry(path) {
            send_to_sign_in(failure.code == fedgate_wire::error::ErrorCode::SessionExpired);
        }
        Err(failure)
    }

    pub(super) fn load_page(path: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(path);
        }
    }

    /// Off to sign in, with the way back.
    fn send_to_sign_in(expired: bool) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        if here.starts_with("/panel/signin") {
            return;
        }
        let next = String::from(js_sys::encode_uri_component(&here));
        let expired = if expired { "&expired=1" } else { "" };
        let _ = location.set_href(&format!("/panel/signin?next={next}{expired}"));
    }

    async fn fetch(
        method: &str,
        path: &str,
        body: Option<String>,
        csrf_token: Option<String>,
    ) -> Result<(u16, String), Failure> {
        let unreachable = |_: JsValue| Failure::unreachable();
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        init.set_credentials(web_sys::RequestCredentials::SameOrigin);
        let headers = web_sys::Headers::new().map_err(unreachable)?;
        headers
            .set("accept", "application/json")
            .map_err(unreachable)?;
        if let Some(json) = body {
            headers
                .set("content-type", "application/json")
                .map_err(unreachable)?;
            init.set_body(&JsValue::from_str(&json));
        }
        if let Some(token) = csrf_token {
            headers.set("x-csrf-token", &token).map_err(unreachable)?;
        }
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(path, &init).map_err(unreachable)?;
        let window = web_sys::window().ok_or_else(Failure::unreachable)?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(unreachable)?
            .dyn_into()
            .map_err(unreachable)?;
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default();
        Ok((response.status(), text))
    }
}

/// On the server the panel only renders loading states; calls never start there.
#[cfg(not(feature = "hydrate"))]
mod transport {
    use super::Failure;

    pub(super) fn set_csrf(_: Option<String>) {}

    pub(super) fn load_page(_: &str) {}

    pub(super) async fn call(_: &str, _: &str, _: Option<String>) -> Result<String, Failure> {
        Err(Failure::unreachable())
    }
}

#[cfg(test)]
mod tests {
    use fedgate_wire::error::ErrorCode;

    use super::{Failure, encode, safe_next};

    fn failure(status: u16, code: &str, field: Option<&str>) -> Failure {
        Failure {
            status,
            code: ErrorCode::parse(code),
            message: String::new(),
            field: field.map(Into::into),
            request_id: None,
        }
    }

    #[test]
    fn an_error_belongs_to_its_field_and_to_the_list_it_indexes() {
        let f = failure(422, "validation_failed", Some("redirectUris[1]"));
        assert!(f.is_about("redirectUris"));
        assert!(!f.is_about("redirectUri"));
        assert!(!f.is_about("instanceName"));
        assert!(failure(422, "validation_failed", Some("clientId")).is_about("clientId"));
        assert!(!failure(409, "property_exists", None).is_about("clientId"));
    }

    #[test]
    fn only_a_lapsed_or_missing_session_counts_as_signed_out() {
        assert!(failure(401, "session_expired", None).is_signed_out());
        assert!(failure(401, "not_signed_in", None).is_signed_out());
        assert!(!failure(401, "invalid_credentials", None).is_signed_out());
        assert!(!failure(403, "csrf_token_invalid", None).is_signed_out());
    }

    #[test]
    fn sign_in_only_returns_to_pages_of_the_panel() {
        let next = |n: &str| safe_next(Some(n.into()));
        assert_eq!(
            next("/panel/apps/x/events?kind=login_failed"),
            "/panel/apps/x/events?kind=login_failed"
        );
        assert_eq!(next("/panel"), "/panel");
        for hostile in [
            "https://evil.example/",
            "//evil.example/panel/",
            "/panel//evil.example",
            "/panelx",
            "/panel/\\evil",
            "/api/v1/users",
        ] {
            assert_eq!(next(hostile), "/panel", "{hostile}");
        }
        assert_eq!(safe_next(None), "/panel");
    }

    #[test]
    fn encoding_leaves_only_unreserved_characters() {
        assert_eq!(
            encode("email:ann+x@example.com"),
            "email%3Aann%2Bx%40example.com"
        );
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(encode("Az09-_.~"), "Az09-_.~");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
