//! The SQL behind [`Repository`], written once and compiled for SQLite and for PostgreSQL.
//! Both accept the same statements here (`ON CONFLICT … excluded.`, `RETURNING`, `ESCAPE`);
//! `QueryBuilder` writes each backend's own placeholders.
//!
//! [`SqlRepository`] is generic over the backend ([`Db`]); [`SqliteRepository`] and
//! [`PostgresRepository`] are it on each. Its impls (here, in `sync_store` and in `auth_store`)
//! share one where clause: the sqlx capabilities the SQL uses (executing on a connection,
//! binding and reading `i64`, `i32`, `bool`, text, times and dates, reading columns by name),
//! which both backends have.

use std::{future::Future, pin::Pin};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Postgres, QueryBuilder, Sqlite,
    Type,
    migrate::{MigrateError, Migrator},
};

use crate::rows::{
    AccountTeamRow, CountRow, ExpiryCountRow, IdRangeRow, MembershipRow, ServiceAccountRow, TeamCountsRow, TeamLeadRow,
    TeamOverviewRow, TeamPathRow, TeamRow, TokenKeyRow, VersionedCountRow,
};
use crate::{
    AuthStore, Backend, CountBudget, Counted, DbError, DetailRow, NewTeam, OwnershipRow, Repository, Team,
    TeamOverview, TeamStats, TokenListing, TokenRow, UpsertCounts, VersionedTokenRow, contains_pattern, push_page,
    team_not_found, unique_violation,
};
use domain::{
    AccountMembership, ExpiryWindow, TokenDetail, TokenQuery, TokenRecord, TokenSort, TokenStatus, TokenSummary,
    ValidOwnership,
};

pub(crate) const TOKEN_COLUMNS: &str = "t.id, t.kind, t.gitlab_id, t.name, t.container_kind, t.container_path, \
     t.account_username, t.scopes, t.access_level, t.created_at, t.expires_on, t.last_used_at, t.revoked, \
     t.gone_since, tm.id AS owner_team_id, tm.name AS owner_team_name, o.owner_team_id AS set_team_id, o.purpose";

/// Tokens with what people said of them, and their owner team: the one a person set, or else the
/// one owning the group path.
pub(crate) const TOKEN_FROM: &str = " FROM tokens t LEFT JOIN ownership o ON o.token_id = t.id \
     LEFT JOIN teams tm ON tm.id = COALESCE(o.owner_team_id, t.inferred_team_id)";

/// What a token's `search_text` is: its name, path, account and purpose, lower-cased.
pub(super) const SEARCH_TEXT: &str = "LOWER(name || ' ' || container_path || ' ' || COALESCE(account_username, '') || ' ' \
     || COALESCE((SELECT o.purpose FROM ownership o WHERE o.token_id = tokens.id), ''))";

/// A token's inferred team: for a service account's personal access token, the account's team
/// (set by a person, else inferred: see [`domain::infer_account_team`]); else the team
/// owning the longest group path that is the token's path or above it.
macro_rules! inferred_team {
    () => {
        "COALESCE((SELECT COALESCE(ao.owner_team_id, a.inferred_team_id) FROM accounts a \
         LEFT JOIN account_ownership ao ON ao.account_gitlab_id = a.gitlab_id \
         WHERE tokens.kind = 'personal' AND a.gitlab_id = tokens.account_gitlab_id AND a.kind = 'service_account'), \
         (SELECT gp.team_id FROM team_group_paths gp WHERE tokens.container_path = gp.group_path \
         OR substr(tokens.container_path, 1, length(gp.group_path) + 1) = gp.group_path || '/' \
         ORDER BY length(gp.group_path) DESC, gp.team_id LIMIT 1))"
    };
}

/// Sets every token's `inferred_team_id` (see [`inferred_team!`]). Rows whose team is already
/// right are left alone (no new row version, nothing to vacuum).
const REFRESH_INFERRED_TEAMS: &str = concat!(
    "UPDATE tokens SET inferred_team_id = ",
    inferred_team!(),
    " WHERE inferred_team_id IS DISTINCT FROM ",
    inferred_team!()
);

/// The same for one service account's tokens (`$1`: its GitLab id), when its owner changes.
const REFRESH_ACCOUNT_TOKEN_TEAMS: &str = concat!(
    "UPDATE tokens SET inferred_team_id = ",
    inferred_team!(),
    " WHERE tokens.account_gitlab_id = $1 AND inferred_team_id IS DISTINCT FROM ",
    inferred_team!()
);

/// Service accounts still in GitLab, with their group and the owner a person set (the caller adds
/// a filter and the order).
const SERVICE_ACCOUNTS: &str = "SELECT a.gitlab_id, a.username, a.name, a.state, g.full_path AS group_path, \
     ao.owner_team_id, ao.updated_by, ao.updated_at FROM accounts a \
     LEFT JOIN gitlab_groups g ON g.gitlab_id = a.container_gitlab_id \
     LEFT JOIN account_ownership ao ON ao.account_gitlab_id = a.gitlab_id \
     WHERE a.kind = 'service_account' AND a.gone_since IS NULL";

/// PostgreSQL: one writer of inferred teams at a time (an advisory lock held to the end of the
/// transaction), so a refresh that read older owners never commits after a newer change. SQLite's
/// transactions here begin `IMMEDIATE`, which serialises them already.
const LOCK_INFERRED_TEAMS: &str = "SELECT pg_advisory_xact_lock(7460001)";

/// The version of what the inventory counts (see the migrations `search_index` on PostgreSQL and
/// `data_version` on SQLite).
const DATA_VERSION: &str =
    "SELECT (SELECT pruned FROM data_changes_pruned WHERE id = 1) + (SELECT COUNT(*) FROM data_changes)";

/// The review's version: every change to findings, decisions or the tokens they rest on (a sync's
/// writes) bumps it, in its transaction; the review queue's counts are kept per version.
pub(crate) const REVIEW_VERSION: &str = "SELECT version FROM review_version WHERE id = 1";
pub(crate) const BUMP_REVIEW_VERSION: &str = "UPDATE review_version SET version = version + 1 WHERE id = 1";

/// Folds the noted changes into `pruned`, in one statement, so the version stays the same.
const PRUNE_DATA_CHANGES: &str = "WITH gone AS (DELETE FROM data_changes RETURNING 1) \
     UPDATE data_changes_pruned SET pruned = pruned + (SELECT COUNT(*) FROM gone) WHERE id = 1";

/// An estimate reads this many ranges of ids, spread evenly from the lowest to the highest…
const SAMPLE_BLOCKS: i64 = 32;
/// … of this many ids each.
const SAMPLE_BLOCK: i64 = 128;

/// Counts by filter, each valid for one data version; at most [`CountCache::CAPACITY`] of them
/// (all forgotten when full: they are cheap to take again). `T`: a total, or the review's counts
/// per rule.
pub(crate) struct CountCache<T = u64> {
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, T)>>,
}

