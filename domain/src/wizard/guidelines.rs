//! The guidelines, quoted: the sentences each recommendation rests on.

use super::*;

// ---------------------------------------------------------------------------------------------
// The guidelines, quoted
// ---------------------------------------------------------------------------------------------

/// A rule of the "Guidelines for automation and access tokens", by a stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "kebab-case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum RuleId {
    ProjectDeployTokenSufficient,
    ProjectAccessTokenSufficient,
    GroupAccessTokenSufficient,
    LeastPrivilege,
    DontReuse,
    ProjectAccessTokenByDefault,
    SuitableName,
    AlwaysExpire,
    MinimumScopes,
    ProjectDeployToken,
    ServiceAccount,
    RetrospectiveConfidentialIssues,
    ReuseDisruptsRotation,
}

const SECTION_GUIDELINES: &str = "Guidelines for automation and access tokens";
const SECTION_DONT_REUSE: &str = "Don't reuse an existing token";
const SECTION_PROJECT_ACCESS: &str = "Use project access tokens by default";
const SECTION_PROJECT_DEPLOY: &str =
    "Use a project deploy token for repository, packages, or container registry automation";
const SECTION_SERVICE_ACCOUNT: &str = "Use a specific service account token when project access tokens can't be used";
const SECTION_AUTOMATIONS: &str = "List of automations currently in place";
const SECTION_BACKGROUND: &str = "Background on the single @gitlab-bot service account";

/// Where the guidelines send people to request a service account.
pub const SERVICE_ACCOUNT_REQUEST_URL: &str = "https://internal.gitlab.com/handbook/security/access-management-standard/#requesting-gitlabcom-service-account-for-automation";

impl RuleId {
    pub const ALL: [RuleId; 13] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("guideline rule", value)
    }

    /// The heading of the guidelines' section the rule is in.
    pub fn section(self) -> &'static str {
        match self {
            RuleId::ProjectDeployTokenSufficient
            | RuleId::ProjectAccessTokenSufficient
            | RuleId::GroupAccessTokenSufficient
            | RuleId::LeastPrivilege => SECTION_GUIDELINES,
            RuleId::DontReuse => SECTION_DONT_REUSE,
            RuleId::ProjectAccessTokenByDefault
            | RuleId::SuitableName
            | RuleId::AlwaysExpire
            | RuleId::MinimumScopes => SECTION_PROJECT_ACCESS,
            RuleId::ProjectDeployToken => SECTION_PROJECT_DEPLOY,
            RuleId::ServiceAccount => SECTION_SERVICE_ACCOUNT,
            RuleId::RetrospectiveConfidentialIssues => SECTION_AUTOMATIONS,
            RuleId::ReuseDisruptsRotation => SECTION_BACKGROUND,
        }
    }

    /// The sentence or sentences, word for word as the guidelines render them (links shown as
    /// their text, code without its backticks).
    pub fn quote(self) -> &'static str {
        match self {
            RuleId::ProjectDeployTokenSufficient => {
                "Automation for repository, packages, container registry within a project: a project deploy token \
                 is sufficient."
            }
            RuleId::ProjectAccessTokenSufficient => {
                "Automation via API within a project: a project access token is sufficient."
            }
            RuleId::GroupAccessTokenSufficient => {
                "Automation via API within a group: a group access token is sufficient."
            }
            RuleId::LeastPrivilege => {
                "These guidelines ensure consistency for Engineering automation using approved secure patterns \
                 aligned with least privileged access principle."
            }
            RuleId::DontReuse => {
                "Never reuse an existing token for your own automation, as this makes it harder to track what a \
                 token is used for. It also increases the number of changes required if the token is revoked."
            }
            RuleId::ProjectAccessTokenByDefault => {
                "By default, and when possible, create a new project access token for any API automation, and \
                 follow these guidelines:"
            }
            RuleId::SuitableName => {
                "Create a suitable name for the access token. Keep in mind that this is also the name of the bot \
                 user created for the token."
            }
            RuleId::AlwaysExpire => {
                "Always set an expiration date for the token, even if this is for temporary automation."
            }
            RuleId::MinimumScopes => {
                "Give the token the minimum scopes your automation requires (usually the api scope)."
            }
            RuleId::ProjectDeployToken => {
                "Create a new project deploy token for repository, packages, or container registry automation. \
                 Follow the same guidelines as for the project access tokens above."
            }
            RuleId::ServiceAccount => {
                "For cases where automation is applied at the group level or across multiple projects, and where \
                 the Maintainer permission is required to perform the automation (for example, to post restricted \
                 quick actions), you can request a new service account that will be owned by a specific team."
            }
            RuleId::RetrospectiveConfidentialIssues => {
                "Asynchronous retrospective generation. Can use a project access tokens unless fetching \
                 confidential issues."
            }
            RuleId::ReuseDisruptsRotation => {
                "Reusing the same token everywhere creates a lot of disruption if the token is leaked and needs to \
                 be rotated."
            }
        }
    }
}

/// A guideline rule with its quote, as a recommendation carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidelineRule {
    pub id: RuleId,
    pub section: String,
    pub quote: String,
}

impl From<RuleId> for GuidelineRule {
    fn from(id: RuleId) -> Self {
        GuidelineRule {
            id,
            section: id.section().to_owned(),
            quote: id.quote().to_owned(),
        }
    }
}

pub(crate) fn quoted(ids: impl IntoIterator<Item = RuleId>) -> Vec<GuidelineRule> {
    let mut seen = Vec::new();
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen.into_iter().map(GuidelineRule::from).collect()
}

/// A choice the wizard made where the guidelines are silent, by a stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssumptionId {
    GroupDeployToken,
    DeployTokensCannotPush,
    DeployTokensHaveNoRole,
    MaintainerWithinProject,
    BeyondOneGroup,
    ConfidentialIssues,
    PackagesThroughApi,
    LowestRole,
    Lifetime,
}

/// A choice the wizard made where the guidelines are silent, and why, so that nobody mistakes
/// it for a guideline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assumption {
    pub id: AssumptionId,
    pub explanation: String,
}

impl Assumption {
    pub(crate) fn new(id: AssumptionId, explanation: impl Into<String>) -> Self {
        Assumption {
            id,
            explanation: explanation.into(),
        }
    }
}
