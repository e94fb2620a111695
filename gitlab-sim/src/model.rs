//! The simulated GitLab's world: groups, projects, users (people, bots, service accounts),
//! personal access tokens (which project and group access tokens are, for their bot users),
//! deploy tokens and memberships. Plain data; the API modules read and change it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub type Id = u64;

/// GitLab's roles by access level.
pub const GUEST: u8 = 10;
pub const PLANNER: u8 = 15;
pub const REPORTER: u8 = 20;
pub const DEVELOPER: u8 = 30;
pub const MAINTAINER: u8 = 40;
pub const OWNER: u8 = 50;
pub const ACCESS_LEVELS: [u8; 6] = [GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER];

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: Id,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub full_name: String,
    pub parent_id: Option<Id>,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: Id,
    pub name: String,
    pub path: String,
    /// The group the project is in.
    pub namespace_id: Id,
    pub path_with_namespace: String,
    pub description: String,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

/// What kind of account a user is; GitLab tells them apart by `bot` and the username prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserKind {
    Human,
    /// The bot user of a project access token.
    ProjectBot {
        project_id: Id,
    },
    /// The bot user of a group access token.
    GroupBot {
        group_id: Id,
    },
    /// A service account of a top-level group.
    GroupServiceAccount {
        group_id: Id,
    },
    /// An instance-wide service account (self-managed).
    InstanceServiceAccount,
}

impl UserKind {
    pub fn is_bot(self) -> bool {
        !matches!(self, UserKind::Human)
    }

    /// The project or group whose access token this bot user is for.
    pub fn bot_of(self) -> Option<Source> {
        match self {
            UserKind::ProjectBot { project_id } => Some(Source::Project(project_id)),
            UserKind::GroupBot { group_id } => Some(Source::Group(group_id)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub name: String,
    pub email: String,
    pub state: String,
    pub is_admin: bool,
    #[serde(flatten)]
    pub kind: UserKind,
    pub created_at: DateTime<Utc>,
}

/// A personal access token. Project and group access tokens are personal access tokens of their
/// bot users; service accounts' tokens are theirs.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalAccessToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<NaiveDate>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The secret. Only in the create and rotate responses, and never in the world dump.
    #[serde(skip)]
    pub secret: String,
}

/// What a new personal access token is given; the rest (its id, creation time, secret) the world
/// gives it ([`World::issue_token`]).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: Id,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<NaiveDate>,
}

/// What a new project or group access token is given ([`World::create_access_token`]).
#[derive(Debug, Clone)]
pub struct NewAccessToken {
    /// The project or group the token is for.
    pub owner: Source,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    /// The bot user's role in `owner`.
    pub access_level: u8,
    pub expires_at: Option<NaiveDate>,
}

impl PersonalAccessToken {
    /// GitLab tokens expire at 00:00 UTC on their expiry date.
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expires_at.is_some_and(|date| date <= today)
    }

