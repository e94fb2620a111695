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
///   many seconds.
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
}
