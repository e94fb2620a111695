//! One run from start to end: the lease, the run's row, the heartbeat, the strategy, the
//! listings and the writer, marking gone, and how the run ends.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use app::{
    db::{GoneRule, Repo, SyncBatch},
    domain::{SyncProgress, SyncStatus, SyncTrigger},
};
use chrono::{DateTime, Utc};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use super::{
    Strategy, StrategyChoice, SyncOutcome, SyncSettings, SyncStartError,
    client::{ApiUserSelf, GitLabClient},
    tally::Tally,
    writer::{Write, Writer},
};

/// A run under way, as its listings see it: the client (whose `stop` is the run's cancellation:
/// once stopped, it makes no further request), the settings, the figures and the writer.
pub(super) struct SyncRun<'a> {
    pub client: Arc<GitLabClient>,
    pub settings: &'a SyncSettings,
    pub tally: Arc<Tally>,
    batches: mpsc::Sender<Write>,
}

impl SyncRun<'_> {
    /// Hands a write to the writer; when the writer has stopped (it failed), stops the run.
    pub(super) async fn send(&self, write: Write) {
        if self.batches.send(write).await.is_err() {
            self.client.stop("the database writer stopped");
        }
    }

    pub(super) async fn send_batch(&self, batch: SyncBatch) {
        self.send(Write::Batch(batch)).await;
    }

    async fn collect(&self, strategy: Strategy) -> anyhow::Result<()> {
        match strategy {
            Strategy::Administrator => self.administrator().await,
            Strategy::GroupOwner => self.group_owner().await,
        }
    }
}

/// The sync lease a run holds: who holds it, and for how long each renewal.
#[derive(Clone)]
struct Lease {
    holder: String,
    ttl: chrono::Duration,
}

