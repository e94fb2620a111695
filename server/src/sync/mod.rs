//! Sync: reads every token and service account from GitLab and writes them to the database.
//!
//! Two strategies, picked by what the credential may do (`GET /user`'s `is_admin`):
//! - **administrator**: discovers every group (offset pages fetched side by side), project and
//!   non-human user (keyset) instance-wide. Bot usernames (`project_<id>_bot_…`,
//!   `group_<id>_bot_…`) say which projects and groups have access tokens, so only those are
//!   asked for them (with their access levels, which `/personal_access_tokens` lacks); service
//!   accounts' tokens come from `/personal_access_tokens?user_id=`, and what they can reach from
//!   `/users/:id/memberships`. Deploy tokens are asked of every project and group: GitLab's
//!   instance-wide `/deploy_tokens` does not say where a token lives.
//! - **group owner**: walks each root group (configured, or every top-level group the
//!   credential owns): its descendant groups and projects, then each one's access tokens and
//!   deploy tokens, and the root's service accounts and their tokens. GitLab lists a user's
//!   memberships to administrators only, so this way leaves the stored memberships as they are.
//!
//! Writes go through one writer task in batches (one transaction each); an account's
//! memberships, once its listing was read to the end, replace the stored ones in a transaction of
//! their own. Tokens not seen are marked gone at the end, and only where every listing that could
//! have shown them succeeded.
//!
//! Either way, each person holding a usable API key of the product's own is looked up
//! (`GET /users/:id`) and their account's state stored: a key stops working once its owner is
//! blocked, deactivated, banned or deleted in GitLab. An answer that does not come changes
//! nothing.

pub mod cli;
pub mod client;
pub mod schedule;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, bail};
use app::{
    db::{GoneRule, Repo, SyncBatch},
    domain::{
        AccessLevel, AccountKind, AccountMembership, AccountRecord, ContainerKind, GroupRecord, ProjectRecord,
        SyncError, SyncProgress, SyncStatus, SyncTrigger, TokenKind, TokenRecord, UnknownScope,
    },
};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use secrecy::SecretString;
use tokio::sync::{mpsc, watch};

use self::client::{
    ApiAccessToken, ApiDeployToken, ApiGroup, ApiMembership, ApiProject, ApiUser, ApiUserSelf, ClientError,
    ClientOptions, GitLabClient,
};

/// Which way to read GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyChoice {
    /// Administrator when the credential is one, group owner otherwise.
    Auto,
    Administrator,
    GroupOwner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Administrator,
    GroupOwner,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Administrator => "administrator",
            Strategy::GroupOwner => "group_owner",
        }
    }
}

/// What a sync needs. The token is a secret: never logged, never stored.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub gitlab_url: String,
    pub token: SecretString,
    /// Full paths of the groups to read; empty: the whole instance (administrator) or every
    /// top-level group the credential owns.
    pub root_groups: Vec<String>,
    pub strategy: StrategyChoice,
    pub client: ClientOptions,
    /// How long a run holds the lease without renewing it; a run whose process died is taken
    /// over after this.
    pub lease_ttl: Duration,
    /// Tokens per database transaction.
    pub batch_size: usize,
}

