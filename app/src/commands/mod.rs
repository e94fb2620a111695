//! Every change a person makes, as one command each (a token's ownership, a service account's
//! owner, API keys, decisions on the review's findings): who may (permission), what may be written
//! (validation), and the write (the repository records it in the audit log, in the same
//! transaction). The routes and server functions that call them are thin adapters: they read the
//! request, call the command, and answer.

use chrono::Utc;

pub mod fulfil;
pub mod recertification;
pub mod requests;

use crate::{
    auth,
    db::{ApiKeyScope, NewApiKey, Repo},
    domain::{
        FieldError, OwnershipEdit, TeamRef, Viewer,
        review::{DecisionForm, FindingQuery, ReviewPolicy, may_decide},
    },
    error::AppError,
    server::{
        account::{API_KEY_MAX_DAYS, CreatedApiKey, KEYS_CANNOT_CREATE_KEYS, api_key_view, new_api_key_secret},
        inventory::may_edit_ownership,
        review::queue,
        teams::may_set_account_owner,
    },
};

/// Why a change with several fields was not made: the request itself (not found, not allowed,
/// failed), or what was written in the fields, each with its message.
#[derive(Debug)]
pub enum Refusal {
    Request(AppError),
    Fields(Vec<FieldError>),
}

impl<E: Into<AppError>> From<E> for Refusal {
    fn from(error: E) -> Self {
        Refusal::Request(error.into())
    }
}

/// Sets what is said about token `id`: owner team, purpose, automation, where the secret is kept,
/// notes. Security, or a lead of the team that owns the token. Its review findings follow at once.
pub async fn save_ownership(
    repo: &Repo,
    viewer: &Viewer,
    policy: &ReviewPolicy,
    id: i64,
    edit: &OwnershipEdit,
) -> Result<(), Refusal> {
    let today = Utc::now().date_naive();
    let detail = repo
        .get_token(id, today)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
    if !may_edit_ownership(viewer, &detail) {
        return Err(AppError::ForbiddenBecause(
            "only security and the lead of the team that owns this token can change what is said about it".to_owned(),
        )
        .into());
    }
    let teams: Vec<TeamRef> = repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    let valid = edit.validate(&teams).map_err(Refusal::Fields)?;
    repo.set_ownership(id, &valid, &viewer.username, Utc::now()).await?;
    tracing::info!(token.id = id, user.username = %viewer.username, "ownership changed");
    // The edit is saved; findings that cannot be worked out now are at the next sync.
    if let Err(error) = repo.refresh_token_findings(id, policy, today, Utc::now()).await {
        tracing::warn!(token.id = id, error.message = %error, "the token's review findings were not refreshed");
    }
    Ok(())
}

/// Sets (a team's id) or clears (blank: inferred again) the owner team of service account `id`;
/// answers the account's username. Security, or a lead of the team that owns it. The review's
/// findings (the account's, and its tokens' owner team) are worked out again behind the answer.
pub async fn set_account_owner(
    repo: &Repo,
    viewer: &Viewer,
    policy: &ReviewPolicy,
    id: i64,
    owner_team: &str,
) -> Result<String, AppError> {
    let account = repo
        .service_account(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service account {id}")))?;
    if !may_set_account_owner(viewer, &account) {
        return Err(AppError::ForbiddenBecause(
            "only security and the lead of the team that owns this service account can change its owner".to_owned(),
        ));
    }
    let chosen = owner_team.trim();
    let team_id = if chosen.is_empty() {
        None
    } else {
        let teams = repo.list_teams().await?;
        let team = chosen
            .parse::<i64>()
            .ok()
            .filter(|id| teams.iter().any(|team| team.id == *id));
        Some(team.ok_or_else(|| AppError::invalid("owner_team", "choose one of the teams listed, or \"Not set\""))?)
    };
    repo.set_account_owner(id, team_id, &viewer.username, Utc::now())
        .await?;
    tracing::info!(account.id = id, user.username = %viewer.username, "service account owner changed");
    let (repo, policy) = (repo.clone(), policy.clone());
    tokio::spawn(async move {
        let now = Utc::now();
        if let Err(error) = repo.refresh_findings(&policy, now.date_naive(), now).await {
            tracing::warn!(error.message = %error, "the review findings were not refreshed");
        }
    });
    Ok(account.username)
}

/// Creates an API key for `viewer`; its secret is in the answer, and nowhere else. `expires_in_days`
/// is 1 to 365. Refused (403) to a request made with an API key, whatever its scope: keys are made
/// by a signed-in person.
pub async fn create_api_key(
    repo: &Repo,
    viewer: &Viewer,
    name: &str,
    read_write: bool,
    expires_in_days: &str,
) -> Result<CreatedApiKey, AppError> {
    if viewer.via_api_key() {
        return Err(AppError::ForbiddenBecause(KEYS_CANNOT_CREATE_KEYS.to_owned()));
    }
    auth::require_write(viewer)?;
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(AppError::invalid("name", "give the key a name that says what uses it"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid("name", "a name is at most 100 characters"));
    }
    let days: i64 = expires_in_days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=API_KEY_MAX_DAYS).contains(d))
        .ok_or_else(|| AppError::invalid("expires_in_days", format!("choose 1 to {API_KEY_MAX_DAYS} days")))?;
    let now = Utc::now();
    let (prefix, secret) = new_api_key_secret();
    let key = NewApiKey {
        user_id: viewer.id,
        name,
        prefix: prefix.clone(),
        secret_hash: auth::secret_hash(&secret),
        scope: if read_write {
            ApiKeyScope::ReadWrite
        } else {
            ApiKeyScope::Read
        },
        expires_on: now.date_naive() + chrono::Duration::days(days),
    };
    let created = repo.create_api_key(&key, now).await?;
    tracing::info!(user.id = viewer.id, api_key.prefix = %prefix, "API key created");
    Ok(CreatedApiKey {
        key: api_key_view(created, now.date_naive()),
        secret: format!("{}{prefix}_{secret}", auth::API_KEY_PREFIX),
    })
}

