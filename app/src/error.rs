//! The one error type of the product. Server functions return `Result<T, AppError>`; the HTTP
//! status comes from [`AppError::status_code`]. Database and unexpected errors are logged once,
//! where they are converted, and shown to people as an opaque "something went wrong".

use http::StatusCode;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// Input that does not make sense; `field` names the form field or parameter.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} was not found")]
    NotFound(String),
    /// The change clashes with what is already there (a duplicate name, a stale edit).
    #[error("{0}")]
    Conflict(String),
    #[error("sign in to continue")]
    Unauthorized,
    #[error("you are not allowed to do that")]
    Forbidden,
    /// 401 with what to do about it: a credential that no longer works, and why.
    #[error("{0}")]
    UnauthorizedBecause(String),
    /// 403 with the reason, when the reason tells the caller what to do instead.
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Something failed on our side; the details are in the server log, not here.
    #[error("something went wrong on our side; it has been logged")]
    Internal,
    /// The request never reached the function or its answer could not be read.
    #[error("the request failed: {0}")]
    Transport(String),
    /// GitLab failed or refused a change made through its API (502): what it said, and what to do.
    #[error("{0}")]
    GitLab(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthorized | AppError::UnauthorizedBecause(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport(_) => StatusCode::BAD_REQUEST,
            AppError::GitLab(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not deserialize are the caller's mistake.
            ServerFnErrorErr::Args(message) => AppError::invalid("arguments", message),
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl From<crate::domain::QueryError> for AppError {
    fn from(error: crate::domain::QueryError) -> Self {
        AppError::Invalid {
            field: error.field,
            message: error.message,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::db::DbError> for AppError {
    fn from(error: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match error {
            DbError::Conflict(message) => AppError::Conflict(message),
            DbError::NotFound(what) => AppError::NotFound(what),
            DbError::Corrupt(message) => {
                tracing::error!(error.message = %message, "database holds a value the domain does not know");
                AppError::Internal
            }
            DbError::Sqlx(error) => {
                tracing::error!(error.message = %error, "database error");
                AppError::Internal
            }
        }
    }
}

/// For API routes and extractors: the status and `{"error": "…"}`.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (
            self.status_code(),
            axum::Json(serde_json::json!({"error": self.to_string()})),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_the_status_people_and_api_callers_expect() {
        assert_eq!(
            AppError::invalid("kind", "unknown").status_code(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            AppError::NotFound("token 7".into()).status_code(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(AppError::Conflict("taken".into()).status_code(), StatusCode::CONFLICT);
        assert_eq!(AppError::Unauthorized.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(AppError::Forbidden.status_code(), StatusCode::FORBIDDEN);
        let why = AppError::UnauthorizedBecause("sign in again".into());
        assert_eq!(
            (why.status_code(), why.to_string().as_str()),
            (StatusCode::UNAUTHORIZED, "sign in again")
        );
        let why = AppError::ForbiddenBecause("not with a key".into());
        assert_eq!(
            (why.status_code(), why.to_string().as_str()),
            (StatusCode::FORBIDDEN, "not with a key")
        );
        assert_eq!(AppError::Internal.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            AppError::GitLab("GitLab answered 500".to_owned()).status_code(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            AppError::Internal.to_string(),
            "something went wrong on our side; it has been logged"
        );
    }

    #[test]
    fn bad_arguments_from_the_transport_are_the_callers_mistake() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `page`".into()));
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
