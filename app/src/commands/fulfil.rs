//! Making an approved service account in GitLab through its API (a write credential configured):
//! security makes the account and its memberships, and the account is owned by the request's
//! team; then its requester makes the first token and alone sees its secret, once.
//!
//! Exactly once, whatever fails: the request is held while it talks to GitLab (a second click is
//! told, not run), and a fulfilment key is recorded before the first call. A call whose answer is
//! lost (a timeout, a 5xx) may have been carried out, so the account is looked up by username
//! before it is asked for again, a membership already there counts as added, and a token whose
//! secret was lost with its answer is rotated rather than made twice.

use chrono::{Duration, Utc};

use super::{
    Refusal,
    requests::{facts, load, person, refused},
};
use crate::{
    db::{Repo, RequestStep, StoredRequest},
    domain::{
        Viewer,
        requests::{RequestAction, may_act},
    },
    error::AppError,
    state::{CreatedToken, GitLabWrites, NewToken, TokenSecret, WriteError},
};

/// How long a fulfilment holds its request: longer than its calls to GitLab take (a few reads
/// with their retries, and at most three tries of each write).
const HOLD: Duration = Duration::minutes(5);
/// Tries of one write whose answer was lost, each after looking up whether it was made.
const TRIES: u32 = 3;

/// The first token, for its requester to copy now: its secret is shown this once.
#[derive(Debug, Clone)]
pub struct FirstToken {
    pub request_id: i64,
    pub account_name: String,
    pub token_name: String,
    pub secret: TokenSecret,
    pub expires_on: Option<chrono::NaiveDate>,
    pub scopes: Vec<String>,
    /// Where the request said the secret will be kept.
    pub secret_location: String,
}

/// The top-level group every membership of the request is in: a group's service account reaches
/// only its own top-level group.
fn top_level_group(request: &StoredRequest) -> Result<String, AppError> {
    let tops: std::collections::BTreeSet<&str> = request
        .body
        .memberships
        .iter()
        .filter_map(|ask| ask.path.split('/').next())
        .collect();
    match tops.into_iter().collect::<Vec<_>>()[..] {
        [top] => Ok(top.to_owned()),
        [] => Err(AppError::Conflict(
            "the request names no group or project: its account would reach nothing".to_owned(),
        )),
        _ => Err(AppError::Conflict(
            "the memberships are in several top-level groups, and a group's service account reaches only its own: \
             make it by hand, or amend the request"
                .to_owned(),
        )),
    }
}

fn gitlab_failed(what: &str, error: &WriteError) -> AppError {
    AppError::GitLab(format!(
        "{what}: {error}. Nothing is lost: try again, it goes on from where it stopped."
    ))
}

/// Security makes approved request `id`'s account in GitLab (as the request was at `version`):
/// the service account in the top-level group, its memberships with the approved roles, and the
/// request's team as its owner. The request is then fulfilled and its requester told to make the
/// first token. Answers the account's GitLab user id.
pub async fn fulfil_in_gitlab(
    repo: &Repo,
    gitlab: &dyn GitLabWrites,
    viewer: &Viewer,
    id: i64,
    version: i64,
) -> Result<i64, Refusal> {
    let request = load(repo, viewer, id).await?;
    let next = may_act(viewer, &facts(&request), RequestAction::Fulfil).map_err(refused)?;
    if request.version != version {
        return Err(AppError::Conflict(
            "someone else changed this request a moment ago: look at it again before you act".to_owned(),
        )
        .into());
    }
    let top = top_level_group(&request)?;
    let now = Utc::now();
    let key = new_key();
    let held = repo.hold_fulfilment(id, &key, now, now + HOLD).await?;
    // A key recorded by an earlier try: its calls may have been carried out.
    let retry = held.key.as_deref() != Some(key.as_str());
    let made = make_account(repo, gitlab, &request, &top, retry).await;
    let account = match made {
        Ok(account) => account,
        Err(error) => {
            repo.release_fulfilment(id, &error.to_string()).await?;
            tracing::warn!(request.id = id, error.message = %error, "fulfilment stopped; it can be tried again");
            return Err(error.into());
        }
    };
    let name = &request.body.account_name;
    let step = RequestStep {
        request_id: id,
        expected_version: version,
        action: RequestAction::Fulfil,
        next_state: next,
        by: person(viewer),
        body: None,
        note: Some(format!(
            "made in GitLab through the API: {name} (user {account}) with {} membership(s)",
            request.body.memberships.len()
        )),
        notify: vec![(
            request.requester.id,
            format!(
                "The service account {name} exists: make its first token on the request's page (its secret is shown to you once)."
            ),
        )],
        account_gitlab_id: Some(account),
    };
    repo.record_step(&step, Utc::now()).await?;
    tracing::info!(request.id = id, account.gitlab_id = account, user.username = %viewer.username, "service account made in GitLab");
    Ok(account)
}

fn new_key() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// The account (made, or found from an earlier try), then each membership.
async fn make_account(
    repo: &Repo,
    gitlab: &dyn GitLabWrites,
    request: &StoredRequest,
    top: &str,
    retry: bool,
) -> Result<i64, AppError> {
    let group = gitlab
        .group_id(top)
        .await
        .map_err(|error| gitlab_failed(&format!("the group {top}"), &error))?;
    let account = match request.account_gitlab_id {
        Some(account) => account,
        None => {
            let account = service_account(gitlab, group, &request.body.account_name, retry)
                .await
                .map_err(|error| gitlab_failed("making the service account", &error))?;
            repo.record_fulfilment_account(request.id, account).await?;
            account
        }
    };
    for ask in &request.body.memberships {
        with_tries(|| gitlab.add_member(ask.kind, &ask.path, account, ask.role))
            .await
            .map_err(|error| gitlab_failed(&format!("adding it to {} {}", ask.kind.as_str(), ask.path), &error))?;
    }
    Ok(account)
}