impl<T> Default for CountCache<T> {
    fn default() -> Self {
        CountCache {
            entries: std::sync::Mutex::default(),
        }
    }
}

impl CountCache {
    /// The filters (not the sort or the page) and the day, which moves the expiry windows.
    fn key(query: &TokenQuery, today: NaiveDate) -> String {
        format!("{today}{:?}", query.filters())
    }
}

impl<T: Clone> CountCache<T> {
    const CAPACITY: usize = 4096;

    pub(crate) fn get(&self, key: &str, version: i64) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at == version)
            .map(|(_, counted)| counted.clone())
    }

    /// What is kept for `key`, at whatever version it was kept.
    pub(crate) fn kept(&self, key: &str) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|(_, counted)| counted.clone())
    }

    pub(crate) fn put(&self, key: String, version: i64, counted: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (version, counted));
    }
}

/// The search words as an FTS5 phrase for the trigram index, or `None` when shorter than a
/// trigram (then a scan finds them).
fn fts_phrase(words: &str) -> Option<String> {
    let words = words.to_lowercase();
    (words.chars().count() >= 3).then(|| format!("\"{}\"", words.replace('"', "\"\"")))
}

/// Whether the filters or the sort read what people said (the purpose, the owner team's name);
/// the owner team itself is `tokens.team_id`, which triggers keep (migration `data_version`).
fn needs_ownership(query: &TokenQuery) -> bool {
    query.no_purpose || matches!(query.sort, TokenSort::Owner | TokenSort::Purpose)
}

/// `FROM` for the query's ids and counts: `tokens` alone unless the filters or the sort read what
/// people said.
fn token_from(query: &TokenQuery) -> &'static str {
    if needs_ownership(query) {
        TOKEN_FROM
    } else {
        " FROM tokens t"
    }
}

/// `ORDER BY` for the query: empty values last in either direction, then the id, so pages are
/// stable. Columns that are never empty sort without the emptiness test, so an index
/// (`LOWER(name), id`; `container_path`; `kind`) can give the order.
fn order_by(query: &TokenQuery) -> String {
    let column = sort_column(query.sort);
    let direction = if query.descending { "DESC" } else { "ASC" };
    match query.sort {
        TokenSort::Name | TokenSort::Kind | TokenSort::Path => {
            format!(" ORDER BY {column} {direction}, t.id {direction}")
        }
        _ => format!(" ORDER BY ({column} IS NULL), {column} {direction}, t.id ASC"),
    }
}

/// Whether an index holds the query's order (see [`order_by`]; by expiry, ascending only: empty
/// values come last either way).
fn ordered_by_index(query: &TokenQuery) -> bool {
    match query.sort {
        TokenSort::Name | TokenSort::Kind | TokenSort::Path => true,
        TokenSort::Expires => !query.descending,
        _ => false,
    }
}

fn sort_column(sort: TokenSort) -> &'static str {
    match sort {
        TokenSort::Name => "LOWER(t.name)",
        TokenSort::Kind => "t.kind",
        TokenSort::Path => "t.container_path",
        TokenSort::Account => "t.account_username",
        TokenSort::Owner => "LOWER(tm.name)",
        TokenSort::Purpose => "LOWER(o.purpose)",
        TokenSort::Role => "t.access_level",
        TokenSort::Expires => "t.expires_on",
        TokenSort::LastUsed => "t.last_used_at",
    }
}

/// How a query's filters are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// SQLite, through the filters' own indexes: the search words through the trigram index
    /// (FTS5), the expiry through its index.
    SqliteIndexes,
    /// SQLite, reading the rows in the page's order (its index) and keeping those that match:
    /// sooner, when many rows match, than collecting every match and sorting it. The filters'
    /// columns are written `+t.column`, SQLite's way of setting their indexes aside, and the
    /// search words are a `LIKE`.
    SqliteInOrder,
    /// PostgreSQL: its planner weighs both ways itself (the search's trigram index serves the
    /// `LIKE`).
    Postgres,
}

impl Plan {
    /// The filters' indexes on `backend`.
    fn indexed(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Plan::SqliteIndexes,
            Backend::Postgres => Plan::Postgres,
        }
    }

    /// Each row tested as it is read, in an order an index gives: SQLite's in-order way;
    /// PostgreSQL plans its own.
    fn in_order(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Plan::SqliteInOrder,
            Backend::Postgres => Plan::Postgres,
        }
    }

    /// `t.<name>`, or `+t.<name>` when the column's indexes are set aside.
    fn column(self, name: &str) -> String {
        match self {
            Plan::SqliteInOrder => format!("+t.{name}"),
            _ => format!("t.{name}"),
        }
    }
}

/// Adds the `WHERE` clause of `query` (everything but sort and page).
fn push_filters<'a, DB: Database>(builder: &mut QueryBuilder<'a, DB>, plan: Plan, query: &TokenQuery, today: NaiveDate)
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
{
    let column = |name: &str| plan.column(name);
    builder.push(" WHERE 1 = 1");
    if let Some(kind) = query.kind {
        builder
            .push(format!(" AND {} = ", column("kind")))
            .push_bind(kind.as_str());
    }
    if let Some(words) = &query.search {
        push_search(builder, plan, words);
    }
    let expires = column("expires_on");
    if let Some(window) = query.expiry {
        push_expiry(builder, &expires, window, today);
    }
    if let Some(from) = query.expires_from {
        builder.push(format!(" AND {expires} >= ")).push_bind(from);
    }
    if let Some(to) = query.expires_to {
        builder.push(format!(" AND {expires} <= ")).push_bind(to);
    }
    let team = column("team_id");
    if let Some(id) = query.team {
        builder.push(format!(" AND {team} = ")).push_bind(id);
    }
    if query.no_owner {
        builder.push(format!(" AND {team} IS NULL"));
    }
    if query.no_purpose {
        builder.push(" AND (o.purpose IS NULL OR o.purpose = '')");
    }
    if let Some(scope) = query.scope {
        builder
            .push(" AND (' ' || t.scopes || ' ') LIKE ")
            .push_bind(contains_pattern(&format!(" {} ", scope.as_str())))
            .push(" ESCAPE '\\'");
    }
    if let Some(role) = query.role {
        builder
            .push(format!(" AND {} = ", column("access_level")))
            .push_bind(role as i32);
    }
    if let Some(status) = query.status {
        push_status(builder, &expires, status, today);
    }
}

/// ` AND` the search words: with FTS, three characters or more are a phrase of the trigram index
/// (a phrase of trigrams matches where the words appear as they are written); else `search_text`
/// contains them.
fn push_search<'a, DB: Database>(builder: &mut QueryBuilder<'a, DB>, plan: Plan, words: &str)
where
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    match (plan, fts_phrase(words)) {
        (Plan::SqliteIndexes, Some(phrase)) => {
            builder
                .push(" AND t.id IN (SELECT rowid FROM tokens_search WHERE tokens_search MATCH ")
                .push_bind(phrase)
                .push(")");
        }
        _ => {
            builder
                .push(" AND t.search_text LIKE ")
                .push_bind(contains_pattern(words))
                .push(" ESCAPE '\\'");
        }
    }
}

