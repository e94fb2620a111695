//! Recertification campaigns: security opens one (a scope and a due date) and closes it; a lead
//! confirms or flags their team's items, many at once. Each write and its audit rows share a
//! transaction (the repository's); a flag becomes a finding of the review at once.

use chrono::Utc;

use super::Refusal;
use crate::{
    db::Repo,
    domain::{
        TeamRef, Viewer,
        recertification::{
            CampaignForm, MAX_ITEMS_PER_ANSWER, Refused, answer_from_form, may_answer, may_run, select_items,
        },
        review::{ReviewPolicy, Subject},
    },
    error::AppError,
};

/// A campaign opened: its id, how many items it holds, and how many in scope were left out for
/// having no owner team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub id: i64,
    pub items: usize,
    pub left_out: usize,
}

pub(crate) fn refused(refusal: Refused) -> AppError {
    match refusal {
        Refused::NotAllowed(message) => AppError::ForbiddenBecause(message),
        Refused::Closed(message) => AppError::Conflict(message),
    }
}

/// Opens a campaign over the form's scope, due on its date: every live token and service account
/// in scope with an owner team, as they are now. Security only; refused when the scope holds
/// nothing to answer for.
pub async fn open_campaign(repo: &Repo, viewer: &Viewer, form: &CampaignForm) -> Result<Opened, Refusal> {
    may_run(viewer).map_err(refused)?;
    let now = Utc::now();
    let today = now.date_naive();
    let teams: Vec<TeamRef> = repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    let campaign = form.validate(&teams, today).map_err(Refusal::Fields)?;
    let (items, left_out) = select_items(campaign.scope, repo.recert_candidates(today).await?);
    if items.is_empty() {
        let why = if left_out > 0 {
            format!(
                "nothing in this scope has an owner team to answer for it ({left_out} without one): set their owner teams first, or choose another scope"
            )
        } else {
            "nothing live is in this scope: choose another".to_owned()
        };
        return Err(AppError::invalid("scope", why).into());
    }
    let id = repo.open_campaign(&campaign, &items, &viewer.username, now).await?;
    tracing::info!(campaign.id = id, items = items.len(), user.username = %viewer.username, "recertification opened");
    Ok(Opened {
        id,
        items: items.len(),
        left_out,
    })
}

/// Which items an answer covers: those picked, or every unanswered item of a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerTargets {
    Picked(Vec<i64>),
    Unanswered { team: i64 },
}

/// Confirms (`action` `confirm`) or flags (`flag`, with `reason`) items of campaign `id`: each
/// an item of a team `viewer` leads, while the campaign is open; an answer given before is
/// replaced (and both are in the audit log). All or nothing. Answers how many.
pub async fn answer_items(
    repo: &Repo,
    viewer: &Viewer,
    policy: &ReviewPolicy,
    id: i64,
    targets: AnswerTargets,
    action: &str,
    reason: &str,
) -> Result<usize, Refusal> {
    let campaign = repo
        .campaign(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))?;
    let answer = answer_from_form(action, reason).map_err(|error| Refusal::Fields(vec![error]))?;
    let ids = match targets {
        AnswerTargets::Picked(ids) => ids,
        AnswerTargets::Unanswered { team } => {
            may_answer(viewer, team, campaign.is_closed()).map_err(refused)?;
            let items = repo.campaign_items(id, Some(team)).await?;
            items
                .into_iter()
                .filter(|item| item.answered.is_none())
                .map(|item| item.id)
                .collect()
        }
    };
    if ids.is_empty() {
        return Err(AppError::invalid("item", "choose at least one item").into());
    }
    if ids.len() > MAX_ITEMS_PER_ANSWER {
        return Err(AppError::invalid("item", format!("at most {MAX_ITEMS_PER_ANSWER} items at once")).into());
    }
    let teams = repo.item_teams(id, &ids).await?;
    for item in &ids {
        let team = teams
            .get(item)
            .ok_or_else(|| AppError::NotFound(format!("item {item} of campaign {id}")))?;
        may_answer(viewer, *team, campaign.is_closed()).map_err(refused)?;
    }
    let subjects = repo
        .answer_items(id, &ids, &answer, &viewer.username, Utc::now())
        .await?;
    tracing::info!(campaign.id = id, items = ids.len(), answer = answer.as_str(), user.username = %viewer.username, "recertification answered");
    refresh_findings(repo, policy, &subjects).await;
    Ok(ids.len())
}

/// Tokens whose findings are worked out again at once after an answer; beyond this, or with a
/// service account among them, the whole review is, behind the answer.
const REFRESH_AT_ONCE: usize = 50;

/// A flag is a finding (and a confirmation answers one): the subjects' findings follow.
async fn refresh_findings(repo: &Repo, policy: &ReviewPolicy, subjects: &[Subject]) {
    let tokens: Vec<i64> = subjects
        .iter()
        .filter_map(|subject| match subject {
            Subject::Token(id) => Some(*id),
            Subject::Account(_) => None,
        })
        .collect();
    if tokens.len() == subjects.len() && tokens.len() <= REFRESH_AT_ONCE {
        let now = Utc::now();
        for token in tokens {
            if let Err(error) = repo.refresh_token_findings(token, policy, now.date_naive(), now).await {
                tracing::warn!(token.id = token, error.message = %error, "the token's review findings were not refreshed");
            }
        }
        return;
    }
    let (repo, policy) = (repo.clone(), policy.clone());
    tokio::spawn(async move {
        let now = Utc::now();
        if let Err(error) = repo.refresh_findings(&policy, now.date_naive(), now).await {
            tracing::warn!(error.message = %error, "the review findings were not refreshed");
        }
    });
}

/// Closes campaign `id`: its answers are final, and the evidence is complete. Security only.
pub async fn close_campaign(repo: &Repo, viewer: &Viewer, id: i64) -> Result<(), AppError> {
    may_run(viewer).map_err(refused)?;
    repo.close_campaign(id, &viewer.username, Utc::now()).await?;
    tracing::info!(campaign.id = id, user.username = %viewer.username, "recertification closed");
    Ok(())
}
