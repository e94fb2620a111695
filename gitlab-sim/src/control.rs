//! The simulator's own endpoints, for tests and benchmarks, under `/-/sim/` and for
//! administrators only: the world's ground truth, fault settings, the rate limit, and mutations
//! of the world between syncs.

use axum::{
    Json, Router,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{SimState, error::ApiError, faults::Faults, model::*};

pub fn router(state: SimState) -> Router<SimState> {
    Router::new()
        .route("/world", get(world))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/rate_limit", put(put_rate_limit))
        .route("/mutations", post(mutate))
        .route_layer(middleware::from_fn_with_state(state, admin_only))
}

/// Control endpoints take an administrator's personal access token.
async fn admin_only(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let admin = {
        let world = state.world.read().unwrap_or_else(|e| e.into_inner());
        token.and_then(|t| {
            world
                .token_by_secret(&t)
                .map(|(token, user)| (token.active(state.today()), user.is_admin))
        })
    };
    match admin {
        Some((true, true)) => next.run(request).await,
        Some((true, false)) => ApiError::Forbidden.into_response(),
        _ => ApiError::Unauthorized.into_response(),
    }
}

/// The ground truth: every group, project, user, token (never a secret) and membership.
async fn world(State(state): State<SimState>) -> Response {
    let world = state.world.read().unwrap_or_else(|e| e.into_inner());
    let today = state.today();
    let mut value = serde_json::to_value(&*world).unwrap_or(Value::Null);
    // Each token's derived state, as the API reports it.
    if let Some(tokens) = value.get_mut("personal_access_tokens").and_then(Value::as_object_mut) {
        for (id, token) in tokens.iter_mut() {
            let active = id
                .parse::<Id>()
                .ok()
                .and_then(|id| world.personal_access_tokens.get(&id))
                .is_some_and(|t| t.active(today));
            if let Some(object) = token.as_object_mut() {
                object.insert("active".to_owned(), json!(active));
            }
        }
    }
    Json(value).into_response()
}

async fn get_faults(State(state): State<SimState>) -> Json<Faults> {
    Json(state.faults.get())
}

async fn put_faults(State(state): State<SimState>, Json(faults): Json<Faults>) -> Json<Faults> {
    state.faults.set(faults);
    Json(state.faults.get())
}

#[derive(Deserialize)]
struct RateLimit {
    per_minute: u32,
}

async fn put_rate_limit(State(state): State<SimState>, Json(limit): Json<RateLimit>) -> Json<Value> {
    state.limiter.set_limit(limit.per_minute);
    Json(json!({"per_minute": limit.per_minute}))
}

/// A change to the world between syncs.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Mutation {
    /// A project access token, with its bot user.
    CreateProjectAccessToken {
        project_id: Id,
        name: String,
        scopes: Vec<String>,
        access_level: u8,
        expires_at: Option<NaiveDate>,
    },
    /// Revokes a personal access token (any kind) and issues its successor.
    RotateToken {
        token_id: Id,
        expires_at: Option<NaiveDate>,
    },
    RevokeToken {
        token_id: Id,
    },
    /// Removes a personal access token entirely, as GitLab does with a revoked token's bot user
    /// after 30 days.
    DeleteToken {
        token_id: Id,
    },
    SetExpiry {
        token_id: Id,
        expires_at: Option<NaiveDate>,
    },
    CreateDeployToken {
        owner: Source,
        name: String,
        scopes: Vec<String>,
    },
    RevokeDeployToken {
        id: Id,
    },
    DeleteDeployToken {
        id: Id,
    },
    MoveProject {
        project_id: Id,
        group_id: Id,
    },
    /// Blocks, bans, deactivates or reactivates a user, as an administrator does: GitLab's
    /// `state`. Any state but `active` refuses the user's tokens.
    SetUserState {
        user_id: Id,
        state: String,
    },
    /// Deletes a user with their tokens and memberships: `GET /users/:id` answers 404 after.
    DeleteUser {
        user_id: Id,
    },
}

/// The account states GitLab reports in a user's `state`.
pub const USER_STATES: [&str; 6] = [
    "active",
    "blocked",
    "deactivated",
    "banned",
    "ldap_blocked",
    "blocked_pending_approval",
];

