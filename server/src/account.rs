//! The account forms that answer with a page of their own: creating an API key (its secret is
//! shown on the answer, once, with or without JavaScript) and revoking one. Thin adapters over
//! `app::commands`.

use app::{answers, auth::MaybeViewer, commands, error::AppError, state::AppState};
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use crate::auth::pages::{failed, respond, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/api-keys", post(create))
        .route("/account/api-keys/{id}/revoke", post(revoke))
}

const PAGE: &str = "/account/api-keys";

#[derive(Deserialize)]
struct NewKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    read_write: Option<String>,
    #[serde(default)]
    expires_in_days: String,
}

fn refusal(error: &AppError) -> Response {
    match error {
        AppError::Unauthorized => sign_in_required(PAGE),
        other => failed(other.status_code(), &other.to_string()),
    }
}

async fn create(State(app): State<AppState>, viewer: MaybeViewer, Form(form): Form<NewKeyForm>) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required(PAGE);
    };
    let read_write = matches!(form.read_write.as_deref(), Some("on" | "true" | "read_write"));
    match commands::create_api_key(&app.repo, &viewer, &form.name, read_write, &form.expires_in_days).await {
        Ok(created) => respond(answers::key_created(created)),
        Err(AppError::Invalid { field, message }) => respond(answers::key_refused(field_label(&field), &message)),
        Err(error) => refusal(&error),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "name" => "Name",
        "expires_in_days" => "Expires in",
        other => other,
    }
}

async fn revoke(State(app): State<AppState>, viewer: MaybeViewer, Path(id): Path<i64>) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required(PAGE);
    };
    match commands::revoke_api_key(&app.repo, &viewer, id).await {
        Ok(()) => Redirect::to(PAGE).into_response(),
        Err(error) => refusal(&error),
    }
}
