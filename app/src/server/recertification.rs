//! Recertification campaigns: the list with each one's progress, one campaign's progress per
//! team, a lead's pass over their team's items, the open campaigns of a team (for My team), and
//! the evidence auditors read. Server-side only: the pages are rendered there, and no island
//! calls them.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    db::{Campaign, CampaignItem, Repo},
    domain::{
        TeamRef, Viewer,
        recertification::{CampaignProgress, TeamProgress, may_answer, may_see, may_see_team},
    },
    error::AppError,
};

/// A campaign with its scope in words and its progress (the teams the caller may see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub campaign: Campaign,
    pub scope_text: String,
    pub progress: CampaignProgress,
}

/// `/recertification`: the campaigns, newest first, and what the opening form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignSummary>,
    pub is_security: bool,
    pub teams: Vec<TeamRef>,
    pub today: NaiveDate,
}

/// `/recertification/{id}`: one campaign's progress per team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    pub summary: CampaignSummary,
    pub is_security: bool,
    /// The teams of the campaign the caller leads (each with a link to their pass).
    pub led: Vec<i64>,
    pub today: NaiveDate,
}

/// `/recertification/{id}/team/{team}`: a team's items, and whether the caller may answer them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamPass {
    pub summary: CampaignSummary,
    pub team: TeamRef,
    pub progress: TeamProgress,
    pub items: Vec<CampaignItem>,
    /// Why the caller may not answer (a sentence), or `None` when they may.
    pub read_only_because: Option<String>,
    pub today: NaiveDate,
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A campaign with its progress, the teams `viewer` may see only.
async fn summary(repo: &Repo, viewer: &Viewer, campaign: Campaign) -> Result<CampaignSummary, AppError> {
    let mut teams = repo.campaign_progress().await?.remove(&campaign.id).unwrap_or_default();
    teams.retain(|team| may_see_team(viewer, team.team.id));
    Ok(summarise(repo, campaign, teams).await?)
}

async fn summarise(
    repo: &Repo,
    campaign: Campaign,
    teams: Vec<TeamProgress>,
) -> Result<CampaignSummary, crate::db::DbError> {
    let known: Vec<TeamRef> = repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    Ok(CampaignSummary {
        scope_text: campaign.scope.describe(&known),
        progress: campaign.progress(teams),
        campaign,
    })
}

/// The campaign, when `viewer` may see campaigns at all (security, or a lead); 404 when there is
/// none.
async fn visible_campaign(repo: &Repo, viewer: &Viewer, id: i64) -> Result<Campaign, AppError> {
    if !may_see(viewer) {
        return Err(AppError::ForbiddenBecause(
            "recertification is for security and team leads".to_owned(),
        ));
    }
    repo.campaign(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))
}

/// Every campaign with its progress (a lead: their teams' only). Security and leads.
#[server]
pub async fn list_campaigns() -> Result<CampaignList, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    if !may_see(&viewer) {
        return Err(AppError::ForbiddenBecause(
            "recertification is for security and team leads".to_owned(),
        ));
    }
    let mut progress = app.repo.campaign_progress().await?;
    let mut campaigns = Vec::new();
    for campaign in app.repo.list_campaigns().await? {
        let mut teams = progress.remove(&campaign.id).unwrap_or_default();
        teams.retain(|team| may_see_team(&viewer, team.team.id));
        campaigns.push(summarise(&app.repo, campaign, teams).await?);
    }
    Ok(CampaignList {
        campaigns,
        is_security: viewer.is_security(),
        teams: app.repo.list_teams().await?.into_iter().map(TeamRef::from).collect(),
        today: today(),
    })
}

/// One campaign's progress per team (a lead: their teams' only).
#[server]
pub async fn get_campaign(id: i64) -> Result<CampaignView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    let campaign = visible_campaign(&app.repo, &viewer, id).await?;
    let summary = summary(&app.repo, &viewer, campaign).await?;
    let led = summary
        .progress
        .teams
        .iter()
        .map(|team| team.team.id)
        .filter(|team| viewer.leads(*team))
        .collect();
    Ok(CampaignView {
        summary,
        is_security: viewer.is_security(),
        led,
        today: today(),
    })
}

