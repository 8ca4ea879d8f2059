//! Events: the application's recent events, newest first, filterable by outcome or
//! kind and by provider, paged.

use fedgate_wire::events::EventDto;
use fedgate_wire::hosted::HostedServiceDto;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::apps::app_ctx;
use crate::api::{self, encode};
use crate::components::{ErrorNote, Loading, Table, when};

const PAGE: usize = 25;

/// The filter choices: the login outcomes first, then every other kind.
const FILTERS: &[(&str, &str)] = &[
    ("", "All events"),
    ("login_succeeded", "Successful logins"),
    ("login_failed", "Failed logins"),
    ("login_started", "Login starts"),
    ("federated_user_linked", "Identities linked"),
    ("federated_user_unlinked", "Identities unlinked"),
    ("federated_user_detached", "Identities detached"),
    ("user_created", "Users created"),
    ("user_deleted", "Users deleted"),
    ("user_tokens_revoked", "Tokens revoked"),
];

fn kind_label(kind: &str) -> &str {
    match kind {
        "login_started" => "Login started",
        "login_succeeded" => "Login succeeded",
        "login_failed" => "Login failed",
        "federated_user_linked" => "Identity linked",
        "federated_user_unlinked" => "Identity unlinked",
        "federated_user_detached" => "Identity detached",
        "user_created" => "User created",
        "user_deleted" => "User deleted",
        "user_tokens_revoked" => "Tokens revoked",
        other => other,
    }
}

/// An id as a short link: ids are long, the full one is in the title and the target.
fn short_id(id: &str) -> String {
    let short: String = id.chars().take(8).collect();
    if short.len() < id.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The filter part of an events address: `kind=…&provider=…&` (each when set).
fn filter_query(kind: &str, provider: &str) -> String {
    let mut q = String::new();
    if !kind.is_empty() {
        q.push_str(&format!("kind={}&", encode(kind)));
    }
    if !provider.is_empty() {
        q.push_str(&format!("provider={}&", encode(provider)));
    }
    q
}

/// `/events` with the filters (and nothing else).
fn filtered_page(kind: &str, provider: &str) -> String {
    let q = filter_query(kind, provider);
    let q = q.trim_end_matches('&');
    if q.is_empty() {
        "/events".to_owned()
    } else {
        format!("/events?{q}")
    }
}

/// The Events page; its filters and page live in the address (`?kind=`, `?provider=`,
/// `?before=`).
#[component]
pub fn Events() -> impl IntoView {
    let ctx = app_ctx();
    let query = use_query_map();
    let kind = Memo::new(move |_| query.read().get("kind").unwrap_or_default());
    let provider = Memo::new(move |_| query.read().get("provider").unwrap_or_default());
    let before = Memo::new(move |_| query.read().get("before"));
    let events = LocalResource::new(move || {
        let mut q = format!(
            "?{}limit={PAGE}",
            filter_query(&kind.get(), &provider.get())
        );
        if let Some(b) = before.get() {
            q.push_str(&format!("&before={}", encode(&b)));
        }
        let _ = ctx.id.get();
        let path = ctx.api(&format!("/events{q}"));
        async move { api::get::<Vec<EventDto>>(&path).await }
    });
    // The providers to filter by: one per hosted service.
    let providers = LocalResource::new(move || {
        let _ = ctx.id.get();
        let path = ctx.api("/hosted-services");
        async move { api::get::<Vec<HostedServiceDto>>(&path).await }
    });
    let navigate = use_navigate();
    let on_filter = {
        let navigate = navigate.clone();
        move |ev: leptos::ev::Event| {
            let k = event_target_value(&ev);
            navigate(
                &ctx.page(&filtered_page(&k, &provider.get_untracked())),
                crate::as_is(),
            );
        }
    };
    let on_provider = move |ev: leptos::ev::Event| {
        let p = event_target_value(&ev);
        navigate(
            &ctx.page(&filtered_page(&kind.get_untracked(), &p)),
            crate::as_is(),
        );
    };
    let provider_options = move || {
        let list = providers.get().and_then(Result::ok).unwrap_or_default();
        std::iter::once((String::new(), "All providers".to_owned()))
            .chain(list.into_iter().map(|s| (s.slug, s.display_name)))
            .map(|(slug, name)| {
                let selected = slug.clone();
                view! {
                    <option value=slug selected=move || provider.get() == selected>
                        {name}
                    </option>
                }
            })
            .collect_view()
    };
    let options = FILTERS
        .iter()
        .map(|(k, label)| {
            view! {
                <option value=*k selected=move || kind.get() == *k>
                    {*label}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="page-head">
            <h2>"Events"</h2>
            <div class="field inline">
                <label for="event-filter">"Show"</label>
                <select id="event-filter" on:change=on_filter>
                    {options}
                </select>
                <label for="provider-filter">"Provider"</label>
                <select id="provider-filter" on:change=on_provider>
                    {provider_options}
                </select>
            </div>
        </div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                events
                    .get()
                    .map(|r| match r {
                        Ok(list) => {
                            view! {
                                <EventTable
                                    events=list
                                    paged=before.get_untracked().is_some()
                                    kind=kind.get_untracked()
                                    provider=provider.get_untracked()
                                />
                            }
                                .into_any()
                        }
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn EventTable(events: Vec<EventDto>, paged: bool, kind: String, provider: String) -> impl IntoView {
    let ctx = app_ctx();
    if events.is_empty() {
        return view! {
            <p class="empty">
                {if paged { "No older events." } else { "No events yet. Try a login from Hosted Services." }}
            </p>
        }
        .into_any();
    }
    let older = (events.len() == PAGE).then(|| {
        let last = events.last().map(|e| e.id.clone()).unwrap_or_default();
        let filters = filter_query(&kind, &provider);
        ctx.page(&format!("/events?{filters}before={}", encode(&last)))
    });
    let newest = ctx.page(&filtered_page(&kind, &provider));
    let rows = events
        .into_iter()
        .map(|e| {
            let failed = e.kind == "login_failed";
            let result = e.reason.clone().or(e.outcome.clone()).unwrap_or_default();
            let user = e.user_id.clone().map(|u| {
                let (href, short) = (ctx.page(&format!("/users/{u}")), short_id(&u));
                view! { <A href=href attr:title=u><code>{short}</code></A> }
            });
            let federated = e.federated_user_id.clone().map(|f| {
                let (href, short) = (ctx.page(&format!("/federated-users/{f}")), short_id(&f));
                view! { <A href=href attr:title=f><code>{short}</code></A> }
            });
            view! {
                <tr class:failed=failed>
                    <td>{when(e.at)}</td>
                    <td>{kind_label(&e.kind).to_owned()}</td>
                    <td class="wrap">
                        {if failed {
                            view! { <span class="badge off">{result}</span> }.into_any()
                        } else {
                            view! { <span>{result}</span> }.into_any()
                        }}
                    </td>
                    <td>{e.provider_name.clone().or_else(|| e.provider.clone()).unwrap_or_default()}</td>
                    <td>{user}</td>
                    <td>{federated}</td>
                    <td class="wrap">{e.detail.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["When", "Event", "Outcome / reason", "Provider", "User", "Federated user", "Detail"] class="events">{rows}</Table>
        <p class="pager">
            {paged.then(|| view! { <A href=newest>"« Newest"</A> })}
            " "
            {older.map(|href| view! { <A href=href>"Older ›"</A> })}
        </p>
    }
    .into_any()
}
