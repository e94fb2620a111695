//! What sync writes: batches of tokens, accounts, groups and projects (with the history of what
//! changed), gone-marking, runs and the lease that keeps runs one at a time. One SQL text for both
//! backends, like [`crate::sql`].

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::rows::{TokenEventRow, UpsertedTokenRow};
use crate::sql::{Db, SqlRepository};
use crate::{DbError, join_scopes};
use domain::{
    AccountMembership, AccountRecord, ContainerKind, GroupRecord, ProjectRecord, SyncError, SyncProgress, SyncRun,
    SyncStatus, SyncTrigger, TokenEventKind, TokenKind, TokenRecord, UnknownScope,
};

/// Rows per statement: at most 19 bound values a row stays far below both backends' limits.
const BATCH: usize = 500;

/// Everything sync read in one go, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct SyncBatch {
    pub tokens: Vec<TokenRecord>,
    pub accounts: Vec<AccountRecord>,
    pub groups: Vec<GroupRecord>,
    pub projects: Vec<ProjectRecord>,
}

impl SyncBatch {
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.accounts.is_empty() && self.groups.is_empty() && self.projects.is_empty()
    }
}

/// What writing a batch or marking gone did to tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncWriteCounts {
    pub created: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub gone: u64,
}

/// Which tokens a run may mark gone: those it did not see, except where what GitLab holds is
/// unknown (a listing failed), and, when the run could not list every container, only in the
/// containers it did list.
#[derive(Debug, Clone, Default)]
pub struct GoneRule {
    pub unknown: Vec<UnknownScope>,
    /// `Some`: only tokens of these containers (and kinds) were fully listed.
    pub only_in: Option<HashSet<(TokenKind, ContainerKind, Option<i64>)>>,
    /// Restrict to these container paths (root groups' full paths and what is below them);
    /// empty is everywhere.
    pub path_roots: Vec<String>,
}

impl GoneRule {
    fn allows(&self, kind: TokenKind, container_kind: ContainerKind, container_id: Option<i64>, path: &str) -> bool {
        let in_roots = self.path_roots.is_empty()
            || self
                .path_roots
                .iter()
                .any(|root| path == root || path.starts_with(&format!("{root}/")));
        in_roots
            && !self
                .unknown
                .iter()
                .any(|scope| scope.covers(kind, container_kind, container_id))
            && self
                .only_in
                .as_ref()
                .is_none_or(|listed| listed.contains(&(kind, container_kind, container_id)))
    }
}

/// A change found in a token, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingEvent {
    kind: TokenKind,
    gitlab_id: i64,
    event: TokenEventKind,
    detail: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct KnownToken {
    kind: String,
    gitlab_id: i64,
    name: String,
    container_path: String,
    account_gitlab_id: Option<i64>,
    scopes: String,
    expires_on: Option<NaiveDate>,
    revoked: bool,
    gone_since: Option<DateTime<Utc>>,
}

/// The changes between what the database knew of a token and what GitLab says now.
fn changes(known: &KnownToken, now: &TokenRecord) -> Vec<(TokenEventKind, serde_json::Value)> {
    let mut found = Vec::new();
    if known.gone_since.is_some() {
        found.push((TokenEventKind::Returned, serde_json::json!({})));
    }
    if !known.revoked && now.revoked {
        found.push((TokenEventKind::Revoked, serde_json::json!({})));
    }
    if known.expires_on != now.expires_on {
        found.push((
            TokenEventKind::ExpiryChanged,
            serde_json::json!({"from": known.expires_on, "to": now.expires_on}),
        ));
    }
    let scopes = join_scopes(&now.scopes);
    if known.scopes != scopes {
        found.push((
            TokenEventKind::ScopesChanged,
            serde_json::json!({"from": known.scopes.split_whitespace().collect::<Vec<_>>(), "to": now.scopes}),
        ));
    }
    if known.container_path != now.container_path {
        found.push((
            TokenEventKind::Moved,
            serde_json::json!({"from": known.container_path, "to": now.container_path}),
        ));
    }
    found
}

