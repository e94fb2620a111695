//! One folder per area of the product.

pub mod account;
pub mod inventory;
pub mod review;
pub mod sync;
pub mod teams;
pub mod wizard;

use leptos::prelude::*;

use crate::components::PageTitle;

/// An area the header already links to, whose issue has not landed yet: says what will be there.
#[component]
pub fn NotBuiltYet(area: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <PageTitle text=area />
        <section class="rounded-xl border border-dashed border-slate-300 bg-white p-8">
            <h1 class="text-2xl font-semibold">{area}</h1>
            <p class="mt-2 max-w-2xl text-slate-600">{what}</p>
            <p class="mt-4 text-sm text-slate-500">"This area is not built yet."</p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageTitle text="Not found" />
        <section class="rounded-xl bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"There is nothing at this address. "<a class="text-sky-700 underline" href="/">"Go to the inventory"</a>"."</p>
        </section>
    }
}
