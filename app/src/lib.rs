//! Token Inventory's application: the pages, their routes and server functions, the domain rules,
//! and (with the `ssr` feature) the server-side state and repository layer.
// Deep view types (pages of tables and forms) need more than the default 128.
#![recursion_limit = "256"]

// `frontend` (hydrate) is not a default workspace member for this reason: `--workspace` would
// build `app` once with both features, and the server would then panic at its first request.
#[cfg(all(feature = "ssr", feature = "hydrate"))]
compile_error!(
    "`app` was built with both `ssr` and `hydrate`: build the server and the wasm bundle separately \
     (`cargo test`/`cargo clippy` without `--workspace`; `cargo xtask build`)"
);

/// The domain crate, as `app::domain` (and `crate::domain` here).
pub use domain;
pub mod error;
pub mod islands;
pub mod server;

// The pages are rendered on the server only: the browser gets their HTML and runs the islands.
#[cfg(feature = "ssr")]
pub mod components;
#[cfg(feature = "ssr")]
pub mod pages;
#[cfg(feature = "ssr")]
pub mod routes;

#[cfg(feature = "ssr")]
pub mod answers;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod commands;
/// The repository crate, as `app::db` (and `crate::db` here).
#[cfg(feature = "ssr")]
pub use db;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "ssr")]
pub use routes::{App, shell};

/// The name of the wasm bundle and stylesheet under `/pkg/`.
pub const BUNDLE_NAME: &str = "token-inventory";

/// Called by the `frontend` crate once the wasm module is loaded; the islands on the page then
/// hydrate themselves.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

pub use domain::query_string;