/// Compares the rows a batch touches with what GitLab says now; says which tokens are new,
/// which changed (and how), and which rotated (a new token with the name and account of a revoked
/// one).
fn diff(
    batch: &[TokenRecord],
    known: &[KnownToken],
    predecessors: &[KnownToken],
) -> (Vec<PendingEvent>, SyncWriteCounts) {
    let known: HashMap<(&str, i64), &KnownToken> = known.iter().map(|k| ((k.kind.as_str(), k.gitlab_id), k)).collect();
    let mut events = Vec::new();
    let mut counts = SyncWriteCounts::default();
    for token in batch {
        match known.get(&(token.kind.as_str(), token.gitlab_id)) {
            Some(before) => {
                let found = changes(before, token);
                if found.is_empty() {
                    counts.unchanged += 1;
                } else {
                    counts.changed += 1;
                }
                events.extend(found.into_iter().map(|(event, detail)| PendingEvent {
                    kind: token.kind,
                    gitlab_id: token.gitlab_id,
                    event,
                    detail,
                }));
            }
            None => {
                counts.created += 1;
                // Rotation: a revoked token of the same account and name, as stored or as this
                // very batch says (GitLab lists the old and the new token side by side).
                let same = |kind: &str, gitlab_id: i64, account: Option<i64>, name: &str| {
                    kind == token.kind.as_str()
                        && gitlab_id != token.gitlab_id
                        && account.is_some()
                        && account == token.account_gitlab_id
                        && name == token.name
                };
                let revoked_now: HashSet<(&str, i64)> = batch
                    .iter()
                    .filter(|t| t.revoked)
                    .map(|t| (t.kind.as_str(), t.gitlab_id))
                    .collect();
                let predecessor = predecessors
                    .iter()
                    .filter(|p| p.revoked || revoked_now.contains(&(p.kind.as_str(), p.gitlab_id)))
                    .find(|p| same(&p.kind, p.gitlab_id, p.account_gitlab_id, &p.name))
                    .map(|p| p.gitlab_id);
                if let Some(predecessor) = predecessor {
                    events.push(PendingEvent {
                        kind: token.kind,
                        gitlab_id: token.gitlab_id,
                        event: TokenEventKind::Rotated,
                        detail: serde_json::json!({"replaces_gitlab_id": predecessor}),
                    });
                }
            }
        }
    }
    (events, counts)
}

