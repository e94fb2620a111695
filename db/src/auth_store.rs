//! What sign-in keeps: people, the teams they belong to, sessions and API keys. Sessions and API
//! keys are found by the SHA-256 hash of their secret part; the secret itself is never stored.
//! One SQL text for both backends, like [`crate::sql`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::rows::{
    GitlabUserRow, SessionRow, TeamLeadRow, TeamPathRow, TeamRow, VIEWER_COLUMNS, VIEWER_TEAMS, ViewerRow,
};
use crate::sql::{Db, SqlRepository};
use crate::{DbError, unique_violation};
use domain::{Role, TeamMembership, TeamRule, Viewer};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

/// Who GitLab says signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub gitlab_id: i64,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
}

/// A team as the configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfiguredTeam {
    pub name: String,
    pub group_paths: Vec<String>,
    #[serde(default)]
    pub leads: Vec<String>,
}

/// How much an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    Read,
    ReadWrite,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Read => "read",
            ApiKeyScope::ReadWrite => "read_write",
        }
    }

    fn parse(stored: &str) -> Result<Self, DbError> {
        match stored {
            "read" => Ok(ApiKeyScope::Read),
            "read_write" => Ok(ApiKeyScope::ReadWrite),
            other => Err(DbError::Corrupt(format!("API key scope {other:?}"))),
        }
    }
}

/// An API key as its owner sees it (never the secret, never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The public part, shown so people can tell their keys apart (`ti_<prefix>_…`).
    pub prefix: String,
    pub scope: ApiKeyScope,
    pub created_at: DateTime<Utc>,
    pub expires_on: NaiveDate,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key found by its prefix, for checking a presented secret against its hash, with what decides
/// whether its owner may still use it.
#[derive(Debug, Clone)]
pub struct StoredApiKey {
    pub key: ApiKey,
    pub user_id: i64,
    pub secret_hash: String,
    /// When the owner last signed in: their roles and teams are as of then.
    pub owner_signed_in_at: DateTime<Utc>,
    /// The owner's account in GitLab as last known ([`GITLAB_STATE_ACTIVE`] at sign-in, then what
    /// sync reads: GitLab's `state`, or [`GITLAB_STATE_GONE`]); `None` when never known.
    pub owner_gitlab_state: Option<String>,
    /// The owner as a request with the key sees them: the roles and teams of their last sign-in.
    pub owner: Viewer,
}

