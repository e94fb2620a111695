//! Team alerts: the daily digest per owner team (and the organisation's, to security), sent on the
//! channels of the teams file, each notice once (the ledger in the database), each delivery
//! retried with exponential backoff and its outcome recorded.
//!
//! `AlertService` does the work (`run_digests`, `deliver_due`) with an injectable [`Clock`];
//! `spawn` runs it in the background: the day's digest at `ALERTS_DIGEST_AT` (and at start when
//! that time has passed and the day's digest was not made yet, by any replica), and the retries.

pub mod config;
pub mod routes;
mod send;

use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use anyhow::Context;
use app::{
    db::{AudienceChannels, DbError, Repo},
    domain::{
        alerts::{ChannelSummary, DigestInput, team_digests},
        recertification::{Reminder, reminders_due},
    },
};
use chrono::{DateTime, Days, NaiveDate, Utc};

use self::{
    config::{Channels, DigestAt, EMAIL, MailSettings, TeamChannels, WEBHOOK},
    send::Sender,
};

/// Where the time comes from: the system's, or a test's.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// How the service works: the notice windows, links, schedule and retries.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// `REVIEW_NOTICE_DAYS`.
    pub windows: Vec<u32>,
    /// `PUBLIC_URL` (no trailing slash), for links in the digests.
    pub public_url: String,
    pub digest_at: DigestAt,
    pub retry_base: Duration,
    pub max_attempts: u32,
    pub retry_every: Duration,
    /// Sync runs in this server: the first scheduled digest waits (up to a quarter of an hour)
    /// for a sync to have finished, so a fresh start does not send a digest of an empty inventory.
    pub wait_for_first_sync: bool,
}

/// Why a run was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTrigger {
    /// The day's digest: once per day across replicas and restarts.
    Scheduled,
    /// Someone of security asked for one now (their username, for the audit log).
    Manual(String),
}

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long a claimed delivery is left to the replica sending it.
const SEND_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The alerts of one server.
pub struct AlertService {
    repo: Repo,
    /// By audience key (`team:<id>`, `organisation`).
    audiences: BTreeMap<String, Channels>,
    summaries: Vec<ChannelSummary>,
    settings: AlertSettings,
    sender: Sender,
    clock: Arc<dyn Clock>,
}

