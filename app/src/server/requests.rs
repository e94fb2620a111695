//! Service-account requests: the lists, one request with what the caller may do with it, and the
//! form filled in (from the wizard's answer, a request to amend, or what was sent back refused).
//! Server-side only: the pages are rendered there, and no island calls them.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    commands::requests::facts,
    db::{RequestFilter, RequestSummary, StoredRequest},
    domain::{
        NextStep, TeamRef, Viewer, WizardAnswers, recommend_token_kind,
        requests::{RequestAction, RequestForm, RequestState, may_act, may_see},
    },
    error::AppError,
};

/// How many requests a list shows at most.
pub const LIST_LIMIT: u64 = 100;

/// The lists the caller sees on `/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLists {
    /// What waits for the caller: submitted requests of teams they lead; endorsed ones for
    /// security.
    pub waiting: Vec<RequestSummary>,
    pub mine: Vec<RequestSummary>,
    /// Their teams' requests (not their own), or for security every request (of `state`).
    pub others: Vec<RequestSummary>,
    pub is_security: bool,
    pub state: Option<RequestState>,
}

/// The requests the caller asked for, those waiting for them, and their teams' (security: all,
/// of `state` when given).
#[server]
pub async fn list_requests(state: Option<String>) -> Result<RequestLists, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    let state = parse_state(state.as_deref())?;
    let list = |filter: RequestFilter| {
        let repo = app.repo.clone();
        async move { repo.list_requests(&filter).await }
    };
    let mine = own_requests(&app.repo, &viewer, Vec::new()).await?;
    let led: Vec<i64> = viewer.teams.iter().filter(|t| t.is_lead).map(|t| t.team_id).collect();
    let mut waiting = if led.is_empty() {
        Vec::new()
    } else {
        list(RequestFilter {
            teams: Some(led),
            states: vec![RequestState::Submitted],
            limit: LIST_LIMIT,
            ..RequestFilter::default()
        })
        .await?
    };
    if viewer.is_security() {
        waiting.extend(
            list(RequestFilter {
                states: vec![RequestState::Endorsed, RequestState::Approved],
                limit: LIST_LIMIT,
                ..RequestFilter::default()
            })
            .await?,
        );
    }
    waiting.retain(|request| waits_for(&viewer, request));
    let others = others_requests(&app.repo, &viewer, state.into_iter().collect()).await?;
    Ok(RequestLists {
        waiting,
        mine,
        others,
        is_security: viewer.is_security(),
        state,
    })
}

/// A request state from a URL or the API (blank: any).
pub fn parse_state(text: Option<&str>) -> Result<Option<RequestState>, AppError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => text
            .parse::<RequestState>()
            .map(Some)
            .map_err(|error| AppError::invalid("state", error.to_string())),
        None => Ok(None),
    }
}

/// `viewer`'s own requests (drafts too), of `states` (empty: any), newest change first.
pub async fn own_requests(
    repo: &crate::db::Repo,
    viewer: &Viewer,
    states: Vec<RequestState>,
) -> Result<Vec<RequestSummary>, AppError> {
    let filter = RequestFilter {
        requester: Some(viewer.id),
        states,
        limit: LIST_LIMIT,
        ..RequestFilter::default()
    };
    Ok(repo.list_requests(&filter).await?)
}

/// The requests of `viewer`'s teams (security: every one) but their own, of `states` (empty:
/// any), newest change first.
pub async fn others_requests(
    repo: &crate::db::Repo,
    viewer: &Viewer,
    states: Vec<RequestState>,
) -> Result<Vec<RequestSummary>, AppError> {
    let filter = RequestFilter {
        teams: (!viewer.is_security()).then(|| viewer.teams.iter().map(|t| t.team_id).collect()),
        states,
        limit: LIST_LIMIT,
        ..RequestFilter::default()
    };
    let found = repo.list_requests(&filter).await?;
    Ok(found
        .into_iter()
        .filter(|request| request.requester != viewer.username)
        .collect())
}

/// Whether a listed request waits for `viewer`: a lead's endorsement, or security's decision or
/// account (never on their own request, but its account).
fn waits_for(viewer: &Viewer, request: &RequestSummary) -> bool {
    let own = request.requester == viewer.username;
    match request.state {
        RequestState::Submitted => !own && request.owner_team.as_ref().is_some_and(|team| viewer.leads(team.id)),
        RequestState::Endorsed => !own && viewer.is_security(),
        RequestState::Approved => viewer.is_security(),
        _ => false,
    }
}

/// One request, and what the caller may do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub request: StoredRequest,
    /// The steps the caller may take now (the form's own aside).
    pub steps: Vec<RequestAction>,
    /// May change it through its form (a draft, or amend it).
    pub can_edit: bool,
    /// What the wizard would recommend instead, with the answers to open it at.
    pub narrower: Option<(String, String)>,
    /// GitLab, for the steps that make the account by hand.
    pub gitlab_url: Option<String>,
    /// This server makes approved accounts through GitLab's API (a write credential is set).
    pub writes: bool,
    /// The caller (its requester) may make the account's first token now.
    pub can_make_token: bool,
    pub today: NaiveDate,
}

