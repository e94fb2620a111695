//! Groups and projects: what a caller may see of them, listed as GitLab lists them.

use axum::{
    extract::Path,
    response::{IntoResponse, Response},
};

use super::{Api, views};
use crate::{
    error::{ApiError, ApiResult},
    model::*,
    paging,
};

impl Api {
    pub fn can_see_group(&self, world: &World, group: &Group) -> bool {
        self.caller.is_admin || world.group_access(self.caller.user_id, group.id).is_some()
    }

    pub fn can_see_project(&self, world: &World, project: &Project) -> bool {
        self.caller.is_admin || world.project_access(self.caller.user_id, project.id).is_some()
    }

    /// The group named by an id or URL-encoded full path, when the caller may see it.
    pub fn group<'w>(&self, world: &'w World, reference: &str) -> ApiResult<&'w Group> {
        world
            .group_by_ref(reference)
            .filter(|group| self.can_see_group(world, group))
            .ok_or(ApiError::NotFound("Group"))
    }

    pub fn project<'w>(&self, world: &'w World, reference: &str) -> ApiResult<&'w Project> {
        world
            .project_by_ref(reference)
            .filter(|project| self.can_see_project(world, project))
            .ok_or(ApiError::NotFound("Project"))
    }

    /// The caller's role in a group (administrators count as Owner).
    pub fn group_role(&self, world: &World, group: Id) -> u8 {
        if self.caller.is_admin {
            OWNER
        } else {
            world.group_access(self.caller.user_id, group).unwrap_or(0)
        }
    }

    pub fn project_role(&self, world: &World, project: Id) -> u8 {
        if self.caller.is_admin {
            OWNER
        } else {
            world.project_access(self.caller.user_id, project).unwrap_or(0)
        }
    }
}

/// Orders groups by `order_by` (`name` by default, `path`, `id`) and `sort`.
fn order_groups(api: &Api, groups: &mut Vec<&Group>) -> ApiResult<()> {
    match api.query.get("order_by").unwrap_or("name") {
        "name" => groups.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "path" => groups.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id))),
        "id" => groups.sort_by_key(|g| g.id),
        other => {
            return Err(ApiError::BadRequest(format!(
                "order_by does not have a valid value: {other}"
            )));
        }
    }
    if api.query.get("sort") == Some("desc") {
        groups.reverse();
    }
    Ok(())
}

fn search_matches(api: &Api, name: &str, path: &str) -> bool {
    match api.query.get("search") {
        Some(words) => {
            let words = words.to_lowercase();
            name.to_lowercase().contains(&words) || path.to_lowercase().contains(&words)
        }
        None => true,
    }
}

fn list<'w>(api: &Api, world: &'w World, groups: impl Iterator<Item = &'w Group>) -> ApiResult<Response> {
    let min_access = api.query.number("min_access_level")?.map(|n| n as u8);
    let owned = api.query.flag("owned")?.unwrap_or(false);
    let mut groups: Vec<&Group> = groups
        .filter(|g| api.can_see_group(world, g))
        .filter(|g| search_matches(api, &g.name, &g.path))
        .filter(|g| {
            if min_access.is_none() && !owned {
                return true;
            }
            let role = world.group_access(api.caller.user_id, g.id).unwrap_or(0);
            min_access.is_none_or(|min| role >= min) && (!owned || role == OWNER)
        })
        .collect();
    order_groups(api, &mut groups)?;
    let base = api.query.base_url.clone();
    paging::offset(&api.query, groups.into_iter(), |g| views::group(&base, g))
}

pub async fn list_groups(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let top_level_only = api.query.flag("top_level_only")?.unwrap_or(false);
    list(
        &api,
        &world,
        world
            .groups
            .values()
            .filter(|g| !top_level_only || g.parent_id.is_none()),
    )
}

pub async fn get_group(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let group = api.group(&world, &id)?;
    Ok(axum::Json(views::group(&api.query.base_url, group)).into_response())
}

pub async fn list_subgroups(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let parent = api.group(&world, &id)?.id;
    list(
        &api,
        &world,
        world
            .index
            .subgroups
            .get(&parent)
            .into_iter()
            .flatten()
            .filter_map(|id| world.groups.get(id)),
    )
}

pub async fn list_descendant_groups(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let root = api.group(&world, &id)?.id;
    list(
        &api,
        &world,
        world
            .group_and_descendants(root)
            .into_iter()
            .filter(|id| *id != root)
            .filter_map(|id| world.groups.get(&id)),
    )
}

/// Orders projects by `order_by` (`created_at` by default, `id`, `name`, `path`) and `sort`
/// (`desc` by default).
fn order_projects(api: &Api, projects: &mut Vec<&Project>) -> ApiResult<()> {
    match api.query.get("order_by").unwrap_or("created_at") {
        "created_at" => projects.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
        "id" => projects.sort_by_key(|p| p.id),
        "name" => projects.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "path" => projects.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id))),
        other => {
            return Err(ApiError::BadRequest(format!(
                "order_by does not have a valid value: {other}"
            )));
        }
    }
    if api.query.get("sort").unwrap_or("desc") == "desc" {
        projects.reverse();
    }
    Ok(())
}

fn project_filter(api: &Api) -> ApiResult<impl Fn(&Project) -> bool + '_> {
    let archived = api.query.flag("archived")?;
    Ok(move |p: &Project| archived.is_none_or(|a| p.archived == a) && search_matches(api, &p.name, &p.path))
}

pub async fn list_group_projects(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let group = api.group(&world, &id)?.id;
    let include_subgroups = api.query.flag("include_subgroups")?.unwrap_or(false);
    let simple = api.query.flag("simple")?.unwrap_or(false);
    let keep = project_filter(&api)?;
    let groups = if include_subgroups {
        world.group_and_descendants(group)
    } else {
        vec![group]
    };
    let mut projects: Vec<&Project> = groups
        .iter()
        .filter_map(|g| world.index.projects_in_group.get(g))
        .flatten()
        .filter_map(|id| world.projects.get(id))
        .filter(|p| api.can_see_project(&world, p))
        .filter(|p| keep(p))
        .collect();
    order_projects(&api, &mut projects)?;
    let base = api.query.base_url.clone();
    paging::offset(&api.query, projects.into_iter(), |p| {
        views::project(&base, &world, p, simple)
    })
}

pub async fn list_projects(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let simple = api.query.flag("simple")?.unwrap_or(false);
    let membership = api.query.flag("membership")?.unwrap_or(false);
    let keep = project_filter(&api)?;
    let visible = |p: &Project| {
        if membership {
            world.project_access(api.caller.user_id, p.id).is_some()
        } else {
            api.can_see_project(&world, p)
        }
    };
    let base = api.query.base_url.clone();
    if api.query.is_keyset() {
        let after = paging::id_after(&api.query)?;
        let items = world
            .projects
            .range(after.saturating_add(1)..)
            .map(|(_, p)| p)
            .filter(|p| visible(p) && keep(p))
            .map(|p| (p.id, p));
        return paging::keyset(&api.query, items, |p| views::project(&base, &world, p, simple));
    }
    let mut projects: Vec<&Project> = world.projects.values().filter(|p| visible(p) && keep(p)).collect();
    order_projects(&api, &mut projects)?;
    paging::offset(&api.query, projects.into_iter(), |p| {
        views::project(&base, &world, p, simple)
    })
}

pub async fn get_project(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let project = api.project(&world, &id)?;
    Ok(axum::Json(views::project(&api.query.base_url, &world, project, false)).into_response())
}
