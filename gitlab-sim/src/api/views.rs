//! The JSON GitLab returns for each kind of object.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::*;

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A timestamp as GitLab writes it (`2024-01-31T12:00:00.000Z`), serialized without building a
/// string first.
#[derive(Clone, Copy)]
pub struct Time(pub DateTime<Utc>);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        s.collect_str(&format_args!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis().min(999)
        ))
    }
}

/// A date as GitLab writes it (`2024-01-31`).
#[derive(Clone, Copy)]
pub struct Date(pub NaiveDate);

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        s.collect_str(&format_args!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
    }
}

/// `{base}/{path}` written straight into the output.
pub struct Url<'a>(&'a str, &'static str, &'a str, &'static str);

impl Serialize for Url<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}{}{}{}", self.0, self.1, self.2, self.3))
    }
}

#[derive(Serialize)]
pub struct GroupView<'a> {
    id: Id,
    web_url: Url<'a>,
    name: &'a str,
    path: &'a str,
    description: &'a str,
    visibility: &'static str,
    share_with_group_lock: bool,
    require_two_factor_authentication: bool,
    project_creation_level: &'static str,
    subgroup_creation_level: &'static str,
    lfs_enabled: bool,
    avatar_url: Option<&'static str>,
    request_access_enabled: bool,
    full_name: &'a str,
    full_path: &'a str,
    created_at: Time,
    parent_id: Option<Id>,
    marked_for_deletion_on: Option<&'static str>,
}

pub fn group<'a>(base: &'a str, group: &'a Group) -> GroupView<'a> {
    GroupView {
        id: group.id,
        web_url: Url(base, "/groups/", &group.full_path, ""),
        name: &group.name,
        path: &group.path,
        description: &group.description,
        visibility: "private",
        share_with_group_lock: false,
        require_two_factor_authentication: false,
        project_creation_level: "developer",
        subgroup_creation_level: "maintainer",
        lfs_enabled: true,
        avatar_url: None,
        request_access_enabled: false,
        full_name: &group.full_name,
        full_path: &group.full_path,
        created_at: Time(group.created_at),
        parent_id: group.parent_id,
        marked_for_deletion_on: None,
    }
}

#[derive(Serialize)]
pub struct NamespaceView<'a> {
    id: Id,
    name: &'a str,
    path: &'a str,
    kind: &'static str,
    full_path: &'a str,
    parent_id: Option<Id>,
    avatar_url: Option<&'static str>,
    web_url: Url<'a>,
}

pub fn namespace<'a>(base: &'a str, group: &'a Group) -> NamespaceView<'a> {
    NamespaceView {
        id: group.id,
        name: &group.name,
        path: &group.path,
        kind: "group",
        full_path: &group.full_path,
        parent_id: group.parent_id,
        avatar_url: None,
        web_url: Url(base, "/groups/", &group.full_path, ""),
    }
}

/// `{group full name} / {project name}`.
pub struct NameWithNamespace<'a>(Option<&'a str>, &'a str);

impl Serialize for NameWithNamespace<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(group) => s.collect_str(&format_args!("{group} / {}", self.1)),
            None => s.serialize_str(self.1),
        }
    }
}

#[derive(Serialize)]
pub struct ProjectView<'a> {
    id: Id,
    description: &'a str,
    name: &'a str,
    name_with_namespace: NameWithNamespace<'a>,
    path: &'a str,
    path_with_namespace: &'a str,
    created_at: Time,
    default_branch: &'static str,
    tag_list: [&'static str; 0],
    topics: [&'static str; 0],
    ssh_url_to_repo: Url<'a>,
    http_url_to_repo: Url<'a>,
    web_url: Url<'a>,
    avatar_url: Option<&'static str>,
    star_count: u32,
    last_activity_at: Time,
    namespace: Option<NamespaceView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty_repo: Option<bool>,
}

pub fn project<'a>(base: &'a str, world: &'a World, project: &'a Project, simple: bool) -> ProjectView<'a> {
    let group = world.groups.get(&project.namespace_id);
    ProjectView {
        id: project.id,
        description: &project.description,
        name: &project.name,
        name_with_namespace: NameWithNamespace(group.map(|g| g.full_name.as_str()), &project.name),
        path: &project.path,
        path_with_namespace: &project.path_with_namespace,
        created_at: Time(project.created_at),
        default_branch: "main",
        tag_list: [],
        topics: [],
        ssh_url_to_repo: Url("git@gitlab.example.com", ":", &project.path_with_namespace, ".git"),
        http_url_to_repo: Url(base, "/", &project.path_with_namespace, ".git"),
        web_url: Url(base, "/", &project.path_with_namespace, ""),
        avatar_url: None,
        star_count: 0,
        last_activity_at: Time(project.created_at),
        namespace: group.map(|g| namespace(base, g)),
        archived: (!simple).then_some(project.archived),
        visibility: (!simple).then_some("private"),
        empty_repo: (!simple).then_some(false),
    }
}

