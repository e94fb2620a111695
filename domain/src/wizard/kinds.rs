//! The kinds and how they fit: each kind's conditions, from the narrowest to the broadest.

use super::*;

// ---------------------------------------------------------------------------------------------
// The kinds and how they fit
// ---------------------------------------------------------------------------------------------

/// What the wizard can recommend, ordered from the narrowest to the broadest.
///
/// The order is breadth: what the token reaches (one project, one group, anywhere it is made a
/// member) and what it can do (deploy tokens: only the repository and the registries, read-only
/// for the repository, and no role; access tokens: the API with a role). A group deploy token and
/// a project access token are not comparable in principle (one reaches further, the other does
/// more), but whenever both fit, a project deploy token fits too, so their order never decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum RecommendedKind {
    ProjectDeployToken,
    GroupDeployToken,
    ProjectAccessToken,
    GroupAccessToken,
    /// A service account owned by a team, with a token of its own.
    ServiceAccount,
}

impl RecommendedKind {
    /// Narrowest first.
    pub const ALL: [RecommendedKind; 5] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("recommended kind", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            RecommendedKind::ProjectDeployToken => "project deploy token",
            RecommendedKind::GroupDeployToken => "group deploy token",
            RecommendedKind::ProjectAccessToken => "project access token",
            RecommendedKind::GroupAccessToken => "group access token",
            RecommendedKind::ServiceAccount => "service account",
        }
    }

    /// The kind of token the inventory will list once it exists.
    pub fn token_kind(self) -> TokenKind {
        match self {
            RecommendedKind::ProjectDeployToken | RecommendedKind::GroupDeployToken => TokenKind::Deploy,
            RecommendedKind::ProjectAccessToken => TokenKind::ProjectAccess,
            RecommendedKind::GroupAccessToken => TokenKind::GroupAccess,
            RecommendedKind::ServiceAccount => TokenKind::Personal,
        }
    }

    /// Where the token lives; a service account belongs to a top-level group (or, on a
    /// self-managed instance, to the instance).
    pub fn container_kind(self) -> ContainerKind {
        match self {
            RecommendedKind::ProjectDeployToken | RecommendedKind::ProjectAccessToken => ContainerKind::Project,
            RecommendedKind::GroupDeployToken | RecommendedKind::GroupAccessToken | RecommendedKind::ServiceAccount => {
                ContainerKind::Group
            }
        }
    }

    pub fn is_deploy_token(self) -> bool {
        matches!(
            self,
            RecommendedKind::ProjectDeployToken | RecommendedKind::GroupDeployToken
        )
    }

    pub(crate) fn lives_in_group(self) -> bool {
        matches!(
            self,
            RecommendedKind::GroupDeployToken | RecommendedKind::GroupAccessToken
        )
    }

    /// Every reason this kind cannot serve the automation; empty when it fits.
    ///
    /// - Deploy tokens: no API, no pushing to the repository (their only repository scope is
    ///   `read_repository`), no role (so no Maintainer-level actions).
    /// - Project tokens reach one project; group tokens one group and its projects.
    /// - Project and group access tokens: not when it reads confidential issues (the guidelines'
    ///   asynchronous retrospective example).
    /// - Group access tokens: not for Maintainer-level actions, which at group level or across
    ///   projects call for a service account.
    /// - A service account always fits.
    pub fn misfits(self, needs: &Needs) -> Vec<Misfit> {
        use RecommendedKind::*;
        let mut misfits = Vec::new();
        if self.is_deploy_token() {
            if needs.api.is_used() {
                misfits.push(Misfit::NoApiAccess);
            }
            if needs.repository == Usage::Writes {
                misfits.push(Misfit::CannotWriteRepository);
            }
            if needs.maintainer_actions {
                misfits.push(Misfit::HasNoRole);
            }
        }
        match self {
            ProjectDeployToken | ProjectAccessToken if needs.reach > Reach::OneProject => {
                misfits.push(Misfit::OneProjectOnly);
            }
            GroupDeployToken | GroupAccessToken if needs.reach > Reach::OneGroup => {
                misfits.push(Misfit::OneGroupOnly);
            }
            _ => {}
        }
        if matches!(self, ProjectAccessToken | GroupAccessToken) && needs.confidential_issues {
            misfits.push(Misfit::ConfidentialIssues);
        }
        if self == GroupAccessToken && needs.maintainer_actions {
            misfits.push(Misfit::MaintainerAtGroupLevel);
        }
        misfits
    }

    /// The scopes this kind needs for the automation: the fewest, read-only wherever it only
    /// reads, in GitLab's order.
    ///
    /// Deploy tokens have a scope per registry. Access tokens have no package registry scopes:
    /// they reach packages through `read_api` (download) or `api` (publish); and `api` already
    /// grants the repository and the container registry, `read_api` reading both, so those are
    /// added only where the API scope does not cover them.
    pub fn scopes(self, needs: &Needs) -> Vec<Scope> {
        let mut scopes = if self.is_deploy_token() {
            deploy_token_scopes(needs)
        } else {
            access_token_scopes(needs)
        };
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// The role the token's bot (or the service account) needs; `None` for deploy tokens,
    /// which have none.
    pub fn role(self, needs: &Needs) -> Option<AccessLevel> {
        (!self.is_deploy_token()).then(|| lowest_role(needs))
    }
}

