//! The one repository layer: a trait, with a SQLite and a PostgreSQL implementation from the same
//! SQL (one generic `SqlRepository`, see `sql`). Everything that reads or writes the database goes
//! through [`Repository`].
//!
//! It depends on `domain` alone (no Leptos): `app`'s commands and server functions call it, and its
//! tests build without the web stack.

mod alert_store;
mod auth_store;
mod metrics_store;
mod recert_store;
mod request_store;
mod review_store;
mod rows;
mod sql;
mod sync_store;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};

use domain::{
    AccessLevel, ContainerKind, ExpiryWindow, ParseError, TokenDetail, TokenKind, TokenQuery, TokenRecord, TokenStatus,
    TokenSummary, ValidOwnership,
};

pub use alert_store::{
    AlertInputs, AlertRunStart, AlertStore, AudienceChannels, DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENT,
    DeliveryRecord, DueDelivery, NoticeCounts,
};
pub use auth_store::{
    ApiKey, ApiKeyScope, AuthStore, ConfiguredTeam, GITLAB_STATE_ACTIVE, GITLAB_STATE_GONE, NewApiKey, StoredApiKey,
    UserProfile,
};
pub use metrics_store::{FindingCount, MetricsStore, TokenCount};
pub use recert_store::{Campaign, CampaignItem, RecertStore};
pub use request_store::{
    FulfilmentState, Notice, Person, RequestEvent, RequestFilter, RequestStep, RequestStore, RequestSummary,
    StoredRequest,
};
pub use review_store::{FindingFilter, FindingHistory, FindingPage, RefreshCounts, ReviewStore, StoredFinding};
pub use sql::{PostgresRepository, SqliteRepository};
pub use sync_store::{GoneRule, SyncBatch, SyncStore, SyncWriteCounts};

pub use domain::TeamStats;

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

/// How many tokens a view matches, and whether that is an estimate: from a sample of evenly
/// spread id ranges (about 4,000 rows), scaled to every id, so a filter that one token in a
/// hundred matches is estimated within about a sixth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub total: u64,
    pub estimated: bool,
}

/// An inventory page as [`Repository::list_tokens_within`] reads it: the tokens, their count and
/// every team (the team filter's choices), all at one data version, which a page reads once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenListing {
    pub tokens: Vec<TokenSummary>,
    pub counted: Counted,
    pub teams: Vec<Team>,
}

/// When a page may estimate its count instead of waiting for it: at `from_tokens` tokens or more
/// (by their ids' span), and once the count has taken `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountBudget {
    pub time: Duration,
    pub from_tokens: u64,
}

/// A team and the GitLab group paths it owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub group_paths: Vec<String>,
}

impl From<Team> for domain::TeamRef {
    fn from(team: Team) -> Self {
        domain::TeamRef {
            id: team.id,
            name: team.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTeam {
    pub name: String,
    pub group_paths: Vec<String>,
}

/// A team's tokens at a glance (the "My team" page), from [`Repository::team_overview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamOverview {
    /// The tokens the team owns (set or inferred), gone ones too.
    pub total: u64,
    /// How many have each status, in [`TokenStatus::ALL`]'s order.
    pub by_status: Vec<(TokenStatus, u64)>,
    /// How many fall in each expiry window, in [`ExpiryWindow::ALL`]'s order: expired counts
    /// what has run out while still in GitLab, the other windows active tokens.
    pub by_expiry: Vec<(ExpiryWindow, u64)>,
    /// The first page (the default page size) of its active tokens, soonest expiry first: what
    /// [`Repository::list_tokens`] gives for them.
    pub active: Vec<TokenSummary>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
}

#[async_trait]
pub trait Repository:
    SyncStore + AuthStore + ReviewStore + RequestStore + RecertStore + MetricsStore + AlertStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;

    /// Applies the migrations this binary carries.
    async fn migrate(&self) -> Result<(), DbError>;

    /// Answers when the database does.
    async fn ping(&self) -> Result<(), DbError>;

    /// Inserts new tokens and updates known ones, keyed by (kind, GitLab id), in one transaction.
    /// A token seen again is no longer gone.
    async fn upsert_tokens(&self, tokens: &[TokenRecord], seen_at: DateTime<Utc>) -> Result<UpsertCounts, DbError>;

    /// Every team with its group paths, leads and the health of the tokens it owns (not gone).
    async fn team_stats(&self, today: NaiveDate) -> Result<Vec<TeamStats>, DbError>;

    /// Service accounts still in GitLab, with their group, owner team, tokens and memberships.
    async fn list_service_accounts(&self) -> Result<Vec<domain::ServiceAccount>, DbError>;

    /// One service account still in GitLab, as [`Repository::list_service_accounts`] gives it;
    /// `None` when there is none with that GitLab id.
    async fn service_account(&self, gitlab_id: i64) -> Result<Option<domain::ServiceAccount>, DbError>;

    /// A team's token counts (each what [`Repository::count_tokens`] gives for that filter) in
    /// one query, and its first page of active tokens in a second.
    async fn team_overview(&self, team_id: i64, today: NaiveDate) -> Result<TeamOverview, DbError>;

    /// Live tokens (not revoked, not gone, not expired as of `today`) expiring from `from` to `to`
    /// (inclusive), counted per owner team (set by a person, else inferred; `None`: no team) and
    /// date, in one aggregate: what the expiry timeline folds into weeks. With `within_teams`,
    /// only those teams' tokens (none without a team). Stacked by severity, each count is also
    /// of one severity: the token's most severe open finding (standing, and no decision holds).
    async fn expiry_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        within_teams: Option<&[i64]>,
        stack: domain::Stack,
        today: NaiveDate,
    ) -> Result<Vec<domain::ExpiryCount>, DbError>;