pub fn user(base: &str, user: &User, for_admin: bool) -> Value {
    let mut value = json!({
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "locked": false,
        "avatar_url": null,
        "web_url": format!("{base}/{}", user.username),
        "created_at": time(user.created_at),
        "bio": "",
        "bot": user.kind.is_bot(),
        "public_email": null,
    });
    if for_admin && let Some(object) = value.as_object_mut() {
        object.insert("is_admin".to_owned(), json!(user.is_admin));
        object.insert("email".to_owned(), json!(user.email));
    }
    value
}

pub fn member(base: &str, user_value: &User, access_level: u8) -> Value {
    let mut value = user(base, user_value, false);
    if let Some(object) = value.as_object_mut() {
        object.insert("access_level".to_owned(), json!(access_level));
        object.insert("expires_at".to_owned(), Value::Null);
        object.insert("membership_state".to_owned(), json!("active"));
    }
    value
}

/// One of a user's memberships as `/users/:id/memberships` shows it: the group (`Namespace`) or
/// project, by id and full name, and the role.
#[derive(Serialize)]
pub struct MembershipView {
    pub source_id: Id,
    pub source_name: String,
    pub source_type: &'static str,
    pub access_levels: u8,
}

/// `None` when the group or project no longer exists.
pub fn membership(world: &World, source: Source, access_level: u8) -> Option<MembershipView> {
    let (source_id, source_name, source_type) = match source {
        Source::Group(id) => (id, world.groups.get(&id)?.full_name.clone(), "Namespace"),
        Source::Project(id) => {
            let project = world.projects.get(&id)?;
            let name = match world.groups.get(&project.namespace_id) {
                Some(group) => format!("{} / {}", group.full_name, project.name),
                None => project.name.clone(),
            };
            (id, name, "Project")
        }
    };
    Some(MembershipView {
        source_id,
        source_name,
        source_type,
        access_levels: access_level,
    })
}

/// A personal access token as `/personal_access_tokens` shows it; with `access_level` for a
/// project or group access token.
#[derive(Serialize)]
pub struct TokenView<'a> {
    id: Id,
    name: &'a str,
    revoked: bool,
    created_at: Time,
    description: Option<&'a str>,
    scopes: &'a [String],
    user_id: Id,
    last_used_at: Option<Time>,
    active: bool,
    expires_at: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_level: Option<u8>,
}

pub fn personal_access_token(token: &PersonalAccessToken, today: NaiveDate) -> TokenView<'_> {
    TokenView {
        id: token.id,
        name: &token.name,
        revoked: token.revoked,
        created_at: Time(token.created_at),
        description: token.description.as_deref(),
        scopes: &token.scopes,
        user_id: token.user_id,
        last_used_at: token.last_used_at.map(Time),
        active: token.active(today),
        expires_at: token.expires_at.map(Date),
        access_level: None,
    }
}

/// A project or group access token: a personal access token plus the bot's access level.
pub fn resource_access_token(token: &PersonalAccessToken, access_level: u8, today: NaiveDate) -> TokenView<'_> {
    TokenView {
        access_level: Some(access_level),
        ..personal_access_token(token, today)
    }
}

#[derive(Serialize)]
pub struct DeployTokenView<'a> {
    id: Id,
    name: &'a str,
    username: &'a str,
    expires_at: Option<Time>,
    revoked: bool,
    expired: bool,
    scopes: &'a [String],
}

pub fn deploy_token(token: &DeployToken, now: DateTime<Utc>) -> DeployTokenView<'_> {
    DeployTokenView {
        id: token.id,
        name: &token.name,
        username: &token.username,
        expires_at: token.expires_at.map(Time),
        revoked: token.revoked,
        expired: token.expired(now),
        scopes: &token.scopes,
    }
}

/// Adds the secret to a create or rotate response.
pub fn with_secret(value: impl Serialize, secret: &str) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("token".to_owned(), json!(secret));
    }
    value
}
