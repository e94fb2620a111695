//! The JSON GitLab returns for each kind of object.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::model::*;

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_time(at: Option<DateTime<Utc>>) -> Value {
    at.map(|at| Value::String(time(at))).unwrap_or(Value::Null)
}

fn opt_date(date: Option<NaiveDate>) -> Value {
    date.map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(Value::Null)
}

pub fn group(base: &str, group: &Group) -> Value {
    json!({
        "id": group.id,
        "web_url": format!("{base}/groups/{}", group.full_path),
        "name": group.name,
        "path": group.path,
        "description": group.description,
        "visibility": "private",
        "share_with_group_lock": false,
        "require_two_factor_authentication": false,
        "project_creation_level": "developer",
        "subgroup_creation_level": "maintainer",
        "lfs_enabled": true,
        "avatar_url": null,
        "request_access_enabled": false,
        "full_name": group.full_name,
        "full_path": group.full_path,
        "created_at": time(group.created_at),
        "parent_id": group.parent_id,
        "marked_for_deletion_on": null,
    })
}

pub fn namespace(base: &str, group: &Group) -> Value {
    json!({
        "id": group.id,
        "name": group.name,
        "path": group.path,
        "kind": "group",
        "full_path": group.full_path,
        "parent_id": group.parent_id,
        "avatar_url": null,
        "web_url": format!("{base}/groups/{}", group.full_path),
    })
}

pub fn project(base: &str, world: &World, project: &Project, simple: bool) -> Value {
    let namespace = world
        .groups
        .get(&project.namespace_id)
        .map(|g| namespace(base, g))
        .unwrap_or(Value::Null);
    let name_with_namespace = world
        .groups
        .get(&project.namespace_id)
        .map(|g| format!("{} / {}", g.full_name, project.name))
        .unwrap_or_else(|| project.name.clone());
    let web_url = format!("{base}/{}", project.path_with_namespace);
    let mut value = json!({
        "id": project.id,
        "description": project.description,
        "name": project.name,
        "name_with_namespace": name_with_namespace,
        "path": project.path,
        "path_with_namespace": project.path_with_namespace,
        "created_at": time(project.created_at),
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@gitlab.example.com:{}.git", project.path_with_namespace),
        "http_url_to_repo": format!("{web_url}.git"),
        "web_url": web_url,
        "avatar_url": null,
        "star_count": 0,
        "last_activity_at": time(project.created_at),
        "namespace": namespace,
    });
    if !simple && let Some(object) = value.as_object_mut() {
        object.insert("archived".to_owned(), json!(project.archived));
        object.insert("visibility".to_owned(), json!("private"));
        object.insert("empty_repo".to_owned(), json!(false));
    }
    value
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

/// A personal access token as `/personal_access_tokens` shows it.
pub fn personal_access_token(token: &PersonalAccessToken, today: NaiveDate) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "revoked": token.revoked,
        "created_at": time(token.created_at),
        "description": token.description,
        "scopes": token.scopes,
        "user_id": token.user_id,
        "last_used_at": opt_time(token.last_used_at),
        "active": token.active(today),
        "expires_at": opt_date(token.expires_at),
    })
}

/// A project or group access token: a personal access token plus the bot's access level.
pub fn resource_access_token(token: &PersonalAccessToken, access_level: u8, today: NaiveDate) -> Value {
    let mut value = personal_access_token(token, today);
    if let Some(object) = value.as_object_mut() {
        object.insert("access_level".to_owned(), json!(access_level));
    }
    value
}

pub fn deploy_token(token: &DeployToken, now: DateTime<Utc>) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "username": token.username,
        "expires_at": opt_time(token.expires_at),
        "revoked": token.revoked,
        "expired": token.expired(now),
        "scopes": token.scopes,
    })
}

/// Adds the secret to a create or rotate response.
pub fn with_secret(mut value: Value, secret: &str) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("token".to_owned(), json!(secret));
    }
    value
}
