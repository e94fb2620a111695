//! The ownership forms: a token's (on its page) and a service account's owner team (on the
//! service accounts page). Plain form POSTs, so they work without JavaScript; thin adapters over
//! `app::commands`. Refused token edits go back to the page with the values and a message per
//! field in the URL; saved edits go back with `saved=…`.

use app::{
    auth::MaybeViewer,
    commands::{self, Refusal},
    domain::{OwnershipEdit, ownership::looks_like_a_secret},
    error::AppError,
    state::AppState,
};
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::auth::pages::{failed, refused, sentence, sign_in_required};

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
    match commands::set_account_owner(&app.repo, &viewer, &app.review, id, &form.owner_team).await {
        Ok(username) => {
            let query = app::query_string([("saved", username.as_str())]);
            let fragment: String = url::form_urlencoded::byte_serialize(username.as_bytes()).collect();
            Redirect::to(&format!("{page}?{query}#account-{fragment}")).into_response()
        }
        // A team that is not listed: the form offers only listed teams, so the request is bad.
        Err(AppError::Invalid { message, .. }) => failed(axum::http::StatusCode::BAD_REQUEST, &sentence(&message)),
        Err(error) => refused(error, page),
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
    match commands::save_ownership(&app.repo, &viewer, &app.review, id, &edit).await {
        Ok(()) => Redirect::to(&format!("{page}?saved=1#ownership")).into_response(),
        Err(Refusal::Request(error)) => refused(error, &page),
        Err(Refusal::Fields(errors)) => {
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
                if !looks_like_a_secret(value) {
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
