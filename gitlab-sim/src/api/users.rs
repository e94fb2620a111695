//! Users (people, bots, service accounts) and service accounts.

use axum::{
    Json,
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{Api, Params, views};
use crate::{
    error::{ApiError, ApiResult},
    model::*,
    paging,
};

pub async fn get_current_user(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let user = world.users.get(&api.caller.user_id).ok_or(ApiError::Unauthorized)?;
    let mut value = views::user(&api.query.base_url, user, true);
    if let Some(object) = value.as_object_mut() {
        object.insert("email".to_owned(), serde_json::json!(user.email));
    }
    Ok(Json(value).into_response())
}

pub async fn get_user(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let user = id
        .parse::<Id>()
        .ok()
        .and_then(|id| world.users.get(&id))
        .ok_or(ApiError::NotFound("User"))?;
    Ok(Json(views::user(&api.query.base_url, user, api.caller.is_admin)).into_response())
}

/// `GET /users/:id/memberships`, for administrators only: the user's direct memberships of
/// groups (`Namespace`) and projects, `type=Namespace` or `type=Project` keeping one kind.
pub async fn list_user_memberships(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    if !api.caller.is_admin {
        return Err(ApiError::Forbidden);
    }
    let world = api.world();
    let user = id
        .parse::<Id>()
        .ok()
        .filter(|id| world.users.contains_key(id))
        .ok_or(ApiError::NotFound("User"))?;
    let keep = match api.query.get("type") {
        None => None,
        Some("Namespace") => Some("Namespace"),
        Some("Project") => Some("Project"),
        Some(_) => return Err(ApiError::BadRequest("type does not have a valid value".to_owned())),
    };
    let memberships = world
        .index
        .memberships_of
        .get(&user)
        .into_iter()
        .flatten()
        .filter_map(|(source, level)| views::membership(&world, *source, *level))
        .filter(|membership| keep.is_none_or(|kind| membership.source_type == kind));
    paging::offset(&api.query, memberships, |membership| membership)
}

/// `GET /users` with `username`, `search`, `humans`, `exclude_humans`, `exclude_internal`,
/// `without_project_bots`; keyset pagination by id when asked.
pub async fn list_users(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let username = api.query.get("username").map(str::to_lowercase);
    let search = api.query.get("search").map(str::to_lowercase);
    let humans = api.query.flag("humans")?.unwrap_or(false);
    let exclude_humans = api.query.flag("exclude_humans")?.unwrap_or(false);
    let without_project_bots = api.query.flag("without_project_bots")?.unwrap_or(false);
    let keep = |u: &&User| {
        username.as_ref().is_none_or(|name| u.username.to_lowercase() == *name)
            && search
                .as_ref()
                .is_none_or(|s| u.username.to_lowercase().contains(s) || u.name.to_lowercase().contains(s))
            && (!humans || !u.kind.is_bot())
            && (!exclude_humans || u.kind.is_bot())
            && (!without_project_bots || !matches!(u.kind, UserKind::ProjectBot { .. }))
    };
    let base = api.query.base_url.clone();
    let admin = api.caller.is_admin;
    if api.query.is_keyset() {
        let after = paging::id_after(&api.query)?;
        let users = world
            .users
            .range(after.saturating_add(1)..)
            .map(|(_, u)| u)
            .filter(keep)
            .map(|u| (u.id, u));
        return paging::keyset(&api.query, users, |u| views::user(&base, u, admin));
    }
    paging::offset(&api.query, world.users.values().filter(keep), |u| {
        views::user(&base, u, admin)
    })
}

fn service_account_view(user: &User) -> serde_json::Value {
    serde_json::json!({"id": user.id, "username": user.username, "name": user.name, "email": user.email})
}

/// The top-level group whose service accounts the caller manages (as its Owner).
pub fn service_account_group(api: &Api, world: &World, id: &str) -> ApiResult<Id> {
    let group = api.group(world, id)?;
    if group.parent_id.is_some() {
        return Err(ApiError::Validation("Group must be a top-level group".to_owned()));
    }
    if api.group_role(world, group.id) < OWNER {
        return Err(ApiError::Forbidden);
    }
    Ok(group.id)
}

pub async fn list_group_service_accounts(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let group = service_account_group(&api, &world, &id)?;
    let accounts = world
        .users
        .values()
        .filter(|u| u.kind == UserKind::GroupServiceAccount { group_id: group });
    paging::offset(&api.query, accounts, service_account_view)
}

fn create_account(api: &Api, params: &Params, kind: UserKind, prefix: String) -> ApiResult<Response> {
    let mut world = api.world_mut();
    let username = params
        .string("username")
        .unwrap_or_else(|| format!("{prefix}_{}", new_suffix()));
    if world.users.values().any(|u| u.username == username) {
        return Err(ApiError::Validation("Username has already been taken".to_owned()));
    }
    let id = world.new_user_id();
    let user = User {
        id,
        name: params
            .string("name")
            .unwrap_or_else(|| "Service account user".to_owned()),
        email: params
            .string("email")
            .unwrap_or_else(|| format!("{username}@noreply.gitlab.example.com")),
        username,
        state: "active".to_owned(),
        is_admin: false,
        kind,
        created_at: Utc::now(),
    };
    let value = service_account_view(&user);
    world.users.insert(id, user);
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn new_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

pub async fn create_group_service_account(api: Api, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let group = service_account_group(&api, &api.world(), &id)?;
    create_account(
        &api,
        &params,
        UserKind::GroupServiceAccount { group_id: group },
        format!("service_account_group_{group}"),
    )
}

pub async fn delete_group_service_account(api: Api, Path((id, user)): Path<(String, String)>) -> ApiResult<Response> {
    let mut world = api.world_mut();
    let group = service_account_group(&api, &world, &id)?;
    let user = user
        .parse::<Id>()
        .ok()
        .filter(|u| {
            world
                .users
                .get(u)
                .is_some_and(|u| u.kind == UserKind::GroupServiceAccount { group_id: group })
        })
        .ok_or(ApiError::NotFound("User"))?;
    world.users.remove(&user);
    world.members.retain(|(_, member), _| *member != user);
    let tokens: Vec<Id> = world
        .personal_access_tokens
        .values()
        .filter(|t| t.user_id == user)
        .map(|t| t.id)
        .collect();
    for id in tokens {
        if let Some(token) = world.personal_access_tokens.remove(&id) {
            world.forget_secret(&token.secret);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_instance_service_accounts(api: Api) -> ApiResult<Response> {
    if !api.caller.is_admin {
        return Err(ApiError::Forbidden);
    }
    let world = api.world();
    let accounts = world
        .users
        .values()
        .filter(|u| u.kind == UserKind::InstanceServiceAccount);
    paging::offset(&api.query, accounts, service_account_view)
}

pub async fn create_instance_service_account(api: Api, params: Params) -> ApiResult<Response> {
    if !api.caller.is_admin {
        return Err(ApiError::Forbidden);
    }
    create_account(
        &api,
        &params,
        UserKind::InstanceServiceAccount,
        "service_account".to_owned(),
    )
}