fn apply(world: &mut World, mutation: Mutation, today: NaiveDate) -> Result<Value, String> {
    match mutation {
        Mutation::CreateProjectAccessToken {
            project_id,
            name,
            scopes,
            access_level,
            expires_at,
        } => {
            if !world.projects.contains_key(&project_id) {
                return Err(missing("project", project_id));
            }
            let token = NewAccessToken {
                owner: Source::Project(project_id),
                name,
                description: None,
                scopes,
                access_level,
                expires_at,
            };
            let (user_id, id) = world.create_access_token(token, hex32, sim_secret);
            Ok(json!({"token_id": id, "user_id": user_id}))
        }
        Mutation::RotateToken { token_id, expires_at } => rotate_token(world, token_id, expires_at, today),
        Mutation::RevokeToken { token_id } => {
            personal_access_token(world, token_id)?.revoked = true;
            Ok(json!({"token_id": token_id}))
        }
        Mutation::DeleteToken { token_id } => {
            let token = world
                .personal_access_tokens
                .remove(&token_id)
                .ok_or_else(|| missing("token", token_id))?;
            world.forget_secret(&token.secret);
            Ok(json!({"token_id": token_id}))
        }
        Mutation::SetExpiry { token_id, expires_at } => {
            personal_access_token(world, token_id)?.expires_at = expires_at;
            Ok(json!({"token_id": token_id}))
        }
        Mutation::CreateDeployToken { owner, name, scopes } => Ok(create_deploy_token(world, owner, name, scopes)),
        Mutation::RevokeDeployToken { id } => {
            let token = world
                .deploy_tokens
                .get_mut(&id)
                .ok_or_else(|| missing("deploy token", id))?;
            token.revoked = true;
            Ok(json!({"id": id}))
        }
        Mutation::DeleteDeployToken { id } => {
            world
                .deploy_tokens
                .remove(&id)
                .ok_or_else(|| missing("deploy token", id))?;
            Ok(json!({"id": id}))
        }
        Mutation::MoveProject { project_id, group_id } => move_project(world, project_id, group_id),
        Mutation::SetUserState { user_id, state } => set_user_state(world, user_id, state),
        Mutation::DeleteUser { user_id } => delete_user(world, user_id),
    }
}

fn missing(what: &str, id: Id) -> String {
    format!("{what} {id} does not exist")
}

/// The simulator's secrets for what mutations create: deterministic, from the id.
fn sim_secret(id: Id) -> String {
    format!("glpat-sim{id:016}")
}

fn personal_access_token(world: &mut World, token_id: Id) -> Result<&mut PersonalAccessToken, String> {
    world
        .personal_access_tokens
        .get_mut(&token_id)
        .ok_or_else(|| missing("token", token_id))
}

/// Revokes the token and issues its successor: same user, name, description and scopes, expiring
/// on `expires_at` or in a week.
fn rotate_token(
    world: &mut World,
    token_id: Id,
    expires_at: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Value, String> {
    let old = personal_access_token(world, token_id)?;
    old.revoked = true;
    let successor = NewToken {
        user_id: old.user_id,
        name: old.name.clone(),
        description: old.description.clone(),
        scopes: old.scopes.clone(),
        expires_at: expires_at.or_else(|| today.checked_add_days(chrono::Days::new(7))),
    };
    let id = world.issue_token(successor, sim_secret);
    Ok(json!({"token_id": id}))
}

fn create_deploy_token(world: &mut World, owner: Source, name: String, scopes: Vec<String>) -> Value {
    let id = world.new_deploy_token_id();
    world.deploy_tokens.insert(
        id,
        DeployToken {
            id,
            name,
            username: format!("gitlab+deploy-token-{id}"),
            scopes,
            expires_at: None,
            revoked: false,
            owner,
            secret: format!("gldt-sim{id:016}"),
        },
    );
    json!({"id": id})
}

fn move_project(world: &mut World, project_id: Id, group_id: Id) -> Result<Value, String> {
    let namespace = world
        .groups
        .get(&group_id)
        .ok_or_else(|| missing("group", group_id))?
        .full_path
        .clone();
    let project = world
        .projects
        .get_mut(&project_id)
        .ok_or_else(|| missing("project", project_id))?;
    project.namespace_id = group_id;
    project.path_with_namespace = format!("{namespace}/{}", project.path);
    Ok(json!({"project_id": project_id}))
}

fn set_user_state(world: &mut World, user_id: Id, state: String) -> Result<Value, String> {
    if !USER_STATES.contains(&state.as_str()) {
        return Err(format!("{state:?} is not a GitLab user state"));
    }
    let user = world.users.get_mut(&user_id).ok_or_else(|| missing("user", user_id))?;
    user.state = state;
    Ok(json!({"user_id": user_id}))
}

/// Deletes a user with their memberships and tokens.
fn delete_user(world: &mut World, user_id: Id) -> Result<Value, String> {
    world.users.remove(&user_id).ok_or_else(|| missing("user", user_id))?;
    world.members.retain(|(_, member), _| *member != user_id);
    let tokens: Vec<Id> = world
        .personal_access_tokens
        .values()
        .filter(|t| t.user_id == user_id)
        .map(|t| t.id)
        .collect();
    for id in tokens {
        if let Some(token) = world.personal_access_tokens.remove(&id) {
            world.forget_secret(&token.secret);
        }
    }
    Ok(json!({"user_id": user_id}))
}

fn hex32(seed: Id) -> String {
    format!(
        "{:032x}",
        u128::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
    )
}

/// Applies every mutation in order, or none when one fails.
async fn mutate(State(state): State<SimState>, Json(mutations): Json<Vec<Mutation>>) -> Response {
    let today = state.today();
    let mut world = state.world_mut();
    let mut draft = world.clone();
    let mut results = Vec::new();
    for (index, mutation) in mutations.into_iter().enumerate() {
        match apply(&mut draft, mutation, today) {
            Ok(result) => results.push(result),
            Err(error) => {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"error": format!("mutation {index}: {error}")})),
                )
                    .into_response();
            }
        }
    }
    *world = draft;
    Json(json!({"results": results})).into_response()
}
