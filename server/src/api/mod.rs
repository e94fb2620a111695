//! The product's own JSON API (`/api/v1`), for scripts with an API key and for the inventory's
//! export links:
//!
//! - `GET /api/v1/tokens`: the inventory with the page's filter parameters, paginated like
//!   GitLab's API (`page`, `per_page` up to 100; `X-Total`, `X-Total-Pages`, `X-Page`,
//!   `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`, `Link`). Anyone signed in.
//! - `GET /api/v1/tokens/export.csv` and `…/export.json`: the whole filtered view as a file.
//!   Security, or the lead of the team the view is filtered to.
//! - `GET /api/v1/findings` and `POST /api/v1/findings/decisions`: the security review
//!   (`findings.rs`).
//! - `GET|POST /api/v1/requests`, `GET|POST /api/v1/requests/{id}`,
//!   `POST /api/v1/requests/{id}/steps`: service-account requests (`requests.rs`).
//! - `GET /api/v1/recertification/{id}/evidence`: a recertification campaign's evidence
//!   (`crate::recertification`).
//! - `GET /api/v1/openapi.json`: the OpenAPI document of all this.
//!
//! Every route takes the caller from the one extractor; refusals answer `{"error": …}`.

use app::{
    auth::MaybeViewer,
    domain::{TokenStatus, TokenSummary, Viewer},
    error::AppError,
    server::inventory::{TokenQuery, may_export},
    state::AppState,
};
use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::NaiveDate;
use serde::Serialize;

/// Rows fetched per query while exporting.
const EXPORT_BATCH: u32 = 1_000;

mod findings;
mod requests;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(findings::routes())
        .merge(requests::routes())
        .route("/api/v1/tokens", get(list))
        .route("/api/v1/tokens/export.csv", get(export_csv))
        .route("/api/v1/tokens/export.json", get(export_json))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/recommendations", axum::routing::post(recommend))
}

/// A token as the API shows it.
#[derive(Debug, Serialize)]
struct ApiToken {
    id: i64,
    kind: &'static str,
    gitlab_id: i64,
    name: String,
    container_kind: &'static str,
    path: String,
    account: Option<String>,
    owner_team: Option<String>,
    owner_inferred: bool,
    purpose: Option<String>,
    scopes: Vec<String>,
    role: Option<&'static str>,
    expires_on: Option<NaiveDate>,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    status: &'static str,
}

impl ApiToken {
    fn new(token: TokenSummary, today: NaiveDate) -> Self {
        let status: TokenStatus = token.status(today);
        ApiToken {
            id: token.id,
            kind: token.kind.as_str(),
            gitlab_id: token.gitlab_id,
            name: token.name,
            container_kind: token.container_kind.as_str(),
            path: token.container_path,
            account: token.account_username,
            owner_team: token.owner_team.map(|t| t.name),
            owner_inferred: token.owner_inferred,
            purpose: token.purpose,
            scopes: token.scopes,
            role: token.access_level.map(|l| l.label()),
            expires_on: token.expires_on,
            last_used_at: token.last_used_at,
            status: status.label(),
        }
    }
}

fn parse_query(raw: Option<&str>) -> Result<TokenQuery, AppError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    TokenQuery::from_params(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
        .map_err(AppError::from)
}

/// A command's refusal as the API says it: the request's own error, or the first refused field
/// (422); `what` names the body when no field is given.
fn refusal_error(refusal: app::commands::Refusal, what: &str) -> AppError {
    match refusal {
        app::commands::Refusal::Request(error) => error,
        app::commands::Refusal::Fields(errors) => errors.into_iter().next().map_or_else(
            || AppError::invalid(what, format!("not a {what}")),
            |error| AppError::invalid(error.field, error.message),
        ),
    }
}

fn signed_in(viewer: MaybeViewer) -> Result<Viewer, AppError> {
    viewer.0.ok_or(AppError::Unauthorized)
}

async fn list(State(app): State<AppState>, viewer: MaybeViewer, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    signed_in(viewer)?;
    let mut query = parse_query(raw.as_deref())?;
    query.per_page = Some(query.per_page.unwrap_or(20));
    let today = chrono::Utc::now().date_naive();
    let (tokens, total) = app.repo.list_tokens(&query, today).await?;
    let headers = paging_headers(total, query.page, query.limit(), |page| {
        let target = TokenQuery { page, ..query.clone() };
        format!("/api/v1/tokens?{}", target.to_query_string())
    });
    let body: Vec<ApiToken> = tokens.into_iter().map(|t| ApiToken::new(t, today)).collect();
    Ok((headers, Json(body)).into_response())
}

