//! Fedgate's subscriber panel, written in Leptos and served by the `fedgate` binary.
//!
//! Every screen talks to the management API through the shared wire types in
//! `fedgate-wire`; this crate never depends on storage. Until the panel pages land
//! (a later release; see CHANGELOG.md), it holds the application shell only, so the
//! workspace builds Leptos from the start.

use leptos::prelude::*;

/// The panel's root: the title bar every page is rendered under.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header>
            <h1>"Fedgate"</h1>
        </header>
    }
}
