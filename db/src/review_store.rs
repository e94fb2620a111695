//! What the security review keeps: the findings the policy makes of every live token and service
//! account (worked out again by [`ReviewStore::refresh_findings`], after every sync), and every
//! decision people made about them. One SQL text for both backends, like [`crate::sql`].

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::sql::{BUMP_REVIEW_VERSION, Db, HOLDS, HOLDS_END, REVIEW_VERSION, SqlRepository, TOKEN_COLUMNS, TOKEN_FROM};
use crate::{DbError, TokenRow, push_page, split_scopes};
use domain::{
    TeamRef, TokenKind, TokenSummary,
    review::{
        AccountHistory, Decision, DecisionKind, Finding, FindingRule, FindingState, ReviewPolicy, Severity, Subject,
        SubjectKind, TokenState, TokenUnderReview, ValidDecision, account_findings, token_findings,
    },
};

/// Which findings to list (resolved ones never are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    pub team: Option<i64>,
    /// Only these teams' findings (what a person who is not security may see); `None`: any.
    pub within_teams: Option<Vec<i64>>,
    pub rule: Option<FindingRule>,
    pub kind: Option<SubjectKind>,
    pub severity: Option<Severity>,
    pub state: FindingState,
    pub offset: u64,
    pub limit: u64,
}

/// A finding as stored, with its latest decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub id: i64,
    pub finding: Finding,
    /// The token's kind, or `service_account`.
    pub kind: String,
    pub subject_name: String,
    pub subject_path: String,
    pub team: Option<TeamRef>,
    pub first_found_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    /// The latest decision still holds (see [`domain::review::Standing`]).
    pub decided: bool,
}

/// A page of findings, how many match, and how many of them each rule has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPage {
    pub findings: Vec<StoredFinding>,
    pub total: u64,
    /// Per rule, under the same filters but the rule's.
    pub by_rule: Vec<(FindingRule, u64)>,
}

/// A finding with all its decisions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingHistory {
    pub finding: StoredFinding,
    pub decisions: Vec<Decision>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshCounts {
    pub found: u64,
    pub resolved: u64,
}

/// [`SqlRepository::account_histories`]: by account, and the requests not yet tied to one by name.
#[derive(Default)]
struct Histories {
    by_account: HashMap<i64, AccountHistory>,
    requests_by_name: HashMap<String, (i64, domain::requests::ValidRequest)>,
}

impl Histories {
    fn remove(&mut self, account: &i64) -> Option<AccountHistory> {
        self.by_account.remove(account)
    }
}

