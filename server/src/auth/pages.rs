//! The few pages sign-in shows before anyone is signed in: asked to sign in (401), sign-in failed
//! (with why), signed out, and sign-in not configured. Plain server-rendered HTML with the
//! product's stylesheet; they work with JavaScript off because they need none.

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

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Token Inventory</title><link rel="stylesheet" href="/pkg/token-inventory.css"></head><body class="bg-slate-50 text-slate-900 antialiased"><header class="bg-slate-800"><nav class="mx-auto flex max-w-screen-2xl items-center gap-6 px-4 py-3 sm:px-6"><a href="/" class="flex items-center gap-2 text-white"><span class="inline-flex h-8 w-8 items-center justify-center rounded-lg bg-amber-500 font-bold text-slate-900">TI</span><span class="text-lg font-semibold">Token Inventory</span></a></nav></header><main class="mx-auto max-w-xl px-4 py-16"><section class="rounded-xl bg-white p-8 shadow-sm" data-auth-page="{status}">{body}</section></main></body></html>"#,
        title = escape(title),
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