/// ` AND` the token expires in `window` (as of `today`); `expires`: the column as written.
fn push_expiry<'a, DB: Database>(
    builder: &mut QueryBuilder<'a, DB>,
    expires: &str,
    window: ExpiryWindow,
    today: NaiveDate,
) where
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
{
    match (window, window.date_bounds(today)) {
        (ExpiryWindow::Never, _) | (_, None) => {
            builder.push(format!(" AND {expires} IS NULL"));
        }
        (_, Some((after, until))) => {
            builder.push(format!(" AND {expires} IS NOT NULL"));
            if let Some(after) = after {
                builder.push(format!(" AND {expires} > ")).push_bind(after);
            }
            if let Some(until) = until {
                builder.push(format!(" AND {expires} <= ")).push_bind(until);
            }
        }
    }
}

/// ` AND` the token has `status` (as of `today`); `expires`: the expiry column as written.
fn push_status<'a, DB: Database>(
    builder: &mut QueryBuilder<'a, DB>,
    expires: &str,
    status: TokenStatus,
    today: NaiveDate,
) where
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
{
    match status {
        TokenStatus::Gone => {
            builder.push(" AND t.gone_since IS NOT NULL");
        }
        TokenStatus::Revoked => {
            builder.push(" AND t.gone_since IS NULL AND t.revoked");
        }
        TokenStatus::Expired => {
            builder
                .push(format!(" AND t.gone_since IS NULL AND NOT t.revoked AND {expires} <= "))
                .push_bind(today);
        }
        TokenStatus::Active => {
            builder
                .push(format!(
                    " AND t.gone_since IS NULL AND NOT t.revoked AND ({expires} IS NULL OR {expires} > "
                ))
                .push_bind(today)
                .push(")");
        }
    }
}

/// Whether the latest decision `d` still holds for finding `f` (of token `t`), as 1 or 0: it was
/// made since the finding (last) opened; an accepted risk until a date not passed (`$today` is
/// bound where the text is used); "fixed" until the next refresh finds it again; and the token's
/// scopes and expiry as they were. (The review's queue and the timeline's severities read it.)
pub(crate) const HOLDS: &str = "CASE WHEN d.id IS NOT NULL AND d.decided_at >= f.first_found_at \
     AND (d.decision <> 'accept_risk' OR d.until_on >= ";
pub(crate) const HOLDS_END: &str = ") AND (d.decision <> 'mark_fixed' OR d.decided_at >= f.last_found_at) \
     AND (f.token_id IS NULL OR (d.token_scopes = t.scopes \
     AND COALESCE(d.token_expires_on, '') = COALESCE(CAST(t.expires_on AS TEXT), ''))) THEN 1 ELSE 0 END";

/// The expiry timeline's aggregate (see [`Repository::expiry_counts`]): the inventory's filters
/// `status=active&expires_from=…&expires_to=…` (so a week's count is what its link lists),
/// grouped by owner team and date.
fn expiry_counts_query<'a, DB: Database>(
    backend: Backend,
    from: NaiveDate,
    to: NaiveDate,
    within_teams: Option<&[i64]>,
    stack: domain::Stack,
    today: NaiveDate,
) -> QueryBuilder<'a, DB>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
{
    const TEAM: &str = "t.team_id";
    let mut builder = QueryBuilder::new(format!("SELECT {TEAM} AS team_id, t.expires_on, COUNT(*) AS tokens, "));
    match stack {
        domain::Stack::Team => {
            builder.push("CAST(NULL AS BIGINT) AS severity_rank");
        }
        domain::Stack::Severity => {
            // The most severe of the token's open findings: standing, and no decision holds.
            builder
                .push(
                    "CAST((SELECT MIN(f.severity_rank) FROM findings f LEFT JOIN finding_decisions d \
                     ON d.id = (SELECT MAX(x.id) FROM finding_decisions x WHERE x.finding_id = f.id) \
                     WHERE f.token_id = t.id AND f.resolved_at IS NULL AND ",
                )
                .push(HOLDS)
                .push_bind(today)
                .push(HOLDS_END)
                .push(" = 0) AS BIGINT) AS severity_rank");
        }
    }
    builder.push(" FROM tokens t");
    let window = TokenQuery {
        status: Some(TokenStatus::Active),
        expires_from: Some(from),
        expires_to: Some(to),
        ..TokenQuery::default()
    };
    push_filters(&mut builder, Plan::indexed(backend), &window, today);
    if let Some(teams) = within_teams {
        // No team at all: nothing (`IN ()` is not SQL).
        builder.push(format!(" AND {TEAM} IN ("));
        let mut list = builder.separated(", ");
        list.push_bind(-1_i64);
        for team in teams {
            list.push_bind(*team);
        }
        list.push_unseparated(")");
    }
    builder.push(format!(" GROUP BY {TEAM}, t.expires_on, 4 ORDER BY t.expires_on"));
    builder
}

/// The team's figures of [`TeamOverview`] in one query: a `CASE` sum per status and per expiry
/// window, each testing what the same filter of [`push_filters`] tests (so each equals
/// `count_tokens` of that filter).
fn team_counts_query<'a, DB: Database>(backend: Backend, team_id: i64, today: NaiveDate) -> QueryBuilder<'a, DB>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
{
    let mut builder = QueryBuilder::new("SELECT COUNT(*) AS total");
    for status in TokenStatus::ALL {
        builder.push(", COALESCE(SUM(CASE WHEN 1 = 1");
        push_status(&mut builder, "t.expires_on", status, today);
        builder.push(format!(
            " THEN 1 ELSE 0 END), 0) AS {}",
            TeamOverviewRow::status_column(status)
        ));
    }
    for window in ExpiryWindow::ALL {
        builder.push(", COALESCE(SUM(CASE WHEN 1 = 1");
        // Expired counts what has run out while still in GitLab; the others what is live.
        if window != ExpiryWindow::Expired {
            push_status(&mut builder, "t.expires_on", TokenStatus::Active, today);
        }
        push_expiry(&mut builder, "t.expires_on", window, today);
        builder.push(format!(
            " THEN 1 ELSE 0 END), 0) AS {}",
            TeamOverviewRow::window_column(window)
        ));
    }
    builder.push(TOKEN_FROM);
    let team = TokenQuery {
        team: Some(team_id),
        ..TokenQuery::default()
    };
    push_filters(&mut builder, Plan::indexed(backend), &team, today);
    builder
}