#[async_trait]
pub trait ReviewStore {
    /// Works out every finding again, from every live (not revoked, not gone) token and service
    /// account, and stores them: a new one open, a standing one updated, and one no longer found
    /// resolved (its decisions kept as history; found again later, it opens afresh).
    async fn refresh_findings(
        &self,
        policy: &ReviewPolicy,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<RefreshCounts, DbError>;

    /// Works out one token's findings again (after people changed what is said about it), as
    /// [`refresh_findings`](Self::refresh_findings) does for all.
    async fn refresh_token_findings(
        &self,
        token_id: i64,
        policy: &ReviewPolicy,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<RefreshCounts, DbError>;

    /// Standing findings by severity, then due date.
    async fn list_findings(&self, filter: &FindingFilter, today: NaiveDate) -> Result<FindingPage, DbError>;

    /// Every finding of one token, standing ones first, with every decision on each (oldest
    /// first), for the token's page.
    async fn token_review(&self, token_id: i64, today: NaiveDate) -> Result<Vec<FindingHistory>, DbError>;

    /// The owner team of each standing finding among `ids` (absent: not a standing finding).
    async fn finding_teams(&self, ids: &[i64]) -> Result<HashMap<i64, Option<i64>>, DbError>;

    /// The standing findings of `rule` about service accounts: the accounts' GitLab ids.
    async fn accounts_found(&self, rule: FindingRule) -> Result<Vec<i64>, DbError>;

    /// Records `decision` on each finding (with the token as it is now, and an audit log row),
    /// in one transaction; `NotFound` when one of them is not a standing finding.
    async fn decide(
        &self,
        finding_ids: &[i64],
        decision: &ValidDecision,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;
}

/// A live token with what the review needs beyond its summary: its notes, and how many leads its
/// owner team has (named in the teams file, or found a lead at their sign-in from GitLab).
#[derive(sqlx::FromRow)]
struct ReviewInputRow {
    #[sqlx(flatten)]
    token: TokenRow,
    notes: Option<String>,
    description: Option<String>,
    leads: i64,
    alert_channel: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct FindingRow {
    id: i64,
    rule: String,
    token_id: Option<i64>,
    account_gitlab_id: Option<i64>,
    kind: String,
    subject_name: String,
    subject_path: String,
    team_id: Option<i64>,
    team_name: Option<String>,
    severity: String,
    due_on: NaiveDate,
    detail: String,
    fix: String,
    first_found_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    decision: Option<String>,
    reason: Option<String>,
    until_on: Option<NaiveDate>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    token_scopes: Option<String>,
    token_expires_on: Option<String>,
    holds: i32,
}

impl TryFrom<FindingRow> for StoredFinding {
    type Error = DbError;

    fn try_from(row: FindingRow) -> Result<Self, DbError> {
        let subject = match (row.token_id, row.account_gitlab_id) {
            (Some(token), _) => Subject::Token(token),
            (None, Some(account)) => Subject::Account(account),
            (None, None) => return Err(DbError::Corrupt(format!("finding {} has no subject", row.id))),
        };
        let decision = match (row.decision, row.decided_by, row.decided_at) {
            (Some(kind), Some(by), Some(at)) => Some(decision(
                &kind,
                row.reason,
                row.until_on,
                by,
                at,
                row.token_scopes.as_deref(),
                row.token_expires_on.as_deref(),
            )?),
            _ => None,
        };
        Ok(StoredFinding {
            id: row.id,
            finding: Finding {
                rule: row.rule.parse()?,
                severity: row.severity.parse()?,
                subject,
                due_on: row.due_on,
                detail: row.detail,
                fix: row.fix,
            },
            kind: row.kind,
            subject_name: row.subject_name,
            subject_path: row.subject_path,
            team: row.team_id.zip(row.team_name).map(|(id, name)| TeamRef { id, name }),
            first_found_at: row.first_found_at,
            resolved_at: row.resolved_at,
            decision,
            decided: row.holds == 1,
        })
    }
}

/// A finding to store, with what the queue shows and filters by.
struct FindingToStore {
    finding: Finding,
    kind: String,
    name: String,
    path: String,
    team_id: Option<i64>,
}

impl FindingToStore {
    fn subject_key(&self) -> String {
        match self.finding.subject {
            Subject::Token(id) => format!("token:{id}"),
            Subject::Account(id) => format!("account:{id}"),
        }
    }
}

const FINDING_COLUMNS: &str = "SELECT f.id, f.rule, f.token_id, f.account_gitlab_id, f.kind, f.subject_name, \
     f.subject_path, f.team_id, tm.name AS team_name, f.severity, f.due_on, f.detail, f.fix, f.first_found_at, \
     f.resolved_at, d.decision, d.reason, d.until_on, d.decided_by, d.decided_at, d.token_scopes, \
     d.token_expires_on, ";

const FINDING_FROM: &str = " FROM findings f LEFT JOIN teams tm ON tm.id = f.team_id \
     LEFT JOIN tokens t ON t.id = f.token_id \
     LEFT JOIN finding_decisions d ON d.id = (SELECT MAX(x.id) FROM finding_decisions x WHERE x.finding_id = f.id)";

/// A finding's latest decision, as `d`.
pub(crate) const LATEST_DECISION: &str =
    " LEFT JOIN finding_decisions d ON d.id = (SELECT MAX(x.id) FROM finding_decisions x WHERE x.finding_id = f.id)";

/// `SELECT` of findings with their latest decision and whether it holds `today`, up to `FROM …`.
fn select_findings<'q, DB: Db>(today: NaiveDate) -> QueryBuilder<'q, DB>
where
    for<'a> NaiveDate: Encode<'a, DB> + Type<DB>,
{
    let mut select = QueryBuilder::<DB>::new(FINDING_COLUMNS);
    select
        .push(HOLDS)
        .push_bind(today)
        .push(HOLDS_END)
        .push(" AS holds")
        .push(FINDING_FROM);
    select
}

/// Which live tokens a refresh reads.
#[derive(Debug, Clone, Copy)]
enum Tokens {
    One(i64),
    /// The first so many with an id above this one, in id order.
    After(i64, i64),
}

/// Tokens a full refresh reads and stores at a time: its memory is one batch's findings.
const REFRESH_BATCH: i64 = 5_000;

/// Which standing findings that a refresh did not find it resolves.
#[derive(Debug, Clone, Copy)]
enum Resolve {
    /// None (a batch of a full refresh: the last one resolves).
    Nothing,
    /// Those of this token.
    OthersOf(i64),
    /// Every one.
    AllOthers,
}

/// Findings per upsert statement: 15 values each, well under SQLite's limit of bound values.
const UPSERT_BATCH: usize = 500;

/// The filters of a finding query (the rule's too unless `with_rule` is false), after `WHERE`.
pub(crate) fn push_filters<DB: Db>(
    builder: &mut QueryBuilder<'_, DB>,
    filter: &FindingFilter,
    today: NaiveDate,
    with_rule: bool,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
{
    builder.push(" WHERE f.resolved_at IS NULL");
    if let Some(team) = filter.team {
        builder.push(" AND f.team_id = ").push_bind(team);
    }
    if let Some(rule) = filter.rule.filter(|_| with_rule) {
        builder.push(" AND f.rule = ").push_bind(rule.as_str().to_owned());
    }
    if let Some(kind) = filter.kind {
        builder.push(" AND f.kind = ").push_bind(kind.as_str().to_owned());
    }
    if let Some(teams) = &filter.within_teams {
        // No team at all: nothing (`IN ()` is not SQL).
        builder.push(" AND f.team_id IN (");
        let mut list = builder.separated(", ");
        list.push_bind(-1_i64);
        for team in teams {
            list.push_bind(*team);
        }
        list.push_unseparated(")");
    }
    if let Some(severity) = filter.severity {
        builder
            .push(" AND f.severity = ")
            .push_bind(severity.as_str().to_owned());
    }
    // `<> 1`, not `= 0` (the same, as the rule is 0 or 1): a planner guesses that an expression
    // equals a constant for few rows, and would then collect every finding and sort them instead
    // of walking the queue's order and stopping after a page; most findings are open.
    let wanted = match filter.state {
        FindingState::Open => " <> 1",
        FindingState::Decided => " = 1",
        FindingState::All => return,
    };
    builder
        .push(" AND ")
        .push(HOLDS)
        .push_bind(today)
        .push(HOLDS_END)
        .push(wanted);
}

#[async_trait]
impl<DB: Db> ReviewStore for SqlRepository<DB>
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
    async fn refresh_findings(
        &self,
        policy: &ReviewPolicy,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<RefreshCounts, DbError> {
        // A batch of tokens at a time, each batch's findings stored in a transaction of its own,
        // so memory holds one batch whatever the number of tokens. Only at the end, once every
        // finding of this refresh is stored (`last_found_at = at`), are the others resolved: a
        // refresh that fails half-way resolves nothing.
        let group_projects = self.projects_per_group().await?;
        let mut flags = self.recert_flags(None).await?.tokens;
        let mut found = 0;
        let mut after = 0;
        loop {
            let batch = Tokens::After(after, REFRESH_BATCH);
            let (findings, last) = self
                .token_findings_of(batch, &group_projects, &mut flags, policy, today)
                .await?;
            let Some(last) = last else { break };
            found += findings.len() as u64;
            self.store_findings(&findings, Resolve::Nothing, at).await?;
            after = last;
        }
        let accounts = self.account_findings_all(policy, today).await?;
        let resolved = self.store_findings(&accounts, Resolve::AllOthers, at).await?;
        Ok(RefreshCounts {
            found: found + accounts.len() as u64,
            resolved,
        })
    }

    async fn refresh_token_findings(
        &self,
        token_id: i64,
        policy: &ReviewPolicy,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<RefreshCounts, DbError> {
        let mut flags = self.recert_flags(Some(token_id)).await?.tokens;
        let (found, _) = self
            .token_findings_of(Tokens::One(token_id), &HashMap::new(), &mut flags, policy, today)
            .await?;
        let resolved = self.store_findings(&found, Resolve::OthersOf(token_id), at).await?;
        Ok(RefreshCounts {
            found: found.len() as u64,
            resolved,
        })
    }

    async fn list_findings(&self, filter: &FindingFilter, today: NaiveDate) -> Result<FindingPage, DbError> {
        // The page's ids first, walking the queue's order without the rows' text (a deep page
        // skips thousands), then those rows whole.
        let mut select = select_findings::<DB>(today);
        select.push(" WHERE f.id IN (SELECT f.id FROM findings f LEFT JOIN tokens t ON t.id = f.token_id ");
        select.push(LATEST_DECISION);
        push_filters(&mut select, filter, today, true);
        select.push(" ORDER BY f.severity_rank, f.due_on, f.id");
        push_page(&mut select, filter.limit.clamp(1, 10_000), filter.offset);
        select.push(") ORDER BY f.severity_rank, f.due_on, f.id");
        let rows: Vec<FindingRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let findings = rows
            .into_iter()
            .map(StoredFinding::try_from)
            .collect::<Result<Vec<_>, _>>()?;

        let by_rule = self.counts_per_rule(filter, today).await?;
        let total = by_rule
            .iter()
            .filter(|(rule, _)| filter.rule.is_none_or(|wanted| wanted == *rule))
            .map(|(_, n)| n)
            .sum();
        Ok(FindingPage {
            findings,
            total,
            by_rule,
        })
    }

    async fn token_review(&self, token_id: i64, today: NaiveDate) -> Result<Vec<FindingHistory>, DbError> {
        let mut select = select_findings::<DB>(today);
        select
            .push(" WHERE f.token_id = ")
            .push_bind(token_id)
            .push(" ORDER BY CASE WHEN f.resolved_at IS NULL THEN 0 ELSE 1 END, f.severity_rank, f.due_on, f.id");
        let rows: Vec<FindingRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let decisions: Vec<DecisionRow> = sqlx::query_as(
            "SELECT d.finding_id, d.decision, d.reason, d.until_on, d.decided_by, d.decided_at, d.token_scopes, \
             d.token_expires_on FROM finding_decisions d JOIN findings f ON f.id = d.finding_id \
             WHERE f.token_id = $1 ORDER BY d.id",
        )
        .bind(token_id)
        .fetch_all(self.pool())
        .await?;
        let mut found = Vec::new();
        for row in rows {
            let finding = StoredFinding::try_from(row)?;
            let decisions = decisions
                .iter()
                .filter(|decision| decision.finding_id == finding.id)
                .map(|decision| decision.to_decision())
                .collect::<Result<Vec<_>, _>>()?;
            found.push(FindingHistory { finding, decisions });
        }
        Ok(found)
    }

    async fn accounts_found(&self, rule: FindingRule) -> Result<Vec<i64>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT account_gitlab_id FROM findings WHERE rule = $1 AND resolved_at IS NULL \
             AND account_gitlab_id IS NOT NULL ORDER BY account_gitlab_id",
        )
        .bind(rule.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    async fn finding_teams(&self, ids: &[i64]) -> Result<HashMap<i64, Option<i64>>, DbError> {
        let mut found = std::collections::HashMap::new();
        for chunk in ids.chunks(UPSERT_BATCH) {
            let mut select =
                QueryBuilder::<DB>::new("SELECT id, team_id FROM findings WHERE resolved_at IS NULL AND id IN (");
            let mut list = select.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            let rows: Vec<FindingTeamRow> = DB::fetch_all(&mut select, self.pool()).await?;
            found.extend(rows.into_iter().map(|row| (row.id, row.team_id)));
        }
        Ok(found)
    }

    async fn decide(
        &self,
        finding_ids: &[i64],
        decision: &ValidDecision,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        for id in finding_ids {
            let found: Option<DecidedOnRow> = sqlx::query_as(
                "SELECT f.rule, f.subject_key, t.scopes, CAST(t.expires_on AS TEXT) AS expires_on \
                 FROM findings f LEFT JOIN tokens t ON t.id = f.token_id WHERE f.id = $1 AND f.resolved_at IS NULL",
            )
            .bind(*id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(found) = found else {
                return Err(DbError::NotFound(format!("finding {id}")));
            };
            sqlx::query(
                "INSERT INTO finding_decisions (finding_id, decision, reason, until_on, decided_by, decided_at, \
                 token_scopes, token_expires_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(*id)
            .bind(decision.kind.as_str())
            .bind(&decision.reason)
            .bind(decision.until)
            .bind(by)
            .bind(at)
            .bind(&found.scopes)
            .bind(&found.expires_on)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "finding": id,
                "rule": found.rule,
                "decision": decision.kind.as_str(),
                "reason": decision.reason,
                "until": decision.until,
            });
            Self::audit(&mut tx, at, by, "finding.decided", &found.subject_key, &detail).await?;
        }
        sqlx::query(BUMP_REVIEW_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    finding_id: i64,
    decision: String,
    reason: Option<String>,
    until_on: Option<NaiveDate>,
    decided_by: String,
    decided_at: DateTime<Utc>,
    token_scopes: Option<String>,
    token_expires_on: Option<String>,
}

impl DecisionRow {
    fn to_decision(&self) -> Result<Decision, DbError> {
        decision(
            &self.decision,
            self.reason.clone(),
            self.until_on,
            self.decided_by.clone(),
            self.decided_at,
            self.token_scopes.as_deref(),
            self.token_expires_on.as_deref(),
        )
    }
}

/// A decision from its stored columns; the token's state is there for a token's finding.
fn decision(
    kind: &str,
    reason: Option<String>,
    until: Option<NaiveDate>,
    by: String,
    at: DateTime<Utc>,
    token_scopes: Option<&str>,
    token_expires_on: Option<&str>,
) -> Result<Decision, DbError> {
    Ok(Decision {
        kind: kind.parse::<DecisionKind>()?,
        reason,
        until,
        by,
        at,
        token: token_scopes.map(|scopes| TokenState {
            scopes: split_scopes(scopes),
            expires_on: token_expires_on.and_then(|date| date.parse().ok()),
        }),
    })
}

#[derive(sqlx::FromRow)]
struct FindingTeamRow {
    id: i64,
    team_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RuleCountRow {
    rule: String,
    total: i64,
}

#[derive(sqlx::FromRow)]
struct DecidedOnRow {
    rule: String,
    subject_key: String,
    scopes: Option<String>,
    expires_on: Option<String>,
}

impl<DB: Db> SqlRepository<DB>
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
    /// The findings the policy makes today of live tokens (see [`Tokens`]), and the last token id
    /// read (`None`: no token). `group_projects`: how many projects each group holds (see
    /// [`Self::projects_per_group`]; read here when empty and a group token needs it); `flags`:
    /// the recertification flags not yet used.
    async fn token_findings_of(
        &self,
        tokens: Tokens,
        group_projects: &HashMap<String, usize>,
        flags: &mut HashMap<i64, domain::review::RecertFlag>,
        policy: &ReviewPolicy,
        today: NaiveDate,
    ) -> Result<(Vec<FindingToStore>, Option<i64>), DbError> {
        let mut select = QueryBuilder::<DB>::new(format!(
            "SELECT {TOKEN_COLUMNS}, o.notes AS notes, t.description AS description, \
             ((SELECT COUNT(*) FROM team_leads l WHERE l.team_id = tm.id) \
             + (SELECT COUNT(*) FROM user_teams u WHERE u.team_id = tm.id AND u.is_lead)) AS leads, \
             tm.alert_channel AS alert_channel{TOKEN_FROM} \
             WHERE t.gone_since IS NULL AND NOT t.revoked"
        ));
        match tokens {
            Tokens::One(id) => {
                select.push(" AND t.id = ").push_bind(id);
            }
            Tokens::After(after, limit) => {
                select
                    .push(" AND t.id > ")
                    .push_bind(after)
                    .push(" ORDER BY t.id LIMIT ")
                    .push_bind(limit);
            }
        }
        let rows: Vec<ReviewInputRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let last = rows.last().map(|row| row.token.id);
        // A group token needs its group's project count: read here when the caller did not (an
        // ownership edit refreshes one token, mostly not a group's).
        let read;
        let group_projects =
            if group_projects.is_empty() && rows.iter().any(|row| row.token.kind == TokenKind::GroupAccess.as_str()) {
                read = self.projects_per_group().await?;
                &read
            } else {
                group_projects
            };
        let mut found = Vec::new();
        for row in rows {
            let token = TokenSummary::try_from(row.token)?;
            let reviewed = TokenUnderReview {
                recert_flag: flags.remove(&token.id),
                group_projects: (token.kind == TokenKind::GroupAccess)
                    .then(|| group_projects.get(&token.container_path).copied().unwrap_or(0)),
                owner_team_leads: token
                    .owner_team
                    .as_ref()
                    .map(|_| usize::try_from(row.leads).unwrap_or(0)),
                owner_team_has_channel: token.owner_team.as_ref().and(row.alert_channel),
                notes: row.notes,
                description: row.description,
                token,
            };
            let team_id = reviewed.token.owner_team.as_ref().map(|team| team.id);
            for finding in token_findings(&reviewed, policy, today) {
                found.push(FindingToStore {
                    finding,
                    kind: reviewed.token.kind.as_str().to_owned(),
                    name: reviewed.token.name.clone(),
                    path: reviewed.token.container_path.clone(),
                    team_id,
                });
            }
        }
        Ok((found, last))
    }

    /// The standing findings per rule under `filter` (but its rule), kept per review version:
    /// counting them all with their decisions is the queue's one slow part at scale.
    async fn counts_per_rule(
        &self,
        filter: &FindingFilter,
        today: NaiveDate,
    ) -> Result<Vec<(FindingRule, u64)>, DbError> {
        let version: i64 = sqlx::query_scalar(REVIEW_VERSION).fetch_one(self.pool()).await?;
        let key = format!(
            "{today}{:?}",
            FindingFilter {
                rule: None,
                offset: 0,
                limit: 0,
                ..filter.clone()
            }
        );
        if let Some(counted) = self.finding_counts.get(&key, version) {
            return Ok(counted);
        }
        let mut counts = QueryBuilder::<DB>::new("SELECT f.rule AS rule, COUNT(*) AS total");
        counts.push(FINDING_FROM);
        push_filters(&mut counts, filter, today, false);
        counts.push(" GROUP BY f.rule");
        let rows: Vec<RuleCountRow> = DB::fetch_all(&mut counts, self.pool()).await?;
        let mut by_rule = rows
            .into_iter()
            .map(|row| Ok((row.rule.parse::<FindingRule>()?, u64::try_from(row.total).unwrap_or(0))))
            .collect::<Result<Vec<_>, DbError>>()?;
        by_rule.sort();
        self.finding_counts.put(key, version, by_rule.clone());
        Ok(by_rule)
    }

    /// How many live projects each group holds, with its subgroups', by the group's full path.
    async fn projects_per_group(&self) -> Result<HashMap<String, usize>, DbError> {
        let mut select =
            QueryBuilder::<DB>::new("SELECT path_with_namespace FROM gitlab_projects WHERE gone_since IS NULL");
        let paths: Vec<(String,)> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut counts = HashMap::new();
        for (path,) in paths {
            let mut group = path.as_str();
            while let Some((parent, _)) = group.rsplit_once('/') {
                *counts.entry(parent.to_owned()).or_insert(0) += 1;
                group = parent;
            }
        }
        Ok(counts)
    }

    /// What the request process knows of each service account: when sync first saw it, from when
    /// requests were required (the later of the first finished sync and the policy's day), and
    /// the approved or fulfilled request that asked for it (by the account, else by its name).
    async fn account_histories(&self, policy: &ReviewPolicy) -> Result<Histories, DbError> {
        let first_sync: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT MIN(finished_at) FROM sync_runs WHERE status IN ('succeeded', 'partial')")
                .fetch_one(self.pool())
                .await?;
        let required = policy
            .requests_since
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|midnight| midnight.and_utc());
        let since = first_sync.map(|first| required.map_or(first, |required| required.max(first)));
        let seen: Vec<(i64, DateTime<Utc>)> =
            sqlx::query_as("SELECT gitlab_id, first_seen_at FROM accounts WHERE kind = 'service_account'")
                .fetch_all(self.pool())
                .await?;
        let mut histories = Histories::default();
        for (account, first_seen) in seen {
            histories.by_account.insert(
                account,
                AccountHistory {
                    first_seen: Some(first_seen),
                    requests_since: since,
                    request: None,
                    recert_flag: None,
                },
            );
        }
        let asked: Vec<(i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, account_name, body, account_gitlab_id FROM service_account_requests \
             WHERE state IN ('approved', 'fulfilled') ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        for (id, name, body, account) in asked {
            let body: domain::requests::ValidRequest =
                serde_json::from_str(&body).map_err(|error| DbError::Corrupt(format!("request {id}: {error}")))?;
            match account.and_then(|account| histories.by_account.get_mut(&account)) {
                Some(history) => history.request = Some((id, body)),
                None => {
                    histories.requests_by_name.insert(name.to_lowercase(), (id, body));
                }
            }
        }
        Ok(histories)
    }

    /// The findings of every service account still in GitLab.
    async fn account_findings_all(
        &self,
        policy: &ReviewPolicy,
        today: NaiveDate,
    ) -> Result<Vec<FindingToStore>, DbError> {
        let mut found = Vec::new();
        let mut histories = self.account_histories(policy).await?;
        let mut flags = self.recert_flags(None).await?.accounts;
        for account in crate::Repository::list_service_accounts(self).await? {
            let team_id = account.owner.as_ref().map(|owner| owner.team.id);
            let history = histories.remove(&account.gitlab_id).unwrap_or_default();
            let request = history
                .request
                .clone()
                .or_else(|| histories.requests_by_name.remove(&account.username.to_lowercase()));
            let history = AccountHistory {
                request,
                recert_flag: flags.remove(&account.gitlab_id),
                ..history
            };
            for finding in account_findings(&account, &history, policy, today) {
                found.push(FindingToStore {
                    finding,
                    kind: "service_account".to_owned(),
                    name: account.username.clone(),
                    path: account.group_path.clone().unwrap_or_default(),
                    team_id,
                });
            }
        }
        Ok(found)
    }

    /// Stores what a refresh found at `at`: each finding upserted, and the standing ones it did
    /// not find resolved as `resolve` says; how many were resolved.
    async fn store_findings(
        &self,
        found: &[FindingToStore],
        resolve: Resolve,
        at: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        for batch in found.chunks(UPSERT_BATCH) {
            let mut upsert = QueryBuilder::<DB>::new(
                "INSERT INTO findings (rule, subject_key, token_id, account_gitlab_id, kind, subject_name, \
                 subject_path, team_id, severity, severity_rank, due_on, detail, fix, first_found_at, last_found_at) ",
            );
            upsert.push_values(batch, |mut row, item| {
                let (token, account) = match item.finding.subject {
                    Subject::Token(id) => (Some(id), None),
                    Subject::Account(id) => (None, Some(id)),
                };
                row.push_bind(item.finding.rule.as_str().to_owned())
                    .push_bind(item.subject_key())
                    .push_bind(token)
                    .push_bind(account)
                    .push_bind(item.kind.clone())
                    .push_bind(item.name.clone())
                    .push_bind(item.path.clone())
                    .push_bind(item.team_id)
                    .push_bind(item.finding.severity.as_str().to_owned())
                    .push_bind(item.finding.severity as i32)
                    .push_bind(item.finding.due_on)
                    .push_bind(item.finding.detail.clone())
                    .push_bind(item.finding.fix.clone())
                    .push_bind(at)
                    .push_bind(at);
            });
            // A finding found again after it was resolved opens afresh: decisions made before
            // then no longer hold (they are older than its `first_found_at`). Refreshes run at
            // once (a sync's, one token's after an answer or an edit), and one that began earlier
            // may store later: it changes nothing a later refresh found or resolved. Else it
            // would reopen what the later one resolved, or date back what the later one found,
            // which the later one then resolves as not found (a flag at recertification, found
            // by its answer's refresh, went that way while a sync's refresh ran).
            upsert.push(
                " ON CONFLICT (rule, subject_key) DO UPDATE SET kind = excluded.kind, \
                 subject_name = excluded.subject_name, subject_path = excluded.subject_path, \
                 team_id = excluded.team_id, severity = excluded.severity, severity_rank = excluded.severity_rank, \
                 due_on = excluded.due_on, detail = excluded.detail, fix = excluded.fix, \
                 first_found_at = CASE WHEN findings.resolved_at IS NULL THEN findings.first_found_at \
                 ELSE excluded.first_found_at END, \
                 last_found_at = excluded.last_found_at, resolved_at = NULL \
                 WHERE excluded.last_found_at >= findings.last_found_at \
                 AND (findings.resolved_at IS NULL OR excluded.last_found_at >= findings.resolved_at)",
            );
            DB::execute(&mut upsert, &mut *tx).await?;
        }
        let mut update = QueryBuilder::<DB>::new("UPDATE findings SET resolved_at = ");
        update
            .push_bind(at)
            .push(" WHERE resolved_at IS NULL AND last_found_at < ")
            .push_bind(at);
        let resolved = match resolve {
            Resolve::Nothing => 0,
            Resolve::OthersOf(token) => {
                update.push(" AND token_id = ").push_bind(token);
                DB::execute(&mut update, &mut *tx).await?
            }
            Resolve::AllOthers => DB::execute(&mut update, &mut *tx).await?,
        };
        sqlx::query(BUMP_REVIEW_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(resolved)
    }
}
