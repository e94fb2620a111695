//! What sync stores of GitLab's answers: groups, projects, tokens and memberships as records.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

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

pub(super) fn project_record(project: ApiProject) -> ProjectRecord {
    ProjectRecord {
        gitlab_id: project.id,
        path_with_namespace: project.path_with_namespace,
        namespace_gitlab_id: project.namespace.map(|n| n.id),
        web_url: project.web_url,
        archived: project.archived,
    }
}

/// Where a token lives: kind, GitLab id and full path. The path is shared by every listing of
/// the container (its deploy and its access tokens), not copied for each.
#[derive(Debug, Clone)]
pub(super) struct Container {
    pub kind: ContainerKind,
    pub id: Option<i64>,
    pub path: Arc<str>,
}

impl Container {
    pub fn project(project: &ApiProject) -> Self {
        Container {
            kind: ContainerKind::Project,
            id: Some(project.id),
            path: Arc::from(project.path_with_namespace.as_str()),
        }
    }

    pub fn group(group: &ApiGroup) -> Self {
        Container {
            kind: ContainerKind::Group,
            id: Some(group.id),
            path: Arc::from(group.full_path.as_str()),
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
    usernames: &Usernames,
) -> TokenRecord {
    TokenRecord {
        kind,
        gitlab_id: token.id,
        name: token.name,
        description: token.description.filter(|d| !d.is_empty()),
        container_kind: container.kind,
        container_gitlab_id: container.id,
        container_path: container.path.to_string(),
        account_gitlab_id: token.user_id,
        account_username: token.user_id.and_then(|id| usernames.get(id)).map(str::to_owned),
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
        container_path: container.path.to_string(),
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

/// The usernames of the accounts whose tokens sync lists, by user id, packed: their text in
/// blocks of `BLOCK` bytes, and a list by id of where each one is. A million bots' names take
/// about 40 MB so, where a map of strings took 75 MB.
#[derive(Debug, Default)]
pub(super) struct Usernames {
    /// (user id, where its name starts in `blocks` taken end to end, its length), by id.
    places: Vec<(i64, u32, u32)>,
    blocks: Vec<String>,
}

impl Usernames {
    /// The size of a block of text: big enough that blocks are few, small enough that a new one
    /// costs little.
    const BLOCK: usize = 1 << 20;

    /// Adds a user's name. In the order of ids (as GitLab's keyset listing gives them) it is
    /// added at the end; otherwise it is put in its place. A user added twice keeps the first
    /// name.
    pub fn insert(&mut self, id: i64, name: &str) {
        let at = match self.places.last() {
            Some((last, ..)) if *last < id => self.places.len(),
            None => 0,
            _ => match self.places.binary_search_by_key(&id, |(id, ..)| *id) {
                Ok(_) => return,
                Err(at) => at,
            },
        };
        // GitLab's usernames are at most 255 characters; a longer one than a block is not kept.
        if name.len() > Self::BLOCK {
            return;
        }
        if self
            .blocks
            .last()
            .is_none_or(|block| block.len() + name.len() > Self::BLOCK)
        {
            self.blocks.push(String::with_capacity(Self::BLOCK));
        }
        let block = self.blocks.len() - 1;
        let text = &mut self.blocks[block];
        // Positions fit in a u32 up to 4 GiB of names; a name past that is not kept (never in
        // practice: a million names take about 20 MiB).
        let Ok(start) = u32::try_from(block * Self::BLOCK + text.len()) else {
            return;
        };
        text.push_str(name);
        self.places.insert(at, (id, start, name.len() as u32));
    }

    pub fn get(&self, id: i64) -> Option<&str> {
        let at = self.places.binary_search_by_key(&id, |(id, ..)| *id).ok()?;
        let (_, start, len) = self.places[at];
        let (block, offset) = (start as usize / Self::BLOCK, start as usize % Self::BLOCK);
        self.blocks.get(block)?.get(offset..offset + len as usize)
    }

    /// Lets go of the room reserved for names still to come.
    pub fn shrink_to_fit(&mut self) {
        self.places.shrink_to_fit();
        if let Some(block) = self.blocks.last_mut() {
            block.shrink_to_fit();
        }
    }
}

impl<'a> FromIterator<(i64, &'a str)> for Usernames {
    fn from_iter<I: IntoIterator<Item = (i64, &'a str)>>(names: I) -> Self {
        let mut usernames = Usernames::default();
        for (id, name) in names {
            usernames.insert(id, name);
        }
        usernames
    }
}

/// Full paths by (group or project, GitLab id).
pub(super) type SourcePaths = HashMap<(ContainerKind, i64), Arc<str>>;

pub(super) fn source_paths(groups: &[ApiGroup], projects: &[Container]) -> SourcePaths {
    groups
        .iter()
        .map(|g| ((ContainerKind::Group, g.id), Arc::from(g.full_path.as_str())))
        .chain(
            projects
                .iter()
                .filter_map(|p| Some(((ContainerKind::Project, p.id?), p.path.clone()))),
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
        source_path: paths.get(&(kind, membership.source_id))?.to_string(),
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
    fn a_username_is_found_by_its_id_whatever_order_the_ids_came_in() {
        let mut names = Usernames::default();
        names.insert(5, "project_5_bot_a1");
        names.insert(9, "group_9_bot_b2");
        names.insert(2, "service_account_c3"); // before the others
        names.insert(5, "renamed"); // again: the first name stays
        assert_eq!(names.get(2), Some("service_account_c3"));
        assert_eq!(names.get(5), Some("project_5_bot_a1"));
        assert_eq!(names.get(9), Some("group_9_bot_b2"));
        assert_eq!(names.get(7), None);
        names.shrink_to_fit();
        assert_eq!(names.get(9), Some("group_9_bot_b2"));
    }

    #[test]
    fn usernames_filling_several_blocks_are_each_read_whole() {
        let listed: Vec<(i64, String)> = (0..120_000)
            .map(|id| (id, format!("project_{id}_bot_{:x}", id * 7_919)))
            .collect();
        let names: Usernames = listed.iter().map(|(id, name)| (*id, name.as_str())).collect();
        assert!(names.blocks.len() > 1, "the names fill more than one block");
        for (id, name) in &listed {
            assert_eq!(names.get(*id), Some(name.as_str()));
        }
    }

    #[test]
    fn a_membership_listing_keeps_each_known_group_or_project_once() {
        let paths: SourcePaths = [
            ((ContainerKind::Group, 7), Arc::from("acme")),
            ((ContainerKind::Project, 7), Arc::from("acme/api")),
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
