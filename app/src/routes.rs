//! The HTML shell, the header, and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

use crate::{
    BUNDLE_NAME,
    components::TitleSuffix,
    domain::Role,
    pages::{
        NotBuiltYet, NotFound,
        account::ApiKeysPage,
        inventory::InventoryPage,
        inventory::token::TokenDetailPage,
        sync::SyncPage,
        teams::{MyTeamPage, ServiceAccountsPage, TeamsPage},
        wizard::WizardPage,
    },
    server::account::current_user,
};

/// The document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy, with this response's nonce (Leptos puts it on the
/// hydration script and on the scripts that carry resources' data): scripts run only with the
/// nonce or from this site (the bundle, which the JSON routes cannot pose as: they are served
/// `nosniff` with their own types), the wasm bundle may compile, styles and images
/// come from this site, nothing may frame the page, forms post only here. A script that text
/// smuggled into the page would run has no nonce.
#[cfg(feature = "ssr")]
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(policy) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Lets browser tests (and people) tell a hydrated page from a server-rendered one.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="app-css" href=format!("/pkg/{BUNDLE_NAME}.css") />
        <TitleSuffix />
        <Router>
            <Header />
            <main class="mx-auto max-w-screen-2xl px-4 py-6 sm:px-6">
                <Routes fallback=NotFound>
                    // Data pages render whole before they are sent, so they read without JavaScript and can
                    // answer with an error status.
                    <Route path=StaticSegment("") view=InventoryPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("review")
                        view=|| view! { <NotBuiltYet area="Review" what="The security review queue: expiring, expired, never-expiring, over-scoped, unused, ownerless and shared tokens, with decisions recorded." /> }
                    />
                    <Route path=StaticSegment("wizard") view=WizardPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("api-keys")) view=ApiKeysPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("sync") view=SyncPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("my-team") view=MyTeamPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("teams") view=TeamsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("service-accounts") view=ServiceAccountsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("tokens"), ParamSegment("id")) view=TokenDetailPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("requests")
                        view=|| view! { <NotBuiltYet area="Requests" what="Ask for a service account owned by your team; reviewers approve or reject." /> }
                    />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let link = "rounded-md px-3 py-2 text-sm font-medium text-slate-200 hover:bg-slate-700 hover:text-white";
    view! {
        <header class="bg-slate-800">
            <nav class="mx-auto flex max-w-screen-2xl items-center gap-6 px-4 py-3 sm:px-6" aria-label="Main">
                <a href="/" class="flex items-center gap-2 text-white">
                    <span class="inline-flex h-8 w-8 items-center justify-center rounded-lg bg-amber-500 font-bold text-slate-900">"TI"</span>
                    <span class="text-lg font-semibold">"Token Inventory"</span>
                </a>
                <div class="flex gap-1">
                    <A href="/" exact=true attr:class=link>"Inventory"</A>
                    <A href="/my-team" attr:class=link>"My team"</A>
                    <A href="/teams" attr:class=link>"Teams"</A>
                    <A href="/service-accounts" attr:class=link>"Service accounts"</A>
                    <A href="/review" attr:class=link>"Review"</A>
                    <A href="/wizard" attr:class=link>"Wizard"</A>
                    <A href="/requests" attr:class=link>"Requests"</A>
                    <A href="/sync" attr:class=link>"Sync"</A>
                </div>
                <UserMenu />
            </nav>
        </header>
    }
}

/// Who is signed in, their roles, their API keys, and sign-out (a POST form: it works without
/// JavaScript, and a link elsewhere cannot sign anyone out).
#[component]
fn UserMenu() -> impl IntoView {
    let viewer = OnceResource::new(current_user());
    view! {
        <div class="ml-auto flex items-center gap-3 text-sm text-slate-200">
            <Suspense>
                {move || Suspend::new(async move {
                    match viewer.await {
                        Ok(Some(viewer)) => {
                            let roles = viewer
                                .roles
                                .iter()
                                .filter(|role| **role != Role::Engineer)
                                .map(|role| role.label())
                                .collect::<Vec<_>>()
                                .join(", ");
                            view! {
                                <span id="signed-in-as" data-username=viewer.username.clone() title=viewer.username.clone()>{viewer.name.clone()}</span>
                                {(!roles.is_empty()).then(|| view! {
                                    <span id="roles" class="rounded-full bg-slate-700 px-2 py-0.5 text-xs text-slate-100">{roles}</span>
                                })}
                                <a href="/account/api-keys" class="rounded-md px-2 py-1 hover:bg-slate-700 hover:text-white">"API keys"</a>
                                <form method="post" action="/auth/sign-out">
                                    <button id="sign-out" type="submit" class="rounded-md border border-slate-500 px-2 py-1 hover:bg-slate-700 hover:text-white">"Sign out"</button>
                                </form>
                            }
                            .into_any()
                        }
                        _ => view! { <a id="sign-in" rel="external" href="/auth/sign-in" class="rounded-md bg-sky-700 px-3 py-1.5 font-semibold text-white hover:bg-sky-800">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