/// The repository on one backend: [`SqliteRepository`] or [`PostgresRepository`], from the same
/// SQL.
pub struct SqlRepository<DB: Database> {
    pool: Pool<DB>,
    /// Counts of filtered views per data version.
    counts: std::sync::Arc<CountCache>,
    /// The counts under way in tasks of their own (see `count_within`), by version and filter.
    counting: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// Every team with its group paths, per data version.
    teams: std::sync::Arc<CountCache<Vec<Team>>>,
    /// The expiry timeline's aggregates, per range, teams, stacking and version.
    expiry_counts: std::sync::Arc<CountCache<Vec<domain::ExpiryCount>>>,
    /// The review queue's counts per rule, per filter and review version (both backends).
    pub(crate) finding_counts: std::sync::Arc<CountCache<Vec<(domain::review::FindingRule, u64)>>>,
}

/// The embedded default: one file, no server.
pub type SqliteRepository = SqlRepository<Sqlite>;

/// For production, and for several replicas on one database.
pub type PostgresRepository = SqlRepository<Postgres>;

impl<DB: Database> Clone for SqlRepository<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            counts: self.counts.clone(),
            counting: self.counting.clone(),
            teams: self.teams.clone(),
            expiry_counts: self.expiry_counts.clone(),
            finding_counts: self.finding_counts.clone(),
        }
    }
}

impl<DB: Database> SqlRepository<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            counts: std::sync::Arc::default(),
            counting: std::sync::Arc::default(),
            teams: std::sync::Arc::default(),
            expiry_counts: std::sync::Arc::default(),
            finding_counts: std::sync::Arc::default(),
        }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
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
    for<'q> bool: Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    /// Every team with its group paths. Every page with a team filter or choice asks: kept per
    /// data version, which every change to `teams` and `team_group_paths` moves.
    async fn teams_at(&self, version: i64) -> Result<Vec<Team>, DbError> {
        if let Some(teams) = self.teams.get("", version) {
            return Ok(teams);
        }
        let teams: Vec<TeamRow> = sqlx::query_as("SELECT id, name FROM teams ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let paths: Vec<TeamPathRow> =
            sqlx::query_as("SELECT team_id, group_path FROM team_group_paths ORDER BY group_path")
                .fetch_all(&self.pool)
                .await?;
        let teams: Vec<Team> = teams.into_iter().map(|team| team.into_team(&paths)).collect();
        self.teams.put(String::new(), version, teams.clone());
        Ok(teams)
    }

    /// The data's version now (see [`DATA_VERSION`]).
    async fn data_version(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar(DATA_VERSION).fetch_one(&self.pool).await?)
    }

    /// How many tokens `query`'s filters match, at the data's `version` (read by the caller):
    /// kept per filter and version (the migrations `search_index` on PostgreSQL, `data_version`
    /// on SQLite), so only the first look after a change counts the rows.
    async fn count_at(&self, query: &TokenQuery, today: NaiveDate, version: i64) -> Result<u64, DbError> {
        let key = CountCache::key(query, today);
        if let Some(total) = self.counts.get(&key, version) {
            return Ok(total);
        }
        let from = token_from(query);
        let mut count = QueryBuilder::<DB>::new(format!("SELECT COUNT(*) AS total, ({DATA_VERSION}) AS version{from}"));
        push_filters(&mut count, Plan::indexed(DB::BACKEND), query, today);
        let VersionedCountRow { total, version } = DB::fetch_one(&mut count, &self.pool).await?;
        let total = u64::try_from(total).unwrap_or(0);
        self.counts.put(key, version, total);
        Ok(total)
    }

    /// [`Self::count_at`] within `budget`: the kept count, or one that ends in time (fewer tokens
    /// than `budget.from_tokens`: however long it takes); else an estimate, while the count goes
    /// on in a task of its own and is kept when it ends (one such task per filter and version at a
    /// time).
    async fn count_within(
        &self,
        query: &TokenQuery,
        today: NaiveDate,
        version: i64,
        budget: CountBudget,
    ) -> Result<Counted, DbError> {
        let key = CountCache::key(query, today);
        if let Some(total) = self.counts.get(&key, version) {
            return Ok(Counted {
                total,
                estimated: false,
            });
        }
        if self.id_span(version).await? < budget.from_tokens {
            let total = self.count_at(query, today, version).await?;
            return Ok(Counted {
                total,
                estimated: false,
            });
        }
        let counting = format!("{version}{key}");
        let started = self
            .counting
            .lock()
            .map(|mut running| running.insert(counting.clone()))
            .unwrap_or(false);
        if started {
            let (repo, filters) = (self.clone(), query.filters());
            let mut count = tokio::spawn(async move {
                let total = repo.count_at(&filters, today, version).await;
                if let Ok(mut running) = repo.counting.lock() {
                    running.remove(&counting);
                }
                total
            });
            // No time at all: an estimate, whatever the count does meanwhile.
            let in_time = if budget.time.is_zero() {
                None
            } else {
                tokio::time::timeout(budget.time, &mut count).await.ok()
            };
            if let Some(joined) = in_time {
                let total = joined.map_err(|error| DbError::Corrupt(format!("the count stopped: {error}")))??;
                return Ok(Counted {
                    total,
                    estimated: false,
                });
            }
        }
        Ok(Counted {
            total: self.estimate(query, today, self.id_range().await?).await?,
            estimated: true,
        })
    }

    /// The lowest and the highest token id, `None` when there is no token.
    async fn id_range(&self) -> Result<Option<(i64, i64)>, DbError> {
        let IdRangeRow { low, high } = sqlx::query_as("SELECT MIN(id) AS low, MAX(id) AS high FROM tokens")
            .fetch_one(&self.pool)
            .await?;
        Ok(low.zip(high))
    }

    /// How many ids the tokens span (the highest less the lowest, plus one: every token, and the
    /// few ids deletes left unused), kept per data version. Two index look-ups, where counting
    /// every token reads a million rows.
    async fn id_span(&self, version: i64) -> Result<u64, DbError> {
        const KEY: &str = "id span";
        if let Some(span) = self.counts.get(KEY, version) {
            return Ok(span);
        }
        let span = self
            .id_range()
            .await?
            .map_or(0, |(low, high)| u64::try_from(high - low + 1).unwrap_or(0));
        self.counts.put(KEY.to_owned(), version, span);
        Ok(span)
    }

    /// How many tokens `query`'s filters match, estimated from [`SAMPLE_BLOCKS`] evenly spread
    /// ranges of [`SAMPLE_BLOCK`] ids between `ids` (the lowest and the highest), scaled to every
    /// id between them. Each range is an index range, so the cost is the sample's, whatever the
    /// number of tokens.
    async fn estimate(&self, query: &TokenQuery, today: NaiveDate, ids: Option<(i64, i64)>) -> Result<u64, DbError> {
        let Some((low, high)) = ids else {
            return Ok(0);
        };
        let span = high - low + 1;
        let stride = (span / SAMPLE_BLOCKS).max(SAMPLE_BLOCK);
        let from = token_from(query);
        let mut sample = QueryBuilder::<DB>::new(format!("SELECT COUNT(*) AS total{from}"));
        // Each row tested as it is read (the search a `LIKE`): the id ranges are the index here.
        push_filters(&mut sample, Plan::in_order(DB::BACKEND), query, today);
        sample.push(" AND (1 = 0");
        let mut sampled = 0;
        let mut start = low;
        while start <= high {
            let end = (start + SAMPLE_BLOCK - 1).min(high);
            sample
                .push(" OR t.id BETWEEN ")
                .push_bind(start)
                .push(" AND ")
                .push_bind(end);
            sampled += end - start + 1;
            start += stride;
        }
        sample.push(")");
        let CountRow { total } = DB::fetch_one(&mut sample, &self.pool).await?;
        let scaled = i128::from(total) * i128::from(span) / i128::from(sampled.max(1));
        Ok(u64::try_from(scaled).unwrap_or(0))
    }

    /// The rows of `query`'s page, `total` being how many match in all.
    async fn page_at(
        &self,
        query: &TokenQuery,
        today: NaiveDate,
        version: i64,
        total: u64,
    ) -> Result<Vec<TokenSummary>, DbError> {
        if total == 0 {
            return Ok(Vec::new());
        }
        // On SQLite, when many rows match (one in 50 or more), reading the rows in an order its
        // index holds finds a page sooner than collecting every match and sorting it.
        let in_order = DB::BACKEND == Backend::Sqlite
            && query.is_filtered()
            && ordered_by_index(query)
            && total.saturating_mul(50) >= self.id_span(version).await?;
        let plan = if in_order {
            Plan::in_order(DB::BACKEND)
        } else {
            Plan::indexed(DB::BACKEND)
        };
        let mut select = page_statement::<DB>(query, today, plan, false);
        let rows: Vec<TokenRow> = DB::fetch_all(&mut select, &self.pool).await?;
        rows.into_iter().map(TokenSummary::try_from).collect()
    }

    /// PostgreSQL's page, read before its count: the rows with the data version read in the same
    /// statement (a round trip less for every page; the count and the teams are then those kept at
    /// that version). The version is `None` when the page has no rows.
    async fn versioned_page(
        &self,
        query: &TokenQuery,
        today: NaiveDate,
    ) -> Result<(Vec<TokenSummary>, Option<i64>), DbError> {
        let mut select = page_statement::<DB>(query, today, Plan::indexed(DB::BACKEND), true);
        let rows: Vec<VersionedTokenRow> = DB::fetch_all(&mut select, &self.pool).await?;
        let version = rows.first().map(|row| row.data_version);
        let tokens = rows
            .into_iter()
            .map(|row| TokenSummary::try_from(row.token))
            .collect::<Result<_, _>>()?;
        Ok((tokens, version))
    }
}

