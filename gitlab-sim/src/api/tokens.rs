//! Every kind of token: project and group access tokens (personal access tokens of bot users),
//! deploy tokens, personal access tokens (the admin listing), service accounts' tokens.

use axum::{
    Json,
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{Api, Params, views};
use crate::{
    error::{ApiError, ApiResult},
    model::*,
    paging,
};

/// Scopes a personal, project or group access token may have.
pub const TOKEN_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
    "sudo",
    "admin_mode",
    "read_service_ping",
];

/// Scopes a service account's personal access token may have: GitLab keeps the administrator
/// scopes (`sudo`, `admin_mode`, `read_service_ping`) for administrators' own tokens.
pub const SERVICE_ACCOUNT_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
];

pub const DEPLOY_SCOPES: &[&str] = &[
    "read_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
    "read_virtual_registry",
    "write_virtual_registry",
];

/// The longest a new token may live: 365 days.
const MAX_LIFETIME_DAYS: u64 = 365;

/// The namespace that holds tokens: a project or a group. Each route names one ([`InProject`],
/// [`InGroup`]) and the two share one handler, generic over it.
pub trait Namespace {
    /// The role that lists and manages access tokens: Maintainer in a project, Owner in a group.
    const MANAGES_ACCESS_TOKENS: u8;
    /// The role that creates and deletes deploy tokens: Maintainer in a project, Owner in a group
    /// (Maintainers list them in both).
    const MANAGES_DEPLOY_TOKENS: u8;
    /// The role that adds members and changes their roles: Maintainer in a project, Owner in a
    /// group (GitLab's permissions table: only a group's Owners manage its members).
    const MANAGES_MEMBERS: u8;

    /// The project or group `reference` names (an id or a URL-encoded full path), when the caller
    /// may see it, and the caller's role in it.
    fn find(api: &Api, world: &World, reference: &str) -> ApiResult<(Source, u8)>;
}

/// A project's tokens: `/projects/{id}/…`.
pub enum InProject {}

/// A group's tokens: `/groups/{id}/…`.
pub enum InGroup {}

impl Namespace for InProject {
    const MANAGES_ACCESS_TOKENS: u8 = MAINTAINER;
    const MANAGES_DEPLOY_TOKENS: u8 = MAINTAINER;
    const MANAGES_MEMBERS: u8 = MAINTAINER;

    fn find(api: &Api, world: &World, reference: &str) -> ApiResult<(Source, u8)> {
        let project = api.project(world, reference)?;
        Ok((Source::Project(project.id), api.project_role(world, project.id)))
    }
}

impl Namespace for InGroup {
    const MANAGES_ACCESS_TOKENS: u8 = OWNER;
    const MANAGES_DEPLOY_TOKENS: u8 = OWNER;
    const MANAGES_MEMBERS: u8 = OWNER;

    fn find(api: &Api, world: &World, reference: &str) -> ApiResult<(Source, u8)> {
        let group = api.group(world, reference)?;
        Ok((Source::Group(group.id), api.group_role(world, group.id)))
    }
}

/// The namespace `reference` names, when the caller has at least `role` there; with their role.
pub fn namespace<N: Namespace>(api: &Api, world: &World, reference: &str, role: u8) -> ApiResult<(Source, u8)> {
    let (source, caller_role) = N::find(api, world, reference)?;
    if caller_role < role {
        return Err(ApiError::Forbidden);
    }
    Ok((source, caller_role))
}

/// A time as GitLab takes it: RFC 3339, or a date (its midnight, UTC).
fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            value
                .parse::<NaiveDate>()
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .ok()
}

fn parse_time_param(api: &Api, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    api.query
        .get(name)
        .map(|value| parse_time(value).ok_or_else(|| ApiError::BadRequest(format!("{name} is invalid"))))
        .transpose()
}

/// The filters GitLab's token listings share: `state`, `revoked`, `search`, and the
/// created/expires/last-used before/after bounds.
struct TokenFilter {
    state: Option<bool>,
    revoked: Option<bool>,
    search: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    expires_after: Option<DateTime<Utc>>,
    expires_before: Option<DateTime<Utc>>,
    last_used_after: Option<DateTime<Utc>>,
    last_used_before: Option<DateTime<Utc>>,
    today: NaiveDate,
}

