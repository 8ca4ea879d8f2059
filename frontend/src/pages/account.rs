//! Sign up, sign in, sign out, and who is signed in.

use fedgate_wire::account::{Credentials, SessionDto};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, Failure, MANAGE};
use crate::components::{FormError, TextField, field_error};

const FIELDS: &[&str] = &["email", "password"];

/// The sign-in page; `?next=` brings the subscriber back where a lapsed session
/// interrupted them.
#[component]
pub fn SignIn() -> impl IntoView {
    view! { <AccountForm signing_up=false/> }
}

/// The sign-up page.
#[component]
pub fn SignUp() -> impl IntoView {
    view! { <AccountForm signing_up=true/> }
}

#[component]
fn AccountForm(signing_up: bool) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let query = use_query_map();
    let expired = move || query.read().get("expired").is_some();
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failure.set(None);
        let body = Credentials {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        let next = api::safe_next(query.read_untracked().get("next"));
        let navigate = navigate.clone();
        spawn_local(async move {
            let action = if signing_up { "signup" } else { "signin" };
            let result: Result<SessionDto, Failure> =
                api::send("POST", &format!("{MANAGE}/{action}"), &body).await;
            busy.set(false);
            match result {
                Ok(session) => {
                    api::remember_csrf(session.csrf_token);
                    navigate(&next, crate::as_is());
                }
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    let (title, button, busy_label) = if signing_up {
        ("Create your Fedgate account", "Sign up", "Signing up…")
    } else {
        ("Sign in to Fedgate", "Sign in", "Signing in…")
    };
    view! {
        <main id="main" class="narrow account">
            <p class="brand-large">"Fedgate"</p>
            <h1>{title}</h1>
            <Show when=expired>
                <p class="notice" role="status">"Your session ended. Sign in again to continue."</p>
            </Show>
            <FormError failure=failure fields=FIELDS/>
            <form on:submit=on_submit novalidate>
                <TextField
                    id="email"
                    label="Email"
                    kind="email"
                    value=email
                    error=field_error(failure, "email")
                    autocomplete="username"
                />
                <TextField
                    id="password"
                    label="Password"
                    kind="password"
                    value=password
                    error=field_error(failure, "password")
                    hint=if signing_up { "10 to 256 characters." } else { "" }
                    autocomplete=if signing_up { "new-password" } else { "current-password" }
                />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { busy_label } else { button }}
                </button>
            </form>
            {if signing_up {
                view! { <p>"Already have an account? " <A href=crate::href("/signin")>"Sign in"</A></p> }.into_any()
            } else {
                view! { <p>"New to Fedgate? " <A href=crate::href("/signup")>"Create an account"</A></p> }.into_any()
            }}
        </main>
    }
}

/// The signed-in subscriber's email, in the navigation.
#[component]
pub fn WhoAmI() -> impl IntoView {
    let me = LocalResource::new(|| async {
        let session = api::get::<SessionDto>(&format!("{MANAGE}/me")).await;
        if let Ok(s) = &session {
            api::remember_csrf(s.csrf_token.clone());
        }
        session
    });
    view! {
        <Suspense fallback=|| view! { <span class="muted">"…"</span> }>
            {move || {
                me.get()
                    .map(|r| match r {
                        Ok(s) => {
                            view! { <span class="whoami" title="Signed in">{s.subscriber.email}</span> }
                                .into_any()
                        }
                        Err(_) => view! { <span class="muted">"not signed in"</span> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Ends the session on the server, then shows the sign-in page.
#[component]
pub fn SignOut() -> impl IntoView {
    let busy = RwSignal::new(false);
    let on_click = move |_| {
        busy.set(true);
        spawn_local(async move {
            // Signed out either way: a lapsed session is as good as ended.
            let _ = api::act("POST", &format!("{MANAGE}/signout")).await;
            api::forget_session();
            api::load_page("/panel/signin");
        });
    };
    view! {
        <button type="button" class="link" on:click=on_click disabled=move || busy.get()>
            {move || if busy.get() { "Signing out…" } else { "Sign out" }}
        </button>
    }
}
