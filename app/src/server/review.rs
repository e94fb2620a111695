//! The security review's server function: the queue, as the caller may see it. Server-side
//! only: the page is rendered there, and no island calls it.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        TeamRef, Viewer,
        review::{FINDINGS_PER_PAGE, FindingQuery, FindingRule},
    },
    error::AppError,
};

/// One page of the queue and what the caller may do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub findings: Vec<crate::db::StoredFinding>,
    pub total: u64,
    pub by_rule: Vec<(FindingRule, u64)>,
    pub page: u32,
    pub per_page: u32,
    pub today: NaiveDate,
    /// The teams the caller may filter by: every team for security, their own otherwise.
    pub teams: Vec<TeamRef>,
    /// May record decisions (security, or a team's lead).
    pub can_decide: bool,
    /// May accept a risk (security; leads when the setting allows).
    pub can_accept: bool,
    /// The latest date a risk may be accepted until.
    pub latest_until: NaiveDate,
    /// Security: the page links to the Alerts page.
    pub is_security: bool,
}

/// The teams whose findings `viewer` sees: `None` for security (every team), else their own.
pub fn visible_teams(viewer: &Viewer) -> Option<Vec<i64>> {
    (!viewer.is_security()).then(|| viewer.teams.iter().map(|team| team.team_id).collect())
}

/// One page of `per_page` findings of `query`, of the teams `viewer` may see.
pub async fn queue(
    repo: &crate::db::Repo,
    viewer: &Viewer,
    query: &FindingQuery,
    per_page: u32,
    today: NaiveDate,
) -> Result<crate::db::FindingPage, AppError> {
    let filter = crate::db::FindingFilter {
        team: query.team,
        within_teams: visible_teams(viewer),
        rule: query.rule,
        kind: query.kind,
        severity: query.severity,
        state: query.state,
        offset: u64::from(query.page.max(1) - 1) * u64::from(per_page),
        limit: u64::from(per_page),
    };
    Ok(repo.list_findings(&filter, today).await?)
}

/// The queue: security sees every finding; everyone else their teams' (leads may decide on them,
/// engineers only read).
#[server]
pub async fn list_findings(query: FindingQuery) -> Result<ReviewPage, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let page = queue(&state.repo, &viewer, &query, FINDINGS_PER_PAGE, today).await?;
    let teams: Vec<TeamRef> = state
        .repo
        .list_teams()
        .await?
        .into_iter()
        .map(TeamRef::from)
        .filter(|team| viewer.is_security() || viewer.teams.iter().any(|mine| mine.team_id == team.id))
        .collect();
    let leads = viewer.teams.iter().any(|team| team.is_lead);
    let may_write = !viewer.read_only;
    Ok(ReviewPage {
        findings: page.findings,
        total: page.total,
        by_rule: page.by_rule,
        page: query.page.max(1),
        per_page: FINDINGS_PER_PAGE,
        today,
        teams,
        can_decide: may_write && (viewer.is_security() || leads),
        can_accept: may_write && (viewer.is_security() || (leads && state.review.leads_may_accept_risk)),
        latest_until: today + chrono::Days::new(u64::from(state.review.max_lifetime_days())),
        is_security: viewer.is_security(),
    })
}

/// One token's findings (standing first) with every decision on each, for its page: shown to
/// security and to the team that owns the token; `None` to anyone else.
#[server]
pub async fn token_findings(token_id: i64) -> Result<Option<Vec<crate::db::FindingHistory>>, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let detail = state
        .repo
        .get_token(token_id, today)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("token {token_id}")))?;
    let owner = detail.summary.owner_team.as_ref().map(|team| team.id);
    let sees = match visible_teams(&viewer) {
        None => true,
        Some(teams) => owner.is_some_and(|owner| teams.contains(&owner)),
    };
    if !sees {
        return Ok(None);
    }
    Ok(Some(state.repo.token_review(token_id, today).await?))
}