#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Writes what sync read, in one transaction: upserts keyed by GitLab ids (people's
    /// annotations live in other tables and are never touched), history events and audit rows
    /// for what changed.
    async fn write_sync_batch(
        &self,
        run_id: i64,
        batch: &SyncBatch,
        seen_at: DateTime<Utc>,
    ) -> Result<SyncWriteCounts, DbError>;

    /// Replaces what one account can reach (its memberships) with `memberships`, in one
    /// transaction. Sync calls it only once the account's whole listing was read, so a listing
    /// that failed leaves the previous memberships as they were. A membership must be of a group
    /// or a project.
    async fn replace_account_memberships(
        &self,
        account_gitlab_id: i64,
        memberships: &[AccountMembership],
        seen_at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Marks gone the tokens not seen since `seen_at` that `rule` allows; returns how many.
    async fn mark_tokens_gone(&self, run_id: i64, seen_at: DateTime<Utc>, rule: &GoneRule) -> Result<u64, DbError>;

    /// Marks gone the accounts, groups and projects not seen since `seen_at` (after a run that
    /// listed everything).
    async fn mark_structure_gone(&self, seen_at: DateTime<Utc>) -> Result<(), DbError>;

    /// Takes the sync lease for `holder` until `until` when it is free, expired or already
    /// `holder`'s. Several replicas on one database: only one gets it.
    async fn acquire_sync_lease(&self, holder: &str, until: DateTime<Utc>) -> Result<bool, DbError>;

    async fn release_sync_lease(&self, holder: &str) -> Result<(), DbError>;

    async fn start_sync_run(&self, trigger: SyncTrigger, at: DateTime<Utc>) -> Result<i64, DbError>;

    /// Saves a running run's figures (and its heartbeat).
    async fn update_sync_run(
        &self,
        run_id: i64,
        strategy: Option<&str>,
        requests: u64,
        progress: &SyncProgress,
        errors: &[SyncError],
    ) -> Result<(), DbError>;

    async fn finish_sync_run(
        &self,
        run_id: i64,
        status: SyncStatus,
        requests: u64,
        progress: &SyncProgress,
        errors: &[SyncError],
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Runs still `running` whose heartbeat is older than `before` become `abandoned`.
    async fn abandon_stale_sync_runs(&self, before: DateTime<Utc>) -> Result<u64, DbError>;

    /// The newest runs first.
    async fn list_sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>, DbError>;

    async fn get_sync_run(&self, run_id: i64) -> Result<Option<SyncRun>, DbError>;

    /// A token's history, oldest first: (when, event, detail as JSON).
    async fn token_history(
        &self,
        kind: TokenKind,
        gitlab_id: i64,
    ) -> Result<Vec<(DateTime<Utc>, String, String)>, DbError>;
}

#[derive(sqlx::FromRow)]
struct SyncRunRow {
    id: i64,
    trigger: String,
    strategy: Option<String>,
    status: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    requests: i64,
    progress: String,
    errors: String,
}

impl TryFrom<SyncRunRow> for SyncRun {
    type Error = DbError;

    fn try_from(row: SyncRunRow) -> Result<Self, DbError> {
        Ok(SyncRun {
            id: row.id,
            trigger: row.trigger.parse()?,
            strategy: row.strategy,
            status: row.status.parse()?,
            started_at: row.started_at,
            finished_at: row.finished_at,
            requests: u64::try_from(row.requests).unwrap_or(0),
            progress: serde_json::from_str(&row.progress).map_err(|e| DbError::Corrupt(e.to_string()))?,
            errors: serde_json::from_str(&row.errors).map_err(|e| DbError::Corrupt(e.to_string()))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct GoneCandidate {
    id: i64,
    kind: String,
    gitlab_id: i64,
    container_kind: String,
    container_gitlab_id: Option<i64>,
    container_path: String,
}

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

const RUN_COLUMNS: &str = "id, trigger, strategy, status, started_at, finished_at, requests, progress, errors";

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
    /// The stored state of the tokens of `batch` (and, for rotation, the other tokens of
    /// the same accounts).
    async fn known_tokens(
        tx: &mut sqlx::Transaction<'_, DB>,
        batch: &[TokenRecord],
    ) -> Result<(Vec<KnownToken>, Vec<KnownToken>), DbError> {
        const COLUMNS: &str = "SELECT kind, gitlab_id, name, container_path, account_gitlab_id, scopes, \
                               expires_on, revoked, gone_since FROM tokens";
        let mut builder = QueryBuilder::<DB>::new(format!("{COLUMNS} WHERE (kind, gitlab_id) IN "));
        builder.push_tuples(batch, |mut row, token| {
            row.push_bind(token.kind.as_str()).push_bind(token.gitlab_id);
        });
        let known: Vec<KnownToken> = DB::fetch_all_once(&mut builder, &mut **tx).await?;
        let found: HashSet<(&str, i64)> = known.iter().map(|k| (k.kind.as_str(), k.gitlab_id)).collect();
        let mut accounts: Vec<i64> = batch
            .iter()
            .filter(|t| !found.contains(&(t.kind.as_str(), t.gitlab_id)))
            .filter_map(|t| t.account_gitlab_id)
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        let mut predecessors = Vec::new();
        if !accounts.is_empty() {
            let mut builder = QueryBuilder::<DB>::new(format!("{COLUMNS} WHERE account_gitlab_id IN ("));
            let mut list = builder.separated(", ");
            for account in &accounts {
                list.push_bind(*account);
            }
            builder.push(")");
            predecessors = DB::fetch_all_once(&mut builder, &mut **tx).await?;
        }
        Ok((known, predecessors))
    }

    async fn write_events(
        tx: &mut sqlx::Transaction<'_, DB>,
        run_id: i64,
        events: &[(i64, String, TokenEventKind, String)],
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        for chunk in events.chunks(BATCH) {
            let mut builder =
                QueryBuilder::<DB>::new("INSERT INTO token_events (token_id, at, event, detail, sync_run_id) ");
            builder.push_values(chunk, |mut row, (token_id, _, event, detail)| {
                row.push_bind(*token_id)
                    .push_bind(at)
                    .push_bind(event.as_str())
                    .push_bind(detail.clone())
                    .push_bind(run_id);
            });
            DB::execute_once(&mut builder, &mut **tx).await?;
            let mut builder = QueryBuilder::<DB>::new("INSERT INTO audit_log (at, actor, action, subject, detail) ");
            builder.push_values(chunk, |mut row, (_, subject, event, detail)| {
                row.push_bind(at)
                    .push_bind("sync")
                    .push_bind(format!("token.{}", event.as_str()))
                    .push_bind(subject.clone())
                    .push_bind(detail.clone());
            });
            DB::execute_once(&mut builder, &mut **tx).await?;
        }
        Ok(())
    }

    async fn upsert_structure(
        tx: &mut sqlx::Transaction<'_, DB>,
        batch: &SyncBatch,
        seen_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        for chunk in batch.groups.chunks(BATCH) {
            DB::execute_once(&mut Self::upsert_groups(chunk, seen_at), &mut **tx).await?;
        }
        for chunk in batch.projects.chunks(BATCH) {
            DB::execute_once(&mut Self::upsert_projects(chunk, seen_at), &mut **tx).await?;
        }
        for chunk in batch.accounts.chunks(BATCH) {
            DB::execute_once(&mut Self::upsert_accounts(chunk, seen_at), &mut **tx).await?;
        }
        Ok(())
    }

    /// Inserts or updates groups keyed by GitLab id; seen at `seen_at`, so not gone.
    fn upsert_groups<'a>(groups: &[GroupRecord], seen_at: DateTime<Utc>) -> QueryBuilder<'a, DB> {
        let mut builder = QueryBuilder::new(
            "INSERT INTO gitlab_groups (gitlab_id, full_path, parent_gitlab_id, web_url, last_seen_at, \
             gone_since) ",
        );
        builder.push_values(groups, |mut row, group| {
            row.push_bind(group.gitlab_id)
                .push_bind(group.full_path.clone())
                .push_bind(group.parent_gitlab_id)
                .push_bind(group.web_url.clone())
                .push_bind(seen_at)
                .push_bind(None::<DateTime<Utc>>);
        });
        builder.push(
            " ON CONFLICT (gitlab_id) DO UPDATE SET full_path = excluded.full_path, \
             parent_gitlab_id = excluded.parent_gitlab_id, web_url = excluded.web_url, \
             last_seen_at = excluded.last_seen_at, gone_since = NULL",
        );
        builder
    }

    /// Inserts or updates projects keyed by GitLab id; seen at `seen_at`, so not gone.
    fn upsert_projects<'a>(projects: &[ProjectRecord], seen_at: DateTime<Utc>) -> QueryBuilder<'a, DB> {
        let mut builder = QueryBuilder::new(
            "INSERT INTO gitlab_projects (gitlab_id, path_with_namespace, namespace_gitlab_id, web_url, \
             archived, last_seen_at, gone_since) ",
        );
        builder.push_values(projects, |mut row, project| {
            row.push_bind(project.gitlab_id)
                .push_bind(project.path_with_namespace.clone())
                .push_bind(project.namespace_gitlab_id)
                .push_bind(project.web_url.clone())
                .push_bind(project.archived)
                .push_bind(seen_at)
                .push_bind(None::<DateTime<Utc>>);
        });
        builder.push(
            " ON CONFLICT (gitlab_id) DO UPDATE SET path_with_namespace = excluded.path_with_namespace, \
             namespace_gitlab_id = excluded.namespace_gitlab_id, web_url = excluded.web_url, \
             archived = excluded.archived, last_seen_at = excluded.last_seen_at, gone_since = NULL",
        );
        builder
    }

    /// Inserts or updates accounts keyed by GitLab id; seen at `seen_at`, so not gone.
    fn upsert_accounts<'a>(accounts: &[AccountRecord], seen_at: DateTime<Utc>) -> QueryBuilder<'a, DB> {
        let mut builder = QueryBuilder::new(
            "INSERT INTO accounts (gitlab_id, username, name, kind, container_kind, container_gitlab_id, \
             state, first_seen_at, last_seen_at, gone_since) ",
        );
        builder.push_values(accounts, |mut row, account| {
            row.push_bind(account.gitlab_id)
                .push_bind(account.username.clone())
                .push_bind(account.name.clone())
                .push_bind(account.kind.as_str())
                .push_bind(account.container_kind.as_str())
                .push_bind(account.container_gitlab_id)
                .push_bind(account.state.clone())
                .push_bind(seen_at)
                .push_bind(seen_at)
                .push_bind(None::<DateTime<Utc>>);
        });
        builder.push(
            " ON CONFLICT (gitlab_id) DO UPDATE SET username = excluded.username, name = excluded.name, \
             kind = excluded.kind, container_kind = excluded.container_kind, \
             container_gitlab_id = excluded.container_gitlab_id, state = excluded.state, \
             last_seen_at = excluded.last_seen_at, gone_since = NULL",
        );
        builder
    }

    /// Inserts or updates tokens keyed by (kind, GitLab id); their row ids by key.
    pub(super) async fn upsert_token_rows(
        tx: &mut sqlx::Transaction<'_, DB>,
        tokens: &[TokenRecord],
        seen_at: DateTime<Utc>,
    ) -> Result<HashMap<(String, i64), i64>, DbError> {
        let mut ids = HashMap::with_capacity(tokens.len());
        for chunk in tokens.chunks(BATCH) {
            let mut builder = Self::upsert_tokens_query(chunk, seen_at);
            let rows: Vec<UpsertedTokenRow> = DB::fetch_all_once(&mut builder, &mut **tx).await?;
            if !rows.is_empty() {
                let mut refresh = QueryBuilder::<DB>::new(format!(
                    "UPDATE tokens SET search_text = {} WHERE id IN (",
                    crate::sql::SEARCH_TEXT
                ));
                let mut list = refresh.separated(", ");
                for row in &rows {
                    list.push_bind(row.id);
                }
                refresh.push(")");
                DB::execute_once(&mut refresh, &mut **tx).await?;
            }
            ids.extend(rows.into_iter().map(|row| ((row.kind, row.gitlab_id), row.id)));
        }
        Ok(ids)
    }

    /// Inserts or updates `tokens` keyed by (kind, GitLab id), seen at `seen_at` (so not gone);
    /// returns their row ids and keys.
    fn upsert_tokens_query<'a>(tokens: &[TokenRecord], seen_at: DateTime<Utc>) -> QueryBuilder<'a, DB> {
        let mut builder = QueryBuilder::new(
            "INSERT INTO tokens (kind, gitlab_id, name, description, container_kind, \
             container_gitlab_id, container_path, account_gitlab_id, account_username, scopes, \
             access_level, created_at, expires_on, last_used_at, revoked, active, first_seen_at, \
             last_seen_at, gone_since) ",
        );
        builder.push_values(tokens, |mut row, token| {
            row.push_bind(token.kind.as_str())
                .push_bind(token.gitlab_id)
                .push_bind(token.name.clone())
                .push_bind(token.description.clone())
                .push_bind(token.container_kind.as_str())
                .push_bind(token.container_gitlab_id)
                .push_bind(token.container_path.clone())
                .push_bind(token.account_gitlab_id)
                .push_bind(token.account_username.clone())
                .push_bind(join_scopes(&token.scopes))
                .push_bind(token.access_level.map(i32::from))
                .push_bind(token.created_at)
                .push_bind(token.expires_on)
                .push_bind(token.last_used_at)
                .push_bind(token.revoked)
                .push_bind(token.active)
                .push_bind(seen_at)
                .push_bind(seen_at)
                .push_bind(None::<DateTime<Utc>>);
        });
        // A listing that lacks a field (the administrator's personal access token
        // listing has no access level) keeps what a fuller listing stored.
        builder.push(
            " ON CONFLICT (kind, gitlab_id) DO UPDATE SET name = excluded.name, \
             description = excluded.description, container_kind = excluded.container_kind, \
             container_gitlab_id = excluded.container_gitlab_id, \
             container_path = excluded.container_path, \
             account_gitlab_id = COALESCE(excluded.account_gitlab_id, tokens.account_gitlab_id), \
             account_username = COALESCE(excluded.account_username, tokens.account_username), \
             scopes = excluded.scopes, \
             access_level = COALESCE(excluded.access_level, tokens.access_level), \
             created_at = excluded.created_at, \
             expires_on = excluded.expires_on, last_used_at = excluded.last_used_at, \
             revoked = excluded.revoked, active = excluded.active, \
             last_seen_at = excluded.last_seen_at, gone_since = NULL \
             RETURNING id, kind, gitlab_id",
        );
        builder
    }
}

#[async_trait]
impl<DB: Db> SyncStore for SqlRepository<DB>
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
    async fn write_sync_batch(
        &self,
        run_id: i64,
        batch: &SyncBatch,
        seen_at: DateTime<Utc>,
    ) -> Result<SyncWriteCounts, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        Self::upsert_structure(&mut tx, batch, seen_at).await?;
        let mut counts = SyncWriteCounts::default();
        for chunk in batch.tokens.chunks(BATCH) {
            let (known, predecessors) = Self::known_tokens(&mut tx, chunk).await?;
            let (events, chunk_counts) = diff(chunk, &known, &predecessors);
            counts.created += chunk_counts.created;
            counts.changed += chunk_counts.changed;
            counts.unchanged += chunk_counts.unchanged;
            let ids = Self::upsert_token_rows(&mut tx, chunk, seen_at).await?;
            let rows: Vec<(i64, String, TokenEventKind, String)> = events
                .into_iter()
                .filter_map(|e| {
                    let id = *ids.get(&(e.kind.as_str().to_owned(), e.gitlab_id))?;
                    Some((
                        id,
                        format!("{}:{}", e.kind.as_str(), e.gitlab_id),
                        e.event,
                        e.detail.to_string(),
                    ))
                })
                .collect();
            Self::write_events(&mut tx, run_id, &rows, seen_at).await?;
        }
        sqlx::query(crate::sql::BUMP_REVIEW_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn replace_account_memberships(
        &self,
        account_gitlab_id: i64,
        memberships: &[AccountMembership],
        seen_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        if let Some(other) = memberships
            .iter()
            .find(|m| !matches!(m.source_kind, ContainerKind::Group | ContainerKind::Project))
        {
            return Err(DbError::Conflict(format!(
                "a membership is of a group or a project, not of {:?}",
                other.source_kind.as_str()
            )));
        }
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        sqlx::query("DELETE FROM account_memberships WHERE account_gitlab_id = $1")
            .bind(account_gitlab_id)
            .execute(&mut *tx)
            .await?;
        for chunk in memberships.chunks(BATCH) {
            let mut builder = QueryBuilder::<DB>::new(
                "INSERT INTO account_memberships (account_gitlab_id, source_kind, source_gitlab_id, \
                 source_path, access_level, last_seen_at) ",
            );
            builder.push_values(chunk, |mut row, membership| {
                row.push_bind(account_gitlab_id)
                    .push_bind(membership.source_kind.as_str())
                    .push_bind(membership.source_gitlab_id)
                    .push_bind(membership.source_path.clone())
                    .push_bind(i32::from(membership.access_level))
                    .push_bind(seen_at);
            });
            DB::execute_once(&mut builder, &mut *tx).await.map_err(|error| {
                if crate::unique_violation(&error) {
                    DbError::Conflict("the same group or project is listed twice".to_owned())
                } else {
                    DbError::Sqlx(error)
                }
            })?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn mark_tokens_gone(&self, run_id: i64, seen_at: DateTime<Utc>, rule: &GoneRule) -> Result<u64, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let candidates: Vec<GoneCandidate> = sqlx::query_as(
            "SELECT id, kind, gitlab_id, container_kind, container_gitlab_id, container_path FROM tokens \
             WHERE gone_since IS NULL AND last_seen_at < $1",
        )
        .bind(seen_at)
        .fetch_all(&mut *tx)
        .await?;
        let mut gone = Vec::new();
        for candidate in candidates {
            let kind: TokenKind = candidate.kind.parse()?;
            let container_kind: ContainerKind = candidate.container_kind.parse()?;
            if rule.allows(
                kind,
                container_kind,
                candidate.container_gitlab_id,
                &candidate.container_path,
            ) {
                gone.push((
                    candidate.id,
                    format!("{}:{}", candidate.kind, candidate.gitlab_id),
                    TokenEventKind::Gone,
                    "{}".to_owned(),
                ));
            }
        }
        let now = Utc::now();
        for chunk in gone.chunks(BATCH) {
            let mut builder = QueryBuilder::<DB>::new("UPDATE tokens SET gone_since = ");
            builder.push_bind(now).push(" WHERE id IN (");
            let mut list = builder.separated(", ");
            for (id, ..) in chunk {
                list.push_bind(*id);
            }
            builder.push(")");
            DB::execute_once(&mut builder, &mut *tx).await?;
        }
        Self::write_events(&mut tx, run_id, &gone, now).await?;
        sqlx::query(crate::sql::BUMP_REVIEW_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(gone.len() as u64)
    }

    async fn mark_structure_gone(&self, seen_at: DateTime<Utc>) -> Result<(), DbError> {
        let now = Utc::now();
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        for table in ["gitlab_groups", "gitlab_projects", "accounts"] {
            sqlx::query(&format!(
                "UPDATE {table} SET gone_since = $1 WHERE gone_since IS NULL AND last_seen_at < $2"
            ))
            .bind(now)
            .bind(seen_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn acquire_sync_lease(&self, holder: &str, until: DateTime<Utc>) -> Result<bool, DbError> {
        let taken = sqlx::query(
            "UPDATE sync_lease SET holder = $1, expires_at = $2 \
             WHERE id = 1 AND (holder IS NULL OR holder = $1 OR expires_at < $3)",
        )
        .bind(holder)
        .bind(until)
        .bind(Utc::now())
        .execute(self.pool())
        .await?;
        Ok(DB::rows_affected(&taken) == 1)
    }

    async fn release_sync_lease(&self, holder: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE sync_lease SET holder = NULL, expires_at = $1 WHERE id = 1 AND holder = $2")
            .bind(Utc::now() - Duration::seconds(1))
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn start_sync_run(&self, trigger: SyncTrigger, at: DateTime<Utc>) -> Result<i64, DbError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_runs (trigger, status, started_at, heartbeat_at) VALUES ($1, 'running', $2, $2) \
             RETURNING id",
        )
        .bind(trigger.as_str())
        .bind(at)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    async fn update_sync_run(
        &self,
        run_id: i64,
        strategy: Option<&str>,
        requests: u64,
        progress: &SyncProgress,
        errors: &[SyncError],
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE sync_runs SET strategy = COALESCE($1, strategy), requests = $2, progress = $3, \
             errors = $4, heartbeat_at = $5 WHERE id = $6",
        )
        .bind(strategy)
        .bind(i64::try_from(requests).unwrap_or(i64::MAX))
        .bind(json_text(progress))
        .bind(json_text(&errors))
        .bind(Utc::now())
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn finish_sync_run(
        &self,
        run_id: i64,
        status: SyncStatus,
        requests: u64,
        progress: &SyncProgress,
        errors: &[SyncError],
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE sync_runs SET status = $1, requests = $2, progress = $3, errors = $4, \
             heartbeat_at = $5, finished_at = $5 WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(i64::try_from(requests).unwrap_or(i64::MAX))
        .bind(json_text(progress))
        .bind(json_text(&errors))
        .bind(at)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn abandon_stale_sync_runs(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let done = sqlx::query(
            "UPDATE sync_runs SET status = 'abandoned', finished_at = heartbeat_at \
             WHERE status = 'running' AND heartbeat_at < $1",
        )
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(DB::rows_affected(&done))
    }

    async fn list_sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>, DbError> {
        let rows: Vec<SyncRunRow> = sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs ORDER BY id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(SyncRun::try_from).collect()
    }

    async fn get_sync_run(&self, run_id: i64) -> Result<Option<SyncRun>, DbError> {
        let row: Option<SyncRunRow> = sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1"))
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(SyncRun::try_from).transpose()
    }

    async fn token_history(
        &self,
        kind: TokenKind,
        gitlab_id: i64,
    ) -> Result<Vec<(DateTime<Utc>, String, String)>, DbError> {
        let rows: Vec<TokenEventRow> = sqlx::query_as(
            "SELECT e.at, e.event, e.detail FROM token_events e JOIN tokens t ON t.id = e.token_id \
             WHERE t.kind = $1 AND t.gitlab_id = $2 ORDER BY e.at, e.id",
        )
        .bind(kind.as_str())
        .bind(gitlab_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
