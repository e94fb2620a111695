//! The only parts of the pages the browser runs (Leptos islands): everything else is rendered on
//! the server and sent as HTML, so its code never reaches the wasm bundle. Each page works
//! without them; with JavaScript on they add what plain HTML cannot do.

use leptos::prelude::*;

use crate::server::sync::StartSync;

/// Page-wide enhancements, on every page (in the shell):
/// - marks the body `data-hydrated` (browser tests and people can tell the page is live);
/// - Escape closes an open header menu (`details[data-menu]`) and gives the focus back to its
///   button;
/// - a field inside `[data-submit-on-change]` submits its form as soon as it changes (the
///   inventory's kind and expiry, the wizard's answers), where without JavaScript the person
///   presses the form's button;
/// - a page holding `[data-refresh-seconds]` (a sync under way) loads itself again after that
///   many seconds;
/// - the request form's account name is checked as it is typed (`GET /requests/name-check`, a
///   moment after the last key), the answer said under the field; without JavaScript it is
///   checked when the form is sent.
#[island]
pub fn Enhancements() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::enhance();
}

/// "Sync now": a form that posts to the server function without JavaScript (the server sends
/// the browser back to the page); with JavaScript it starts the run in place, says why when it
/// cannot, and loads the page again to show the run.
#[island]
pub fn SyncNow() -> impl IntoView {
    let start = ServerAction::<StartSync>::new();
    Effect::new(move |_| {
        if start.value().get().is_some_and(|outcome| outcome.is_ok()) {
            #[cfg(feature = "hydrate")]
            browser::reload();
        }
    });
    let failed = move || {
        start.value().get().and_then(Result::err).map(|error| {
            view! { <p class="text-sm text-red-700" role="alert">{error.to_string()}</p> }
        })
    };
    view! {
        <ActionForm action=start>
            <button id="sync-now" type="submit" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Sync now"</button>
        </ActionForm>
        {failed}
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::{
        prelude::*,
        wasm_bindgen::JsCast,
        web_sys::{Element, HtmlElement},
    };

    pub fn enhance() {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
        // Listeners on the window for the page's lifetime (each page load starts afresh).
        let _ = window_event_listener(leptos::ev::keydown, |ev| {
            if ev.key() == "Escape" {
                close_open_menu();
            }
        });
        let _ = window_event_listener(leptos::ev::input, |ev| {
            let typed_name = ev
                .target()
                .and_then(|target| target.dyn_into::<Element>().ok())
                .is_some_and(|field| field.id() == "account_name");
            if typed_name {
                name_check::schedule();
            }
        });
        let _ = window_event_listener(leptos::ev::change, |ev| {
            let Some(field) = ev.target().and_then(|target| target.dyn_into::<Element>().ok()) else {
                return;
            };
            if closest(&field, "[data-submit-on-change]").is_some()
                && let Some(form) = closest(&field, "form")
                && let Ok(form) = form.dyn_into::<web_sys::HtmlFormElement>()
            {
                let _ = form.request_submit();
            }
        });
        let refresh = document()
            .query_selector("[data-refresh-seconds]")
            .ok()
            .flatten()
            .and_then(|element| element.get_attribute("data-refresh-seconds"))
            .and_then(|seconds| seconds.parse::<u64>().ok());
        if let Some(seconds) = refresh {
            set_timeout(reload, std::time::Duration::from_secs(seconds.max(1)));
        }
    }

    pub fn reload() {
        let _ = window().location().reload();
    }

    fn closest(element: &Element, selector: &str) -> Option<Element> {
        element.closest(selector).ok().flatten()
    }

    /// Closes the open menu (the one holding the focus, else the first open one) and focuses its
    /// button.
    fn close_open_menu() {
        let focused = document().active_element();
        let menu = focused
            .as_ref()
            .and_then(|element| closest(element, "details[data-menu][open]"))
            .or_else(|| document().query_selector("details[data-menu][open]").ok().flatten());
        let Some(menu) = menu else { return };
        let _ = menu.remove_attribute("open");
        if let Some(summary) = menu.first_element_child()
            && let Ok(summary) = summary.dyn_into::<HtmlElement>()
        {
            let _ = summary.focus();
        }
    }

    /// The request form's account name, checked with the server as it is typed.
    mod name_check {
        use std::cell::Cell;

        use leptos::{
            prelude::*,
            wasm_bindgen::{JsCast, JsValue},
            web_sys::{HtmlInputElement, HtmlSelectElement, Response, UrlSearchParams},
        };
        use wasm_bindgen_futures::JsFuture;

        thread_local! {
            static PENDING: Cell<Option<TimeoutHandle>> = const { Cell::new(None) };
            /// The latest check: an answer to an older one is dropped.
            static LATEST: Cell<u32> = const { Cell::new(0) };
        }

        pub fn schedule() {
            if let Some(pending) = PENDING.take() {
                pending.clear();
            }
            let later = set_timeout_with_handle(check, std::time::Duration::from_millis(300));
            PENDING.set(later.ok());
        }

        fn value_of<T: JsCast>(id: &str, read: impl Fn(&T) -> String) -> String {
            document()
                .get_element_by_id(id)
                .and_then(|element| element.dyn_into::<T>().ok())
                .map(|element| read(&element))
                .unwrap_or_default()
        }

        fn check() {
            let Ok(query) = UrlSearchParams::new() else { return };
            query.append(
                "name",
                &value_of::<HtmlInputElement>("account_name", |field| field.value()),
            );
            query.append(
                "owner_team",
                &value_of::<HtmlSelectElement>("owner_team", |field| field.value()),
            );
            let request = value_of::<HtmlInputElement>("account_name", |field| {
                field.get_attribute("data-request").unwrap_or_default()
            });
            if !request.is_empty() {
                query.append("id", &request);
            }
            let url = format!("/requests/name-check?{}", String::from(query.to_string()));
            let this = LATEST.get().wrapping_add(1);
            LATEST.set(this);
            leptos::task::spawn_local(async move {
                let answer = ask(&url).await.ok().flatten();
                if LATEST.get() == this {
                    say(answer);
                }
            });
        }

        /// `Some((free, what it says))`; `None` when the server said neither (signed out, down).
        async fn ask(url: &str) -> Result<Option<(bool, String)>, JsValue> {
            let response: Response = JsFuture::from(window().fetch_with_str(url)).await?.dyn_into()?;
            let free = match response.status() {
                200 => true,
                422 => false,
                _ => return Ok(None),
            };
            let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
            Ok(Some((free, text)))
        }

        fn say(answer: Option<(bool, String)>) {
            let Some(place) = document().get_element_by_id("account_name-live") else {
                return;
            };
            let (class, text) = match answer {
                Some((true, text)) => ("mt-1 text-sm text-emerald-700", text),
                Some((false, text)) => ("mt-1 text-sm text-red-700", text),
                None => ("mt-1 text-sm", String::new()),
            };
            place.set_class_name(class);
            place.set_text_content(Some(&text));
        }
    }
}
