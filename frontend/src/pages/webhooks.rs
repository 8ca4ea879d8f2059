//! Webhooks: the New Property › Fedgate › Webhook dialog (its signing secret shown
//! once, when created) and a webhook's page — its recent deliveries with status code,
//! attempts and next attempt, Redeliver, and Send test event.

use fedgate_wire::properties::{
    PropertyDto, PropertyRequest, WebhookDeliveryDto, WebhookDto, WebhookRequest,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::apps::app_ctx;
use super::properties::PropertyForm;
use crate::api::{self, Failure};
use crate::components::{
    CopyButton, Dialog, ErrorNote, Loading, Table, TextField, field_error, when, when_or,
};

/// The event types a webhook can subscribe to, with what each means.
const EVENT_TYPES: [(&str, &str); 8] = [
    (
        "user.created",
        "A user was created (by your backend, or by a new person's first sign-in)",
    ),
    ("user.deleted", "A user was deleted"),
    ("identity.linked", "A federated user was linked to a user"),
    ("identity.unlinked", "A federated user was unlinked"),
    ("identity.detached", "A federated user was detached"),
    ("login.succeeded", "A hosted sign-in completed"),
    ("login.failed", "A hosted sign-in was refused or failed"),
    ("token.revoked", "User tokens were revoked"),
];

const WEBHOOK_FIELDS: &[&str] = &["instanceName", "url", "eventTypes"];

/// New Property › Fedgate › Webhook, or editing one. On creation the signing secret
/// is shown once before the dialog closes.
#[component]
pub fn WebhookDialog(
    existing: Option<WebhookDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let instance_name = RwSignal::new(
        existing
            .as_ref()
            .map(|w| w.instance_name.clone())
            .unwrap_or_default(),
    );
    let url = RwSignal::new(existing.as_ref().map(|w| w.url.clone()).unwrap_or_default());
    let chosen = RwSignal::new(
        existing
            .as_ref()
            .map(|w| w.event_types.clone())
            .unwrap_or_default(),
    );
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let created = RwSignal::new(None::<WebhookDto>);
    let id = existing.as_ref().map(|w| w.id.clone());
    let title = if id.is_some() {
        "Edit Webhook".to_owned()
    } else {
        "New Property › Fedgate › Webhook".to_owned()
    };
    move || match created.get() {
        Some(w) => view! { <SecretOnce webhook=w on_done=on_saved/> }.into_any(),
        None => view! {
            <WebhookForm
                id=id.clone()
                title=title.clone()
                instance_name=instance_name
                url=url
                chosen=chosen
                busy=busy
                failure=failure
                created=created
                on_close=on_close
                on_saved=on_saved
            />
        }
        .into_any(),
    }
}

#[component]
fn WebhookForm(
    id: Option<String>,
    title: String,
    instance_name: RwSignal<String>,
    url: RwSignal<String>,
    chosen: RwSignal<Vec<String>>,
    busy: RwSignal<bool>,
    failure: RwSignal<Option<Failure>>,
    created: RwSignal<Option<WebhookDto>>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let ctx = app_ctx();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PropertyRequest::Webhook(WebhookRequest {
            instance_name: instance_name.get_untracked(),
            url: url.get_untracked().trim().to_owned(),
            // In the order the form lists them.
            event_types: EVENT_TYPES
                .iter()
                .map(|(t, _)| (*t).to_owned())
                .filter(|t| chosen.get_untracked().contains(t))
                .collect(),
        });
        let id = id.clone();
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let r: Result<PropertyDto, Failure> = match id {
                Some(id) => api::send("PUT", &ctx.api(&format!("/properties/{id}")), &body).await,
                None => api::send("POST", &ctx.api("/properties"), &body).await,
            };
            busy.set(false);
            match r {
                Ok(PropertyDto::Webhook(w)) if w.signing_secret.is_some() => created.set(Some(w)),
                Ok(_) => on_saved.run(()),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        <PropertyForm
            title=title
            fields=WEBHOOK_FIELDS
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
            <TextField
                id="url"
                label="Endpoint URL"
                value=url
                error=field_error(failure, "url")
                kind="url"
                hint="Fedgate POSTs each event here as JSON, signed as the Standard Webhooks specification says. https; private and internal addresses are refused."
                placeholder="https://app.example.com/hooks/fedgate".to_owned()
            />
            <fieldset class="field" class:invalid=move || field_error(failure, "eventTypes").get().is_some()>
                <legend>"Events"</legend>
                {event_boxes(chosen)}
                {move || field_error(failure, "eventTypes").get().map(|e| view! { <p class="field-error" id="eventTypes-error">{e}</p> })}
            </fieldset>
        </PropertyForm>
    }
}

/// A checkbox per event type, bound to `chosen`.
fn event_boxes(chosen: RwSignal<Vec<String>>) -> impl IntoView {
    EVENT_TYPES
        .iter()
        .map(|(ty, meaning)| {
            let ty = (*ty).to_owned();
            let input_id = format!("event-{}", ty.replace('.', "-"));
            let shown = ty.clone();
            let checked = {
                let ty = ty.clone();
                move || chosen.with(|c| c.contains(&ty))
            };
            let toggle = move |_| {
                chosen.update(|c| {
                    if let Some(i) = c.iter().position(|t| *t == ty) {
                        c.remove(i);
                    } else {
                        c.push(ty.clone());
                    }
                });
            };
            let for_id = input_id.clone();
            view! {
                <label class="check-row" for=for_id>
                    <input id=input_id type="checkbox" prop:checked=checked on:change=toggle/>
                    " " <code>{shown}</code> " " <span class="muted">{*meaning}</span>
                </label>
            }
        })
        .collect_view()
}

/// A new webhook's signing secret: shown this once.
#[component]
fn SecretOnce(webhook: WebhookDto, on_done: Callback<()>) -> impl IntoView {
    let secret = webhook.signing_secret.clone().unwrap_or_default();
    view! {
        <Dialog title="Webhook created".to_owned() on_close=on_done>
            <section class="secret" aria-labelledby="new-webhook-secret" role="region">
                <h3 id="new-webhook-secret">"Signing secret"</h3>
                <p class="warning" role="alert">
                    <strong>"Copy the signing secret now. "</strong>
                    "Your endpoint verifies each delivery's webhook-signature with it. Fedgate stores only a sealed copy and will never show it again; if you lose it, delete this webhook and create another."
                </p>
                <dl class="facts">
                    <dt>"Endpoint"</dt>
                    <dd><code>{webhook.url.clone()}</code></dd>
                    <dt>"Signing secret"</dt>
                    <dd>
                        <code class="key-secret">{secret.clone()}</code>
                        <CopyButton text=secret label="signing secret"/>
                    </dd>
                </dl>
                <button type="button" class="primary" on:click=move |_| on_done.run(())>
                    "I have stored the secret"
                </button>
            </section>
        </Dialog>
    }
}

/// A webhook's page: its deliveries, newest first, with Redeliver and Send test event.
#[component]
pub fn WebhookDeliveries() -> impl IntoView {
    let ctx = app_ctx();
    let params = use_params_map();
    let webhook_id = move || params.read().get("webhook").unwrap_or_default();
    let property = LocalResource::new(move || {
        let path = ctx.api(&format!("/properties/{}", webhook_id()));
        async move { api::get::<PropertyDto>(&path).await }
    });
    let deliveries = LocalResource::new(move || {
        let path = ctx.api(&format!("/webhooks/{}/deliveries", webhook_id()));
        async move { api::get::<Vec<WebhookDeliveryDto>>(&path).await }
    });
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let send_test = move |_| {
        let path = ctx.api(&format!("/webhooks/{}/test", webhook_id()));
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let r = api::act("POST", &path).await;
            busy.set(false);
            match r {
                Ok(()) => deliveries.refetch(),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    let heading = move || match property.get() {
        Some(Ok(PropertyDto::Webhook(w))) => Some(view! {
            <h2>{format!("Webhook “{}”", w.instance_name)}</h2>
            <p class="lead">
                "Deliveries to " <code>{w.url.clone()}</code> " of "
                {w.event_types.join(", ")}
                ". Each is tried again with growing pauses for up to 24 hours, with the same webhook-id."
            </p>
        }),
        _ => None,
    };
    view! {
        <p><A href=ctx.page("/properties")>"‹ Properties"</A></p>
        {heading}
        <p>
            <button type="button" on:click=send_test disabled=move || busy.get()>
                {move || if busy.get() { "Sending…" } else { "Send test event" }}
            </button>
            " "
            <button type="button" on:click=move |_| deliveries.refetch()>"Refresh"</button>
            {move || failure.get().map(|f| view! { <span class="field-error" role="status">" " {f.message}</span> })}
        </p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                deliveries
                    .get()
                    .map(|r| match r {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No deliveries yet. Send a test event, or sign in through a hosted service."</p> }
                                .into_any()
                        }
                        Ok(list) => view! { <DeliveryTable list=list on_change=Callback::new(move |()| deliveries.refetch())/> }.into_any(),
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn DeliveryTable(list: Vec<WebhookDeliveryDto>, on_change: Callback<()>) -> impl IntoView {
    let ctx = app_ctx();
    let params = use_params_map();
    let rows = list
        .into_iter()
        .map(|d| {
            let failure = RwSignal::new(None::<Failure>);
            let redeliver = {
                let id = d.id.clone();
                move |_| {
                    let webhook = params.read_untracked().get("webhook").unwrap_or_default();
                    let path = ctx.api(&format!("/webhooks/{webhook}/deliveries/{id}/redeliver"));
                    spawn_local(async move {
                        match api::act("POST", &path).await {
                            Ok(()) => on_change.run(()),
                            Err(f) => failure.set(Some(f)),
                        }
                    });
                }
            };
            let status = d.status.clone();
            let code = d
                .last_status_code
                .map_or_else(|| "—".to_owned(), |c| c.to_string());
            let label = format!("Redeliver {}", d.id);
            view! {
                <tr data-status=status.clone()>
                    <td>{when(d.created_at)}</td>
                    <td><code>{d.event_type.clone()}</code></td>
                    <td><span class=format!("delivery {status}")>{status.clone()}</span></td>
                    <td>{d.attempts}</td>
                    <td>{code}</td>
                    <td class="wrap">{d.last_error.clone().unwrap_or_default()}</td>
                    <td>{when_or(d.next_attempt_at, "—")}</td>
                    <td class="row-actions">
                        <details>
                            <summary>"Body"</summary>
                            <p><code class="small">{d.id.clone()}</code></p>
                            <pre>{d.payload.clone()}</pre>
                        </details>
                        <button type="button" aria-label=label on:click=redeliver>"Redeliver"</button>
                        {move || failure.get().map(|f| view! { <span class="field-error">{f.message}</span> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Created", "Event", "Status", "Attempts", "Last status", "Last error", "Next attempt", ""]>
            {rows}
        </Table>
    }
}
