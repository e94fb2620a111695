//! The one repository layer: a trait, with a SQLite and a PostgreSQL implementation generated
//! from the same SQL (see [`sql_repository`]). Everything that reads or writes the database goes
//! through [`Repository`].
//!
//! It lives in `app` (behind `ssr`) rather than in its own crate because server functions, which
//! are in `app`, call it with `app`'s domain types.

mod auth_store;
mod sql;
mod sync_store;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};

use crate::{
    domain::{AccessLevel, ContainerKind, ParseError, TokenKind, TokenRecord, TokenSummary},
    server::inventory::TokenQuery,
};

pub use auth_store::{ApiKey, ApiKeyScope, AuthStore, ConfiguredTeam, NewApiKey, StoredApiKey, UserProfile};
pub use sql::{PostgresRepository, SqliteRepository};
pub use sync_store::{GoneRule, SyncBatch, SyncStore, SyncWriteCounts};

pub type Repo = Arc<dyn Repository>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness or other constraint refused the change.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A stored value the domain does not know (a kind, a level): a bug or a bad migration.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

impl From<ParseError> for DbError {
    fn from(error: ParseError) -> Self {
        DbError::Corrupt(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        DbError::Sqlx(sqlx::Error::Migrate(Box::new(error)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A team and the GitLab group paths it owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub group_paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTeam {
    pub name: String,
    pub group_paths: Vec<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
}

#[async_trait]
pub trait Repository: SyncStore + AuthStore + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Applies the migrations this binary carries.
    async fn migrate(&self) -> Result<(), DbError>;

    /// Answers when the database does.
    async fn ping(&self) -> Result<(), DbError>;

    /// Inserts new tokens and updates known ones, keyed by (kind, GitLab id), in one transaction.
    /// A token seen again is no longer gone.
    async fn upsert_tokens(&self, tokens: &[TokenRecord], seen_at: DateTime<Utc>) -> Result<UpsertCounts, DbError>;

    /// One page of tokens matching `query`, and how many match in all.
    async fn list_tokens(&self, query: &TokenQuery, today: NaiveDate) -> Result<(Vec<TokenSummary>, u64), DbError>;

    async fn create_team(&self, team: &NewTeam) -> Result<Team, DbError>;

    async fn list_teams(&self) -> Result<Vec<Team>, DbError>;
}

/// Opens the database a URL names: `sqlite:…` (the file and its folder are created when missing)
/// or `postgres://…`.
pub async fn connect(url: &str) -> Result<Repo, DbError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Arc::new(PostgresRepository::new(pool)))
    } else if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let folder = options.get_filename().parent().map(std::path::Path::to_path_buf);
        if let Some(folder) = folder.filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(&folder).map_err(|e| {
                DbError::Sqlx(sqlx::Error::Configuration(
                    format!("cannot create the database folder {}: {e}", folder.display()).into(),
                ))
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Arc::new(SqliteRepository::new(pool)))
    } else {
        Err(DbError::Sqlx(sqlx::Error::Configuration(
            "DATABASE_URL must start with sqlite: or postgres://".into(),
        )))
    }
}

/// A row of `tokens` as stored; turned into a [`TokenSummary`] by checking every stored value.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    kind: String,
    gitlab_id: i64,
    name: String,
    container_kind: String,
    container_path: String,
    account_username: Option<String>,
    scopes: String,
    access_level: Option<i32>,
    created_at: Option<DateTime<Utc>>,
    expires_on: Option<NaiveDate>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
    gone_since: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for TokenSummary {
    type Error = DbError;

    fn try_from(row: TokenRow) -> Result<Self, Self::Error> {
        Ok(TokenSummary {
            id: row.id,
            kind: TokenKind::from_str(&row.kind)?,
            gitlab_id: row.gitlab_id,
            name: row.name,
            container_kind: ContainerKind::from_str(&row.container_kind)?,
            container_path: row.container_path,
            account_username: row.account_username,
            scopes: split_scopes(&row.scopes),
            access_level: row.access_level.map(AccessLevel::try_from).transpose()?,
            created_at: row.created_at,
            expires_on: row.expires_on,
            last_used_at: row.last_used_at,
            revoked: row.revoked,
            gone_since: row.gone_since,
        })
    }
}

/// Scopes are stored space-separated: GitLab's scope names never contain a space.
fn join_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

fn split_scopes(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_owned).collect()
}

/// A `LIKE` pattern that finds `words` anywhere, with `%`, `_` and `\` taken literally
/// (the queries say `ESCAPE '\'`).
fn contains_pattern(words: &str) -> String {
    let mut pattern = String::with_capacity(words.len() + 2);
    pattern.push('%');
    for c in words.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("Bot"), "%bot%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }

    #[test]
    fn scopes_survive_storage() {
        let scopes = vec!["api".to_owned(), "read_repository".to_owned()];
        assert_eq!(split_scopes(&join_scopes(&scopes)), scopes);
        assert!(split_scopes("").is_empty());
    }
}
