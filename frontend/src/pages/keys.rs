//! Access keys: create (the secret shown once), list, revoke. And the user-token
//! signing keys: their life, and rotation.

use fedgate_wire::applications::{SigningKeyDto, SigningKeysDto};
use fedgate_wire::keys::{AccessKeyDto, CreatedAccessKeyDto};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::apps::app_ctx;
use crate::api::{self, Failure};
use crate::components::{
    Confirm, CopyButton, ErrorNote, Loading, MaybeError, Table, when, when_or,
};

/// The Access keys page.
#[component]
pub fn AccessKeys() -> impl IntoView {
    let ctx = app_ctx();
    let keys = LocalResource::new(move || {
        let path = format!("{}/access-keys", ctx.api(""));
        let _ = ctx.id.get();
        async move { api::get::<Vec<AccessKeyDto>>(&path).await }
    });
    let created = RwSignal::new(None::<CreatedAccessKeyDto>);
    let creating = RwSignal::new(false);
    let create_failure = RwSignal::new(None::<Failure>);
    let on_create = move |_| {
        creating.set(true);
        create_failure.set(None);
        spawn_local(async move {
            let r: Result<CreatedAccessKeyDto, Failure> =
                api::act_for("POST", &ctx.api("/access-keys")).await;
            creating.set(false);
            match r {
                Ok(k) => {
                    created.set(Some(k));
                    keys.refetch();
                }
                Err(f) => create_failure.set(Some(f)),
            }
        });
    };
    let revoking = RwSignal::new(None::<String>);
    let revoke_busy = RwSignal::new(false);
    let revoke_failure = RwSignal::new(None::<Failure>);
    let on_revoke = Callback::new(move |()| {
        let Some(id) = revoking.get_untracked() else {
            return;
        };
        revoke_busy.set(true);
        revoke_failure.set(None);
        spawn_local(async move {
            let r = api::act("DELETE", &ctx.api(&format!("/access-keys/{id}"))).await;
            revoke_busy.set(false);
            match r {
                Ok(()) => {
                    revoking.set(None);
                    keys.refetch();
                }
                Err(f) => revoke_failure.set(Some(f)),
            }
        });
    });
    view! {
        <div class="page-head">
            <h2>"Access keys"</h2>
            <button type="button" class="primary" on:click=on_create disabled=move || creating.get()>
                {move || if creating.get() { "Creating…" } else { "Create access key" }}
            </button>
        </div>
        <p class="lead">
            "Your backend signs application API calls with an access key. Keep up to five active to rotate without downtime."
        </p>
        <MaybeError failure=create_failure/>
        {move || created.get().map(|k| view! { <NewSecret key=k on_done=Callback::new(move |()| created.set(None))/> })}
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                keys.get()
                    .map(|r| match r {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No access keys yet."</p> }.into_any()
                        }
                        Ok(list) => view! { <KeyTable keys=list revoking=revoking/> }.into_any(),
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
        {move || {
            revoking
                .get()
                .map(|id| {
                    view! {
                        <Confirm
                            title=format!("Revoke {id}?")
                            message="Requests signed with this key are refused at once, and by every server within a second. This cannot be undone."
                                .to_owned()
                            confirm_label="Revoke key".to_owned()
                            on_cancel=Callback::new(move |()| revoking.set(None))
                            on_confirm=on_revoke
                            busy=revoke_busy.into()
                            failure=revoke_failure
                        />
                    }
                })
        }}
        <SigningKeys/>
    }
}

/// The application's user-token signing keys, with the rotate button.
#[component]
fn SigningKeys() -> impl IntoView {
    let ctx = app_ctx();
    let keys = LocalResource::new(move || {
        let path = ctx.api("/signing-keys");
        let _ = ctx.id.get();
        async move { api::get::<SigningKeysDto>(&path).await }
    });
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let on_rotate = Callback::new(move |()| {
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let r: Result<SigningKeysDto, Failure> =
                api::act_for("POST", &ctx.api("/signing-keys/rotate")).await;
            busy.set(false);
            match r {
                Ok(_) => {
                    confirming.set(false);
                    keys.refetch();
                }
                Err(f) => failure.set(Some(f)),
            }
        });
    });
    view! {
        <section class="signing-keys" aria-labelledby="signing-keys">
            <div class="page-head">
                <h2 id="signing-keys">"User-token signing keys"</h2>
                <button type="button" on:click=move |_| confirming.set(true)>
                    "Rotate signing key"
                </button>
            </div>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    keys.get()
                        .map(|r| match r {
                            Ok(k) => view! { <SigningKeyTable keys=k/> }.into_any(),
                            Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
        {move || {
            confirming
                .get()
                .then(|| {
                    view! {
                        <Confirm
                            title="Rotate the signing key?".to_owned()
                            message="A new key is published in the JWKS at once and signs new tokens about five minutes later, once every verifier has seen it. The current key then stops signing but stays published until the tokens it signed have expired (up to 30 days)."
                                .to_owned()
                            confirm_label="Rotate".to_owned()
                            on_cancel=Callback::new(move |()| {
                                failure.set(None);
                                confirming.set(false);
                            })
                            on_confirm=on_rotate
                            busy=busy.into()
                            failure=failure
                        />
                    }
                })
        }}
    }
}

#[component]
fn SigningKeyTable(keys: SigningKeysDto) -> impl IntoView {
    let rows = keys
        .keys
        .into_iter()
        .map(|k: SigningKeyDto| {
            let badge = match k.status.as_str() {
                "signing" => "badge on",
                "removed" => "badge off",
                _ => "badge",
            };
            view! {
                <tr>
                    <td>
                        <code>{k.kid}</code>
                    </td>
                    <td>
                        <span class=badge>{k.status}</span>
                    </td>
                    <td>{when(k.created_at)}</td>
                    <td>{when(k.activates_at)}</td>
                    <td>{when_or(k.removed_at, "—")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="lead">
            "User tokens (autoLoginToken) are signed with the key marked signing. Apps verify them against "
            <code>{keys.jwks_uri.clone()}</code>
            <CopyButton text=keys.jwks_uri label="JWKS URL"/>
        </p>
        <Table headers=&["Key id", "Status", "Published", "Signs from", "Leaves the JWKS"]>{rows}</Table>
    }
}

/// The secret of a key just created: shown this once.
#[component]
fn NewSecret(key: CreatedAccessKeyDto, on_done: Callback<()>) -> impl IntoView {
    let id = key.key.id.clone();
    view! {
        <section class="card secret" aria-labelledby="new-key" role="region">
            <h3 id="new-key">"New access key"</h3>
            <p class="warning" role="alert">
                <strong>"Copy the secret now. "</strong>
                "Fedgate stores only a sealed copy and will never show it again; if you lose it, create a new key and revoke this one."
            </p>
            <dl class="facts">
                <dt>"Key id"</dt>
                <dd>
                    <code class="key-id">{id.clone()}</code>
                    <CopyButton text=id label="key id"/>
                </dd>
                <dt>"Secret"</dt>
                <dd>
                    <code class="key-secret">{key.secret.clone()}</code>
                    <CopyButton text=key.secret.clone() label="secret"/>
                </dd>
            </dl>
            <button type="button" on:click=move |_| on_done.run(())>
                "I have stored the secret"
            </button>
        </section>
    }
}

#[component]
fn KeyTable(keys: Vec<AccessKeyDto>, revoking: RwSignal<Option<String>>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|k| {
            let id = k.id.clone();
            let label = format!("Revoke {}", k.id);
            view! {
                <tr>
                    <td>
                        <code>{k.id.clone()}</code>
                    </td>
                    <td>{when(k.created_at)}</td>
                    <td>{when_or(k.last_used_at, "never")}</td>
                    <td>
                        {match k.revoked_at {
                            Some(at) => view! { <span class="badge off">"Revoked " {when(at)}</span> }.into_any(),
                            None => view! { <span class="badge on">"Active"</span> }.into_any(),
                        }}
                    </td>
                    <td class="row-actions">
                        {k.revoked_at
                            .is_none()
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="danger"
                                        aria-label=label
                                        on:click=move |_| revoking.set(Some(id.clone()))
                                    >
                                        "Revoke"
                                    </button>
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Key id", "Created", "Last used", "Status", ""]>{rows}</Table>
    }
}