impl TokenFilter {
    fn new(api: &Api) -> ApiResult<Self> {
        let state = match api.query.get("state") {
            None => None,
            Some("active") => Some(true),
            Some("inactive") => Some(false),
            Some(_) => return Err(ApiError::BadRequest("state does not have a valid value".to_owned())),
        };
        Ok(TokenFilter {
            state,
            revoked: api.query.flag("revoked")?,
            search: api.query.get("search").map(str::to_lowercase),
            created_after: parse_time_param(api, "created_after")?,
            created_before: parse_time_param(api, "created_before")?,
            expires_after: parse_time_param(api, "expires_after")?,
            expires_before: parse_time_param(api, "expires_before")?,
            last_used_after: parse_time_param(api, "last_used_after")?,
            last_used_before: parse_time_param(api, "last_used_before")?,
            today: api.state.today(),
        })
    }

    fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.revoked.is_none()
            && self.search.is_none()
            && self.created_after.is_none()
            && self.created_before.is_none()
            && self.expires_after.is_none()
            && self.expires_before.is_none()
            && self.last_used_after.is_none()
            && self.last_used_before.is_none()
    }

    fn keeps(&self, token: &PersonalAccessToken) -> bool {
        let expires = || {
            token
                .expires_at
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        };
        self.state.is_none_or(|active| token.active(self.today) == active)
            && self.revoked.is_none_or(|revoked| token.revoked == revoked)
            && self
                .search
                .as_ref()
                .is_none_or(|s| token.name.to_lowercase().contains(s))
            && self.created_after.is_none_or(|t| token.created_at > t)
            && self.created_before.is_none_or(|t| token.created_at < t)
            && self.expires_after.is_none_or(|t| expires().is_some_and(|e| e > t))
            && self.expires_before.is_none_or(|t| expires().is_some_and(|e| e < t))
            && self
                .last_used_after
                .is_none_or(|t| token.last_used_at.is_some_and(|u| u > t))
            && self
                .last_used_before
                .is_none_or(|t| token.last_used_at.is_some_and(|u| u < t))
    }
}

/// Orders tokens by GitLab's `sort` values; by id otherwise.
fn sort_tokens(api: &Api, tokens: &mut [&PersonalAccessToken]) -> ApiResult<()> {
    match api.query.get("sort") {
        None => tokens.sort_by_key(|t| t.id),
        Some("created_asc") => tokens.sort_by_key(|t| (t.created_at, t.id)),
        Some("created_desc") => tokens.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id))),
        Some("name_asc") => tokens.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        Some("name_desc") => tokens.sort_by(|a, b| b.name.cmp(&a.name).then(b.id.cmp(&a.id))),
        Some("expires_asc") => tokens.sort_by_key(|t| (t.expires_at.is_none(), t.expires_at, t.id)),
        Some("expires_desc") => tokens.sort_by_key(|t| std::cmp::Reverse((t.expires_at, t.id))),
        Some("last_used_asc") => tokens.sort_by_key(|t| (t.last_used_at, t.id)),
        Some("last_used_desc") => tokens.sort_by_key(|t| std::cmp::Reverse((t.last_used_at, t.id))),
        Some(_) => return Err(ApiError::BadRequest("sort does not have a valid value".to_owned())),
    }
    Ok(())
}

/// An access token of the namespace: a token of one of its bot users.
fn access_token<'w>(world: &'w World, owner: Source, token_id: &str) -> ApiResult<&'w PersonalAccessToken> {
    token_id
        .parse::<Id>()
        .ok()
        .and_then(|id| world.personal_access_tokens.get(&id))
        .filter(|t| {
            world
                .users
                .get(&t.user_id)
                .is_some_and(|u| u.kind.bot_of() == Some(owner))
        })
        .ok_or(ApiError::NotFound("Token"))
}

