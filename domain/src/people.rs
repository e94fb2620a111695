//! Who is asking: the people who sign in, their roles and their teams, and how both follow from
//! GitLab group membership and the configuration. Pure: the server gathers the facts, this
//! decides.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{AccessLevel, ParseError, enums::all};

/// What a person may do. Everyone signed in is an engineer; the others add to that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Role {
    /// Browses the inventory, uses the wizard, files and follows requests.
    Engineer,
    /// Edits ownership and purpose of their team's tokens; endorses their team's requests.
    TeamLead,
    /// The review queue and its decisions, approving requests, sync, export.
    Security,
    /// Settings, teams, role grants.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("role", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Engineer => "Engineer",
            Role::TeamLead => "Team lead",
            Role::Security => "Security",
            Role::Admin => "Admin",
        }
    }
}

/// A team a person belongs to, and whether they lead it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembership {
    pub team_id: i64,
    pub team_name: String,
    pub is_lead: bool,
}

/// The signed-in person, as every page and server function sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The product's user id.
    pub id: i64,
    pub gitlab_id: i64,
    pub username: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    pub teams: Vec<TeamMembership>,
    /// How many of their notices they have not read (the header's inbox link), read with the
    /// rest at the start of each request.
    #[serde(default)]
    pub unread_notices: u64,
    /// Signed in with an API key of read-only scope: may read, never change.
    #[serde(default)]
    pub read_only: bool,
    /// The API key the request came with; `None` for a signed-in session. Some things need the
    /// person, not a key: making keys.
    #[serde(default)]
    pub api_key_id: Option<i64>,
}

impl Viewer {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the request came with an API key rather than a signed-in session.
    pub fn via_api_key(&self) -> bool {
        self.api_key_id.is_some()
    }

    /// Security and admins see and do everything a role below them may.
    pub fn is_security(&self) -> bool {
        self.has(Role::Security) || self.has(Role::Admin)
    }

    pub fn leads(&self, team_id: i64) -> bool {
        self.teams.iter().any(|t| t.team_id == team_id && t.is_lead)
    }

    /// Whether they act with `role`: security and admins may do what a team lead may.
    pub fn acts_as(&self, role: Role) -> bool {
        match role {
            Role::Engineer => true,
            Role::TeamLead => self.has(Role::TeamLead) || self.is_security(),
            Role::Security => self.is_security(),
            Role::Admin => self.has(Role::Admin),
        }
    }
}

/// A team and how its tokens are doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamStats {
    pub id: i64,
    pub name: String,
    pub group_paths: Vec<String>,
    /// Named in the configuration, or Maintainers who signed in.
    pub leads: Vec<String>,
    pub tokens: u64,
    pub active: u64,
    pub expired: u64,
    pub expiring_30_days: u64,
    pub never_expiring: u64,
    pub without_purpose: u64,
}

/// A service account with what the inventory knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub gitlab_id: i64,
    pub username: String,
    pub name: String,
    pub state: String,
    /// The top-level group it belongs to; `None` for an instance-wide account.
    pub group_path: Option<String>,
    /// The team that owns it, and how that is known; `None` when nobody said and nothing
    /// points to one team.
    pub owner: Option<AccountOwner>,
    /// Its personal access tokens still in GitLab.
    pub tokens: Vec<crate::TokenSummary>,
    /// What it can reach: its direct memberships, groups first, then by path. Empty until a sync
    /// with an administrator's credential read them.
    pub memberships: Vec<AccountMembership>,
}

/// The team owning a service account, and how that is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOwner {
    pub team: crate::TeamRef,
    pub source: OwnerSource,
}

/// How a service account's owner team is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerSource {
    /// A person said so.
    Set {
        by: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The team owns the account's group path.
    GroupPath,
    /// Every group and project the account is a member of is the team's.
    Memberships,
}

impl OwnerSource {
    pub fn is_inferred(&self) -> bool {
        !matches!(self, OwnerSource::Set { .. })
    }

    /// What the page says of it.
    pub fn describe(&self) -> String {
        match self {
            OwnerSource::Set { by, at } => format!("set by {by} on {}", at.format("%Y-%m-%d")),
            OwnerSource::GroupPath => "inferred: the team owns its group".to_owned(),
            OwnerSource::Memberships => "inferred: everything it can reach is the team's".to_owned(),
        }
    }
}

