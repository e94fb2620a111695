//! Service-account requests over the JSON API, with the pages' permissions:
//!
//! - `GET /api/v1/requests?state=…`: the caller's own requests (drafts too) and their teams'
//!   (security: every one), newest change first.
//! - `GET /api/v1/requests/{id}`: one request with its timeline and the steps the caller may take.
//! - `POST /api/v1/requests` and `POST /api/v1/requests/{id}`: the form's fields as JSON and
//!   `"send": true` to send it (else a draft); answers `{"id": n}`.
//! - `POST /api/v1/requests/{id}/steps`: `{"action", "version", "reason"}`; answers the new
//!   `{"state"}`. A stale `version` is a 409.
//! - `POST /api/v1/requests/{id}/fulfilment`: `{"version"}`; security makes the approved account
//!   in GitLab (a write credential configured); answers `{"account_gitlab_id"}`.
//! - `POST /api/v1/requests/{id}/first-token`: its requester makes the account's first token;
//!   answers 201 with its secret, this once (never stored).

use app::{
    auth::MaybeViewer,
    commands::{
        fulfil::{fulfil_in_gitlab, make_first_token},
        requests::{facts, file_request, take_step},
    },
    db::{RequestSummary, StoredRequest},
    domain::requests::{RequestAction, RequestForm, RequestState, may_act, may_see},
    error::AppError,
    server::requests::{others_requests, own_requests, parse_state},
    state::AppState,
};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

use super::{refusal_error, signed_in};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/requests", get(list).post(file_new))
        .route("/api/v1/requests/{id}", get(one).post(file_existing))
        .route("/api/v1/requests/{id}/steps", post(step))
        .route("/api/v1/requests/{id}/fulfilment", post(fulfilment))
        .route("/api/v1/requests/{id}/first-token", post(first_token))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FulfilRequest {
    version: i64,
}

async fn fulfilment(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let request: FulfilRequest = serde_json::from_slice(&body)
        .map_err(|error| AppError::invalid("version", format!("send {{\"version\": n}}: {error}")))?;
    let gitlab = app
        .gitlab_writes
        .clone()
        .ok_or_else(crate::requests::no_write_credential)?;
    let account = fulfil_in_gitlab(&app.repo, gitlab.as_ref(), &viewer, id, request.version)
        .await
        .map_err(|refusal| refusal_error(refusal, "request"))?;
    if let Some(sync) = &app.sync {
        sync.run_now();
    }
    Ok(Json(serde_json::json!({"account_gitlab_id": account})).into_response())
}

