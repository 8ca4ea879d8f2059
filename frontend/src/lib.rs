//! Fedgate's subscriber panel: a Leptos app under `/panel`, rendered by the `fedgate`
//! binary (feature `ssr`) and hydrated in the browser (feature `hydrate`, built to
//! wasm by fedgate-server's build script). It talks to the server only through the
//! management API, in the shapes of `fedgate-wire`; it never touches storage.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::path;

use fedgate_wire::properties::InstanceDto;

use crate::pages::{account, apps, events, hosted, keys, properties, users, webhooks};

/// Where the panel is mounted.
pub const BASE: &str = "/panel";

/// A panel page's address as the browser sees it: [`BASE`] + `path`. Links carry it
/// whole (the router's `<A>` does not add its base to absolute paths).
#[must_use]
pub fn href(path: &str) -> String {
    if path == "/" {
        BASE.to_owned()
    } else {
        format!("{BASE}{path}")
    }
}

/// Navigation options for a full panel address from [`href`].
#[must_use]
pub fn as_is() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions {
        resolve: false,
        ..leptos_router::NavigateOptions::default()
    }
}

/// The panel's stylesheet, served by the binary at `/panel/pkg/panel.css`.
pub const STYLESHEET: &str = include_str!("../style/panel.css");

/// The whole HTML document, for server rendering.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Scripts only from us, the inline hydration script by its per-response nonce
    // (provided by leptos_actix), and the wasm compiled by the browser.
    let csp = leptos::nonce::use_nonce().map(|nonce| {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'"
        )
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta http-equiv="Content-Security-Policy" content=csp/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="referrer" content="no-referrer"/>
                <title>"Fedgate panel"</title>
                <link rel="stylesheet" href="/panel/pkg/panel.css"/>
                <HydrationScripts options root=BASE/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The panel: sign-in pages, and the signed-in pages inside one layout.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router base=BASE>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/signin") view=account::SignIn/>
                <Route path=path!("/signup") view=account::SignUp/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("/") view=apps::AppList/>
                    <ParentRoute path=path!("/apps/:app") view=apps::AppLayout>
                        <Route path=path!("") view=apps::Overview/>
                        <Route path=path!("/properties") view=properties::Properties/>
                        <Route path=path!("/hosted-services") view=hosted::HostedServices/>
                        <Route path=path!("/access-keys") view=keys::AccessKeys/>
                        <Route path=path!("/users") view=users::UserSearch/>
                        <Route path=path!("/users/:user") view=users::UserDetail/>
                        <Route
                            path=path!("/federated-users/:federated")
                            view=users::FederatedUserDetail
                        />
                        <Route path=path!("/events") view=events::Events/>
                        <Route path=path!("/webhooks/:webhook") view=webhooks::WebhookDeliveries/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The signed-in frame: the persistent navigation and the page.
#[component]
fn Layout() -> impl IntoView {
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <A href=href("/") attr:class="brand">"Fedgate"</A>
            <nav aria-label="Account">
                <A href=href("/")>"Applications"</A>
                <account::WhoAmI/>
                <account::SignOut/>
            </nav>
        </header>
        <DevNotice/>
        <main id="main">
            <Outlet/>
        </main>
    }
}

/// While the built-in development provider is on, every page says so.
#[component]
fn DevNotice() -> impl IntoView {
    let instance = LocalResource::new(|| api::get::<InstanceDto>("/manage/v1/instance"));
    move || {
        instance
            .get()
            .and_then(Result::ok)
            .filter(|i| i.dev_provider)
            .map(|_| {
                view! {
                    <p class="warning dev-notice" role="note">
                        <strong>"Development mode. "</strong>
                        "The built-in development provider is on: through an application's Development sign-in, anyone who can reach this Fedgate can sign in as anyone. It is on only while Fedgate listens on this machine with its embedded database (setting dev_provider)."
                    </p>
                }
            })
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main id="main" class="narrow">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. "
                <A href=href("/")>"Go to your applications"</A>
            </p>
        </main>
    }
}

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
