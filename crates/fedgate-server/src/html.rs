//! Small server-rendered pages (error pages, the development provider's sign-in and
//! the development result page): escaping and one frame with a strict CSP.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

/// `text` made safe for HTML text and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A page: `title` (escaped here) and `body`, which must already be escaped HTML.
/// Forms may post only to this origin; nothing else is loaded.
#[must_use]
pub fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:sans-serif;max-width:44em;margin:3em auto;padding:0 1em;line-height:1.45\">\
         <h1>{t}</h1>{body}</body></html>",
        t = escape(title),
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(html)
}