/// The team a service account's own data points to, until a person says: the team owning its
/// group's path; else the one team owning every group and project it is a member of (none when
/// they span teams, or one of them is no team's).
pub fn infer_account_team<'a>(
    group_path: Option<&str>,
    memberships: &[AccountMembership],
    teams: &'a [TeamRule],
) -> Option<(&'a TeamRule, OwnerSource)> {
    if let Some(team) = group_path.and_then(|path| owning_team(path, teams)) {
        return Some((team, OwnerSource::GroupPath));
    }
    let mut owners = memberships.iter().map(|m| owning_team(&m.source_path, teams));
    let first = owners.next()??;
    owners
        .all(|team| team.is_some_and(|team| team.team_id == first.team_id))
        .then_some((first, OwnerSource::Memberships))
}

/// A group or project an account is a direct member of, and its role there (GitLab's
/// `/users/:id/memberships`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMembership {
    /// `Group` or `Project`.
    pub source_kind: crate::ContainerKind,
    pub source_gitlab_id: i64,
    /// The group's full path or the project's path with namespace.
    pub source_path: String,
    pub access_level: AccessLevel,
}

impl AccountMembership {
    /// Its page in GitLab (`gitlab_url` without a trailing slash): `/groups/<path>` for a group,
    /// `/<path>` for a project.
    pub fn web_url(&self, gitlab_url: &str) -> String {
        let prefix = if self.source_kind == crate::ContainerKind::Group {
            "/groups"
        } else {
            ""
        };
        format!("{gitlab_url}{prefix}/{}", self.source_path)
    }
}

/// The team owning the longest of its group paths that is `path` or above it.
pub fn owning_team<'a>(path: &str, teams: &'a [TeamRule]) -> Option<&'a TeamRule> {
    teams
        .iter()
        .flat_map(|team| team.group_paths.iter().map(move |p| (team, p)))
        .filter(|(_, owned)| path_within(path, owned))
        .max_by_key(|(team, owned)| (owned.len(), std::cmp::Reverse(team.team_id)))
        .map(|(team, _)| team)
}

/// A GitLab group the person is a member of, and their role there (direct membership), when
/// GitLab says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    pub path: String,
    pub access_level: Option<AccessLevel>,
}

/// A team as configured: the group paths it owns and its named leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRule {
    pub team_id: i64,
    pub name: String,
    pub group_paths: Vec<String>,
    /// GitLab usernames.
    pub leads: Vec<String>,
}

impl From<&TeamRule> for crate::TeamRef {
    fn from(team: &TeamRule) -> Self {
        crate::TeamRef {
            id: team.team_id,
            name: team.name.clone(),
        }
    }
}

/// Which groups and people hold which role, from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolePolicy {
    /// Members of these groups (or their subgroups) are security.
    pub security_groups: Vec<String>,
    pub security_users: Vec<String>,
    pub admin_groups: Vec<String>,
    pub admin_users: Vec<String>,
}

/// `path` is `root` or below it.
pub fn path_within(path: &str, root: &str) -> bool {
    let root = root.trim_matches('/');
    !root.is_empty() && (path == root || path.strip_prefix(root).is_some_and(|rest| rest.starts_with('/')))
}

/// The teams a person belongs to: those owning a group path the person is a member of (the
/// group, or a group below or above it: a member of `acme` works on `acme/platform` too). They
/// lead it when the configuration names them, or when they are Maintainer or Owner of one of its
/// groups (or of a group above it).
pub fn resolve_teams(username: &str, groups: &[GroupMembership], teams: &[TeamRule]) -> Vec<TeamMembership> {
    teams
        .iter()
        .filter_map(|team| {
            let named_lead = team.leads.iter().any(|lead| lead.eq_ignore_ascii_case(username));
            let mut member = named_lead;
            let mut maintainer = false;
            for group in groups {
                for owned in &team.group_paths {
                    let at_or_above = path_within(owned, &group.path);
                    if at_or_above || path_within(&group.path, owned) {
                        member = true;
                    }
                    // GitLab passes a role down to subgroups, so Maintainer of the team's group
                    // or of a group above it leads; Maintainer of one subgroup does not.
                    if at_or_above && group.access_level.is_some_and(|level| level >= AccessLevel::Maintainer) {
                        maintainer = true;
                    }
                }
            }
            member.then(|| TeamMembership {
                team_id: team.team_id,
                team_name: team.name.clone(),
                is_lead: named_lead || maintainer,
            })
        })
        .collect()
}

