//! Team alerts' server functions: the Alerts page (security: every audience's channels, the latest
//! deliveries with their outcomes and retries, the ledger's counts) and a team's own alerts on My
//! team (its leads and security). Server-side only: no island calls them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    db::{DeliveryRecord, NoticeCounts},
    domain::{Viewer, alerts::ChannelSummary},
    error::AppError,
};

/// Deliveries listed on the Alerts page, and on My team.
pub const RECENT_DELIVERIES: u32 = 50;
pub const TEAM_DELIVERIES: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsView {
    /// Whether any channel is configured (alerts are off otherwise).
    pub configured: bool,
    /// Every team's channels, then security's; never a webhook's URL.
    pub channels: Vec<ChannelSummary>,
    /// Newest first.
    pub deliveries: Vec<DeliveryRecord>,
    pub notices: NoticeCounts,
    /// The caller may send today's digest now (not with a read-only key).
    pub can_send: bool,
}

/// The Alerts page's content. Security only.
#[server]
pub async fn alerts_overview() -> Result<AlertsView, AppError> {
    let viewer = crate::auth::require_role(crate::domain::Role::Security).await?;
    let state = expect_context::<crate::state::AppState>();
    Ok(AlertsView {
        configured: state.alerts.is_some(),
        channels: state
            .alerts
            .as_ref()
            .map(|alerts| alerts.channels())
            .unwrap_or_default(),
        deliveries: state.repo.list_deliveries(None, RECENT_DELIVERIES).await?,
        notices: state.repo.notice_counts().await?,
        can_send: !viewer.read_only,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAlertsView {
    pub configured: bool,
    /// The team's channels (`None`: alerts are off).
    pub channels: Option<ChannelSummary>,
    pub deliveries: Vec<DeliveryRecord>,
}

/// Whether `viewer` may see `team`'s alerts: its leads, and security.
pub fn may_see_team_alerts(viewer: &Viewer, team: i64) -> bool {
    viewer.is_security() || viewer.teams.iter().any(|t| t.team_id == team && t.is_lead)
}

/// One team's channels and latest deliveries, for My team. Its leads and security only.
#[server]
pub async fn team_alerts(team: i64) -> Result<TeamAlertsView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    if !may_see_team_alerts(&viewer, team) {
        return Err(AppError::ForbiddenBecause(
            "a team's alerts are shown to its leads and to security".to_owned(),
        ));
    }
    let state = expect_context::<crate::state::AppState>();
    let channels = state
        .alerts
        .as_ref()
        .map(|alerts| alerts.channels().into_iter().find(|c| c.team_id == Some(team)))
        .map(|found| {
            found.unwrap_or(ChannelSummary {
                team_id: Some(team),
                name: String::new(),
                webhook: false,
                emails: Vec::new(),
            })
        });
    Ok(TeamAlertsView {
        configured: state.alerts.is_some(),
        channels,
        deliveries: state.repo.list_deliveries(Some(team), TEAM_DELIVERIES).await?,
    })
}