/// An access token as GitLab shows it, with its bot user's role in the namespace.
fn access_token_view<'t>(
    world: &World,
    owner: Source,
    token: &'t PersonalAccessToken,
    today: NaiveDate,
) -> views::TokenView<'t> {
    let level = world.members.get(&(owner, token.user_id)).copied().unwrap_or(0);
    views::resource_access_token(token, level, today)
}

fn scopes_param(params: &Params, allowed: &[&str]) -> ApiResult<Vec<String>> {
    let scopes = params.list("scopes");
    if scopes.is_empty() {
        return Err(ApiError::BadRequest("scopes is missing".to_owned()));
    }
    if let Some(bad) = scopes.iter().find(|s| !allowed.contains(&s.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "scopes does not have a valid value: {bad}"
        )));
    }
    Ok(scopes)
}

/// `expires_at` of a new token: in the future, at most a year away; required unless `default_days`
/// says how far away it is when left out.
fn expiry_param(params: &Params, today: NaiveDate, default_days: Option<u64>) -> ApiResult<NaiveDate> {
    let date = match params.string("expires_at") {
        Some(value) => value
            .get(..10)
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .ok_or_else(|| ApiError::BadRequest("expires_at is invalid".to_owned()))?,
        None => match default_days {
            Some(days) => today.checked_add_days(Days::new(days)).unwrap_or(today),
            None => return Err(ApiError::BadRequest("expires_at is missing".to_owned())),
        },
    };
    let latest = today.checked_add_days(Days::new(MAX_LIFETIME_DAYS)).unwrap_or(today);
    if date <= today {
        return Err(ApiError::Validation("Expiration date must be in the future".to_owned()));
    }
    if date > latest {
        return Err(ApiError::Validation(format!(
            "Expiration date must be before {}",
            latest.format("%Y-%m-%d")
        )));
    }
    Ok(date)
}