/// The statement of `query`'s page, in one: the page's ids, from `tokens` alone when the filters
/// and the sort allow (an index walk; a deep page skips thousands of ids, not whole rows), then
/// those rows whole with their owners, in the page's order; with `versioned`, each row also
/// carries the data version (`data_version`). The count is apart (kept per data version), which
/// lets the page stop after its rows.
fn page_statement<'a, DB: Database>(
    query: &TokenQuery,
    today: NaiveDate,
    plan: Plan,
    versioned: bool,
) -> QueryBuilder<'a, DB>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
{
    let version = if versioned {
        format!(", ({DATA_VERSION}) AS data_version")
    } else {
        String::new()
    };
    let from = token_from(query);
    let mut select = QueryBuilder::<DB>::new(format!(
        "SELECT {TOKEN_COLUMNS}{version}{TOKEN_FROM} WHERE t.id IN (SELECT t.id{from}"
    ));
    push_filters(&mut select, plan, query, today);
    select.push(order_by(query));
    push_page(&mut select, u64::from(query.limit()), query.offset());
    select.push(")");
    select.push(order_by(query));
    select
}

/// What running a query gives, later.
pub type Running<'e, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'e>>;

/// A backend the SQL runs on: which one, how its write transactions begin, its migrations, and
/// how a built query runs. The where clauses of the repository's impls say what else the SQL
/// needs of it (the types it binds and reads); both backends have all of it.
///
/// A `QueryBuilder`'s query runs here, on the concrete backend: code generic over the backend
/// cannot run it and drop the builder afterwards (the builder's arguments would have to be
/// borrowed for their own lifetime, which the generic arguments type cannot shorten).
pub trait Db: Database {
    const BACKEND: Backend;
    /// The statement that begins a write transaction.
    const BEGIN: &'static str;

    /// Applies the migrations this binary carries for the backend.
    fn migrate(pool: &Pool<Self>) -> Pin<Box<dyn Future<Output = Result<(), MigrateError>> + Send + '_>>;

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Runs a built query; its rows.
    fn fetch_all<'e, 'c: 'e, 'a: 'e, T, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, Vec<T>>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
        E: 'e + Executor<'c, Database = Self>;

    /// Runs a built query; its one row.
    fn fetch_one<'e, 'c: 'e, 'a: 'e, T, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, T>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
        E: 'e + Executor<'c, Database = Self>;

    /// Runs a built statement; how many rows it changed.
    fn execute<'e, 'c: 'e, 'a: 'e, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, u64>
    where
        E: 'e + Executor<'c, Database = Self>;

    /// [`Db::fetch_all`] of a statement not kept prepared: sync's bulk statements, whose text
    /// changes with their number of rows, so a kept one is seldom run again, and each
    /// connection's cache would hold a hundred of them (about 28 MB of SQLite's memory at a
    /// million tokens).
    fn fetch_all_once<'e, 'c: 'e, 'a: 'e, T, E>(
        query: &'e mut QueryBuilder<'a, Self>,
        executor: E,
    ) -> Running<'e, Vec<T>>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
        E: 'e + Executor<'c, Database = Self>;

    /// [`Db::execute`] of a statement not kept prepared (see [`Db::fetch_all_once`]).
    fn execute_once<'e, 'c: 'e, 'a: 'e, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, u64>
    where
        E: 'e + Executor<'c, Database = Self>;
}

