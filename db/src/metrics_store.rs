//! What the server's `/metrics` reads at every scrape: a few aggregate counts, each one `GROUP BY`
//! over an indexed table, so a scrape costs the database little. One SQL text for both backends,
//! like [`crate::sql`].

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::DbError;
use crate::review_store::{LATEST_DECISION, push_filters};
use crate::sql::{Db, SqlRepository};
use domain::{
    TokenKind, TokenStatus,
    review::{FindingRule, FindingState, Severity},
};

/// How many tokens of one kind, owner team and status there are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCount {
    pub kind: TokenKind,
    /// The owner team's name (set by a person, else inferred); `None`: no team owns them.
    pub team: Option<String>,
    pub status: TokenStatus,
    pub count: u64,
}

/// How many open findings (not resolved, no decision holding) of one rule and severity there are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCount {
    pub rule: FindingRule,
    pub severity: Severity,
    pub count: u64,
}

#[async_trait]
pub trait MetricsStore {
    /// Every token counted by kind, owner team and status as of `today` (gone, revoked, expired,
    /// active: [`TokenStatus::derive`]'s order).
    async fn token_counts(&self, today: NaiveDate) -> Result<Vec<TokenCount>, DbError>;

    /// For each of `windows` (days), how many active tokens expire after `today` and at most that
    /// many days from it: the tokens inside each notice window.
    async fn expiring_counts(&self, today: NaiveDate, windows: &[u32]) -> Result<Vec<(u32, u64)>, DbError>;

    /// The review's open findings (as its queue counts them) by rule and severity.
    async fn open_finding_counts(&self, today: NaiveDate) -> Result<Vec<FindingCount>, DbError>;
}

/// The status of token `t` as `TokenStatus::derive` works it out, `$today` bound where it is used.
const STATUS_CASE: &str = "CASE WHEN t.gone_since IS NOT NULL THEN 'gone' WHEN t.revoked THEN 'revoked' \
     WHEN t.expires_on IS NOT NULL AND t.expires_on <= ";

#[derive(sqlx::FromRow)]
struct TokenCountRow {
    kind: String,
    team: Option<String>,
    status: String,
    total: i64,
}

#[derive(sqlx::FromRow)]
struct FindingCountRow {
    rule: String,
    severity: String,
    total: i64,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    total: i64,
}

fn count(total: i64) -> u64 {
    u64::try_from(total).unwrap_or(0)
}

#[async_trait]
impl<DB: Db> MetricsStore for SqlRepository<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    async fn token_counts(&self, today: NaiveDate) -> Result<Vec<TokenCount>, DbError> {
        let mut select = QueryBuilder::<DB>::new("SELECT t.kind AS kind, tm.name AS team, ");
        select
            .push(STATUS_CASE)
            .push_bind(today)
            .push(" THEN 'expired' ELSE 'active' END AS status, COUNT(*) AS total")
            .push(
                " FROM tokens t LEFT JOIN ownership o ON o.token_id = t.id \
                 LEFT JOIN teams tm ON tm.id = COALESCE(o.owner_team_id, t.inferred_team_id) \
                 GROUP BY 1, 2, 3",
            );
        let rows: Vec<TokenCountRow> = DB::fetch_all(&mut select, self.pool()).await?;
        rows.into_iter()
            .map(|row| {
                Ok(TokenCount {
                    kind: row.kind.parse()?,
                    team: row.team,
                    status: row.status.parse()?,
                    count: count(row.total),
                })
            })
            .collect()
    }

    async fn expiring_counts(&self, today: NaiveDate, windows: &[u32]) -> Result<Vec<(u32, u64)>, DbError> {
        let mut counts = Vec::with_capacity(windows.len());
        for &days in windows {
            let until = today + chrono::Days::new(u64::from(days));
            let mut select = QueryBuilder::<DB>::new(
                "SELECT COUNT(*) AS total FROM tokens t \
                 WHERE t.gone_since IS NULL AND NOT t.revoked AND t.expires_on > ",
            );
            select.push_bind(today).push(" AND t.expires_on <= ").push_bind(until);
            let row: CountRow = DB::fetch_one(&mut select, self.pool()).await?;
            counts.push((days, count(row.total)));
        }
        Ok(counts)
    }

    async fn open_finding_counts(&self, today: NaiveDate) -> Result<Vec<FindingCount>, DbError> {
        let mut select = QueryBuilder::<DB>::new(
            "SELECT f.rule AS rule, f.severity AS severity, COUNT(*) AS total \
             FROM findings f LEFT JOIN tokens t ON t.id = f.token_id",
        );
        select.push(LATEST_DECISION);
        let open = crate::FindingFilter {
            state: FindingState::Open,
            ..crate::FindingFilter::default()
        };
        push_filters(&mut select, &open, today, true);
        select.push(" GROUP BY f.rule, f.severity");
        let rows: Vec<FindingCountRow> = DB::fetch_all(&mut select, self.pool()).await?;
        rows.into_iter()
            .map(|row| {
                Ok(FindingCount {
                    rule: row.rule.parse()?,
                    severity: row.severity.parse()?,
                    count: count(row.total),
                })
            })
            .collect()
    }
}
