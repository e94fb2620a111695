//! The pages that answer a request outside the app's routes: asked to sign in (401), sign-in
//! failed or a request refused (with why), signed out, sign-in not configured, and an API key just
//! created (its secret shown this once) or refused. Leptos views rendered to HTML on the server
//! (Leptos escapes what they show); they carry no script, and work as they are.

use http::StatusCode;
use leptos::{prelude::*, tachys::view::RenderHtml};

use crate::{
    BUNDLE_NAME,
    components::FixedTitle,
    routes::{BAR_LINK, HeaderBar, MENU_LINK, MainMenu, NAV_LINKS},
    server::account::CreatedApiKey,
};

/// An answer page: its status and its HTML.
pub struct Answer {
    pub status: StatusCode,
    pub html: String,
}

const BUTTON: &str =
    "mt-6 inline-flex items-center rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800";

/// 401: this page needs a signed-in person; signing in comes back to `next`.
pub fn sign_in_required(next: &str) -> Answer {
    let next = next.to_owned();
    page(StatusCode::UNAUTHORIZED, "Sign in", false, move || {
        view! {
            <h1 class="text-2xl font-semibold">"Sign in to continue"</h1>
            <p class="mt-2 text-slate-600">"Token Inventory shows your organisation's GitLab tokens to the people who own and review them. Sign in with your GitLab account; it reads your name and groups, nothing else."</p>
            <SignInButton next />
        }
    })
}

/// Sign-in did not happen, or a request was refused, and why; no session is left behind.
pub fn failed(status: StatusCode, message: &str) -> Answer {
    let message = message.to_owned();
    page(status, "Sign-in failed", false, move || {
        view! {
            <h1 class="text-2xl font-semibold">"You are not signed in"</h1>
            <p id="auth-error" class="mt-2 text-slate-600">{message}</p>
            <SignInButton next="/".to_owned() />
        }
    })
}

pub fn signed_out() -> Answer {
    page(StatusCode::OK, "Signed out", false, || {
        view! {
            <h1 class="text-2xl font-semibold">"You are signed out"</h1>
            <p class="mt-2 text-slate-600">"Your session has ended on this browser."</p>
            <SignInButton next="/".to_owned() />
        }
    })
}

/// 503: the server has no OAuth application configured.
pub fn not_configured() -> Answer {
    page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in not configured", false, || {
        view! {
            <h1 class="text-2xl font-semibold">"Sign-in is not configured"</h1>
            <p class="mt-2 text-slate-600">
                "The server needs a GitLab OAuth application: set "<code>"OAUTH_CLIENT_ID"</code>", "<code>"OAUTH_CLIENT_SECRET"</code>
                " and "<code>"AUTH_GITLAB_URL"</code>" (or "<code>"SYNC_GITLAB_URL"</code>"). See the README."
            </p>
        }
    })
}

/// 201: the key just created, its secret shown this once.
pub fn key_created(created: CreatedApiKey) -> Answer {
    page(StatusCode::CREATED, "API key created", true, move || {
        let access = if created.key.read_write {
            "read and write"
        } else {
            "read only"
        };
        view! {
            <h1 class="text-2xl font-semibold">"API key created"</h1>
            <p class="mt-2 text-slate-600">"Copy it now: it is shown only this once. Keep it in your secret store, never in a repository."</p>
            <p class="mt-4"><code id="api-key-secret" class="block break-all rounded-md bg-slate-100 p-3 font-mono text-sm">{created.secret}</code></p>
            <dl class="mt-4 text-sm text-slate-600">
                <dt class="font-medium">"Name"</dt><dd>{created.key.name}</dd>
                <dt class="mt-2 font-medium">"Access"</dt><dd>{access}</dd>
                <dt class="mt-2 font-medium">"Expires"</dt><dd>{created.key.expires_on.to_string()}</dd>
            </dl>
            <p class="mt-2 text-sm text-slate-600">"Use it as "<code>"Authorization: Bearer …"</code>"."</p>
            <a class=BUTTON href="/account/api-keys">"Back to your API keys"</a>
        }
    })
}

