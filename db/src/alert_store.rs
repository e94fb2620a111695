//! Team alerts: which teams have a channel (a yes or no: the channels themselves are secrets the
//! server keeps in memory), the digest runs, the ledger of notices given (each once, across
//! restarts and replicas: claimed by a conditional insert), the digests and their deliveries per
//! channel with their retries. One SQL text for both backends, like [`crate::sql`].

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::review_store::LATEST_DECISION;
use crate::sql::{Db, SqlRepository, TOKEN_COLUMNS, TOKEN_FROM};
use crate::sql::{HOLDS, HOLDS_END};
use crate::{DbError, TokenRow};
use domain::{
    TeamRef, TokenSummary,
    alerts::{AlertFinding, AlertToken, Audience, Digest, EXPIRED_LOOKBACK_DAYS, NoticeKey, organisation_digest},
};

/// A delivery's state: waiting for its (next) attempt, sent, or out of attempts.
pub const DELIVERY_PENDING: &str = "pending";
pub const DELIVERY_SENT: &str = "sent";
pub const DELIVERY_FAILED: &str = "failed";

/// What a digest run reads: the live tokens near or just past expiry, the findings first found
/// since `since`, the findings whose decision stopped holding, and every notice already given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertInputs {
    pub tokens: Vec<AlertToken>,
    pub new_findings: Vec<AlertFinding>,
    pub reopened: Vec<AlertFinding>,
    pub sent: BTreeSet<NoticeKey>,
}

/// A run that was started: its id and when the one before it started (`None`: the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRunStart {
    pub id: i64,
    pub previous_started_at: Option<DateTime<Utc>>,
}

/// What a run stored: per audience (its ledger key), the channels it goes to.
pub type AudienceChannels = BTreeMap<String, Vec<String>>;

/// A delivery due now, claimed by this replica until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: i64,
    pub digest_id: i64,
    /// The audience's ledger key (`team:<id>`, `organisation`).
    pub audience: String,
    pub channel: String,
    pub attempts: i32,
    pub subject: String,
    pub body: String,
}

/// A delivery as the alerts page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub id: i64,
    pub day: NaiveDate,
    pub audience: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub subject: String,
    pub channel: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// How many notices stand in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub undelivered: u64,
}

#[async_trait]
pub trait AlertStore {
    /// Records which teams have an alert channel: `None` when alerts are off (nobody is told of a
    /// missing channel); otherwise every team is marked, yes for those named.
    async fn set_team_alert_channels(&self, with_channel: Option<&[String]>) -> Result<(), DbError>;

