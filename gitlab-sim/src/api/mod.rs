//! The REST API v4 routes, with GitLab's paths, parameters, fields and statuses.

pub mod groups;
pub mod members;
pub mod tokens;
pub mod users;
pub mod views;

use axum::{
    Json, Router,
    extract::{Request, State},
    middleware,
    routing::{delete, get, post},
};
use serde_json::{Value, json};

use self::tokens::{InGroup, InProject};
use crate::{SimState, auth};

/// Every route of the API, behind authentication.
pub fn router(state: SimState) -> Router<SimState> {
    Router::new()
        .route("/version", get(version))
        .merge(namespace_routes())
        .merge(access_token_routes())
        .merge(deploy_token_routes())
        .merge(personal_access_token_routes())
        .merge(user_routes())
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
}

/// Groups and projects, and their members.
fn namespace_routes() -> Router<SimState> {
    Router::new()
        .route("/groups", get(groups::list_groups))
        .route("/groups/{id}", get(groups::get_group))
        .route("/groups/{id}/subgroups", get(groups::list_subgroups))
        .route("/groups/{id}/descendant_groups", get(groups::list_descendant_groups))
        .route("/groups/{id}/projects", get(groups::list_group_projects))
        .route("/projects", get(groups::list_projects))
        .route("/projects/{id}", get(groups::get_project))
        .route(
            "/groups/{id}/members",
            get(members::list_group_members).post(members::add_member::<InGroup>),
        )
        .route("/groups/{id}/members/all", get(members::list_all_group_members))
        .route(
            "/groups/{id}/members/{user_id}",
            get(members::get_member::<InGroup>).put(members::edit_member::<InGroup>),
        )
        .route(
            "/projects/{id}/members",
            get(members::list_project_members).post(members::add_member::<InProject>),
        )
        .route("/projects/{id}/members/all", get(members::list_all_project_members))
        .route(
            "/projects/{id}/members/{user_id}",
            get(members::get_member::<InProject>).put(members::edit_member::<InProject>),
        )
}

/// Project and group access tokens: one handler for both, over the namespace.
fn access_token_routes() -> Router<SimState> {
    Router::new()
        .route(
            "/projects/{id}/access_tokens",
            get(tokens::list_access_tokens::<InProject>).post(tokens::create_access_token::<InProject>),
        )
        .route(
            "/projects/{id}/access_tokens/{token_id}",
            get(tokens::get_access_token::<InProject>).delete(tokens::revoke_access_token::<InProject>),
        )
        .route(
            "/projects/{id}/access_tokens/{token_id}/rotate",
            post(tokens::rotate_access_token::<InProject>),
        )
        .route(
            "/groups/{id}/access_tokens",
            get(tokens::list_access_tokens::<InGroup>).post(tokens::create_access_token::<InGroup>),
        )
        .route(
            "/groups/{id}/access_tokens/{token_id}",
            get(tokens::get_access_token::<InGroup>).delete(tokens::revoke_access_token::<InGroup>),
        )
        .route(
            "/groups/{id}/access_tokens/{token_id}/rotate",
            post(tokens::rotate_access_token::<InGroup>),
        )
}

/// Deploy tokens: the instance's, and a project's or group's (one handler for both).
fn deploy_token_routes() -> Router<SimState> {
    Router::new()
        .route("/deploy_tokens", get(tokens::list_all_deploy_tokens))
        .route(
            "/projects/{id}/deploy_tokens",
            get(tokens::list_deploy_tokens::<InProject>).post(tokens::create_deploy_token::<InProject>),
        )
        .route(
            "/projects/{id}/deploy_tokens/{token_id}",
            get(tokens::get_deploy_token::<InProject>).delete(tokens::delete_deploy_token::<InProject>),
        )
        .route(
            "/groups/{id}/deploy_tokens",
            get(tokens::list_deploy_tokens::<InGroup>).post(tokens::create_deploy_token::<InGroup>),
        )
        .route(
            "/groups/{id}/deploy_tokens/{token_id}",
            get(tokens::get_deploy_token::<InGroup>).delete(tokens::delete_deploy_token::<InGroup>),
        )
}

/// Personal access tokens, and group service accounts' tokens.
fn personal_access_token_routes() -> Router<SimState> {
    Router::new()
        .route("/personal_access_tokens", get(tokens::list_personal_access_tokens))
        .route(
            "/personal_access_tokens/self",
            get(tokens::get_own_personal_access_token),
        )
        .route(
            "/personal_access_tokens/{token_id}",
            get(tokens::get_personal_access_token).delete(tokens::revoke_personal_access_token),
        )
        .route(
            "/personal_access_tokens/{token_id}/rotate",
            post(tokens::rotate_personal_access_token),
        )
        .route(
            "/groups/{id}/service_accounts/{user_id}/personal_access_tokens",
            get(tokens::list_service_account_tokens).post(tokens::create_service_account_token),
        )
        .route(
            "/groups/{id}/service_accounts/{user_id}/personal_access_tokens/{token_id}",
            delete(tokens::revoke_service_account_token),
        )
        .route(
            "/groups/{id}/service_accounts/{user_id}/personal_access_tokens/{token_id}/rotate",
            post(tokens::rotate_service_account_token),
        )
}

