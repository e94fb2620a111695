//! "Send today's digest now": a plain form's POST (works without JavaScript), and the JSON API's
//! equivalent. Adapters over `app::commands::send_digest_now` (security only).

use app::{auth::MaybeViewer, commands, error::AppError, state::AppState};
use axum::{
    Json, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::auth::pages::{refused, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts/run", post(run_form))
        .route("/api/v1/alerts/run", post(run_api))
}

async fn run_form(State(app): State<AppState>, viewer: MaybeViewer) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required("/review/alerts");
    };
    match commands::send_digest_now(app.alerts.as_ref(), &viewer).await {
        Ok(made) => Redirect::to(&format!("/review/alerts?sent={made}")).into_response(),
        Err(error) => refused(error, "/review/alerts"),
    }
}

async fn run_api(State(app): State<AppState>, viewer: MaybeViewer) -> Result<Response, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    let made = commands::send_digest_now(app.alerts.as_ref(), &viewer).await?;
    Ok(Json(serde_json::json!({ "digests": made })).into_response())
}
