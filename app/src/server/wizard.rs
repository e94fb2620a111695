//! What the wizard needs from the server: the organisation's token policy, today's date and
//! the teams. The decision itself is pure and runs where the page runs.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{domain::WizardPolicy, error::AppError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardContext {
    pub policy: WizardPolicy,
    /// The server's date, so that the browser and the server suggest the same expiry.
    pub today: NaiveDate,
    /// The configured teams' names, to choose the owner team from.
    pub teams: Vec<String>,
    /// The caller's own first team, the owner team suggested.
    pub my_team: Option<String>,
}

/// The wizard's settings, for anyone signed in.
#[server]
pub async fn load_wizard() -> Result<WizardContext, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let teams = state
        .repo
        .list_teams()
        .await?
        .into_iter()
        .map(|team| team.name)
        .collect();
    Ok(WizardContext {
        policy: (*state.wizard).clone(),
        today: chrono::Utc::now().date_naive(),
        teams,
        my_team: viewer.teams.first().map(|team| team.team_name.clone()),
    })
}