/// `Db` for one backend: the same functions over its own types (generic code cannot run a
/// built statement; see [`Db`]).
macro_rules! backend {
    ($db:ty, $backend:expr, $begin:literal, $migrations:literal) => {
        impl Db for $db {
            const BACKEND: Backend = $backend;
            const BEGIN: &'static str = $begin;

            fn migrate(pool: &Pool<Self>) -> Pin<Box<dyn Future<Output = Result<(), MigrateError>> + Send + '_>> {
                static MIGRATOR: Migrator = sqlx::migrate!($migrations);
                Box::pin(MIGRATOR.run(pool))
            }

            fn rows_affected(done: &Self::QueryResult) -> u64 {
                done.rows_affected()
            }

            fn fetch_all<'e, 'c: 'e, 'a: 'e, T, E>(
                query: &'e mut QueryBuilder<'a, Self>,
                executor: E,
            ) -> Running<'e, Vec<T>>
            where
                T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
                E: 'e + Executor<'c, Database = Self>,
            {
                Box::pin(query.build_query_as().fetch_all(executor))
            }

            fn fetch_one<'e, 'c: 'e, 'a: 'e, T, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, T>
            where
                T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
                E: 'e + Executor<'c, Database = Self>,
            {
                Box::pin(query.build_query_as().fetch_one(executor))
            }

            fn execute<'e, 'c: 'e, 'a: 'e, E>(query: &'e mut QueryBuilder<'a, Self>, executor: E) -> Running<'e, u64>
            where
                E: 'e + Executor<'c, Database = Self>,
            {
                let run = query.build().execute(executor);
                Box::pin(async move { Ok(run.await?.rows_affected()) })
            }

            fn fetch_all_once<'e, 'c: 'e, 'a: 'e, T, E>(
                query: &'e mut QueryBuilder<'a, Self>,
                executor: E,
            ) -> Running<'e, Vec<T>>
            where
                T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'e,
                E: 'e + Executor<'c, Database = Self>,
            {
                Box::pin(query.build_query_as().persistent(false).fetch_all(executor))
            }

            fn execute_once<'e, 'c: 'e, 'a: 'e, E>(
                query: &'e mut QueryBuilder<'a, Self>,
                executor: E,
            ) -> Running<'e, u64>
            where
                E: 'e + Executor<'c, Database = Self>,
            {
                let run = query.build().persistent(false).execute(executor);
                Box::pin(async move { Ok(run.await?.rows_affected()) })
            }
        }
    };
}

// SQLite takes the write lock at the start: a transaction that reads before it writes cannot
// then fail with SQLITE_BUSY_SNAPSHOT.
backend!(Sqlite, Backend::Sqlite, "BEGIN IMMEDIATE", "../migrations/sqlite");
backend!(Postgres, Backend::Postgres, "BEGIN", "../migrations/postgres");

/// Helpers of the repository's methods.
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
    /// Records a person's change in the audit log, in the change's transaction.
    pub(crate) async fn audit(
        tx: &mut sqlx::Transaction<'_, DB>,
        at: DateTime<Utc>,
        by: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(at)
            .bind(by)
            .bind(action)
            .bind(subject)
            .bind(detail.to_string())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// What each service account still in GitLab can reach (`only` that one, when given),
    /// by account: groups first, then by path.
    async fn service_account_memberships(
        &self,
        only: Option<i64>,
    ) -> Result<std::collections::HashMap<i64, Vec<AccountMembership>>, DbError> {
        let mut select = QueryBuilder::<DB>::new(
            "SELECT m.account_gitlab_id, m.source_kind, m.source_gitlab_id, m.source_path, m.access_level \
             FROM account_memberships m JOIN accounts a ON a.gitlab_id = m.account_gitlab_id \
             WHERE a.kind = 'service_account' AND a.gone_since IS NULL",
        );
        if let Some(account) = only {
            select.push(" AND m.account_gitlab_id = ").push_bind(account);
        }
        select.push(" ORDER BY m.account_gitlab_id, m.source_kind, m.source_path");
        let rows: Vec<MembershipRow> = DB::fetch_all(&mut select, &self.pool).await?;
        let mut found: std::collections::HashMap<i64, Vec<AccountMembership>> = std::collections::HashMap::new();
        for row in rows {
            found
                .entry(row.account_gitlab_id)
                .or_default()
                .push(AccountMembership::try_from(row)?);
        }
        Ok(found)
    }

    /// Service accounts still in GitLab (`only` that one, when given), by username.
    async fn service_accounts(&self, only: Option<i64>) -> Result<Vec<domain::ServiceAccount>, DbError> {
        let mut select = QueryBuilder::<DB>::new(SERVICE_ACCOUNTS);
        if let Some(account) = only {
            select.push(" AND a.gitlab_id = ").push_bind(account);
        }
        select.push(" ORDER BY a.username");
        let accounts: Vec<ServiceAccountRow> = DB::fetch_all(&mut select, &self.pool).await?;
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let mut select = QueryBuilder::<DB>::new(format!(
            "SELECT {TOKEN_COLUMNS}{TOKEN_FROM} WHERE t.kind = 'personal' AND t.gone_since IS NULL"
        ));
        if let (Some(_), [account]) = (only, accounts.as_slice()) {
            select
                .push(" AND t.account_username = ")
                .push_bind(account.username.clone());
        }
        select.push(" ORDER BY t.name");
        let rows: Vec<TokenRow> = DB::fetch_all(&mut select, &self.pool).await?;
        let tokens: Vec<TokenSummary> = rows.into_iter().map(TokenSummary::try_from).collect::<Result<_, _>>()?;
        let mut memberships = self.service_account_memberships(only).await?;
        let rules = self.team_rules().await?;
        Ok(accounts
            .into_iter()
            .map(|row| {
                let reach = memberships.remove(&row.gitlab_id).unwrap_or_default();
                row.into_service_account(reach, &rules, &tokens)
            })
            .collect())
    }
}