/// A team's items in a campaign: its leads (who answer them) and security (who reads them).
#[server]
pub async fn get_team_pass(id: i64, team: i64) -> Result<TeamPass, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    let campaign = visible_campaign(&app.repo, &viewer, id).await?;
    if !may_see_team(&viewer, team) {
        return Err(AppError::ForbiddenBecause(
            "only the team's leads and security see a team's recertification".to_owned(),
        ));
    }
    let read_only_because = may_answer(&viewer, team, campaign.is_closed())
        .err()
        .map(|why| why.message().to_owned());
    let summary = summary(&app.repo, &viewer, campaign).await?;
    let progress = summary
        .progress
        .teams
        .iter()
        .find(|progress| progress.team.id == team)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("team {team} in campaign {id}")))?;
    let items = app.repo.campaign_items(id, Some(team)).await?;
    Ok(TeamPass {
        team: progress.team.clone(),
        progress,
        items,
        summary,
        read_only_because,
        today: today(),
    })
}

/// The open campaigns holding items of `team`, with the team's progress in each (My team's
/// notice). The team's members and security.
#[server]
pub async fn team_recertifications(team: i64) -> Result<Vec<(Campaign, TeamProgress)>, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    if !viewer.is_security() && !viewer.teams.iter().any(|t| t.team_id == team) {
        return Err(AppError::Forbidden);
    }
    let mut progress = app.repo.campaign_progress().await?;
    let mut open = Vec::new();
    for campaign in app.repo.list_campaigns().await? {
        if campaign.is_closed() {
            continue;
        }
        let mine = progress
            .remove(&campaign.id)
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.team.id == team);
        if let Some(mine) = mine {
            open.push((campaign, mine));
        }
    }
    Ok(open)
}

/// One item of the evidence: what was certified, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub campaign: i64,
    pub item: i64,
    /// A token kind, or `service_account`.
    pub subject_kind: String,
    /// The token's inventory id or the account's GitLab id (`None`: the token is no longer in the
    /// inventory).
    pub subject_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub team: String,
    /// The purpose recorded when the campaign opened.
    pub purpose: Option<String>,
    /// `confirmed`, `flagged`, or `unanswered`.
    pub answer: String,
    pub reason: Option<String>,
    /// The lead's username.
    pub answered_by: Option<String>,
    /// RFC 3339.
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A campaign's evidence: the campaign, and every item with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub campaign: Campaign,
    pub scope: String,
    pub items: Vec<EvidenceItem>,
}

/// The evidence of campaign `id`, for auditors: security only.
pub async fn evidence(repo: &Repo, viewer: &Viewer, id: i64) -> Result<Evidence, AppError> {
    if !viewer.is_security() {
        return Err(AppError::ForbiddenBecause(
            "only security (and auditors, who are security here) export a campaign's evidence".to_owned(),
        ));
    }
    let campaign = repo
        .campaign(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))?;
    let items = repo.campaign_items(id, None).await?;
    let summary = summarise(repo, campaign, Vec::new()).await?;
    tracing::info!(campaign.id = id, user.username = %viewer.username, rows = items.len(), "recertification evidence exported");
    Ok(Evidence {
        scope: summary.scope_text,
        campaign: summary.campaign,
        items: items.into_iter().map(evidence_item).collect(),
    })
}

fn evidence_item(item: CampaignItem) -> EvidenceItem {
    use crate::domain::review::Subject;
    let (answer, reason, answered_by, answered_at) = match item.answered {
        Some(answered) => (
            answered.answer.as_str().to_owned(),
            answered.answer.reason().map(str::to_owned),
            Some(answered.by),
            Some(answered.at),
        ),
        None => ("unanswered".to_owned(), None, None, None),
    };
    EvidenceItem {
        campaign: item.campaign_id,
        item: item.id,
        subject_kind: item.kind.as_str().to_owned(),
        subject_id: item.subject.map(|subject| match subject {
            Subject::Token(id) | Subject::Account(id) => id,
        }),
        name: item.name,
        path: item.path,
        team: item.team.name,
        purpose: item.purpose,
        answer,
        reason,
        answered_by,
        answered_at,
    }
}
