//! The answer pages (`app::answers`) as responses: never cached, they say who is (not) signed in.

use app::{
    answers::{self, Answer},
    error::AppError,
};
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

pub(crate) fn respond(answer: Answer) -> Response {
    (
        answer.status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        answer.html,
    )
        .into_response()
}

/// 401: this page needs a signed-in person.
pub fn sign_in_required(next: &str) -> Response {
    respond(answers::sign_in_required(next))
}

/// Sign-in did not happen, or a request was refused, and why.
pub fn failed(status: StatusCode, message: &str) -> Response {
    respond(answers::failed(status, message))
}

pub fn signed_out() -> Response {
    respond(answers::signed_out())
}

/// 503: the server has no OAuth application configured.
pub fn not_configured() -> Response {
    respond(answers::not_configured())
}

/// A refused request as a page: sign in, or why.
pub(crate) fn refused(error: AppError, page: &str) -> Response {
    match error {
        AppError::Unauthorized => sign_in_required(page),
        AppError::Internal => error.into_response(),
        other => failed(other.status_code(), &sentence(&other.to_string())),
    }
}

/// A message as a sentence: capitalised, with a full stop.
pub(crate) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    let rest = chars.as_str();
    let end = if rest.ends_with(['.', '!', '?']) { "" } else { "." };
    format!("{first}{rest}{end}")
}
