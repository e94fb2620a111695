//! What sync stores of GitLab's answers: groups, projects, tokens and memberships as records.

use std::collections::{HashMap, HashSet};

use app::domain::{
    AccessLevel, AccountMembership, ContainerKind, GroupRecord, ProjectRecord, TokenKind, TokenRecord, UnknownScope,
};

use super::client::{ApiAccessToken, ApiDeployToken, ApiGroup, ApiMembership, ApiProject};

pub(super) fn group_record(group: &ApiGroup) -> GroupRecord {
    GroupRecord {
        gitlab_id: group.id,
        full_path: group.full_path.clone(),
        parent_gitlab_id: group.parent_id,
        web_url: group.web_url.clone(),
    }
}

pub(super) fn project_record(project: &ApiProject) -> ProjectRecord {
    ProjectRecord {
        gitlab_id: project.id,
        path_with_namespace: project.path_with_namespace.clone(),
        namespace_gitlab_id: project.namespace.as_ref().map(|n| n.id),
        web_url: project.web_url.clone(),
        archived: project.archived,
    }
}

/// Where a token lives: kind, GitLab id and full path.
#[derive(Debug, Clone)]
pub(super) struct Container {
    pub kind: ContainerKind,
    pub id: Option<i64>,
    pub path: String,
}

impl Container {
    pub fn project(project: &ApiProject) -> Self {
        Container {
            kind: ContainerKind::Project,
            id: Some(project.id),
            path: project.path_with_namespace.clone(),
        }
    }

    pub fn group(group: &ApiGroup) -> Self {
        Container {
            kind: ContainerKind::Group,
            id: Some(group.id),
            path: group.full_path.clone(),
        }
    }

    pub fn api_path(&self) -> String {
        match (self.kind, self.id) {
            (ContainerKind::Project, Some(id)) => format!("/projects/{id}"),
            (ContainerKind::Group, Some(id)) => format!("/groups/{id}"),
            _ => String::new(),
        }
    }

    /// The access tokens a project or group holds.
    pub fn access_kind(&self) -> TokenKind {
        if self.kind == ContainerKind::Project {
            TokenKind::ProjectAccess
        } else {
            TokenKind::GroupAccess
        }
    }

    pub fn unknown(&self, kind: TokenKind) -> UnknownScope {
        UnknownScope {
            kind: Some(kind),
            container: self.id.map(|id| (self.kind, id)),
        }
    }
}

pub(super) fn access_token_record(
    token: ApiAccessToken,
    kind: TokenKind,
    container: &Container,
    usernames: &HashMap<i64, String>,
) -> TokenRecord {
    TokenRecord {
        kind,
        gitlab_id: token.id,
        name: token.name,
        description: token.description.filter(|d| !d.is_empty()),
        container_kind: container.kind,
        container_gitlab_id: container.id,
        container_path: container.path.clone(),
        account_gitlab_id: token.user_id,
        account_username: token.user_id.and_then(|id| usernames.get(&id).cloned()),
        scopes: token.scopes,
        access_level: token.access_level.and_then(|level| AccessLevel::try_from(level).ok()),
        created_at: token.created_at,
        expires_on: token.expires_at,
        last_used_at: token.last_used_at,
        revoked: token.revoked,
        active: token.active,
    }
}

pub(super) fn deploy_token_record(token: ApiDeployToken, container: &Container) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::Deploy,
        gitlab_id: token.id,
        name: token.name,
        description: None,
        container_kind: container.kind,
        container_gitlab_id: container.id,
        container_path: container.path.clone(),
        account_gitlab_id: None,
        account_username: Some(token.username),
        scopes: token.scopes,
        access_level: None,
        created_at: None,
        expires_on: token.expires_at.map(|at| at.date_naive()),
        last_used_at: None,
        revoked: token.revoked,
        active: !token.revoked && !token.expired,
    }
}

/// Full paths by (group or project, GitLab id).
pub(super) type SourcePaths = HashMap<(ContainerKind, i64), String>;

pub(super) fn source_paths(groups: &[ApiGroup], projects: &[ApiProject]) -> SourcePaths {
    groups
        .iter()
        .map(|g| ((ContainerKind::Group, g.id), g.full_path.clone()))
        .chain(
            projects
                .iter()
                .map(|p| ((ContainerKind::Project, p.id), p.path_with_namespace.clone())),
        )
        .collect()
}

/// What to store of one account's listing: its groups and projects that sync knows, each once
/// (GitLab may list a source twice while a membership changes between pages; the first wins).
pub(super) fn membership_records(found: &[ApiMembership], paths: &SourcePaths) -> Vec<AccountMembership> {
    let mut sources = HashSet::new();
    found
        .iter()
        .filter_map(|membership| membership_record(membership, paths))
        .filter(|membership| sources.insert((membership.source_kind, membership.source_gitlab_id)))
        .collect()
}

/// A membership as stored, or `None` for one the inventory leaves out: of a group or project
/// outside the groups sync reads (or created since they were listed), or at a level that is no
/// role (Minimal Access reaches nothing a token could use).
fn membership_record(membership: &ApiMembership, paths: &SourcePaths) -> Option<AccountMembership> {
    let kind = match membership.source_type.as_str() {
        "Namespace" => ContainerKind::Group,
        "Project" => ContainerKind::Project,
        _ => return None,
    };
    Some(AccountMembership {
        source_kind: kind,
        source_gitlab_id: membership.source_id,
        source_path: paths.get(&(kind, membership.source_id))?.clone(),
        access_level: AccessLevel::try_from(membership.access_levels).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(source_type: &str, source_id: i64, access_levels: i32) -> ApiMembership {
        ApiMembership {
            source_id,
            source_type: source_type.to_owned(),
            access_levels,
        }
    }

    #[test]
    fn a_membership_listing_keeps_each_known_group_or_project_once() {
        let paths: SourcePaths = [
            ((ContainerKind::Group, 7), "acme".to_owned()),
            ((ContainerKind::Project, 7), "acme/api".to_owned()),
        ]
        .into();
        let found = [
            listed("Namespace", 7, 30),
            listed("Project", 7, 40),
            listed("Namespace", 7, 40), // listed again, on the next page
            listed("Project", 8, 30),   // not synced: left out
            listed("Namespace", 7, 0),
            listed("Epic", 7, 30), // not a group or a project
        ];
        let records = membership_records(&found, &paths);
        let kept: Vec<(ContainerKind, i64, &str, AccessLevel)> = records
            .iter()
            .map(|m| {
                (
                    m.source_kind,
                    m.source_gitlab_id,
                    m.source_path.as_str(),
                    m.access_level,
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                (ContainerKind::Group, 7, "acme", AccessLevel::Developer),
                (ContainerKind::Project, 7, "acme/api", AccessLevel::Maintainer),
            ]
        );
    }
}
