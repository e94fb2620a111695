//! Service-account requests: each request with where it stands, its timeline, and the in-app
//! notices its steps send. A step names the version of the request it was taken on: of two people
//! acting at once, one wins and the other gets a `Conflict`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use crate::DbError;
use crate::sql::{Db, SqlRepository};
use domain::{
    ContainerKind, TeamRef,
    requests::{RequestAction, RequestState, ValidRequest},
};

/// A person, by the product's user id and username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub username: String,
}

/// One step on a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvent {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub action: RequestAction,
    /// Where the request stood after it.
    pub state: RequestState,
    pub note: Option<String>,
}

/// A request as stored, with its timeline (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRequest {
    pub id: i64,
    pub state: RequestState,
    pub requester: Person,
    pub owner_team: Option<TeamRef>,
    pub body: ValidRequest,
    pub endorsed_by: Option<Person>,
    pub decided_by: Option<Person>,
    pub decision_reason: Option<String>,
    pub account_gitlab_id: Option<i64>,
    /// How its fulfilment through GitLab's API stands (all empty when none was started).
    pub fulfilment: FulfilmentState,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub events: Vec<RequestEvent>,
}

/// A request's fulfilment through GitLab's API: started (its key recorded before the first call),
/// held by someone right now, what failed last, and the first token (its GitLab id, never its
/// secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentState {
    pub key: Option<String>,
    pub busy_until: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub token_gitlab_id: Option<i64>,
    pub token_created_at: Option<DateTime<Utc>>,
    pub token_busy_until: Option<DateTime<Utc>>,
}

/// A request in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub id: i64,
    pub state: RequestState,
    pub account_name: String,
    pub requester: String,
    pub owner_team: Option<TeamRef>,
    pub updated_at: DateTime<Utc>,
}

/// Which requests to list, newest change first. Drafts are listed only with `requester`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFilter {
    /// Only this person's requests.
    pub requester: Option<i64>,
    /// Only these teams' requests.
    pub teams: Option<Vec<i64>>,
    pub states: Vec<RequestState>,
    pub limit: u64,
}

/// A step to record. `expected_version` is the version the person saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStep {
    pub request_id: i64,
    pub expected_version: i64,
    pub action: RequestAction,
    pub next_state: RequestState,
    pub by: Person,
    /// The request as amended (a draft saved, an amendment).
    pub body: Option<ValidRequest>,
    /// A rejection's reason, or what the step says besides.
    pub note: Option<String>,
    /// Who gets a notice of it in the app, and what it says.
    pub notify: Vec<(i64, String)>,
    /// A fulfilment through GitLab's API: the account it made. The request records it, its
    /// hold and last error are cleared, and the account is owned by the request's team.
    pub account_gitlab_id: Option<i64>,
}

/// A notice in a person's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub text: String,
    pub request_id: Option<i64>,
    pub read: bool,
}

#[async_trait]
pub trait RequestStore {
    /// Stores a new request (a draft, or submitted at once) by `by`, with its first timeline
    /// step and its notices; returns its id.
    async fn create_request(
        &self,
        by: &Person,
        state: RequestState,
        body: &ValidRequest,
        notify: &[(i64, String)],
        at: DateTime<Utc>,
    ) -> Result<i64, DbError>;

    /// Records a step in one transaction: the request's new state (and body, endorsement,
    /// decision), the timeline, the audit log and the notices. `Conflict` when the request changed
    /// since `expected_version` (someone else acted first), `NotFound` when there is none.
    async fn record_step(&self, step: &RequestStep, at: DateTime<Utc>) -> Result<(), DbError>;

    async fn request(&self, id: i64) -> Result<Option<StoredRequest>, DbError>;

    /// Closes every approved request whose account sync now sees (a service account with its
    /// name): marked created by sync, its requester told. Answers each closed request's
    /// (id, the account's GitLab id, owner team id), for the caller to set the account's owner.
    async fn close_seen_requests(&self, at: DateTime<Utc>) -> Result<Vec<(i64, i64, Option<i64>)>, DbError>;

    async fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<RequestSummary>, DbError>;

    /// Account names already taken (lower case): service accounts GitLab has, and requests not
    /// closed (but `except` that one).
    async fn taken_account_names(&self, except: Option<i64>) -> Result<Vec<String>, DbError>;

