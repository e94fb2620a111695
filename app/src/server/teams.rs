//! "My team": a team lead's view of their team's tokens: counts by status and expiry window, and
//! what needs their attention.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{ExpiryWindow, TeamRef, TokenStatus, TokenSummary},
    error::AppError,
};

/// Tokens listed under "needs attention" at most.
pub const ATTENTION_LIMIT: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSummary {
    /// The team shown; `None` when the person belongs to no team.
    pub team: Option<TeamRef>,
    /// The person's own teams, to switch between.
    pub my_teams: Vec<TeamRef>,
    pub total: u64,
    pub by_status: Vec<(TokenStatus, u64)>,
    pub by_expiry: Vec<(ExpiryWindow, u64)>,
    /// Active tokens with no purpose, an owner nobody confirmed, or an expiry within 30 days.
    pub attention: Vec<(TokenSummary, Vec<String>)>,
    pub today: NaiveDate,
}

/// The overview of `team` (default: the caller's first team).
#[server]
pub async fn team_overview(team: Option<i64>) -> Result<TeamSummary, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let all_teams = state.repo.list_teams().await?;
    let my_teams: Vec<TeamRef> = viewer
        .teams
        .iter()
        .map(|t| TeamRef {
            id: t.team_id,
            name: t.team_name.clone(),
        })
        .collect();
    let chosen = match team {
        Some(id) => Some(
            all_teams
                .iter()
                .find(|t| t.id == id)
                .map(|t| TeamRef {
                    id: t.id,
                    name: t.name.clone(),
                })
                .ok_or_else(|| AppError::NotFound(format!("team {id}")))?,
        ),
        None => my_teams.first().cloned(),
    };
    let Some(chosen) = chosen else {
        return Ok(TeamSummary {
            team: None,
            my_teams,
            total: 0,
            by_status: Vec::new(),
            by_expiry: Vec::new(),
            attention: Vec::new(),
            today,
        });
    };
    let overview = state.repo.team_overview(chosen.id, today).await?;
    let soon = today + chrono::Days::new(30);
    let attention = overview
        .active
        .into_iter()
        .filter_map(|token| {
            let mut reasons = Vec::new();
            if token.expires_on.is_some_and(|date| date <= soon) {
                reasons.push("expires within 30 days".to_owned());
            }
            if token.expires_on.is_none() {
                reasons.push("never expires".to_owned());
            }
            if token.purpose.is_none() {
                reasons.push("no purpose".to_owned());
            }
            if token.owner_inferred {
                reasons.push("owner not confirmed".to_owned());
            }
            (!reasons.is_empty()).then_some((token, reasons))
        })
        .take(ATTENTION_LIMIT)
        .collect();
    Ok(TeamSummary {
        team: Some(chosen),
        my_teams,
        total: overview.total,
        by_status: overview.by_status,
        by_expiry: overview.by_expiry,
        attention,
        today,
    })
}

/// Every team with its group paths, leads and token health; anyone signed in.
#[server]
pub async fn list_team_stats() -> Result<Vec<crate::domain::TeamStats>, AppError> {
    crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    Ok(state.repo.team_stats(chrono::Utc::now().date_naive()).await?)
}

/// The service accounts page: every account with its group, owner team, tokens and memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountsView {
    pub accounts: Vec<crate::domain::ServiceAccount>,
    pub today: NaiveDate,
    /// GitLab's address, for links.
    pub gitlab_url: Option<String>,
    /// The newest sync run read GitLab as a group owner: GitLab lists memberships to
    /// administrators only, so the memberships shown are those an earlier run found, if any.
    pub memberships_unread: bool,
    /// The accounts (GitLab ids) whose owner team the viewer may change.
    pub editable: Vec<i64>,
    /// Every team, to choose an owner from (empty when nothing is editable).
    pub teams: Vec<TeamRef>,
    /// The accounts (GitLab ids) the review found made outside the request process.
    pub made_outside: Vec<i64>,
}

