//! The server's shared state, handed to axum handlers by `FromRef` and to server functions as
//! context (`expect_context::<AppState>()`).

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::db::Repo;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub repo: Repo,
}