fn new_secret(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    let tail: String = (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn new_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Rotation as GitLab does it: the old token is revoked and a new one, with a new id, the same
/// name, scopes and user, is issued. Rotating a revoked token fails.
fn rotate(world: &mut World, token_id: Id, params: &Params, today: NaiveDate) -> ApiResult<Id> {
    let expires_at = expiry_param(params, today, Some(7))?;
    let old = world
        .personal_access_tokens
        .get_mut(&token_id)
        .ok_or(ApiError::NotFound("Token"))?;
    if old.revoked || old.expired(today) {
        return Err(ApiError::BadRequest("Token already revoked".to_owned()));
    }
    old.revoked = true;
    let successor = NewToken {
        user_id: old.user_id,
        name: old.name.clone(),
        description: old.description.clone(),
        scopes: old.scopes.clone(),
        expires_at: Some(expires_at),
    };
    Ok(world.issue_token(successor, |_| new_secret("glpat-")))
}

fn created(value: serde_json::Value) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

// Project and group access tokens.

pub async fn list_access_tokens<N: Namespace>(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let (owner, _) = namespace::<N>(&api, &world, &id, N::MANAGES_ACCESS_TOKENS)?;
    let filter = TokenFilter::new(&api)?;
    let mut tokens: Vec<&PersonalAccessToken> = world
        .resource_tokens(owner)
        .into_iter()
        .filter(|t| filter.keeps(t))
        .collect();
    sort_tokens(&api, &mut tokens)?;
    let today = api.state.today();
    paging::offset(&api.query, tokens.into_iter(), |t| {
        access_token_view(&world, owner, t, today)
    })
}

pub async fn get_access_token<N: Namespace>(
    api: Api,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let world = api.world();
    let (owner, _) = namespace::<N>(&api, &world, &id, N::MANAGES_ACCESS_TOKENS)?;
    let token = access_token(&world, owner, &token_id)?;
    Ok(Json(access_token_view(&world, owner, token, api.state.today())).into_response())
}

/// A new access token: its bot user, with the role asked (Maintainer unless told, never above the
/// caller's), and the token, shown once with its secret.
pub async fn create_access_token<N: Namespace>(
    api: Api,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let (owner, role) = namespace::<N>(&api, &api.world(), &id, N::MANAGES_ACCESS_TOKENS)?;
    let name = params.required("name")?;
    let scopes = scopes_param(&params, TOKEN_SCOPES)?;
    let today = api.state.today();
    let expires_at = expiry_param(&params, today, None)?;
    let level = params.number("access_level")?.map(|n| n as u8).unwrap_or(MAINTAINER);
    if !ACCESS_LEVELS.contains(&level) {
        return Err(ApiError::BadRequest(
            "access_level does not have a valid value".to_owned(),
        ));
    }
    if level > role {
        return Err(ApiError::Validation(
            "Access level of the token can't be greater the access level of the user who created the token".to_owned(),
        ));
    }
    let mut world = api.world_mut();
    let new = NewAccessToken {
        owner,
        name,
        description: params.string("description"),
        scopes,
        access_level: level,
        expires_at: Some(expires_at),
    };
    let (_, id) = world.create_access_token(new, |_| new_hex(32), |_| new_secret("glpat-"));
    let token = &world.personal_access_tokens[&id];
    Ok(created(views::with_secret(
        access_token_view(&world, owner, token, today),
        &token.secret,
    )))
}

pub async fn rotate_access_token<N: Namespace>(
    api: Api,
    Path((id, token_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let (owner, _) = namespace::<N>(&api, &api.world(), &id, N::MANAGES_ACCESS_TOKENS)?;
    let today = api.state.today();
    let mut world = api.world_mut();
    let old = access_token(&world, owner, &token_id)?.id;
    let new = rotate(&mut world, old, &params, today)?;
    let token = &world.personal_access_tokens[&new];
    Ok(Json(views::with_secret(
        access_token_view(&world, owner, token, today),
        &token.secret,
    ))
    .into_response())
}

pub async fn revoke_access_token<N: Namespace>(
    api: Api,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (owner, _) = namespace::<N>(&api, &api.world(), &id, N::MANAGES_ACCESS_TOKENS)?;
    let mut world = api.world_mut();
    let id = access_token(&world, owner, &token_id)?.id;
    if let Some(token) = world.personal_access_tokens.get_mut(&id) {
        token.revoked = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// Deploy tokens.

fn list_deploy(api: &Api, world: &World, owner: Option<Source>) -> ApiResult<Response> {
    let now = api.state.now();
    let active = api.query.flag("active")?;
    let tokens: Box<dyn Iterator<Item = &DeployToken>> = match owner {
        Some(owner) => Box::new(
            world
                .index
                .deploy_tokens_of
                .get(&owner)
                .into_iter()
                .flatten()
                .filter_map(|id| world.deploy_tokens.get(id)),
        ),
        None => Box::new(world.deploy_tokens.values()),
    };
    match active {
        None => paging::offset(&api.query, tokens, |t| views::deploy_token(t, now)),
        Some(active) => paging::offset(
            &api.query,
            tokens.filter(move |t| (!t.revoked && !t.expired(now)) == active),
            |t| views::deploy_token(t, now),
        ),
    }
}

fn deploy_token_of<'w>(world: &'w World, owner: Source, token_id: &str) -> ApiResult<&'w DeployToken> {
    token_id
        .parse::<Id>()
        .ok()
        .and_then(|id| world.deploy_tokens.get(&id))
        .filter(|t| t.owner == owner)
        .ok_or(ApiError::NotFound("Deploy Token"))
}

pub async fn list_all_deploy_tokens(api: Api) -> ApiResult<Response> {
    if !api.caller.is_admin {
        return Err(ApiError::Forbidden);
    }
    list_deploy(&api, &api.world(), None)
}

/// A project's or group's deploy tokens: Maintainers list them.
pub async fn list_deploy_tokens<N: Namespace>(api: Api, Path(id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let (owner, _) = namespace::<N>(&api, &world, &id, MAINTAINER)?;
    list_deploy(&api, &world, Some(owner))
}

pub async fn get_deploy_token<N: Namespace>(
    api: Api,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let world = api.world();
    let (owner, _) = namespace::<N>(&api, &world, &id, MAINTAINER)?;
    let token = deploy_token_of(&world, owner, &token_id)?;
    Ok(Json(views::deploy_token(token, api.state.now())).into_response())
}

pub async fn create_deploy_token<N: Namespace>(
    api: Api,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let (owner, _) = namespace::<N>(&api, &api.world(), &id, N::MANAGES_DEPLOY_TOKENS)?;
    let name = params.required("name")?;
    let scopes = scopes_param(&params, DEPLOY_SCOPES)?;
    let expires_at = params
        .string("expires_at")
        .map(|value| parse_time(&value).ok_or_else(|| ApiError::BadRequest("expires_at is invalid".to_owned())))
        .transpose()?;
    let mut world = api.world_mut();
    let id = world.new_deploy_token_id();
    let secret = new_secret("gldt-");
    let username = params
        .string("username")
        .unwrap_or_else(|| format!("gitlab+deploy-token-{id}"));
    let token = DeployToken {
        id,
        name,
        username,
        scopes,
        expires_at,
        revoked: false,
        owner,
        secret: secret.clone(),
    };
    let value = views::with_secret(views::deploy_token(&token, api.state.now()), &secret);
    world.deploy_tokens.insert(id, token);
    Ok(created(value))
}

pub async fn delete_deploy_token<N: Namespace>(
    api: Api,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (owner, _) = namespace::<N>(&api, &api.world(), &id, N::MANAGES_DEPLOY_TOKENS)?;
    let mut world = api.world_mut();
    let id = deploy_token_of(&world, owner, &token_id)?.id;
    world.deploy_tokens.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

// Personal access tokens.

/// An administrator lists every personal access token (bots' and service accounts' included);
/// anyone else, their own.
pub async fn list_personal_access_tokens(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let filter = TokenFilter::new(&api)?;
    let user_id = api.query.number("user_id")?;
    let only_user = if api.caller.is_admin {
        user_id
    } else {
        Some(api.caller.user_id)
    };
    if !api.caller.is_admin && user_id.is_some_and(|u| u != api.caller.user_id) {
        return Err(ApiError::Forbidden);
    }
    let today = api.state.today();
    let of_user = |user: Id| {
        world
            .index
            .tokens_of_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| world.personal_access_tokens.get(id))
    };
    if api.query.get("sort").is_none() {
        if only_user.is_none() && filter.is_empty() {
            let tokens = &world.personal_access_tokens;
            return paging::offset(&api.query, world.index.token_ids.iter(), |id| {
                views::personal_access_token(&tokens[id], today)
            });
        }
        let tokens: Box<dyn Iterator<Item = &PersonalAccessToken>> = match only_user {
            Some(user) => Box::new(of_user(user)),
            None => Box::new(world.personal_access_tokens.values()),
        };
        if filter.is_empty() {
            return paging::offset(&api.query, tokens, |t| views::personal_access_token(t, today));
        }
        let tokens = tokens.filter(|t| filter.keeps(t));
        return paging::offset(&api.query, tokens, |t| views::personal_access_token(t, today));
    }
    let mut tokens: Vec<&PersonalAccessToken> = world
        .personal_access_tokens
        .values()
        .filter(|t| only_user.is_none_or(|u| t.user_id == u))
        .filter(|t| filter.keeps(t))
        .collect();
    sort_tokens(&api, &mut tokens)?;
    paging::offset(&api.query, tokens.into_iter(), |t| {
        views::personal_access_token(t, today)
    })
}

fn own_or_admin<'w>(api: &Api, world: &'w World, token_id: &str) -> ApiResult<&'w PersonalAccessToken> {
    let token = token_id
        .parse::<Id>()
        .ok()
        .and_then(|id| world.personal_access_tokens.get(&id))
        .ok_or(ApiError::NotFound("Personal Access Token"))?;
    if api.caller.is_admin || token.user_id == api.caller.user_id {
        Ok(token)
    } else {
        Err(ApiError::NotFound("Personal Access Token"))
    }
}

pub async fn get_own_personal_access_token(api: Api) -> ApiResult<Response> {
    let world = api.world();
    let token = api
        .caller
        .token_id
        .and_then(|id| world.personal_access_tokens.get(&id))
        .ok_or(ApiError::NotFound("Personal Access Token"))?;
    Ok(Json(views::personal_access_token(token, api.state.today())).into_response())
}

pub async fn get_personal_access_token(api: Api, Path(token_id): Path<String>) -> ApiResult<Response> {
    let world = api.world();
    let token = own_or_admin(&api, &world, &token_id)?;
    Ok(Json(views::personal_access_token(token, api.state.today())).into_response())
}

pub async fn revoke_personal_access_token(api: Api, Path(token_id): Path<String>) -> ApiResult<Response> {
    let mut world = api.world_mut();
    let id = own_or_admin(&api, &world, &token_id)?.id;
    if let Some(token) = world.personal_access_tokens.get_mut(&id) {
        token.revoked = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate_personal_access_token(
    api: Api,
    Path(token_id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let today = api.state.today();
    let mut world = api.world_mut();
    let old = own_or_admin(&api, &world, &token_id)?.id;
    let new = rotate(&mut world, old, &params, today)?;
    let token = &world.personal_access_tokens[&new];
    Ok(Json(views::with_secret(
        views::personal_access_token(token, today),
        &token.secret,
    ))
    .into_response())
}

// Service accounts' tokens (group service accounts, managed by the top-level group's Owners).

fn service_account(api: &Api, world: &World, group: &str, user: &str) -> ApiResult<Id> {
    let group = super::users::service_account_group(api, world, group)?;
    let user = user
        .parse::<Id>()
        .ok()
        .and_then(|id| world.users.get(&id))
        .filter(|u| u.kind == UserKind::GroupServiceAccount { group_id: group })
        .ok_or(ApiError::NotFound("User"))?;
    Ok(user.id)
}

pub async fn list_service_account_tokens(api: Api, Path((group, user)): Path<(String, String)>) -> ApiResult<Response> {
    let world = api.world();
    let user = service_account(&api, &world, &group, &user)?;
    let filter = TokenFilter::new(&api)?;
    let today = api.state.today();
    let tokens = world
        .personal_access_tokens
        .values()
        .filter(|t| t.user_id == user)
        .filter(|t| filter.keeps(t));
    paging::offset(&api.query, tokens, |t| views::personal_access_token(t, today))
}

/// A service account's new token: the scopes of a personal access token but the administrator
/// ones; without `expires_at` it lives the maximum lifetime, as GitLab sets it.
pub async fn create_service_account_token(
    api: Api,
    Path((group, user)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let user = service_account(&api, &api.world(), &group, &user)?;
    let name = params.required("name")?;
    let scopes = scopes_param(&params, SERVICE_ACCOUNT_SCOPES)?;
    let today = api.state.today();
    let expires_at = expiry_param(&params, today, Some(MAX_LIFETIME_DAYS))?;
    let mut world = api.world_mut();
    let new = NewToken {
        user_id: user,
        name,
        description: params.string("description"),
        scopes,
        expires_at: Some(expires_at),
    };
    let id = world.issue_token(new, |_| new_secret("glpat-"));
    let token = &world.personal_access_tokens[&id];
    Ok(created(views::with_secret(
        views::personal_access_token(token, today),
        &token.secret,
    )))
}

pub async fn revoke_service_account_token(
    api: Api,
    Path((group, user, token_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let mut world = api.world_mut();
    let user = service_account(&api, &world, &group, &user)?;
    let token = token_id
        .parse::<Id>()
        .ok()
        .and_then(|id| world.personal_access_tokens.get_mut(&id))
        .filter(|t| t.user_id == user)
        .ok_or(ApiError::NotFound("Personal Access Token"))?;
    token.revoked = true;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate_service_account_token(
    api: Api,
    Path((group, user, token_id)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let today = api.state.today();
    let mut world = api.world_mut();
    let user = service_account(&api, &world, &group, &user)?;
    let old = token_id
        .parse::<Id>()
        .ok()
        .filter(|id| world.personal_access_tokens.get(id).is_some_and(|t| t.user_id == user))
        .ok_or(ApiError::NotFound("Personal Access Token"))?;
    let new = rotate(&mut world, old, &params, today)?;
    let token = &world.personal_access_tokens[&new];
    Ok(Json(views::with_secret(
        views::personal_access_token(token, today),
        &token.secret,
    ))
    .into_response())
}
