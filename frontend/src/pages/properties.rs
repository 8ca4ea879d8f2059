//! Properties: the list by kind and instance name, the New Property menu with its
//! dialogs (Google › Credentials › OAuth Credentials, Fedgate › OAuth Integration,
//! OpenID Connect › Provider with Check discovery), edit and delete. Client secrets
//! are write-only: the panel only ever says "set".

use fedgate_wire::properties::{
    ClientAuthentication, DiscoveryCheckRequest, DiscoveryDto, GoogleCredentialsDto,
    GoogleCredentialsRequest, OauthIntegrationDto, OauthIntegrationRequest,
    OpenidConnectProviderDto, OpenidConnectProviderRequest, PropertyDto, PropertyRequest,
    ResultDelivery,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::apps::app_ctx;
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
        _ => "Property",
    }
}

/// What the property dialog is doing.
#[derive(Debug, Clone)]
enum Editing {
    Google(Option<GoogleCredentialsDto>),
    Integration(Option<OauthIntegrationDto>),
    Oidc(Option<OpenidConnectProviderDto>),
}

impl Editing {
    /// Editing an existing property.
    fn of(p: PropertyDto) -> Self {
        match p {
            PropertyDto::GoogleOauthCredentials(g) => Self::Google(Some(g)),
            PropertyDto::OauthIntegration(i) => Self::Integration(Some(i)),
            PropertyDto::OpenidConnectProvider(o) => Self::Oidc(Some(o)),
        }
    }

    /// A new property of `kind`.
    fn new_of(kind: &str) -> Option<Self> {
        match kind {
            "google_oauth_credentials" => Some(Self::Google(None)),
            "oauth_integration" => Some(Self::Integration(None)),
            "openid_connect_provider" => Some(Self::Oidc(None)),
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
        ],
        ["OpenID Connect"] => vec![("Provider", MenuItem::Create("openid_connect_provider"))],
        ["Google"] => vec![("Credentials", MenuItem::Open("Credentials"))],
        ["Google", "Credentials"] => {
            vec![(
                "OAuth Credentials",
                MenuItem::Create("google_oauth_credentials"),
            )]
        }
        ["Fedgate"] => vec![("OAuth Integration", MenuItem::Create("oauth_integration"))],
        _ => Vec::new(),
    }
}

fn property_id(p: &PropertyDto) -> &str {
    match p {
        PropertyDto::GoogleOauthCredentials(g) => &g.id,
        PropertyDto::OauthIntegration(i) => &i.id,
        PropertyDto::OpenidConnectProvider(o) => &o.id,
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
            "Typed configuration of this application: your sign-in providers (Google, your own OpenID Connect servers) and how Fedgate hands results to your app."
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
            };
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
fn PropertyForm(
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
                Ok(d) => found.set(Some(d)),
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
            // Empty on edit keeps the stored secret.
            client_secret: if editing && secret.is_empty() {
                None
            } else {
                Some(secret)
            },
            client_authentication: if post.get_untracked() {
                ClientAuthentication::ClientSecretPost
            } else {
                ClientAuthentication::ClientSecretBasic
            },
            scopes: Some(
                scopes
                    .get_untracked()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            ),
            verifies_emails: verifies.get_untracked(),
            allowed_email_domains: domains
                .get_untracked()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
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
                {if editing {
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
                            placeholder="acme-sso".to_owned()
                        />
                    }
                        .into_any()
                }}
                <TextField
                    id="displayName"
                    label="Display name"
                    value=display_name
                    error=field_error(failure, "displayName")
                    hint="Shown on the Hosted Services tile and to your users."
                    placeholder="Acme SSO".to_owned()
                />
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
                <TextField
                    id="scopes"
                    label="Scopes"
                    value=scopes
                    error=field_error(failure, "scopes")
                    hint="Space-separated; openid is always included."
                />
                <div class="field check">
                    <input id="verifiesEmails" type="checkbox" bind:checked=verifies/>
                    <label for="verifiesEmails">"This provider verifies email addresses"</label>
                    <p class="hint">
                        "Only then does the provider's email_verified count, so a new identity can be linked to the existing user owning that verified email. Leave off unless your provider really checks addresses."
                    </p>
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
        </PropertyForm>
    }
}