/// GitLab's `state` of an account that may sign in and use the API.
pub const GITLAB_STATE_ACTIVE: &str = "active";
/// Not GitLab's: what the inventory records when GitLab answers 404 for the account.
pub const GITLAB_STATE_GONE: &str = "gone";

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scope: ApiKeyScope,
    pub expires_on: NaiveDate,
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Creates or replaces a session (by the hash of its id).
    async fn save_session(&self, id_hash: &str, data: &str, expires_at: DateTime<Utc>) -> Result<(), DbError>;
    /// The session's data and expiry, unless it is missing or expired at `now`.
    async fn load_session(&self, id_hash: &str, now: DateTime<Utc>)
    -> Result<Option<(String, DateTime<Utc>)>, DbError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), DbError>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError>;

    /// Creates the configured teams that are missing and brings their group paths and leads in
    /// line with the configuration; teams created otherwise are left alone.
    async fn apply_configured_teams(&self, teams: &[ConfiguredTeam]) -> Result<(), DbError>;
    /// Every team with its group paths and named leads, for working out memberships.
    async fn team_rules(&self) -> Result<Vec<TeamRule>, DbError>;

    /// Records a sign-in: creates or updates the person, their roles and their teams; returns
    /// their id.
    async fn record_sign_in(
        &self,
        profile: &UserProfile,
        roles: &BTreeSet<Role>,
        teams: &[TeamMembership],
        at: DateTime<Utc>,
    ) -> Result<i64, DbError>;
    async fn viewer(&self, user_id: i64) -> Result<Option<Viewer>, DbError>;

    async fn create_api_key(&self, key: &NewApiKey, at: DateTime<Utc>) -> Result<ApiKey, DbError>;
    async fn list_api_keys(&self, user_id: i64) -> Result<Vec<ApiKey>, DbError>;
    /// Revokes one of the person's own keys; false when they have no such active key.
    async fn revoke_api_key(&self, user_id: i64, key_id: i64, at: DateTime<Utc>) -> Result<bool, DbError>;
    async fn find_api_key(&self, prefix: &str) -> Result<Option<StoredApiKey>, DbError>;
    async fn touch_api_key(&self, key_id: i64, at: DateTime<Utc>) -> Result<(), DbError>;

    /// The people holding a key that still works on `today` (not revoked, not expired), as
    /// (GitLab id, username) in id order: the accounts sync checks in GitLab.
    async fn api_key_owners(&self, today: NaiveDate) -> Result<Vec<(i64, String)>, DbError>;
    /// Stores the accounts' states as GitLab gave them at `checked_at`, by GitLab id, in one
    /// transaction. A state known later (a sign-in after the check) is kept.
    async fn record_gitlab_states(&self, states: &[(i64, String)], checked_at: DateTime<Utc>) -> Result<(), DbError>;
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    secret_hash: String,
    scope: String,
    created_at: DateTime<Utc>,
    expires_on: NaiveDate,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = DbError;

    fn try_from(row: ApiKeyRow) -> Result<Self, DbError> {
        Ok(ApiKey {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            scope: ApiKeyScope::parse(&row.scope)?,
            created_at: row.created_at,
            expires_on: row.expires_on,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// A key with its owner's sign-in and GitLab state.
#[derive(sqlx::FromRow)]
struct FoundApiKeyRow {
    #[sqlx(flatten)]
    key: ApiKeyRow,
    owner_signed_in_at: DateTime<Utc>,
    owner_gitlab_state: Option<String>,
    #[sqlx(flatten)]
    owner: ViewerRow,
}

impl StoredApiKey {
    fn found(row: FoundApiKeyRow, owner: Viewer) -> Result<Self, DbError> {
        let user_id = row.key.user_id;
        let secret_hash = row.key.secret_hash.clone();
        Ok(StoredApiKey {
            key: ApiKey::try_from(row.key)?,
            user_id,
            secret_hash,
            owner_signed_in_at: row.owner_signed_in_at,
            owner_gitlab_state: row.owner_gitlab_state,
            owner,
        })
    }
}

const API_KEY_COLUMNS: &str =
    "id, user_id, name, prefix, secret_hash, scope, created_at, expires_on, last_used_at, revoked_at";

fn join_roles(roles: &BTreeSet<Role>) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

fn split_roles(stored: &str) -> Result<BTreeSet<Role>, DbError> {
    stored
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| r.parse::<Role>().map_err(DbError::from))
        .collect()
}

/// The person of these rows (all of one person, a row per team); `None` without a row.
fn viewer_of<'r>(rows: impl IntoIterator<Item = &'r ViewerRow>) -> Result<Option<Viewer>, DbError> {
    let mut rows = rows.into_iter().peekable();
    let Some(first) = rows.peek() else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        id: first.user_id,
        gitlab_id: first.user_gitlab_id,
        username: first.username.clone(),
        name: first.user_name.clone(),
        roles: split_roles(&first.roles)?,
        unread_notices: u64::try_from(first.unread).unwrap_or(0),
        read_only: false,
        api_key_id: None,
        teams: rows.filter_map(ViewerRow::team).collect(),
    }))
}