/// Users, and service accounts.
fn user_routes() -> Router<SimState> {
    Router::new()
        .route("/user", get(users::get_current_user))
        .route("/users", get(users::list_users))
        .route("/users/{id}", get(users::get_user))
        .route("/users/{id}/memberships", get(users::list_user_memberships))
        .route(
            "/service_accounts",
            get(users::list_instance_service_accounts).post(users::create_instance_service_account),
        )
        .route(
            "/groups/{id}/service_accounts",
            get(users::list_group_service_accounts).post(users::create_group_service_account),
        )
        .route(
            "/groups/{id}/service_accounts/{user_id}",
            delete(users::delete_group_service_account),
        )
}

async fn version(State(_): State<SimState>, _request: Request) -> Json<Value> {
    Json(json!({
        "version": "17.6.0-ee",
        "revision": "gitlab-sim",
        "kas": {"enabled": false, "externalUrl": null, "version": null},
        "enterprise": true
    }))
}

/// What every handler needs: the world, the caller, and the request's parameters.
pub struct Api {
    pub state: SimState,
    pub caller: auth::Caller,
    pub query: crate::paging::Query,
}

impl axum::extract::FromRequestParts<SimState> for Api {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &SimState,
    ) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<auth::Caller>()
            .cloned()
            .ok_or(crate::error::ApiError::Unauthorized)?;
        Ok(Api {
            state: state.clone(),
            caller,
            // Links must name the full path, not the one `nest` left to this router.
            query: crate::paging::Query::new(
                parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map(|original| &original.0)
                    .unwrap_or(&parts.uri),
                &parts.headers,
            )?,
        })
    }
}

impl Api {
    pub fn world(&self) -> std::sync::RwLockReadGuard<'_, crate::model::World> {
        self.state.world.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn world_mut(&self) -> crate::WorldMut<'_> {
        self.state.world_mut()
    }
}

/// A request body as GitLab reads it: JSON or a form (`scopes[]=api&scopes[]=read_api`), with the
/// query string's parameters too.
#[derive(Debug, Default)]
pub struct Params(pub serde_json::Map<String, Value>);

impl axum::extract::FromRequest<SimState> for Params {
    type Rejection = crate::error::ApiError;

    async fn from_request(request: Request, _state: &SimState) -> Result<Self, Self::Rejection> {
        use crate::error::ApiError;
        let mut params = serde_json::Map::new();
        let mut add = |name: String, value: String| {
            if let Some(name) = name.strip_suffix("[]") {
                let entry = params.entry(name.to_owned()).or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(values) = entry {
                    values.push(Value::String(value));
                }
            } else {
                params.insert(name, Value::String(value));
            }
        };
        if let Some(query) = request.uri().query() {
            for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .map_err(|_| ApiError::BadRequest("the query string is not valid".to_owned()))?
            {
                add(name, value);
            }
        }
        let json = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = axum::body::to_bytes(request.into_body(), 1024 * 1024)
            .await
            .map_err(|_| ApiError::BadRequest("the body could not be read".to_owned()))?;
        if json && !bytes.is_empty() {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(object)) => params.extend(object),
                _ => return Err(ApiError::BadRequest("the body is not a JSON object".to_owned())),
            }
        } else if !bytes.is_empty() {
            let text =
                std::str::from_utf8(&bytes).map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_owned()))?;
            for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(text)
                .map_err(|_| ApiError::BadRequest("the form is not valid".to_owned()))?
            {
                add(name, value);
            }
        }
        Ok(Params(params))
    }
}

impl Params {
    pub fn string(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub fn required(&self, name: &str) -> Result<String, crate::error::ApiError> {
        self.string(name)
            .ok_or_else(|| crate::error::ApiError::BadRequest(format!("{name} is missing")))
    }

    /// A list parameter: a JSON array, `name[]=…` form fields, or a comma-separated string.
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(Value::Array(values)) => values.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => vec![],
        }
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, crate::error::ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| crate::error::ApiError::BadRequest(format!("{name} is invalid"))),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| crate::error::ApiError::BadRequest(format!("{name} is invalid"))),
            Some(_) => Err(crate::error::ApiError::BadRequest(format!("{name} is invalid"))),
        }
    }
}