/// 201: a requested service account's first token, its secret shown to its requester this once,
/// with where the request said it is kept.
pub fn first_token_made(token: crate::commands::fulfil::FirstToken) -> Answer {
    page(StatusCode::CREATED, "First token made", true, move || {
        let expires = token.expires_on.map_or("—".to_owned(), |date| date.to_string());
        let back = format!("/requests/{}", token.request_id);
        let keep = if token.secret_location.trim().is_empty() {
            "Put it in your secret store now, never in a repository or a chat.".to_owned()
        } else {
            format!(
                "Put it where the request said, {}, now; never in a repository or a chat.",
                token.secret_location
            )
        };
        view! {
            <h1 class="text-2xl font-semibold">"The first token of "{token.account_name}</h1>
            <p class="mt-2 text-slate-600">"Copy it now: it is shown only this once and kept nowhere here. "{keep}</p>
            <p class="mt-4"><code id="token-secret" class="block break-all rounded-md bg-slate-100 p-3 font-mono text-sm">{token.secret.0}</code></p>
            <dl class="mt-4 text-sm text-slate-600">
                <dt class="font-medium">"Token name"</dt><dd>{token.token_name}</dd>
                <dt class="mt-2 font-medium">"Scopes"</dt><dd class="font-mono">{token.scopes.join(", ")}</dd>
                <dt class="mt-2 font-medium">"Expires"</dt><dd id="token-expires">{expires}</dd>
            </dl>
            <p class="mt-2 text-sm text-slate-600">"Before it expires, rotate it in GitLab (the review reminds your team)."</p>
            <a class=BUTTON href=back>"Back to the request"</a>
        }
    })
}

/// 422: the key was not created; `field` is the form's label of the field refused.
pub fn key_refused(field: &str, message: &str) -> Answer {
    let (field, message) = (field.to_owned(), message.to_owned());
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "API key not created",
        true,
        move || {
            view! {
                <h1 class="text-2xl font-semibold">"The key was not created"</h1>
                <p id="auth-error" class="mt-2 text-slate-600"><span class="font-medium">{field}</span>": "{message}</p>
                <a class=BUTTON href="/account/api-keys">"Back to your API keys"</a>
            }
        },
    )
}

#[component]
fn SignInButton(next: String) -> impl IntoView {
    let href = format!("/auth/sign-in?{}", crate::query_string([("next", next.as_str())]));
    view! { <a id="sign-in" class=BUTTON href=href>"Sign in with GitLab"</a> }
}

/// The whole document: the product's stylesheet, its header (with the areas for someone signed
/// in), and the answer in a card.
fn page<V: IntoView + 'static>(
    status: StatusCode,
    title: &'static str,
    signed_in: bool,
    body: impl FnOnce() -> V + 'static,
) -> Answer {
    let code = status.as_u16();
    let links = move |class: &'static str| {
        NAV_LINKS
            .into_iter()
            .map(|(href, label)| view! { <a href=href class=class>{label}</a> })
            .collect_view()
    };
    let html = view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <FixedTitle text=title />
                <link rel="stylesheet" href=format!("/pkg/{BUNDLE_NAME}.css") />
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <HeaderBar>
                    {signed_in.then(|| view! {
                        <nav class="hidden xl:flex xl:gap-1" aria-label="Main">{links(BAR_LINK)}</nav>
                        <div class="ml-auto flex items-center gap-2"><MainMenu>{links(MENU_LINK)}</MainMenu></div>
                    })}
                </HeaderBar>
                <main id="main" tabindex="-1" class="mx-auto max-w-xl px-4 py-10 focus:outline-none sm:py-16">
                    <section class="rounded-xl bg-white p-6 shadow-sm sm:p-8" data-auth-page=code.to_string()>{body()}</section>
                </main>
            </body>
        </html>
    }
    .to_html();
    Answer { status, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_wrote_and_where_they_go_are_escaped() {
        let answer = failed(StatusCode::BAD_REQUEST, "<img src=x onerror=alert(1)> & \"more\"");
        assert!(!answer.html.contains("<img"), "{}", answer.html);
        assert!(
            answer.html.contains("&lt;img src=x onerror=alert(1)&gt; &amp;"),
            "{}",
            answer.html
        );
        let answer = sign_in_required("/x?a=1&b=\"<img>");
        assert!(!answer.html.contains("<img"), "{}", answer.html);
        assert!(
            answer.html.contains("next=%2Fx%3Fa%3D1%26b%3D%22%3Cimg%3E"),
            "{}",
            answer.html
        );
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn only_a_signed_in_answer_shows_the_areas() {
        assert!(!signed_out().html.contains("aria-label=\"Main\""));
        assert!(
            key_refused("Name", "give the key a name")
                .html
                .contains("aria-label=\"Main\"")
        );
    }
}