impl Lease {
    async fn take(repo: &Repo, ttl: Duration) -> Result<Lease, SyncStartError> {
        let lease = Lease {
            holder: format!("{}-{}", std::process::id(), rand::random::<u64>()),
            ttl: chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(2)),
        };
        if !repo.acquire_sync_lease(&lease.holder, Utc::now() + lease.ttl).await? {
            return Err(SyncStartError::AlreadyRunning);
        }
        Ok(lease)
    }

    /// Renews the lease: `Ok(false)` when another replica holds it.
    async fn renew(&self, repo: &Repo) -> Result<bool, db::DbError> {
        repo.acquire_sync_lease(&self.holder, Utc::now() + self.ttl).await
    }

    /// Gives the lease back (a lease another replica took is not touched); a failure is logged,
    /// and the lease then runs out by itself.
    async fn release(&self, repo: &Repo) {
        if let Err(error) = repo.release_sync_lease(&self.holder).await {
            tracing::warn!(error.message = %error, "sync could not release its lease; it runs out by itself");
        }
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
    let lease = Lease::take(&repo, settings.lease_ttl).await?;
    repo.abandon_stale_sync_runs(Utc::now() - lease.ttl).await?;
    let started = std::time::Instant::now();
    let seen_at = Utc::now();
    let run_id = match repo.start_sync_run(trigger, seen_at).await {
        Ok(id) => id,
        Err(error) => {
            lease.release(&repo).await;
            return Err(error.into());
        }
    };
    tracing::info!(sync.run = run_id, sync.trigger = trigger.as_str(), "sync started");
    let tally = Arc::new(Tally::new(watcher));
    let client = GitLabClient::new(&settings.gitlab_url, settings.token.clone(), settings.client.clone());
    let heartbeat = Heartbeat {
        repo: repo.clone(),
        tally: tally.clone(),
        lease: lease.clone(),
        client: client.as_ref().ok().cloned(),
        run_id,
        lease_ttl: settings.lease_ttl,
    }
    .spawn();

    let (result, requests) = match client {
        Ok(client) => {
            let result = collect_and_write(&repo, client.clone(), settings, run_id, seen_at, tally.clone()).await;
            // A stopped run fails with the reason it stopped, whatever its listings said.
            let result = match client.stopped() {
                Some(reason) => Err(anyhow::anyhow!("the run stopped: {reason}")),
                None => result,
            };
            (result, client.requests())
        }
        Err(error) => (Err(error), 0),
    };
    heartbeat.stop(run_id).await;
    let (strategy, status) = conclude(result, &tally, run_id);
    let (progress, errors) = tally.snapshot();
    let finished = repo
        .update_sync_run(run_id, strategy.map(Strategy::as_str), requests, &progress, &errors)
        .await
        .and(
            repo.finish_sync_run(run_id, status, requests, &progress, &errors, Utc::now())
                .await,
        );
    lease.release(&repo).await;
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

/// The run's status from what it returned: a failure is in its errors, with the reason.
fn conclude(result: anyhow::Result<Strategy>, tally: &Tally, run_id: i64) -> (Option<Strategy>, SyncStatus) {
    match result {
        Ok(strategy) if tally.error_count() == 0 => (Some(strategy), SyncStatus::Succeeded),
        Ok(strategy) => (Some(strategy), SyncStatus::Partial),
        Err(error) => {
            let message = format!("{error:#}");
            tracing::error!(sync.run = run_id, error.message = %message, "sync failed");
            tally.failed("sync", &message);
            (None, SyncStatus::Failed)
        }
    }
}

/// Renews the lease and saves the figures while the run goes on. When the lease is lost (another
/// replica holds it, or it could not be renewed before it ran out), it stops the run: no further
/// request to GitLab, and the run ends failed with nothing marked gone.
struct Heartbeat {
    repo: Repo,
    tally: Arc<Tally>,
    lease: Lease,
    client: Option<Arc<GitLabClient>>,
    run_id: i64,
    lease_ttl: Duration,
}

/// A running heartbeat, and how to tell it to end.
struct HeartbeatTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Heartbeat {
    fn spawn(self) -> HeartbeatTask {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.beat(stopped));
        HeartbeatTask { stop, task }
    }

    async fn beat(self, mut stopped: watch::Receiver<bool>) {
        // Often enough for the Sync page's live figures, well within the lease.
        let every = (self.lease_ttl / 4).clamp(Duration::from_millis(200), Duration::from_secs(2));
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped.changed() => return,
            }
            let lost = match self.lease.renew(&self.repo).await {
                Ok(true) => {
                    renewed = tokio::time::Instant::now();
                    None
                }
                Ok(false) => Some("another replica holds the sync lease".to_owned()),
                Err(error) => {
                    tracing::warn!(sync.run = self.run_id, error.message = %error, "sync could not renew its lease");
                    (renewed.elapsed() >= self.lease_ttl)
                        .then(|| format!("the sync lease could not be renewed before it ran out: {error}"))
                }
            };
            if let Some(reason) = lost {
                if let Some(client) = &self.client {
                    client.stop(reason);
                }
                return;
            }
            self.save_figures().await;
        }
    }

    async fn save_figures(&self) {
        let (progress, errors) = self.tally.snapshot();
        let requests = self.client.as_ref().map(|c| c.requests()).unwrap_or(0);
        if let Err(error) = self
            .repo
            .update_sync_run(self.run_id, None, requests, &progress, &errors)
            .await
        {
            tracing::warn!(sync.run = self.run_id, error.message = %error, "sync could not save its figures");
        }
    }
}

impl HeartbeatTask {
    /// Ends the heartbeat when told to; it may have ended by itself already (it lost the lease).
    async fn stop(self, run_id: i64) {
        if self.stop.send(true).is_err() {
            tracing::debug!(sync.run = run_id, "the sync heartbeat had already stopped");
        }
        if let Err(error) = self.task.await {
            tracing::error!(sync.run = run_id, error.message = %error, "the sync heartbeat panicked");
        }
    }
}

