//! The Sync page's server functions: the recent runs with the live figures of the one under way,
//! and "Sync now" (security and admins).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{SyncProgress, SyncRun},
    error::AppError,
};

/// Runs shown on the Sync page.
pub const RECENT_RUNS: u32 = 25;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncOverview {
    /// Newest first.
    pub runs: Vec<SyncRun>,
    /// The figures of the run this server has under way, fresher than its row.
    pub live: Option<SyncProgress>,
    /// Whether this server is set up to sync at all.
    pub configured: bool,
    /// Whether the caller may start a run.
    pub can_start: bool,
}

/// The recent runs; anyone signed in may see when the inventory was last refreshed.
#[server]
pub async fn list_sync_runs() -> Result<SyncOverview, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let runs = state.repo.list_sync_runs(RECENT_RUNS).await?;
    Ok(SyncOverview {
        runs,
        live: state.sync.as_ref().and_then(|sync| sync.live_progress()),
        configured: state.sync.is_some(),
        can_start: crate::auth::allows(&viewer, crate::domain::Role::Security) && !viewer.read_only,
    })
}

/// Starts a run now (or right after the one under way). Security and admins only.
#[server]
pub async fn start_sync() -> Result<(), AppError> {
    let viewer = crate::auth::require_role(crate::domain::Role::Security).await?;
    crate::auth::require_write(&viewer)?;
    let state = expect_context::<crate::state::AppState>();
    let Some(sync) = &state.sync else {
        return Err(AppError::Conflict(
            "this server is not set up to sync (SYNC_GITLAB_URL is not set)".to_owned(),
        ));
    };
    sync.run_now();
    tracing::info!(user.id = viewer.id, "sync requested");
    Ok(())
}
