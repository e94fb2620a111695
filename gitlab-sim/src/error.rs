//! Errors as GitLab writes them: `{"message": "404 Project Not Found"}`, `{"error": "…"}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    Unauthorized,
    Forbidden,
    /// `what` as GitLab names it: "Group", "Project", "User", "Token"…
    NotFound(&'static str),
    /// A missing or invalid parameter: 400 `{"error": "name is missing"}`.
    BadRequest(String),
    /// A token whose scopes do not allow the request.
    InsufficientScope,
    /// A validation failure on create: 400 `{"message": "…"}`.
    Validation(String),
    /// What is being created exists already: 409 `{"message": "Member already exists"}`.
    Conflict(&'static str),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, Json(json!({"message": "401 Unauthorized"}))).into_response()
            }
            ApiError::Forbidden => (StatusCode::FORBIDDEN, Json(json!({"message": "403 Forbidden"}))).into_response(),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                Json(json!({"message": format!("404 {what} Not Found")})),
            )
                .into_response(),
            ApiError::BadRequest(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response(),
            ApiError::Validation(message) => {
                (StatusCode::BAD_REQUEST, Json(json!({"message": message}))).into_response()
            }
            ApiError::Conflict(message) => (StatusCode::CONFLICT, Json(json!({"message": message}))).into_response(),
            ApiError::InsufficientScope => (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the access token.",
                    "scope": "api"
                })),
            )
                .into_response(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
