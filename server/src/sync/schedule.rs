//! Sync inside `serve`: a run at start, then one every interval (with a little jitter, so
//! replicas started together do not all knock at once), and one whenever someone asks.
//!
//! Several replicas may run the scheduler on one database: the sync lease lets one of them run
//! and the others skip that turn.

use std::{sync::Arc, time::Duration};

use app::{
    db::Repo,
    domain::{SyncProgress, SyncTrigger},
};
use tokio::sync::{Notify, watch};

use super::{SyncSettings, SyncStartError};

/// The handle the rest of the server keeps: ask for a run, watch the one under way.
#[derive(Clone)]
pub struct SyncScheduler {
    wake: Arc<Notify>,
    live: watch::Receiver<Option<SyncProgress>>,
}

impl SyncScheduler {
    /// Starts the scheduler task: a run now, then every `interval` (none: only on request).
    /// It stops when `shutdown` completes; a run under way is left to the lease's expiry.
    pub fn spawn(
        repo: Repo,
        settings: SyncSettings,
        interval: Option<Duration>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let (live_sender, live) = watch::channel(None);
        let task = schedule(repo, settings, interval, wake.clone(), live_sender);
        tokio::spawn(async move {
            tokio::select! {
                () = task => {}
                () = shutdown => {}
            }
        });
        SyncScheduler { wake, live }
    }
}

impl app::state::SyncControl for SyncScheduler {
    fn run_now(&self) {
        self.wake.notify_one();
    }

    fn live_progress(&self) -> Option<SyncProgress> {
        self.live.borrow().clone()
    }
}

async fn schedule(
    repo: Repo,
    settings: SyncSettings,
    interval: Option<Duration>,
    wake: Arc<Notify>,
    live: watch::Sender<Option<SyncProgress>>,
) {
    let mut trigger = SyncTrigger::Startup;
    loop {
        run_once(&repo, &settings, trigger, &live).await;
        trigger = match interval {
            Some(interval) => tokio::select! {
                () = tokio::time::sleep(jittered(interval)) => SyncTrigger::Schedule,
                () = wake.notified() => SyncTrigger::Manual,
            },
            None => {
                wake.notified().await;
                SyncTrigger::Manual
            }
        };
    }
}

async fn run_once(
    repo: &Repo,
    settings: &SyncSettings,
    trigger: SyncTrigger,
    live: &watch::Sender<Option<SyncProgress>>,
) {
    let (progress, mut receiver) = watch::channel(SyncProgress::default());
    live.send_replace(Some(SyncProgress::default()));
    let forward = {
        let live = live.clone();
        tokio::spawn(async move {
            while receiver.changed().await.is_ok() {
                let progress = receiver.borrow_and_update().clone();
                live.send_replace(Some(progress));
            }
        })
    };
    match super::run(repo.clone(), settings, trigger, Some(progress)).await {
        Ok(_) => {}
        Err(SyncStartError::AlreadyRunning) => {
            tracing::info!(
                sync.trigger = trigger.as_str(),
                "sync skipped: another run is under way"
            );
        }
        Err(SyncStartError::Database(error)) => {
            tracing::error!(sync.trigger = trigger.as_str(), error.message = %error, "sync could not start");
        }
    }
    forward.abort();
    live.send_replace(None);
}

/// `interval` give or take 5%.
fn jittered(interval: Duration) -> Duration {
    let spread = interval.as_secs_f64() * 0.05;
    let offset = (rand::random::<f64>() * 2.0 - 1.0) * spread;
    Duration::from_secs_f64((interval.as_secs_f64() + offset).max(1.0))
}

#[cfg(test)]
mod tests {
    use super::jittered;
    use std::time::Duration;

    #[test]
    fn jitter_stays_within_five_percent() {
        for _ in 0..1_000 {
            let d = jittered(Duration::from_secs(600)).as_secs_f64();
            assert!((570.0..=630.0).contains(&d), "{d}");
        }
        assert_eq!(jittered(Duration::from_millis(10)), Duration::from_secs(1));
    }
}
