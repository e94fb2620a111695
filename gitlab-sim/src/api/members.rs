//! Members of groups and projects: direct (`/members`) and with inherited ones (`/members/all`);
//! one direct member (`/members/:user_id`), added (`POST`) and given another role (`PUT`).

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    Api, Params,
    tokens::{Namespace, namespace},
    views,
};
use crate::{
    error::{ApiError, ApiResult},
    model::*,
    paging,
};

fn list(api: &Api, world: &World, members: BTreeMap<Id, u8>) -> ApiResult<Response> {
    let base = api.query.base_url.clone();
    let items = members
        .into_iter()
        .filter_map(|(user, level)| world.users.get(&user).map(|u| (u, level)));
    paging::offset(&api.query, items, |(user, level)| views::member(&base, user, level))
}

fn direct(world: &World, source: Source) -> BTreeMap<Id, u8> {
    world
        .members
        .range((source, 0)..=(source, Id::MAX))
        .map(|((_, user), level)| (*user, *level))
        .collect()
}

/// Members of the group and its ancestors, each at their highest level.
fn inherited(world: &World, group: Id) -> BTreeMap<Id, u8> {
    let mut members = BTreeMap::new();
    for ancestor in world.ancestors(group) {
        for (user, level) in direct(world, Source::Group(ancestor.id)) {
            let entry = members.entry(user).or_insert(level);
            *entry = (*entry).max(level);
        }
    }
    members
}

pub async fn list_group_members(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let group = api.group(&world, &id)?.id;
    list(&api, &world, direct(&world, Source::Group(group)))
}

pub async fn list_all_group_members(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let group = api.group(&world, &id)?.id;
    list(&api, &world, inherited(&world, group))
}

pub async fn list_project_members(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let project = api.project(&world, &id)?.id;
    list(&api, &world, direct(&world, Source::Project(project)))
}

pub async fn list_all_project_members(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let project = api.project(&world, &id)?;
    let mut members = inherited(&world, project.namespace_id);
    for (user, level) in direct(&world, Source::Project(project.id)) {
        let entry = members.entry(user).or_insert(level);
        *entry = (*entry).max(level);
    }
    list(&api, &world, members)
}

/// `access_level`, required: one of GitLab's roles (Owner on projects too, since GitLab 14.9).
fn access_level_param(params: &Params) -> ApiResult<u8> {
    let level = params
        .number("access_level")?
        .ok_or_else(|| ApiError::BadRequest("access_level is missing".to_owned()))?;
    u8::try_from(level)
        .ok()
        .filter(|level| ACCESS_LEVELS.contains(level))
        .ok_or_else(|| ApiError::BadRequest("access_level does not have a valid value".to_owned()))
}

/// `expires_at` (`YYYY-MM-DD`), optional: checked, not kept (members here never expire).
fn check_expires_at(params: &Params) -> ApiResult<()> {
    match params.string("expires_at") {
        Some(value) if value.parse::<chrono::NaiveDate>().is_err() => {
            Err(ApiError::BadRequest("expires_at is invalid".to_owned()))
        }
        _ => Ok(()),
    }
}

/// GitLab keeps a group's service account inside its top-level group: that group, the groups
/// under it and their projects.
fn check_service_account_hierarchy(world: &World, source: Source, user: &User) -> ApiResult<()> {
    match user.kind {
        UserKind::GroupServiceAccount { group_id } if world.top_level_group(source) != Some(group_id) => {
            Err(ApiError::Validation(
                "Service account user can only be added to its own top-level group, its subgroups and their projects"
                    .to_owned(),
            ))
        }
        _ => Ok(()),
    }
}

fn member_view(api: &Api, world: &World, user: Id, level: u8) -> ApiResult<serde_json::Value> {
    let user = world.users.get(&user).ok_or(ApiError::NotFound("User"))?;
    Ok(views::member(&api.query.base_url, user, level))
}

/// `POST /groups/:id/members`, `POST /projects/:id/members`: `user_id` and `access_level`
/// required. Project Maintainers and group Owners add members, never above their own role;
/// 404 for an unknown user, 409 for a direct member already there.
pub async fn add_member<N: Namespace>(api: Api, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let user = params
        .number("user_id")?
        .ok_or_else(|| ApiError::BadRequest("user_id is missing".to_owned()))?;
    let level = access_level_param(&params)?;
    check_expires_at(&params)?;
    let mut world = api.world_mut();
    let (source, role) = namespace::<N>(&api, &world, &id, N::MANAGES_MEMBERS)?;
    let member = world.users.get(&user).ok_or(ApiError::NotFound("User"))?;
    if world.members.contains_key(&(source, user)) {
        return Err(ApiError::Conflict("Member already exists"));
    }
    if level > role {
        return Err(ApiError::Forbidden);
    }
    check_service_account_hierarchy(&world, source, member)?;
    world.members.insert((source, user), level);
    Ok((StatusCode::CREATED, Json(member_view(&api, &world, user, level)?)).into_response())
}

fn user_id_param(user: &str) -> ApiResult<Id> {
    user.parse()
        .map_err(|_| ApiError::BadRequest("user_id is invalid".to_owned()))
}

/// `GET /groups/:id/members/:user_id`, `GET /projects/:id/members/:user_id`: a direct member,
/// for anyone who sees the group or project.
pub async fn get_member<N: Namespace>(api: Api, Path((id, user)): Path<(String, String)>) -> ApiResult<Response> {
    let user = user_id_param(&user)?;
    let world = api.world();
    let (source, _) = N::find(&api, &world, &id)?;
    let level = *world.members.get(&(source, user)).ok_or(ApiError::NotFound("Member"))?;
    Ok(Json(member_view(&api, &world, user, level)?).into_response())
}

/// `PUT /groups/:id/members/:user_id`, `PUT /projects/:id/members/:user_id`: a direct member's
/// new `access_level`, by those who add members; neither the old role nor the new one may be
/// above the caller's.
pub async fn edit_member<N: Namespace>(
    api: Api,
    Path((id, user)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let user = user_id_param(&user)?;
    let level = access_level_param(&params)?;
    check_expires_at(&params)?;
    let mut world = api.world_mut();
    let (source, role) = namespace::<N>(&api, &world, &id, N::MANAGES_MEMBERS)?;
    let old = *world.members.get(&(source, user)).ok_or(ApiError::NotFound("Member"))?;
    if old > role || level > role {
        return Err(ApiError::Forbidden);
    }
    world.members.insert((source, user), level);
    Ok(Json(member_view(&api, &world, user, level)?).into_response())
}
