//! The rows the queries read, by column name, and how each becomes a domain value. Every struct
//! derives `sqlx::FromRow` generically, so the same one reads a SQLite and a PostgreSQL row: its
//! fields are types both backends decode (`i64` for ids and counts, `i32` for access levels).

use chrono::{DateTime, Utc};

use crate::{DbError, Team, TeamOverview};
use domain::{
    AccessLevel, AccountMembership, AccountOwner, ExpiryWindow, OwnerSource, ServiceAccount, TeamMembership, TeamRule,
    TokenStatus, TokenSummary,
};

/// A team's id and name.
#[derive(sqlx::FromRow)]
pub(crate) struct TeamRow {
    pub id: i64,
    pub name: String,
}

/// One group path a team owns.
#[derive(sqlx::FromRow)]
pub(crate) struct TeamPathRow {
    pub team_id: i64,
    pub group_path: String,
}

/// One lead of a team, by GitLab username.
#[derive(sqlx::FromRow)]
pub(crate) struct TeamLeadRow {
    pub team_id: i64,
    pub username: String,
}

impl TeamRow {
    /// The team with its paths (in the order given).
    pub fn into_team(self, paths: &[TeamPathRow]) -> Team {
        Team {
            group_paths: paths
                .iter()
                .filter(|path| path.team_id == self.id)
                .map(|path| path.group_path.clone())
                .collect(),
            id: self.id,
            name: self.name,
        }
    }

    /// The team as a rule for working out memberships, with its paths and leads (in the order
    /// given).
    pub fn into_rule(self, paths: &[TeamPathRow], leads: &[TeamLeadRow]) -> TeamRule {
        TeamRule {
            group_paths: paths
                .iter()
                .filter(|path| path.team_id == self.id)
                .map(|path| path.group_path.clone())
                .collect(),
            leads: leads
                .iter()
                .filter(|lead| lead.team_id == self.id)
                .map(|lead| lead.username.clone())
                .collect(),
            team_id: self.id,
            name: self.name,
        }
    }
}

/// What a service account can reach, with the account's GitLab id.
#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub account_gitlab_id: i64,
    pub source_kind: String,
    pub source_gitlab_id: i64,
    pub source_path: String,
    pub access_level: i32,
}

impl TryFrom<MembershipRow> for AccountMembership {
    type Error = DbError;

    fn try_from(row: MembershipRow) -> Result<Self, DbError> {
        Ok(AccountMembership {
            source_kind: row.source_kind.parse()?,
            source_gitlab_id: row.source_gitlab_id,
            source_path: row.source_path,
            access_level: AccessLevel::try_from(row.access_level)?,
        })
    }
}

/// A service account still in GitLab, with its group and the owner a person set.
#[derive(sqlx::FromRow)]
pub(crate) struct ServiceAccountRow {
    pub gitlab_id: i64,
    pub username: String,
    pub name: String,
    pub state: String,
    pub group_path: Option<String>,
    pub owner_team_id: Option<i64>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ServiceAccountRow {
    /// The account with what it can reach, its owner (the team a person set, else the one
    /// inferred by `rules`) and its tokens (those of `tokens` it holds).
    pub fn into_service_account(
        self,
        memberships: Vec<AccountMembership>,
        rules: &[TeamRule],
        tokens: &[TokenSummary],
    ) -> ServiceAccount {
        let set = self
            .owner_team_id
            .and_then(|id| rules.iter().find(|team| team.team_id == id))
            .zip(self.updated_by.zip(self.updated_at))
            .map(|(team, (by, at))| (team, OwnerSource::Set { by, at }));
        let owner = set
            .or_else(|| domain::infer_account_team(self.group_path.as_deref(), &memberships, rules))
            .map(|(team, source)| AccountOwner {
                team: team.into(),
                source,
            });
        let own = tokens
            .iter()
            .filter(|t| t.account_username.as_deref() == Some(self.username.as_str()))
            .cloned()
            .collect();
        ServiceAccount {
            memberships,
            gitlab_id: self.gitlab_id,
            username: self.username,
            name: self.name,
            state: self.state,
            group_path: self.group_path,
            owner,
            tokens: own,
        }
    }
}

/// A service account's group and the team last inferred for it.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountTeamRow {
    pub gitlab_id: i64,
    pub group_path: Option<String>,
    pub inferred_team_id: Option<i64>,
}

/// A team's token counts (tokens not gone), for [`crate::TeamStats`].
#[derive(sqlx::FromRow, Clone, Copy, Default)]
pub(crate) struct TeamCountsRow {
    pub team_id: i64,
    pub tokens: i64,
    pub active: i64,
    pub expired: i64,
    pub expiring_30_days: i64,
    pub never_expiring: i64,
    pub without_purpose: i64,
}

/// Live tokens of one owner team expiring on one date, for [`crate::Repository::expiry_counts`].
#[derive(sqlx::FromRow)]
pub(crate) struct ExpiryCountRow {
    pub team_id: Option<i64>,
    pub expires_on: chrono::NaiveDate,
    pub tokens: i64,
    /// 0 critical … 3 low, as `findings.severity_rank`.
    pub severity_rank: Option<i64>,
}

impl From<ExpiryCountRow> for domain::ExpiryCount {
    fn from(row: ExpiryCountRow) -> Self {
        domain::ExpiryCount {
            team_id: row.team_id,
            severity: row
                .severity_rank
                .and_then(|rank| usize::try_from(rank).ok())
                .and_then(|rank| domain::review::Severity::ALL.get(rank).copied()),
            expires_on: row.expires_on,
            tokens: u64::try_from(row.tokens).unwrap_or(0),
        }
    }
}