/// A person's roles: engineer always; team lead when they lead a team; security and admin from
/// the configured groups and usernames.
pub fn resolve_roles(
    username: &str,
    groups: &[GroupMembership],
    teams: &[TeamMembership],
    policy: &RolePolicy,
) -> BTreeSet<Role> {
    let in_groups = |paths: &[String]| {
        groups
            .iter()
            .any(|group| paths.iter().any(|path| path_within(&group.path, path)))
    };
    let named = |users: &[String]| users.iter().any(|user| user.eq_ignore_ascii_case(username));
    let mut roles = BTreeSet::from([Role::Engineer]);
    if teams.iter().any(|team| team.is_lead) {
        roles.insert(Role::TeamLead);
    }
    if in_groups(&policy.security_groups) || named(&policy.security_users) {
        roles.insert(Role::Security);
    }
    if in_groups(&policy.admin_groups) || named(&policy.admin_users) {
        roles.insert(Role::Admin);
    }
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memberships_link_to_their_group_or_project_in_gitlab() {
        let membership = |source_kind, path: &str| AccountMembership {
            source_kind,
            source_gitlab_id: 1,
            source_path: path.to_owned(),
            access_level: AccessLevel::Maintainer,
        };
        let base = "https://gitlab.example.com";
        assert_eq!(
            membership(crate::ContainerKind::Group, "acme/delivery").web_url(base),
            "https://gitlab.example.com/groups/acme/delivery"
        );
        assert_eq!(
            membership(crate::ContainerKind::Project, "acme/delivery/runner").web_url(base),
            "https://gitlab.example.com/acme/delivery/runner"
        );
    }

    fn member(path: &str, level: Option<AccessLevel>) -> GroupMembership {
        GroupMembership {
            path: path.to_owned(),
            access_level: level,
        }
    }

    fn teams() -> Vec<TeamRule> {
        vec![
            TeamRule {
                team_id: 1,
                name: "Platform".into(),
                group_paths: vec!["acme/platform".into()],
                leads: vec![],
            },
            TeamRule {
                team_id: 2,
                name: "Delivery".into(),
                group_paths: vec!["acme/delivery".into(), "tools/release".into()],
                leads: vec!["Dana.Lead".into()],
            },
        ]
    }

    #[test]
    fn a_service_accounts_team_comes_from_its_group_else_from_all_it_can_reach() {
        use crate::ContainerKind::{Group, Project};
        let teams = teams();
        let reach = |items: &[(crate::ContainerKind, &str)]| -> Vec<AccountMembership> {
            items
                .iter()
                .map(|(kind, path)| AccountMembership {
                    source_kind: *kind,
                    source_gitlab_id: 1,
                    source_path: (*path).to_owned(),
                    access_level: AccessLevel::Maintainer,
                })
                .collect()
        };
        let infer = |group: Option<&str>, memberships: &[AccountMembership]| {
            infer_account_team(group, memberships, &teams).map(|(team, source)| (team.name.as_str(), source))
        };
        let delivery_only = reach(&[(Group, "acme/delivery"), (Project, "tools/release/cli")]);
        type Case<'a> = (Option<&'a str>, Vec<AccountMembership>, Option<(&'a str, OwnerSource)>);
        let table: Vec<Case> = vec![
            // Its group is a team's: that team, whatever it reaches.
            (
                Some("acme/platform"),
                delivery_only.clone(),
                Some(("Platform", OwnerSource::GroupPath)),
            ),
            // Its group is no team's: the one team owning everything it reaches (a project
            // under one of the team's paths counts).
            (
                Some("acme"),
                delivery_only.clone(),
                Some(("Delivery", OwnerSource::Memberships)),
            ),
            (
                None,
                reach(&[(Project, "acme/platform/api")]),
                Some(("Platform", OwnerSource::Memberships)),
            ),
            // Two teams, or something no team owns, or nothing known: nobody.
            (
                Some("acme"),
                reach(&[(Group, "acme/delivery"), (Group, "acme/platform")]),
                None,
            ),
            (Some("acme"), reach(&[(Group, "acme/delivery"), (Group, "acme")]), None),
            (Some("acme"), reach(&[(Group, "acme"), (Group, "acme/delivery")]), None),
            (Some("acme"), Vec::new(), None),
        ];
        for (group, memberships, expected) in table {
            assert_eq!(infer(group, &memberships), expected, "{group:?} {memberships:?}");
        }
    }

    #[test]
    fn paths_nest_by_whole_segments() {
        assert!(path_within("acme/platform", "acme/platform"));
        assert!(path_within("acme/platform/api", "acme/platform"));
        assert!(path_within("acme/platform", "/acme/"));
        assert!(!path_within("acme/platform-old", "acme/platform"));
        assert!(!path_within("acme", "acme/platform"));
        assert!(!path_within("acme", ""));
    }

    #[test]
    fn membership_of_a_team_group_or_subgroup_joins_the_team() {
        let joined = resolve_teams(
            "paula",
            &[member("acme/platform/api", Some(AccessLevel::Developer))],
            &teams(),
        );
        assert_eq!(
            joined,
            vec![TeamMembership {
                team_id: 1,
                team_name: "Platform".into(),
                is_lead: false
            }]
        );
        assert!(resolve_teams("x", &[member("acme/platformer", Some(AccessLevel::Owner))], &teams()).is_empty());
    }

    #[test]
    fn maintainers_and_named_leads_lead() {
        let pat = resolve_teams(
            "pat",
            &[member("acme/platform", Some(AccessLevel::Maintainer))],
            &teams(),
        );
        assert!(pat[0].is_lead);
        let owner = resolve_teams("o", &[member("acme/platform", Some(AccessLevel::Owner))], &teams());
        assert!(owner[0].is_lead);
        let unknown_level = resolve_teams("u", &[member("acme/platform", None)], &teams());
        assert!(!unknown_level[0].is_lead);
        let subgroup = resolve_teams(
            "m",
            &[member("acme/platform/api", Some(AccessLevel::Maintainer))],
            &teams(),
        );
        assert!(
            !subgroup[0].is_lead,
            "Maintainer of a subgroup is a member, not the team's lead"
        );
        // Named in the configuration: lead even without a GitLab membership.
        let dana = resolve_teams("dana.lead", &[], &teams());
        assert_eq!(dana.len(), 1);
        assert!(dana[0].is_lead && dana[0].team_id == 2);
    }

    #[test]
    fn a_member_of_a_parent_group_belongs_to_the_teams_below_it() {
        let joined = resolve_teams("owner", &[member("acme", Some(AccessLevel::Owner))], &teams());
        assert_eq!(joined.iter().map(|t| t.team_id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(joined.iter().all(|t| t.is_lead));
    }

    #[test]
    fn roles_come_from_teams_groups_and_names() {
        let policy = RolePolicy {
            security_groups: vec!["acme/security".into()],
            security_users: vec!["Sam".into()],
            admin_groups: vec![],
            admin_users: vec!["root".into()],
        };
        let nobody = resolve_roles("eli", &[member("acme/ep", None)], &[], &policy);
        assert_eq!(nobody, BTreeSet::from([Role::Engineer]));
        let lead = TeamMembership {
            team_id: 1,
            team_name: "Platform".into(),
            is_lead: true,
        };
        assert!(resolve_roles("pat", &[], &[lead], &policy).contains(&Role::TeamLead));
        assert!(resolve_roles("s", &[member("acme/security/red", None)], &[], &policy).contains(&Role::Security));
        assert!(resolve_roles("sam", &[], &[], &policy).contains(&Role::Security));
        assert!(!resolve_roles("s", &[member("acme/security-fans", None)], &[], &policy).contains(&Role::Security));
        assert_eq!(
            resolve_roles("root", &[], &[], &policy),
            BTreeSet::from([Role::Engineer, Role::Admin])
        );
    }

    #[test]
    fn the_longest_owning_path_wins() {
        let mut rules = teams();
        rules.push(TeamRule {
            team_id: 3,
            name: "API".into(),
            group_paths: vec!["acme/platform/api".into()],
            leads: vec![],
        });
        assert_eq!(
            owning_team("acme/platform/api/gateway", &rules).map(|t| t.team_id),
            Some(3)
        );
        assert_eq!(owning_team("acme/platform/web", &rules).map(|t| t.team_id), Some(1));
        assert_eq!(owning_team("acme/platformer", &rules).map(|t| t.team_id), None);
    }
}
