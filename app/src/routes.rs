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
    islands::Enhancements,
    pages::{
        NotFound,
        account::ApiKeysPage,
        inventory::InventoryPage,
        inventory::token::TokenDetailPage,
        recertification::{CampaignPage, RecertificationPage, TeamPassPage},
        requests::{EditRequestPage, InboxLink, InboxPage, NewRequestPage, RequestPage, RequestsPage},
        review::{AlertsPage, ReviewPage},
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
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <Enhancements />
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

    view! {
        <Stylesheet id="app-css" href=format!("/pkg/{BUNDLE_NAME}.css") />
        <TitleSuffix />
        <Router>
            <Header />
            <main id="main" tabindex="-1" class="mx-auto max-w-screen-2xl px-4 py-6 focus:outline-none sm:px-6">
                <Routes fallback=NotFound>
                    // Data pages render whole before they are sent, so they read without JavaScript and can
                    // answer with an error status.
                    <Route path=StaticSegment("") view=InventoryPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("review") view=ReviewPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("review"), StaticSegment("alerts")) view=AlertsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("wizard") view=WizardPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("api-keys")) view=ApiKeysPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("sync") view=SyncPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("my-team") view=MyTeamPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("teams") view=TeamsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("service-accounts") view=ServiceAccountsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("tokens"), ParamSegment("id")) view=TokenDetailPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("requests") view=RequestsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("inbox") view=InboxPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("requests"), StaticSegment("new")) view=NewRequestPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("requests"), ParamSegment("id")) view=RequestPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("requests"), ParamSegment("id"), StaticSegment("edit")) view=EditRequestPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("recertification") view=RecertificationPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("recertification"), ParamSegment("id")) view=CampaignPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("recertification"), ParamSegment("id"), StaticSegment("team"), ParamSegment("team")) view=TeamPassPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// The header's links: the areas of the product, in the order people reach for them.
pub const NAV_LINKS: [(&str, &str); 8] = [
    ("/", "Inventory"),
    ("/my-team", "My team"),
    ("/teams", "Teams"),
    ("/service-accounts", "Service accounts"),
    ("/review", "Review"),
    ("/wizard", "Wizard"),
    ("/requests", "Requests"),
    ("/sync", "Sync"),
];

/// The header: the product's name, its areas and who is signed in. From `xl` (1280 px) the areas
/// are links in the bar; below, they are in a menu behind a button (a `<details>`: it opens and
/// closes without JavaScript; with it, Escape closes it too: `islands::Enhancements`). The
/// person's name opens their own menu (roles, API keys, sign-out) at every width, so the bar
/// never wraps, whatever their roles.
#[component]
fn Header() -> impl IntoView {
    let links = move |class: &'static str| {
        NAV_LINKS
            .into_iter()
            .map(|(href, label)| view! { <A href=href exact=href == "/" attr:class=class>{label}</A> })
            .collect_view()
    };
    view! {
        <HeaderBar>
            <nav class="hidden xl:flex xl:gap-1" aria-label="Main">{links(BAR_LINK)}</nav>
            <div class="ml-auto flex items-center gap-1 sm:gap-2">
                <InboxLink />
                <UserMenu />
                <MainMenu>{links(MENU_LINK)}<RecertificationLink class=MENU_LINK /></MainMenu>
            </div>
        </HeaderBar>
    }
}

/// Recertification's link, for the people it is for: security and team leads. In the menu of
/// areas below `xl`; from `xl`, where the bar has no room left for a ninth area (at 1280 px its
/// labels wrapped), in the person's own menu.
#[component]
fn RecertificationLink(class: &'static str) -> impl IntoView {
    let viewer = OnceResource::new(current_user());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let shown = matches!(viewer.await, Ok(Some(viewer)) if crate::domain::recertification::may_see(&viewer));
                shown.then(|| view! { <A href="/recertification" attr:class=class>"Recertification"</A> })
            })}
        </Suspense>
    }
}

/// An area's link in the bar, and in the menu.
pub(crate) const BAR_LINK: &str =
    "rounded-md px-3 py-2 text-sm font-medium text-slate-200 hover:bg-slate-700 hover:text-white";
pub(crate) const MENU_LINK: &str =
    "block rounded-md px-3 py-2 text-base font-medium text-slate-200 hover:bg-slate-700 hover:text-white";

