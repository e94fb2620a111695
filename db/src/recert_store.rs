//! Recertification campaigns: each campaign, the items it took at opening (a token or service
//! account as it was then: the evidence stays true after it changes), and each item's latest
//! answer (every answer is in `audit_log`). One SQL text for both backends, like [`crate::sql`].

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::sql::{Db, SqlRepository, TOKEN_COLUMNS, TOKEN_FROM};
use crate::{DbError, TokenRow};
use domain::{
    TeamRef, TokenSummary,
    recertification::{Answer, Answered, CampaignScope, Candidate, ItemKind, TeamProgress, ValidCampaign},
    review::{RecertFlag, Subject},
};

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: i64,
    pub scope: CampaignScope,
    pub due_on: NaiveDate,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Campaign {
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }

    /// Its progress, from its teams' counts ([`RecertStore::campaign_progress`]).
    pub fn progress(
        &self,
        teams: Vec<domain::recertification::TeamProgress>,
    ) -> domain::recertification::CampaignProgress {
        domain::recertification::CampaignProgress {
            campaign_id: self.id,
            scope: self.scope,
            opened_on: self.opened_at.date_naive(),
            due_on: self.due_on,
            closed: self.is_closed(),
            teams,
        }
    }
}

/// An item of a campaign: what it was at opening, and its latest answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignItem {
    pub id: i64,
    pub campaign_id: i64,
    /// The token (`None` once it is no longer in the inventory) or the service account.
    pub subject: Option<Subject>,
    pub kind: ItemKind,
    pub name: String,
    pub path: String,
    pub team: TeamRef,
    pub purpose: Option<String>,
    pub answered: Option<Answered>,
}

#[async_trait]
pub trait RecertStore {
    /// Every live token (not revoked, not gone, not expired on `today`) and every service
    /// account still in GitLab, with its owner team (set by a person, else inferred) and purpose:
    /// what a campaign opened today could hold.
    async fn recert_candidates(&self, today: NaiveDate) -> Result<Vec<Candidate>, DbError>;

