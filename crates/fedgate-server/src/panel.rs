//! The subscriber panel: the Leptos pages of `fedgate-panel` rendered under `/panel`,
//! and the wasm, JavaScript and stylesheet that hydrate them — built by this crate's
//! build script and compiled into the binary, so the panel needs nothing but this
//! server.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use leptos::config::LeptosOptions;
use leptos_actix::{LeptosRoutes, generate_route_list};

const JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/panel/fedgate_panel.js"));
const WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/panel/fedgate_panel_bg.wasm"));
/// Changes whenever the wasm, its JavaScript or the stylesheet does.
const ETAG: &str = concat!("\"", env!("PANEL_ASSETS_VERSION"), "\"");

/// The routes and options every worker mounts.
#[derive(Clone, Debug)]
pub struct Panel {
    options: LeptosOptions,
    routes: Vec<leptos_actix::ActixRouteListing>,
}

impl Panel {
    /// Collects the panel's routes once, at startup.
    #[must_use]
    pub fn new() -> Self {
        let options = LeptosOptions::builder()
            .output_name("fedgate_panel")
            .site_pkg_dir("pkg")
            .build();
        let routes = generate_route_list(fedgate_panel::App);
        Self { options, routes }
    }

    /// Mounts the assets and the pages.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let options = self.options.clone();
        cfg.app_data(web::Data::new(self.options.clone()))
            .route("/panel/pkg/{file}", web::get().to(asset))
            .route("/panel/", web::get().to(to_panel_root))
            .leptos_routes(self.routes.clone(), move || {
                fedgate_panel::shell(options.clone())
            })
            // After the pages: any other panel address is a page, not an API error.
            .route("/panel/{rest:.*}", web::get().to(not_found_page));
    }
}

impl Default for Panel {
    fn default() -> Self {
        Self::new()
    }
}

/// An address under `/panel` that is no page of it.
async fn not_found_page() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body(concat!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>Page not found · Fedgate panel</title>",
            "<link rel=\"stylesheet\" href=\"/panel/pkg/panel.css\"></head>",
            "<body><main id=\"main\" class=\"narrow\"><h1>Page not found</h1>",
            "<p>There is nothing at this address. <a href=\"/panel\">Go to your applications</a></p>",
            "</main></body></html>"
        ))
}

async fn to_panel_root() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/panel"))
        .finish()
}

/// The panel's static files, revalidated by ETag so a new binary is picked up at once.
async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "fedgate_panel.js" => (JS, "text/javascript; charset=utf-8"),
        "fedgate_panel_bg.wasm" => (WASM, "application/wasm"),
        "panel.css" => (
            fedgate_panel::STYLESHEET.as_bytes(),
            "text/css; charset=utf-8",
        ),
        _ => return HttpResponse::NotFound().finish(),
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == ETAG.as_bytes());
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, ETAG))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return res.finish();
    }
    res.content_type(content_type).body(body)
}
