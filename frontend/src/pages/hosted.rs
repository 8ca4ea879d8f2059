//! Hosted Services: a tile per service with the two URIs to copy, ACTIVE or INACTIVE
//! with each missing piece linked to where it is fixed, Try it, and its redirect
//! diagnostics (refused starts with what was sent, the provider's last error).

use fedgate_wire::hosted::{HostedServiceDto, RefusedStartDto, ServiceStatusDto, UpstreamErrorDto};
use fedgate_wire::properties::{
    DevelopmentProviderRequest, DiscoveryCheckRequest, DiscoveryDto, PropertyDto, PropertyRequest,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::apps::app_ctx;
use super::properties::kind_label;
use crate::api::{self, Failure};
use crate::components::{CopyButton, ErrorNote, Loading, when};

/// The Hosted Services page.
#[component]
pub fn HostedServices() -> impl IntoView {
    let ctx = app_ctx();
    let services = LocalResource::new(move || {
        let path = format!("{}/hosted-services", ctx.api(""));
        let _ = ctx.id.get();
        async move { api::get::<Vec<HostedServiceDto>>(&path).await }
    });
    view! {
        <h2>"Hosted Services"</h2>
        <p class="lead">
            "Paste the redirect URI into your provider's console; send your users to the OAuth endpoint."
        </p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                services
                    .get()
                    .map(|r| match r {
                        Ok(list) => {
                            view! {
                                <div class="tiles">
                                    {list
                                        .into_iter()
                                        .map(|s| view! { <Tile service=s on_recheck=Callback::new(move |()| services.refetch())/> })
                                        .collect_view()}
                                </div>
                            }
                                .into_any()
                        }
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// "Check discovery again": fetches the issuer's document now (the server keeps the
/// fresh result), then reloads the tiles.
#[component]
fn Recheck(issuer: String, on_done: Callback<()>) -> impl IntoView {
    let ctx = app_ctx();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let check = move |_| {
        let body = DiscoveryCheckRequest {
            issuer: issuer.clone(),
        };
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let r: Result<DiscoveryDto, Failure> =
                api::send("POST", &ctx.api("/discovery-check"), &body).await;
            busy.set(false);
            match r {
                Ok(_) => on_done.run(()),
                // Still failing: the message says why now.
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        " "
        <button type="button" on:click=check disabled=move || busy.get()>
            {move || if busy.get() { "Checking…" } else { "Check discovery again" }}
        </button>
        {move || failure.get().map(|f| view! { <span class="field-error" role="status">" " {f.message}</span> })}
    }
}

/// "Activate": adds the application's Development sign-in property, then reloads the
/// tiles.
#[component]
fn Activate(on_done: Callback<()>) -> impl IntoView {
    let ctx = app_ctx();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let activate = move |_| {
        let body = PropertyRequest::DevelopmentProvider(DevelopmentProviderRequest {
            instance_name: "Development sign-in".to_owned(),
        });
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let r: Result<PropertyDto, Failure> =
                api::send("POST", &ctx.api("/properties"), &body).await;
            busy.set(false);
            match r {
                Ok(_) => on_done.run(()),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        <button type="button" class="primary" on:click=activate disabled=move || busy.get()>
            {move || if busy.get() { "Activating…" } else { "Activate" }}
        </button>
        {move || failure.get().map(|f| view! { <span class="field-error" role="status">" " {f.message}</span> })}
    }
}

#[component]
fn Tile(service: HostedServiceDto, on_recheck: Callback<()>) -> impl IntoView {
    let ctx = app_ctx();
    let active = service.status == ServiceStatusDto::Active;
    let heading_id = format!("tile-{}", service.slug);
    let reasons = service
        .reasons
        .iter()
        .map(|r| {
            // Fix an existing property in place, or create the missing one.
            let href = match &r.property_id {
                Some(id) => ctx.page(&format!("/properties?edit={id}")),
                None => ctx.page(&format!("/properties?new={}", r.property_kind)),
            };
            let fix = match &r.property_id {
                Some(_) => format!("Fix {}", kind_label(&r.property_kind)),
                None => format!("Add {}", kind_label(&r.property_kind)),
            };
            let recheck = r
                .recheck_issuer
                .clone()
                .map(|issuer| view! { <Recheck issuer=issuer on_done=on_recheck/> });
            // The development sign-in needs nothing but the property: one click.
            if r.code == "missing_development_provider" {
                return view! {
                    <li>
                        <span>{r.message.clone()}</span>
                        " "
                        <Activate on_done=on_recheck/>
                    </li>
                }
                .into_any();
            }
            view! {
                <li>
                    <span>{r.message.clone()}</span>
                    " "
                    <A href=href>{fix}</A>
                    {recheck}
                </li>
            }
            .into_any()
        })
        .collect_view();
    let login = service.login_endpoint.clone();
    let diagnostics = (service.last_upstream_error.is_some() || !service.refused_starts.is_empty())
        .then(|| {
            view! {
                <Diagnostics
                    upstream=service.last_upstream_error.clone()
                    refused=service.refused_starts.clone()
                />
            }
        });
    view! {
        <section class="tile" aria-labelledby=heading_id.clone()>
            <div class="tile-head">
                <h3 id=heading_id.clone()>{service.name.clone()}</h3>
                <span
                    class="status"
                    class:active=active
                    class:inactive=!active
                    data-status=if active { "ACTIVE" } else { "INACTIVE" }
                >
                    {if active { "ACTIVE" } else { "INACTIVE" }}
                </span>
            </div>
            <UriRow label=service.provider_redirect_uri_label.clone() value=service.provider_redirect_uri.clone()/>
            <UriRow label=service.login_endpoint_label.clone() value=service.login_endpoint.clone()/>
            {(!active)
                .then(|| {
                    view! {
                        <div class="reasons">
                            <p>"Not ready for logins yet:"</p>
                            <ul>{reasons}</ul>
                        </div>
                    }
                })}
            {diagnostics}
            <p class="tile-foot">
                {if active {
                    view! {
                        <a class="button primary" href=login>
                            "Try it"
                        </a>
                        <span class="hint">
                            " Starts a real sign-in and returns to your OAuth redirect URI."
                        </span>
                    }
                        .into_any()
                } else {
                    view! {
                        <span class="button disabled" aria-disabled="true">
                            "Try it"
                        </span>
                        <span class="hint">" Available once the service is ACTIVE."</span>
                    }
                        .into_any()
                }}
            </p>
        </section>
    }
}

#[component]
fn UriRow(label: String, value: String) -> impl IntoView {
    view! {
        <div class="uri-row">
            <p class="uri-label">{label.clone()}</p>
            <div class="uri-value">
                <code>{value.clone()}</code>
                <CopyButton text=value label=label/>
            </div>
        </div>
    }
}

/// `text` with the character at `at` (counted in characters) marked: where it first
/// differs from what it is compared with. Past the end, an empty mark says "ends here".
fn marked(text: &str, at: usize) -> impl IntoView + use<> {
    let chars: Vec<char> = text.chars().collect();
    let split = at.min(chars.len());
    let before: String = chars[..split].iter().collect();
    let (first, rest): (String, String) = match chars.get(split) {
        Some(c) => (c.to_string(), chars[split + 1..].iter().collect()),
        None => (String::new(), String::new()),
    };
    let title = format!("differs at character {}", at + 1);
    let end = first.is_empty();
    view! {
        <code class="diff">
            {before}
            <mark title=title class:end=end>{first}</mark>
            {rest}
        </code>
    }
}

/// The tile's redirect diagnostics: the provider's last upstream error and the refused
/// login starts at this provider, newest first.
#[component]
fn Diagnostics(upstream: Option<UpstreamErrorDto>, refused: Vec<RefusedStartDto>) -> impl IntoView {
    let requests = match refused.len() {
        0 => String::new(),
        1 => "1 refused sign-in request".to_owned(),
        n => format!("{n} refused sign-in requests"),
    };
    let summary = match (&upstream, requests.is_empty()) {
        (Some(_), true) => "Diagnostics: the provider's last error".to_owned(),
        (None, _) => format!("Diagnostics: {requests}"),
        (Some(_), false) => format!("Diagnostics: {requests}, the provider's last error"),
    };
    let upstream = upstream.map(|e| {
        let status = e.status.map(|s| format!(" · HTTP {s}")).unwrap_or_default();
        let error = e.error.clone().map(|o| format!(" · error {o}")).unwrap_or_default();
        view! {
            <div class="upstream">
                <p><strong>"Last provider error"</strong> " " <span class="muted">{when(e.at)}</span></p>
                <p><code>{e.reason.clone()}</code> {status} {error}</p>
                <p>{e.detail.clone()}</p>
            </div>
        }
    });
    let items = refused.into_iter().map(refused_item).collect_view();
    view! {
        <details class="diagnostics">
            <summary>{summary}</summary>
            {upstream}
            <ol class="refused">{items}</ol>
        </details>
    }
}

fn refused_item(r: RefusedStartDto) -> impl IntoView {
    let redirect = r.redirect_uri.map(|d| {
        let closest = d.registered.iter().map(|u| u.first_difference).max().unwrap_or(0);
        let received = match &d.received {
            Some(uri) => view! { <dd>{marked(uri, closest)}</dd> }.into_any(),
            None => view! { <dd>"(none sent)"</dd> }.into_any(),
        };
        let registered = d
            .registered
            .into_iter()
            .map(|u| {
                let at = u.first_difference;
                view! {
                    <dd>
                        {marked(&u.uri, at)}
                        <span class="muted">{format!(" first differs at character {}", at + 1)}</span>
                    </dd>
                }
            })
            .collect_view();
        view! {
            <dl class="uri-diff">
                <dt>"redirect_uri received"</dt>
                {received}
                <dt>"Registered redirect URIs"</dt>
                {registered}
            </dl>
        }
    });
    let signature = r.signature.map(|s| {
        let parameter = s
            .parameter
            .map(|p| format!(" (parameter {p})"))
            .unwrap_or_default();
        let key = s
            .access_key_id
            .map(|k| format!(" · access key {k}"))
            .unwrap_or_default();
        view! {
            <p>
                "Failed check: " <code>{s.check}</code> {parameter} {key} " — " {s.detail}
            </p>
        }
    });
    let inactive = (!r.inactive_reasons.is_empty()).then(|| {
        let reasons = r
            .inactive_reasons
            .into_iter()
            .map(|d| view! { <li><code>{d.code}</code> " " {d.message}</li> })
            .collect_view();
        view! { <ul>{reasons}</ul> }
    });
    view! {
        <li>
            <p>
                <span class="muted">{when(r.at)}</span> " " <code>{r.reason}</code>
                <br/>
                {r.message}
            </p>
            {redirect}
            {signature}
            {inactive}
        </li>
    }
}