/// Whether `viewer` may change the team owning `account`: security may, and the lead of the
/// team that owns it now (set or inferred); never a read-only API key.
pub fn may_set_account_owner(viewer: &crate::domain::Viewer, account: &crate::domain::ServiceAccount) -> bool {
    !viewer.read_only
        && (viewer.is_security() || account.owner.as_ref().is_some_and(|owner| viewer.leads(owner.team.id)))
}

/// Every service account with its group, owner team, tokens and what it can reach; anyone
/// signed in.
#[server]
pub async fn list_service_accounts() -> Result<ServiceAccountsView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let last_strategy = state
        .repo
        .list_sync_runs(20)
        .await?
        .into_iter()
        .find_map(|run| run.strategy);
    let accounts = state.repo.list_service_accounts().await?;
    let editable: Vec<i64> = accounts
        .iter()
        .filter(|account| may_set_account_owner(&viewer, account))
        .map(|account| account.gitlab_id)
        .collect();
    let teams = if editable.is_empty() {
        Vec::new()
    } else {
        state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect()
    };
    Ok(ServiceAccountsView {
        accounts,
        today: chrono::Utc::now().date_naive(),
        gitlab_url: state.gitlab_url.clone(),
        memberships_unread: last_strategy.as_deref() == Some("group_owner"),
        editable,
        teams,
        made_outside: state
            .repo
            .accounts_found(crate::domain::review::FindingRule::MadeOutsideRequests)
            .await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountOwner, OwnerSource, Role, ServiceAccount, TeamMembership, Viewer};

    fn viewer(roles: &[Role], leads: Option<i64>, read_only: bool) -> Viewer {
        Viewer {
            id: 1,
            gitlab_id: 1,
            username: "someone".to_owned(),
            name: "Someone".to_owned(),
            roles: roles.iter().copied().collect(),
            teams: leads
                .map(|team_id| TeamMembership {
                    team_id,
                    team_name: format!("team {team_id}"),
                    is_lead: true,
                })
                .into_iter()
                .collect(),
            unread_notices: 0,
            read_only,
            api_key_id: None,
        }
    }

    fn account(owner: Option<(i64, OwnerSource)>) -> ServiceAccount {
        ServiceAccount {
            gitlab_id: 9,
            username: "service_account_group_1_release".to_owned(),
            name: "Release".to_owned(),
            state: "active".to_owned(),
            group_path: Some("acme".to_owned()),
            owner: owner.map(|(id, source)| AccountOwner {
                team: TeamRef {
                    id,
                    name: format!("team {id}"),
                },
                source,
            }),
            tokens: Vec::new(),
            memberships: Vec::new(),
        }
    }

    #[test]
    fn security_and_the_owning_teams_lead_may_change_a_service_accounts_owner() {
        let set = OwnerSource::Set {
            by: "sam.security".to_owned(),
            at: chrono::DateTime::UNIX_EPOCH,
        };
        let security = viewer(&[Role::Security], None, false);
        let lead = viewer(&[Role::TeamLead], Some(2), false);
        let engineer = viewer(&[Role::Engineer], None, false);
        let table = [
            (&security, account(None), true),
            (&security, account(Some((2, OwnerSource::Memberships))), true),
            (&viewer(&[Role::Security], None, true), account(None), false),
            // The lead of the team it belongs to, whether a person set it or it is inferred.
            (&lead, account(Some((2, OwnerSource::Memberships))), true),
            (&lead, account(Some((2, OwnerSource::GroupPath))), true),
            (&lead, account(Some((2, set.clone()))), true),
            (
                &viewer(&[Role::TeamLead], Some(2), true),
                account(Some((2, set))),
                false,
            ),
            // Another team's, or nobody's: no.
            (&lead, account(Some((3, OwnerSource::GroupPath))), false),
            (&lead, account(None), false),
            (&engineer, account(Some((2, OwnerSource::GroupPath))), false),
        ];
        for (who, account, allowed) in table {
            assert_eq!(
                may_set_account_owner(who, &account),
                allowed,
                "{:?} {:?} {:?}",
                who.roles,
                who.read_only,
                account.owner
            );
        }
    }
}
