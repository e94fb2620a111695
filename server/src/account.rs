//! The account forms that answer with a page of their own: creating an API key (its secret is
//! shown on the answer, once, with or without JavaScript) and revoking one.

use app::{
    auth::MaybeViewer,
    error::AppError,
    server::account::{create_key_for, revoke_key_for},
    state::AppState,
};
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use crate::auth::pages::{escape, failed, sign_in_required, signed_in_page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/api-keys", post(create))
        .route("/account/api-keys/{id}/revoke", post(revoke))
}

#[derive(Deserialize)]
struct NewKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    read_write: Option<String>,
    #[serde(default)]
    expires_in_days: String,
}

fn refusal(error: &AppError, back: &str) -> Response {
    match error {
        AppError::Unauthorized => sign_in_required(back),
        other => failed(other.status_code(), &other.to_string()),
    }
}

async fn create(State(app): State<AppState>, viewer: MaybeViewer, Form(form): Form<NewKeyForm>) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required("/account/api-keys");
    };
    let read_write = matches!(form.read_write.as_deref(), Some("on" | "true" | "read_write"));
    match create_key_for(&app.repo, &viewer, &form.name, read_write, &form.expires_in_days).await {
        Ok(created) => signed_in_page(
            StatusCode::CREATED,
            "API key created",
            &format!(
                r#"<h1 class="text-2xl font-semibold">API key created</h1><p class="mt-2 text-slate-600">Copy it now: it is shown only this once. Keep it in your secret store, never in a repository.</p><p class="mt-4"><code id="api-key-secret" class="block break-all rounded-md bg-slate-100 p-3 font-mono text-sm">{secret}</code></p><dl class="mt-4 text-sm text-slate-600"><dt class="font-medium">Name</dt><dd>{name}</dd><dt class="mt-2 font-medium">Access</dt><dd>{access}</dd><dt class="mt-2 font-medium">Expires</dt><dd>{expires}</dd></dl><p class="mt-2 text-sm text-slate-600">Use it as <code>Authorization: Bearer …</code>.</p><a class="mt-6 inline-flex items-center rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800" href="/account/api-keys">Back to your API keys</a>"#,
                secret = escape(&created.secret),
                name = escape(&created.key.name),
                access = if created.key.read_write {
                    "read and write"
                } else {
                    "read only"
                },
                expires = created.key.expires_on,
            ),
        ),
        Err(AppError::Invalid { field, message }) => signed_in_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "API key not created",
            &format!(
                r#"<h1 class="text-2xl font-semibold">The key was not created</h1><p id="auth-error" class="mt-2 text-slate-600"><span class="font-medium">{}</span>: {}</p><a class="mt-6 inline-flex items-center rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800" href="/account/api-keys">Back to your API keys</a>"#,
                escape(field_label(&field)),
                escape(&message)
            ),
        ),
        Err(error) => refusal(&error, "/account/api-keys"),
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
        return sign_in_required("/account/api-keys");
    };
    match revoke_key_for(&app.repo, &viewer, id).await {
        Ok(()) => Redirect::to("/account/api-keys").into_response(),
        Err(error) => refusal(&error, "/account/api-keys"),
    }
}
