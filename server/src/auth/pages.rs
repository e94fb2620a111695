//! The few pages sign-in shows before anyone is signed in: asked to sign in (401), sign-in failed
//! (with why), signed out, and sign-in not configured. Plain server-rendered HTML with the
//! product's stylesheet; they work with JavaScript off because they need none.

use app::routes::NAV_LINKS;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A page for someone not signed in: the header has the product's name only.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    document(status, title, body, false)
}

/// A page the server writes by hand for someone signed in (the API key just created): the header
/// has the product's areas too, as the app's own header has them.
pub(crate) fn signed_in_page(status: StatusCode, title: &str, body: &str) -> Response {
    document(status, title, body, true)
}

/// The app's header as plain HTML (`app::routes::Header` writes the same classes): the areas as
/// links from `xl`, in a `<details>` menu below (no JavaScript needed).
fn header(areas: bool) -> String {
    let links = |class: &str| {
        NAV_LINKS
            .iter()
            .map(|(href, label)| format!(r#"<a href="{href}" class="{class}">{label}</a>"#))
            .collect::<String>()
    };
    let nav = if areas {
        format!(
            r#"<nav class="hidden xl:flex xl:gap-1" aria-label="Main">{inline}</nav><div class="ml-auto flex items-center gap-2"><details class="group xl:hidden" data-menu="main"><summary class="flex cursor-pointer list-none items-center gap-2 rounded-md border border-slate-600 px-3 py-2 text-sm font-medium text-slate-100 hover:bg-slate-700 hover:text-white"><svg class="h-5 w-5" viewBox="0 0 20 20" aria-hidden="true"><path class="group-open:hidden" d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path><path class="hidden group-open:block" d="M5 5l10 10M15 5 5 15" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path></svg><span class="sr-only sm:not-sr-only">Menu</span></summary><nav class="absolute inset-x-0 top-full z-30 border-t border-slate-700 bg-slate-800 px-4 pb-4 pt-2 shadow-lg sm:px-6" aria-label="Main"><div class="mx-auto grid max-w-screen-2xl gap-1 sm:grid-cols-2 md:grid-cols-4">{menu}</div></nav></details></div>"#,
            inline =
                links("rounded-md px-3 py-2 text-sm font-medium text-slate-200 hover:bg-slate-700 hover:text-white"),
            menu = links(
                "block rounded-md px-3 py-2 text-base font-medium text-slate-200 hover:bg-slate-700 hover:text-white"
            ),
        )
    } else {
        String::new()
    };
    format!(
        r##"<a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:z-50"><span class="block rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-900">Skip to the content</span></a><header class="relative bg-slate-800"><div class="mx-auto flex min-h-16 max-w-screen-2xl items-center gap-3 px-4 py-3 sm:px-6 xl:gap-6"><a href="/" class="flex shrink-0 items-center gap-2 rounded-md text-white"><span class="inline-flex h-8 w-8 items-center justify-center rounded-lg bg-amber-500 font-bold text-slate-900" aria-hidden="true">TI</span><span class="text-lg font-semibold">Token Inventory</span></a>{nav}</div></header>"##
    )
}

fn document(status: StatusCode, title: &str, body: &str, areas: bool) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Token Inventory</title><link rel="stylesheet" href="/pkg/token-inventory.css"></head><body class="bg-slate-50 text-slate-900 antialiased">{header}<main id="main" tabindex="-1" class="mx-auto max-w-xl px-4 py-10 focus:outline-none sm:py-16"><section class="rounded-xl bg-white p-6 shadow-sm sm:p-8" data-auth-page="{status}">{body}</section></main></body></html>"#,
        title = escape(title),
        header = header(areas),
        status = status.as_u16(),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn sign_in_button(next: &str) -> String {
    let href = format!("/auth/sign-in?next={}", url_encode(next));
    format!(
        r#"<a id="sign-in" class="mt-6 inline-flex items-center rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800" href="{}">Sign in with GitLab</a>"#,
        escape(&href)
    )
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// 401: this page needs a signed-in person.
pub fn sign_in_required(next: &str) -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        "Sign in",
        &format!(
            r#"<h1 class="text-2xl font-semibold">Sign in to continue</h1><p class="mt-2 text-slate-600">Token Inventory shows your organisation's GitLab tokens to the people who own and review them. Sign in with your GitLab account; it reads your name and groups, nothing else.</p>{}"#,
            sign_in_button(next)
        ),
    )
}

/// Sign-in did not happen, and why; no session is left behind.
pub fn failed(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Sign-in failed",
        &format!(
            r#"<h1 class="text-2xl font-semibold">You are not signed in</h1><p id="auth-error" class="mt-2 text-slate-600">{}</p>{}"#,
            escape(message),
            sign_in_button("/")
        ),
    )
}

pub fn signed_out() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        &format!(
            r#"<h1 class="text-2xl font-semibold">You are signed out</h1><p class="mt-2 text-slate-600">Your session has ended on this browser.</p>{}"#,
            sign_in_button("/")
        ),
    )
}

/// 503: the server has no OAuth application configured.
pub fn not_configured() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in not configured",
        r#"<h1 class="text-2xl font-semibold">Sign-in is not configured</h1><p class="mt-2 text-slate-600">The server needs a GitLab OAuth application: set <code>OAUTH_CLIENT_ID</code>, <code>OAUTH_CLIENT_SECRET</code> and <code>AUTH_GITLAB_URL</code> (or <code>SYNC_GITLAB_URL</code>). See the README.</p>"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_targets_are_escaped() {
        let html = sign_in_button("/x?a=1&b=\"<script>");
        assert!(!html.contains("<script>"));
        assert!(html.contains("next=%2Fx%3Fa%3D1%26b%3D%22%3Cscript%3E"));
        assert_eq!(escape("<b>&'\""), "&lt;b&gt;&amp;&#39;&quot;");
    }
}
