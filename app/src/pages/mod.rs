//! One folder per area of the product.

pub mod account;
pub mod inventory;
pub mod recertification;
pub mod requests;
pub mod review;
pub mod sync;
pub mod teams;
pub mod wizard;

use leptos::prelude::*;

use crate::components::PageTitle;

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
