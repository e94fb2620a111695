//! Members of groups and projects: direct (`/members`) and with inherited ones (`/members/all`).

use std::collections::BTreeMap;

use axum::{extract::Path, response::Response};

use super::{Api, views};
use crate::{error::ApiResult, model::*, paging};

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
