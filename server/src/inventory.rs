//! The ownership forms: a token's (on its page) and a service account's owner team (on the
//! service accounts page). Plain form POSTs, so they work without JavaScript. Refused token edits
//! go back to the page with the values and a message per field in the URL; saved edits go back
//! with `saved=…`.

use app::{
    auth::MaybeViewer,
    domain::{OwnershipEdit, TeamRef},
    server::{inventory::may_edit_ownership, teams::may_set_account_owner},
    state::AppState,
};
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use chrono::Utc;

use crate::auth::pages::{failed, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tokens/{id}/ownership", post(save_ownership))
        .route("/service-accounts/{id}/owner", post(save_account_owner))
}

#[derive(serde::Deserialize)]
struct AccountOwnerForm {
    /// A team's id; blank: not set (inferred again).
    owner_team: String,
}

async fn save_account_owner(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
    Form(form): Form<AccountOwnerForm>,
) -> Response {
    let page = "/service-accounts";
    let Some(viewer) = viewer.0 else {
        return sign_in_required(page);
    };
    let account = match app.repo.service_account(id).await {
        Ok(Some(account)) => account,
        Ok(None) => return failed(StatusCode::NOT_FOUND, &format!("There is no service account {id}.")),
        Err(error) => return app::error::AppError::from(error).into_response(),
    };
    if !may_set_account_owner(&viewer, &account) {
        return failed(
            StatusCode::FORBIDDEN,
            "Only security and the lead of the team that owns this service account can change its owner.",
        );
    }
    let chosen = form.owner_team.trim();
    let team_id = if chosen.is_empty() {
        None
    } else {
        let teams = match app.repo.list_teams().await {
            Ok(teams) => teams,
            Err(error) => return app::error::AppError::from(error).into_response(),
        };
        match chosen
            .parse::<i64>()
            .ok()
            .filter(|id| teams.iter().any(|team| team.id == *id))
        {
            Some(team_id) => Some(team_id),
            None => {
                return failed(
                    StatusCode::BAD_REQUEST,
                    "Choose one of the teams listed, or \"Not set\".",
                );
            }
        }
    };
    match app
        .repo
        .set_account_owner(id, team_id, &viewer.username, Utc::now())
        .await
    {
        Ok(()) => {
            tracing::info!(account.id = id, user.username = %viewer.username, "service account owner changed");
            let query = app::query_string([("saved", account.username.as_str())]);
            let fragment: String = url::form_urlencoded::byte_serialize(account.username.as_bytes()).collect();
            Redirect::to(&format!("{page}?{query}#account-{fragment}")).into_response()
        }
        Err(error) => app::error::AppError::from(error).into_response(),
    }
}

async fn save_ownership(
    State(app): State<AppState>,
    viewer: MaybeViewer,
    Path(id): Path<i64>,
    Form(edit): Form<OwnershipEdit>,
) -> Response {
    let page = format!("/tokens/{id}");
    let Some(viewer) = viewer.0 else {
        return sign_in_required(&page);
    };
    let today = Utc::now().date_naive();
    let detail = match app.repo.get_token(id, today).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return failed(StatusCode::NOT_FOUND, &format!("There is no token {id}.")),
        Err(error) => return app::error::AppError::from(error).into_response(),
    };
    if !may_edit_ownership(&viewer, &detail) {
        return failed(
            StatusCode::FORBIDDEN,
            "Only security and the lead of the team that owns this token can change what is said about it.",
        );
    }
    let teams: Vec<TeamRef> = match app.repo.list_teams().await {
        Ok(teams) => teams.into_iter().map(TeamRef::from).collect(),
        Err(error) => return app::error::AppError::from(error).into_response(),
    };
    match edit.validate(&teams) {
        Ok(valid) => match app.repo.set_ownership(id, &valid, &viewer.username, Utc::now()).await {
            Ok(()) => {
                tracing::info!(token.id = id, user.username = %viewer.username, "ownership changed");
                Redirect::to(&format!("{page}?saved=1#ownership")).into_response()
            }
            Err(error) => app::error::AppError::from(error).into_response(),
        },
        Err(errors) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("edit", "1");
            for (field, value) in [
                ("owner_team", &edit.owner_team),
                ("purpose", &edit.purpose),
                ("automation", &edit.automation),
                ("secret_location", &edit.secret_location),
                ("notes", &edit.notes),
            ] {
                // A pasted secret is not sent back into a URL (nor kept in the browser's history).
                if !domain::ownership::looks_like_a_secret(value) {
                    query.append_pair(field, value);
                }
            }
            for error in &errors {
                query.append_pair(&format!("error_{}", error.field), &error.message);
            }
            Redirect::to(&format!("{page}?{}#ownership", query.finish())).into_response()
        }
    }
}