#[server]
pub async fn get_request(id: i64) -> Result<RequestView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    let request = app
        .repo
        .request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("request {id}")))?;
    let facts = facts(&request);
    if !may_see(&viewer, &facts) {
        // Not theirs to see: as if it did not exist.
        return Err(AppError::NotFound(format!("request {id}")));
    }
    let steps = [
        RequestAction::Endorse,
        RequestAction::Approve,
        RequestAction::Reject,
        RequestAction::Fulfil,
        RequestAction::Withdraw,
    ]
    .into_iter()
    .filter(|action| may_act(&viewer, &facts, *action).is_ok())
    .collect();
    let edit = request.state.edit_action();
    let narrower = request
        .body
        .narrower_kind(app.wizard.temporary_lifetime_days)
        .map(|(kind, answers)| {
            (
                kind.label().to_owned(),
                crate::pages::wizard::wizard_href(&answers, None),
            )
        });
    // Seen: the notices about it are read (by the person, not by a read-only key).
    if !viewer.read_only {
        app.repo.mark_read(viewer.id, Some(id), chrono::Utc::now()).await?;
    }
    let writes = app.gitlab_writes.is_some();
    let can_make_token = writes
        && request.fulfilment.key.is_some()
        && request.fulfilment.token_created_at.is_none()
        && may_act(&viewer, &facts, RequestAction::MakeToken).is_ok();
    Ok(RequestView {
        writes,
        can_make_token,
        can_edit: may_act(&viewer, &facts, edit).is_ok(),
        steps,
        narrower,
        gitlab_url: app.gitlab_url.clone(),
        today: chrono::Utc::now().date_naive(),
        request,
    })
}

/// The form, filled in, and what it is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFormView {
    /// The request being changed; `None` for a new one.
    pub id: Option<i64>,
    pub state: Option<RequestState>,
    pub form: RequestForm,
    /// The teams the caller may ask for (their own).
    pub teams: Vec<TeamRef>,
    pub naming: String,
    pub max_lifetime_days: u32,
    /// What the wizard would recommend instead, for what is filled in.
    pub narrower: Option<(String, String)>,
}

/// The form for a new request (`id` `None`) or request `id`, filled in from `sent` (the form
/// sent back refused: `edit` is there), else from the request, else from the wizard's answers
/// in `sent` (when they lead to a service account).
#[server]
pub async fn get_request_form(id: Option<i64>, sent: Vec<(String, String)>) -> Result<RequestFormView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    let get = |name: &str| sent.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let teams: Vec<TeamRef> = viewer
        .teams
        .iter()
        .map(|team| TeamRef {
            id: team.team_id,
            name: team.team_name.clone(),
        })
        .collect();
    let today = chrono::Utc::now().date_naive();
    let stored = match id {
        Some(id) => {
            let request = app
                .repo
                .request(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("request {id}")))?;
            let edit = request.state.edit_action();
            if !may_see(&viewer, &facts(&request)) {
                return Err(AppError::NotFound(format!("request {id}")));
            }
            may_act(&viewer, &facts(&request), edit)
                .map_err(|refused| AppError::ForbiddenBecause(refused.to_string()))?;
            Some(request)
        }
        None => None,
    };
    let form = if get("edit").is_some() {
        form_from(&sent)
    } else if let Some(request) = &stored {
        request.body.to_form()
    } else {
        let (answers, _) = WizardAnswers::from_query(get);
        match recommend_token_kind(&answers, &app.wizard, today).map(|r| r.next_step) {
            Ok(NextStep::RequestServiceAccount(request)) => RequestForm::from_wizard(&request, &teams, today),
            _ => RequestForm::default(),
        }
    };
    let narrower = crate::commands::requests::check_form(&app.repo, &viewer, &app.wizard, id, &form, false)
        .await
        .ok()
        .and_then(|valid| valid.narrower_kind(app.wizard.temporary_lifetime_days))
        .map(|(kind, answers)| {
            (
                kind.label().to_owned(),
                crate::pages::wizard::wizard_href(&answers, None),
            )
        });
    Ok(RequestFormView {
        id,
        state: stored.map(|request| request.state),
        form,
        teams,
        naming: app.wizard.naming.as_str().to_owned(),
        max_lifetime_days: app.wizard.max_lifetime_days,
        narrower,
    })
}

/// The form from a query or a posted body (`scopes` repeated).
pub fn form_from(pairs: &[(String, String)]) -> RequestForm {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    RequestForm {
        account_name: get("account_name"),
        owner_team: get("owner_team"),
        purpose: get("purpose"),
        automation: get("automation"),
        runs_on: get("runs_on"),
        memberships: get("memberships"),
        scopes: pairs
            .iter()
            .filter(|(n, _)| n == "scopes")
            .map(|(_, v)| v.clone())
            .collect(),
        confidential_issues: get("confidential_issues"),
        why_not_token: get("why_not_token"),
        lifetime_days: get("lifetime_days"),
        secret_location: get("secret_location"),
    }
}

/// The caller's unread notices, for the header; `None` when nobody is signed in.
#[server]
pub async fn unread_notices() -> Result<Option<u64>, AppError> {
    // Read with the viewer, at the start of the request.
    Ok(crate::auth::viewer().await?.map(|viewer| viewer.unread_notices))
}

/// How many notices the inbox lists at most.
pub const INBOX_LIMIT: u64 = 100;

/// The caller's latest notices, unread first.
#[server]
pub async fn list_notices() -> Result<Vec<crate::db::Notice>, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let app = expect_context::<crate::state::AppState>();
    Ok(app.repo.inbox(viewer.id, INBOX_LIMIT).await?)
}