/// A write that is safe to repeat (a membership already there counts as added), tried again
/// while its answer is lost.
async fn with_tries<F, Fut>(mut write: F) -> Result<(), WriteError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), WriteError>>,
{
    let mut last = None;
    for attempt in 0..TRIES {
        pause(attempt).await;
        match write().await {
            Ok(()) => return Ok(()),
            Err(WriteError::Unknown(why)) => last = Some(WriteError::Unknown(why)),
            Err(refused) => return Err(refused),
        }
    }
    Err(last.unwrap_or_else(|| WriteError::Unknown("no answer".to_owned())))
}

async fn pause(attempt: u32) {
    if attempt > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
    }
}

/// The service account named `username` in `group`: found (an earlier try made it, and its
/// answer was lost), else made; after a lost answer it is looked up before it is asked again.
async fn service_account(
    gitlab: &dyn GitLabWrites,
    group: i64,
    username: &str,
    retry: bool,
) -> Result<i64, WriteError> {
    if retry && let Some(found) = gitlab.find_user(username).await? {
        return Ok(found);
    }
    let mut last = WriteError::Unknown("no answer".to_owned());
    for attempt in 0..TRIES {
        pause(attempt).await;
        match gitlab.create_service_account(group, username, username).await {
            Ok(account) => return Ok(account),
            Err(WriteError::Unknown(why)) => last = WriteError::Unknown(why),
            // Taken by this fulfilment's own lost answer, or (on a first try) by someone else.
            Err(refused @ WriteError::Refused { .. }) if attempt == 0 => return Err(refused),
            Err(refused) => last = refused,
        }
        if let Some(found) = gitlab.find_user(username).await? {
            return Ok(found);
        }
    }
    Err(last)
}

/// The requester makes fulfilled request `id`'s first token, with the approved scopes and
/// lifetime: its secret is answered this once (never stored, never logged). A token of that
/// name already there (an earlier try whose answer was lost) is rotated, so one token stands.
pub async fn make_first_token(
    repo: &Repo,
    gitlab: &dyn GitLabWrites,
    viewer: &Viewer,
    id: i64,
    default_lifetime_days: u32,
) -> Result<FirstToken, Refusal> {
    let request = load(repo, viewer, id).await?;
    let next = may_act(viewer, &facts(&request), RequestAction::MakeToken).map_err(refused)?;
    let top = top_level_group(&request)?;
    let now = Utc::now();
    let account = repo.hold_first_token(id, now, now + HOLD).await?;
    let body = &request.body;
    let days = body.lifetime_days.unwrap_or(default_lifetime_days);
    let wanted = NewToken {
        name: body.account_name.clone(),
        description: body.purpose.clone(),
        scopes: body.scopes.clone(),
        expires_on: now.date_naive() + chrono::Days::new(u64::from(days)),
    };
    let made = async {
        let group = gitlab.group_id(&top).await?;
        first_token(gitlab, group, account, &wanted).await
    }
    .await;
    let token = match made {
        Ok(token) => token,
        Err(error) => {
            repo.release_first_token(id).await?;
            tracing::warn!(request.id = id, error.message = %error, "first token not made; it can be tried again");
            return Err(gitlab_failed("making the first token", &error).into());
        }
    };
    let step = RequestStep {
        request_id: id,
        expected_version: request.version,
        action: RequestAction::MakeToken,
        next_state: next,
        by: person(viewer),
        body: None,
        note: Some(format!("token {} expires on {}", wanted.name, wanted.expires_on)),
        notify: Vec::new(),
        account_gitlab_id: None,
    };
    repo.record_first_token(&step, token.id, Utc::now()).await?;
    tracing::info!(request.id = id, token.gitlab_id = token.id, user.username = %viewer.username, "first token made");
    Ok(FirstToken {
        request_id: id,
        account_name: body.account_name.clone(),
        token_name: wanted.name,
        secret: token.secret,
        expires_on: token.expires_on.or(Some(wanted.expires_on)),
        scopes: body.scopes.iter().map(|scope| scope.as_str().to_owned()).collect(),
        secret_location: body.secret_location.clone(),
    })
}

/// The token named `wanted.name`: rotated when one stands already (its secret was lost with an
/// earlier answer), else made; after a lost answer, looked for before it is asked again.
async fn first_token(
    gitlab: &dyn GitLabWrites,
    group: i64,
    account: i64,
    wanted: &NewToken,
) -> Result<CreatedToken, WriteError> {
    let mut last = WriteError::Unknown("no answer".to_owned());
    for attempt in 0..TRIES {
        pause(attempt).await;
        let standing = gitlab
            .active_tokens(group, account)
            .await?
            .into_iter()
            .find(|(_, name)| *name == wanted.name);
        let answer = match standing {
            Some((token, _)) => gitlab.rotate_token(group, account, token, wanted.expires_on).await,
            None => gitlab.create_token(group, account, wanted).await,
        };
        match answer {
            Ok(token) => return Ok(token),
            Err(WriteError::Unknown(why)) => last = WriteError::Unknown(why),
            Err(refused) => return Err(refused),
        }
    }
    Err(last)
}
