//! Pieces every page uses: loading and error states, copy buttons, labelled fields
//! with their inline errors, confirmation dialogs, dates.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::Failure;

/// Shown while a request is in flight.
#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> impl IntoView {
    view! { <p class="loading" role="status" aria-live="polite">{label}</p> }
}

/// A failed request, with what to do and the request id to quote.
#[component]
pub fn ErrorNote(failure: Failure) -> impl IntoView {
    let message = if failure.is_signed_out() {
        "Your session has ended. Taking you to sign in…".to_owned()
    } else {
        failure.message.clone()
    };
    view! {
        <div class="error-note" role="alert">
            <p>{message}</p>
            {failure
                .request_id
                .map(|id| view! { <p class="muted small">"Request id: " <code>{id}</code></p> })}
        </div>
    }
}

/// An optional failure: nothing when there is none.
#[component]
pub fn MaybeError(failure: RwSignal<Option<Failure>>) -> impl IntoView {
    move || failure.get().map(|f| view! { <ErrorNote failure=f/> })
}

/// A button copying `text` to the clipboard, saying so for two seconds.
#[component]
pub fn CopyButton(text: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let aria = format!("Copy {label}");
    let on_click = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            copied.set(Some(copy_to_clipboard(&text).await));
            set_timeout(move || copied.set(None), std::time::Duration::from_secs(2));
        });
    };
    view! {
        <button type="button" class="copy" aria-label=aria on:click=on_click>
            {move || match copied.get() {
                Some(true) => "Copied",
                Some(false) => "Copy failed — select and copy",
                None => "Copy",
            }}
        </button>
    }
}

/// Whether the browser took the text; a refusal leaves the value on screen to select.
#[cfg(feature = "hydrate")]
async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

#[cfg(not(feature = "hydrate"))]
async fn copy_to_clipboard(_: &str) -> bool {
    false
}

/// The error text for `field`, if the failure is about it.
pub fn field_error(
    failure: RwSignal<Option<Failure>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        failure
            .get()
            .filter(|f| f.is_about(field))
            .map(|f| f.message)
    })
}

/// Above a form: a failure that belongs to none of its `fields` (those are shown next
/// to their input).
#[component]
pub fn FormError(
    failure: RwSignal<Option<Failure>>,
    fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        failure
            .get()
            .filter(|f| !fields.iter().any(|field| f.is_about(field)))
            .map(|f| view! { <ErrorNote failure=f/> })
    }
}

/// A labelled text input bound to `value`, with its error below it.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    /// Help text below the input; empty for none.
    #[prop(default = "")]
    hint: &'static str,
    #[prop(optional)] placeholder: Option<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                bind:value=value
                placeholder=placeholder
                autocomplete=autocomplete
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {move || error.get().map(|e| view! { <p class="field-error" id=error_id.clone()>{e}</p> })}
        </div>
    }
}

/// A labelled multi-line input bound to `value` (one entry per line), with its hint and
/// error below it.
#[component]
pub fn TextAreaField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    hint: &'static str,
    #[prop(default = 3)] rows: u8,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {error_id}");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <textarea
                id=id
                name=id
                rows=rows.to_string()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
                placeholder=placeholder
            ></textarea>
            <p class="hint" id=hint_id>{hint}</p>
            {move || error.get().map(|e| view! { <p class="field-error" id=error_id.clone()>{e}</p> })}
        </div>
    }
}

/// A table that scrolls sideways on narrow screens. An empty header is the actions
/// column (named for screen readers only).
#[component]
pub fn Table(
    headers: &'static [&'static str],
    #[prop(default = "")] class: &'static str,
    children: Children,
) -> impl IntoView {
    let heads = headers
        .iter()
        .map(|h| {
            if h.is_empty() {
                view! {
                    <th scope="col">
                        <span class="visually-hidden">"Actions"</span>
                    </th>
                }
                .into_any()
            } else {
                view! { <th scope="col">{*h}</th> }.into_any()
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class=class>
                <thead>
                    <tr>{heads}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// Save and Cancel under a dialog's form; Save is disabled while the form is sent.
#[component]
pub fn SaveOrCancel(busy: RwSignal<bool>, on_cancel: Callback<()>) -> impl IntoView {
    view! {
        <div class="actions">
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { "Saving…" } else { "Save" }}
            </button>
            <button type="button" on:click=move |_| on_cancel.run(())>
                "Cancel"
            </button>
        </div>
    }
}

/// A modal dialog: a labelled box over the page, closed by its own buttons or Escape.
#[component]
pub fn Dialog(title: String, on_close: Callback<()>, children: Children) -> impl IntoView {
    // Keyboard users land in the dialog, not behind it.
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let _ = el.focus();
        }
    });
    view! {
        <div class="backdrop">
            <div
                class="dialog"
                node_ref=node
                tabindex="-1"
                role="dialog"
                aria-modal="true"
                aria-labelledby="dialog-title"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
            >
                <div class="dialog-head">
                    <h2 id="dialog-title">{title}</h2>
                    <button
                        type="button"
                        class="icon"
                        aria-label="Close"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </div>
                {children()}
            </div>
        </div>
    }
}

/// Asks before something that cannot be undone; `action` runs the change and says
/// how it went.
#[component]
pub fn Confirm(
    title: String,
    message: String,
    confirm_label: String,
    on_cancel: Callback<()>,
    on_confirm: Callback<()>,
    busy: Signal<bool>,
    failure: RwSignal<Option<Failure>>,
) -> impl IntoView {
    view! {
        <Dialog title=title on_close=on_cancel>
            <p>{message}</p>
            <MaybeError failure=failure/>
            <div class="actions">
                <button
                    type="button"
                    class="danger"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || if busy.get() { "Working…".to_owned() } else { confirm_label.clone() }}
                </button>
                <button type="button" on:click=move |_| on_cancel.run(()) autofocus>
                    "Cancel"
                </button>
            </div>
        </Dialog>
    }
}

/// A time as people read it in the panel.
#[must_use]
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional time, or a dash.
#[must_use]
pub fn when_or(t: Option<DateTime<Utc>>, none: &'static str) -> String {
    t.map_or_else(|| none.to_owned(), when)
}