    pub fn active(&self, today: NaiveDate) -> bool {
        !self.revoked && !self.expired(today)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Source {
    Group(Id),
    Project(Id),
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployToken {
    pub id: Id,
    pub name: String,
    pub username: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub owner: Source,
    #[serde(skip)]
    pub secret: String,
}

impl DeployToken {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// An OAuth application registered with the simulated GitLab.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthApp {
    pub name: String,
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct World {
    pub groups: BTreeMap<Id, Group>,
    pub projects: BTreeMap<Id, Project>,
    pub users: BTreeMap<Id, User>,
    pub personal_access_tokens: BTreeMap<Id, PersonalAccessToken>,
    pub deploy_tokens: BTreeMap<Id, DeployToken>,
    /// Direct memberships: (source, user) → access level.
    #[serde(serialize_with = "serialize_members")]
    pub members: BTreeMap<(Source, Id), u8>,
    pub oauth_apps: Vec<OAuthApp>,
    #[serde(skip)]
    pub next_id: NextIds,
    /// Secret → personal access token id, so authenticating a request is one look-up.
    #[serde(skip)]
    pub secrets: std::collections::HashMap<String, Id>,
    /// Look-ups the listings need, derived from the maps above (see [`World::reindex`]).
    #[serde(skip)]
    pub index: Index,
}

/// Derived look-ups, so a list page costs what it returns rather than a scan of the world.
/// Rebuilt by [`World::reindex`] whenever the world changes (the write guard does it).
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub subgroups: BTreeMap<Id, BTreeSet<Id>>,
    pub projects_in_group: BTreeMap<Id, BTreeSet<Id>>,
    pub tokens_of_user: BTreeMap<Id, BTreeSet<Id>>,
    /// Every personal access token id in order, so a deep page of the administrator's listing
    /// is a slice, not a walk.
    pub token_ids: Vec<Id>,
    /// The bot users of a project or group (its access tokens' users).
    pub bots_of: BTreeMap<Source, BTreeSet<Id>>,
    pub deploy_tokens_of: BTreeMap<Source, BTreeSet<Id>>,
    /// Direct memberships by user, for access checks.
    pub memberships_of: BTreeMap<Id, BTreeMap<Source, u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct NextIds {
    pub group: Id,
    pub project: Id,
    pub user: Id,
    pub personal_access_token: Id,
    pub deploy_token: Id,
}

fn serialize_members<S: serde::Serializer>(members: &BTreeMap<(Source, Id), u8>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Member {
        source: Source,
        user_id: Id,
        access_level: u8,
    }
    s.collect_seq(members.iter().map(|((source, user_id), level)| Member {
        source: *source,
        user_id: *user_id,
        access_level: *level,
    }))
}

impl World {
    /// Rebuilds [`Index`] from the maps.
    pub fn reindex(&mut self) {
        let mut index = Index::default();
        for group in self.groups.values() {
            if let Some(parent) = group.parent_id {
                index.subgroups.entry(parent).or_default().insert(group.id);
            }
        }
        for project in self.projects.values() {
            index
                .projects_in_group
                .entry(project.namespace_id)
                .or_default()
                .insert(project.id);
        }
        index.token_ids = self.personal_access_tokens.keys().copied().collect();
        for token in self.personal_access_tokens.values() {
            index.tokens_of_user.entry(token.user_id).or_default().insert(token.id);
        }
        for user in self.users.values() {
            if let Some(source) = user.kind.bot_of() {
                index.bots_of.entry(source).or_default().insert(user.id);
            }
        }
        for token in self.deploy_tokens.values() {
            index.deploy_tokens_of.entry(token.owner).or_default().insert(token.id);
        }
        for ((source, user), level) in &self.members {
            index.memberships_of.entry(*user).or_default().insert(*source, *level);
        }
        self.index = index;
    }

    /// The group and every group below it, depth first.
    pub fn group_and_descendants(&self, group_id: Id) -> Vec<Id> {
        let mut found = Vec::new();
        let mut stack = vec![group_id];
        while let Some(id) = stack.pop() {
            found.push(id);
            if let Some(children) = self.index.subgroups.get(&id) {
                stack.extend(children.iter().rev());
            }
        }
        found
    }

    /// The personal access tokens of the bot users of a project or group, by id.
    pub fn resource_tokens(&self, source: Source) -> Vec<&PersonalAccessToken> {
        let mut ids: Vec<Id> = self
            .index
            .bots_of
            .get(&source)
            .into_iter()
            .flatten()
            .flat_map(|bot| self.index.tokens_of_user.get(bot).into_iter().flatten().copied())
            .collect();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| self.personal_access_tokens.get(id))
            .collect()
    }

    pub fn new_group_id(&mut self) -> Id {
        self.next_id.group += 1;
        self.next_id.group
    }

    pub fn new_project_id(&mut self) -> Id {
        self.next_id.project += 1;
        self.next_id.project
    }

    pub fn new_user_id(&mut self) -> Id {
        self.next_id.user += 1;
        self.next_id.user
    }

    pub fn new_personal_access_token_id(&mut self) -> Id {
        self.next_id.personal_access_token += 1;
        self.next_id.personal_access_token
    }

    pub fn new_deploy_token_id(&mut self) -> Id {
        self.next_id.deploy_token += 1;
        self.next_id.deploy_token
    }

    /// The group and its ancestors, nearest first.
    pub fn ancestors(&self, group_id: Id) -> impl Iterator<Item = &Group> {
        std::iter::successors(self.groups.get(&group_id), |group| {
            group.parent_id.and_then(|parent| self.groups.get(&parent))
        })
    }

    /// The top-level group a group or project is under (a top-level group is its own).
    pub fn top_level_group(&self, source: Source) -> Option<Id> {
        let group = match source {
            Source::Group(id) => id,
            Source::Project(id) => self.projects.get(&id)?.namespace_id,
        };
        self.ancestors(group).last().map(|group| group.id)
    }

    /// A user's access to a group: the highest of their memberships in it and its ancestors.
    pub fn group_access(&self, user_id: Id, group_id: Id) -> Option<u8> {
        self.ancestors(group_id)
            .filter_map(|group| self.members.get(&(Source::Group(group.id), user_id)).copied())
            .max()
    }

    /// A user's access to a project: direct membership, or inherited from its groups.
    pub fn project_access(&self, user_id: Id, project_id: Id) -> Option<u8> {
        let project = self.projects.get(&project_id)?;
        let direct = self.members.get(&(Source::Project(project_id), user_id)).copied();
        direct.max(self.group_access(user_id, project.namespace_id))
    }

    /// The token behind a secret, with its user.
    pub fn token_by_secret(&self, secret: &str) -> Option<(&PersonalAccessToken, &User)> {
        let token = self.personal_access_tokens.get(self.secrets.get(secret)?)?;
        Some((token, self.users.get(&token.user_id)?))
    }

    /// Stores a personal access token and indexes its secret.
    pub fn insert_personal_access_token(&mut self, token: PersonalAccessToken) {
        self.secrets.insert(token.secret.clone(), token.id);
        self.personal_access_tokens.insert(token.id, token);
    }

    /// Issues a personal access token, unused and unrevoked, created now; `secret` makes its secret
    /// from its id. Returns the id.
    pub fn issue_token(&mut self, token: NewToken, secret: impl FnOnce(Id) -> String) -> Id {
        let id = self.new_personal_access_token_id();
        self.insert_personal_access_token(PersonalAccessToken {
            id,
            user_id: token.user_id,
            name: token.name,
            description: token.description,
            scopes: token.scopes,
            created_at: Utc::now(),
            expires_at: token.expires_at,
            last_used_at: None,
            revoked: false,
            secret: secret(id),
        });
        id
    }

    /// Creates a project or group access token as GitLab does: a bot user of the owner, named
    /// like the token, with a username ending in `bot_hex` (made from the user's id); its
    /// membership of the owner at the token's access level; and its token, whose secret `secret`
    /// makes from the token's id. Returns the bot user's id and the token's.
    pub fn create_access_token(
        &mut self,
        token: NewAccessToken,
        bot_hex: impl FnOnce(Id) -> String,
        secret: impl FnOnce(Id) -> String,
    ) -> (Id, Id) {
        let user_id = self.new_user_id();
        let (username, kind) = match token.owner {
            Source::Project(project_id) => (
                format!("project_{project_id}_bot_{}", bot_hex(user_id)),
                UserKind::ProjectBot { project_id },
            ),
            Source::Group(group_id) => (
                format!("group_{group_id}_bot_{}", bot_hex(user_id)),
                UserKind::GroupBot { group_id },
            ),
        };
        self.users.insert(
            user_id,
            User {
                id: user_id,
                email: format!("{username}@noreply.gitlab.example.com"),
                username,
                name: token.name.clone(),
                state: "active".to_owned(),
                is_admin: false,
                kind,
                created_at: Utc::now(),
            },
        );
        self.members.insert((token.owner, user_id), token.access_level);
        let token_id = self.issue_token(
            NewToken {
                user_id,
                name: token.name,
                description: token.description,
                scopes: token.scopes,
                expires_at: token.expires_at,
            },
            secret,
        );
        (user_id, token_id)
    }

    /// Gives a token a new secret (rotation keeps GitLab's id scheme: see the API modules).
    pub fn forget_secret(&mut self, secret: &str) {
        self.secrets.remove(secret);
    }

    pub fn group_by_ref(&self, reference: &str) -> Option<&Group> {
        match reference.parse::<Id>() {
            Ok(id) => self.groups.get(&id),
            Err(_) => self.groups.values().find(|group| group.full_path == reference),
        }
    }

    pub fn project_by_ref(&self, reference: &str) -> Option<&Project> {
        match reference.parse::<Id>() {
            Ok(id) => self.projects.get(&id),
            Err(_) => self
                .projects
                .values()
                .find(|project| project.path_with_namespace == reference),
        }
    }
}
