//! The review's decision form: a plain POST of the findings picked (or "all that the view
//! lists"), the decision, its reason and date, and the view to go back to. An adapter over
//! `app::commands::decide`: decided findings go back to the view with `decided=N`; a refusal with
//! a message per field (`error_<field>`) and what was written.

use app::{
    auth::MaybeViewer,
    commands::{self, DecisionTargets, Refusal},
    domain::{
        ownership::looks_like_a_secret,
        review::{DecisionForm, FindingQuery},
    },
    error::AppError,
    state::AppState,
};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::auth::pages::{failed, refused, sentence, sign_in_required};

pub fn routes() -> Router<AppState> {
    Router::new().route("/review/decisions", post(decide))
}

async fn decide(State(app): State<AppState>, viewer: MaybeViewer, body: Bytes) -> Response {
    let Some(viewer) = viewer.0 else {
        return sign_in_required("/review");
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let query = match FindingQuery::from_params(get) {
        Ok(query) => query,
        Err(error) => {
            return failed(
                StatusCode::BAD_REQUEST,
                &sentence(&format!("{}: {}", error.field, error.message)),
            );
        }
    };
    let back = |extra: Vec<(&str, &str)>| {
        let view = query.to_query_string();
        let extra = app::query_string(extra);
        let joined = [view.as_str(), extra.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("&");
        Redirect::to(&format!("/review?{joined}#queue")).into_response()
    };
    let form = DecisionForm {
        decision: get("decision").unwrap_or_default().to_owned(),
        reason: get("reason").unwrap_or_default().to_owned(),
        until: get("until").unwrap_or_default().to_owned(),
    };
    let targets = if get("all") == Some("1") {
        DecisionTargets::Matching(query.clone())
    } else {
        let picked: Result<Vec<i64>, _> = pairs
            .iter()
            .filter(|(name, _)| name == "finding")
            .map(|(_, id)| id.parse::<i64>())
            .collect();
        match picked {
            Ok(ids) => DecisionTargets::Picked(ids),
            Err(_) => return failed(StatusCode::BAD_REQUEST, "A finding is named by its number."),
        }
    };
    let errors = match commands::decide(&app.repo, &viewer, &app.review, targets, &form).await {
        Ok(decided) => return back(vec![("decided", &decided.to_string())]),
        Err(Refusal::Fields(errors)) => errors.into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>(),
        Err(Refusal::Request(AppError::Invalid { field, message })) => vec![(field, message)],
        Err(Refusal::Request(error)) => return refused(error, "/review"),
    };
    // Back to the form with what was written (a pasted secret is not put in a URL) and why not.
    let mut extra: Vec<(String, String)> = vec![("decision".to_owned(), form.decision.clone())];
    if !looks_like_a_secret(&form.reason) {
        extra.push(("reason".to_owned(), form.reason.clone()));
    }
    extra.push(("until".to_owned(), form.until.clone()));
    extra.extend(
        errors
            .into_iter()
            .map(|(field, message)| (format!("error_{field}"), message)),
    );
    back(
        extra
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect(),
    )
}