impl AlertService {
    /// The service over the teams file's channels (teams named there but unknown to the database
    /// are left out); mail addresses need `mail`.
    pub async fn new(
        repo: Repo,
        channels: &TeamChannels,
        mail: Option<&MailSettings>,
        settings: AlertSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            mail.is_some() || !channels.needs_mail(),
            "the teams file names mail addresses: set SMTP_URL and ALERTS_FROM"
        );
        let teams = repo.team_rules().await.context("cannot read the teams")?;
        let mut audiences = BTreeMap::new();
        let mut summaries = Vec::new();
        for team in &teams {
            let configured = channels.teams.get(&team.name).cloned().unwrap_or_default();
            summaries.push(summary(Some(team.team_id), &team.name, &configured));
            audiences.insert(format!("team:{}", team.team_id), configured);
        }
        summaries.push(summary(
            None,
            "Security (the organisation's digest)",
            &channels.security,
        ));
        audiences.insert("organisation".to_owned(), channels.security.clone());
        Ok(AlertService {
            repo,
            audiences,
            summaries,
            settings,
            sender: Sender::new(mail)?,
            clock,
        })
    }

    /// Makes the digests of a run and sends them (what fails is retried later): how many digests
    /// were made; `None` when the day's scheduled run was made already.
    pub async fn run_digests(&self, trigger: RunTrigger) -> Result<Option<usize>, DbError> {
        let now = self.clock.now();
        let today = now.date_naive();
        let (name, day, by) = match &trigger {
            RunTrigger::Scheduled => ("scheduled", Some(today), None),
            RunTrigger::Manual(by) => ("manual", None, Some(by.as_str())),
        };
        let Some(run) = self.repo.start_alert_run(name, day, by, now).await? else {
            return Ok(None);
        };
        let since = run.previous_started_at.unwrap_or(now - chrono::Duration::days(1));
        let max_window = self.settings.windows.iter().copied().max().unwrap_or(0);
        let inputs = self.repo.alert_inputs(today, max_window, since).await?;
        // Reminders go with the day's scheduled digest, made once a day.
        let reminders = match trigger {
            RunTrigger::Scheduled => self.recertification_reminders(today).await?,
            RunTrigger::Manual(_) => Vec::new(),
        };
        let digests = team_digests(&DigestInput {
            today,
            windows: &self.settings.windows,
            tokens: &inputs.tokens,
            new_findings: &inputs.new_findings,
            reopened: &inputs.reopened,
            sent: &inputs.sent,
            reminders: &reminders,
        });
        let channels: AudienceChannels = self
            .audiences
            .iter()
            .map(|(audience, channels)| (audience.clone(), channels.names()))
            .filter(|(_, names)| !names.is_empty())
            .collect();
        let stored = self
            .repo
            .record_digests(run.id, &digests, &channels, &self.settings.public_url, now)
            .await?;
        self.repo.finish_alert_run(run.id, self.clock.now()).await?;
        tracing::info!(alerts.trigger = name, alerts.digests = stored.len(), "digests made");
        self.deliver_due().await?;
        Ok(Some(stored.len()))
    }

    /// The reminders of open recertification campaigns due `today`, per team with items left.
    async fn recertification_reminders(&self, today: NaiveDate) -> Result<Vec<Reminder>, DbError> {
        let mut progress = self.repo.campaign_progress().await?;
        let campaigns: Vec<_> = self
            .repo
            .list_campaigns()
            .await?
            .into_iter()
            .filter(|campaign| !campaign.is_closed())
            .map(|campaign| {
                let teams = progress.remove(&campaign.id).unwrap_or_default();
                campaign.progress(teams)
            })
            .collect();
        Ok(reminders_due(&campaigns, today))
    }

    /// Sends every delivery due now once; a failure is tried again after a backoff, or recorded
    /// failed after the last attempt. How many were sent.
    pub async fn deliver_due(&self) -> Result<usize, DbError> {
        let now = self.clock.now();
        let due = self.repo.claim_due_deliveries(now, now + SEND_LEASE, 100).await?;
        let mut sent = 0;
        for delivery in due {
            let outcome = self
                .send(&delivery.audience, &delivery.channel, &delivery.subject, &delivery.body)
                .await;
            let attempts = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
            let retry_at = (outcome.is_err() && attempts < self.settings.max_attempts).then(|| {
                let wait = backoff(self.settings.retry_base, attempts);
                self.clock.now() + chrono::Duration::from_std(wait).unwrap_or(SEND_LEASE)
            });
            match &outcome {
                Ok(()) => sent += 1,
                Err(error) => tracing::warn!(
                    alerts.audience = %delivery.audience,
                    alerts.channel = %delivery.channel,
                    alerts.attempts = attempts,
                    alerts.retry = retry_at.is_some(),
                    error.message = %error,
                    "a digest was not delivered"
                ),
            }
            let outcome = outcome.as_ref().map(|_| ()).map_err(String::as_str);
            self.repo
                .record_delivery(delivery.id, outcome, retry_at, self.clock.now())
                .await?;
        }
        Ok(sent)
    }

    async fn send(&self, audience: &str, channel: &str, subject: &str, body: &str) -> Result<(), String> {
        let Some(channels) = self.audiences.get(audience) else {
            return Err("its audience has no channel any more".to_owned());
        };
        match channel {
            WEBHOOK => match &channels.webhook {
                Some(url) => self.sender.webhook(url, body).await,
                None => Err("its webhook is no longer configured".to_owned()),
            },
            EMAIL if !channels.emails.is_empty() => self.sender.mail(&channels.emails, subject, body).await,
            _ => Err(format!("its channel {channel:?} is no longer configured")),
        }
    }

    /// Every team's channels (configured or not, never a URL) and security's.
    pub fn channel_summaries(&self) -> Vec<ChannelSummary> {
        self.summaries.clone()
    }

    /// Runs in the background until `shutdown`: the day's digest at its time, and the retries.
    pub fn spawn(self: Arc<Self>, shutdown: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(async move {
            tokio::select! {
                () = self.schedule() => {}
                () = shutdown => {}
            }
        });
    }

    async fn schedule(&self) {
        if self.settings.wait_for_first_sync {
            self.wait_for_a_sync().await;
        }
        loop {
            let now = self.clock.now();
            if let Some(at) = self.digest_time(now.date_naive())
                && now >= at
                && let Err(error) = self.run_digests(RunTrigger::Scheduled).await
            {
                tracing::error!(error.message = %error, "the day's digests could not be made");
            }
            if let Err(error) = self.deliver_due().await {
                tracing::error!(error.message = %error, "digests could not be delivered");
            }
            let mut wait = self.settings.retry_every;
            if let Some(next) = self.next_digest_time(self.clock.now()) {
                let until = (next - self.clock.now()).to_std().unwrap_or_default();
                wait = wait.min(until.max(Duration::from_secs(1)));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Until a sync run has finished (any replica's, any outcome), a quarter of an hour at most.
    async fn wait_for_a_sync(&self) {
        for _ in 0..180 {
            match self.repo.list_sync_runs(5).await {
                Ok(runs) if runs.iter().any(|run| run.finished_at.is_some()) => return,
                Ok(_) => {}
                Err(error) => tracing::warn!(error.message = %error, "cannot read the sync runs"),
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }

    /// When the digest of `day` is due, if scheduled.
    fn digest_time(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let (hour, minute) = self.settings.digest_at.0?;
        Some(day.and_hms_opt(hour, minute, 0)?.and_utc())
    }

    /// The next scheduled digest time after `now`.
    fn next_digest_time(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = self.digest_time(now.date_naive())?;
        if today > now {
            return Some(today);
        }
        self.digest_time(now.date_naive() + Days::new(1))
    }
}

/// The wait after `attempts` failed attempts: `base`, doubled each time, at most an hour.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

fn summary(team_id: Option<i64>, name: &str, channels: &Channels) -> ChannelSummary {
    ChannelSummary {
        team_id,
        name: name.to_owned(),
        webhook: channels.webhook.is_some(),
        emails: channels.emails.iter().map(ToString::to_string).collect(),
    }
}

impl app::state::AlertControl for AlertService {
    fn channels(&self) -> Vec<ChannelSummary> {
        self.channel_summaries()
    }

    fn send_now(&self, by: &str) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + '_>> {
        let trigger = RunTrigger::Manual(by.to_owned());
        Box::pin(async move {
            self.run_digests(trigger)
                .await
                .map(Option::unwrap_or_default)
                .map_err(|error| {
                    tracing::error!(error.message = %error, "digests could not be made");
                    "the digests could not be made; the server's log says why".to_owned()
                })
        })
    }
}

/// Starts alerts when the teams file gives any audience a channel: records which teams have one
/// (for the review's rule), builds the service and spawns it.
pub async fn start(
    args: &config::AlertArgs,
    repo: &Repo,
    channels: &TeamChannels,
    settings: AlertSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Option<Arc<AlertService>>> {
    let configured = channels.any();
    let with_channel = channels.teams_with_channel();
    repo.set_team_alert_channels(configured.then_some(with_channel.as_slice()))
        .await
        .context("cannot record the teams' alert channels")?;
    if !configured {
        tracing::info!("alerts are off: the teams file gives no team a webhook_url or emails");
        return Ok(None);
    }
    let mail = args.mail()?;
    let service =
        Arc::new(AlertService::new(repo.clone(), channels, mail.as_ref(), settings, Arc::new(SystemClock)).await?);
    tracing::info!(
        alerts.teams = with_channel.len(),
        alerts.security = !channels.security.is_empty(),
        "alerts are on"
    );
    service.clone().spawn(shutdown);
    Ok(Some(service))
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(60);
        let waits: Vec<u64> = (1..=8).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(Duration::from_millis(10), 1), Duration::from_millis(10));
    }
}
