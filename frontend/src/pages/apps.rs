//! Applications: the list, one application's frame and its overview (rename, delete).

use fedgate_wire::applications::{ApplicationDto, ApplicationRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::{self, Failure, MANAGE};
use crate::components::{
    Confirm, ErrorNote, FormError, Loading, Table, TextField, field_error, when,
};

/// The application a page belongs to, loaded once by its frame.
#[derive(Clone, Copy)]
#[expect(missing_debug_implementations, reason = "LocalResource has no Debug")]
pub struct AppCtx {
    /// The id from the address.
    pub id: Memo<String>,
    /// The application itself.
    pub app: LocalResource<Result<ApplicationDto, Failure>>,
}

impl AppCtx {
    /// The management API path of this application, plus `rest`.
    #[must_use]
    pub fn api(&self, rest: &str) -> String {
        format!("{MANAGE}/applications/{}{rest}", self.id.get_untracked())
    }

    /// The panel path of this application, plus `rest`.
    #[must_use]
    pub fn page(&self, rest: &str) -> String {
        crate::href(&format!("/apps/{}{rest}", self.id.get_untracked()))
    }
}

/// The current page's application.
#[must_use]
pub fn app_ctx() -> AppCtx {
    expect_context::<AppCtx>()
}

/// The subscriber's applications, and a form to create one.
#[component]
pub fn AppList() -> impl IntoView {
    let apps = LocalResource::new(|| async {
        api::get::<Vec<ApplicationDto>>(&format!("{MANAGE}/applications")).await
    });
    view! {
        <div class="page">
            <h1>"Applications"</h1>
            <p class="lead">
                "An application is one of your apps: its users, properties, keys and events never mix with another's."
            </p>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    apps.get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty">"No applications yet. Create your first one below."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <Table headers=&["Name", "Application id", "Created"]>{list
                                                    .into_iter()
                                                    .map(|a| {
                                                        view! {
                                                            <tr>
                                                                <td>
                                                                    <A href=crate::href(&format!("/apps/{}", a.id))>{a.name}</A>
                                                                </td>
                                                                <td>
                                                                    <code>{a.id.clone()}</code>
                                                                </td>
                                                                <td>{when(a.created_at)}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}</Table>
                                }
                                    .into_any()
                            }
                            Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                        })
                }}
            </Suspense>
            <CreateApp/>
        </div>
    }
}

#[component]
fn CreateApp() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        failure.set(None);
        let body = ApplicationRequest {
            name: name.get_untracked(),
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            let r: Result<ApplicationDto, Failure> =
                api::send("POST", &format!("{MANAGE}/applications"), &body).await;
            busy.set(false);
            match r {
                Ok(app) => navigate(&crate::href(&format!("/apps/{}", app.id)), crate::as_is()),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="create-app">
            <h2 id="create-app">"Create an application"</h2>
            <FormError failure=failure fields=&["name"]/>
            <form on:submit=on_submit class="inline-form" novalidate>
                <TextField
                    id="app-name"
                    label="Name"
                    value=name
                    error=field_error(failure, "name")
                    hint="1 to 100 characters, e.g. the app's name."
                />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create application" }}
                </button>
            </form>
        </section>
    }
}