/// Reads GitLab with the right strategy, writes through the writer task, then marks gone.
async fn collect_and_write(
    repo: &Repo,
    client: Arc<GitLabClient>,
    settings: &SyncSettings,
    run_id: i64,
    seen_at: DateTime<Utc>,
    tally: Arc<Tally>,
) -> anyhow::Result<Strategy> {
    let strategy = choose_strategy(repo, &client, settings, run_id).await?;
    let (batches, writer) = Writer {
        repo: repo.clone(),
        tally: tally.clone(),
        run_id,
        seen_at,
        batch_size: settings.batch_size,
    }
    .spawn(client.clone());
    let owners = repo.api_key_owners(seen_at.date_naive()).await?;
    let checked_at = Utc::now();
    let run = SyncRun {
        client: client.clone(),
        settings,
        tally: tally.clone(),
        batches,
    };
    let (collected, owner_states) = tokio::join!(run.collect(strategy), run.key_owner_states(owners));
    // The writer ends once the last sender is gone.
    drop(run);
    writer.await.context("the sync writer stopped")??;
    collected?;
    if let Some(reason) = client.stopped() {
        bail!("the run stopped: {reason}");
    }
    repo.record_gitlab_states(&owner_states, checked_at).await?;
    mark_gone(repo, settings, &tally, run_id, seen_at).await?;
    close_seen_requests(repo, &tally).await;
    // The review's findings follow what was just read; one that cannot be worked out leaves the
    // last ones standing and makes the run partial.
    let today = Utc::now().date_naive();
    match repo.refresh_findings(&settings.review, today, Utc::now()).await {
        Ok(counts) => {
            tracing::info!(
                sync.run = run_id,
                review.findings = counts.found,
                review.resolved = counts.resolved,
                "review findings refreshed"
            );
        }
        Err(error) => tally.failed("review findings", &error),
    }
    // The planner's statistics of what the run rewrote, findings included (a queue walked by its
    // index needs to know how many findings each rule has).
    repo.refresh_statistics().await?;
    Ok(strategy)
}

/// Approved service-account requests whose account GitLab now has are done: closed, and the
/// account owned by the request's team (so it shows owned from this run on). A failure leaves
/// them for the next run and makes this one partial.
async fn close_seen_requests(repo: &Repo, tally: &Tally) {
    let closed = match repo.close_seen_requests(Utc::now()).await {
        Ok(closed) => closed,
        Err(error) => return tally.failed("service-account requests", &error),
    };
    for (request, account, team) in closed {
        tracing::info!(
            request.id = request,
            account.gitlab_id = account,
            "request fulfilled: sync found its account"
        );
        let Some(team) = team else { continue };
        let by = format!("request #{request}");
        if let Err(error) = repo.set_account_owner(account, Some(team), &by, Utc::now()).await {
            tally.failed("service-account requests", &error);
        }
    }
}

/// Administrator when asked for, or when the credential is one (`GET /user`'s `is_admin`).
async fn choose_strategy(
    repo: &Repo,
    client: &GitLabClient,
    settings: &SyncSettings,
    run_id: i64,
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
    Ok(strategy)
}

/// Marks gone what no listing showed, only where every listing that could have shown it
/// succeeded; the structure (groups, projects, accounts) only after a complete, unfiltered run.
async fn mark_gone(
    repo: &Repo,
    settings: &SyncSettings,
    tally: &Tally,
    run_id: i64,
    seen_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let complete = tally.discovery_complete();
    let unknown = tally.unknown();
    let rule = GoneRule {
        unknown: unknown.clone(),
        only_in: (!complete).then(|| tally.listings()),
        path_roots: settings.root_groups.clone(),
    };
    let gone = repo.mark_tokens_gone(run_id, seen_at, &rule).await?;
    tally.gone(gone);
    repo.refresh_inferred_teams().await?;
    // Every listing that could hide a token or an account reports an unknown scope; a failed
    // membership listing hides neither.
    if complete && unknown.is_empty() && settings.root_groups.is_empty() {
        repo.mark_structure_gone(seen_at).await?;
    }
    Ok(())
}
