//! Service-account requests: filing one (a draft, sent, amended), and each step after (withdraw,
//! endorse, approve, reject, mark created), with who is told in the app.

use chrono::Utc;

use super::Refusal;
use crate::{
    db::{Person, Repo, RequestStep, StoredRequest},
    domain::{
        FieldError, TeamRef, Viewer, WizardPolicy,
        ownership::looks_like_a_secret,
        requests::{
            Refused, RequestAction, RequestContext, RequestFacts, RequestForm, RequestState, TEXT_MAX_CHARS,
            ValidRequest, may_act, may_see,
        },
    },
    error::AppError,
};

/// The facts of a stored request that decide who may act on it.
pub fn facts(request: &StoredRequest) -> RequestFacts {
    RequestFacts {
        state: request.state,
        requester: request.requester.id,
        owner_team: request.owner_team.as_ref().map_or(-1, |team| team.id),
        endorsed_by: request.endorsed_by.as_ref().map(|person| person.id),
    }
}

pub(super) fn person(viewer: &Viewer) -> Person {
    Person {
        id: viewer.id,
        username: viewer.username.clone(),
    }
}

pub(super) fn refused(refusal: Refused) -> AppError {
    match refusal {
        Refused::NotAllowed(message) => AppError::ForbiddenBecause(message),
        Refused::OutOfOrder(message) => AppError::Conflict(message),
    }
}

/// Checks `form` for `viewer` (of request `id` when it exists): complete when it is sent.
pub async fn check_form(
    repo: &Repo,
    viewer: &Viewer,
    policy: &WizardPolicy,
    id: Option<i64>,
    form: &RequestForm,
    complete: bool,
) -> Result<ValidRequest, Refusal> {
    let teams: Vec<TeamRef> = repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    let requester_teams: Vec<i64> = viewer.teams.iter().map(|team| team.team_id).collect();
    let taken_names = repo.taken_account_names(id).await?;
    let containers = repo.containers(&form.membership_paths()).await?;
    let context = RequestContext {
        teams: &teams,
        requester_teams: &requester_teams,
        taken_names: &taken_names,
        naming: &policy.naming,
        max_lifetime_days: policy.max_lifetime_days,
        containers: &containers,
    };
    form.validate(&context, complete).map_err(Refusal::Fields)
}

/// What is wrong with an account name as it is typed, for the team chosen (`owner_team`, a team
/// id or empty): the naming convention and the names taken (request `id`'s own name is not taken
/// by itself); `None` when it may be asked for.
pub async fn account_name_problem(
    repo: &Repo,
    viewer: &Viewer,
    policy: &WizardPolicy,
    name: &str,
    owner_team: &str,
    id: Option<i64>,
) -> Result<Option<String>, AppError> {
    let form = RequestForm {
        account_name: name.to_owned(),
        owner_team: owner_team.to_owned(),
        ..RequestForm::default()
    };
    match check_form(repo, viewer, policy, id, &form, false).await {
        Ok(_) => Ok(None),
        Err(Refusal::Fields(errors)) => Ok(errors
            .into_iter()
            .find(|error| error.field == "account_name")
            .map(|error| error.message)),
        Err(Refusal::Request(error)) => Err(error),
    }
}

/// Files a request (`id` `None`) or changes one: saved as a draft, or sent (`send`) to the owner
/// team's leads; a sent request can only be amended (sent again). Answers the request's id.
pub async fn file_request(
    repo: &Repo,
    viewer: &Viewer,
    policy: &WizardPolicy,
    id: Option<i64>,
    form: &RequestForm,
    send: bool,
) -> Result<i64, Refusal> {
    if viewer.read_only {
        return Err(AppError::ForbiddenBecause("a read-only API key cannot file requests".to_owned()).into());
    }
    let existing = match id {
        Some(id) => Some(load(repo, viewer, id).await?),
        None => None,
    };
    let action = match (&existing, send) {
        (None, false) => RequestAction::SaveDraft,
        (None, true) => RequestAction::Submit,
        (Some(request), true) if request.state == RequestState::Draft => RequestAction::Submit,
        (Some(request), _) => request.state.edit_action(),
    };
    let next = match &existing {
        Some(request) => may_act(viewer, &facts(request), action).map_err(refused)?,
        None if send => RequestState::Submitted,
        None => RequestState::Draft,
    };
    let body = check_form(repo, viewer, policy, id, form, next != RequestState::Draft).await?;
    let notify = match next {
        RequestState::Submitted => leads_to_tell(repo, viewer, &body).await?,
        _ => Vec::new(),
    };
    let at = Utc::now();
    let id = match existing {
        None => repo.create_request(&person(viewer), next, &body, &notify, at).await?,
        Some(request) => {
            let step = RequestStep {
                request_id: request.id,
                expected_version: request.version,
                action,
                next_state: next,
                by: person(viewer),
                body: Some(body),
                note: None,
                notify,
                account_gitlab_id: None,
            };
            repo.record_step(&step, at).await?;
            request.id
        }
    };
    tracing::info!(request.id = id, request.action = action.as_str(), user.username = %viewer.username, "request filed");
    Ok(id)
}

