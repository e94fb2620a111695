//! The answer pages (`app::answers`) as responses: never cached, they say who is (not) signed in.

use app::answers::{self, Answer};
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