/// Revokes one of `viewer`'s own keys. A request made with an API key may revoke that key only,
/// even a read-only one (ending a leaked key is always allowed to whoever holds it); the owner's
/// other keys need them signed in.
pub async fn revoke_api_key(repo: &Repo, viewer: &Viewer, id: i64) -> Result<(), AppError> {
    if viewer.api_key_id.is_some_and(|own| own != id) {
        return Err(AppError::ForbiddenBecause(
            "an API key can revoke only itself; sign in to revoke your other keys".to_owned(),
        ));
    }
    if repo.revoke_api_key(viewer.id, id, Utc::now()).await? {
        tracing::info!(user.id = viewer.id, api_key.id = id, "API key revoked");
        Ok(())
    } else {
        Err(AppError::NotFound(format!("an active API key {id} of yours")))
    }
}

/// The most findings one decision may cover.
pub const MAX_FINDINGS_PER_DECISION: usize = 1_000;

/// What a decision covers: the findings picked, or every one a view of the queue lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionTargets {
    Picked(Vec<i64>),
    Matching(FindingQuery),
}

/// Records a decision on findings (each a standing one the caller may decide on: security, or
/// a lead of the finding's team, who accepts a risk only where the setting allows); answers how
/// many. All or nothing: one refusal records none.
pub async fn decide(
    repo: &Repo,
    viewer: &Viewer,
    policy: &ReviewPolicy,
    targets: DecisionTargets,
    form: &DecisionForm,
) -> Result<usize, Refusal> {
    let today = Utc::now().date_naive();
    let decision = form
        .validate(today, policy.max_lifetime_days())
        .map_err(Refusal::Fields)?;
    let ids = match targets {
        DecisionTargets::Picked(ids) => ids,
        DecisionTargets::Matching(query) => {
            // One more than allowed: enough to tell that there are too many.
            let first = FindingQuery { page: 1, ..query };
            let limit = u32::try_from(MAX_FINDINGS_PER_DECISION + 1).unwrap_or(u32::MAX);
            let page = queue(repo, viewer, &first, limit, today).await?;
            page.findings.iter().map(|finding| finding.id).collect()
        }
    };
    if ids.is_empty() {
        return Err(AppError::invalid("finding", "choose at least one finding").into());
    }
    if ids.len() > MAX_FINDINGS_PER_DECISION {
        return Err(AppError::invalid(
            "finding",
            format!("at most {MAX_FINDINGS_PER_DECISION} findings at once: narrow the filters"),
        )
        .into());
    }
    let teams = repo.finding_teams(&ids).await?;
    for id in &ids {
        let team = teams
            .get(id)
            .ok_or_else(|| AppError::NotFound(format!("finding {id} (resolved, or never found)")))?;
        may_decide(viewer, *team, decision.kind, policy.leads_may_accept_risk)
            .map_err(|why| AppError::ForbiddenBecause(why.to_owned()))?;
    }
    repo.decide(&ids, &decision, &viewer.username, Utc::now()).await?;
    tracing::info!(findings = ids.len(), decision = decision.kind.as_str(), user.username = %viewer.username, "findings decided");
    Ok(ids.len())
}

/// Makes and sends the digests of what is new now (security's "Send today's digest now"): how
/// many digests were made. Security only, and not with a read-only key; a conflict when alerts
/// are off. The run is recorded in the alerts' ledger (`alert_runs`, trigger `manual`) and in the
/// audit log (`alerts.send_now`), in one transaction.
pub async fn send_digest_now(
    alerts: Option<&std::sync::Arc<dyn crate::state::AlertControl>>,
    viewer: &Viewer,
) -> Result<usize, AppError> {
    if !auth::allows(viewer, crate::domain::Role::Security) {
        return Err(AppError::ForbiddenBecause(
            "only security can send the digests".to_owned(),
        ));
    }
    auth::require_write(viewer)?;
    let Some(alerts) = alerts else {
        return Err(AppError::Conflict(
            "alerts are off: no team has a webhook_url or emails in the teams file".to_owned(),
        ));
    };
    tracing::info!(user.id = viewer.id, "digests requested");
    alerts.send_now(&viewer.username).await.map_err(|_| AppError::Internal)
}
