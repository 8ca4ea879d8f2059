//! Users: search by locator or id, a user with its locators, federated identities
//! (link, unlink, detach) and tokens (revoke), and one federated user with its link
//! candidates.

use fedgate_wire::users::{
    FederatedUserDto, FederatedUserListDto, LinkResultDto, LinkStateDto, ManageLinkRequest,
    RevokedDto, UserDto, UserListDto, UserTokenDto, UserTokenListDto,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::apps::{AppCtx, app_ctx};
use crate::api::{self, Failure, encode};
use crate::components::{Confirm, ErrorNote, Loading, MaybeError, Table, when, when_or};

/// What a search found.
#[derive(Debug, Clone)]
struct Found {
    users: Vec<UserDto>,
    federated: Option<FederatedUserDto>,
    next: Option<String>,
}

async fn search(ctx: AppCtx, q: String, after: Option<String>) -> Result<Found, Failure> {
    let q = q.trim().to_owned();
    let path = if q.is_empty() {
        let after = after
            .map(|a| format!("&after={}", encode(&a)))
            .unwrap_or_default();
        ctx.api(&format!("/users?limit=25{after}"))
    } else if q.contains('@') {
        ctx.api(&format!("/users?locator={}", encode(&format!("email:{q}"))))
    } else if q.starts_with('+') {
        ctx.api(&format!("/users?locator={}", encode(&format!("phone:{q}"))))
    } else {
        ctx.api(&format!("/users?ids={}", encode(&q)))
    };
    let list: UserListDto = api::get(&path).await?;
    // Not a user id: perhaps a federated user id (they look different, but people paste
    // whatever the redirect gave them).
    let federated = if list.users.is_empty() && !q.is_empty() && !q.contains('@') {
        match api::get::<FederatedUserDto>(&ctx.api(&format!("/federated-users/{}", encode(&q))))
            .await
        {
            Ok(f) => Some(f),
            Err(f) if f.status == 404 => None,
            Err(f) => return Err(f),
        }
    } else {
        None
    };
    Ok(Found {
        users: list.users,
        federated,
        next: list.next,
    })
}

fn locators_text(u: &UserDto) -> String {
    u.locators
        .iter()
        .map(|l| {
            format!(
                "{}{}",
                l.value,
                if l.verified {
                    " (verified)"
                } else {
                    " (unverified)"
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_badge(state: LinkStateDto) -> impl IntoView {
    let (class, text) = match state {
        LinkStateDto::Linked => ("badge on", "Linked"),
        LinkStateDto::Unlinked => ("badge", "Unlinked"),
        LinkStateDto::Detached => ("badge off", "Detached"),
    };
    view! { <span class=class>{text}</span> }
}

/// Search, or the first pages of the user list.
#[component]
pub fn UserSearch() -> impl IntoView {
    let ctx = app_ctx();
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let after = Memo::new(move |_| query.read().get("after"));
    let text = RwSignal::new(q.get_untracked());
    let found = LocalResource::new(move || {
        let (q, after) = (q.get(), after.get());
        let _ = ctx.id.get();
        search(ctx, q, after)
    });
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = text.get_untracked();
        let target = if t.trim().is_empty() {
            ctx.page("/users")
        } else {
            ctx.page(&format!("/users?q={}", encode(t.trim())))
        };
        navigate(&target, crate::as_is());
    };
    view! {
        <h2>"Users"</h2>
        <form class="inline-form search" role="search" on:submit=on_submit>
            <div class="field">
                <label for="user-search">"Email, phone, user id or federated user id"</label>
                <input
                    id="user-search"
                    type="search"
                    bind:value=text
                    placeholder="ann@example.com"
                />
            </div>
            <button type="submit" class="primary">
                "Search"
            </button>
        </form>
        <Suspense fallback=|| view! { <Loading label="Searching…"/> }>
            {move || {
                found
                    .get()
                    .map(|r| match r {
                        Ok(f) => view! { <Results found=f searched=!q.get_untracked().is_empty()/> }.into_any(),
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Results(found: Found, searched: bool) -> impl IntoView {
    let ctx = app_ctx();
    if found.users.is_empty() && found.federated.is_none() {
        let text = if searched {
            "No user or federated user matches. Emails match exactly (case-insensitive); ids match exactly."
        } else {
            "No users yet. Users appear here after their first sign-in, or when your backend creates them."
        };
        return view! { <p class="empty">{text}</p> }.into_any();
    }
    let federated = found.federated.map(|f| {
        view! {
            <p class="found-federated">
                "Federated user "
                <A href=ctx.page(&format!("/federated-users/{}", f.federated_user_id))>
                    <code>{f.federated_user_id.clone()}</code>
                </A>
                " · " {f.profile.email.clone().unwrap_or_default()} " · " {state_badge(f.link_state)}
            </p>
        }
    });
    let rows = found
        .users
        .into_iter()
        .map(|u| {
            let locators = locators_text(&u);
            view! {
                <tr>
                    <td>
                        <A href=ctx.page(&format!("/users/{}", u.id))>
                            <code>{u.id.clone()}</code>
                        </A>
                    </td>
                    <td>{u.screen_name.clone().unwrap_or_default()}</td>
                    <td class="wrap">{locators}</td>
                    <td>{when(u.created_at)}</td>
                </tr>
            }
        })
        .collect_view();
    let next = found.next.map(|n| {
        view! {
            <p class="pager">
                <A href=ctx.page(&format!("/users?after={}", encode(&n)))>"Next page ›"</A>
            </p>
        }
    });
    view! {
        {federated}
        <Table headers=&["User id", "Screen name", "Locators", "Created"]>{rows}</Table>
        {next}
    }
    .into_any()
}

/// A pending confirmation on the user page.
#[derive(Debug, Clone)]
enum Pending {
    Unlink(String),
    Detach(String),
    RevokeToken(String),
    RevokeAll,
}

/// One user: locators, federated identities, tokens.
#[component]
pub fn UserDetail() -> impl IntoView {
    let ctx = app_ctx();
    let params = use_params_map();
    let user_id = Memo::new(move |_| params.read().get("user").unwrap_or_default());
    let user = LocalResource::new(move || {
        let path = ctx.api(&format!("/users/{}", encode(&user_id.get())));
        async move { api::get::<UserDto>(&path).await }
    });
    let identities = LocalResource::new(move || {
        let path = ctx.api(&format!(
            "/users/{}/federated-users",
            encode(&user_id.get())
        ));
        async move { api::get::<FederatedUserListDto>(&path).await }
    });
    let tokens = LocalResource::new(move || {
        let path = ctx.api(&format!("/users/{}/tokens", encode(&user_id.get())));
        async move { api::get::<UserTokenListDto>(&path).await }
    });
    let pending = RwSignal::new(None::<Pending>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let relink_failure = RwSignal::new(None::<Failure>);
    let relinking = RwSignal::new(false);
    let relink = move |fid: String| {
        relink_failure.set(None);
        relinking.set(true);
        let body = ManageLinkRequest {
            user_id: user_id.get_untracked(),
        };
        spawn_local(async move {
            let path = ctx.api(&format!("/federated-users/{}/link", encode(&fid)));
            let r = api::send::<LinkResultDto>("POST", &path, &body).await;
            relinking.set(false);
            match r {
                Ok(_) => identities.refetch(),
                Err(f) => relink_failure.set(Some(f)),
            }
        });
    };
    let on_confirm = Callback::new(move |()| {
        let Some(p) = pending.get_untracked() else {
            return;
        };
        busy.set(true);
        failure.set(None);
        let user = encode(&user_id.get_untracked());
        spawn_local(async move {
            let r = match &p {
                Pending::Unlink(fid) | Pending::Detach(fid) => {
                    let verb = if matches!(p, Pending::Unlink(_)) {
                        "unlink"
                    } else {
                        "detach"
                    };
                    let path = ctx.api(&format!("/federated-users/{}/{verb}", encode(fid)));
                    api::act_for::<LinkResultDto>("POST", &path)
                        .await
                        .map(|_| ())
                }
                Pending::RevokeToken(t) => {
                    let path = ctx.api(&format!("/users/{user}/tokens/{}", encode(t)));
                    api::act_for::<RevokedDto>("DELETE", &path)
                        .await
                        .map(|_| ())
                }
                Pending::RevokeAll => {
                    let path = ctx.api(&format!("/users/{user}/tokens"));
                    api::act_for::<RevokedDto>("DELETE", &path)
                        .await
                        .map(|_| ())
                }
            };
            busy.set(false);
            match r {
                Ok(()) => {
                    pending.set(None);
                    identities.refetch();
                    tokens.refetch();
                }
                Err(f) => failure.set(Some(f)),
            }
        });
    });
    view! {
        <p class="crumbs">
            <A href=ctx.page("/users")>"Users"</A>
            " / "
        </p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                user.get()
                    .map(|r| match r {
                        Ok(u) => view! { <UserFacts user=u/> }.into_any(),
                        Err(f) if f.status == 404 => {
                            view! { <h2>"User not found"</h2> <p role="alert">"No user with this id in this application."</p> }
                                .into_any()
                        }
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
        <section class="card" aria-labelledby="identities">
            <h3 id="identities">"Federated identities"</h3>
            <MaybeError failure=relink_failure/>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    identities
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.federated_users.is_empty() => {
                                view! { <p class="empty">"No federated identity is linked to or detached from this user."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! { <IdentityTable list=list.federated_users pending=pending relink=relink relinking=relinking/> }
                                    .into_any()
                            }
                            Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="tokens">
            <div class="page-head">
                <h3 id="tokens">"User tokens"</h3>
                <button type="button" class="danger" on:click=move |_| pending.set(Some(Pending::RevokeAll))>
                    "Revoke all…"
                </button>
            </div>
            <p class="hint">"Unexpired tokens issued to this user; the tokens themselves are never shown."</p>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    tokens
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.tokens.is_empty() => {
                                view! { <p class="empty">"No unexpired tokens."</p> }.into_any()
                            }
                            Ok(list) => view! { <TokenTable tokens=list.tokens pending=pending/> }.into_any(),
                            Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
        {move || {
            pending
                .get()
                .map(|p| {
                    let (title, message, label) = match &p {
                        Pending::Unlink(f) => (
                            format!("Unlink {f}?"),
                            "Its next sign-in signs in nobody; a user owning its verified email is offered as a candidate.",
                            "Unlink",
                        ),
                        Pending::Detach(f) => (
                            format!("Detach {f}?"),
                            "Its sign-ins sign in nobody and create nobody until it is linked again.",
                            "Detach",
                        ),
                        Pending::RevokeToken(t) => (
                            format!("Revoke token {t}?"),
                            "The app's next verification of this token fails, on every server.",
                            "Revoke token",
                        ),
                        Pending::RevokeAll => (
                            "Revoke all of this user's tokens?".to_owned(),
                            "Every session of this user that relies on a Fedgate token ends at its next verification.",
                            "Revoke all",
                        ),
                    };
                    view! {
                        <Confirm
                            title=title
                            message=message.to_owned()
                            confirm_label=label.to_owned()
                            on_cancel=Callback::new(move |()| pending.set(None))
                            on_confirm=on_confirm
                            busy=busy.into()
                            failure=failure
                        />
                    }
                })
        }}
    }
}

#[component]
fn UserFacts(user: UserDto) -> impl IntoView {
    let locators = user
        .locators
        .iter()
        .map(|l| {
            view! {
                <tr>
                    <td>{l.value.clone()}</td>
                    <td>{format!("{:?}", l.kind).to_lowercase()}</td>
                    <td>
                        {if l.verified {
                            view! { <span class="badge on">"Verified"</span> }.into_any()
                        } else {
                            view! { <span class="badge">"Unverified"</span> }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let none = user.locators.is_empty();
    view! {
        <h2>{user.screen_name.clone().unwrap_or_else(|| user.id.clone())}</h2>
        <dl class="facts">
            <dt>"User id"</dt>
            <dd>
                <code>{user.id.clone()}</code>
            </dd>
            <dt>"Screen name"</dt>
            <dd>{user.screen_name.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Created"</dt>
            <dd>{when(user.created_at)}</dd>
        </dl>
        <section class="card" aria-labelledby="locators">
            <h3 id="locators">"Locators"</h3>
            {if none {
                view! { <p class="empty">"No locators."</p> }.into_any()
            } else {
                view! {
                    <Table headers=&["Value", "Kind", "Status"]>{locators}</Table>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn IdentityTable(
    list: Vec<FederatedUserDto>,
    pending: RwSignal<Option<Pending>>,
    relink: impl Fn(String) + Clone + Send + Sync + 'static,
    relinking: RwSignal<bool>,
) -> impl IntoView {
    let ctx = app_ctx();
    let rows = list
        .into_iter()
        .map(|f| {
            let fid = f.federated_user_id.clone();
            let actions = match f.link_state {
                LinkStateDto::Linked => {
                    let (a, b) = (fid.clone(), fid.clone());
                    view! {
                        <button type="button" aria-label=format!("Unlink {a}") on:click=move |_| pending.set(Some(Pending::Unlink(a.clone())))>
                            "Unlink"
                        </button>
                        <button type="button" class="danger" aria-label=format!("Detach {b}") on:click=move |_| pending.set(Some(Pending::Detach(b.clone())))>
                            "Detach"
                        </button>
                    }
                        .into_any()
                }
                LinkStateDto::Detached | LinkStateDto::Unlinked => {
                    let relink = relink.clone();
                    let a = fid.clone();
                    view! {
                        <button type="button" aria-label=format!("Link {a} to this user") disabled=move || relinking.get() on:click=move |_| relink(a.clone())>
                            "Link to this user"
                        </button>
                    }
                        .into_any()
                }
            };
            view! {
                <tr>
                    <td>
                        <A href=ctx.page(&format!("/federated-users/{fid}"))>
                            <code>{fid.clone()}</code>
                        </A>
                    </td>
                    <td title=f.federating_service.clone()>{f.provider_name.clone().unwrap_or_else(|| f.provider.clone())}</td>
                    <td>{f.profile.email.clone().unwrap_or_default()}</td>
                    <td>{state_badge(f.link_state)}</td>
                    <td>{when(f.last_login_at)}</td>
                    <td class="row-actions">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Federated user id", "Provider", "Provider email", "State", "Last sign-in", ""]>{rows}</Table>
    }
}

#[component]
fn TokenTable(tokens: Vec<UserTokenDto>, pending: RwSignal<Option<Pending>>) -> impl IntoView {
    let rows = tokens
        .into_iter()
        .map(|t| {
            let id = t.token_id.clone();
            let action = t.revoked_at.is_none().then(|| {
                let label = format!("Revoke token {id}");
                view! {
                    <button type="button" class="danger" aria-label=label on:click=move |_| pending.set(Some(Pending::RevokeToken(id.clone())))>
                        "Revoke"
                    </button>
                }
            });
            view! {
                <tr>
                    <td>
                        <code>{t.token_id.clone()}</code>
                    </td>
                    <td>{when(t.issued_at)}</td>
                    <td>{when(t.expires_at)}</td>
                    <td>{when_or(t.last_seen_at, "not yet")}</td>
                    <td>
                        {match t.revoked_at {
                            Some(at) => view! { <span class="badge off">"Revoked " {when(at)}</span> }.into_any(),
                            None => view! { <span class="badge on">"Active"</span> }.into_any(),
                        }}
                    </td>
                    <td class="row-actions">{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Table headers=&["Token id", "Issued", "Expires", "Last verified", "Status", ""]>{rows}</Table>
    }
}

/// One federated user: what the provider said, its state, its candidates.
#[component]
pub fn FederatedUserDetail() -> impl IntoView {
    let ctx = app_ctx();
    let params = use_params_map();
    let fid = Memo::new(move |_| params.read().get("federated").unwrap_or_default());
    let federated = LocalResource::new(move || {
        let path = ctx.api(&format!("/federated-users/{}", encode(&fid.get())));
        async move { api::get::<FederatedUserDto>(&path).await }
    });
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    let target = RwSignal::new(String::new());
    let change = move |verb: &'static str, user: Option<String>| {
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let path = ctx.api(&format!(
                "/federated-users/{}/{verb}",
                encode(&fid.get_untracked())
            ));
            let r = match user {
                Some(user_id) => {
                    api::send::<LinkResultDto>("POST", &path, &ManageLinkRequest { user_id }).await
                }
                None => api::act_for::<LinkResultDto>("POST", &path).await,
            };
            busy.set(false);
            match r {
                Ok(_) => federated.refetch(),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        <p class="crumbs">
            <A href=ctx.page("/users")>"Users"</A>
            " / federated user"
        </p>
        <MaybeError failure=failure/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                federated
                    .get()
                    .map(|r| match r {
                        Ok(f) => {
                            let linked_now = f.link_state == LinkStateDto::Linked;
                            let candidates = f
                                .link_candidates
                                .clone()
                                .into_iter()
                                .map(|c| {
                                    let c2 = c.clone();
                                    view! {
                                        <li>
                                            <A href=ctx.page(&format!("/users/{c}"))>
                                                <code>{c.clone()}</code>
                                            </A>
                                            " "
                                            <button
                                                type="button"
                                                disabled=move || busy.get() || linked_now
                                                on:click=move |_| change("link", Some(c2.clone()))
                                            >
                                                "Link to this user"
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view();
                            let linked_to = f.linked_user.clone().or(f.detached_from.clone());
                            let state = f.link_state;
                            view! {
                                <h2>"Federated user " <code>{f.federated_user_id.clone()}</code></h2>
                                <dl class="facts">
                                    <dt>"State"</dt>
                                    <dd>{state_badge(state)}</dd>
                                    <dt>{if state == LinkStateDto::Detached { "Detached from" } else { "Linked user" }}</dt>
                                    <dd>
                                        {match linked_to {
                                            Some(u) => view! { <A href=ctx.page(&format!("/users/{u}"))><code>{u.clone()}</code></A> }.into_any(),
                                            None => view! { "—" }.into_any(),
                                        }}
                                    </dd>
                                    <dt>"Provider"</dt>
                                    <dd>
                                        {f.provider_name.clone().unwrap_or_else(|| f.provider.clone())}
                                        {f.federation_provider.clone().map(|slug| format!(" ({slug})"))}
                                    </dd>
                                    <dt>"Service"</dt>
                                    <dd>{f.federating_service.clone()}</dd>
                                    <dt>"Issuer / subject"</dt>
                                    <dd><code>{f.issuer.clone()}</code> " / " <code>{f.subject.clone()}</code></dd>
                                    <dt>"Provider email"</dt>
                                    <dd>
                                        {f.profile.email.clone().unwrap_or_else(|| "—".into())}
                                        {if f.profile.email_verified {
                                            " (verified by the provider)"
                                        } else {
                                            " (not verified by the provider)"
                                        }}
                                    </dd>
                                    <dt>"Name"</dt>
                                    <dd>{f.profile.name.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Username"</dt>
                                    <dd>{f.profile.username.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"First seen / last sign-in"</dt>
                                    <dd>{when(f.created_at)} " / " {when(f.last_login_at)}</dd>
                                </dl>
                                <div class="actions">
                                    {(state == LinkStateDto::Linked).then(|| view! {
                                        <button type="button" disabled=move || busy.get() on:click=move |_| change("unlink", None)>"Unlink"</button>
                                    })}
                                    {(state != LinkStateDto::Detached).then(|| view! {
                                        <button type="button" class="danger" disabled=move || busy.get() on:click=move |_| change("detach", None)>"Detach"</button>
                                    })}
                                </div>
                                <section class="card" aria-labelledby="candidates">
                                    <h3 id="candidates">"Link candidates"</h3>
                                    {if f.link_candidates.is_empty() {
                                        view! { <p class="empty">"None: no other user owns an address this identity verified."</p> }.into_any()
                                    } else {
                                        view! { <ul class="plain">{candidates}</ul> }.into_any()
                                    }}
                                </section>
                                <section class="card" aria-labelledby="link-any">
                                    <h3 id="link-any">"Link to a user"</h3>
                                    <form class="inline-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                                        ev.prevent_default();
                                        change("link", Some(target.get_untracked().trim().to_owned()));
                                    }>
                                        <div class="field">
                                            <label for="link-user">"User id"</label>
                                            <input id="link-user" bind:value=target/>
                                        </div>
                                        <button type="submit" disabled=move || busy.get() || state == LinkStateDto::Linked>
                                            {move || if busy.get() { "Linking…" } else { "Link" }}
                                        </button>
                                    </form>
                                    {(state == LinkStateDto::Linked).then(|| view! { <p class="hint">"Unlink it first to link it to someone else."</p> })}
                                </section>
                            }
                                .into_any()
                        }
                        Err(f) if f.status == 404 => {
                            view! { <h2>"Federated user not found"</h2> <p role="alert">"No federated user with this id in this application."</p> }
                                .into_any()
                        }
                        Err(f) => view! { <ErrorNote failure=f/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}