#[async_trait]
impl<DB: Db> Repository for SqlRepository<DB>
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
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn migrate(&self) -> Result<(), DbError> {
        DB::migrate(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_tokens(&self, tokens: &[TokenRecord], seen_at: DateTime<Utc>) -> Result<UpsertCounts, DbError> {
        let mut tx = self.pool.begin_with(DB::BEGIN).await?;
        if matches!(DB::BACKEND, Backend::Postgres) {
            sqlx::query(LOCK_INFERRED_TEAMS).execute(&mut *tx).await?;
        }
        let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&mut *tx)
            .await?;
        Self::upsert_token_rows(&mut tx, tokens, seen_at).await?;
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(REFRESH_INFERRED_TEAMS).execute(&mut *tx).await?;
        sqlx::query(BUMP_REVIEW_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        let inserted = u64::try_from(after - before).unwrap_or(0);
        Ok(UpsertCounts {
            inserted,
            updated: (tokens.len() as u64).saturating_sub(inserted),
        })
    }

    async fn list_service_accounts(&self) -> Result<Vec<domain::ServiceAccount>, DbError> {
        self.service_accounts(None).await
    }

    async fn service_account(&self, gitlab_id: i64) -> Result<Option<domain::ServiceAccount>, DbError> {
        Ok(self.service_accounts(Some(gitlab_id)).await?.pop())
    }

    async fn team_overview(&self, team_id: i64, today: NaiveDate) -> Result<TeamOverview, DbError> {
        let mut counts = team_counts_query::<DB>(DB::BACKEND, team_id, today);
        let counts: TeamOverviewRow = DB::fetch_one(&mut counts, &self.pool).await?;
        let active = TokenQuery {
            team: Some(team_id),
            status: Some(TokenStatus::Active),
            sort: TokenSort::Expires,
            page: 1,
            ..TokenQuery::default()
        };
        let mut select = QueryBuilder::<DB>::new(format!("SELECT {TOKEN_COLUMNS}{TOKEN_FROM}"));
        push_filters(&mut select, Plan::indexed(DB::BACKEND), &active, today);
        select.push(order_by(&active));
        push_page(&mut select, u64::from(active.limit()), 0);
        let rows: Vec<TokenRow> = DB::fetch_all(&mut select, &self.pool).await?;
        let active = rows.into_iter().map(TokenSummary::try_from).collect::<Result<_, _>>()?;
        Ok(counts.into_overview(active))
    }

    async fn team_stats(&self, today: NaiveDate) -> Result<Vec<TeamStats>, DbError> {
        let soon = today + chrono::Days::new(30);
        let counts: Vec<TeamCountsRow> = sqlx::query_as(
            "SELECT COALESCE(o.owner_team_id, t.inferred_team_id) AS team_id, COUNT(*) AS tokens, \
             SUM(CASE WHEN NOT t.revoked AND (t.expires_on IS NULL OR t.expires_on > $1) THEN 1 ELSE 0 END) AS active, \
             SUM(CASE WHEN NOT t.revoked AND t.expires_on <= $1 THEN 1 ELSE 0 END) AS expired, \
             SUM(CASE WHEN NOT t.revoked AND t.expires_on > $1 AND t.expires_on <= $2 THEN 1 ELSE 0 END) AS expiring_30_days, \
             SUM(CASE WHEN NOT t.revoked AND t.expires_on IS NULL THEN 1 ELSE 0 END) AS never_expiring, \
             SUM(CASE WHEN o.purpose IS NULL OR o.purpose = '' THEN 1 ELSE 0 END) AS without_purpose \
             FROM tokens t LEFT JOIN ownership o ON o.token_id = t.id \
             WHERE t.gone_since IS NULL AND COALESCE(o.owner_team_id, t.inferred_team_id) IS NOT NULL \
             GROUP BY COALESCE(o.owner_team_id, t.inferred_team_id)",
        )
        .bind(today)
        .bind(soon)
        .fetch_all(&self.pool)
        .await?;
        let leads: Vec<TeamLeadRow> = sqlx::query_as(
            "SELECT team_id, username FROM team_leads UNION \
             SELECT ut.team_id, u.username FROM user_teams ut JOIN users u ON u.id = ut.user_id WHERE ut.is_lead",
        )
        .fetch_all(&self.pool)
        .await?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(self
            .list_teams()
            .await?
            .into_iter()
            .map(|team| {
                let c = counts
                    .iter()
                    .find(|c| c.team_id == team.id)
                    .copied()
                    .unwrap_or_default();
                let mut team_leads: Vec<String> = leads
                    .iter()
                    .filter(|lead| lead.team_id == team.id)
                    .map(|lead| lead.username.clone())
                    .collect();
                team_leads.sort();
                team_leads.dedup();
                TeamStats {
                    id: team.id,
                    name: team.name,
                    group_paths: team.group_paths,
                    leads: team_leads,
                    tokens: n(c.tokens),
                    active: n(c.active),
                    expired: n(c.expired),
                    expiring_30_days: n(c.expiring_30_days),
                    never_expiring: n(c.never_expiring),
                    without_purpose: n(c.without_purpose),
                }
            })
            .collect())
    }

    async fn expiry_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        within_teams: Option<&[i64]>,
        stack: domain::Stack,
        today: NaiveDate,
    ) -> Result<Vec<domain::ExpiryCount>, DbError> {
        // Kept per data version (and review version, for the severities), like the counts. Both
        // versions are read before the aggregate, so a change made meanwhile is never kept under a
        // version that does not have it.
        let version = self.data_version().await?;
        let review_version: i64 = match stack {
            domain::Stack::Severity => sqlx::query_scalar(REVIEW_VERSION).fetch_one(&self.pool).await?,
            domain::Stack::Team => 0,
        };
        let key = format!("{today}{from}{to}{within_teams:?}{stack:?}{review_version}");
        if let Some(counts) = self.expiry_counts.get(&key, version) {
            return Ok(counts);
        }
        let mut select = expiry_counts_query::<DB>(DB::BACKEND, from, to, within_teams, stack, today);
        let rows: Vec<ExpiryCountRow> = DB::fetch_all(&mut select, &self.pool).await?;
        let counts: Vec<domain::ExpiryCount> = rows.into_iter().map(domain::ExpiryCount::from).collect();
        self.expiry_counts.put(key, version, counts.clone());
        Ok(counts)
    }

    async fn count_tokens(&self, query: &TokenQuery, today: NaiveDate) -> Result<u64, DbError> {
        let version = self.data_version().await?;
        self.count_at(query, today, version).await
    }

    async fn list_tokens(&self, query: &TokenQuery, today: NaiveDate) -> Result<(Vec<TokenSummary>, u64), DbError> {
        let version = self.data_version().await?;
        let total = self.count_at(query, today, version).await?;
        Ok((self.page_at(query, today, version, total).await?, total))
    }

    async fn list_tokens_within(
        &self,
        query: &TokenQuery,
        today: NaiveDate,
        budget: CountBudget,
    ) -> Result<TokenListing, DbError> {
        // One version for all three. PostgreSQL reads it with the page, except for filters that
        // matched nothing when last counted: their version first, and an empty count kept at it
        // spares the page's statement (a search for a word nobody wrote is a full index search).
        // SQLite chooses the page's plan by its count, so reads the version first (in its own
        // process: no round trip).
        if DB::BACKEND == Backend::Postgres && self.counts.kept(&CountCache::key(query, today)) != Some(0) {
            let (tokens, version) = self.versioned_page(query, today).await?;
            let version = match version {
                Some(version) => version,
                None => self.data_version().await?,
            };
            return Ok(TokenListing {
                tokens,
                counted: self.count_within(query, today, version, budget).await?,
                teams: self.teams_at(version).await?,
            });
        }
        let version = self.data_version().await?;
        let counted = self.count_within(query, today, version, budget).await?;
        Ok(TokenListing {
            tokens: self.page_at(query, today, version, counted.total).await?,
            counted,
            teams: self.teams_at(version).await?,
        })
    }

    async fn create_team(&self, team: &NewTeam) -> Result<Team, DbError> {
        let conflict = |error: sqlx::Error| {
            if unique_violation(&error) {
                DbError::Conflict(format!("a team named {:?} already exists", team.name))
            } else {
                DbError::Sqlx(error)
            }
        };
        let mut tx = self.pool.begin_with(DB::BEGIN).await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(&team.name)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .map_err(conflict)?;
        let mut group_paths = team.group_paths.clone();
        group_paths.sort();
        group_paths.dedup();
        for path in &group_paths {
            sqlx::query("INSERT INTO team_group_paths (team_id, group_path) VALUES ($1, $2)")
                .bind(id)
                .bind(path)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.refresh_inferred_teams().await?;
        Ok(Team {
            id,
            name: team.name.clone(),
            group_paths,
        })
    }

    async fn get_token(&self, id: i64, _today: NaiveDate) -> Result<Option<TokenDetail>, DbError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS}{TOKEN_FROM} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let summary = TokenSummary::try_from(row)?;
        let extra: DetailRow = sqlx::query_as(
            "SELECT t.description, t.container_gitlab_id, t.account_gitlab_id, t.first_seen_at, t.last_seen_at, \
             it.id AS inferred_team_id, it.name AS inferred_team_name, \
             (SELECT COALESCE(ao.owner_team_id, a.inferred_team_id) FROM accounts a \
             LEFT JOIN account_ownership ao ON ao.account_gitlab_id = a.gitlab_id \
             WHERE t.kind = 'personal' AND a.gitlab_id = t.account_gitlab_id AND a.kind = 'service_account') \
             IS NOT NULL AS inferred_from_account, \
             st.id AS set_team_id, st.name AS set_team_name, \
             o.purpose, o.automation, o.secret_location, o.notes, o.updated_by, o.updated_at \
             FROM tokens t LEFT JOIN ownership o ON o.token_id = t.id \
             LEFT JOIN teams it ON it.id = t.inferred_team_id LEFT JOIN teams st ON st.id = o.owner_team_id \
             WHERE t.id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(extra.into_detail(summary)))
    }

    async fn set_ownership(
        &self,
        token_id: i64,
        ownership: &ValidOwnership,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin_with(DB::BEGIN).await?;
        let token: Option<TokenKeyRow> = sqlx::query_as("SELECT kind, gitlab_id FROM tokens WHERE id = $1")
            .bind(token_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(TokenKeyRow { kind, gitlab_id }) = token else {
            return Err(DbError::NotFound(format!("token {token_id}")));
        };
        let before: Option<OwnershipRow> = sqlx::query_as(
            "SELECT owner_team_id, purpose, automation, secret_location, notes FROM ownership WHERE token_id = $1",
        )
        .bind(token_id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO ownership (token_id, owner_team_id, purpose, automation, secret_location, notes, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (token_id) DO UPDATE SET \
             owner_team_id = excluded.owner_team_id, purpose = excluded.purpose, automation = excluded.automation, \
             secret_location = excluded.secret_location, notes = excluded.notes, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(token_id)
        .bind(ownership.owner_team_id)
        .bind(&ownership.purpose)
        .bind(&ownership.automation)
        .bind(&ownership.secret_location)
        .bind(&ownership.notes)
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(team_not_found)?;
        let detail = serde_json::json!({
            "before": before.map(OwnershipRow::into_valid),
            "after": ownership,
        });
        sqlx::query(&format!("UPDATE tokens SET search_text = {SEARCH_TEXT} WHERE id = $1"))
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        Self::audit(
            &mut tx,
            at,
            by,
            "ownership_changed",
            &format!("{kind}:{gitlab_id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn refresh_statistics(&self) -> Result<(), DbError> {
        // PostgreSQL: VACUUM also marks the pages all-visible, so counts and deep pages
        // read the indexes alone instead of visiting every row (a sync rewrites many).
        // TRUNCATE false: no ACCESS EXCLUSIVE lock to hand back empty pages at the end,
        // which would stall the pages being read meanwhile.
        let statement = match DB::BACKEND {
            Backend::Postgres => {
                sqlx::query(PRUNE_DATA_CHANGES).execute(&self.pool).await?;
                "VACUUM (ANALYZE, TRUNCATE false) tokens, ownership, accounts, data_changes, findings, \
                 finding_decisions"
            }
            Backend::Sqlite => "PRAGMA optimize",
        };
        sqlx::raw_sql(statement).execute(&self.pool).await?;
        Ok(())
    }

    async fn refresh_inferred_teams(&self) -> Result<(), DbError> {
        // Service accounts first (their tokens follow them), worked out by the same rule
        // the service accounts page shows; only changed rows are written.
        let mut tx = self.pool.begin_with(DB::BEGIN).await?;
        if matches!(DB::BACKEND, Backend::Postgres) {
            sqlx::query(LOCK_INFERRED_TEAMS).execute(&mut *tx).await?;
        }
        // Read once the lock is held: what any earlier change committed is seen.
        let rules = self.team_rules().await?;
        let accounts: Vec<AccountTeamRow> = sqlx::query_as(
            "SELECT a.gitlab_id, g.full_path AS group_path, a.inferred_team_id FROM accounts a \
             LEFT JOIN gitlab_groups g ON g.gitlab_id = a.container_gitlab_id \
             WHERE a.kind = 'service_account'",
        )
        .fetch_all(&self.pool)
        .await?;
        let memberships = self.service_account_memberships(None).await?;
        for AccountTeamRow {
            gitlab_id,
            group_path,
            inferred_team_id: stored,
        } in accounts
        {
            let reach = memberships.get(&gitlab_id).map_or(&[][..], Vec::as_slice);
            let inferred =
                domain::infer_account_team(group_path.as_deref(), reach, &rules).map(|(team, _)| team.team_id);
            if inferred != stored {
                sqlx::query("UPDATE accounts SET inferred_team_id = $1 WHERE gitlab_id = $2")
                    .bind(inferred)
                    .bind(gitlab_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(REFRESH_INFERRED_TEAMS).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_account_owner(
        &self,
        account_gitlab_id: i64,
        team_id: Option<i64>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin_with(DB::BEGIN).await?;
        if matches!(DB::BACKEND, Backend::Postgres) {
            sqlx::query(LOCK_INFERRED_TEAMS).execute(&mut *tx).await?;
        }
        let account: Option<String> = sqlx::query_scalar(
            "SELECT username FROM accounts WHERE gitlab_id = $1 AND kind = 'service_account' AND gone_since IS NULL",
        )
        .bind(account_gitlab_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(username) = account else {
            return Err(DbError::NotFound(format!("service account {account_gitlab_id}")));
        };
        let before: Option<i64> =
            sqlx::query_scalar("SELECT owner_team_id FROM account_ownership WHERE account_gitlab_id = $1")
                .bind(account_gitlab_id)
                .fetch_optional(&mut *tx)
                .await?;
        match team_id {
            Some(team_id) => {
                sqlx::query(
                    "INSERT INTO account_ownership (account_gitlab_id, owner_team_id, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (account_gitlab_id) DO UPDATE SET \
                     owner_team_id = excluded.owner_team_id, updated_by = excluded.updated_by, \
                     updated_at = excluded.updated_at",
                )
                .bind(account_gitlab_id)
                .bind(team_id)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(team_not_found)?;
            }
            None => {
                sqlx::query("DELETE FROM account_ownership WHERE account_gitlab_id = $1")
                    .bind(account_gitlab_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let detail = serde_json::json!({
            "username": username,
            "before": before,
            "after": team_id,
        });
        Self::audit(
            &mut tx,
            at,
            by,
            "account_owner_changed",
            &format!("service_account:{account_gitlab_id}"),
            &detail,
        )
        .await?;
        // Its tokens follow it.
        sqlx::query(REFRESH_ACCOUNT_TOKEN_TEAMS)
            .bind(account_gitlab_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_teams(&self) -> Result<Vec<Team>, DbError> {
        self.teams_at(self.data_version().await?).await
    }
}