/// GitLab's paging headers: `X-Total`, `X-Total-Pages`, `X-Page`, `X-Per-Page`, `X-Next-Page`,
/// `X-Prev-Page` and `Link` (first, last, next, prev), `url` giving a page's address.
pub(crate) fn paging_headers(total: u64, page: u32, per_page: u32, url: impl Fn(u32) -> String) -> HeaderMap {
    let pages = u32::try_from(total.div_ceil(u64::from(per_page.max(1))))
        .unwrap_or(u32::MAX)
        .max(1);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let prev = if page > 1 {
        (page - 1).to_string()
    } else {
        String::new()
    };
    set("x-total", total.to_string());
    set("x-total-pages", pages.to_string());
    set("x-page", page.to_string());
    set("x-per-page", per_page.to_string());
    set("x-next-page", next);
    set("x-prev-page", prev);
    let link = |page: u32, rel: &str| format!("<{}>; rel=\"{rel}\"", url(page));
    let mut links = vec![link(1, "first"), link(pages, "last")];
    if page < pages {
        links.push(link(page + 1, "next"));
    }
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    set("link", links.join(", "));
    headers
}

async fn every_token(app: &AppState, query: &TokenQuery) -> Result<Vec<ApiToken>, AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let batch = TokenQuery {
            page,
            per_page: Some(EXPORT_BATCH),
            ..query.clone()
        };
        let (tokens, total) = app.repo.list_tokens(&batch, today).await?;
        let done = tokens.len() < EXPORT_BATCH as usize || all.len() + tokens.len() >= total as usize;
        all.extend(tokens.into_iter().map(|t| ApiToken::new(t, today)));
        if done {
            return Ok(all);
        }
        page += 1;
    }
}

async fn export_tokens(app: &AppState, viewer: MaybeViewer, raw: Option<&str>) -> Result<Vec<ApiToken>, AppError> {
    let viewer = signed_in(viewer)?;
    let query = parse_query(raw)?;
    if !may_export(&viewer, &query) {
        return Err(AppError::Forbidden);
    }
    let tokens = every_token(app, &query).await?;
    tracing::info!(user.username = %viewer.username, export.rows = tokens.len(), "inventory exported");
    Ok(tokens)
}

fn attachment(name: &str) -> (header::HeaderName, String) {
    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
}

async fn export_json(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let tokens = export_tokens(&app, viewer, raw.as_deref()).await?;
    Ok(([attachment("tokens.json")], Json(tokens)).into_response())
}

