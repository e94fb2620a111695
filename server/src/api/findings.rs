//! The review over the JSON API, with the queue's permissions:
//!
//! - `GET /api/v1/findings`: the queue's filter parameters (`team`, `rule`, `kind`, `severity`,
//!   `state`, `page`) and `per_page` (1 to 100, default 20), paginated like the tokens. Security
//!   sees every finding, anyone else their teams'.
//! - `POST /api/v1/findings/decisions`: `{"findings": [ids], "decision", "reason", "until"}`, or
//!   `"matching": "<the queue's query string>"` instead of `findings`; answers
//!   `{"decided": n}`. Security, or a lead for their team's findings (a read-only key never).

use app::{
    auth::MaybeViewer,
    commands::{self, DecisionTargets},
    db::StoredFinding,
    domain::review::{DecisionForm, FindingQuery},
    error::AppError,
    server::review::queue,
    state::AppState,
};
use axum::{
    Json, Router,
    extract::{RawQuery, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{paging_headers, refusal_error, signed_in};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/findings", get(list))
        .route("/api/v1/findings/decisions", post(decide))
}

/// A finding as the API shows it.
#[derive(Debug, Serialize)]
struct ApiFinding {
    id: i64,
    rule: &'static str,
    rule_label: &'static str,
    severity: &'static str,
    /// `token` or `service_account`, and its id (the inventory's token id, or the account's
    /// GitLab id).
    subject: &'static str,
    subject_id: i64,
    kind: String,
    name: String,
    path: String,
    team: Option<String>,
    due_on: NaiveDate,
    detail: String,
    fix: String,
    /// The guideline sentence quoted, or the policy setting.
    basis: String,
    decision: Option<ApiDecision>,
}

#[derive(Debug, Serialize)]
struct ApiDecision {
    decision: &'static str,
    by: String,
    at: chrono::DateTime<chrono::Utc>,
    until: Option<NaiveDate>,
    reason: Option<String>,
    /// It still holds (otherwise the finding is open again).
    holds: bool,
}

impl From<StoredFinding> for ApiFinding {
    fn from(stored: StoredFinding) -> Self {
        let (subject, subject_id) = match stored.finding.subject {
            domain::review::Subject::Token(id) => ("token", id),
            domain::review::Subject::Account(id) => ("service_account", id),
        };
        let rule = stored.finding.rule;
        let holds = stored.decided;
        ApiFinding {
            id: stored.id,
            rule: rule.as_str(),
            rule_label: rule.label(),
            severity: stored.finding.severity.as_str(),
            subject,
            subject_id,
            kind: stored.kind,
            name: stored.subject_name,
            path: stored.subject_path,
            team: stored.team.map(|team| team.name),
            due_on: stored.finding.due_on,
            detail: stored.finding.detail,
            fix: stored.finding.fix,
            basis: rule.basis().quote(),
            decision: stored.decision.map(|decision| ApiDecision {
                decision: decision.kind.as_str(),
                by: decision.by,
                at: decision.at,
                until: decision.until,
                reason: decision.reason,
                holds,
            }),
        }
    }
}

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn finding_query(pairs: &[(String, String)]) -> Result<FindingQuery, AppError> {
    FindingQuery::from_params(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
        .map_err(AppError::from)
}

async fn list(State(app): State<AppState>, viewer: MaybeViewer, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let pairs = pairs(raw.as_deref());
    let query = finding_query(&pairs)?;
    let per_page = match pairs.iter().find(|(k, _)| k == "per_page") {
        None => 20,
        Some((_, value)) => value
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| AppError::invalid("per_page", format!("{value:?} is not 1 to 100")))?,
    };
    let today = chrono::Utc::now().date_naive();
    let page = queue(&app.repo, &viewer, &query, per_page, today).await?;
    let headers = paging_headers(page.total, query.page.max(1), per_page, |to| {
        let target = FindingQuery {
            page: to,
            ..query.clone()
        };
        format!("/api/v1/findings?{}&per_page={per_page}", target.to_query_string())
    });
    let body: Vec<ApiFinding> = page.findings.into_iter().map(ApiFinding::from).collect();
    Ok((headers, Json(body)).into_response())
}

/// A decision as scripts send it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionRequest {
    #[serde(default)]
    findings: Option<Vec<i64>>,
    /// The queue's query string: every finding it lists.
    #[serde(default)]
    matching: Option<String>,
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: String,
}

#[derive(Debug, Serialize)]
struct Decided {
    decided: usize,
}

async fn decide(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let request: DecisionRequest = serde_json::from_slice(&body)
        .map_err(|error| AppError::invalid("decision", format!("not a decision as JSON: {error}")))?;
    let targets = match (request.findings, request.matching) {
        (Some(ids), None) => DecisionTargets::Picked(ids),
        (None, Some(matching)) => DecisionTargets::Matching(finding_query(&pairs(Some(&matching)))?),
        _ => {
            return Err(AppError::invalid(
                "findings",
                "give either the findings' ids or the query they match",
            ));
        }
    };
    let form = DecisionForm {
        decision: request.decision,
        reason: request.reason,
        until: request.until,
    };
    let decided = commands::decide(&app.repo, &viewer, &app.review, targets, &form)
        .await
        .map_err(|refusal| refusal_error(refusal, "decision"))?;
    Ok(Json(Decided { decided }).into_response())
}

/// The review's paths in the OpenAPI document.
pub fn openapi_paths(with: impl Fn(serde_json::Value) -> serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let parameters: Vec<serde_json::Value> = [
        ("team", "An owner team's id"),
        ("rule", "A finding rule, e.g. no-expiry, admin-scope, expiring"),
        ("kind", "A token kind, or service_account"),
        ("severity", "critical, high, medium or low"),
        ("state", "open (the default), decided or all"),
        ("page", "1-based page number"),
        ("per_page", "Rows per page, 1 to 100 (default 20)"),
    ]
    .iter()
    .map(|(name, description)| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}))
    .collect();
    json!({
        "/api/v1/findings": {"get": {
            "summary": "The security review's queue: standing findings by severity and due date (security: all; others: their teams')",
            "parameters": parameters,
            "responses": with(json!({"200": {
                "description": "A page of findings, each with its latest decision; paging headers as for tokens",
                "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}
            }}))
        }},
        "/api/v1/findings/decisions": {"post": {
            "summary": "Record a decision on findings (security; a lead for their team's, accepting a risk only where allowed)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                "properties": {
                    "findings": {"type": "array", "items": {"type": "integer"}},
                    "matching": {"type": "string", "description": "Instead of findings: the queue's query string"},
                    "decision": {"type": "string", "enum": ["acknowledge", "accept_risk", "ask_rotate", "ask_revoke", "ask_narrow", "ask_owner", "mark_fixed"]},
                    "reason": {"type": "string", "description": "Required to accept a risk"},
                    "until": {"type": "string", "format": "date", "description": "An accepted risk's last day"}
                },
                "required": ["decision"]}}}},
            "responses": with(json!({"200": {"description": "{\"decided\": n}", "content": {"application/json": {}}}}))
        }}
    })
}