    /// Opens a campaign holding `items` (as they are now), with its audit row, in one
    /// transaction; answers its id.
    async fn open_campaign(
        &self,
        campaign: &ValidCampaign,
        items: &[Candidate],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, DbError>;

    /// Every campaign, newest first.
    async fn list_campaigns(&self) -> Result<Vec<Campaign>, DbError>;

    async fn campaign(&self, id: i64) -> Result<Option<Campaign>, DbError>;

    /// Each campaign's progress per team (by the team's name at opening), one aggregate: by
    /// campaign id.
    async fn campaign_progress(&self) -> Result<HashMap<i64, Vec<TeamProgress>>, DbError>;

    /// A campaign's items (of team `team` only, when given), by kind then name.
    async fn campaign_items(&self, campaign_id: i64, team: Option<i64>) -> Result<Vec<CampaignItem>, DbError>;

    /// The team of each of `item_ids` that belongs to campaign `campaign_id` (absent: not one of
    /// its items).
    async fn item_teams(&self, campaign_id: i64, item_ids: &[i64]) -> Result<HashMap<i64, i64>, DbError>;

    /// Records `answer` on each item (replacing an earlier answer), an audit row each, in one
    /// transaction; `Conflict` when the campaign is closed (or closes meanwhile), `NotFound` when an
    /// item is not the campaign's. Answers the subjects answered.
    async fn answer_items(
        &self,
        campaign_id: i64,
        item_ids: &[i64],
        answer: &Answer,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Subject>, DbError>;

    /// Closes a campaign, with its audit row; `Conflict` when it is closed already.
    async fn close_campaign(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<(), DbError>;
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    scope: String,
    scope_team_id: Option<i64>,
    scope_kind: Option<String>,
    due_on: NaiveDate,
    opened_by: String,
    opened_at: DateTime<Utc>,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = DbError;

    fn try_from(row: CampaignRow) -> Result<Self, DbError> {
        let scope = CampaignScope::from_parts(&row.scope, row.scope_team_id, row.scope_kind.as_deref())
            // A scope's team that was since removed: the campaign still stands, over "a team".
            .or_else(|| (row.scope == "team").then_some(CampaignScope::Team(-1)))
            .ok_or_else(|| DbError::Corrupt(format!("campaign {} has no known scope", row.id)))?;
        Ok(Campaign {
            id: row.id,
            scope,
            due_on: row.due_on,
            opened_by: row.opened_by,
            opened_at: row.opened_at,
            closed_by: row.closed_by,
            closed_at: row.closed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    campaign_id: i64,
    token_id: Option<i64>,
    account_gitlab_id: Option<i64>,
    kind: String,
    name: String,
    path: String,
    team_id: i64,
    team_name: String,
    purpose: Option<String>,
    answer: Option<String>,
    reason: Option<String>,
    answered_by: Option<String>,
    answered_at: Option<DateTime<Utc>>,
}

impl TryFrom<ItemRow> for CampaignItem {
    type Error = DbError;

    fn try_from(row: ItemRow) -> Result<Self, DbError> {
        let answered = match (row.answer, row.answered_by, row.answered_at) {
            (Some(answer), Some(by), Some(at)) => Some(Answered {
                answer: Answer::from_parts(&answer, row.reason)
                    .ok_or_else(|| DbError::Corrupt(format!("item {} has the answer {answer:?}", row.id)))?,
                by,
                at,
            }),
            _ => None,
        };
        Ok(CampaignItem {
            id: row.id,
            campaign_id: row.campaign_id,
            subject: subject(row.token_id, row.account_gitlab_id),
            kind: row.kind.parse()?,
            name: row.name,
            path: row.path,
            team: TeamRef {
                id: row.team_id,
                name: row.team_name,
            },
            purpose: row.purpose,
            answered,
        })
    }
}

fn subject(token: Option<i64>, account: Option<i64>) -> Option<Subject> {
    match (token, account) {
        (Some(token), _) => Some(Subject::Token(token)),
        (None, Some(account)) => Some(Subject::Account(account)),
        (None, None) => None,
    }
}

fn subject_key(subject: Option<Subject>) -> String {
    match subject {
        Some(Subject::Token(id)) => format!("token:{id}"),
        Some(Subject::Account(id)) => format!("account:{id}"),
        None => "token:gone".to_owned(),
    }
}

#[derive(sqlx::FromRow)]
struct ProgressRow {
    campaign_id: i64,
    team_id: i64,
    team_name: String,
    total: i64,
    answered: i64,
    flagged: i64,
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    campaign_id: i64,
    token_id: Option<i64>,
    account_gitlab_id: Option<i64>,
    answer: String,
    reason: Option<String>,
    answered_by: String,
    answered_at: DateTime<Utc>,
    token_changed_at: Option<DateTime<Utc>>,
    account_changed_at: Option<DateTime<Utc>>,
}

/// The standing flags, by subject: see [`SqlRepository::recert_flags`].
#[derive(Debug, Default)]
pub(crate) struct Flags {
    pub tokens: HashMap<i64, RecertFlag>,
    pub accounts: HashMap<i64, RecertFlag>,
}

const ITEM_COLUMNS: &str = "SELECT id, campaign_id, token_id, account_gitlab_id, kind, name, path, team_id, \
     team_name, purpose, answer, reason, answered_by, answered_at FROM recert_items";

const CAMPAIGN_COLUMNS: &str = "SELECT id, scope, scope_team_id, scope_kind, due_on, opened_by, opened_at, \
     closed_by, closed_at FROM recert_campaigns";

/// Items per insert statement: 11 values each, well under SQLite's limit of bound values.
const INSERT_BATCH: usize = 500;

#[async_trait]
impl<DB: Db> RecertStore for SqlRepository<DB>
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
    async fn recert_candidates(&self, today: NaiveDate) -> Result<Vec<Candidate>, DbError> {
        let mut select = QueryBuilder::<DB>::new(format!(
            "SELECT {TOKEN_COLUMNS}{TOKEN_FROM} WHERE t.gone_since IS NULL AND NOT t.revoked \
             AND (t.expires_on IS NULL OR t.expires_on > "
        ));
        select.push_bind(today).push(") ORDER BY t.id");
        let rows: Vec<TokenRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut candidates = Vec::with_capacity(rows.len());
        for row in rows {
            let token = TokenSummary::try_from(row)?;
            candidates.push(Candidate {
                subject: Subject::Token(token.id),
                kind: ItemKind::from(token.kind),
                name: token.name,
                path: token.container_path,
                team: token.owner_team,
                purpose: token.purpose,
            });
        }
        for account in crate::Repository::list_service_accounts(self).await? {
            candidates.push(Candidate {
                subject: Subject::Account(account.gitlab_id),
                kind: ItemKind::ServiceAccount,
                name: account.username,
                path: account.group_path.unwrap_or_default(),
                team: account.owner.map(|owner| owner.team),
                purpose: None,
            });
        }
        Ok(candidates)
    }

    async fn open_campaign(
        &self,
        campaign: &ValidCampaign,
        items: &[Candidate],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, DbError> {
        let (scope, scope_team, scope_kind) = campaign.scope.parts();
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO recert_campaigns (scope, scope_team_id, scope_kind, due_on, opened_by, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(scope)
        .bind(scope_team)
        .bind(scope_kind.map(ItemKind::as_str))
        .bind(campaign.due_on)
        .bind(by)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        for batch in items.chunks(INSERT_BATCH) {
            let mut insert = QueryBuilder::<DB>::new(
                "INSERT INTO recert_items (campaign_id, token_id, account_gitlab_id, kind, name, path, team_id, \
                 team_name, purpose) ",
            );
            insert.push_values(batch, |mut row, item| {
                let (token, account) = match item.subject {
                    Subject::Token(id) => (Some(id), None),
                    Subject::Account(id) => (None, Some(id)),
                };
                let (team_id, team_name) = item
                    .team
                    .as_ref()
                    .map_or((-1, String::new()), |team| (team.id, team.name.clone()));
                row.push_bind(id)
                    .push_bind(token)
                    .push_bind(account)
                    .push_bind(item.kind.as_str().to_owned())
                    .push_bind(item.name.clone())
                    .push_bind(item.path.clone())
                    .push_bind(team_id)
                    .push_bind(team_name)
                    .push_bind(item.purpose.clone());
            });
            DB::execute(&mut insert, &mut *tx).await?;
        }
        let detail = serde_json::json!({
            "scope": campaign.scope,
            "due_on": campaign.due_on,
            "items": items.len(),
        });
        Self::audit(
            &mut tx,
            at,
            by,
            "recertification.opened",
            &format!("campaign:{id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_campaigns(&self) -> Result<Vec<Campaign>, DbError> {
        let rows: Vec<CampaignRow> = sqlx::query_as(&format!("{CAMPAIGN_COLUMNS} ORDER BY id DESC"))
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(Campaign::try_from).collect()
    }

    async fn campaign(&self, id: i64) -> Result<Option<Campaign>, DbError> {
        let row: Option<CampaignRow> = sqlx::query_as(&format!("{CAMPAIGN_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(Campaign::try_from).transpose()
    }

    async fn campaign_progress(&self) -> Result<HashMap<i64, Vec<TeamProgress>>, DbError> {
        let rows: Vec<ProgressRow> = sqlx::query_as(
            "SELECT campaign_id, team_id, team_name, COUNT(*) AS total, COUNT(answer) AS answered, \
             SUM(CASE WHEN answer = 'flagged' THEN 1 ELSE 0 END) AS flagged FROM recert_items \
             GROUP BY campaign_id, team_id, team_name ORDER BY campaign_id, team_name, team_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut progress: HashMap<i64, Vec<TeamProgress>> = HashMap::new();
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        for row in rows {
            progress.entry(row.campaign_id).or_default().push(TeamProgress {
                team: TeamRef {
                    id: row.team_id,
                    name: row.team_name,
                },
                total: count(row.total),
                answered: count(row.answered),
                flagged: count(row.flagged),
            });
        }
        Ok(progress)
    }

    async fn campaign_items(&self, campaign_id: i64, team: Option<i64>) -> Result<Vec<CampaignItem>, DbError> {
        let mut select = QueryBuilder::<DB>::new(ITEM_COLUMNS);
        select.push(" WHERE campaign_id = ").push_bind(campaign_id);
        if let Some(team) = team {
            select.push(" AND team_id = ").push_bind(team);
        }
        select.push(" ORDER BY team_name, kind, name, id");
        let rows: Vec<ItemRow> = DB::fetch_all(&mut select, self.pool()).await?;
        rows.into_iter().map(CampaignItem::try_from).collect()
    }

    async fn item_teams(&self, campaign_id: i64, item_ids: &[i64]) -> Result<HashMap<i64, i64>, DbError> {
        let mut teams = HashMap::new();
        for chunk in item_ids.chunks(INSERT_BATCH) {
            let mut select = QueryBuilder::<DB>::new("SELECT id, team_id FROM recert_items WHERE campaign_id = ");
            select.push_bind(campaign_id).push(" AND id IN (");
            let mut list = select.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            let rows: Vec<(i64, i64)> = DB::fetch_all(&mut select, self.pool()).await?;
            teams.extend(rows);
        }
        Ok(teams)
    }

    async fn answer_items(
        &self,
        campaign_id: i64,
        item_ids: &[i64],
        answer: &Answer,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Subject>, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        // Written first, so that (on PostgreSQL) a close waits for this answer or this answer sees
        // the close.
        let open = sqlx::query("UPDATE recert_campaigns SET due_on = due_on WHERE id = $1 AND closed_at IS NULL")
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&open) == 0 {
            return Err(match self.campaign(campaign_id).await? {
                Some(_) => DbError::Conflict("the campaign is closed: its answers are final".to_owned()),
                None => DbError::NotFound(format!("campaign {campaign_id}")),
            });
        }
        let mut answered = Vec::with_capacity(item_ids.len());
        for id in item_ids {
            let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                "UPDATE recert_items SET answer = $1, reason = $2, answered_by = $3, answered_at = $4 \
                 WHERE id = $5 AND campaign_id = $6 RETURNING token_id, account_gitlab_id",
            )
            .bind(answer.as_str())
            .bind(answer.reason())
            .bind(by)
            .bind(at)
            .bind(*id)
            .bind(campaign_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((token, account)) = row else {
                return Err(DbError::NotFound(format!("item {id} of campaign {campaign_id}")));
            };
            let found = subject(token, account);
            let detail = serde_json::json!({
                "campaign": campaign_id,
                "item": id,
                "answer": answer.as_str(),
                "reason": answer.reason(),
            });
            Self::audit(
                &mut tx,
                at,
                by,
                "recertification.answered",
                &subject_key(found),
                &detail,
            )
            .await?;
            answered.extend(found);
        }
        tx.commit().await?;
        Ok(answered)
    }

    async fn close_campaign(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let closed = sqlx::query(
            "UPDATE recert_campaigns SET closed_by = $1, closed_at = $2 WHERE id = $3 AND closed_at IS NULL",
        )
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&closed) == 0 {
            return Err(match self.campaign(id).await? {
                Some(_) => DbError::Conflict("the campaign is closed already".to_owned()),
                None => DbError::NotFound(format!("campaign {id}")),
            });
        }
        let progress: (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COUNT(answer) FROM recert_items WHERE campaign_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let detail = serde_json::json!({ "items": progress.0, "answered": progress.1 });
        Self::audit(
            &mut tx,
            at,
            by,
            "recertification.closed",
            &format!("campaign:{id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
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
    /// The flags that stand (of `only` that token, when given): each subject's latest answer
    /// across campaigns, when it is a flag and nobody changed what is said of the subject's owner
    /// and purpose since (a token's ownership, an account's owner team).
    pub(crate) async fn recert_flags(&self, only: Option<i64>) -> Result<Flags, DbError> {
        let mut select = QueryBuilder::<DB>::new(
            "SELECT i.campaign_id, i.token_id, i.account_gitlab_id, i.answer, i.reason, i.answered_by, \
             i.answered_at, o.updated_at AS token_changed_at, ao.updated_at AS account_changed_at \
             FROM recert_items i LEFT JOIN ownership o ON o.token_id = i.token_id \
             LEFT JOIN account_ownership ao ON ao.account_gitlab_id = i.account_gitlab_id \
             WHERE i.answered_at IS NOT NULL AND i.answered_by IS NOT NULL AND i.answer IS NOT NULL",
        );
        if let Some(token) = only {
            select.push(" AND i.token_id = ").push_bind(token);
        }
        select.push(" ORDER BY i.answered_at, i.id");
        let rows: Vec<FlagRow> = DB::fetch_all(&mut select, self.pool()).await?;
        let mut latest: HashMap<Subject, FlagRow> = HashMap::new();
        for row in rows {
            if let Some(found) = subject(row.token_id, row.account_gitlab_id) {
                latest.insert(found, row);
            }
        }
        let mut flags = Flags::default();
        for (found, row) in latest {
            let changed = row.token_changed_at.or(row.account_changed_at);
            let (Some(reason), "flagged") = (row.reason, row.answer.as_str()) else {
                continue;
            };
            if changed.is_some_and(|changed| changed > row.answered_at) {
                continue;
            }
            let flag = RecertFlag {
                campaign_id: row.campaign_id,
                reason,
                by: row.answered_by,
                at: row.answered_at,
            };
            match found {
                Subject::Token(id) => flags.tokens.insert(id, flag),
                Subject::Account(id) => flags.accounts.insert(id, flag),
            };
        }
        Ok(flags)
    }
}