/// The owner team's leads (but the requester), each with the notice that a request waits for them.
async fn leads_to_tell(repo: &Repo, viewer: &Viewer, body: &ValidRequest) -> Result<Vec<(i64, String)>, AppError> {
    let Some(team) = &body.owner_team else {
        return Ok(Vec::new());
    };
    let text = format!(
        "{} asks for the service account {} for {}: endorse it, or not.",
        viewer.username, body.account_name, team.name
    );
    Ok(repo
        .team_lead_ids(team.id)
        .await?
        .into_iter()
        .filter(|id| *id != viewer.id)
        .map(|id| (id, text.clone()))
        .collect())
}

/// Request `id`, when `viewer` may see it: one they may not is as if it did not exist (a 404,
/// never a 403 that would tell it does).
pub(super) async fn load(repo: &Repo, viewer: &Viewer, id: i64) -> Result<StoredRequest, AppError> {
    repo.request(id)
        .await?
        .filter(|request| may_see(viewer, &facts(request)))
        .ok_or_else(|| AppError::NotFound(format!("request {id}")))
}

/// Takes `action` (withdraw, endorse, approve, reject, mark created) on request `id`, as it was at
/// `version` (what the person saw: if someone acted since, nothing is done and they are told).
/// A rejection needs a reason, shown to the requester. Answers the new state.
pub async fn take_step(
    repo: &Repo,
    viewer: &Viewer,
    id: i64,
    version: i64,
    action: RequestAction,
    reason: &str,
) -> Result<RequestState, Refusal> {
    if matches!(
        action,
        RequestAction::SaveDraft | RequestAction::Submit | RequestAction::Amend
    ) {
        return Err(AppError::invalid("action", "a request is changed through its form").into());
    }
    if action == RequestAction::MakeToken {
        return Err(AppError::invalid(
            "action",
            "the first token is made through its own button, by the requester",
        )
        .into());
    }
    let request = load(repo, viewer, id).await?;
    let next = may_act(viewer, &facts(&request), action).map_err(refused)?;
    let note = checked_reason(action, reason).map_err(|message| {
        Refusal::Fields(vec![FieldError {
            field: "reason".to_owned(),
            message,
        }])
    })?;
    let notify = who_to_tell(repo, viewer, &request, action, note.as_deref()).await?;
    let step = RequestStep {
        request_id: id,
        expected_version: version,
        action,
        next_state: next,
        by: person(viewer),
        body: None,
        note,
        notify,
        account_gitlab_id: None,
    };
    repo.record_step(&step, Utc::now()).await?;
    tracing::info!(request.id = id, request.action = action.as_str(), user.username = %viewer.username, "request step");
    Ok(next)
}

/// A rejection's reason is required; any other step's is optional; never a secret.
fn checked_reason(action: RequestAction, reason: &str) -> Result<Option<String>, String> {
    let reason = reason.trim();
    if reason.chars().count() > TEXT_MAX_CHARS {
        return Err(format!("at most {TEXT_MAX_CHARS} characters"));
    }
    if looks_like_a_secret(reason) {
        return Err("this looks like a token's secret: never paste secrets here".to_owned());
    }
    if reason.is_empty() {
        return if action == RequestAction::Reject {
            Err("say why it is rejected: the requester reads it".to_owned())
        } else {
            Ok(None)
        };
    }
    Ok(Some(reason.to_owned()))
}

/// Who hears of a step: an endorsement goes to security (but the endorser); a decision, a
/// creation or a withdrawal to the requester (or, withdrawn, to the leads who were asked).
async fn who_to_tell(
    repo: &Repo,
    viewer: &Viewer,
    request: &StoredRequest,
    action: RequestAction,
    reason: Option<&str>,
) -> Result<Vec<(i64, String)>, AppError> {
    let name = &request.body.account_name;
    let to_requester = |text: String| Ok(vec![(request.requester.id, text)]);
    match action {
        RequestAction::Endorse => {
            let text = format!(
                "{} endorsed the request for {name}: approve or reject it.",
                viewer.username
            );
            Ok(repo
                .security_ids()
                .await?
                .into_iter()
                .filter(|id| *id != viewer.id && *id != request.requester.id)
                .map(|id| (id, text.clone()))
                .collect())
        }
        RequestAction::Approve => to_requester(format!("{} approved your request for {name}.", viewer.username)),
        RequestAction::Reject => to_requester(format!(
            "{} rejected your request for {name}: {}",
            viewer.username,
            reason.unwrap_or_default()
        )),
        RequestAction::Fulfil => to_requester(format!("The service account {name} exists: your request is done.")),
        RequestAction::Withdraw if request.state != RequestState::Draft => {
            leads_to_tell(repo, viewer, &request.body).await.map(|leads| {
                leads
                    .into_iter()
                    .map(|(id, _)| (id, format!("{} withdrew the request for {name}.", viewer.username)))
                    .collect()
            })
        }
        _ => Ok(Vec::new()),
    }
}