fn deploy_token_scopes(needs: &Needs) -> Vec<Scope> {
    let mut scopes = Vec::new();
    if needs.repository.is_used() {
        scopes.push(Scope::ReadRepository);
    }
    let registries = [
        (needs.container_registry, Scope::ReadRegistry, Scope::WriteRegistry),
        (
            needs.package_registry,
            Scope::ReadPackageRegistry,
            Scope::WritePackageRegistry,
        ),
    ];
    for (usage, read, write) in registries {
        match usage {
            Usage::Unused => {}
            Usage::Reads => scopes.push(read),
            Usage::Writes => scopes.extend([read, write]),
        }
    }
    scopes
}

fn access_token_scopes(needs: &Needs) -> Vec<Scope> {
    match needs.api.max(needs.package_registry) {
        Usage::Writes => vec![Scope::Api],
        Usage::Reads => {
            let mut scopes = vec![Scope::ReadApi];
            if needs.repository == Usage::Writes {
                scopes.push(Scope::WriteRepository);
            }
            if needs.container_registry == Usage::Writes {
                scopes.push(Scope::WriteRegistry);
            }
            scopes
        }
        Usage::Unused => {
            let mut scopes = Vec::new();
            match needs.repository {
                Usage::Unused => {}
                Usage::Reads => scopes.push(Scope::ReadRepository),
                Usage::Writes => scopes.push(Scope::WriteRepository),
            }
            match needs.container_registry {
                Usage::Unused => {}
                Usage::Reads => scopes.push(Scope::ReadRegistry),
                Usage::Writes => scopes.extend([Scope::ReadRegistry, Scope::WriteRegistry]),
            }
            scopes
        }
    }
}

/// The lowest role that works: Maintainer only for Maintainer-level actions, Developer to write
/// (push code, images or packages, or write through the API), else Reporter, the lowest role
/// that reads code, registries and the API of private projects (Guest cannot read code there).
pub(crate) fn lowest_role(needs: &Needs) -> AccessLevel {
    if needs.maintainer_actions {
        AccessLevel::Maintainer
    } else if needs.writes_anything() {
        AccessLevel::Developer
    } else {
        AccessLevel::Reporter
    }
}

/// The narrowest kind that fits (a service account always does).
pub(crate) fn choose_kind(needs: &Needs) -> RecommendedKind {
    RecommendedKind::ALL
        .into_iter()
        .find(|kind| kind.misfits(needs).is_empty())
        .unwrap_or(RecommendedKind::ServiceAccount)
}

/// Whether this kind can serve the automation the answers describe; `false` while the deciding
/// questions are not all answered.
pub fn fits(kind: RecommendedKind, answers: &WizardAnswers) -> bool {
    answers.needs().is_ok_and(|needs| kind.misfits(&needs).is_empty())
}

/// A reason a kind cannot serve an automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misfit {
    NoApiAccess,
    CannotWriteRepository,
    HasNoRole,
    OneProjectOnly,
    OneGroupOnly,
    ConfidentialIssues,
    MaintainerAtGroupLevel,
}

impl Misfit {
    /// The reason, as a sentence.
    pub fn explanation(self) -> &'static str {
        match self {
            Misfit::NoApiAccess => {
                "Deploy tokens cannot use the API: the guidelines give them repository, packages and container \
                 registry automation, and API automation to access tokens."
            }
            Misfit::CannotWriteRepository => {
                "Deploy tokens can only read the Git repository (read_repository): none can push to it."
            }
            Misfit::HasNoRole => "Deploy tokens have no role, so they cannot do Maintainer-level actions.",
            Misfit::OneProjectOnly => {
                "A project's token reaches only that project, and this automation works beyond it."
            }
            Misfit::OneGroupOnly => {
                "A group's token reaches only that group and its projects, and this automation works beyond it."
            }
            Misfit::ConfidentialIssues => {
                "The guidelines rule project access tokens out when fetching confidential issues, and a group \
                 access token is the same kind of bot token: when project access tokens can't be used, they call \
                 for a service account."
            }
            Misfit::MaintainerAtGroupLevel => {
                "Automation at group level or across projects that needs the Maintainer permission calls for a \
                 service account owned by a team, not a group access token."
            }
        }
    }

    /// The guideline rules the reason rests on (none where it is a fact about GitLab).
    pub fn rules(self) -> &'static [RuleId] {
        match self {
            Misfit::NoApiAccess => &[
                RuleId::ProjectDeployTokenSufficient,
                RuleId::ProjectAccessTokenSufficient,
            ],
            Misfit::CannotWriteRepository | Misfit::HasNoRole => &[],
            Misfit::OneProjectOnly => &[
                RuleId::ProjectDeployTokenSufficient,
                RuleId::ProjectAccessTokenSufficient,
            ],
            Misfit::OneGroupOnly => &[RuleId::GroupAccessTokenSufficient],
            Misfit::ConfidentialIssues => &[RuleId::RetrospectiveConfidentialIssues, RuleId::ServiceAccount],
            Misfit::MaintainerAtGroupLevel => &[RuleId::ServiceAccount],
        }
    }
}
