//! Recertification's forms and the evidence: opening and closing a campaign (security), a lead's
//! answers (the chosen items, or every unanswered one of the team), and the evidence as CSV and
//! JSON (security; also `/api/v1/recertification/{id}/evidence` with an API key). Adapters over
//! `app::commands::recertification`: done, the browser goes to the page with what happened; a
//! refused field comes back to the form with a message.

use app::{
    auth::MaybeViewer,
    commands::{
        Refusal,
        recertification::{self, AnswerTargets},
    },
    domain::{ownership::looks_like_a_secret, recertification::CampaignForm},
    error::AppError,
    server::recertification::{Evidence, evidence},
    state::AppState,
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::auth::pages::{failed, refused, sentence, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recertification/open", post(open))
        .route("/recertification/{id}/close", post(close))
        .route("/recertification/{id}/team/{team}/answers", post(answer))
        .route("/recertification/{id}/evidence.csv", get(evidence_csv))
        .route("/recertification/{id}/evidence.json", get(evidence_json))
        .route("/api/v1/recertification/{id}/evidence", get(evidence_json))
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn get_field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, value)| value.as_str())
}

/// `page` with `extra` as its query, and `#fragment`.
fn back(page: &str, extra: &[(String, String)], fragment: &str) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    Redirect::to(&format!("{page}?{}{fragment}", query.finish())).into_response()
}

fn done(page: &str, message: &str) -> Response {
    back(page, &[("done".to_owned(), message.to_owned())], "")
}

/// The opening form's scope (`all`, `team:<id>`, `kind:<kind>`) as the domain's form reads it.
fn campaign_form(sent: &[(String, String)]) -> CampaignForm {
    let scope = get_field(sent, "scope");
    let (scope, team, kind) = match scope.split_once(':') {
        Some(("team", team)) => ("team", team, ""),
        Some(("kind", kind)) => ("kind", "", kind),
        _ => (scope, "", ""),
    };
    CampaignForm {
        scope: scope.to_owned(),
        team: team.to_owned(),
        kind: kind.to_owned(),
        due_on: get_field(sent, "due_on").to_owned(),
    }
}

async fn open(State(app): State<AppState>, viewer: MaybeViewer, body: Bytes) -> Response {
    let page = "/recertification";
    let Some(viewer) = viewer.0 else {
        return sign_in_required(page);
    };
    let sent = pairs(&body);
    let errors = match recertification::open_campaign(&app.repo, &viewer, &campaign_form(&sent)).await {
        Ok(opened) => {
            let left_out = match opened.left_out {
                0 => String::new(),
                n => format!(" ({n} in scope without an owner team were left out: the review lists them)"),
            };
            let items = match opened.items {
                1 => "1 token or service account".to_owned(),
                n => format!("{n} tokens and service accounts"),
            };
            let message = format!("Opened with {items}{left_out}; each team's leads answer for theirs.");
            return done(&format!("/recertification/{}", opened.id), &message);
        }
        Err(Refusal::Fields(errors)) => errors.into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>(),
        Err(Refusal::Request(AppError::Invalid { field, message })) => vec![(field, message)],
        Err(Refusal::Request(error)) => return refused(error, page),
    };
    let mut extra: Vec<(String, String)> = ["scope", "due_on"]
        .into_iter()
        .map(|name| (name.to_owned(), get_field(&sent, name).to_owned()))
        .collect();
    // The form names its scope with one field.
    extra.extend(errors.into_iter().map(|(field, message)| {
        let field = if field == "team" || field == "kind" {
            "scope".to_owned()
        } else {
            field
        };
        (format!("error_{field}"), message)
    }));
    back(page, &extra, "#open-campaign")
}

async fn close(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>) -> Response {
    let page = format!("/recertification/{id}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    match recertification::close_campaign(&app.repo, &viewer, id).await {
        Ok(()) => done(&page, "Closed: the answers are final, and the evidence is complete."),
        Err(error) => refused(error, &page),
    }
}