/// The skip link and the bar with the product's name; `children` fill the rest of the bar.
#[component]
pub(crate) fn HeaderBar(children: Children) -> impl IntoView {
    view! {
        // `rel="external"`: the browser, not the router, follows it, so the focus moves to `main`.
        <a href="#main" rel="external" class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:z-50">
            <span class="block rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-900">"Skip to the content"</span>
        </a>
        <header class="relative bg-slate-800">
            <div class="mx-auto flex min-h-16 max-w-screen-2xl items-center gap-3 px-4 py-3 sm:px-6 xl:gap-6">
                <a href="/" class="flex shrink-0 items-center gap-2 rounded-md text-white">
                    <span class="inline-flex h-8 w-8 items-center justify-center rounded-lg bg-amber-500 font-bold text-slate-900" aria-hidden="true">"TI"</span>
                    <span class="text-lg font-semibold">"Token Inventory"</span>
                </a>
                {children()}
            </div>
        </header>
    }
}

/// The areas behind a button below `xl` (a `<details>`: no JavaScript needed).
#[component]
pub(crate) fn MainMenu(children: Children) -> impl IntoView {
    view! {
        <details class="group xl:hidden" data-menu="main">
            <summary class="flex cursor-pointer list-none items-center gap-2 rounded-md border border-slate-600 px-3 py-2 text-sm font-medium text-slate-100 hover:bg-slate-700 hover:text-white">
                <svg class="h-5 w-5" viewBox="0 0 20 20" aria-hidden="true">
                    <path class="group-open:hidden" d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path>
                    <path class="hidden group-open:block" d="M5 5l10 10M15 5 5 15" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path>
                </svg>
                <span class="sr-only sm:not-sr-only">"Menu"</span>
            </summary>
            <nav class="absolute inset-x-0 top-full z-30 border-t border-slate-700 bg-slate-800 px-4 pb-4 pt-2 shadow-lg sm:px-6" aria-label="Main">
                <div class="mx-auto grid max-w-screen-2xl gap-1 sm:grid-cols-2 md:grid-cols-4">{children()}</div>
            </nav>
        </details>
    }
}

/// Who is signed in (a button with their name; initials only on a phone), and in its menu their
/// roles, their API keys and sign-out (a POST form: it works without JavaScript, and a link
/// elsewhere cannot sign anyone out).
#[component]
fn UserMenu() -> impl IntoView {
    let viewer = OnceResource::new(current_user());
    view! {
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
                        let initials: String = viewer
                            .name
                            .split_whitespace()
                            .filter_map(|word| word.chars().next())
                            .take(2)
                            .collect::<String>()
                            .to_uppercase();
                        view! {
                            <details class="relative" data-menu="user">
                                <summary class="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1.5 text-sm text-slate-100 hover:bg-slate-700 hover:text-white">
                                    <span class="inline-flex h-7 w-7 items-center justify-center rounded-full bg-slate-600 text-xs font-semibold text-white" aria-hidden="true">{initials}</span>
                                    <span id="signed-in-as" class="sr-only max-w-48 truncate sm:not-sr-only" data-username=viewer.username.clone()>{viewer.name.clone()}</span>
                                    <svg class="h-4 w-4 text-slate-400" viewBox="0 0 20 20" aria-hidden="true">
                                        <path d="M5 8l5 5 5-5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path>
                                    </svg>
                                </summary>
                                <div class="absolute right-0 z-40 mt-2 w-64 rounded-xl bg-white p-4 text-sm text-slate-800 shadow-lg ring-1 ring-slate-200">
                                    <p class="font-medium">{viewer.name.clone()}</p>
                                    <p class="font-mono text-xs text-slate-600">{viewer.username.clone()}</p>
                                    {(!roles.is_empty()).then(|| view! {
                                        <p class="mt-2"><span id="roles" class="inline-flex rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700">{roles}</span></p>
                                    })}
                                    <div class="mt-3 flex flex-col gap-1 border-t border-slate-100 pt-3">
                                        {crate::domain::recertification::may_see(&viewer).then(|| view! {
                                            <a id="user-recertification" href="/recertification" class="hidden rounded-md px-2 py-1.5 hover:bg-slate-100 xl:flex">"Recertification"</a>
                                        })}
                                        <a href="/account/api-keys" class="rounded-md px-2 py-1.5 hover:bg-slate-100">"API keys"</a>
                                        <form method="post" action="/auth/sign-out">
                                            <button id="sign-out" type="submit" class="w-full rounded-md px-2 py-1.5 text-left hover:bg-slate-100">"Sign out"</button>
                                        </form>
                                    </div>
                                </div>
                            </details>
                        }
                        .into_any()
                    }
                    _ => view! { <a id="sign-in" rel="external" href="/auth/sign-in" class="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-800">"Sign in"</a> }.into_any(),
                }
            })}
        </Suspense>
    }
}