async fn first_token(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let gitlab = app
        .gitlab_writes
        .clone()
        .ok_or_else(crate::requests::no_write_credential)?;
    let token = make_first_token(
        &app.repo,
        gitlab.as_ref(),
        &viewer,
        id,
        app.wizard.default_lifetime_days,
    )
    .await
    .map_err(|refusal| refusal_error(refusal, "request"))?;
    let body = serde_json::json!({
        "name": token.token_name,
        "token": token.secret.0,
        "expires_at": token.expires_on,
        "scopes": token.scopes,
        "secret_location": token.secret_location,
    });
    Ok((
        axum::http::StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

async fn list(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RequestSummary>>, AppError> {
    let viewer = signed_in(viewer)?;
    let states: Vec<RequestState> = parse_state(query.state.as_deref())?.into_iter().collect();
    let mut found = own_requests(&app.repo, &viewer, states.clone()).await?;
    found.extend(others_requests(&app.repo, &viewer, states).await?);
    found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    Ok(Json(found))
}

#[derive(Debug, Serialize)]
struct ApiRequest {
    #[serde(flatten)]
    request: StoredRequest,
    /// The steps the caller may take now.
    steps: Vec<RequestAction>,
}

async fn one(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
) -> Result<Json<ApiRequest>, AppError> {
    let viewer = signed_in(viewer)?;
    let request = app
        .repo
        .request(id)
        .await?
        .filter(|request| may_see(&viewer, &facts(request)))
        .ok_or_else(|| AppError::NotFound(format!("request {id}")))?;
    let steps = RequestAction::ALL
        .into_iter()
        .filter(|action| may_act(&viewer, &facts(&request), *action).is_ok())
        .collect();
    Ok(Json(ApiRequest { request, steps }))
}

/// The form as scripts send it, and whether to send it.
#[derive(Debug, Deserialize)]
struct FileRequest {
    #[serde(flatten)]
    form: RequestForm,
    #[serde(default)]
    send: bool,
}

#[derive(Debug, Serialize)]
struct Filed {
    id: i64,
}

async fn file_new(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    file(app, viewer, None, body).await
}

async fn file_existing(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    file(app, viewer, Some(id), body).await
}

async fn file(
    app: AppState,
    viewer: MaybeViewer,
    id: Option<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let request: FileRequest = serde_json::from_slice(&body)
        .map_err(|error| AppError::invalid("request", format!("not a request as JSON: {error}")))?;
    let id = file_request(&app.repo, &viewer, &app.wizard, id, &request.form, request.send)
        .await
        .map_err(|refusal| refusal_error(refusal, "request"))?;
    Ok(Json(Filed { id }).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    action: RequestAction,
    version: i64,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Serialize)]
struct Stepped {
    state: RequestState,
}

async fn step(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let viewer = signed_in(viewer)?;
    let request: StepRequest = serde_json::from_slice(&body)
        .map_err(|error| AppError::invalid("step", format!("not a step as JSON: {error}")))?;
    let state = take_step(&app.repo, &viewer, id, request.version, request.action, &request.reason)
        .await
        .map_err(|refusal| refusal_error(refusal, "request"))?;
    Ok(Json(Stepped { state }).into_response())
}

/// The requests' paths in the OpenAPI document.
pub fn openapi_paths(with: impl Fn(serde_json::Value) -> serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let form = json!({"type": "object", "description": "The request form's fields: account_name, owner_team (a team's id), purpose, automation, runs_on, memberships (one `path role` per line), scopes (an array), confidential_issues (\"yes\" or empty), why_not_token, lifetime_days, secret_location; and `send`: true to send it to the team's lead (else it is saved as a draft)"});
    json!({
        "/api/v1/requests": {
            "get": {
                "summary": "Service-account requests: the caller's own (drafts too) and their teams' (security: every one)",
                "parameters": [{"name": "state", "in": "query", "required": false, "description": "draft, submitted, endorsed, approved, rejected, fulfilled or withdrawn", "schema": {"type": "string"}}],
                "responses": with(json!({"200": {"description": "Requests, newest change first", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}))
            },
            "post": {
                "summary": "File a request (for a team of the caller's)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": form.clone()}}},
                "responses": with(json!({"200": {"description": "{\"id\": n}", "content": {"application/json": {}}}}))
            }
        },
        "/api/v1/requests/{id}": {
            "get": {
                "summary": "One request with its timeline and the steps the caller may take",
                "responses": with(json!({"200": {"description": "The request", "content": {"application/json": {}}}, "404": {"description": "No such request, or not the caller's to see"}}))
            },
            "post": {
                "summary": "Finish a draft, or amend a sent request before security decides (it goes back to the lead)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": form}}},
                "responses": with(json!({"200": {"description": "{\"id\": n}", "content": {"application/json": {}}}, "409": {"description": "Decided already, or changed by someone else"}}))
            }
        },
        "/api/v1/requests/{id}/steps": {"post": {
            "summary": "Take a step: withdraw (the requester), endorse (a lead of the owner team, or security), approve, reject (with a reason) or fulfil (security)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["withdraw", "endorse", "approve", "reject", "fulfil"]},
                    "version": {"type": "integer", "description": "The request's version as the caller saw it"},
                    "reason": {"type": "string", "description": "Required to reject; shown to the requester"}
                },
                "required": ["action", "version"]}}}},
            "responses": with(json!({"200": {"description": "{\"state\": …}", "content": {"application/json": {}}}, "409": {"description": "Out of order, or someone else acted first"}}))
        }},
        "/api/v1/requests/{id}/fulfilment": {"post": {
            "summary": "Security makes the approved account in GitLab: the service account, its memberships, its owner team (needs FULFIL_GITLAB_TOKEN); exactly once, a retry goes on from where it stopped",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"version": {"type": "integer"}}, "required": ["version"]}}}},
            "responses": with(json!({"200": {"description": "{\"account_gitlab_id\": n}", "content": {"application/json": {}}}, "409": {"description": "Not approved, made already, someone is making it now, or no write credential"}, "502": {"description": "GitLab failed or refused: nothing is lost, try again"}}))
        }},
        "/api/v1/requests/{id}/first-token": {"post": {
            "summary": "Its requester makes the account's first token with the approved scopes and lifetime; the secret is in this answer only",
            "responses": with(json!({"201": {"description": "{\"name\", \"token\" (the secret, once), \"expires_at\", \"scopes\", \"secret_location\"}", "content": {"application/json": {}}}, "409": {"description": "Made already, being made, or the account was made by hand"}, "502": {"description": "GitLab failed or refused: try again"}}))
        }}
    })
}
