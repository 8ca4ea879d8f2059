//! Properties: the list by kind and instance name, the New Property menu with its
//! dialogs (Google › Credentials › OAuth Credentials, Fedgate › OAuth Integration,
//! OpenID Connect › Provider with Check discovery, OAuth2 › Provider with Preview
//! mapping), edit and delete. Client secrets are write-only: the panel only ever says
//! "set".

use fedgate_wire::properties::{
    ClaimMapping, ClientAuthentication, DevelopmentProviderDto, DevelopmentProviderRequest,
    DiscoveryCheckRequest, DiscoveryDto, GoogleCredentialsDto, GoogleCredentialsRequest,
    MappingPreviewDto, MappingPreviewRequest, Oauth2ProviderDto, Oauth2ProviderRequest,
    OauthIntegrationDto, OauthIntegrationRequest, OpenidConnectProviderDto,
    OpenidConnectProviderRequest, PropertyDto, PropertyRequest, ResultDelivery, WebhookDto,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::apps::app_ctx;
use super::webhooks::WebhookDialog;
use crate::api::{self, Failure};
use crate::components::{
    Confirm, Dialog, ErrorNote, FormError, Loading, SaveOrCancel, Table, TextAreaField, TextField,
    field_error, when,
};

/// The reference manual's menu path of each kind.
#[must_use]
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "google_oauth_credentials" => "Google › Credentials › OAuth Credentials",
        "oauth_integration" => "Fedgate › OAuth Integration",
        "openid_connect_provider" => "OpenID Connect › Provider",
        "oauth2_provider" => "OAuth2 › Provider",
        "development_provider" => "Fedgate › Development sign-in",
        "webhook" => "Fedgate › Webhook",
        _ => "Property",
    }
}

/// What the property dialog is doing.
#[derive(Debug, Clone)]
enum Editing {
    Google(Option<GoogleCredentialsDto>),
    Integration(Option<OauthIntegrationDto>),
    Oidc(Option<OpenidConnectProviderDto>),
    OAuth2(Option<Box<Oauth2ProviderDto>>),
    Development(Option<DevelopmentProviderDto>),
    Webhook(Option<WebhookDto>),
}

impl Editing {
    /// Editing an existing property.
    fn of(p: PropertyDto) -> Self {
        match p {
            PropertyDto::GoogleOauthCredentials(g) => Self::Google(Some(g)),
            PropertyDto::OauthIntegration(i) => Self::Integration(Some(i)),
            PropertyDto::OpenidConnectProvider(o) => Self::Oidc(Some(o)),
            PropertyDto::Oauth2Provider(o) => Self::OAuth2(Some(Box::new(o))),
            PropertyDto::DevelopmentProvider(d) => Self::Development(Some(d)),
            PropertyDto::Webhook(w) => Self::Webhook(Some(w)),
        }
    }

    /// A new property of `kind`.
    fn new_of(kind: &str) -> Option<Self> {
        match kind {
            "google_oauth_credentials" => Some(Self::Google(None)),
            "oauth_integration" => Some(Self::Integration(None)),
            "openid_connect_provider" => Some(Self::Oidc(None)),
            "oauth2_provider" => Some(Self::OAuth2(None)),
            "development_provider" => Some(Self::Development(None)),
            "webhook" => Some(Self::Webhook(None)),
            _ => None,
        }
    }
}