    /// Which of `paths` are groups or projects sync knows (and still in GitLab), with the kind.
    async fn containers(&self, paths: &[String]) -> Result<Vec<(String, ContainerKind)>, DbError>;

    /// The user ids of a team's leads (named in the teams file and signed in, or Maintainers of
    /// its group who signed in).
    async fn team_lead_ids(&self, team_id: i64) -> Result<Vec<i64>, DbError>;

    /// The user ids of security and admins.
    async fn security_ids(&self) -> Result<Vec<i64>, DbError>;

    /// A person's latest notices, unread first.
    async fn inbox(&self, user_id: i64, limit: u64) -> Result<Vec<Notice>, DbError>;

    /// Marks a person's notices read: those of one request, or all.
    async fn mark_read(&self, user_id: i64, request_id: Option<i64>, at: DateTime<Utc>) -> Result<(), DbError>;

    /// Holds approved request `id` for a fulfilment through GitLab's API until `until`, and
    /// records `key` before any call to GitLab unless an earlier try recorded one (a retry keeps
    /// it, and knows it is a retry). Answers the fulfilment as it stands. `Conflict` when someone
    /// holds it now, or when it is not (any more) approved.
    async fn hold_fulfilment(
        &self,
        id: i64,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<FulfilmentState, DbError>;

    /// The account a fulfilment made (or found), recorded at once, so a retry starts from it.
    async fn record_fulfilment_account(&self, id: i64, account_gitlab_id: i64) -> Result<(), DbError>;

    /// Lets go of a fulfilment that failed, keeping why (for the page) and what it did.
    async fn release_fulfilment(&self, id: i64, error: &str) -> Result<(), DbError>;

    /// Holds fulfilled request `id` for its first token until `until`: only once an account was
    /// made through the API here and no first token was made yet. Answers the account's GitLab id.
    async fn hold_first_token(&self, id: i64, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<i64, DbError>;

    /// Records the first token (its GitLab id, never its secret) with its step on the timeline,
    /// and lets go of the hold.
    async fn record_first_token(
        &self,
        step: &RequestStep,
        token_gitlab_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Lets go of a first token's hold without one (GitLab failed).
    async fn release_first_token(&self, id: i64) -> Result<(), DbError>;
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    state: String,
    requester_id: i64,
    requester: String,
    team_id: Option<i64>,
    team_name: Option<String>,
    account_name: String,
    body: String,
    endorsed_by: Option<i64>,
    endorser: Option<String>,
    decided_by: Option<i64>,
    decider: Option<String>,
    decision_reason: Option<String>,
    account_gitlab_id: Option<i64>,
    fulfilment_key: Option<String>,
    fulfilment_busy_until: Option<DateTime<Utc>>,
    fulfilment_error: Option<String>,
    token_gitlab_id: Option<i64>,
    token_created_at: Option<DateTime<Utc>>,
    token_busy_until: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: DateTime<Utc>,
    actor: Option<String>,
    action: String,
    state: String,
    note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    at: DateTime<Utc>,
    text: String,
    request_id: Option<i64>,
    read_at: Option<DateTime<Utc>>,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.state, r.requester_id, u.username AS requester, r.owner_team_id AS team_id, \
     tm.name AS team_name, r.account_name, r.body, r.endorsed_by, e.username AS endorser, r.decided_by, \
     d.username AS decider, r.decision_reason, r.account_gitlab_id, r.fulfilment_key, \
     r.fulfilment_busy_until, r.fulfilment_error, r.token_gitlab_id, r.token_created_at, r.token_busy_until, r.version, r.created_at, r.updated_at \
     FROM service_account_requests r JOIN users u ON u.id = r.requester_id \
     LEFT JOIN teams tm ON tm.id = r.owner_team_id LEFT JOIN users e ON e.id = r.endorsed_by \
     LEFT JOIN users d ON d.id = r.decided_by";

fn team(id: Option<i64>, name: Option<String>) -> Option<TeamRef> {
    Some(TeamRef { id: id?, name: name? })
}

fn person(id: Option<i64>, username: Option<String>) -> Option<Person> {
    Some(Person {
        id: id?,
        username: username?,
    })
}

impl RequestRow {
    fn into_request(self, events: Vec<RequestEvent>) -> Result<StoredRequest, DbError> {
        let body: ValidRequest = serde_json::from_str(&self.body)
            .map_err(|error| DbError::Corrupt(format!("request {}: {error}", self.id)))?;
        Ok(StoredRequest {
            id: self.id,
            state: self.state.parse()?,
            requester: Person {
                id: self.requester_id,
                username: self.requester,
            },
            owner_team: team(self.team_id, self.team_name),
            body,
            endorsed_by: person(self.endorsed_by, self.endorser),
            decided_by: person(self.decided_by, self.decider),
            decision_reason: self.decision_reason,
            account_gitlab_id: self.account_gitlab_id,
            fulfilment: FulfilmentState {
                key: self.fulfilment_key,
                busy_until: self.fulfilment_busy_until,
                error: self.fulfilment_error,
                token_gitlab_id: self.token_gitlab_id,
                token_created_at: self.token_created_at,
                token_busy_until: self.token_busy_until,
            },
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            events,
        })
    }
}

fn body_json(body: &ValidRequest) -> Result<String, DbError> {
    serde_json::to_string(body).map_err(|error| DbError::Corrupt(error.to_string()))
}

#[async_trait]
impl<DB: Db> RequestStore for SqlRepository<DB>
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
    async fn create_request(
        &self,
        by: &Person,
        state: RequestState,
        body: &ValidRequest,
        notify: &[(i64, String)],
        at: DateTime<Utc>,
    ) -> Result<i64, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO service_account_requests (state, requester_id, owner_team_id, account_name, body, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id",
        )
        .bind(state.as_str())
        .bind(by.id)
        .bind(body.owner_team.as_ref().map(|team| team.id))
        .bind(body.account_name.clone())
        .bind(body_json(body)?)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let action = if state == RequestState::Draft {
            RequestAction::SaveDraft
        } else {
            RequestAction::Submit
        };
        Self::request_event(&mut tx, id, at, by, action, state, None).await?;
        Self::notices(&mut tx, id, at, notify).await?;
        let detail = serde_json::json!({"request": id, "state": state.as_str(), "account": body.account_name});
        Self::audit(
            &mut tx,
            at,
            &by.username,
            "request.created",
            &format!("request:{id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn record_step(&self, step: &RequestStep, at: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let mut update = Self::step_update(step, at)?;
        let changed = DB::execute(&mut update, &mut *tx).await?;
        if changed == 0 {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT version FROM service_account_requests WHERE id = $1")
                .bind(step.request_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                None => DbError::NotFound(format!("request {}", step.request_id)),
                Some(_) => DbError::Conflict(
                    "someone else changed this request a moment ago: look at it again before you act".to_owned(),
                ),
            });
        }
        if let Some(account) = step.account_gitlab_id {
            Self::own_account(&mut tx, step.request_id, account, &step.by.username, at).await?;
        }
        let detail = serde_json::json!({
            "request": step.request_id,
            "action": step.action.as_str(),
            "state": step.next_state.as_str(),
            "note": step.note,
            "account": step.account_gitlab_id,
        });
        Self::log_step(&mut tx, step, at, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request(&self, id: i64) -> Result<Option<StoredRequest>, DbError> {
        let row: Option<RequestRow> = sqlx::query_as(&format!("{REQUEST_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT ev.at, u.username AS actor, ev.action, ev.state, ev.note FROM request_events ev \
             LEFT JOIN users u ON u.id = ev.actor_id WHERE ev.request_id = $1 ORDER BY ev.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let events = events
            .into_iter()
            .map(|event| {
                Ok(RequestEvent {
                    at: event.at,
                    by: event.actor,
                    action: event.action.parse()?,
                    state: event.state.parse()?,
                    note: event.note,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        row.into_request(events).map(Some)
    }

    async fn close_seen_requests(&self, at: DateTime<Utc>) -> Result<Vec<(i64, i64, Option<i64>)>, DbError> {
        let seen: Vec<(i64, i64, i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT r.id, r.version, r.requester_id, a.gitlab_id, r.account_name, r.owner_team_id \
             FROM service_account_requests r JOIN accounts a ON LOWER(a.username) = LOWER(r.account_name) \
             WHERE r.state = 'approved' AND a.kind = 'service_account' AND a.gone_since IS NULL ORDER BY r.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut closed = Vec::new();
        for (id, version, requester, account, name, team) in seen {
            let mut tx = self.pool().begin_with(DB::BEGIN).await?;
            let mut update = QueryBuilder::<DB>::new(
                "UPDATE service_account_requests SET state = 'fulfilled', version = version + 1, account_gitlab_id = ",
            );
            update
                .push_bind(account)
                .push(", updated_at = ")
                .push_bind(at)
                .push(" WHERE id = ")
                .push_bind(id)
                .push(" AND version = ")
                .push_bind(version);
            let changed = DB::execute(&mut update, &mut *tx).await?;
            if changed == 0 {
                // Someone marked it meanwhile.
                continue;
            }
            sqlx::query(
                "INSERT INTO request_events (request_id, at, actor_id, action, state, note) \
                 VALUES ($1, $2, NULL, 'fulfil', 'fulfilled', $3)",
            )
            .bind(id)
            .bind(at)
            .bind(format!("sync found the service account {name}"))
            .execute(&mut *tx)
            .await?;
            let text = format!("The service account {name} exists in GitLab: your request is done.");
            Self::notices(&mut tx, id, at, &[(requester, text)]).await?;
            let detail = serde_json::json!({"request": id, "action": "fulfil", "account": account});
            Self::audit(&mut tx, at, "sync", "request.step", &format!("request:{id}"), &detail).await?;
            tx.commit().await?;
            closed.push((id, account, team));
        }
        Ok(closed)
    }

    async fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<RequestSummary>, DbError> {
        let mut select = QueryBuilder::<DB>::new(REQUEST_SELECT);
        select.push(" WHERE 1 = 1");
        match filter.requester {
            Some(requester) => {
                select.push(" AND r.requester_id = ").push_bind(requester);
            }
            None => {
                select.push(" AND r.state <> 'draft'");
            }
        }
        if let Some(teams) = &filter.teams {
            select.push(" AND r.owner_team_id IN (");
            let mut list = select.separated(", ");
            list.push_bind(-1_i64);
            for team in teams {
                list.push_bind(*team);
            }
            list.push_unseparated(")");
        }
        if !filter.states.is_empty() {
            select.push(" AND r.state IN (");
            let mut list = select.separated(", ");
            for state in &filter.states {
                list.push_bind(state.as_str());
            }
            list.push_unseparated(")");
        }
        select
            .push(" ORDER BY r.updated_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::try_from(filter.limit.clamp(1, 500)).unwrap_or(500));
        let rows: Vec<RequestRow> = DB::fetch_all(&mut select, self.pool()).await?;
        rows.into_iter()
            .map(|row| {
                Ok(RequestSummary {
                    id: row.id,
                    state: row.state.parse()?,
                    account_name: row.account_name,
                    requester: row.requester,
                    owner_team: team(row.team_id, row.team_name),
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    async fn taken_account_names(&self, except: Option<i64>) -> Result<Vec<String>, DbError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT LOWER(username) FROM accounts WHERE gone_since IS NULL \
             UNION SELECT LOWER(account_name) FROM service_account_requests \
             WHERE state NOT IN ('rejected', 'withdrawn', 'fulfilled') AND account_name <> '' AND id <> $1",
        )
        .bind(except.unwrap_or(-1))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn containers(&self, paths: &[String]) -> Result<Vec<(String, ContainerKind)>, DbError> {
        let mut found = Vec::new();
        for path in paths.iter().take(100) {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT full_path, 'group' FROM gitlab_groups WHERE gone_since IS NULL AND LOWER(full_path) = LOWER($1) \
                 UNION ALL SELECT path_with_namespace, 'project' FROM gitlab_projects \
                 WHERE gone_since IS NULL AND LOWER(path_with_namespace) = LOWER($1)",
            )
            .bind(path.clone())
            .fetch_all(self.pool())
            .await?;
            for (path, kind) in rows {
                found.push((path, kind.parse()?));
            }
        }
        Ok(found)
    }

    async fn team_lead_ids(&self, team_id: i64) -> Result<Vec<i64>, DbError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT user_id FROM user_teams WHERE team_id = $1 AND is_lead \
             UNION SELECT u.id FROM users u JOIN team_leads l ON l.username = u.username WHERE l.team_id = $1",
        )
        .bind(team_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn security_ids(&self) -> Result<Vec<i64>, DbError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM users WHERE ',' || roles || ',' LIKE '%,security,%' OR ',' || roles || ',' LIKE '%,admin,%' \
             ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn inbox(&self, user_id: i64, limit: u64) -> Result<Vec<Notice>, DbError> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT id, at, text, request_id, read_at FROM notifications WHERE user_id = $1 \
             ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::try_from(limit.clamp(1, 500)).unwrap_or(500))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Notice {
                id: row.id,
                at: row.at,
                text: row.text,
                request_id: row.request_id,
                read: row.read_at.is_some(),
            })
            .collect())
    }

    async fn mark_read(&self, user_id: i64, request_id: Option<i64>, at: DateTime<Utc>) -> Result<(), DbError> {
        let mut update = QueryBuilder::<DB>::new("UPDATE notifications SET read_at = ");
        update
            .push_bind(at)
            .push(" WHERE read_at IS NULL AND user_id = ")
            .push_bind(user_id);
        if let Some(request) = request_id {
            update.push(" AND request_id = ").push_bind(request);
        }
        DB::execute(&mut update, self.pool()).await?;
        Ok(())
    }

    async fn hold_fulfilment(
        &self,
        id: i64,
        key: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<FulfilmentState, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let mut hold =
            QueryBuilder::<DB>::new("UPDATE service_account_requests SET fulfilment_key = COALESCE(fulfilment_key, ");
        hold.push_bind(key.to_owned())
            .push("), fulfilment_busy_until = ")
            .push_bind(until)
            .push(" WHERE id = ")
            .push_bind(id)
            .push(" AND state = 'approved' AND (fulfilment_busy_until IS NULL OR fulfilment_busy_until < ")
            .push_bind(now)
            .push(")");
        let held = DB::execute(&mut hold, &mut *tx).await?;
        let request = Self::request_row(&mut tx, id).await?;
        tx.commit().await?;
        let request = request.ok_or_else(|| DbError::NotFound(format!("request {id}")))?;
        if held == 0 {
            return Err(DbError::Conflict(if request.state != "approved" {
                "this request is not waiting to be created any more: look at it again".to_owned()
            } else {
                "someone is creating this account in GitLab right now: wait a moment and look again".to_owned()
            }));
        }
        Ok(request.into_request(Vec::new())?.fulfilment)
    }

    async fn record_fulfilment_account(&self, id: i64, account_gitlab_id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE service_account_requests SET account_gitlab_id = $1 WHERE id = $2")
            .bind(account_gitlab_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn release_fulfilment(&self, id: i64, error: &str) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE service_account_requests SET fulfilment_busy_until = NULL, fulfilment_error = $1 WHERE id = $2",
        )
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn hold_first_token(&self, id: i64, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<i64, DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let mut hold = QueryBuilder::<DB>::new("UPDATE service_account_requests SET token_busy_until = ");
        hold.push_bind(until)
            .push(" WHERE id = ")
            .push_bind(id)
            .push(
                " AND state = 'fulfilled' AND fulfilment_key IS NOT NULL AND account_gitlab_id IS NOT NULL \
                 AND token_created_at IS NULL AND (token_busy_until IS NULL OR token_busy_until < ",
            )
            .push_bind(now)
            .push(")");
        let held = DB::execute(&mut hold, &mut *tx).await?;
        let request = Self::request_row(&mut tx, id).await?;
        tx.commit().await?;
        let request = request
            .ok_or_else(|| DbError::NotFound(format!("request {id}")))?
            .into_request(Vec::new())?;
        match (held, request.account_gitlab_id) {
            (1.., Some(account)) => Ok(account),
            _ if request.fulfilment.token_created_at.is_some() => Err(DbError::Conflict(
                "the first token was made already and its secret shown once: if it is lost, rotate the token in GitLab"
                    .to_owned(),
            )),
            _ if request.state != RequestState::Fulfilled || request.fulfilment.key.is_none() => {
                Err(DbError::Conflict(
                    "this account was not made through the API here: security hands over its first token".to_owned(),
                ))
            }
            _ => Err(DbError::Conflict(
                "the first token is being made right now: wait a moment and look again".to_owned(),
            )),
        }
    }

    async fn record_first_token(
        &self,
        step: &RequestStep,
        token_gitlab_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin_with(DB::BEGIN).await?;
        let mut record = QueryBuilder::<DB>::new("UPDATE service_account_requests SET token_gitlab_id = ");
        record
            .push_bind(token_gitlab_id)
            .push(", token_created_at = ")
            .push_bind(at)
            .push(", token_busy_until = NULL, version = version + 1, updated_at = ")
            .push_bind(at)
            .push(" WHERE id = ")
            .push_bind(step.request_id);
        let changed = DB::execute(&mut record, &mut *tx).await?;
        if changed == 0 {
            return Err(DbError::NotFound(format!("request {}", step.request_id)));
        }
        let detail =
            serde_json::json!({"request": step.request_id, "action": step.action.as_str(), "token": token_gitlab_id});
        Self::log_step(&mut tx, step, at, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn release_first_token(&self, id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE service_account_requests SET token_busy_until = NULL WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
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
    async fn request_event(
        tx: &mut sqlx::Transaction<'_, DB>,
        request_id: i64,
        at: DateTime<Utc>,
        by: &Person,
        action: RequestAction,
        state: RequestState,
        note: Option<&str>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO request_events (request_id, at, actor_id, action, state, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(request_id)
        .bind(at)
        .bind(by.id)
        .bind(action.as_str())
        .bind(state.as_str())
        .bind(note)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A step on the request's timeline, its notices, and its audit row (`detail`).
    async fn log_step(
        tx: &mut sqlx::Transaction<'_, DB>,
        step: &RequestStep,
        at: DateTime<Utc>,
        detail: &serde_json::Value,
    ) -> Result<(), DbError> {
        Self::request_event(
            tx,
            step.request_id,
            at,
            &step.by,
            step.action,
            step.next_state,
            step.note.as_deref(),
        )
        .await?;
        Self::notices(tx, step.request_id, at, &step.notify).await?;
        let subject = format!("request:{}", step.request_id);
        Self::audit(tx, at, &step.by.username, "request.step", &subject, detail).await
    }

    async fn request_row(tx: &mut sqlx::Transaction<'_, DB>, id: i64) -> Result<Option<RequestRow>, DbError> {
        Ok(sqlx::query_as(&format!("{REQUEST_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?)
    }

    /// The update a step makes: its state, the body amended, who endorsed or decided, the account
    /// a fulfilment made; only on the version the step was taken on.
    fn step_update(step: &RequestStep, at: DateTime<Utc>) -> Result<QueryBuilder<'static, DB>, DbError> {
        let mut update = QueryBuilder::<DB>::new("UPDATE service_account_requests SET state = ");
        update
            .push_bind(step.next_state.as_str())
            .push(", version = version + 1, updated_at = ")
            .push_bind(at);
        if let Some(body) = &step.body {
            update
                .push(", body = ")
                .push_bind(body_json(body)?)
                .push(", account_name = ")
                .push_bind(body.account_name.clone())
                .push(", owner_team_id = ")
                .push_bind(body.owner_team.as_ref().map(|team| team.id));
        }
        match step.action {
            RequestAction::Endorse => {
                update.push(", endorsed_by = ").push_bind(step.by.id);
            }
            RequestAction::Amend => {
                update.push(", endorsed_by = NULL");
            }
            RequestAction::Approve | RequestAction::Reject => {
                update
                    .push(", decided_by = ")
                    .push_bind(step.by.id)
                    .push(", decision_reason = ")
                    .push_bind(step.note.clone());
            }
            _ => {}
        }
        if let Some(account) = step.account_gitlab_id {
            update
                .push(", account_gitlab_id = ")
                .push_bind(account)
                .push(", fulfilment_busy_until = NULL, fulfilment_error = NULL");
        }
        update
            .push(" WHERE id = ")
            .push_bind(step.request_id)
            .push(" AND version = ")
            .push_bind(step.expected_version);
        Ok(update)
    }

    /// The account a fulfilment made is owned by the request's team (unless someone set an
    /// owner already): sync then shows it owned from its first sight of it.
    async fn own_account(
        tx: &mut sqlx::Transaction<'_, DB>,
        request_id: i64,
        account: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO account_ownership (account_gitlab_id, owner_team_id, updated_by, updated_at) \
             SELECT $1, owner_team_id, $2, $3 FROM service_account_requests \
             WHERE id = $4 AND owner_team_id IS NOT NULL ON CONFLICT (account_gitlab_id) DO NOTHING",
        )
        .bind(account)
        .bind(by)
        .bind(at)
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn notices(
        tx: &mut sqlx::Transaction<'_, DB>,
        request_id: i64,
        at: DateTime<Utc>,
        notify: &[(i64, String)],
    ) -> Result<(), DbError> {
        for (user, text) in notify {
            sqlx::query("INSERT INTO notifications (user_id, request_id, at, text) VALUES ($1, $2, $3, $4)")
                .bind(*user)
                .bind(request_id)
                .bind(at)
                .bind(text.clone())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