async fn answer(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path((id, team)): Path<(i64, i64)>,
    body: Bytes,
) -> Response {
    let page = format!("/recertification/{id}/team/{team}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    let sent = pairs(&body);
    let (action, reason) = (get_field(&sent, "action"), get_field(&sent, "reason"));
    let (targets, action) = if action == "confirm_unanswered" {
        (AnswerTargets::Unanswered { team }, "confirm")
    } else {
        let picked: Result<Vec<i64>, _> = sent
            .iter()
            .filter(|(name, _)| name == "item")
            .map(|(_, id)| id.parse::<i64>())
            .collect();
        match picked {
            Ok(ids) => (AnswerTargets::Picked(ids), action),
            Err(_) => return failed(StatusCode::BAD_REQUEST, &sentence("an item is named by its number")),
        }
    };
    let errors = match recertification::answer_items(&app.repo, &viewer, &app.review, id, targets, action, reason).await
    {
        Ok(count) => {
            let what = if action == "flag" { "Flagged" } else { "Confirmed" };
            let items = if count == 1 { "item" } else { "items" };
            return done(&page, &format!("{what} {count} {items}."));
        }
        Err(Refusal::Fields(errors)) => errors.into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>(),
        Err(Refusal::Request(AppError::Invalid { field, message })) => vec![(field, message)],
        Err(Refusal::Request(error)) => return refused(error, &page),
    };
    let mut extra = Vec::new();
    if !looks_like_a_secret(reason) {
        extra.push(("reason".to_owned(), reason.to_owned()));
    }
    extra.extend(
        errors
            .into_iter()
            .map(|(field, message)| (format!("error_{field}"), message)),
    );
    back(&page, &extra, "#answers")
}

async fn evidence_of(app: &AppState, viewer: MaybeViewer, id: i64) -> Result<Evidence, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    evidence(&app.repo, &viewer, id).await
}

fn attachment(name: String) -> (header::HeaderName, String) {
    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
}

async fn evidence_json(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let evidence = evidence_of(&app, viewer, id).await?;
    Ok(([attachment(format!("recertification-{id}.json"))], Json(evidence)).into_response())
}

/// The CSV's columns, one row per item.
const CSV_COLUMNS: [&str; 13] = [
    "campaign",
    "item",
    "subject_kind",
    "subject_id",
    "name",
    "path",
    "team",
    "purpose_at_opening",
    "answer",
    "reason",
    "answered_by",
    "answered_at",
    "campaign_closed_at",
];

async fn evidence_csv(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let evidence = evidence_of(&app, viewer, id).await?;
    let failed = |error: csv::Error| {
        tracing::error!(error.message = %error, "CSV export failed");
        AppError::Internal
    };
    let closed_at = evidence
        .campaign
        .closed_at
        .map(|at| at.to_rfc3339())
        .unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS).map_err(failed)?;
    for item in evidence.items {
        writer
            .write_record(
                [
                    item.campaign.to_string(),
                    item.item.to_string(),
                    item.subject_kind,
                    item.subject_id.map(|id| id.to_string()).unwrap_or_default(),
                    item.name,
                    item.path,
                    item.team,
                    item.purpose.unwrap_or_default(),
                    item.answer,
                    item.reason.unwrap_or_default(),
                    item.answered_by.unwrap_or_default(),
                    item.answered_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
                    closed_at.clone(),
                ]
                .map(crate::spreadsheet::spreadsheet_safe),
            )
            .map_err(failed)?;
    }
    let body = writer.into_inner().map_err(|e| failed(e.into_error().into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            attachment(format!("recertification-{id}.csv")),
        ],
        body,
    )
        .into_response())
}

/// The evidence's path in the OpenAPI document.
pub fn openapi_paths(with: impl Fn(serde_json::Value) -> serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    json!({
        "/api/v1/recertification/{id}/evidence": {"get": {
            "summary": "A recertification campaign's evidence: every item with its answer, who gave it and when (security)",
            "parameters": [{"name": "id", "in": "path", "required": true, "description": "The campaign's id", "schema": {"type": "integer"}}],
            "responses": with(json!({"200": {
                "description": "The campaign, and its items: subject_kind, subject_id, name, path, team, purpose (at opening), answer (confirmed, flagged or unanswered), reason, answered_by, answered_at (RFC 3339)",
                "content": {"application/json": {"schema": {"type": "object"}}}
            }}))
        }}
    })
}