/// One application's frame: its name and the navigation between its pages.
#[component]
pub fn AppLayout() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("app").unwrap_or_default());
    let app = LocalResource::new(move || {
        let id = id.get();
        async move { api::get::<ApplicationDto>(&format!("{MANAGE}/applications/{id}")).await }
    });
    provide_context(AppCtx { id, app });
    let tab = move |rest: &'static str, label: &'static str| {
        view! { <A href=move || crate::href(&format!("/apps/{}{rest}", id.get())) exact=true>{label}</A> }
    };
    view! {
        <div class="app-frame">
            <Suspense fallback=|| view! { <Loading label="Loading application…"/> }>
                {move || {
                    app.get()
                        .map(|r| match r {
                            Ok(a) => {
                                view! {
                                    <div class="app-head">
                                        <p class="crumbs">
                                            <A href=crate::href("/")>"Applications"</A>
                                            " / "
                                        </p>
                                        <h1 class="app-name">{a.name}</h1>
                                    </div>
                                    <nav class="tabs" aria-label="Application">
                                        {tab("", "Overview")}
                                        {tab("/properties", "Properties")}
                                        {tab("/hosted-services", "Hosted Services")}
                                        {tab("/access-keys", "Access keys")}
                                        {tab("/users", "Users")}
                                        {tab("/events", "Events")}
                                    </nav>
                                    <div class="page">
                                        <Outlet/>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(f) if f.status == 404 => {
                                view! {
                                    <div class="page">
                                        <h1>"Application not found"</h1>
                                        <p role="alert">
                                            "There is no application with this id in your account. "
                                            <A href=crate::href("/")>"Back to your applications"</A>
                                        </p>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                        })
                }}
            </Suspense>
        </div>
    }
}

/// The overview: ids, rename, delete.
#[component]
pub fn Overview() -> impl IntoView {
    let ctx = app_ctx();
    let current = ctx.app.get_untracked().and_then(Result::ok);
    let Some(app) = current else {
        return view! { <Loading/> }.into_any();
    };
    let name = RwSignal::new(app.name.clone());
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let on_rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        failure.set(None);
        let body = ApplicationRequest {
            name: name.get_untracked(),
        };
        spawn_local(async move {
            let r: Result<ApplicationDto, Failure> = api::send("PATCH", &ctx.api(""), &body).await;
            busy.set(false);
            match r {
                // The new name appears in the heading.
                Ok(_) => ctx.app.refetch(),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    let confirming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let delete_failure = RwSignal::new(None::<Failure>);
    let navigate = use_navigate();
    let on_delete = Callback::new(move |()| {
        deleting.set(true);
        delete_failure.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = api::act("DELETE", &ctx.api("")).await;
            deleting.set(false);
            match r {
                Ok(()) => navigate(&crate::href("/"), crate::as_is()),
                Err(f) => delete_failure.set(Some(f)),
            }
        });
    });
    let app_name = app.name.clone();
    view! {
        <section class="card" aria-labelledby="app-ids">
            <h2 id="app-ids">"Application"</h2>
            <dl class="facts">
                <dt>"Application id"</dt>
                <dd>
                    <code>{app.id.clone()}</code>
                </dd>
                <dt>"Created"</dt>
                <dd>{when(app.created_at)}</dd>
            </dl>
            <p>
                "Next: add your Google credentials and OAuth integration under "
                <A href=ctx.page("/properties")>"Properties"</A>
                ", then check "
                <A href=ctx.page("/hosted-services")>"Hosted Services"</A>
                "."
            </p>
        </section>
        <section class="card" aria-labelledby="rename">
            <h2 id="rename">"Rename"</h2>
            <FormError failure=failure fields=&["name"]/>
            <form on:submit=on_rename class="inline-form" novalidate>
                <TextField id="rename-name" label="Name" value=name error=field_error(failure, "name")/>
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Save name" }}
                </button>
            </form>
        </section>
        <section class="card danger-zone" aria-labelledby="delete-app">
            <h2 id="delete-app">"Delete application"</h2>
            <p>
                "Deletes the application with its properties and access keys. Its login endpoint and API access stop working at once."
            </p>
            <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                "Delete application…"
            </button>
        </section>
        <Show when=move || confirming.get()>
            <Confirm
                title=format!("Delete {}?", app_name)
                message="This cannot be undone. Apps using this application's login endpoint or access keys stop working immediately."
                    .to_owned()
                confirm_label="Delete application".to_owned()
                on_cancel=Callback::new(move |()| confirming.set(false))
                on_confirm=on_delete
                busy=deleting.into()
                failure=delete_failure
            />
        </Show>
    }
    .into_any()
}
