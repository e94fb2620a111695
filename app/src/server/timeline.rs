//! The expiry timeline's server function: live tokens expiring per week, stacked by owner team or severity,
//! for the Review page (the teams the viewer sees there) and My team (one of the viewer's teams).
//! Server-side only: the chart is rendered there, and no island calls it.

use leptos::prelude::*;

use crate::{
    domain::{Stack, TeamRef, Timeline, TimelineRange, Viewer},
    error::AppError,
};

/// The teams whose tokens `viewer` sees in a timeline: on the Review page (`team` left out) the
/// queue's ([`visible_teams`](super::review::visible_teams): every team for security, their own
/// otherwise), `None` meaning every team and tokens with none; on My team, that one team, which
/// must be the viewer's (security may look at any).
pub fn timeline_teams(viewer: &Viewer, team: Option<i64>) -> Result<Option<Vec<i64>>, AppError> {
    let Some(team) = team else {
        return Ok(super::review::visible_teams(viewer));
    };
    if viewer.is_security() || viewer.teams.iter().any(|t| t.team_id == team) {
        Ok(Some(vec![team]))
    } else {
        Err(AppError::ForbiddenBecause(
            "the expiry timeline of a team is shown to its members and to security".to_owned(),
        ))
    }
}

/// The timeline over `range` (today's week or a later one, [`MIN_WEEKS`](crate::domain::timeline::MIN_WEEKS)
/// to [`MAX_WEEKS`](crate::domain::timeline::MAX_WEEKS) weeks), stacked by `stack`, of `team`
/// (My team) or of the teams the viewer sees on the Review page (`None`): one aggregate query.
#[server]
pub async fn expiry_timeline(team: Option<i64>, range: TimelineRange, stack: Stack) -> Result<Timeline, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let today = chrono::Utc::now().date_naive();
    let range = range.check(today)?;
    let within = timeline_teams(&viewer, team)?;
    let state = expect_context::<crate::state::AppState>();
    let (from, to) = range.dates(today);
    let counts = state
        .repo
        .expiry_counts(from, to, within.as_deref(), stack, today)
        .await?;
    let teams: Vec<TeamRef> = state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    Ok(Timeline::build(today, range, stack, &counts, &teams))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, TeamMembership};

    fn viewer(roles: &[Role], teams: &[i64]) -> Viewer {
        Viewer {
            id: 1,
            gitlab_id: 1,
            username: "someone".to_owned(),
            name: "Someone".to_owned(),
            roles: roles.iter().copied().collect(),
            unread_notices: 0,
            read_only: false,
            api_key_id: None,
            teams: teams
                .iter()
                .map(|&team_id| TeamMembership {
                    team_id,
                    team_name: format!("team {team_id}"),
                    is_lead: false,
                })
                .collect(),
        }
    }

    #[test]
    fn the_timeline_shows_what_the_viewer_may_see() {
        let security = viewer(&[Role::Security], &[]);
        let engineer = viewer(&[Role::Engineer], &[2, 3]);
        assert_eq!(timeline_teams(&security, None), Ok(None));
        assert_eq!(timeline_teams(&engineer, None), Ok(Some(vec![2, 3])));
        assert_eq!(timeline_teams(&engineer, Some(3)), Ok(Some(vec![3])));
        assert_eq!(timeline_teams(&security, Some(7)), Ok(Some(vec![7])));
        assert!(matches!(
            timeline_teams(&engineer, Some(7)),
            Err(AppError::ForbiddenBecause(_))
        ));
    }
}
