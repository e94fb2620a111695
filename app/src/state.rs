//! The server's shared state, handed to axum handlers by `FromRef` and to server functions as
//! context (`expect_context::<AppState>()`); it is also in every request's extensions, where the
//! [`crate::auth::MaybeViewer`] extractor finds it.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::db::Repo;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub repo: Repo,
    pub auth: Arc<AuthPolicy>,
    /// The sync scheduler of this replica; `None` when sync is not configured.
    pub sync: Option<Arc<dyn SyncControl>>,
    /// GitLab's web address, for links to where tokens live.
    pub gitlab_url: Option<String>,
    /// What the wizard recommends: lifetimes, the naming convention, GitLab's address.
    pub wizard: Arc<crate::domain::WizardPolicy>,
    /// What the review finds, and who may accept a risk.
    pub review: Arc<crate::domain::review::ReviewPolicy>,
}

/// What pages may ask of the sync scheduler.
pub trait SyncControl: Send + Sync {
    /// Asks for a run as soon as the one under way (if any) has ended.
    fn run_now(&self);
    /// The figures of the run this replica has under way.
    fn live_progress(&self) -> Option<crate::domain::SyncProgress>;
}

/// The sign-in rules the server functions need.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: chrono::Duration,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::Duration,
    /// An API key works only while its owner signed in this recently: it acts with the roles and
    /// teams of that sign-in.
    pub api_key_sign_in_max_age: chrono::Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            absolute_timeout: chrono::Duration::hours(12),
            idle_timeout: chrono::Duration::hours(8),
            api_key_sign_in_max_age: chrono::Duration::days(30),
        }
    }
}