    /// Starts a digest run. A scheduled one names its day and starts only once per day (across
    /// replicas and restarts): `None` when that day's run exists already. One a person asked for
    /// (`by`) is in the audit log, in the same transaction.
    async fn start_alert_run(
        &self,
        trigger: &str,
        scheduled_day: Option<NaiveDate>,
        by: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<AlertRunStart>, DbError>;
    async fn finish_alert_run(&self, run_id: i64, at: DateTime<Utc>) -> Result<(), DbError>;

    /// What a digest for `today` is made of (see [`AlertInputs`]).
    async fn alert_inputs(
        &self,
        today: NaiveDate,
        max_window: u32,
        since: DateTime<Utc>,
    ) -> Result<AlertInputs, DbError>;

    /// Stores a run's digests in one transaction: claims their notices (those another run claimed
    /// first are left out), makes the organisation's digest when it has a channel, renders each
    /// digest that has something to say and a channel, and queues a delivery per channel, due at
    /// `at`. Returns the ids of the digests stored.
    async fn record_digests(
        &self,
        run_id: i64,
        digests: &[Digest],
        channels: &AudienceChannels,
        public_url: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, DbError>;

    /// Claims up to `limit` deliveries due at `now` (pending, their next attempt passed) until
    /// `lease_until`, so no other replica sends them meanwhile.
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, DbError>;

    /// Records an attempt: sent; or failed with `error`, tried again at `retry_at` (`None`: out
    /// of attempts). A sent delivery marks its digest's notices sent; a digest none of whose
    /// deliveries can still be sent marks them failed.
    async fn record_delivery(
        &self,
        delivery_id: i64,
        outcome: Result<(), &str>,
        retry_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// The latest deliveries, newest first (`team`: that team's digests only).
    async fn list_deliveries(&self, team: Option<i64>, limit: u32) -> Result<Vec<DeliveryRecord>, DbError>;

    /// The notices given, by state.
    async fn notice_counts(&self) -> Result<NoticeCounts, DbError>;
}

#[derive(sqlx::FromRow)]
struct AlertTokenRow {
    #[sqlx(flatten)]
    token: TokenRow,
}

#[derive(sqlx::FromRow)]
struct AlertFindingRow {
    id: i64,
    rule: String,
    severity: String,
    subject_name: String,
    subject_path: String,
    token_id: Option<i64>,
    team_id: Option<i64>,
    team_name: Option<String>,
    decision_id: Option<i64>,
}

impl TryFrom<AlertFindingRow> for AlertFinding {
    type Error = DbError;

    fn try_from(row: AlertFindingRow) -> Result<Self, DbError> {
        Ok(AlertFinding {
            id: row.id,
            rule: row.rule.parse()?,
            severity: row.severity.parse()?,
            subject_name: row.subject_name,
            subject_path: row.subject_path,
            token_id: row.token_id,
            team: team_ref(row.team_id, row.team_name),
            decision_id: row.decision_id,
        })
    }
}

fn team_ref(id: Option<i64>, name: Option<String>) -> Option<TeamRef> {
    Some(TeamRef { id: id?, name: name? })
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    digest_id: i64,
    audience: String,
    channel: String,
    attempts: i32,
    subject: String,
    body: String,
}

#[derive(sqlx::FromRow)]
struct StateCountRow {
    state: String,
    total: i64,
}

/// Findings the digests list: open, no decision holding, first found since `$since`, and not the
/// expiry rules (their tokens are listed by window).
const ALERT_FINDING_COLUMNS: &str = "SELECT f.id, f.rule, f.severity, f.subject_name, f.subject_path, f.token_id, \
     f.team_id, tm.name AS team_name, d.id AS decision_id FROM findings f LEFT JOIN teams tm ON tm.id = f.team_id \
     LEFT JOIN tokens t ON t.id = f.token_id";

/// Parses a ledger key back ([`NoticeKey::key`]).
fn parse_notice_key(key: &str) -> Option<NoticeKey> {
    let parts: Vec<&str> = key.split(':').collect();
    match parts.as_slice() {
        ["token", token, "window", days] => Some(NoticeKey::Window {
            token: token.parse().ok()?,
            days: days.parse().ok()?,
        }),
        ["token", token, "expired"] => Some(NoticeKey::Expired {
            token: token.parse().ok()?,
        }),
        ["decision", decision, "reopened"] => Some(NoticeKey::Reopened {
            decision: decision.parse().ok()?,
        }),
        _ => None,
    }
}

#[async_trait]
impl<DB: Db> AlertStore for SqlRepository<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<i32>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
    for<'q> Option<NaiveDate>: Encode<'q, DB>,
{
    async fn set_team_alert_channels(&self, with_channel: Option<&[String]>) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let all = if with_channel.is_some() {
            "UPDATE teams SET alert_channel = FALSE"
        } else {
            "UPDATE teams SET alert_channel = NULL"
        };
        sqlx::query(all).execute(&mut *tx).await?;
        for name in with_channel.unwrap_or_default() {
            sqlx::query("UPDATE teams SET alert_channel = TRUE WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn start_alert_run(
        &self,
        trigger: &str,
        scheduled_day: Option<NaiveDate>,
        by: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<AlertRunStart>, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let previous: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT MAX(started_at) FROM alert_runs")
            .fetch_one(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO alert_runs (trigger, scheduled_day, started_at) VALUES ($1, $2, $3) \
             ON CONFLICT (scheduled_day) DO NOTHING RETURNING id",
        )
        .bind(trigger)
        .bind(scheduled_day)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        if let (Some(id), Some(by)) = (id, by) {
            let detail = serde_json::json!({ "trigger": trigger });
            Self::audit(&mut tx, at, by, "alerts.send_now", &format!("alert_run:{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(id.map(|id| AlertRunStart {
            id,
            previous_started_at: previous,
        }))
    }

    async fn finish_alert_run(&self, run_id: i64, at: DateTime<Utc>) -> Result<(), DbError> {
        sqlx::query("UPDATE alert_runs SET finished_at = $1 WHERE id = $2")
            .bind(at)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn alert_inputs(
        &self,
        today: NaiveDate,
        max_window: u32,
        since: DateTime<Utc>,
    ) -> Result<AlertInputs, DbError> {
        let mut select = QueryBuilder::<DB>::new(format!(
            "SELECT {TOKEN_COLUMNS}{TOKEN_FROM} WHERE t.gone_since IS NULL AND NOT t.revoked AND t.expires_on > "
        ));
        select
            .push_bind(today - Days::new(EXPIRED_LOOKBACK_DAYS.unsigned_abs()))
            .push(" AND t.expires_on <= ")
            .push_bind(today + Days::new(u64::from(max_window)))
            .push(" ORDER BY t.id");
        let rows: Vec<AlertTokenRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut tokens = Vec::with_capacity(rows.len());
        for row in rows {
            let token = TokenSummary::try_from(row.token)?;
            let Some(expires_on) = token.expires_on else { continue };
            tokens.push(AlertToken {
                id: token.id,
                name: token.name,
                kind: token.kind,
                path: token.container_path,
                team: token.owner_team,
                expires_on,
            });
        }
        let new_findings = self.alert_findings(today, Some(since)).await?;
        let reopened = self.alert_findings(today, None).await?;
        let keys: Vec<String> = sqlx::query_scalar("SELECT notice_key FROM alert_notices")
            .fetch_all(self.pool())
            .await?;
        let sent = keys.iter().filter_map(|key| parse_notice_key(key)).collect();
        Ok(AlertInputs {
            tokens,
            new_findings,
            reopened,
            sent,
        })
    }

    async fn record_digests(
        &self,
        run_id: i64,
        digests: &[Digest],
        channels: &AudienceChannels,
        public_url: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        // Claim every notice first: what another run holds is not said again.
        let mut claimed = BTreeSet::new();
        for key in digests.iter().flat_map(|digest| digest.notices.iter()) {
            let (token, window) = key.token_window();
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO alert_notices (notice_key, token_id, window_days, state, created_at) \
                 VALUES ($1, $2, $3, 'undelivered', $4) ON CONFLICT (notice_key) DO NOTHING RETURNING id",
            )
            .bind(key.key())
            .bind(token)
            .bind(window.map(|days| i32::try_from(days).unwrap_or(i32::MAX)))
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if id.is_some() {
                claimed.insert(*key);
            }
        }
        let mut kept: Vec<Digest> = digests.to_vec();
        for digest in &mut kept {
            digest.retain_claimed(&claimed);
        }
        kept.retain(|digest| !digest.is_empty());
        let organisation = Audience::Organisation.key();
        // What has no owner team only reaches the organisation's digest, made of everything.
        kept.retain(|digest| digest.audience != Audience::Organisation);
        let mut everything = digests.to_vec();
        for digest in &mut everything {
            digest.retain_claimed(&claimed);
        }
        let whole = channels
            .contains_key(&organisation)
            .then(|| organisation_digest(&everything, today_of(digests, at)))
            .flatten();
        let mut stored = Vec::new();
        for digest in kept.iter().chain(whole.iter()) {
            let Some(to) = channels.get(&digest.audience.key()).filter(|to| !to.is_empty()) else {
                continue;
            };
            stored.push(insert_digest::<DB>(&mut tx, run_id, digest, to, public_url, at).await?);
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, DbError> {
        let mut select = QueryBuilder::<DB>::new(
            "SELECT x.id, x.digest_id, g.audience, x.channel, x.attempts, g.subject, g.body \
             FROM alert_deliveries x JOIN alert_digests g ON g.id = x.digest_id \
             WHERE x.state = 'pending' AND x.next_attempt_at <= ",
        );
        select.push_bind(now).push(" ORDER BY x.next_attempt_at, x.id LIMIT ");
        select.push_bind(i64::from(limit));
        let rows: Vec<DueRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut due = Vec::new();
        for row in rows {
            let done = sqlx::query(
                "UPDATE alert_deliveries SET next_attempt_at = $1 \
                 WHERE id = $2 AND state = 'pending' AND next_attempt_at <= $3",
            )
            .bind(lease_until)
            .bind(row.id)
            .bind(now)
            .execute(self.pool())
            .await?;
            if DB::rows_affected(&done) == 1 {
                due.push(DueDelivery {
                    id: row.id,
                    digest_id: row.digest_id,
                    audience: row.audience,
                    channel: row.channel,
                    attempts: row.attempts,
                    subject: row.subject,
                    body: row.body,
                });
            }
        }
        Ok(due)
    }

    async fn record_delivery(
        &self,
        delivery_id: i64,
        outcome: Result<(), &str>,
        retry_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let (state, error, next) = match outcome {
            Ok(()) => (DELIVERY_SENT, None, None),
            Err(error) if retry_at.is_some() => (DELIVERY_PENDING, Some(error), retry_at),
            Err(error) => (DELIVERY_FAILED, Some(error), None),
        };
        let digest_id: Option<i64> = sqlx::query_scalar(
            "UPDATE alert_deliveries SET state = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_at = $3, sent_at = $4 WHERE id = $5 RETURNING digest_id",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind((state == DELIVERY_SENT).then_some(at))
        .bind(delivery_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(digest_id) = digest_id else {
            return Err(DbError::NotFound(format!("alert delivery {delivery_id}")));
        };
        if state == DELIVERY_SENT {
            sqlx::query(
                "UPDATE alert_notices SET state = 'sent', sent_at = $1 WHERE digest_id = $2 AND state <> 'sent'",
            )
            .bind(at)
            .bind(digest_id)
            .execute(&mut *tx)
            .await?;
        } else if state == DELIVERY_FAILED {
            sqlx::query(
                "UPDATE alert_notices SET state = 'failed' WHERE digest_id = $1 AND state = 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM alert_deliveries x WHERE x.digest_id = $1 AND x.state <> 'failed')",
            )
            .bind(digest_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_deliveries(&self, team: Option<i64>, limit: u32) -> Result<Vec<DeliveryRecord>, DbError> {
        let mut select = QueryBuilder::<DB>::new(
            "SELECT x.id, g.day, g.audience, g.team_id, tm.name AS team_name, g.subject, x.channel, x.state, \
             x.attempts, x.next_attempt_at, x.last_error, x.sent_at, g.created_at \
             FROM alert_deliveries x JOIN alert_digests g ON g.id = x.digest_id \
             LEFT JOIN teams tm ON tm.id = g.team_id",
        );
        if let Some(team) = team {
            select.push(" WHERE g.team_id = ").push_bind(team);
        }
        select.push(" ORDER BY x.id DESC LIMIT ").push_bind(i64::from(limit));
        Ok(DB::fetch_all(&mut select, self.pool()).await?)
    }

    async fn notice_counts(&self) -> Result<NoticeCounts, DbError> {
        let mut select = QueryBuilder::<DB>::new("SELECT state, COUNT(*) AS total FROM alert_notices GROUP BY state");
        let rows: Vec<StateCountRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut counts = NoticeCounts::default();
        for row in rows {
            let total = u64::try_from(row.total).unwrap_or(0);
            match row.state.as_str() {
                "pending" => counts.pending = total,
                "sent" => counts.sent = total,
                "failed" => counts.failed = total,
                _ => counts.undelivered += total,
            }
        }
        Ok(counts)
    }
}

/// The day digests are for: theirs, else `at`'s.
fn today_of(digests: &[Digest], at: DateTime<Utc>) -> NaiveDate {
    digests.first().map_or(at.date_naive(), |digest| digest.day)
}

/// Stores one digest (rendered), ties its notices to it, and queues a delivery per channel.
async fn insert_digest<DB: Db>(
    tx: &mut sqlx::Transaction<'_, DB>,
    run_id: i64,
    digest: &Digest,
    channels: &[String],
    public_url: &str,
    at: DateTime<Utc>,
) -> Result<i64, DbError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
{
    let rendered = digest.render(public_url);
    let team_id = match &digest.audience {
        Audience::Team(team) => Some(team.id),
        Audience::Organisation => None,
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alert_digests (run_id, audience, team_id, day, subject, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(run_id)
    .bind(digest.audience.key())
    .bind(team_id)
    .bind(digest.day)
    .bind(rendered.subject)
    .bind(rendered.text)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    // A team's own digest carries its notices; the organisation's those no team's digest took.
    for key in &digest.notices {
        sqlx::query(
            "UPDATE alert_notices SET digest_id = $1, state = 'pending' WHERE notice_key = $2 AND digest_id IS NULL",
        )
        .bind(id)
        .bind(key.key())
        .execute(&mut **tx)
        .await?;
    }
    for channel in channels {
        sqlx::query(
            "INSERT INTO alert_deliveries (digest_id, channel, state, attempts, next_attempt_at) \
             VALUES ($1, $2, 'pending', 0, $3)",
        )
        .bind(id)
        .bind(channel)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

impl<DB: Db> SqlRepository<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    /// Open findings no decision holds for: first found since `since` (new ones, the expiry
    /// rules left out), or, without `since`, those with a decision that stopped holding.
    async fn alert_findings(
        &self,
        today: NaiveDate,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<AlertFinding>, DbError> {
        let mut select = QueryBuilder::<DB>::new(ALERT_FINDING_COLUMNS);
        select
            .push(LATEST_DECISION)
            .push(" WHERE f.resolved_at IS NULL AND ")
            .push(HOLDS)
            .push_bind(today)
            .push(HOLDS_END)
            .push(" = 0");
        match since {
            Some(since) => {
                select
                    .push(" AND f.rule NOT IN ('expiring', 'expired-not-revoked') AND f.first_found_at > ")
                    .push_bind(since);
            }
            None => {
                select.push(" AND d.id IS NOT NULL");
            }
        }
        select.push(" ORDER BY f.id");
        let rows: Vec<AlertFindingRow> = DB::fetch_all(&mut select, self.pool()).await?;
        rows.into_iter().map(AlertFinding::try_from).collect()
    }
}