    /// How many tokens match `query`.
    async fn count_tokens(&self, query: &TokenQuery, today: NaiveDate) -> Result<u64, DbError>;

    /// One page of tokens matching `query`, and how many match in all.
    async fn list_tokens(&self, query: &TokenQuery, today: NaiveDate) -> Result<(Vec<TokenSummary>, u64), DbError>;

    async fn create_team(&self, team: &NewTeam) -> Result<Team, DbError>;

    async fn list_teams(&self) -> Result<Vec<Team>, DbError>;

    /// Works out every service account's and every token's inferred owner team again (after a
    /// sync, or when teams change): a service account's from its group or what it can reach, a
    /// token's from its service account or its group path.
    async fn refresh_inferred_teams(&self) -> Result<(), DbError>;

    /// Sets (or, with `None`, clears) the team owning a service account, records it in the audit
    /// log, and moves its tokens' inferred team along, in one transaction. `NotFound` when there
    /// is no such service account (still in GitLab) or no such team.
    async fn set_account_owner(
        &self,
        account_gitlab_id: i64,
        team_id: Option<i64>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Refreshes the query planner's statistics after many rows changed (a sync):
    /// `ANALYZE` on PostgreSQL, `PRAGMA optimize` on SQLite.
    async fn refresh_statistics(&self) -> Result<(), DbError>;

    /// One token with everything known about it; `None` when there is no such token.
    async fn get_token(&self, id: i64, today: NaiveDate) -> Result<Option<TokenDetail>, DbError>;

    /// A page of [`Repository::list_tokens`], counted within `budget`: exactly when the count is
    /// kept for this data version, when there are fewer tokens than the budget's `from_tokens`, or
    /// when it ends in time; otherwise estimated from a sample of the rows (see [`Counted`]) while
    /// the exact count goes on behind, kept for the next look. With every team, as
    /// [`Repository::list_teams`] gives them, at the same data version.
    async fn list_tokens_within(
        &self,
        query: &TokenQuery,
        today: NaiveDate,
        budget: CountBudget,
    ) -> Result<TokenListing, DbError>;

    /// Stores what a person says about a token, and records the change in the audit log (with
    /// who, when, and the fields before and after) in the same transaction.
    async fn set_ownership(
        &self,
        token_id: i64,
        ownership: &ValidOwnership,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;
}

/// Opens the database a URL names: `sqlite:…` (the file and its folder are created when missing)
/// or `postgres://…`.
pub async fn connect(url: &str) -> Result<Repo, DbError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(postgres_options(url, std::env::var_os("PGSSLMODE").is_some())?)
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

/// PostgreSQL's connection options from its URL. A server on this machine (loopback, or a Unix
/// socket) is reached without TLS unless the URL (`sslmode`) or `PGSSLMODE` asks for it: TLS
/// there protects nothing, and on one machine the inventory's first page under load went from 905
/// pages a second with it to 1,245 without (its reference took 529–595 ms, then 505–507). Anywhere
/// else sqlx's default stands (`prefer`: TLS when the server offers it).
fn postgres_options(url: &str, ssl_mode_from_env: bool) -> Result<PgConnectOptions, DbError> {
    let options = PgConnectOptions::from_str(url)?;
    let asked = ssl_mode_from_env
        || url.split_once('?').is_some_and(|(_, query)| {
            query.split('&').any(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode")
            })
        });
    let host = options.get_host();
    let here = host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if here && !asked {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
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
    owner_team_id: Option<i64>,
    owner_team_name: Option<String>,
    set_team_id: Option<i64>,
    purpose: Option<String>,
}

/// A page's row with the data version its statement read (PostgreSQL's page: see
/// `SqlRepository::versioned_page`).
#[derive(sqlx::FromRow)]
struct VersionedTokenRow {
    #[sqlx(flatten)]
    token: TokenRow,
    data_version: i64,
}

/// The rest of a token's row and its ownership, for the detail page.
#[derive(sqlx::FromRow)]
struct DetailRow {
    description: Option<String>,
    container_gitlab_id: Option<i64>,
    account_gitlab_id: Option<i64>,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    inferred_team_id: Option<i64>,
    inferred_team_name: Option<String>,
    inferred_from_account: bool,
    set_team_id: Option<i64>,
    set_team_name: Option<String>,
    purpose: Option<String>,
    automation: Option<String>,
    secret_location: Option<String>,
    notes: Option<String>,
    updated_by: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl DetailRow {
    fn into_detail(self, summary: TokenSummary) -> TokenDetail {
        let team = |id: Option<i64>, name: Option<String>| id.zip(name).map(|(id, name)| domain::TeamRef { id, name });
        TokenDetail {
            summary,
            description: self.description,
            container_gitlab_id: self.container_gitlab_id,
            account_gitlab_id: self.account_gitlab_id,
            first_seen_at: self.first_seen_at,
            last_seen_at: self.last_seen_at,
            inferred_team: team(self.inferred_team_id, self.inferred_team_name),
            inferred_from_account: self.inferred_from_account,
            ownership: domain::Ownership {
                owner_team: team(self.set_team_id, self.set_team_name),
                purpose: self.purpose,
                automation: self.automation,
                secret_location: self.secret_location,
                notes: self.notes,
                updated_by: self.updated_by,
                updated_at: self.updated_at,
            },
        }
    }
}

/// Ownership as stored, for the audit log's "before".
#[derive(sqlx::FromRow)]
struct OwnershipRow {
    owner_team_id: Option<i64>,
    purpose: Option<String>,
    automation: Option<String>,
    secret_location: Option<String>,
    notes: Option<String>,
}

impl OwnershipRow {
    fn into_valid(self) -> ValidOwnership {
        ValidOwnership {
            owner_team_id: self.owner_team_id,
            purpose: self.purpose,
            automation: self.automation,
            secret_location: self.secret_location,
            notes: self.notes,
        }
    }
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
            owner_inferred: row.owner_team_id.is_some() && row.set_team_id.is_none(),
            owner_team: row
                .owner_team_id
                .zip(row.owner_team_name)
                .map(|(id, name)| domain::TeamRef { id, name }),
            purpose: row.purpose.filter(|p| !p.is_empty()),
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

/// ` LIMIT … OFFSET …` of a page, written out rather than bound. PostgreSQL plans a statement
/// whose limit is a parameter as if a tenth of the rows were wanted (a sort of them all, 50 ms
/// at 112,000 tokens), so it plans it afresh at every run instead (half a millisecond, more than
/// running it); with numbers in the text the plan is kept. Only numbers: nothing to escape.
fn push_page<DB: sqlx::Database>(builder: &mut sqlx::QueryBuilder<'_, DB>, limit: u64, offset: u64) {
    let most = i64::MAX.unsigned_abs();
    builder.push(format!(" LIMIT {} OFFSET {}", limit.min(most), offset.min(most)));
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

/// A write naming a team that does not exist (a foreign key refused it) is `NotFound`.
fn team_not_found(error: sqlx::Error) -> DbError {
    match &error {
        sqlx::Error::Database(e) if e.is_foreign_key_violation() => DbError::NotFound("that team".to_owned()),
        _ => DbError::Sqlx(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_on_this_machine_goes_without_tls_unless_asked() {
        let mode = |url: &str, env: bool| postgres_options(url, env).expect("options").get_ssl_mode();
        for here in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@localhost/test",
            "postgresql://postgres@[::1]:5432/test",
            "postgres:///test?host=/var/run/postgresql",
        ] {
            assert!(matches!(mode(here, false), PgSslMode::Disable), "{here}");
            assert!(matches!(mode(here, true), PgSslMode::Prefer), "{here}, PGSSLMODE set");
        }
        assert!(matches!(
            mode("postgres://postgres@127.0.0.1:5432/test?sslmode=require", false),
            PgSslMode::Require
        ));
        for elsewhere in [
            "postgres://app@db.internal:5432/inventory",
            "postgres://app@10.0.0.5/inventory",
        ] {
            assert!(matches!(mode(elsewhere, false), PgSslMode::Prefer), "{elsewhere}");
        }
        assert!(matches!(
            mode("postgres://app@db.internal/inventory?sslmode=verify-full", false),
            PgSslMode::VerifyFull
        ));
    }

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