/// One step of the New Property menu.
#[derive(Debug, Clone, Copy)]
enum MenuItem {
    Open(&'static str),
    Create(&'static str),
}

fn menu_items(path: &[&'static str]) -> Vec<(&'static str, MenuItem)> {
    match path {
        [] => vec![
            ("Google", MenuItem::Open("Google")),
            ("Fedgate", MenuItem::Open("Fedgate")),
            ("OpenID Connect", MenuItem::Open("OpenID Connect")),
            ("OAuth2", MenuItem::Open("OAuth2")),
        ],
        ["OpenID Connect"] => vec![("Provider", MenuItem::Create("openid_connect_provider"))],
        ["OAuth2"] => vec![("Provider", MenuItem::Create("oauth2_provider"))],
        ["Google"] => vec![("Credentials", MenuItem::Open("Credentials"))],
        ["Google", "Credentials"] => {
            vec![(
                "OAuth Credentials",
                MenuItem::Create("google_oauth_credentials"),
            )]
        }
        ["Fedgate"] => vec![
            ("OAuth Integration", MenuItem::Create("oauth_integration")),
            ("Webhook", MenuItem::Create("webhook")),
        ],
        _ => Vec::new(),
    }
}

fn property_id(p: &PropertyDto) -> &str {
    match p {
        PropertyDto::GoogleOauthCredentials(g) => &g.id,
        PropertyDto::OauthIntegration(i) => &i.id,
        PropertyDto::OpenidConnectProvider(o) => &o.id,
        PropertyDto::Oauth2Provider(o) => &o.id,
        PropertyDto::DevelopmentProvider(d) => &d.id,
        PropertyDto::Webhook(w) => &w.id,
    }
}

/// The Properties page.
#[component]
pub fn Properties() -> impl IntoView {
    let ctx = app_ctx();
    let list = LocalResource::new(move || {
        let path = format!("{}/properties", ctx.api(""));
        let _ = ctx.id.get();
        async move { api::get::<Vec<PropertyDto>>(&path).await }
    });
    let editing = RwSignal::new(None::<Editing>);
    let removing = RwSignal::new(None::<(String, String)>);
    let removing_busy = RwSignal::new(false);
    let remove_failure = RwSignal::new(None::<Failure>);

    // `?new=<kind>` and `?edit=<propertyId>` open the dialog: Hosted Services links here
    // for each missing or invalid piece.
    let query = use_query_map();
    Effect::new(move |_| {
        let q = query.read();
        if let Some(kind) = q.get("new") {
            editing.set(Editing::new_of(&kind));
        } else if let Some(id) = q.get("edit")
            && let Some(Ok(props)) = list.get()
            && let Some(p) = props.iter().find(|p| property_id(p) == id)
        {
            editing.set(Some(Editing::of(p.clone())));
        }
    });

    // Closing forgets `?new=`/`?edit=`, so a reload or refetch does not reopen it.
    let navigate = use_navigate();
    let forget_query = move || {
        if !query.read_untracked().to_query_string().is_empty() {
            navigate(
                &ctx.page("/properties"),
                NavigateOptions {
                    replace: true,
                    ..crate::as_is()
                },
            );
        }
    };
    let close = {
        let forget_query = forget_query.clone();
        Callback::new(move |()| {
            editing.set(None);
            forget_query();
        })
    };
    let saved = Callback::new(move |()| {
        editing.set(None);
        forget_query();
        list.refetch();
    });
    let on_remove = Callback::new(move |()| {
        let Some((id, _)) = removing.get_untracked() else {
            return;
        };
        removing_busy.set(true);
        remove_failure.set(None);
        spawn_local(async move {
            let r = api::act("DELETE", &ctx.api(&format!("/properties/{id}"))).await;
            removing_busy.set(false);
            match r {
                Ok(()) => {
                    removing.set(None);
                    list.refetch();
                }
                Err(f) => remove_failure.set(Some(f)),
            }
        });
    });

    view! {
        <div class="page-head">
            <h2>"Properties"</h2>
            <NewPropertyMenu editing=editing/>
        </div>
        <p class="lead">
            "Typed configuration of this application: your sign-in providers (Google, your own OpenID Connect and OAuth2 servers) and how Fedgate hands results to your app."
        </p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                list.get()
                    .map(|r| match r {
                        Ok(props) if props.is_empty() => {
                            view! {
                                <p class="empty">
                                    "No properties yet. Use New Property to add your Google OAuth credentials and an OAuth integration."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(props) => view! { <PropertyTable props=props editing=editing removing=removing/> }.into_any(),
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
        {move || {
            editing
                .get()
                .map(|e| match e {
                    Editing::Google(existing) => {
                        view! { <GoogleDialog existing=existing on_close=close on_saved=saved/> }.into_any()
                    }
                    Editing::Integration(existing) => {
                        view! { <IntegrationDialog existing=existing on_close=close on_saved=saved/> }
                            .into_any()
                    }
                    Editing::Oidc(existing) => {
                        view! { <OidcDialog existing=existing on_close=close on_saved=saved/> }.into_any()
                    }
                    Editing::Development(existing) => {
                        view! { <DevelopmentDialog existing=existing on_close=close on_saved=saved/> }.into_any()
                    }
                    Editing::OAuth2(existing) => {
                        view! { <OAuth2Dialog existing=existing.map(|b| *b) on_close=close on_saved=saved/> }.into_any()
                    }
                    Editing::Webhook(existing) => {
                        view! { <WebhookDialog existing=existing on_close=close on_saved=saved/> }.into_any()
                    }
                })
        }}
        {move || {
            removing
                .get()
                .map(|(_, label)| {
                    view! {
                        <Confirm
                            title=format!("Delete {label}?")
                            message="Logins that depend on this property stop working until it is added again."
                                .to_owned()
                            confirm_label="Delete property".to_owned()
                            on_cancel=Callback::new(move |()| removing.set(None))
                            on_confirm=on_remove
                            busy=removing_busy.into()
                            failure=remove_failure
                        />
                    }
                })
        }}
    }
}

#[component]
fn PropertyTable(
    props: Vec<PropertyDto>,
    editing: RwSignal<Option<Editing>>,
    removing: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let ctx = app_ctx();
    let rows = props
        .into_iter()
        .map(|p| {
            let (id, kind, name, summary, updated) = match &p {
                PropertyDto::GoogleOauthCredentials(g) => (
                    g.id.clone(),
                    "google_oauth_credentials",
                    g.instance_name.clone(),
                    format!(
                        "Client id {} · client secret {}",
                        g.client_id,
                        if g.client_secret_set {
                            "set"
                        } else {
                            "not set"
                        }
                    ),
                    g.updated_at,
                ),
                PropertyDto::OauthIntegration(i) => (
                    i.id.clone(),
                    "oauth_integration",
                    i.instance_name.clone(),
                    format!(
                        "{} · state signing {} · results by {} · auto-create users {}",
                        i.redirect_uris.join(", "),
                        if i.require_state_signing {
                            "required"
                        } else {
                            "off"
                        },
                        match i.result_delivery {
                            ResultDelivery::Query => "query",
                            ResultDelivery::Code => "code",
                        },
                        if i.auto_create_users { "on" } else { "off" }
                    ),
                    i.updated_at,
                ),
                PropertyDto::OpenidConnectProvider(o) => (
                    o.id.clone(),
                    "openid_connect_provider",
                    o.instance_name.clone(),
                    format!(
                        "{} ({}) · issuer {} · client id {} · client secret {} · email verification {}",
                        o.display_name,
                        o.slug,
                        o.issuer,
                        o.client_id,
                        if o.client_secret_set { "set" } else { "not set" },
                        if o.verifies_emails { "trusted" } else { "not trusted" }
                    ),
                    o.updated_at,
                ),
                PropertyDto::Webhook(w) => (
                    w.id.clone(),
                    "webhook",
                    w.instance_name.clone(),
                    format!("{} · {}", w.url, w.event_types.join(", ")),
                    w.updated_at,
                ),
                PropertyDto::DevelopmentProvider(d) => (
                    d.id.clone(),
                    "development_provider",
                    d.instance_name.clone(),
                    "The built-in development provider: sign in as anyone you type, on this machine only".to_owned(),
                    d.updated_at,
                ),
                PropertyDto::Oauth2Provider(o) => (
                    o.id.clone(),
                    "oauth2_provider",
                    o.instance_name.clone(),
                    format!(
                        "{} ({}) · profile {} · subject {} · client id {} · client secret {} · email verification {}",
                        o.display_name,
                        o.slug,
                        o.profile_url,
                        o.claim_mapping.subject,
                        o.client_id,
                        if o.client_secret_set { "set" } else { "not set" },
                        if o.verifies_emails { "trusted" } else { "not trusted" }
                    ),
                    o.updated_at,
                ),
            };
            let deliveries = (kind == "webhook").then(|| {
                let href = ctx.page(&format!("/webhooks/{id}"));
                let label = format!("Deliveries of {name}");
                view! { <A href=href attr:aria-label=label>"Deliveries"</A> }
            });
            let label = format!("{} “{}”", kind_label(kind), name);
            let edit_label = format!("Edit {label}");
            let delete_label = format!("Delete {label}");
            let edit = {
                let p = p.clone();
                move |_| {
                    editing.set(Some(Editing::of(p.clone())));
                }
            };
            view! {
                <tr>
                    <td>{kind_label(kind)}</td>
                    <td>{name}</td>
                    <td class="wrap">{summary}</td>
                    <td>{when(updated)}</td>
                    <td class="row-actions">
                        {deliveries}
                        <button type="button" aria-label=edit_label on:click=edit>
                            "Edit"
                        </button>
                        <button
                            type="button"
                            class="danger"
                            aria-label=delete_label
                            on:click=move |_| removing.set(Some((id.clone(), label.clone())))
                        >
                            "Delete"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Kind", "Instance name", "Settings", "Updated", ""]>{rows}</Table>
    }
}

/// New Property › Google › Credentials › OAuth Credentials, and
/// New Property › Fedgate › OAuth Integration.
#[component]
fn NewPropertyMenu(editing: RwSignal<Option<Editing>>) -> impl IntoView {
    let path = RwSignal::new(None::<Vec<&'static str>>);
    let choose = move |item: MenuItem| match item {
        MenuItem::Open(step) => path.update(|p| {
            if let Some(p) = p {
                p.push(step);
            }
        }),
        MenuItem::Create(kind) => {
            path.set(None);
            editing.set(Editing::new_of(kind));
        }
    };
    view! {
        <div
            class="menu"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    path.set(None);
                }
            }
        >
            <button
                type="button"
                class="primary"
                aria-haspopup="true"
                aria-expanded=move || if path.get().is_some() { "true" } else { "false" }
                on:click=move |_| path.update(|p| *p = if p.is_some() { None } else { Some(Vec::new()) })
            >
                "New Property"
            </button>
            {move || {
                path.get()
                    .map(|steps| {
                        let trail = std::iter::once("New Property")
                            .chain(steps.iter().copied())
                            .collect::<Vec<_>>()
                            .join(" › ");
                        let back = (!steps.is_empty())
                            .then(|| {
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="menu-back"
                                            on:click=move |_| path.update(|p| {
                                                if let Some(p) = p {
                                                    p.pop();
                                                }
                                            })
                                        >
                                            "‹ Back"
                                        </button>
                                    </li>
                                }
                            });
                        let items = menu_items(&steps)
                            .into_iter()
                            .map(|(label, item)| {
                                let is_leaf = matches!(item, MenuItem::Create(_));
                                view! {
                                    <li>
                                        <button type="button" on:click=move |_| choose(item)>
                                            {label}
                                            {(!is_leaf).then_some(" ›")}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="menu-panel" role="group" aria-label=trail.clone()>
                                <p class="menu-trail">{trail.clone()}</p>
                                <ul>{back} {items}</ul>
                            </div>
                        }
                    })
            }}
        </div>
    }
}

/// A property dialog: its form, the errors that belong to no field, the instance name
/// every kind has, the kind's own fields, and Save / Cancel.
#[component]
pub(crate) fn PropertyForm(
    title: String,
    fields: &'static [&'static str],
    instance_name: RwSignal<String>,
    failure: RwSignal<Option<Failure>>,
    busy: RwSignal<bool>,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + Send + 'static,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    view! {
        <Dialog title=title on_close=on_close>
            <form on:submit=on_submit novalidate>
                <FormError failure=failure fields=fields/>
                <TextField
                    id="instanceName"
                    label="Instance name"
                    value=instance_name
                    error=field_error(failure, "instanceName")
                    hint="For your records; anything you like."
                />
                {children()}
                <SaveOrCancel busy=busy on_cancel=on_close/>
            </form>
        </Dialog>
    }
}

/// The write-only client secret: empty on edit keeps the stored one, which is never
/// shown.
#[component]
fn ClientSecretField(
    value: RwSignal<String>,
    failure: RwSignal<Option<Failure>>,
    secret_set: bool,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <TextField
            id="clientSecret"
            label="Client secret"
            kind="password"
            value=value
            error=field_error(failure, "clientSecret")
            hint=hint
            placeholder=if secret_set { "•••••• set — type to replace".to_owned() } else { String::new() }
            autocomplete="off"
        />
    }
}

/// The hint of a client secret field: what keeping it means once one is set.
fn secret_hint(secret_set: bool, where_from: &'static str) -> &'static str {
    if secret_set {
        "A client secret is set. It is never shown again; leave this empty to keep it, or enter a new one to replace it."
    } else {
        where_from
    }
}

const GOOGLE_FIELDS: &[&str] = &[
    "instanceName",
    "clientId",
    "clientSecret",
    "projectNumber",
    "applicationName",
];

fn optional(text: String) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Saves `body`: created when there is no `existing` id, replaced otherwise.
fn save(
    existing: Option<String>,
    body: PropertyRequest,
    busy: RwSignal<bool>,
    failure: RwSignal<Option<Failure>>,
    on_saved: Callback<()>,
) {
    let ctx = app_ctx();
    busy.set(true);
    failure.set(None);
    spawn_local(async move {
        let r: Result<PropertyDto, Failure> = match existing {
            Some(id) => api::send("PUT", &ctx.api(&format!("/properties/{id}")), &body).await,
            None => api::send("POST", &ctx.api("/properties"), &body).await,
        };
        busy.set(false);
        match r {
            Ok(_) => on_saved.run(()),
            Err(f) => failure.set(Some(f)),
        }
    });
}

#[component]
fn GoogleDialog(
    existing: Option<GoogleCredentialsDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let e = existing.clone();
    let instance_name = RwSignal::new(
        e.as_ref()
            .map(|g| g.instance_name.clone())
            .unwrap_or_default(),
    );
    let client_id = RwSignal::new(e.as_ref().map(|g| g.client_id.clone()).unwrap_or_default());
    let client_secret = RwSignal::new(String::new());
    let project_number = RwSignal::new(
        e.as_ref()
            .and_then(|g| g.project_number.clone())
            .unwrap_or_default(),
    );
    let application_name = RwSignal::new(
        e.as_ref()
            .and_then(|g| g.application_name.clone())
            .unwrap_or_default(),
    );
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let secret_set = e.as_ref().is_some_and(|g| g.client_secret_set);
    let id = e.as_ref().map(|g| g.id.clone());
    let editing = id.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let secret = client_secret.get_untracked();
        let body = PropertyRequest::GoogleOauthCredentials(GoogleCredentialsRequest {
            instance_name: instance_name.get_untracked(),
            client_id: client_id.get_untracked().trim().to_owned(),
            // Empty on edit keeps the stored secret.
            client_secret: if editing && secret.is_empty() {
                None
            } else {
                Some(secret)
            },
            project_number: optional(project_number.get_untracked()),
            application_name: optional(application_name.get_untracked()),
        });
        save(id.clone(), body, busy, failure, on_saved);
    };
    let secret_hint = secret_hint(
        secret_set,
        "From the Google console, shown next to the client id. Stored encrypted; never shown again.",
    );
    let title = if editing {
        "Edit OAuth Credentials".to_owned()
    } else {
        "New Property › Google › Credentials › OAuth Credentials".to_owned()
    };
    view! {
        <PropertyForm
            title=title
            fields=GOOGLE_FIELDS
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
                <TextField
                    id="clientId"
                    label="Client ID"
                    value=client_id
                    error=field_error(failure, "clientId")
                    placeholder="1234-abc.apps.googleusercontent.com".to_owned()
                />
                <ClientSecretField value=client_secret failure=failure secret_set=secret_set hint=secret_hint/>
                <TextField
                    id="projectNumber"
                    label="Project number"
                    value=project_number
                    error=field_error(failure, "projectNumber")
                    hint="Optional; digits. Use your Google project's."
                />
                <TextField
                    id="applicationName"
                    label="Application name"
                    value=application_name
                    error=field_error(failure, "applicationName")
                    hint="Optional; your Google project's application name."
                />
        </PropertyForm>
    }
}

const INTEGRATION_FIELDS: &[&str] = &[
    "instanceName",
    "redirectUris",
    "requireStateSigning",
    "resultDelivery",
    "autoCreateUsers",
];

#[component]
fn IntegrationDialog(
    existing: Option<OauthIntegrationDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let e = existing;
    let instance_name = RwSignal::new(
        e.as_ref()
            .map(|i| i.instance_name.clone())
            .unwrap_or_default(),
    );
    let uris = RwSignal::new(
        e.as_ref()
            .map(|i| i.redirect_uris.join("\n"))
            .unwrap_or_default(),
    );
    let signing = RwSignal::new(e.as_ref().is_some_and(|i| i.require_state_signing));
    let delivery = RwSignal::new(
        e.as_ref()
            .map_or(ResultDelivery::Query, |i| i.result_delivery),
    );
    let auto_create = RwSignal::new(e.as_ref().is_none_or(|i| i.auto_create_users));
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let id = e.as_ref().map(|i| i.id.clone());
    let editing = id.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PropertyRequest::OauthIntegration(OauthIntegrationRequest {
            instance_name: instance_name.get_untracked(),
            redirect_uris: uris
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            require_state_signing: signing.get_untracked(),
            result_delivery: delivery.get_untracked(),
            auto_create_users: auto_create.get_untracked(),
        });
        save(id.clone(), body, busy, failure, on_saved);
    };
    let title = if editing {
        "Edit OAuth Integration".to_owned()
    } else {
        "New Property › Fedgate › OAuth Integration".to_owned()
    };
    view! {
        <PropertyForm
            title=title
            fields=INTEGRATION_FIELDS
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
                <TextAreaField
                    id="redirectUris"
                    label="OAuth redirect URIs"
                    value=uris
                    error=field_error(failure, "redirectUris")
                    hint="One per line: where Fedgate sends users back after signing in, or after an error. Matched exactly; https (http only for localhost)."
                    placeholder="https://app.example.com/auth/callback"
                />
                <DevAppSuggestion uris=uris/>
                <div class="field check">
                    <input id="requireStateSigning" type="checkbox" bind:checked=signing/>
                    <label for="requireStateSigning">"Require state signing"</label>
                    <p class="hint">
                        "Only login requests signed with one of this application's access keys are accepted, so a frontend alone cannot start one; the provider's refresh token is then returned too."
                    </p>
                </div>
                <fieldset class="field">
                    <legend>"Result delivery"</legend>
                    <label class="radio">
                        <input
                            type="radio"
                            name="resultDelivery"
                            value="query"
                            prop:checked=move || delivery.get() == ResultDelivery::Query
                            on:change=move |_| delivery.set(ResultDelivery::Query)
                        />
                        " Query parameters (federatingService, linkedUser, autoLoginToken, …)"
                    </label>
                    <label class="radio">
                        <input
                            type="radio"
                            name="resultDelivery"
                            value="code"
                            prop:checked=move || delivery.get() == ResultDelivery::Code
                            on:change=move |_| delivery.set(ResultDelivery::Code)
                        />
                        " A single-use resultCode your backend redeems (no token in the URL)"
                    </label>
                </fieldset>
                <div class="field check">
                    <input id="autoCreateUsers" type="checkbox" bind:checked=auto_create/>
                    <label for="autoCreateUsers">"Auto-create users"</label>
                    <p class="hint">"Create a user when someone new signs in and no existing user matches."</p>
                </div>
        </PropertyForm>
    }
}

const OIDC_FIELDS: &[&str] = &[
    "instanceName",
    "slug",
    "displayName",
    "issuer",
    "clientId",
    "clientSecret",
    "clientAuthentication",
    "scopes",
    "verifiesEmails",
    "allowedEmailDomains",
    "allowedTenants",
];

/// What Check discovery found, in a few lines.
#[component]
fn DiscoveryFound(found: DiscoveryDto) -> impl IntoView {
    let userinfo = found
        .userinfo_endpoint
        .clone()
        .unwrap_or_else(|| "none".to_owned());
    view! {
        <div class="discovery-found" role="status">
            <p>
                <strong>"Discovery OK"</strong>
                " — issuer " <code>{found.issuer.clone()}</code>
            </p>
            <dl>
                <dt>"Authorization endpoint"</dt>
                <dd><code>{found.authorization_endpoint.clone()}</code></dd>
                <dt>"Token endpoint"</dt>
                <dd><code>{found.token_endpoint.clone()}</code></dd>
                <dt>"Userinfo endpoint"</dt>
                <dd><code>{userinfo}</code></dd>
                <dt>"JWKS"</dt>
                <dd><code>{found.jwks_uri.clone()}</code></dd>
                <dt>"Signing algorithms"</dt>
                <dd>{found.signing_algorithms.join(", ")} " (accepted: " {found.accepted_algorithms.join(", ")} ")"</dd>
                <dt>"iss parameter (RFC 9207)"</dt>
                <dd>{if found.iss_parameter_supported { "sent by the provider — required" } else { "not advertised" }}</dd>
                <dt>"Token endpoint authentication"</dt>
                <dd>{found.token_endpoint_auth_methods.join(", ")}</dd>
                {found.multi_tenant.then(|| view! {
                    <dt>"Tenants"</dt>
                    <dd>"Microsoft Entra multi-tenant: each ID token carries its own tenant's issuer"</dd>
                })}
            </dl>
        </div>
    }
}

#[component]
fn OidcDialog(
    existing: Option<OpenidConnectProviderDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let e = existing;
    let text = |f: fn(&OpenidConnectProviderDto) -> String| {
        RwSignal::new(e.as_ref().map(f).unwrap_or_default())
    };
    let instance_name = text(|o| o.instance_name.clone());
    let slug = text(|o| o.slug.clone());
    let display_name = text(|o| o.display_name.clone());
    let issuer = text(|o| o.issuer.clone());
    let client_id = text(|o| o.client_id.clone());
    let client_secret = RwSignal::new(String::new());
    let scopes = RwSignal::new(
        e.as_ref()
            .map_or_else(|| "openid email profile".to_owned(), |o| o.scopes.join(" ")),
    );
    let domains = text(|o| o.allowed_email_domains.join("\n"));
    let tenants = text(|o| o.allowed_tenants.join("\n"));
    let multi_tenant = RwSignal::new(e.as_ref().is_some_and(|o| o.multi_tenant));
    let verifies = RwSignal::new(e.as_ref().is_some_and(|o| o.verifies_emails));
    let post = RwSignal::new(
        e.as_ref()
            .is_some_and(|o| o.client_authentication == ClientAuthentication::ClientSecretPost),
    );
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let checking = RwSignal::new(false);
    let found = RwSignal::new(None::<DiscoveryDto>);
    let secret_set = e.as_ref().is_some_and(|o| o.client_secret_set);
    let id = e.as_ref().map(|o| o.id.clone());
    let editing = id.is_some();
    let check = move |_| {
        let ctx = app_ctx();
        checking.set(true);
        found.set(None);
        failure.set(None);
        let body = DiscoveryCheckRequest {
            issuer: issuer.get_untracked().trim().to_owned(),
        };
        spawn_local(async move {
            let r: Result<DiscoveryDto, Failure> =
                api::send("POST", &ctx.api("/discovery-check"), &body).await;
            checking.set(false);
            match r {
                Ok(d) => {
                    multi_tenant.set(d.multi_tenant);
                    if d.multi_tenant {
                        verifies.set(false);
                    }
                    found.set(Some(d));
                }
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let secret = client_secret.get_untracked();
        let body = PropertyRequest::OpenidConnectProvider(OpenidConnectProviderRequest {
            instance_name: instance_name.get_untracked(),
            slug: slug.get_untracked().trim().to_owned(),
            display_name: display_name.get_untracked(),
            issuer: issuer.get_untracked().trim().to_owned(),
            client_id: client_id.get_untracked().trim().to_owned(),
            client_secret: new_secret(editing, secret),
            client_authentication: client_auth(post),
            scopes: Some(words(&scopes.get_untracked())),
            verifies_emails: verifies.get_untracked(),
            allowed_email_domains: words(&domains.get_untracked()),
            allowed_tenants: words(&tenants.get_untracked()),
        });
        save(id.clone(), body, busy, failure, on_saved);
    };
    let secret_hint = secret_hint(
        secret_set,
        "From your provider's client registration. Stored encrypted; never shown again.",
    );
    let title = if editing {
        "Edit OpenID Connect Provider".to_owned()
    } else {
        "New Property › OpenID Connect › Provider".to_owned()
    };
    let issuer_error = field_error(failure, "issuer");
    view! {
        <PropertyForm
            title=title
            fields=OIDC_FIELDS
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
                <ProviderNaming slug=slug display_name=display_name editing=editing failure=failure placeholder="acme-sso"/>
                <div class="field" class:invalid=move || issuer_error.get().is_some()>
                    <label for="issuer">"Issuer URL"</label>
                    <div class="with-button">
                        <input
                            id="issuer"
                            name="issuer"
                            type="url"
                            bind:value=issuer
                            placeholder="https://sso.example.com/realms/staff"
                            aria-invalid=move || issuer_error.get().is_some().then_some("true")
                            aria-describedby="issuer-hint issuer-error"
                        />
                        <button type="button" on:click=check disabled=move || checking.get()>
                            {move || if checking.get() { "Checking…" } else { "Check discovery" }}
                        </button>
                    </div>
                    <p class="hint" id="issuer-hint">
                        "Fedgate reads {issuer}/.well-known/openid-configuration; its issuer must be exactly this value."
                    </p>
                    {move || issuer_error.get().map(|e| view! { <p class="field-error" id="issuer-error">{e}</p> })}
                    {move || found.get().map(|d| view! { <DiscoveryFound found=d/> })}
                </div>
                <TextField
                    id="clientId"
                    label="Client ID"
                    value=client_id
                    error=field_error(failure, "clientId")
                />
                <ClientSecretField value=client_secret failure=failure secret_set=secret_set hint=secret_hint/>
                <ClientAuthField post=post/>
                <TextField
                    id="scopes"
                    label="Scopes"
                    value=scopes
                    error=field_error(failure, "scopes")
                    hint="Space-separated; openid is always included."
                />
                {move || multi_tenant.get().then(|| view! { <EntraTenants tenants=tenants failure=failure/> })}
                <EmailTrustFields verifies=verifies domains=domains failure=failure locked=Signal::from(multi_tenant)/>
        </PropertyForm>
    }
}

/// Microsoft Entra multi-tenant sign-in: which tenants may sign in, with a warning
/// while any may.
#[component]
fn EntraTenants(tenants: RwSignal<String>, failure: RwSignal<Option<Failure>>) -> impl IntoView {
    view! {
        <TextAreaField
            id="allowedTenants"
            label="Allowed tenants"
            value=tenants
            error=field_error(failure, "allowedTenants")
            hint="Microsoft Entra multi-tenant sign-in: the tenant ids (GUIDs) whose people may sign in, one per line."
            rows=2
            placeholder="72f988bf-86f1-41af-91ab-2d7cd011db47"
        />
        {move || tenants.get().trim().is_empty().then(|| view! {
            <p class="warning" role="note">
                "No tenant listed: anyone with a Microsoft work or school account, in any organisation, can sign in. List your customers' tenant ids to limit it."
            </p>
        })}
    }
}

/// The secret to send: empty on edit keeps the stored one.
fn new_secret(editing: bool, typed: String) -> Option<String> {
    (!(editing && typed.is_empty())).then_some(typed)
}

/// Entries separated by spaces, commas or new lines.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client_auth(post: RwSignal<bool>) -> ClientAuthentication {
    if post.get_untracked() {
        ClientAuthentication::ClientSecretPost
    } else {
        ClientAuthentication::ClientSecretBasic
    }
}

/// A provider's slug (fixed once created) and display name.
#[component]
fn ProviderNaming(
    slug: RwSignal<String>,
    display_name: RwSignal<String>,
    editing: bool,
    failure: RwSignal<Option<Failure>>,
    placeholder: &'static str,
) -> impl IntoView {
    let slug_field = if editing {
        view! {
            <div class="field">
                <label for="slug">"Slug"</label>
                <input id="slug" name="slug" type="text" prop:value=move || slug.get() disabled=true/>
                <p class="hint">"Fixed after creation: it is part of the URLs registered at your provider and in your app."</p>
            </div>
        }
            .into_any()
    } else {
        view! {
            <TextField
                id="slug"
                label="Slug"
                value=slug
                error=field_error(failure, "slug")
                hint="Lowercase letters, digits and '-': the provider's URLs become /hosted/{application}/{slug}/login and …/callback. Fixed after creation."
                placeholder=placeholder.to_owned()
            />
        }
            .into_any()
    };
    view! {
        {slug_field}
        <TextField
            id="displayName"
            label="Display name"
            value=display_name
            error=field_error(failure, "displayName")
            hint="Shown on the Hosted Services tile and to your users."
        />
    }
}

/// How Fedgate authenticates at the token endpoint.
#[component]
fn ClientAuthField(post: RwSignal<bool>) -> impl IntoView {
    view! {
        <fieldset class="field">
            <legend>"Client authentication"</legend>
            <label class="radio">
                <input
                    type="radio"
                    name="clientAuthentication"
                    value="client_secret_basic"
                    prop:checked=move || !post.get()
                    on:change=move |_| post.set(false)
                />
                " client_secret_basic (HTTP Basic; the usual one)"
            </label>
            <label class="radio">
                <input
                    type="radio"
                    name="clientAuthentication"
                    value="client_secret_post"
                    prop:checked=move || post.get()
                    on:change=move |_| post.set(true)
                />
                " client_secret_post (in the form body)"
            </label>
        </fieldset>
    }
}

/// Whether the provider's email verification counts, and for which domains.
#[component]
fn EmailTrustFields(
    verifies: RwSignal<bool>,
    domains: RwSignal<String>,
    failure: RwSignal<Option<Failure>>,
    /// Microsoft Entra multi-tenant: email verification can never count.
    #[prop(optional)]
    locked: Option<Signal<bool>>,
) -> impl IntoView {
    let locked = move || locked.is_some_and(|l| l.get());
    view! {
        <div class="field check" class:invalid=move || field_error(failure, "verifiesEmails").get().is_some()>
            <input id="verifiesEmails" type="checkbox" bind:checked=verifies disabled=locked/>
            <label for="verifiesEmails">"This provider verifies email addresses"</label>
            <p class="hint">
                {move || if locked() {
                    "Not for Microsoft Entra multi-tenant sign-in: Entra does not verify the addresses of other tenants (any tenant's administrator can set any address), so they never count as verified."
                } else {
                    "Only then does the provider's email verification count, so a new identity can be linked to the existing user owning that verified email. Leave off unless your provider really checks addresses."
                }}
            </p>
            {move || field_error(failure, "verifiesEmails").get().map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
        <TextAreaField
            id="allowedEmailDomains"
            label="Allowed email domains"
            value=domains
            error=field_error(failure, "allowedEmailDomains")
            hint="Optional, one per line: only emails of these domains count as verified."
            rows=2
            placeholder="example.com"
        />
    }
}

const OAUTH2_FIELDS: &[&str] = &[
    "instanceName",
    "slug",
    "displayName",
    "authorizationUrl",
    "tokenUrl",
    "profileUrl",
    "emailsUrl",
    "clientId",
    "clientSecret",
    "clientAuthentication",
    "scopes",
    "pkce",
    "issuer",
    "claimMapping.subject",
    "claimMapping.email",
    "claimMapping.emailVerified",
    "claimMapping.name",
    "claimMapping.givenName",
    "claimMapping.familyName",
    "claimMapping.picture",
    "claimMapping.username",
    "verifiesEmails",
    "allowedEmailDomains",
    "profile",
    "emails",
];

/// The claim mapping's pointers, as typed.
#[derive(Clone, Copy)]
struct MappingFields {
    subject: RwSignal<String>,
    email: RwSignal<String>,
    email_verified: RwSignal<String>,
    name: RwSignal<String>,
    given_name: RwSignal<String>,
    family_name: RwSignal<String>,
    picture: RwSignal<String>,
    username: RwSignal<String>,
}

impl MappingFields {
    /// The stored mapping's pointers, or a start for a new provider.
    fn of(m: Option<&ClaimMapping>) -> Self {
        let text = |f: fn(&ClaimMapping) -> Option<String>, default: &str| {
            RwSignal::new(m.map_or_else(|| default.to_owned(), |m| f(m).unwrap_or_default()))
        };
        Self {
            subject: text(|m| Some(m.subject.clone()), "/id"),
            email: text(|m| m.email.clone(), "/email"),
            email_verified: text(|m| m.email_verified.clone(), ""),
            name: text(|m| m.name.clone(), "/name"),
            given_name: text(|m| m.given_name.clone(), ""),
            family_name: text(|m| m.family_name.clone(), ""),
            picture: text(|m| m.picture.clone(), ""),
            username: text(|m| m.username.clone(), ""),
        }
    }

    fn value(self) -> ClaimMapping {
        let pointer = |s: RwSignal<String>| optional(s.get_untracked());
        ClaimMapping {
            subject: self.subject.get_untracked().trim().to_owned(),
            email: pointer(self.email),
            email_verified: pointer(self.email_verified),
            name: pointer(self.name),
            given_name: pointer(self.given_name),
            family_name: pointer(self.family_name),
            picture: pointer(self.picture),
            username: pointer(self.username),
        }
    }
}

/// The claim mapping's fields, and Preview mapping: a sample profile (and emails list)
/// and what the mapping yields from it.
#[component]
fn ClaimMappingFields(map: MappingFields, failure: RwSignal<Option<Failure>>) -> impl IntoView {
    let sample = RwSignal::new(String::new());
    let emails = RwSignal::new(String::new());
    let previewing = RwSignal::new(false);
    let preview = RwSignal::new(None::<MappingPreviewDto>);
    let run = move |_| {
        let ctx = app_ctx();
        previewing.set(true);
        preview.set(None);
        failure.set(None);
        let body = MappingPreviewRequest {
            claim_mapping: map.value(),
            profile: sample.get_untracked(),
            emails: optional(emails.get_untracked()),
        };
        spawn_local(async move {
            let r: Result<MappingPreviewDto, Failure> =
                api::send("POST", &ctx.api("/mapping-preview"), &body).await;
            previewing.set(false);
            match r {
                Ok(p) => preview.set(Some(p)),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    let pointer_hint = "Optional JSON pointer, e.g. /email or /data/user/email.";
    view! {
        <fieldset class="field">
            <legend>"Claim mapping"</legend>
            <p class="hint">
                "JSON pointers into the profile response. The subject must be a string or an integer that never changes for a person (123 and \"123\" are the same)."
            </p>
            <TextField id="claimMapping.subject" label="Subject" value=map.subject error=field_error(failure, "claimMapping.subject") hint="Required, e.g. /id or /data/user/id." placeholder="/id".to_owned()/>
            <TextField id="claimMapping.email" label="Email" value=map.email error=field_error(failure, "claimMapping.email") hint=pointer_hint/>
            <TextField id="claimMapping.emailVerified" label="Email verified" value=map.email_verified error=field_error(failure, "claimMapping.emailVerified") hint="Optional pointer to true or \"true\". Counts only when this provider verifies email addresses."/>
            <TextField id="claimMapping.name" label="Name" value=map.name error=field_error(failure, "claimMapping.name") hint=pointer_hint/>
            <TextField id="claimMapping.givenName" label="Given name" value=map.given_name error=field_error(failure, "claimMapping.givenName") hint=pointer_hint/>
            <TextField id="claimMapping.familyName" label="Family name" value=map.family_name error=field_error(failure, "claimMapping.familyName") hint=pointer_hint/>
            <TextField id="claimMapping.picture" label="Picture" value=map.picture error=field_error(failure, "claimMapping.picture") hint=pointer_hint/>
            <TextField id="claimMapping.username" label="Username" value=map.username error=field_error(failure, "claimMapping.username") hint=pointer_hint/>
        </fieldset>
        <fieldset class="field preview-mapping">
            <legend>"Preview mapping"</legend>
            <TextAreaField
                id="profile"
                label="Sample profile JSON"
                value=sample
                error=field_error(failure, "profile")
                hint="Paste what your profile URL answers for one person; nothing is stored."
                rows=4
                placeholder="{\"id\": 4711, \"login\": \"ann\", \"name\": \"Ann Example\"}"
            />
            <TextAreaField
                id="emails"
                label="Sample emails JSON"
                value=emails
                error=field_error(failure, "emails")
                hint="Optional: what the emails URL answers."
                rows=2
            />
            <button type="button" on:click=run disabled=move || previewing.get()>
                {move || if previewing.get() { "Previewing…" } else { "Preview mapping" }}
            </button>
            {move || preview.get().map(|p| view! { <MappingPreview preview=p/> })}
        </fieldset>
    }
}

/// What Preview mapping yields.
#[component]
fn MappingPreview(preview: MappingPreviewDto) -> impl IntoView {
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "—".to_owned());
    if let Some(why) = preview.failure {
        return view! {
            <div class="mapping-preview failed" role="status">
                <p><strong>"A sign-in with this profile would fail"</strong> " — " {why}</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="mapping-preview" role="status">
            <dl>
                <dt>"Subject"</dt><dd><code>{or_none(preview.subject)}</code></dd>
                <dt>"Email"</dt>
                <dd>
                    {or_none(preview.email)}
                    {if preview.email_verified { " (verified by the provider)" } else { " (not verified)" }}
                </dd>
                <dt>"Name"</dt><dd>{or_none(preview.name)}</dd>
                <dt>"Given / family name"</dt>
                <dd>{or_none(preview.given_name)} " / " {or_none(preview.family_name)}</dd>
                <dt>"Picture"</dt><dd>{or_none(preview.picture)}</dd>
                <dt>"Username"</dt><dd>{or_none(preview.username)}</dd>
            </dl>
        </div>
    }
    .into_any()
}

#[component]
fn OAuth2Dialog(
    existing: Option<Oauth2ProviderDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let e = existing;
    let text =
        |f: fn(&Oauth2ProviderDto) -> String| RwSignal::new(e.as_ref().map(f).unwrap_or_default());
    let instance_name = text(|o| o.instance_name.clone());
    let slug = text(|o| o.slug.clone());
    let display_name = text(|o| o.display_name.clone());
    let authorization_url = text(|o| o.authorization_url.clone());
    let token_url = text(|o| o.token_url.clone());
    let profile_url = text(|o| o.profile_url.clone());
    let emails_url = text(|o| o.emails_url.clone().unwrap_or_default());
    let client_id = text(|o| o.client_id.clone());
    let client_secret = RwSignal::new(String::new());
    let scopes = text(|o| o.scopes.join(" "));
    let issuer = text(|o| o.issuer.clone());
    let domains = text(|o| o.allowed_email_domains.join("\n"));
    let verifies = RwSignal::new(e.as_ref().is_some_and(|o| o.verifies_emails));
    let pkce = RwSignal::new(e.as_ref().is_none_or(|o| o.pkce));
    let post = RwSignal::new(
        e.as_ref()
            .is_some_and(|o| o.client_authentication == ClientAuthentication::ClientSecretPost),
    );
    let map = MappingFields::of(e.as_ref().map(|o| &o.claim_mapping));
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let secret_set = e.as_ref().is_some_and(|o| o.client_secret_set);
    let id = e.as_ref().map(|o| o.id.clone());
    let editing = id.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let trimmed = |s: RwSignal<String>| s.get_untracked().trim().to_owned();
        let body = PropertyRequest::Oauth2Provider(Oauth2ProviderRequest {
            instance_name: instance_name.get_untracked(),
            slug: trimmed(slug),
            display_name: display_name.get_untracked(),
            authorization_url: trimmed(authorization_url),
            token_url: trimmed(token_url),
            profile_url: trimmed(profile_url),
            emails_url: optional(emails_url.get_untracked()),
            client_id: trimmed(client_id),
            client_secret: new_secret(editing, client_secret.get_untracked()),
            client_authentication: client_auth(post),
            scopes: Some(words(&scopes.get_untracked())),
            pkce: pkce.get_untracked(),
            issuer: optional(issuer.get_untracked()),
            claim_mapping: map.value(),
            verifies_emails: verifies.get_untracked(),
            allowed_email_domains: words(&domains.get_untracked()),
        });
        save(id.clone(), body, busy, failure, on_saved);
    };
    let secret_hint = secret_hint(
        secret_set,
        "From your platform's OAuth application registration. Stored encrypted; never shown again.",
    );
    let title = if editing {
        "Edit OAuth2 Provider".to_owned()
    } else {
        "New Property › OAuth2 › Provider".to_owned()
    };
    view! {
        <PropertyForm
            title=title
            fields=OAUTH2_FIELDS
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
                <ProviderNaming slug=slug display_name=display_name editing=editing failure=failure placeholder="platform"/>
                <TextField id="authorizationUrl" label="Authorization URL" value=authorization_url error=field_error(failure, "authorizationUrl") kind="url" hint="Where the browser goes to sign in." placeholder="https://platform.example/oauth/authorize".to_owned()/>
                <TextField id="tokenUrl" label="Token URL" value=token_url error=field_error(failure, "tokenUrl") kind="url" hint="Where Fedgate redeems the code (JSON or form answers)." placeholder="https://platform.example/oauth/token".to_owned()/>
                <TextField id="profileUrl" label="Profile URL" value=profile_url error=field_error(failure, "profileUrl") kind="url" hint="Read with the access token in an Authorization: Bearer header." placeholder="https://platform.example/api/me".to_owned()/>
                <TextField id="emailsUrl" label="Emails URL" value=emails_url error=field_error(failure, "emailsUrl") kind="url" hint="Optional, a GitHub-style list of {email, primary, verified}: the primary address is used."/>
                <TextField id="clientId" label="Client ID" value=client_id error=field_error(failure, "clientId")/>
                <ClientSecretField value=client_secret failure=failure secret_set=secret_set hint=secret_hint/>
                <ClientAuthField post=post/>
                <TextField id="scopes" label="Scopes" value=scopes error=field_error(failure, "scopes") hint="Space-separated; may be empty."/>
                <div class="field check">
                    <input id="pkce" type="checkbox" bind:checked=pkce/>
                    <label for="pkce">"Send PKCE (S256)"</label>
                    <p class="hint">"Leave on unless your server rejects the code_challenge parameter."</p>
                </div>
                <TextField id="issuer" label="Issuer identifier" value=issuer error=field_error(failure, "issuer") hint="Optional: recorded with every identity from this provider. Defaults to the authorization URL's origin; changing it later makes returning people new identities."/>
                <ClaimMappingFields map=map failure=failure/>
                <EmailTrustFields verifies=verifies domains=domains failure=failure/>
        </PropertyForm>
    }
}

#[component]
fn DevelopmentDialog(
    existing: Option<DevelopmentProviderDto>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let instance_name = RwSignal::new(existing.as_ref().map_or_else(
        || "Development sign-in".to_owned(),
        |d| d.instance_name.clone(),
    ));
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let id = existing.map(|d| d.id);
    let title = if id.is_some() {
        "Edit Development sign-in".to_owned()
    } else {
        "New Property › Fedgate › Development sign-in".to_owned()
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PropertyRequest::DevelopmentProvider(DevelopmentProviderRequest {
            instance_name: instance_name.get_untracked(),
        });
        save(id.clone(), body, busy, failure, on_saved);
    };
    view! {
        <PropertyForm
            title=title
            fields=&["instanceName"]
            instance_name=instance_name
            failure=failure
            busy=busy
            on_submit=on_submit
            on_close=on_close
        >
            <p class="hint">
                "Fedgate's built-in development provider: no credentials, and anyone who reaches this Fedgate can sign in as anyone they type. For trying Fedgate on this machine only; it is off wherever Fedgate listens beyond this machine or uses an external database."
            </p>
        </PropertyForm>
    }
}

/// In development mode: the development result page, one click away as a redirect URI.
#[component]
fn DevAppSuggestion(uris: RwSignal<String>) -> impl IntoView {
    let instance = LocalResource::new(|| {
        api::get::<fedgate_wire::properties::InstanceDto>("/manage/v1/instance")
    });
    move || {
        let url = instance.get().and_then(Result::ok)?.dev_app_callback?;
        let add = {
            let url = url.clone();
            move |_| {
                uris.update(|u| {
                    if !u.lines().any(|l| l.trim() == url) {
                        if !u.trim().is_empty() {
                            u.push('\n');
                        }
                        u.push_str(&url);
                    }
                });
            }
        };
        Some(view! {
            <p class="hint dev-suggestion">
                "No app yet? Use Fedgate's development result page, which shows what your app would receive: "
                <button type="button" on:click=add>"Add " <code>{url.clone()}</code></button>
            </p>
        })
    }
}