impl SyncSettings {
    pub fn new(gitlab_url: impl Into<String>, token: SecretString) -> Self {
        SyncSettings {
            gitlab_url: gitlab_url.into(),
            token,
            root_groups: Vec::new(),
            strategy: StrategyChoice::Auto,
            client: ClientOptions::default(),
            lease_ttl: Duration::from_secs(120),
            batch_size: 2_000,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub run_id: i64,
    pub status: SyncStatus,
    pub strategy: Option<Strategy>,
    pub requests: u64,
    pub progress: SyncProgress,
    pub errors: Vec<SyncError>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncStartError {
    #[error("another sync is running")]
    AlreadyRunning,
    #[error(transparent)]
    Database(#[from] db::DbError),
}

/// The figures of the run under way, shared by the collectors, the writer and whoever watches.
struct Tally {
    progress: Mutex<SyncProgress>,
    errors: Mutex<Vec<SyncError>>,
    unknown: Mutex<Vec<UnknownScope>>,
    /// (kind, container) listings that completed.
    listed: Mutex<HashSet<(TokenKind, ContainerKind, Option<i64>)>>,
    discovery_complete: Mutex<bool>,
    watcher: Option<watch::Sender<SyncProgress>>,
}

impl Tally {
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn phase(&self, name: &str, done: u64, total: Option<u64>) {
        let mut progress = Self::lock(&self.progress);
        let phase = progress.phases.entry(name.to_owned()).or_default();
        phase.done += done;
        if total.is_some() {
            phase.total = total;
        }
        if let Some(watcher) = &self.watcher {
            watcher.send_replace(progress.clone());
        }
    }

    fn error(&self, scope: impl Into<String>, error: &ClientError, unknown: UnknownScope) {
        self.failed(scope, error);
        Self::lock(&self.unknown).push(unknown);
    }

    /// A listing or write that failed and hides no token (a service account's memberships):
    /// the run is partial, but nothing is kept from being marked gone.
    fn failed(&self, scope: impl Into<String>, error: &dyn std::fmt::Display) {
        let scope = scope.into();
        tracing::warn!(sync.scope = %scope, error.message = %error, "sync could not read or store a listing");
        Self::lock(&self.errors).push(SyncError {
            scope,
            message: error.to_string(),
        });
    }

    fn listed(&self, kind: TokenKind, container: ContainerKind, id: Option<i64>) {
        Self::lock(&self.listed).insert((kind, container, id));
    }

    fn snapshot(&self) -> (SyncProgress, Vec<SyncError>) {
        (Self::lock(&self.progress).clone(), Self::lock(&self.errors).clone())
    }
}

/// Runs one sync to the end: takes the lease (or says another run has it), records the run,
/// reads GitLab, writes, marks gone, and finishes the run row.
pub async fn run(
    repo: Repo,
    settings: &SyncSettings,
    trigger: SyncTrigger,
    watcher: Option<watch::Sender<SyncProgress>>,
) -> Result<SyncOutcome, SyncStartError> {
    let holder = format!("{}-{}", std::process::id(), rand::random::<u64>());
    let ttl = chrono::Duration::from_std(settings.lease_ttl).unwrap_or(chrono::Duration::minutes(2));
    if !repo.acquire_sync_lease(&holder, Utc::now() + ttl).await? {
        return Err(SyncStartError::AlreadyRunning);
    }
    repo.abandon_stale_sync_runs(Utc::now() - ttl).await?;
    let started = std::time::Instant::now();
    let seen_at = Utc::now();
    let run_id = match repo.start_sync_run(trigger, seen_at).await {
        Ok(id) => id,
        Err(error) => {
            release_lease(&repo, &holder).await;
            return Err(error.into());
        }
    };
    tracing::info!(sync.run = run_id, sync.trigger = trigger.as_str(), "sync started");
    let tally = Arc::new(Tally {
        progress: Mutex::new(SyncProgress::default()),
        errors: Mutex::new(Vec::new()),
        unknown: Mutex::new(Vec::new()),
        listed: Mutex::new(HashSet::new()),
        discovery_complete: Mutex::new(true),
        watcher,
    });

    // Heartbeat: renews the lease and saves the figures while the run goes on. When the lease is
    // lost (another replica holds it, or it could not be renewed before it ran out), the run
    // stops: no further request to GitLab, and it ends failed with nothing marked gone.
    let client = GitLabClient::new(&settings.gitlab_url, settings.token.clone(), settings.client.clone());
    let (stop_heartbeat, mut stopped) = watch::channel(false);
    let heartbeat = {
        let repo = repo.clone();
        let tally = tally.clone();
        let holder = holder.clone();
        let client = client.as_ref().ok().cloned();
        // Often enough for the Sync page's live figures, well within the lease.
        let lease_ttl = settings.lease_ttl;
        let every = (settings.lease_ttl / 4).clamp(Duration::from_millis(200), Duration::from_secs(2));
        tokio::spawn(async move {
            let mut renewed = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => return,
                }
                let lost = match repo.acquire_sync_lease(&holder, Utc::now() + ttl).await {
                    Ok(true) => {
                        renewed = tokio::time::Instant::now();
                        None
                    }
                    Ok(false) => Some("another replica holds the sync lease".to_owned()),
                    Err(error) => {
                        tracing::warn!(sync.run = run_id, error.message = %error, "sync could not renew its lease");
                        (renewed.elapsed() >= lease_ttl)
                            .then(|| format!("the sync lease could not be renewed before it ran out: {error}"))
                    }
                };
                if let Some(reason) = lost {
                    if let Some(client) = &client {
                        client.stop(reason);
                    }
                    return;
                }
                let (progress, errors) = tally.snapshot();
                let requests = client.as_ref().map(|c| c.requests()).unwrap_or(0);
                if let Err(error) = repo.update_sync_run(run_id, None, requests, &progress, &errors).await {
                    tracing::warn!(sync.run = run_id, error.message = %error, "sync could not save its figures");
                }
            }
        })
    };

    let mut requests = 0;
    let result = match client {
        Ok(client) => {
            let result =
                collect_and_write(repo.clone(), client.clone(), settings, run_id, seen_at, tally.clone()).await;
            requests = client.requests();
            // A stopped run fails with the reason it stopped, whatever its listings said.
            match client.stopped() {
                Some(reason) => Err(anyhow::anyhow!("the run stopped: {reason}")),
                None => result,
            }
        }
        Err(error) => Err(error),
    };
    // The heartbeat ends when told to, or has already ended by itself (it lost the lease).
    if stop_heartbeat.send(true).is_err() {
        tracing::debug!(sync.run = run_id, "the sync heartbeat had already stopped");
    }
    if let Err(error) = heartbeat.await {
        tracing::error!(sync.run = run_id, error.message = %error, "the sync heartbeat panicked");
    }

    let (strategy, status) = match result {
        Ok(strategy) => {
            let errors = Tally::lock(&tally.errors).len();
            let status = if errors == 0 {
                SyncStatus::Succeeded
            } else {
                SyncStatus::Partial
            };
            (Some(strategy), status)
        }
        Err(error) => {
            Tally::lock(&tally.errors).push(SyncError {
                scope: "sync".to_owned(),
                message: format!("{error:#}"),
            });
            tracing::error!(sync.run = run_id, error.message = %format!("{error:#}"), "sync failed");
            (None, SyncStatus::Failed)
        }
    };
    let (progress, errors) = tally.snapshot();
    let finished = repo
        .update_sync_run(run_id, strategy.map(Strategy::as_str), requests, &progress, &errors)
        .await
        .and(
            repo.finish_sync_run(run_id, status, requests, &progress, &errors, Utc::now())
                .await,
        );
    release_lease(&repo, &holder).await;
    finished?;
    tracing::info!(
        sync.run = run_id,
        sync.status = %status,
        sync.requests = requests,
        sync.tokens_seen = progress.tokens_seen,
        sync.tokens_gone = progress.tokens_gone,
        "sync finished"
    );
    Ok(SyncOutcome {
        run_id,
        status,
        strategy,
        requests,
        progress,
        errors,
        elapsed: started.elapsed(),
    })
}

/// Hands a write to the writer; when the writer has stopped (it failed), stops the run.
async fn send(batches: &mpsc::Sender<Write>, client: &GitLabClient, write: Write) {
    if batches.send(write).await.is_err() {
        client.stop("the database writer stopped");
    }
}

/// Gives the lease back (a lease another replica took is not touched); a failure is logged, and
/// the lease then runs out by itself.
async fn release_lease(repo: &Repo, holder: &str) {
    if let Err(error) = repo.release_sync_lease(holder).await {
        tracing::warn!(error.message = %error, "sync could not release its lease; it runs out by itself");
    }
}

/// Reads GitLab with the right strategy, writes through the writer task, then marks gone.
async fn collect_and_write(
    repo: Repo,
    client: Arc<GitLabClient>,
    settings: &SyncSettings,
    run_id: i64,
    seen_at: DateTime<Utc>,
    tally: Arc<Tally>,
) -> anyhow::Result<Strategy> {
    let me: ApiUserSelf = client.get("/user").await.map(|(user, _)| user)?;
    let strategy = match settings.strategy {
        StrategyChoice::Administrator => Strategy::Administrator,
        StrategyChoice::GroupOwner => Strategy::GroupOwner,
        StrategyChoice::Auto if me.is_admin => Strategy::Administrator,
        StrategyChoice::Auto => Strategy::GroupOwner,
    };
    tracing::info!(sync.run = run_id, sync.strategy = strategy.as_str(), gitlab.user = %me.username, "sync strategy");
    if let Err(error) = repo
        .update_sync_run(
            run_id,
            Some(strategy.as_str()),
            client.requests(),
            &SyncProgress::default(),
            &[],
        )
        .await
    {
        tracing::warn!(sync.run = run_id, error.message = %error, "sync could not record its strategy");
    }

    let (batches, mut receiver) = mpsc::channel::<Write>(64);
    let writer = {
        let repo = repo.clone();
        let tally = tally.clone();
        let client = client.clone();
        let batch_size = settings.batch_size.max(1);
        let write_all = async move {
            let mut pending = SyncBatch::default();
            let flush = async |pending: &mut SyncBatch| -> Result<(), db::DbError> {
                if pending.is_empty() {
                    return Ok(());
                }
                let batch = std::mem::take(pending);
                let counts = repo.write_sync_batch(run_id, &batch, seen_at).await?;
                let mut progress = Tally::lock(&tally.progress);
                progress.tokens_seen += batch.tokens.len() as u64;
                progress.tokens_created += counts.created;
                progress.tokens_changed += counts.changed;
                Ok(())
            };
            while let Some(write) = receiver.recv().await {
                let batch = match write {
                    Write::Batch(batch) => batch,
                    Write::Memberships {
                        account_gitlab_id,
                        memberships,
                    } => {
                        // One account's memberships that cannot be stored keep the old ones and
                        // do not stop the writer.
                        if let Err(error) = repo
                            .replace_account_memberships(account_gitlab_id, &memberships, seen_at)
                            .await
                        {
                            tally.failed(format!("user {account_gitlab_id} memberships"), &error);
                        }
                        continue;
                    }
                };
                pending.tokens.extend(batch.tokens);
                pending.accounts.extend(batch.accounts);
                pending.groups.extend(batch.groups);
                pending.projects.extend(batch.projects);
                if pending.tokens.len() + pending.accounts.len() + pending.projects.len() >= batch_size {
                    flush(&mut pending).await?;
                }
            }
            flush(&mut pending).await
        };
        // A writer that fails stops the run at once: the listings would only read GitLab for
        // nothing.
        tokio::spawn(async move {
            let written = write_all.await;
            if let Err(error) = &written {
                client.stop(format!("writing to the database failed: {error}"));
            }
            written
        })
    };

    let owners = repo.api_key_owners(seen_at.date_naive()).await?;
    let checked_at = Utc::now();
    let collect = async {
        match strategy {
            Strategy::Administrator => administrator(&client, settings, &tally, &batches).await,
            Strategy::GroupOwner => group_owner(&client, settings, &tally, &batches).await,
        }
    };
    let (collected, owner_states) = tokio::join!(collect, account_states(&client, &tally, owners));
    drop(batches);
    writer.await.context("the sync writer stopped")??;
    collected?;
    if let Some(reason) = client.stopped() {
        bail!("the run stopped: {reason}");
    }
    repo.record_gitlab_states(&owner_states, checked_at).await?;

    let complete = *Tally::lock(&tally.discovery_complete);
    let rule = GoneRule {
        unknown: Tally::lock(&tally.unknown).clone(),
        only_in: (!complete).then(|| Tally::lock(&tally.listed).clone()),
        path_roots: settings.root_groups.clone(),
    };
    let gone = repo.mark_tokens_gone(run_id, seen_at, &rule).await?;
    Tally::lock(&tally.progress).tokens_gone = gone;
    repo.refresh_inferred_teams().await?;
    repo.refresh_statistics().await?;
    // Every listing that could hide a token or an account reports an unknown scope; a failed
    // membership listing hides neither.
    if complete && Tally::lock(&tally.unknown).is_empty() && settings.root_groups.is_empty() {
        repo.mark_structure_gone(seen_at).await?;
    }
    Ok(strategy)
}

/// The progress phase of the API key owners' look-ups.
const OWNERS_PHASE: &str = "API key owners";

/// The state in GitLab of each person holding a usable API key (`GET /users/:id`, which an
/// administrator's and a group owner's credential both may read): GitLab's `state`, or gone on a
/// 404. A look-up that fails is in the run's errors and left out, so the stored state stays.
async fn account_states(client: &GitLabClient, tally: &Tally, owners: Vec<(i64, String)>) -> Vec<(i64, String)> {
    if owners.is_empty() {
        return Vec::new();
    }
    tally.phase(OWNERS_PHASE, 0, Some(owners.len() as u64));
    stream::iter(owners)
        .map(|(id, username)| async move {
            let state = match client.get::<ApiUser>(&format!("/users/{id}")).await {
                Ok((user, _)) if !user.state.is_empty() => Some(user.state),
                Ok(_) => {
                    tally.failed(
                        format!("{username} (account state)"),
                        &"GitLab did not say the account's state",
                    );
                    None
                }
                Err(ClientError::Refused { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => {
                    Some(db::GITLAB_STATE_GONE.to_owned())
                }
                Err(error) => {
                    tally.failed(format!("{username} (account state)"), &error);
                    None
                }
            };
            tally.phase(OWNERS_PHASE, 1, None);
            state.map(|state| (id, state))
        })
        .buffer_unordered(client.concurrency())
        .filter_map(std::future::ready)
        .collect()
        .await
}

/// What the listings hand the writer task.
#[derive(Debug)]
enum Write {
    /// Tokens, accounts, groups and projects, written in batches.
    Batch(SyncBatch),
    /// One account's memberships, read to the end: they replace the stored ones at once.
    Memberships {
        account_gitlab_id: i64,
        memberships: Vec<AccountMembership>,
    },
}

fn group_record(group: &ApiGroup) -> GroupRecord {
    GroupRecord {
        gitlab_id: group.id,
        full_path: group.full_path.clone(),
        parent_gitlab_id: group.parent_id,
        web_url: group.web_url.clone(),
    }
}

fn project_record(project: &ApiProject) -> ProjectRecord {
    ProjectRecord {
        gitlab_id: project.id,
        path_with_namespace: project.path_with_namespace.clone(),
        namespace_gitlab_id: project.namespace.as_ref().map(|n| n.id),
        web_url: project.web_url.clone(),
        archived: project.archived,
    }
}

/// Where a token lives: kind, GitLab id and full path.
#[derive(Debug, Clone)]
struct Container {
    kind: ContainerKind,
    id: Option<i64>,
    path: String,
}

impl Container {
    fn api_path(&self) -> String {
        match (self.kind, self.id) {
            (ContainerKind::Project, Some(id)) => format!("/projects/{id}"),
            (ContainerKind::Group, Some(id)) => format!("/groups/{id}"),
            _ => String::new(),
        }
    }

    fn unknown(&self, kind: TokenKind) -> UnknownScope {
        UnknownScope {
            kind: Some(kind),
            container: self.id.map(|id| (self.kind, id)),
        }
    }
}

fn access_token_record(
    token: ApiAccessToken,
    kind: TokenKind,
    container: &Container,
    usernames: &HashMap<i64, String>,
) -> TokenRecord {
    TokenRecord {
        kind,
        gitlab_id: token.id,
        name: token.name,
        description: token.description.filter(|d| !d.is_empty()),
        container_kind: container.kind,
        container_gitlab_id: container.id,
        container_path: container.path.clone(),
        account_gitlab_id: token.user_id,
        account_username: token.user_id.and_then(|id| usernames.get(&id).cloned()),
        scopes: token.scopes,
        access_level: token.access_level.and_then(|level| AccessLevel::try_from(level).ok()),
        created_at: token.created_at,
        expires_on: token.expires_at,
        last_used_at: token.last_used_at,
        revoked: token.revoked,
        active: token.active,
    }
}

fn deploy_token_record(token: ApiDeployToken, container: &Container) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::Deploy,
        gitlab_id: token.id,
        name: token.name,
        description: None,
        container_kind: container.kind,
        container_gitlab_id: container.id,
        container_path: container.path.clone(),
        account_gitlab_id: None,
        account_username: Some(token.username),
        scopes: token.scopes,
        access_level: None,
        created_at: None,
        expires_on: token.expires_at.map(|at| at.date_naive()),
        last_used_at: None,
        revoked: token.revoked,
        active: !token.revoked && !token.expired,
    }
}

/// One listing of tokens to fetch: a container's access or deploy tokens, or a service account's.
#[derive(Debug, Clone)]
enum Work {
    Access(Container),
    Deploy(Container),
    /// A service account's personal access tokens: the path to list them, and its container.
    ServiceAccount {
        path: String,
        user_id: i64,
        container: Container,
    },
    /// A service account's memberships (administrators only), with the full paths of the groups
    /// and projects sync knows.
    Memberships {
        user_id: i64,
        username: String,
        paths: Arc<SourcePaths>,
    },
}

/// Full paths by (group or project, GitLab id).
type SourcePaths = HashMap<(ContainerKind, i64), String>;

fn source_paths(groups: &[ApiGroup], projects: &[ApiProject]) -> SourcePaths {
    groups
        .iter()
        .map(|g| ((ContainerKind::Group, g.id), g.full_path.clone()))
        .chain(
            projects
                .iter()
                .map(|p| ((ContainerKind::Project, p.id), p.path_with_namespace.clone())),
        )
        .collect()
}

/// What to store of one account's listing: its groups and projects that sync knows, each once
/// (GitLab may list a source twice while a membership changes between pages; the first wins).
fn membership_records(found: &[ApiMembership], paths: &SourcePaths) -> Vec<AccountMembership> {
    let mut sources = HashSet::new();
    found
        .iter()
        .filter_map(|membership| membership_record(membership, paths))
        .filter(|membership| sources.insert((membership.source_kind, membership.source_gitlab_id)))
        .collect()
}

/// A membership as stored, or `None` for one the inventory leaves out: of a group or project
/// outside the groups sync reads (or created since they were listed), or at a level that is no
/// role (Minimal Access reaches nothing a token could use).
fn membership_record(membership: &ApiMembership, paths: &SourcePaths) -> Option<AccountMembership> {
    let kind = match membership.source_type.as_str() {
        "Namespace" => ContainerKind::Group,
        "Project" => ContainerKind::Project,
        _ => return None,
    };
    Some(AccountMembership {
        source_kind: kind,
        source_gitlab_id: membership.source_id,
        source_path: paths.get(&(kind, membership.source_id))?.clone(),
        access_level: AccessLevel::try_from(membership.access_levels).ok()?,
    })
}

impl Work {
    fn phase(&self) -> &'static str {
        match self {
            Work::Access(c) if c.kind == ContainerKind::Project => "project access tokens",
            Work::Access(_) => "group access tokens",
            Work::Deploy(_) => "deploy tokens",
            Work::ServiceAccount { .. } => "service account tokens",
            Work::Memberships { .. } => "service account memberships",
        }
    }
}

/// Fetches every listing in `work`, side by side, and sends what it finds to the writer.
async fn fetch_work(
    client: &GitLabClient,
    tally: &Tally,
    batches: &mpsc::Sender<Write>,
    work: Vec<Work>,
    usernames: &HashMap<i64, String>,
) {
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    for item in &work {
        *totals.entry(item.phase()).or_default() += 1;
    }
    for (phase, total) in totals {
        tally.phase(phase, 0, Some(total));
    }
    stream::iter(work)
        .for_each_concurrent(client.concurrency(), |item| async move {
            let phase = item.phase();
            let tokens = match &item {
                Work::Access(container) => {
                    let kind = if container.kind == ContainerKind::Project {
                        TokenKind::ProjectAccess
                    } else {
                        TokenKind::GroupAccess
                    };
                    let path = format!("{}/access_tokens", container.api_path());
                    match client.all_pages::<ApiAccessToken>(&path).await {
                        Ok(tokens) => {
                            tally.listed(kind, container.kind, container.id);
                            Some(
                                tokens
                                    .into_iter()
                                    .map(|t| access_token_record(t, kind, container, usernames))
                                    .collect::<Vec<_>>(),
                            )
                        }
                        Err(error) => {
                            tally.error(&container.path, &error, container.unknown(kind));
                            None
                        }
                    }
                }
                Work::Deploy(container) => {
                    let path = format!("{}/deploy_tokens", container.api_path());
                    match client.all_pages::<ApiDeployToken>(&path).await {
                        Ok(tokens) => {
                            tally.listed(TokenKind::Deploy, container.kind, container.id);
                            Some(tokens.into_iter().map(|t| deploy_token_record(t, container)).collect())
                        }
                        Err(error) => {
                            tally.error(&container.path, &error, container.unknown(TokenKind::Deploy));
                            None
                        }
                    }
                }
                Work::ServiceAccount {
                    path,
                    user_id,
                    container,
                } => match client.all_pages::<ApiAccessToken>(path).await {
                    Ok(tokens) => {
                        tally.listed(TokenKind::Personal, container.kind, container.id);
                        Some(
                            tokens
                                .into_iter()
                                .filter(|t| t.user_id.is_none_or(|u| u == *user_id))
                                .map(|t| access_token_record(t, TokenKind::Personal, container, usernames))
                                .collect(),
                        )
                    }
                    Err(error) => {
                        let scope = usernames
                            .get(user_id)
                            .cloned()
                            .unwrap_or_else(|| format!("user {user_id}"));
                        tally.error(scope, &error, container.unknown(TokenKind::Personal));
                        None
                    }
                },
                Work::Memberships {
                    user_id,
                    username,
                    paths,
                } => {
                    // Only a listing read to the end replaces what is stored; a failed one keeps it.
                    match client
                        .all_pages::<ApiMembership>(&format!("/users/{user_id}/memberships"))
                        .await
                    {
                        Ok(found) => {
                            let memberships = membership_records(&found, paths);
                            send(
                                batches,
                                client,
                                Write::Memberships {
                                    account_gitlab_id: *user_id,
                                    memberships,
                                },
                            )
                            .await;
                        }
                        Err(error) => tally.failed(format!("{username} memberships"), &error),
                    }
                    None
                }
            };
            tally.phase(phase, 1, None);
            if let Some(tokens) = tokens.filter(|t| !t.is_empty()) {
                send(
                    batches,
                    client,
                    Write::Batch(SyncBatch {
                        tokens,
                        ..SyncBatch::default()
                    }),
                )
                .await;
            }
        })
        .await;
}

fn path_in_roots(path: &str, roots: &[String]) -> bool {
    roots.is_empty()
        || roots
            .iter()
            .any(|root| path == root || path.starts_with(&format!("{root}/")))
}

/// The administrator's way: instance-wide discovery, then only the listings it cannot avoid.
///
/// Two branches overlap: as soon as groups and projects are known their deploy tokens are asked
/// for, while the (sequential, keyset) listing of bot users goes on; the access-token and service
/// account listings follow once the users are known. The client keeps requests in flight at
/// `concurrency` across both.
async fn administrator(
    client: &GitLabClient,
    settings: &SyncSettings,
    tally: &Tally,
    batches: &mpsc::Sender<Write>,
) -> anyhow::Result<()> {
    let everything = || UnknownScope {
        kind: None,
        container: None,
    };
    let roots = &settings.root_groups;
    let (structure_sender, structure) = tokio::sync::oneshot::channel::<(Vec<ApiGroup>, Vec<ApiProject>)>();

    let deploy_branch = async {
        let (groups, projects) = tokio::join!(
            client.all_pages::<ApiGroup>("/groups?all_available=true&order_by=id&sort=asc"),
            client.all_keyset::<ApiProject>("/projects"),
        );
        let groups: Vec<ApiGroup> = groups
            .unwrap_or_else(|error| {
                tally.error("groups", &error, everything());
                *Tally::lock(&tally.discovery_complete) = false;
                Vec::new()
            })
            .into_iter()
            .filter(|g| path_in_roots(&g.full_path, roots))
            .collect();
        let projects: Vec<ApiProject> = projects
            .unwrap_or_else(|error| {
                tally.error("projects", &error, everything());
                *Tally::lock(&tally.discovery_complete) = false;
                Vec::new()
            })
            .into_iter()
            .filter(|p| path_in_roots(&p.path_with_namespace, roots))
            .collect();
        tally.phase("groups", groups.len() as u64, Some(groups.len() as u64));
        tally.phase("projects", projects.len() as u64, Some(projects.len() as u64));
        send(
            batches,
            client,
            Write::Batch(SyncBatch {
                groups: groups.iter().map(group_record).collect(),
                projects: projects.iter().map(project_record).collect(),
                ..SyncBatch::default()
            }),
        )
        .await;
        let work: Vec<Work> = projects
            .iter()
            .map(|p| Work::Deploy(project_container(p)))
            .chain(groups.iter().map(|g| Work::Deploy(group_container(g))))
            .collect();
        // The access branch waits for the structure; it only stops waiting when it returned early
        // (a refused credential), and then nothing needs it.
        if structure_sender.send((groups, projects)).is_err() {
            tracing::debug!("the access listings ended before the structure was read");
        }
        fetch_work(client, tally, batches, work, &HashMap::new()).await;
    };

    let access_branch = async {
        let users = match client.all_keyset::<ApiUser>("/users?exclude_humans=true").await {
            Ok(users) => users,
            Err(ClientError::Unauthorized) => return Err(anyhow::Error::from(ClientError::Unauthorized)),
            Err(error) => {
                tally.error("users", &error, everything());
                *Tally::lock(&tally.discovery_complete) = false;
                Vec::new()
            }
        };
        let Ok((groups, projects)) = structure.await else {
            return Ok(());
        };
        let group_paths: HashMap<i64, String> = groups.iter().map(|g| (g.id, g.full_path.clone())).collect();
        let project_ids: HashSet<i64> = projects.iter().map(|p| p.id).collect();
        let mut accounts = Vec::new();
        let mut with_bots: HashSet<(ContainerKind, i64)> = HashSet::new();
        let mut service_accounts = Vec::new();
        for user in users.iter().filter(|u| u.bot) {
            let Some((kind, container_id)) = AccountKind::from_username(&user.username) else {
                continue;
            };
            let container = match (kind, container_id) {
                (AccountKind::ProjectBot, Some(id)) => (ContainerKind::Project, Some(id)),
                (AccountKind::GroupBot, Some(id)) | (AccountKind::ServiceAccount, Some(id)) => {
                    (ContainerKind::Group, Some(id))
                }
                _ => (ContainerKind::Instance, None),
            };
            let in_scope = match container {
                (ContainerKind::Project, Some(id)) => project_ids.contains(&id),
                (ContainerKind::Group, Some(id)) => group_paths.contains_key(&id),
                _ => roots.is_empty(),
            };
            if !in_scope {
                continue;
            }
            if let (ContainerKind::Project | ContainerKind::Group, Some(id)) = container
                && kind != AccountKind::ServiceAccount
            {
                with_bots.insert((container.0, id));
            }
            if kind == AccountKind::ServiceAccount {
                service_accounts.push((user.id, container));
            }
            accounts.push(AccountRecord {
                gitlab_id: user.id,
                username: user.username.clone(),
                name: user.name.clone(),
                kind,
                container_kind: container.0,
                container_gitlab_id: container.1,
                state: user.state.clone(),
            });
        }
        tally.phase("accounts", accounts.len() as u64, Some(accounts.len() as u64));
        let usernames: HashMap<i64, String> = users.iter().map(|u| (u.id, u.username.clone())).collect();
        send(
            batches,
            client,
            Write::Batch(SyncBatch {
                accounts,
                ..SyncBatch::default()
            }),
        )
        .await;

        let mut work = Vec::new();
        for project in &projects {
            if with_bots.contains(&(ContainerKind::Project, project.id)) {
                work.push(Work::Access(project_container(project)));
            } else {
                // No bot user: GitLab holds no access token here; sync knows every one is gone.
                tally.listed(TokenKind::ProjectAccess, ContainerKind::Project, Some(project.id));
            }
        }
        for group in &groups {
            if with_bots.contains(&(ContainerKind::Group, group.id)) {
                work.push(Work::Access(group_container(group)));
            } else {
                tally.listed(TokenKind::GroupAccess, ContainerKind::Group, Some(group.id));
            }
        }
        // What service accounts can reach needs every group's and project's path; when
        // discovery failed, the memberships stored stay as they are.
        let discovered = *Tally::lock(&tally.discovery_complete);
        let paths = discovered.then(|| Arc::new(source_paths(&groups, &projects)));
        for (user_id, (kind, id)) in service_accounts {
            let path = match id.and_then(|id| group_paths.get(&id)) {
                Some(path) => path.clone(),
                None if kind == ContainerKind::Instance => String::new(),
                None => continue,
            };
            work.push(Work::ServiceAccount {
                path: format!("/personal_access_tokens?user_id={user_id}"),
                user_id,
                container: Container { kind, id, path },
            });
            if let Some(paths) = &paths {
                work.push(Work::Memberships {
                    user_id,
                    username: usernames
                        .get(&user_id)
                        .cloned()
                        .unwrap_or_else(|| format!("user {user_id}")),
                    paths: paths.clone(),
                });
            }
        }
        fetch_work(client, tally, batches, work, &usernames).await;
        Ok(())
    };

    let ((), access) = tokio::join!(deploy_branch, access_branch);
    access
}

fn project_container(project: &ApiProject) -> Container {
    Container {
        kind: ContainerKind::Project,
        id: Some(project.id),
        path: project.path_with_namespace.clone(),
    }
}

fn group_container(group: &ApiGroup) -> Container {
    Container {
        kind: ContainerKind::Group,
        id: Some(group.id),
        path: group.full_path.clone(),
    }
}

/// The group owner's way: walk each root group.
async fn group_owner(
    client: &GitLabClient,
    settings: &SyncSettings,
    tally: &Tally,
    batches: &mpsc::Sender<Write>,
) -> anyhow::Result<()> {
    let roots: Vec<ApiGroup> = if settings.root_groups.is_empty() {
        client
            .all_pages::<ApiGroup>("/groups?top_level_only=true&min_access_level=50&order_by=id&sort=asc")
            .await?
    } else {
        let mut roots = Vec::new();
        for path in &settings.root_groups {
            let encoded = path.replace('/', "%2F");
            match client.get::<ApiGroup>(&format!("/groups/{encoded}")).await {
                Ok((group, _)) => roots.push(group),
                Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
                Err(error) => {
                    tally.error(
                        path,
                        &error,
                        UnknownScope {
                            kind: None,
                            container: None,
                        },
                    );
                    *Tally::lock(&tally.discovery_complete) = false;
                }
            }
        }
        roots
    };

    let mut groups: Vec<ApiGroup> = Vec::new();
    let mut projects: Vec<ApiProject> = Vec::new();
    let mut service_accounts: Vec<(ApiUser, ApiGroup)> = Vec::new();
    let discovered = stream::iter(roots.iter().cloned())
        .map(|root| async move {
            let id = root.id;
            let descendants_path = format!("/groups/{id}/descendant_groups?order_by=id&sort=asc");
            let projects_path = format!("/groups/{id}/projects?include_subgroups=true&order_by=id&sort=asc");
            let (descendants, projects, accounts) = tokio::join!(
                client.all_pages::<ApiGroup>(&descendants_path),
                client.all_pages::<ApiProject>(&projects_path),
                async {
                    // Service accounts belong to top-level groups only.
                    if root.parent_id.is_some() {
                        return Ok(Vec::new());
                    }
                    client
                        .all_pages::<ApiUser>(&format!("/groups/{id}/service_accounts"))
                        .await
                },
            );
            (root, descendants, projects, accounts)
        })
        .buffer_unordered(client.concurrency())
        .collect::<Vec<_>>()
        .await;
    for (root, descendants, found_projects, accounts) in discovered {
        let everything_below = UnknownScope {
            kind: None,
            container: None,
        };
        match descendants {
            Ok(found) => groups.extend(found),
            Err(error) => {
                tally.error(&root.full_path, &error, everything_below);
                *Tally::lock(&tally.discovery_complete) = false;
            }
        }
        match found_projects {
            Ok(found) => projects.extend(found),
            Err(error) => {
                tally.error(&root.full_path, &error, everything_below);
                *Tally::lock(&tally.discovery_complete) = false;
            }
        }
        match accounts {
            Ok(found) => service_accounts.extend(found.into_iter().map(|a| (a, root.clone()))),
            Err(error) => tally.error(
                format!("{} service accounts", root.full_path),
                &error,
                UnknownScope {
                    kind: Some(TokenKind::Personal),
                    container: Some((ContainerKind::Group, root.id)),
                },
            ),
        }
        groups.push(root);
    }
    groups.sort_by_key(|g| g.id);
    groups.dedup_by_key(|g| g.id);
    projects.sort_by_key(|p| p.id);
    projects.dedup_by_key(|p| p.id);
    tally.phase("groups", groups.len() as u64, Some(groups.len() as u64));
    tally.phase("projects", projects.len() as u64, Some(projects.len() as u64));

    let accounts: Vec<AccountRecord> = service_accounts
        .iter()
        .map(|(user, root)| AccountRecord {
            gitlab_id: user.id,
            username: user.username.clone(),
            name: user.name.clone(),
            kind: AccountKind::ServiceAccount,
            container_kind: ContainerKind::Group,
            container_gitlab_id: Some(root.id),
            state: if user.state.is_empty() {
                "active".to_owned()
            } else {
                user.state.clone()
            },
        })
        .collect();
    tally.phase("accounts", accounts.len() as u64, Some(accounts.len() as u64));
    let usernames: HashMap<i64, String> = service_accounts
        .iter()
        .map(|(user, _)| (user.id, user.username.clone()))
        .collect();
    send(
        batches,
        client,
        Write::Batch(SyncBatch {
            accounts,
            groups: groups.iter().map(group_record).collect(),
            projects: projects.iter().map(project_record).collect(),
            tokens: Vec::new(),
        }),
    )
    .await;

    let mut work = Vec::new();
    for project in &projects {
        let container = Container {
            kind: ContainerKind::Project,
            id: Some(project.id),
            path: project.path_with_namespace.clone(),
        };
        work.push(Work::Access(container.clone()));
        work.push(Work::Deploy(container));
    }
    for group in &groups {
        let container = Container {
            kind: ContainerKind::Group,
            id: Some(group.id),
            path: group.full_path.clone(),
        };
        work.push(Work::Access(container.clone()));
        work.push(Work::Deploy(container));
    }
    for (user, root) in &service_accounts {
        work.push(Work::ServiceAccount {
            path: format!(
                "/groups/{}/service_accounts/{}/personal_access_tokens",
                root.id, user.id
            ),
            user_id: user.id,
            container: Container {
                kind: ContainerKind::Group,
                id: Some(root.id),
                path: root.full_path.clone(),
            },
        });
    }
    fetch_work(client, tally, batches, work, &usernames).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(source_type: &str, source_id: i64, access_levels: i32) -> ApiMembership {
        ApiMembership {
            source_id,
            source_type: source_type.to_owned(),
            access_levels,
        }
    }

    #[test]
    fn a_membership_listing_keeps_each_known_group_or_project_once() {
        let paths: SourcePaths = [
            ((ContainerKind::Group, 7), "acme".to_owned()),
            ((ContainerKind::Project, 7), "acme/api".to_owned()),
        ]
        .into();
        let found = [
            listed("Namespace", 7, 30),
            listed("Project", 7, 40),
            listed("Namespace", 7, 40), // listed again, on the next page
            listed("Project", 8, 30),   // not synced: left out
            listed("Namespace", 7, 0),
            listed("Epic", 7, 30), // not a group or a project
        ];
        let records = membership_records(&found, &paths);
        let kept: Vec<(ContainerKind, i64, &str, AccessLevel)> = records
            .iter()
            .map(|m| {
                (
                    m.source_kind,
                    m.source_gitlab_id,
                    m.source_path.as_str(),
                    m.access_level,
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                (ContainerKind::Group, 7, "acme", AccessLevel::Developer),
                (ContainerKind::Project, 7, "acme/api", AccessLevel::Maintainer),
            ]
        );
    }
}
