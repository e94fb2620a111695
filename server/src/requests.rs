//! The request forms' routes: filing a request (new, a draft, an amendment) and taking a step on
//! one. Adapters over `app::commands::requests`: done, the browser goes to the request with what
//! happened; refused fields come back to the form with what was written and a message each.

use app::{
    auth::MaybeViewer,
    commands::{Refusal, fulfil, requests},
    domain::{ownership::looks_like_a_secret, requests::RequestAction},
    server::requests::form_from,
    state::AppState,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::auth::pages::{failed, refused, respond, sentence, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests/file", post(file_new))
        .route("/requests/{id}/file", post(file_existing))
        .route("/requests/{id}/steps", post(step))
        .route("/requests/name-check", axum::routing::get(name_check))
        .route("/requests/{id}/fulfil", post(fulfil))
        .route("/requests/{id}/token", post(first_token))
        .route("/inbox/read", post(read_all))
}

async fn read_all(State(app): State<AppState>, viewer: MaybeViewer) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required("/inbox");
    };
    if viewer.read_only {
        return refused(
            app::error::AppError::ForbiddenBecause("a read-only API key changes nothing".to_owned()),
            "/inbox",
        );
    }
    match app.repo.mark_read(viewer.id, None, chrono::Utc::now()).await {
        Ok(()) => Redirect::to("/inbox").into_response(),
        Err(error) => refused(error.into(), "/inbox"),
    }
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn file_new(State(app): State<AppState>, viewer: MaybeViewer, body: Bytes) -> Response {
    file(app, viewer, None, body).await
}

async fn file_existing(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>, body: Bytes) -> Response {
    file(app, viewer, Some(id), body).await
}

async fn file(app: AppState, viewer: MaybeViewer, id: Option<i64>, body: Bytes) -> Response {
    let form_page = id.map_or("/requests/new".to_owned(), |id| format!("/requests/{id}/edit"));
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&form_page);
    };
    let sent = pairs(&body);
    let send = sent.iter().any(|(name, value)| name == "send" && !value.is_empty());
    let form = form_from(&sent);
    match requests::file_request(&app.repo, &viewer, &app.wizard, id, &form, send).await {
        Ok(id) => {
            let done = if send {
                "Sent to the team's lead."
            } else {
                "Draft saved."
            };
            Redirect::to(&format!("/requests/{id}?{}", app::query_string([("done", done)]))).into_response()
        }
        Err(Refusal::Request(error)) => refused(error, &form_page),
        Err(Refusal::Fields(errors)) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("edit", "1");
            // What was written goes back (never what looks like a secret: not into a URL, nor the
            // browser's history).
            for (name, value) in sent.iter().filter(|(name, _)| name != "send" && name != "edit") {
                if !looks_like_a_secret(value) {
                    query.append_pair(name, value);
                }
            }
            for error in &errors {
                query.append_pair(&format!("error_{}", error.field), &error.message);
            }
            Redirect::to(&format!("{form_page}?{}", query.finish())).into_response()
        }
    }
}

async fn step(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>, body: Bytes) -> Response {
    let page = format!("/requests/{id}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    let sent = pairs(&body);
    let get = |name: &str| sent.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let (Some(action), Some(version)) = (
        get("action").and_then(|a| a.parse::<RequestAction>().ok()),
        get("version").and_then(|v| v.parse::<i64>().ok()),
    ) else {
        return failed(
            StatusCode::BAD_REQUEST,
            &sentence("the step or the request's version is missing or not one this form sends"),
        );
    };
    match requests::take_step(
        &app.repo,
        &viewer,
        id,
        version,
        action,
        get("reason").unwrap_or_default(),
    )
    .await
    {
        Ok(state) => {
            let done = format!("Done: the request is now “{}”.", state.label().to_lowercase());
            Redirect::to(&format!("{page}?{}", app::query_string([("done", done.as_str())]))).into_response()
        }
        Err(Refusal::Request(error)) => refused(error, &page),
        Err(Refusal::Fields(errors)) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for error in &errors {
                query.append_pair(&format!("error_{}", error.field), &error.message);
            }
            Redirect::to(&format!("{page}?{}#steps-title", query.finish())).into_response()
        }
    }
}

/// Security makes the approved account in GitLab (a write credential configured).
async fn fulfil(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>, body: Bytes) -> Response {
    let page = format!("/requests/{id}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    let Some(version) = pairs(&body)
        .into_iter()
        .find(|(name, _)| name == "version")
        .and_then(|(_, value)| value.parse::<i64>().ok())
    else {
        return failed(StatusCode::BAD_REQUEST, &sentence("the request's version is missing"));
    };
    let Some(gitlab) = app.gitlab_writes.clone() else {
        return refused(no_write_credential(), &page);
    };
    match fulfil::fulfil_in_gitlab(&app.repo, gitlab.as_ref(), &viewer, id, version).await {
        Ok(_) => {
            // The next sync shows the account (owned by the request's team) in the inventory.
            if let Some(sync) = &app.sync {
                sync.run_now();
            }
            let done = "Made in GitLab: the requester can now make its first token.";
            Redirect::to(&format!("{page}?{}", app::query_string([("done", done)]))).into_response()
        }
        Err(Refusal::Request(error)) => refused(error, &page),
        Err(Refusal::Fields(_)) => refused(app::error::AppError::Internal, &page),
    }
}

pub(crate) fn no_write_credential() -> app::error::AppError {
    app::error::AppError::Conflict(
        "this server has no write credential for GitLab (FULFIL_GITLAB_TOKEN): make the account by hand as the page says"
            .to_owned(),
    )
}

/// The requester makes the first token: its secret is in this answer only.
async fn first_token(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>) -> Response {
    let page = format!("/requests/{id}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    let Some(gitlab) = app.gitlab_writes.clone() else {
        return refused(no_write_credential(), &page);
    };
    match fulfil::make_first_token(
        &app.repo,
        gitlab.as_ref(),
        &viewer,
        id,
        app.wizard.default_lifetime_days,
    )
    .await
    {
        Ok(token) => respond(app::answers::first_token_made(token)),
        Err(Refusal::Request(error)) => refused(error, &page),
        Err(Refusal::Fields(_)) => refused(app::error::AppError::Internal, &page),
    }
}

#[derive(serde::Deserialize)]
struct NameCheck {
    #[serde(default)]
    name: String,
    #[serde(default)]
    owner_team: String,
    #[serde(default)]
    id: Option<i64>,
}

/// The account name as it is typed on the request form (its script asks): 200 with "free" in a
/// sentence, or 422 with what is wrong; plain text, said under the field.
async fn name_check(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    axum::extract::Query(asked): axum::extract::Query<NameCheck>,
) -> Response {
    let Some(viewer) = viewer.0 else {
        return (StatusCode::UNAUTHORIZED, "sign in to continue").into_response();
    };
    let text = [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    match requests::account_name_problem(
        &app.repo,
        &viewer,
        &app.wizard,
        &asked.name,
        &asked.owner_team,
        asked.id,
    )
    .await
    {
        Ok(None) => (StatusCode::OK, text, "Free, and on the naming convention.".to_owned()).into_response(),
        Ok(Some(problem)) => (StatusCode::UNPROCESSABLE_ENTITY, text, problem).into_response(),
        Err(error) => (error.status_code(), text, error.to_string()).into_response(),
    }
}