async fn export_csv(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let tokens = export_tokens(&app, viewer, raw.as_deref()).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| {
        tracing::error!(error.message = %error, "CSV export failed");
        AppError::Internal
    };
    writer
        .write_record([
            "id",
            "kind",
            "gitlab_id",
            "name",
            "path",
            "account",
            "owner_team",
            "owner_inferred",
            "purpose",
            "scopes",
            "role",
            "expires_on",
            "last_used_at",
            "status",
        ])
        .map_err(failed)?;
    for t in tokens {
        writer
            .write_record(
                [
                    t.id.to_string(),
                    t.kind.to_owned(),
                    t.gitlab_id.to_string(),
                    t.name,
                    t.path,
                    t.account.unwrap_or_default(),
                    t.owner_team.unwrap_or_default(),
                    t.owner_inferred.to_string(),
                    t.purpose.unwrap_or_default(),
                    t.scopes.join(" "),
                    t.role.unwrap_or_default().to_owned(),
                    t.expires_on.map(|d| d.to_string()).unwrap_or_default(),
                    t.last_used_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    t.status.to_owned(),
                ]
                .map(crate::spreadsheet::spreadsheet_safe),
            )
            .map_err(failed)?;
    }
    let body = writer.into_inner().map_err(|e| failed(e.into_error().into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            attachment("tokens.csv"),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/v1/recommendations`: the wizard's answers as JSON, the recommendation back; a
/// missing or unusable answer is a 422 naming its field. Anyone signed in (scripts and bots with
/// an API key, read-only keys included: nothing is written).
async fn recommend(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    signed_in(viewer)?;
    let answers: domain::WizardAnswers = serde_json::from_slice(&body)
        .map_err(|error| AppError::invalid("answers", format!("not the wizard's answers as JSON: {error}")))?;
    let today = chrono::Utc::now().date_naive();
    match domain::recommend_token_kind(&answers, &app.wizard, today) {
        Ok(recommendation) => Ok(Json(recommendation).into_response()),
        Err(domain::WizardError::Policy { message }) => {
            tracing::error!(error.message = %message, "the wizard's settings are wrong");
            Err(AppError::Internal)
        }
        Err(error) => Err(AppError::invalid(
            error.field().map(|f| f.as_str()).unwrap_or("answers"),
            error.to_string(),
        )),
    }
}

/// The filter parameters the inventory, the API and the export share.
pub const FILTER_PARAMETERS: [(&str, &str); 15] = [
    ("q", "Words to find in the name, path, account or purpose"),
    ("kind", "project_access, group_access, deploy or personal"),
    ("expiry", "expired, 7d, 30d, 90d or never"),
    (
        "expires_from",
        "Only tokens expiring on or after this date (YYYY-MM-DD)",
    ),
    ("expires_to", "Only tokens expiring on or before this date (YYYY-MM-DD)"),
    (
        "team",
        "An owner team's id (set by a person, or inferred from the group path)",
    ),
    ("scope", "A GitLab scope the token has, e.g. read_api"),
    ("role", "A GitLab access level: 10, 15, 20, 30, 40 or 50"),
    ("status", "active, expired, revoked or gone"),
    ("no_owner", "1: only tokens no team owns"),
    ("no_purpose", "1: only tokens with no purpose said"),
    (
        "sort",
        "name, kind, path, account, owner, purpose, role, expires or last_used",
    ),
    ("dir", "asc or desc"),
    ("page", "1-based page number"),
    (
        "count",
        "exact: count the matches exactly (the API always does; the inventory's page may otherwise say \"about\" an estimate)",
    ),
];

async fn openapi(viewer: MaybeViewer) -> Result<Json<serde_json::Value>, AppError> {
    signed_in(viewer)?;
    Ok(Json(openapi_document()))
}

/// The OpenAPI 3.1 document of `/api/v1`.
pub fn openapi_document() -> serde_json::Value {
    use serde_json::json;
    let mut parameters: Vec<serde_json::Value> = FILTER_PARAMETERS
        .iter()
        .map(|(name, description)| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}))
        .collect();
    let mut paged = parameters.clone();
    paged.push(json!({"name": "per_page", "in": "query", "required": false, "description": "Rows per page, 1 to 100 (default 20)", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}));
    parameters.retain(|p| p["name"] != "page");
    let token = json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "gitlab_id": {"type": "integer"},
            "name": {"type": "string"}, "container_kind": {"type": "string"}, "path": {"type": "string"},
            "account": {"type": ["string", "null"]}, "owner_team": {"type": ["string", "null"]},
            "owner_inferred": {"type": "boolean"}, "purpose": {"type": ["string", "null"]},
            "scopes": {"type": "array", "items": {"type": "string"}}, "role": {"type": ["string", "null"]},
            "expires_on": {"type": ["string", "null"], "format": "date"},
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            "status": {"type": "string", "enum": ["active", "expired", "revoked", "gone"]}
        }
    });
    let errors = json!({
        "401": {"description": "Not signed in, or an API key that is wrong, expired or revoked"},
        "403": {"description": "Signed in, not allowed"},
        "422": {"description": "A parameter that does not make sense; the message names it"}
    });
    let with = |ok: serde_json::Value| {
        let mut responses = errors.clone();
        if let (Some(map), Some(ok)) = (responses.as_object_mut(), ok.as_object()) {
            map.extend(ok.clone());
        }
        responses
    };
    let review = findings::openapi_paths(with);
    let requests = requests::openapi_paths(with);
    let recertification = crate::recertification::openapi_paths(with);
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {"title": "Token Inventory", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The inventory of GitLab tokens. Authenticate with `Authorization: Bearer ti_…` (an API key from the account menu)."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Token": token}
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/tokens": {"get": {
                "summary": "List tokens, filtered and paginated like GitLab's API",
                "parameters": paged,
                "responses": with(json!({"200": {
                    "description": "A page of tokens; X-Total, X-Total-Pages, X-Page, X-Per-Page, X-Next-Page, X-Prev-Page and Link headers",
                    "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}}
                }}))
            }},
            "/api/v1/tokens/export.csv": {"get": {
                "summary": "Every token of the filtered view as CSV (security, or the lead of the team filtered to)",
                "parameters": parameters.clone(),
                "responses": with(json!({"200": {"description": "CSV with a header row", "content": {"text/csv": {}}}}))
            }},
            "/api/v1/tokens/export.json": {"get": {
                "summary": "Every token of the filtered view as JSON (security, or the lead of the team filtered to)",
                "parameters": parameters,
                "responses": with(json!({"200": {"description": "All matching tokens",
                    "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}}}}))
            }},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": with(json!({"200": {"description": "OpenAPI 3.1"}}))}},
            "/api/v1/recommendations": {"post": {
                "summary": "The token wizard: which kind of token an automation should get, with minimal scopes, role, expiry, name, the guideline rules it rests on, and the next step",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                    "description": "The wizard's answers: `repository`, `package_registry`, `container_registry`, `api` (each unused, reads or writes), `reach` (one_project, one_group, several_groups, instance), `maintainer_actions`, `confidential_issues`, `temporary` (yes or no), `path`, `owner_team`, `purpose`"}}}},
                "responses": with(json!({"200": {"description": "The recommendation", "content": {"application/json": {}}}}))
            }}
        }
    });
    add_paths(&mut document, [review, requests, alerts_path(with), recertification]);
    document
}

/// "Send the digests now" (`crate::alerts::routes`).
fn alerts_path(with: impl Fn(serde_json::Value) -> serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    json!({"/api/v1/alerts/run": {"post": {
        "summary": "Make and send the teams' digests of what is new now (security; 409 when alerts are off)",
        "responses": with(json!({"200": {"description": "How many digests were made: `{\"digests\": n}`",
            "content": {"application/json": {}}}}))
    }}})
}

/// Adds each area's paths (`findings.rs`, `requests.rs`) to the document's.
fn add_paths(document: &mut serde_json::Value, areas: impl IntoIterator<Item = serde_json::Value>) {
    if let Some(paths) = document["paths"].as_object_mut() {
        for area in areas {
            if let serde_json::Value::Object(more) = area {
                paths.extend(more);
            }
        }
    }
}