/// A count and the data version it was taken at.
#[derive(sqlx::FromRow)]
pub(crate) struct VersionedCountRow {
    pub total: i64,
    pub version: i64,
}

/// A token's key: its kind and GitLab id.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenKeyRow {
    pub kind: String,
    pub gitlab_id: i64,
}

/// A token's row id and key, as an upsert returns them.
#[derive(sqlx::FromRow)]
pub(crate) struct UpsertedTokenRow {
    pub id: i64,
    pub kind: String,
    pub gitlab_id: i64,
}

/// A stored session's data and expiry.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

impl From<SessionRow> for (String, DateTime<Utc>) {
    fn from(row: SessionRow) -> Self {
        (row.data, row.expires_at)
    }
}

/// A person as a request sees them, one row per team they belong to (the team columns `NULL`
/// when they belong to none), with the notices they have not read: the columns of
/// [`VIEWER_COLUMNS`] and [`VIEWER_TEAMS`].
#[derive(sqlx::FromRow)]
pub(crate) struct ViewerRow {
    pub user_id: i64,
    pub user_gitlab_id: i64,
    pub username: String,
    pub user_name: String,
    pub roles: String,
    pub unread: i64,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub is_lead: Option<bool>,
}

/// The person of `users u`, with their teams and unread notices ([`ViewerRow`]).
pub(crate) const VIEWER_COLUMNS: &str = "u.id AS user_id, u.gitlab_id AS user_gitlab_id, u.username, \
     u.name AS user_name, u.roles, \
     (SELECT COUNT(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) AS unread, \
     t.id AS team_id, t.name AS team_name, ut.is_lead";

/// Joins `users u` to the person's teams, one row each (or one without).
pub(crate) const VIEWER_TEAMS: &str =
    " LEFT JOIN user_teams ut ON ut.user_id = u.id LEFT JOIN teams t ON t.id = ut.team_id";

impl ViewerRow {
    /// The team of this row, when the person belongs to one.
    pub fn team(&self) -> Option<TeamMembership> {
        Some(TeamMembership {
            team_id: self.team_id?,
            team_name: self.team_name.clone()?,
            is_lead: self.is_lead.unwrap_or(false),
        })
    }
}

/// A person's GitLab id and username.
#[derive(sqlx::FromRow)]
pub(crate) struct GitlabUserRow {
    pub gitlab_id: i64,
    pub username: String,
}

impl From<GitlabUserRow> for (i64, String) {
    fn from(row: GitlabUserRow) -> Self {
        (row.gitlab_id, row.username)
    }
}

/// One event in a token's history (its detail as JSON text).
#[derive(sqlx::FromRow)]
pub(crate) struct TokenEventRow {
    pub at: DateTime<Utc>,
    pub event: String,
    pub detail: String,
}

impl From<TokenEventRow> for (DateTime<Utc>, String, String) {
    fn from(row: TokenEventRow) -> Self {
        (row.at, row.event, row.detail)
    }
}

/// A team's tokens counted in all, by status and by expiry window (see
/// [`crate::Repository::team_overview`]); a column per status and per window.
#[derive(sqlx::FromRow)]
pub(crate) struct TeamOverviewRow {
    pub total: i64,
    pub status_active: i64,
    pub status_expired: i64,
    pub status_revoked: i64,
    pub status_gone: i64,
    pub expiry_expired: i64,
    pub expiry_7_days: i64,
    pub expiry_30_days: i64,
    pub expiry_90_days: i64,
    pub expiry_never: i64,
}

impl TeamOverviewRow {
    /// The column counting the tokens of `status`.
    pub fn status_column(status: TokenStatus) -> &'static str {
        match status {
            TokenStatus::Active => "status_active",
            TokenStatus::Expired => "status_expired",
            TokenStatus::Revoked => "status_revoked",
            TokenStatus::Gone => "status_gone",
        }
    }

    /// The column counting the tokens of `window`.
    pub fn window_column(window: ExpiryWindow) -> &'static str {
        match window {
            ExpiryWindow::Expired => "expiry_expired",
            ExpiryWindow::Days7 => "expiry_7_days",
            ExpiryWindow::Days30 => "expiry_30_days",
            ExpiryWindow::Days90 => "expiry_90_days",
            ExpiryWindow::Never => "expiry_never",
        }
    }

    fn status(&self, status: TokenStatus) -> i64 {
        match status {
            TokenStatus::Active => self.status_active,
            TokenStatus::Expired => self.status_expired,
            TokenStatus::Revoked => self.status_revoked,
            TokenStatus::Gone => self.status_gone,
        }
    }

    fn window(&self, window: ExpiryWindow) -> i64 {
        match window {
            ExpiryWindow::Expired => self.expiry_expired,
            ExpiryWindow::Days7 => self.expiry_7_days,
            ExpiryWindow::Days30 => self.expiry_30_days,
            ExpiryWindow::Days90 => self.expiry_90_days,
            ExpiryWindow::Never => self.expiry_never,
        }
    }

    /// The overview, with the team's active tokens.
    pub fn into_overview(self, active: Vec<TokenSummary>) -> TeamOverview {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        TeamOverview {
            total: n(self.total),
            by_status: TokenStatus::ALL.map(|status| (status, n(self.status(status)))).to_vec(),
            by_expiry: ExpiryWindow::ALL
                .map(|window| (window, n(self.window(window))))
                .to_vec(),
            active,
        }
    }
}

/// How many rows matched.
#[derive(sqlx::FromRow)]
pub(crate) struct CountRow {
    pub total: i64,
}

/// The lowest and the highest token id (`None`: no token).
#[derive(sqlx::FromRow)]
pub(crate) struct IdRangeRow {
    pub low: Option<i64>,
    pub high: Option<i64>,
}