#[async_trait]
impl<DB: Db> AuthStore for SqlRepository<DB>
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
    async fn save_session(&self, id_hash: &str, data: &str, expires_at: DateTime<Utc>) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id_hash)
        .bind(data)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn load_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, DateTime<Utc>)>, DbError> {
        let row: Option<SessionRow> =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
                .bind(id_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(DB::rows_affected(&done))
    }

    async fn apply_configured_teams(&self, teams: &[ConfiguredTeam]) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        for team in teams {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
                .bind(&team.name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = match existing {
                Some(id) => id,
                None => {
                    sqlx::query_scalar("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(&team.name)
                        .bind(Utc::now())
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            sqlx::query("DELETE FROM team_group_paths WHERE team_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM team_leads WHERE team_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let paths: BTreeSet<&str> = team.group_paths.iter().map(|p| p.trim_matches('/')).collect();
            for path in paths.into_iter().filter(|p| !p.is_empty()) {
                sqlx::query("INSERT INTO team_group_paths (team_id, group_path) VALUES ($1, $2)")
                    .bind(id)
                    .bind(path)
                    .execute(&mut *tx)
                    .await?;
            }
            let leads: BTreeSet<String> = team.leads.iter().map(|l| l.trim().to_lowercase()).collect();
            for lead in leads.into_iter().filter(|l| !l.is_empty()) {
                sqlx::query("INSERT INTO team_leads (team_id, username) VALUES ($1, $2)")
                    .bind(id)
                    .bind(lead)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        crate::Repository::refresh_inferred_teams(self).await?;
        Ok(())
    }

    async fn team_rules(&self) -> Result<Vec<TeamRule>, DbError> {
        let teams: Vec<TeamRow> = sqlx::query_as("SELECT id, name FROM teams ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        let paths: Vec<TeamPathRow> = sqlx::query_as("SELECT team_id, group_path FROM team_group_paths")
            .fetch_all(self.pool())
            .await?;
        let leads: Vec<TeamLeadRow> = sqlx::query_as("SELECT team_id, username FROM team_leads")
            .fetch_all(self.pool())
            .await?;
        let mut rules: Vec<TeamRule> = teams.into_iter().map(|team| team.into_rule(&paths, &leads)).collect();
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rules)
    }

    async fn record_sign_in(
        &self,
        profile: &UserProfile,
        roles: &BTreeSet<Role>,
        teams: &[TeamMembership],
        at: DateTime<Utc>,
    ) -> Result<i64, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (gitlab_id, username, name, email, roles, created_at, last_signed_in_at, \
             gitlab_state, gitlab_state_checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $6) \
             ON CONFLICT (gitlab_id) DO UPDATE SET username = excluded.username, name = excluded.name, \
             email = excluded.email, roles = excluded.roles, last_signed_in_at = excluded.last_signed_in_at, \
             gitlab_state = excluded.gitlab_state, gitlab_state_checked_at = excluded.gitlab_state_checked_at \
             RETURNING id",
        )
        .bind(profile.gitlab_id)
        .bind(&profile.username)
        .bind(&profile.name)
        .bind(&profile.email)
        .bind(join_roles(roles))
        .bind(at)
        // GitLab signs in active accounts only (and reactivates a deactivated one).
        .bind(GITLAB_STATE_ACTIVE)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM user_teams WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for team in teams {
            sqlx::query("INSERT INTO user_teams (user_id, team_id, is_lead) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(team.team_id)
                .bind(team.is_lead)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn viewer(&self, user_id: i64) -> Result<Option<Viewer>, DbError> {
        // One statement: every request asks it.
        let rows: Vec<ViewerRow> = sqlx::query_as(&format!(
            "SELECT {VIEWER_COLUMNS} FROM users u{VIEWER_TEAMS} WHERE u.id = $1 ORDER BY t.name"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        viewer_of(&rows)
    }

    async fn create_api_key(&self, key: &NewApiKey, at: DateTime<Utc>) -> Result<ApiKey, DbError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (user_id, name, prefix, secret_hash, scope, created_at, expires_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(key.user_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.secret_hash)
        .bind(key.scope.as_str())
        .bind(at)
        .bind(key.expires_on)
        .fetch_one(self.pool())
        .await
        .map_err(|error| {
            if unique_violation(&error) {
                DbError::Conflict("that key prefix is taken; try again".to_owned())
            } else {
                DbError::Sqlx(error)
            }
        })?;
        Ok(ApiKey {
            id,
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scope: key.scope,
            created_at: at,
            expires_on: key.expires_on,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn list_api_keys(&self, user_id: i64) -> Result<Vec<ApiKey>, DbError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(ApiKey::try_from).collect()
    }

    async fn revoke_api_key(&self, user_id: i64, key_id: i64, at: DateTime<Utc>) -> Result<bool, DbError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(at)
                .bind(key_id)
                .bind(user_id)
                .execute(self.pool())
                .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn find_api_key(&self, prefix: &str) -> Result<Option<StoredApiKey>, DbError> {
        // The key and its owner as a request sees them, in one statement: every request with a
        // key asks it.
        let rows: Vec<FoundApiKeyRow> = sqlx::query_as(&format!(
            "SELECT k.id, k.user_id, k.name, k.prefix, k.secret_hash, k.scope, k.created_at, k.expires_on, \
             k.last_used_at, k.revoked_at, u.last_signed_in_at AS owner_signed_in_at, \
             u.gitlab_state AS owner_gitlab_state, {VIEWER_COLUMNS} \
             FROM api_keys k JOIN users u ON u.id = k.user_id{VIEWER_TEAMS} WHERE k.prefix = $1 ORDER BY t.name"
        ))
        .bind(prefix)
        .fetch_all(self.pool())
        .await?;
        let Some(owner) = viewer_of(rows.iter().map(|row| &row.owner))? else {
            return Ok(None);
        };
        rows.into_iter()
            .next()
            .map(|row| StoredApiKey::found(row, owner))
            .transpose()
    }

    async fn touch_api_key(&self, key_id: i64, at: DateTime<Utc>) -> Result<(), DbError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(key_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn api_key_owners(&self, today: NaiveDate) -> Result<Vec<(i64, String)>, DbError> {
        let rows: Vec<GitlabUserRow> = sqlx::query_as(
            "SELECT u.gitlab_id, u.username FROM users u \
             WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL \
             AND k.expires_on > $1) ORDER BY u.gitlab_id",
        )
        .bind(today)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn record_gitlab_states(&self, states: &[(i64, String)], checked_at: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        for (gitlab_id, state) in states {
            sqlx::query(
                "UPDATE users SET gitlab_state = $1, gitlab_state_checked_at = $2 WHERE gitlab_id = $3 \
                 AND (gitlab_state_checked_at IS NULL OR gitlab_state_checked_at <= $2)",
            )
            .bind(state)
            .bind(checked_at)
            .bind(gitlab_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
