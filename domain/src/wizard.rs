//! The token wizard: from a few answers about an automation, the token the organisation's
//! "Guidelines for automation and access tokens" call for (a project or group deploy token, a
//! project or group access token, or a service account owned by a team), with its scopes, role,
//! expiry, name, the guideline sentences it rests on, the next step to get it, and why the other
//! kinds lost.
//!
//! Pure: no I/O and no clock (`today` is passed in), so the server, the JSON API and the browser
//! decide alike. The answers travel as JSON and as a URL query (every field optional), so a
//! half-answered wizard can be shared, resumed, and later pre-fill the service account request.
//!
//! How it decides: every kind has the conditions under which it can serve the automation
//! ([`RecommendedKind::misfits`]); the kinds are ordered from the narrowest to the broadest
//! ([`RecommendedKind::ALL`]), and the wizard recommends the narrowest kind that fits, as the
//! guidelines' "least privileged access principle" asks. A service account always fits, so there
//! is always a recommendation. Reusing an existing token is never one.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize};
use std::{fmt, str::FromStr};

use crate::{AccessLevel, ContainerKind, ParseError, Scope, TokenKind, ownership::looks_like_a_secret};

// ---------------------------------------------------------------------------------------------
// The answers
// ---------------------------------------------------------------------------------------------

/// A part of GitLab an automation can touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Repository,
    PackageRegistry,
    ContainerRegistry,
    Api,
}

impl Resource {
    pub const ALL: [Resource; 4] = [
        Resource::Repository,
        Resource::PackageRegistry,
        Resource::ContainerRegistry,
        Resource::Api,
    ];

    /// The answer's field name, in forms and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Repository => "repository",
            Resource::PackageRegistry => "package_registry",
            Resource::ContainerRegistry => "container_registry",
            Resource::Api => "api",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Resource::Repository => "The Git repository",
            Resource::PackageRegistry => "The package registry",
            Resource::ContainerRegistry => "The container registry",
            Resource::Api => "The API",
        }
    }

    /// What counts as touching it.
    pub fn help(self) -> &'static str {
        match self {
            Resource::Repository => "Clones or pulls the code (reads), or pushes commits, branches or tags (writes).",
            Resource::PackageRegistry => "Downloads packages (reads), or publishes them (writes).",
            Resource::ContainerRegistry => "Pulls container images (reads), or pushes them (writes).",
            Resource::Api => {
                "Calls the REST or GraphQL API: reads issues, merge requests or pipelines, or also comments, \
                 labels, opens merge requests or triggers pipelines (writes)."
            }
        }
    }
}

impl FromStr for Resource {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resource::ALL
            .into_iter()
            .find(|resource| resource.as_str() == s)
            .ok_or_else(|| ParseError::new("part of GitLab", s))
    }
}

/// How an automation uses one part of GitLab: not at all, only reading, or reading and writing.
///
/// Ordered by what it needs, so the larger of two usages is the one a scope must cover.
/// A blank value (an unanswered radio group) reads as "not used".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Usage {
    #[default]
    Unused,
    Reads,
    Writes,
}

impl Usage {
    pub const ALL: [Usage; 3] = [Usage::Unused, Usage::Reads, Usage::Writes];

    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Unused => "unused",
            Usage::Reads => "reads",
            Usage::Writes => "writes",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Usage::Unused => "Not used",
            Usage::Reads => "Reads only",
            Usage::Writes => "Reads and writes",
        }
    }

    pub fn is_used(self) -> bool {
        self != Usage::Unused
    }
}

fn is_unused(usage: &Usage) -> bool {
    !usage.is_used()
}

impl FromStr for Usage {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Usage::ALL
            .into_iter()
            .find(|usage| usage.as_str() == s)
            .ok_or_else(|| ParseError::new("usage", s))
    }
}

impl TryFrom<String> for Usage {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.trim() {
            "" => Ok(Usage::Unused),
            text => text.parse(),
        }
    }
}

/// Where an automation works. Ordered from the narrowest to the broadest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// One project.
    OneProject,
    /// One group, its subgroups and their projects.
    OneGroup,
    /// Several groups, or projects in different groups.
    SeveralGroups,
    /// The whole instance.
    Instance,
}

impl Reach {
    pub const ALL: [Reach; 4] = [
        Reach::OneProject,
        Reach::OneGroup,
        Reach::SeveralGroups,
        Reach::Instance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reach::OneProject => "one_project",
            Reach::OneGroup => "one_group",
            Reach::SeveralGroups => "several_groups",
            Reach::Instance => "instance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Reach::OneProject => "One project",
            Reach::OneGroup => "One group and its projects",
            Reach::SeveralGroups => "Several groups, or projects in different groups",
            Reach::Instance => "The whole instance",
        }
    }
}

impl FromStr for Reach {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reach::ALL
            .into_iter()
            .find(|reach| reach.as_str() == s)
            .ok_or_else(|| ParseError::new("reach", s))
    }
}

/// The answer to a yes-or-no question. An enum rather than a `bool` so that "not answered yet"
/// (`None`) stays apart from "no", in a URL as in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNo {
    Yes,
    No,
}

impl YesNo {
    pub const ALL: [YesNo; 2] = [YesNo::Yes, YesNo::No];

    pub fn as_str(self) -> &'static str {
        match self {
            YesNo::Yes => "yes",
            YesNo::No => "no",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            YesNo::Yes => "Yes",
            YesNo::No => "No",
        }
    }

    pub fn is_yes(self) -> bool {
        self == YesNo::Yes
    }
}

impl From<bool> for YesNo {
    fn from(yes: bool) -> Self {
        if yes { YesNo::Yes } else { YesNo::No }
    }
}

impl FromStr for YesNo {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        YesNo::ALL
            .into_iter()
            .find(|answer| answer.as_str() == s)
            .ok_or_else(|| ParseError::new("yes or no", s))
    }
}

/// The wizard's steps, in the order it asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// What it touches (repository, package registry, container registry, API), and whether it
    /// only reads there or also writes.
    Touches,
    /// One project, one group, several groups or the whole instance.
    Reach,
    /// Whether it needs Maintainer-level actions.
    MaintainerActions,
    /// Whether it reads confidential issues; asked only when it uses the API.
    ConfidentialIssues,
    /// Whether it is temporary.
    Temporary,
    /// Its purpose, owning team and GitLab path.
    Details,
}

impl Question {
    pub const ALL: [Question; 6] = [
        Question::Touches,
        Question::Reach,
        Question::MaintainerActions,
        Question::ConfidentialIssues,
        Question::Temporary,
        Question::Details,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Question::Touches => "touches",
            Question::Reach => "reach",
            Question::MaintainerActions => "maintainer_actions",
            Question::ConfidentialIssues => "confidential_issues",
            Question::Temporary => "temporary",
            Question::Details => "details",
        }
    }

    /// The question as the wizard asks it.
    pub fn label(self) -> &'static str {
        match self {
            Question::Touches => "What does the automation touch, and does it write there?",
            Question::Reach => "Where does it work?",
            Question::MaintainerActions => "Does it need Maintainer-level actions?",
            Question::ConfidentialIssues => "Does it read confidential issues?",
            Question::Temporary => "Is it temporary?",
            Question::Details => "What is it for, which team owns it, and where is it?",
        }
    }

    /// A sentence under the question, to help answer it.
    pub fn help(self) -> &'static str {
        match self {
            Question::Touches => {
                "Pick every part of GitLab it uses, and whether it only reads there or also writes. \
                 Writing the repository means pushing commits, branches or tags."
            }
            Question::Reach => {
                "One project, or one group with its subgroups and projects, or more: several groups, projects \
                 in different groups, or the whole instance."
            }
            Question::MaintainerActions => {
                "For example restricted quick actions, pushing to protected branches or tags, managing releases, \
                 settings or CI/CD variables. Commenting, labelling and opening merge requests are not."
            }
            Question::ConfidentialIssues => "Whether it fetches issues marked confidential, through the API.",
            Question::Temporary => {
                "A one-off migration, an experiment, or anything due to be switched off soon. It still gets an \
                 expiry date, a shorter one."
            }
            Question::Details => {
                "A short purpose (it becomes the token's name, which is also its bot user's name), the team that \
                 owns it, and the project or group path (like gitlab-org/gitlab) for the links and commands."
            }
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Question {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Question::ALL
            .into_iter()
            .find(|question| question.as_str() == s)
            .ok_or_else(|| ParseError::new("wizard question", s))
    }
}

/// A field of the wizard's form, so that a message shows next to the field it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The group of four usage fields (`repository`, `package_registry`, `container_registry`,
    /// `api`).
    Touches,
    Reach,
    MaintainerActions,
    ConfidentialIssues,
    Temporary,
    Path,
    OwnerTeam,
    Purpose,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Touches,
        Field::Reach,
        Field::MaintainerActions,
        Field::ConfidentialIssues,
        Field::Temporary,
        Field::Path,
        Field::OwnerTeam,
        Field::Purpose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Touches => "touches",
            Field::Reach => "reach",
            Field::MaintainerActions => "maintainer_actions",
            Field::ConfidentialIssues => "confidential_issues",
            Field::Temporary => "temporary",
            Field::Path => "path",
            Field::OwnerTeam => "owner_team",
            Field::Purpose => "purpose",
        }
    }

    /// The wizard step that asks for it.
    pub fn question(self) -> Question {
        match self {
            Field::Touches => Question::Touches,
            Field::Reach => Question::Reach,
            Field::MaintainerActions => Question::MaintainerActions,
            Field::ConfidentialIssues => Question::ConfidentialIssues,
            Field::Temporary => Question::Temporary,
            Field::Path | Field::OwnerTeam | Field::Purpose => Question::Details,
        }
    }

    /// What to say when it is needed and not given.
    pub fn missing_message(self) -> &'static str {
        match self {
            Field::Touches => "choose at least one part of GitLab it touches",
            Field::Reach => "choose where it works",
            Field::MaintainerActions => "say whether it needs Maintainer-level actions",
            Field::ConfidentialIssues => "say whether it reads confidential issues",
            Field::Temporary => "say whether it is temporary",
            Field::Path => "give the project or group path",
            Field::OwnerTeam => "a service account is owned by a specific team: name the team",
            Field::Purpose => "say in a few words what it is for: it becomes the token's name",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Field::ALL
            .into_iter()
            .find(|field| field.as_str() == s)
            .ok_or_else(|| ParseError::new("wizard field", s))
    }
}

/// Why the wizard cannot recommend yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum WizardError {
    /// A needed answer is not given yet.
    Missing { field: Field },
    /// An answer is given but cannot be used; the message says why, for the person.
    Invalid { field: Field, message: String },
    /// The wizard's settings are wrong: a fault of the configuration, not of the answers.
    Policy { message: String },
}

impl WizardError {
    /// The field to show the message next to; `None` for a settings fault.
    pub fn field(&self) -> Option<Field> {
        match self {
            WizardError::Missing { field } | WizardError::Invalid { field, .. } => Some(*field),
            WizardError::Policy { .. } => None,
        }
    }

    /// The message for the person, without the field's name.
    pub fn message(&self) -> String {
        match self {
            WizardError::Missing { field } => field.missing_message().to_owned(),
            WizardError::Invalid { message, .. } | WizardError::Policy { message } => message.clone(),
        }
    }

    fn invalid(field: Field, message: impl Into<String>) -> Self {
        WizardError::Invalid {
            field,
            message: message.into(),
        }
    }

    fn policy(message: impl Into<String>) -> Self {
        WizardError::Policy {
            message: message.into(),
        }
    }
}

impl fmt::Display for WizardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field() {
            Some(field) => write!(f, "{field}: {}", self.message()),
            None => write!(f, "wizard settings: {}", self.message()),
        }
    }
}

impl std::error::Error for WizardError {}

/// What a person answered, as a form or a URL query sends it: every field may be missing.
///
/// The four usage fields answer [`Question::Touches`]; the yes-or-no and reach questions are
/// `None` until answered; the texts are empty until given. A blank value (`reach=`) counts as not
/// answered. Nothing here is checked: [`WizardAnswers::next_question`] tells which step comes
/// next, [`WizardAnswers::invalid_fields`] what is wrong, and [`recommend_token_kind`] decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WizardAnswers {
    #[serde(skip_serializing_if = "is_unused")]
    pub repository: Usage,
    #[serde(skip_serializing_if = "is_unused")]
    pub package_registry: Usage,
    #[serde(skip_serializing_if = "is_unused")]
    pub container_registry: Usage,
    #[serde(skip_serializing_if = "is_unused")]
    pub api: Usage,
    #[serde(deserialize_with = "blank_is_none", skip_serializing_if = "Option::is_none")]
    pub reach: Option<Reach>,
    /// Needs Maintainer-level actions (restricted quick actions, protected branches, …).
    #[serde(deserialize_with = "blank_is_none", skip_serializing_if = "Option::is_none")]
    pub maintainer_actions: Option<YesNo>,
    /// Reads confidential issues. Only asked, and only counted, when it uses the API: there is
    /// no other way to read issues.
    #[serde(deserialize_with = "blank_is_none", skip_serializing_if = "Option::is_none")]
    pub confidential_issues: Option<YesNo>,
    #[serde(deserialize_with = "blank_is_none", skip_serializing_if = "Option::is_none")]
    pub temporary: Option<YesNo>,
    /// The project's or group's full path (`gitlab-org/gitlab`), for links and commands; for
    /// several groups or the instance, the top-level group it will mostly work in. Optional:
    /// without it the links and commands carry a `<project-path>`-style placeholder.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The team that owns the automation (its name). Optional, except for a service account,
    /// which the guidelines want owned by a specific team.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub owner_team: String,
    /// What the automation is for, in a few words ("allure reports"): it becomes the name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub purpose: String,
}

/// Reads an optional answer, taking a missing, null or blank value as "not answered".
fn blank_is_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let value = Option::<String>::deserialize(deserializer)?;
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// The longest purpose: it becomes part of a name that should read well.
pub const PURPOSE_MAX_CHARS: usize = 60;
/// The longest team name.
pub const OWNER_TEAM_MAX_CHARS: usize = 100;
/// The longest GitLab path the wizard takes.
pub const PATH_MAX_CHARS: usize = 1000;
/// GitLab's limit on a token's name.
pub const NAME_MAX_CHARS: usize = 255;

/// The answers that decide the kind, scopes, role and expiry, all given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub repository: Usage,
    pub package_registry: Usage,
    pub container_registry: Usage,
    pub api: Usage,
    pub reach: Reach,
    pub maintainer_actions: bool,
    /// Only ever true when it uses the API.
    pub confidential_issues: bool,
    pub temporary: bool,
}

impl Needs {
    fn usages(&self) -> [Usage; 4] {
        [
            self.repository,
            self.package_registry,
            self.container_registry,
            self.api,
        ]
    }

    fn writes_anything(&self) -> bool {
        self.usages().contains(&Usage::Writes)
    }
}

/// The checked texts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    path: Option<GitLabPath>,
    owner_team: Option<String>,
    purpose: String,
}

impl WizardAnswers {
    /// How it uses one part of GitLab.
    pub fn usage(&self, resource: Resource) -> Usage {
        match resource {
            Resource::Repository => self.repository,
            Resource::PackageRegistry => self.package_registry,
            Resource::ContainerRegistry => self.container_registry,
            Resource::Api => self.api,
        }
    }

    /// Sets how it uses one part of GitLab.
    pub fn set_usage(&mut self, resource: Resource, usage: Usage) {
        match resource {
            Resource::Repository => self.repository = usage,
            Resource::PackageRegistry => self.package_registry = usage,
            Resource::ContainerRegistry => self.container_registry = usage,
            Resource::Api => self.api = usage,
        }
    }

    /// The deciding answers, or the first of them that is missing (in the wizard's order).
    /// The confidential issues question is needed only when it uses the API, and ignored
    /// otherwise.
    pub fn needs(&self) -> Result<Needs, WizardError> {
        let missing = |field| WizardError::Missing { field };
        if !Resource::ALL.iter().any(|resource| self.usage(*resource).is_used()) {
            return Err(missing(Field::Touches));
        }
        let reach = self.reach.ok_or(missing(Field::Reach))?;
        let maintainer_actions = self.maintainer_actions.ok_or(missing(Field::MaintainerActions))?;
        let confidential_issues = if self.api.is_used() {
            self.confidential_issues
                .ok_or(missing(Field::ConfidentialIssues))?
                .is_yes()
        } else {
            false
        };
        let temporary = self.temporary.ok_or(missing(Field::Temporary))?;
        Ok(Needs {
            repository: self.repository,
            package_registry: self.package_registry,
            container_registry: self.container_registry,
            api: self.api,
            reach,
            maintainer_actions: maintainer_actions.is_yes(),
            confidential_issues,
            temporary: temporary.is_yes(),
        })
    }

    /// The step to show next, or `None` when everything needed is answered. The wizard asks
    /// for the team only when the answers lead to a service account, and skips the
    /// confidential issues question when it does not use the API.
    pub fn next_question(&self) -> Option<Question> {
        match self.needs() {
            Err(error) => error.field().map(Field::question),
            Ok(needs) => self.missing_detail(choose_kind(&needs)).map(Field::question),
        }
    }

    /// Every answer given that cannot be used, each naming its field (unanswered questions are
    /// not listed: see [`WizardAnswers::next_question`]).
    pub fn invalid_fields(&self) -> Vec<WizardError> {
        [
            self.checked_path(self.reach).err(),
            self.checked_team().err(),
            self.checked_purpose().err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The answers from a URL query (`name` → its value, `None` when absent), and every value
    /// that could not be read, each with its field and a message. Unknown names are ignored; a
    /// blank value counts as not answered.
    pub fn from_query<'a>(get: impl Fn(&str) -> Option<&'a str>) -> (WizardAnswers, Vec<WizardError>) {
        let mut answers = WizardAnswers::default();
        let mut errors = Vec::new();
        fn read<T: FromStr>(value: Option<&str>, field: Field, errors: &mut Vec<WizardError>) -> Option<T> {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            let parsed = value.parse().ok();
            if parsed.is_none() {
                errors.push(WizardError::invalid(field, "not one of the choices: choose again"));
            }
            parsed
        }
        for resource in Resource::ALL {
            if let Some(usage) = read(get(resource.as_str()), Field::Touches, &mut errors) {
                answers.set_usage(resource, usage);
            }
        }
        answers.reach = read(get(Field::Reach.as_str()), Field::Reach, &mut errors);
        answers.maintainer_actions = read(
            get(Field::MaintainerActions.as_str()),
            Field::MaintainerActions,
            &mut errors,
        );
        answers.confidential_issues = read(
            get(Field::ConfidentialIssues.as_str()),
            Field::ConfidentialIssues,
            &mut errors,
        );
        answers.temporary = read(get(Field::Temporary.as_str()), Field::Temporary, &mut errors);
        answers.path = get(Field::Path.as_str()).unwrap_or_default().trim().to_owned();
        answers.owner_team = get(Field::OwnerTeam.as_str()).unwrap_or_default().trim().to_owned();
        answers.purpose = get(Field::Purpose.as_str()).unwrap_or_default().trim().to_owned();
        (answers, errors)
    }

    /// The given answers as URL query pairs, in the wizard's order (what [`Self::from_query`]
    /// reads back). A text that looks like a token's secret is left out, so it never travels on.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = Resource::ALL
            .into_iter()
            .filter(|resource| self.usage(*resource).is_used())
            .map(|resource| (resource.as_str(), self.usage(resource).as_str().to_owned()))
            .collect();
        let choices = [
            (Field::Reach, self.reach.map(Reach::as_str)),
            (Field::MaintainerActions, self.maintainer_actions.map(YesNo::as_str)),
            (Field::ConfidentialIssues, self.confidential_issues.map(YesNo::as_str)),
            (Field::Temporary, self.temporary.map(YesNo::as_str)),
        ];
        pairs.extend(
            choices
                .into_iter()
                .filter_map(|(field, value)| Some((field.as_str(), value?.to_owned()))),
        );
        let texts = [
            (Field::Path, &self.path),
            (Field::OwnerTeam, &self.owner_team),
            (Field::Purpose, &self.purpose),
        ];
        pairs.extend(
            texts
                .into_iter()
                .filter(|(_, text)| !text.trim().is_empty() && !looks_like_a_secret(text))
                .map(|(field, text)| (field.as_str(), text.trim().to_owned())),
        );
        pairs
    }

    /// The steps these answers go through, in order: every question but the confidential issues
    /// one when it does not use the API.
    pub fn steps(&self) -> Vec<Question> {
        Question::ALL
            .into_iter()
            .filter(|question| *question != Question::ConfidentialIssues || self.api.is_used())
            .collect()
    }

    /// The answers with the ones a step asks for cleared: what a step's form starts from, so
    /// that an answer taken back (a resource no longer used) does not linger.
    pub fn without(&self, question: Question) -> WizardAnswers {
        let mut answers = self.clone();
        match question {
            Question::Touches => {
                for resource in Resource::ALL {
                    answers.set_usage(resource, Usage::Unused);
                }
            }
            Question::Reach => answers.reach = None,
            Question::MaintainerActions => answers.maintainer_actions = None,
            Question::ConfidentialIssues => answers.confidential_issues = None,
            Question::Temporary => answers.temporary = None,
            Question::Details => {
                answers.path.clear();
                answers.owner_team.clear();
                answers.purpose.clear();
            }
        }
        answers
    }

    /// The field a step asks for that is still unanswered, if any (for the details step: the
    /// purpose, then the owner team when the answers lead to a service account). The
    /// confidential issues question counts as answered when it does not use the API.
    pub fn unanswered(&self, question: Question) -> Option<Field> {
        let missing = |given: bool, field: Field| (!given).then_some(field);
        match question {
            Question::Touches => missing(
                Resource::ALL.iter().any(|resource| self.usage(*resource).is_used()),
                Field::Touches,
            ),
            Question::Reach => missing(self.reach.is_some(), Field::Reach),
            Question::MaintainerActions => missing(self.maintainer_actions.is_some(), Field::MaintainerActions),
            Question::ConfidentialIssues => missing(
                self.confidential_issues.is_some() || !self.api.is_used(),
                Field::ConfidentialIssues,
            ),
            Question::Temporary => missing(self.temporary.is_some(), Field::Temporary),
            Question::Details => match self.kind() {
                Some(kind) => self.missing_detail(kind),
                None => missing(!self.purpose.trim().is_empty(), Field::Purpose),
            },
        }
    }

    /// The narrowest kind these answers lead to, once the deciding questions are answered.
    pub fn kind(&self) -> Option<RecommendedKind> {
        self.needs().ok().map(|needs| choose_kind(&needs))
    }

    fn missing_detail(&self, kind: RecommendedKind) -> Option<Field> {
        if self.purpose.trim().is_empty() {
            Some(Field::Purpose)
        } else if kind == RecommendedKind::ServiceAccount && self.owner_team.trim().is_empty() {
            Some(Field::OwnerTeam)
        } else {
            None
        }
    }

    fn details(&self, reach: Reach, kind: RecommendedKind) -> Result<Details, WizardError> {
        let path = self.checked_path(Some(reach))?;
        let owner_team = self.checked_team()?;
        let purpose = self.checked_purpose()?;
        if let Some(field) = self.missing_detail(kind) {
            return Err(WizardError::Missing { field });
        }
        Ok(Details {
            path,
            owner_team,
            purpose: purpose.unwrap_or_default(),
        })
    }

    fn checked_path(&self, reach: Option<Reach>) -> Result<Option<GitLabPath>, WizardError> {
        if self.path.trim().is_empty() {
            return Ok(None);
        }
        let path = GitLabPath::parse(&self.path).map_err(|message| WizardError::invalid(Field::Path, message))?;
        if reach == Some(Reach::OneProject) && path.segments() < 2 {
            return Err(WizardError::invalid(
                Field::Path,
                "a project's path starts with its group: group/project",
            ));
        }
        Ok(Some(path))
    }

    fn checked_team(&self) -> Result<Option<String>, WizardError> {
        checked_text(Field::OwnerTeam, &self.owner_team, OWNER_TEAM_MAX_CHARS)
    }

    fn checked_purpose(&self) -> Result<Option<String>, WizardError> {
        checked_text(Field::Purpose, &self.purpose, PURPOSE_MAX_CHARS)
    }
}

/// A short text that becomes part of a name: trimmed, not too long, with letters or digits,
/// and never a token's secret.
fn checked_text(field: Field, value: &str, max_chars: usize) -> Result<Option<String>, WizardError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max_chars {
        return Err(WizardError::invalid(field, format!("at most {max_chars} characters")));
    }
    if looks_like_a_secret(value) {
        return Err(WizardError::invalid(
            field,
            "this looks like a token's secret: never paste secrets here",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(WizardError::invalid(field, "use a single line of text"));
    }
    if slug(value).is_empty() {
        return Err(WizardError::invalid(
            field,
            "use letters or digits: it becomes part of the token's name",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A project's or group's full path, as GitLab allows it: parts of letters, digits, `_`, `-` and
/// `.`, separated by `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GitLabPath(String);

impl GitLabPath {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.contains("://") {
            return Err("give the path, not the URL: group/project".to_owned());
        }
        if text.chars().any(char::is_whitespace) {
            return Err("a GitLab path has no spaces: group/subgroup/project".to_owned());
        }
        let path = text.trim_matches('/');
        if path.chars().count() > PATH_MAX_CHARS {
            return Err(format!("at most {PATH_MAX_CHARS} characters"));
        }
        // Checked first: the messages below quote a part back.
        if looks_like_a_secret(path) {
            return Err("this looks like a token's secret: never paste secrets here".to_owned());
        }
        path.split('/').try_for_each(check_path_part)?;
        Ok(GitLabPath(path.to_owned()))
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> usize {
        self.0.split('/').count()
    }

    fn last_segment(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The path as the API takes it in place of an id: `gitlab-org%2Fgitlab`. The other
    /// characters a path may hold need no encoding.
    fn url_encoded(&self) -> String {
        self.0.replace('/', "%2F")
    }
}

fn check_path_part(part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err("a GitLab path has no empty parts: group/project".to_owned());
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "{bad:?} cannot be in a GitLab path: use letters, digits, '_', '-' and '.'"
        ));
    }
    if !part.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{part:?}: each part of a path starts with a letter, a digit or '_'"
        ));
    }
    if part.ends_with(".git") || part.ends_with(".atom") {
        return Err(format!("{part:?}: a path does not end in .git or .atom"));
    }
    Ok(())
}

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
    pub const ALL: [RecommendedKind; 5] = [
        RecommendedKind::ProjectDeployToken,
        RecommendedKind::GroupDeployToken,
        RecommendedKind::ProjectAccessToken,
        RecommendedKind::GroupAccessToken,
        RecommendedKind::ServiceAccount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecommendedKind::ProjectDeployToken => "project_deploy_token",
            RecommendedKind::GroupDeployToken => "group_deploy_token",
            RecommendedKind::ProjectAccessToken => "project_access_token",
            RecommendedKind::GroupAccessToken => "group_access_token",
            RecommendedKind::ServiceAccount => "service_account",
        }
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

    fn lives_in_group(self) -> bool {
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

impl fmt::Display for RecommendedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecommendedKind {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecommendedKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| ParseError::new("recommended kind", s))
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
fn lowest_role(needs: &Needs) -> AccessLevel {
    if needs.maintainer_actions {
        AccessLevel::Maintainer
    } else if needs.writes_anything() {
        AccessLevel::Developer
    } else {
        AccessLevel::Reporter
    }
}

/// The narrowest kind that fits (a service account always does).
fn choose_kind(needs: &Needs) -> RecommendedKind {
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

// ---------------------------------------------------------------------------------------------
// The guidelines, quoted
// ---------------------------------------------------------------------------------------------

/// A rule of the "Guidelines for automation and access tokens", by a stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    pub const ALL: [RuleId; 13] = [
        RuleId::ProjectDeployTokenSufficient,
        RuleId::ProjectAccessTokenSufficient,
        RuleId::GroupAccessTokenSufficient,
        RuleId::LeastPrivilege,
        RuleId::DontReuse,
        RuleId::ProjectAccessTokenByDefault,
        RuleId::SuitableName,
        RuleId::AlwaysExpire,
        RuleId::MinimumScopes,
        RuleId::ProjectDeployToken,
        RuleId::ServiceAccount,
        RuleId::RetrospectiveConfidentialIssues,
        RuleId::ReuseDisruptsRotation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ProjectDeployTokenSufficient => "project-deploy-token-sufficient",
            RuleId::ProjectAccessTokenSufficient => "project-access-token-sufficient",
            RuleId::GroupAccessTokenSufficient => "group-access-token-sufficient",
            RuleId::LeastPrivilege => "least-privilege",
            RuleId::DontReuse => "dont-reuse",
            RuleId::ProjectAccessTokenByDefault => "project-access-token-by-default",
            RuleId::SuitableName => "suitable-name",
            RuleId::AlwaysExpire => "always-expire",
            RuleId::MinimumScopes => "minimum-scopes",
            RuleId::ProjectDeployToken => "project-deploy-token",
            RuleId::ServiceAccount => "service-account",
            RuleId::RetrospectiveConfidentialIssues => "retrospective-confidential-issues",
            RuleId::ReuseDisruptsRotation => "reuse-disrupts-rotation",
        }
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

impl FromStr for RuleId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .into_iter()
            .find(|rule| rule.as_str() == s)
            .ok_or_else(|| ParseError::new("guideline rule", s))
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

fn quoted(ids: impl IntoIterator<Item = RuleId>) -> Vec<GuidelineRule> {
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
    fn new(id: AssumptionId, explanation: impl Into<String>) -> Self {
        Assumption {
            id,
            explanation: explanation.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The settings
// ---------------------------------------------------------------------------------------------

/// The wizard's settings, from the product's configuration.
///
/// Lifetimes: the guidelines require an expiry date but set no lifetime. GitLab refuses more
/// than 365 days (400 where that limit is raised), hence the maximum. The default of 90 days is
/// a quarter: a leaked token stops working within three months, and rotating four times a year
/// is bearable; GitLab's expiry emails (60, 30 and 7 days before) all fall inside it. Temporary
/// automation gets 30 days: long enough for a migration or an experiment, short enough that a
/// forgotten one dies on its own. A lifetime longer than the maximum is cut to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WizardPolicy {
    /// The longest lifetime the wizard recommends, in days (1 to 400).
    pub max_lifetime_days: u32,
    /// The lifetime of a token for lasting automation, in days.
    pub default_lifetime_days: u32,
    /// The lifetime of a token for temporary automation, in days.
    pub temporary_lifetime_days: u32,
    /// How the suggested names are built.
    pub naming: NamingConvention,
    /// The GitLab the links and commands point at, like `https://gitlab.com`.
    pub gitlab_url: String,
}

/// GitLab's ceiling on a token's lifetime where the longer limit is enabled.
pub const GITLAB_MAX_LIFETIME_DAYS: u32 = 400;

impl Default for WizardPolicy {
    fn default() -> Self {
        WizardPolicy {
            max_lifetime_days: 365,
            default_lifetime_days: 90,
            temporary_lifetime_days: 30,
            naming: NamingConvention::default(),
            gitlab_url: "https://gitlab.com".to_owned(),
        }
    }
}

impl WizardPolicy {
    /// Checks the settings: lifetimes of at least a day, temporary ≤ default ≤ maximum ≤ 400,
    /// and a plain `http(s)://` GitLab URL.
    pub fn validate(&self) -> Result<(), WizardError> {
        if !(1..=GITLAB_MAX_LIFETIME_DAYS).contains(&self.max_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the maximum lifetime is from 1 to {GITLAB_MAX_LIFETIME_DAYS} days, not {}",
                self.max_lifetime_days
            )));
        }
        if !(1..=self.max_lifetime_days).contains(&self.default_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the default lifetime is from 1 to {} days (the maximum), not {}",
                self.max_lifetime_days, self.default_lifetime_days
            )));
        }
        if !(1..=self.default_lifetime_days).contains(&self.temporary_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the temporary lifetime is from 1 to {} days (the default), not {}",
                self.default_lifetime_days, self.temporary_lifetime_days
            )));
        }
        let url = self.base_url();
        let plain = url.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-_~%".contains(c));
        let has_host = ["https://", "http://"]
            .iter()
            .any(|scheme| url.strip_prefix(scheme).is_some_and(|host| !host.is_empty()));
        if !plain || !has_host {
            return Err(WizardError::policy(format!(
                "the GitLab URL is like https://gitlab.example.com, not {:?}",
                self.gitlab_url
            )));
        }
        Ok(())
    }

    /// The token's lifetime, in days: shorter for temporary automation, never above the maximum.
    pub fn lifetime_days(&self, temporary: bool) -> u32 {
        let wanted = if temporary {
            self.temporary_lifetime_days
        } else {
            self.default_lifetime_days
        };
        wanted.clamp(1, self.max_lifetime_days.max(1))
    }

    fn base_url(&self) -> &str {
        self.gitlab_url.trim().trim_end_matches('/')
    }
}

/// How suggested names are built: a template such as `{team}-{purpose}`.
///
/// Syntax: literal text of lower-case letters, digits, `-`, `_` and `.`, and the placeholders
/// `{team}` (the owning team), `{purpose}` (the purpose; required, so that every automation gets
/// a name of its own) and `{path}` (the last part of the project or group path). Each value is
/// put in lower case with every run of other characters turned into one `-`. A placeholder
/// without a value (no team, no path) disappears with the separator next to it. At most 100
/// characters. Names never hold spaces or quotes, so they are safe as usernames and in shell
/// commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NamingConvention {
    template: String,
    parts: Vec<NamePart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NamePart {
    Text(String),
    Team,
    Purpose,
    Path,
}

/// A naming template that does not follow the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("naming convention {template:?}: {reason}")]
pub struct NamingConventionError {
    pub template: String,
    pub reason: String,
}

/// The longest naming template.
pub const NAMING_TEMPLATE_MAX_CHARS: usize = 100;

impl NamingConvention {
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The name for these values (see the type's documentation for the rules).
    pub fn render(&self, team: Option<&str>, purpose: &str, path: Option<&str>) -> String {
        let name: String = self
            .parts
            .iter()
            .map(|part| match part {
                NamePart::Text(text) => text.clone(),
                NamePart::Team => slug(team.unwrap_or_default()),
                NamePart::Purpose => slug(purpose),
                NamePart::Path => slug(path.unwrap_or_default()),
            })
            .collect();
        let name = tidy_separators(&name);
        tidy_separators(&name.chars().take(NAME_MAX_CHARS).collect::<String>())
    }

    fn parse_parts(template: &str) -> Result<Vec<NamePart>, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or("a '{' is never closed")?;
                parts.push(match &after[..end] {
                    "team" => NamePart::Team,
                    "purpose" => NamePart::Purpose,
                    "path" => NamePart::Path,
                    other => {
                        return Err(format!(
                            "{{{other}}} is not a placeholder: use {{team}}, {{purpose}} or {{path}}"
                        ));
                    }
                });
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if let Some(bad) = text.chars().find(|c| !is_name_char(*c)) {
                    return Err(format!(
                        "{bad:?} is not allowed: use lower-case letters, digits, '-', '_' and '.' around the \
                         placeholders"
                    ));
                }
                parts.push(NamePart::Text(text.to_owned()));
                rest = &rest[end..];
            }
        }
        if !parts.contains(&NamePart::Purpose) {
            return Err("it must hold {purpose}, so that every automation gets a name of its own".to_owned());
        }
        Ok(parts)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || is_separator(c)
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// Lower case, every run of other characters one `-`, none at the ends.
fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Keeps the first of each run of separators, and none at the ends.
fn tidy_separators(name: &str) -> String {
    let mut tidy = String::new();
    for c in name.chars() {
        if is_separator(c) && (tidy.is_empty() || tidy.ends_with(is_separator)) {
            continue;
        }
        tidy.push(c);
    }
    tidy.trim_end_matches(is_separator).to_owned()
}

impl Default for NamingConvention {
    fn default() -> Self {
        NamingConvention {
            template: "{team}-{purpose}".to_owned(),
            parts: vec![NamePart::Team, NamePart::Text("-".to_owned()), NamePart::Purpose],
        }
    }
}

impl FromStr for NamingConvention {
    type Err = NamingConventionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let template = s.trim();
        let error = |reason: String| NamingConventionError {
            template: template.to_owned(),
            reason,
        };
        if template.chars().count() > NAMING_TEMPLATE_MAX_CHARS {
            return Err(error(format!("at most {NAMING_TEMPLATE_MAX_CHARS} characters")));
        }
        let parts = NamingConvention::parse_parts(template).map_err(error)?;
        Ok(NamingConvention {
            template: template.to_owned(),
            parts,
        })
    }
}

impl TryFrom<String> for NamingConvention {
    type Error = NamingConventionError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<NamingConvention> for String {
    fn from(convention: NamingConvention) -> Self {
        convention.template
    }
}

impl fmt::Display for NamingConvention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

// ---------------------------------------------------------------------------------------------
// The recommendation
// ---------------------------------------------------------------------------------------------

/// What the wizard recommends: always a new token (or account), never an existing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub kind: RecommendedKind,
    /// The fewest scopes that do the job, read-only where it only reads; never empty; in
    /// GitLab's order.
    pub scopes: Vec<Scope>,
    /// The lowest role that works; `None` for deploy tokens, which have no role.
    pub role: Option<AccessLevel>,
    /// Always set, and never later than the policy's maximum lifetime from today.
    pub expires_on: NaiveDate,
    pub lifetime_days: u32,
    /// The suggested name, which is also the bot user's (or service account's) name.
    pub name: String,
    /// The guideline sentences the recommendation rests on, quoted.
    pub rules: Vec<GuidelineRule>,
    /// Where the guidelines are silent: what the wizard chose, and why.
    pub assumptions: Vec<Assumption>,
    pub next_step: NextStep,
    /// Every other kind, and reusing an existing token, with why each lost.
    pub alternatives: Vec<Alternative>,
}

/// What to do to get the recommended token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextStep {
    /// Create the token yourself, on a settings page or with the API.
    CreateToken(TokenCreation),
    /// Ask for a service account.
    RequestServiceAccount(Box<ServiceAccountRequest>),
}

/// How to create a token: the settings page, or the API with `curl` or `glab`. The commands read
/// the creator's own token from `$GITLAB_TOKEN`: they never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreation {
    /// What to do, in a sentence or two.
    pub instructions: String,
    /// The GitLab settings page where it is created.
    pub settings_url: String,
    /// The API endpoint that creates it.
    pub api_url: String,
    pub curl: String,
    pub glab: String,
}

/// What to ask for, and from whom, to get a service account. Carries the answers, so the
/// request form can be filled in from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountRequest {
    /// Who to ask, and how.
    pub ask: String,
    /// What to ask for, in a few sentences.
    pub instructions: String,
    pub account_name: String,
    pub owner_team: String,
    pub purpose: String,
    pub reach: Reach,
    /// The groups or projects it needs membership in (placeholders where not known).
    pub memberships: Vec<String>,
    pub role: AccessLevel,
    pub scopes: Vec<Scope>,
    pub token_expires_on: NaiveDate,
    /// Where the guidelines explain how to request one.
    pub guideline_url: String,
    pub answers: WizardAnswers,
}

/// A kind the wizard did not recommend (or, with no kind, reusing an existing token), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// `None`: reusing an existing token.
    pub kind: Option<RecommendedKind>,
    pub label: String,
    pub why_not: String,
    pub rules: Vec<GuidelineRule>,
}

/// What the recommendation is built from, once decided.
struct Plan<'a> {
    kind: RecommendedKind,
    needs: Needs,
    details: Details,
    name: String,
    scopes: Vec<Scope>,
    role: Option<AccessLevel>,
    expires_on: NaiveDate,
    answers: &'a WizardAnswers,
}

/// Recommends the token for the automation the answers describe, as the guidelines decide it:
/// the narrowest kind that fits, its minimum scopes and lowest role, an expiry within the
/// policy's maximum from `today`, a name by the naming convention, the guideline sentences, the
/// next step and the alternatives that lost.
///
/// Fails with the first missing or invalid answer (naming its field), or a settings fault.
pub fn recommend_token_kind(
    answers: &WizardAnswers,
    policy: &WizardPolicy,
    today: NaiveDate,
) -> Result<Recommendation, WizardError> {
    policy.validate()?;
    let needs = answers.needs()?;
    let kind = choose_kind(&needs);
    let details = answers.details(needs.reach, kind)?;
    let lifetime_days = policy.lifetime_days(needs.temporary);
    let expires_on = today
        .checked_add_days(Days::new(u64::from(lifetime_days)))
        .ok_or_else(|| WizardError::policy("the expiry date is beyond the calendar"))?;
    let name = policy.naming.render(
        details.owner_team.as_deref(),
        &details.purpose,
        details.path.as_ref().map(GitLabPath::last_segment),
    );
    let plan = Plan {
        kind,
        needs,
        scopes: kind.scopes(&needs),
        role: kind.role(&needs),
        details,
        name,
        expires_on,
        answers,
    };
    Ok(Recommendation {
        kind,
        rules: quoted(rules_for(kind, &needs)),
        assumptions: assumptions_for(kind, &needs, policy, lifetime_days),
        next_step: next_step(&plan, policy.base_url()),
        alternatives: alternatives(kind, &needs),
        scopes: plan.scopes,
        role: plan.role,
        expires_on,
        lifetime_days,
        name: plan.name,
    })
}

fn rules_for(kind: RecommendedKind, needs: &Needs) -> Vec<RuleId> {
    use RecommendedKind::*;
    let mut rules = vec![RuleId::DontReuse];
    match kind {
        ProjectDeployToken => rules.extend([RuleId::ProjectDeployTokenSufficient, RuleId::ProjectDeployToken]),
        GroupDeployToken => rules.extend([RuleId::ProjectDeployToken, RuleId::LeastPrivilege]),
        ProjectAccessToken => {
            if needs.api.is_used() {
                rules.push(RuleId::ProjectAccessTokenSufficient);
            }
            rules.push(RuleId::ProjectAccessTokenByDefault);
        }
        GroupAccessToken => {
            if needs.api.is_used() {
                rules.push(RuleId::GroupAccessTokenSufficient);
            }
            rules.push(RuleId::LeastPrivilege);
        }
        ServiceAccount => {
            if needs.confidential_issues {
                rules.push(RuleId::RetrospectiveConfidentialIssues);
            }
            rules.push(RuleId::ServiceAccount);
        }
    }
    rules.extend([RuleId::SuitableName, RuleId::AlwaysExpire, RuleId::MinimumScopes]);
    rules
}

fn assumptions_for(kind: RecommendedKind, needs: &Needs, policy: &WizardPolicy, lifetime_days: u32) -> Vec<Assumption> {
    use AssumptionId as Id;
    let deploy_misfits = RecommendedKind::ProjectDeployToken.misfits(needs);
    let no_api = !needs.api.is_used();
    let mut assumptions = Vec::new();
    let mut note = |id, explanation: &str| assumptions.push(Assumption::new(id, explanation));
    if kind == RecommendedKind::GroupDeployToken {
        note(
            Id::GroupDeployToken,
            "The guidelines name project deploy tokens only. For repository, packages or container registry \
             automation across one group and its projects, a group deploy token is the same kind of token at \
             group level, and the least privileged one that works.",
        );
    }
    if !kind.is_deploy_token() && no_api && deploy_misfits.contains(&Misfit::CannotWriteRepository) {
        note(
            Id::DeployTokensCannotPush,
            "The guidelines give repository automation to deploy tokens, but deploy tokens cannot push: writing \
             the repository needs an access token with write_repository.",
        );
    }
    if !kind.is_deploy_token() && no_api && deploy_misfits.contains(&Misfit::HasNoRole) {
        note(
            Id::DeployTokensHaveNoRole,
            "The guidelines give repository and registry automation to deploy tokens, but deploy tokens have no \
             role: Maintainer-level actions need an access token with the Maintainer role.",
        );
    }
    if kind == RecommendedKind::ProjectAccessToken && needs.maintainer_actions {
        note(
            Id::MaintainerWithinProject,
            "The guidelines call for a service account when Maintainer-level automation works at group level or \
             across projects. Within one project, a project access token with the Maintainer role does it.",
        );
    }
    if kind == RecommendedKind::ServiceAccount && needs.reach > Reach::OneGroup && !needs.maintainer_actions {
        note(
            Id::BeyondOneGroup,
            "The guidelines do not say which token serves automation across several groups or the whole \
             instance without Maintainer-level actions. No project or group token reaches beyond its project or \
             group, and one token per group would be several tokens for one automation, so a service account, \
             made a member only where it works, is the narrowest that works.",
        );
    }
    if kind == RecommendedKind::ServiceAccount && needs.confidential_issues {
        note(
            Id::ConfidentialIssues,
            "The guidelines only say a project access token can't be used when fetching confidential issues. A \
             group access token is a bot token of the same kind, so the wizard follows the section for when \
             project access tokens can't be used: a service account.",
        );
    }
    if !kind.is_deploy_token() && needs.package_registry.is_used() {
        note(
            Id::PackagesThroughApi,
            "Access tokens have no package registry scopes: they download packages with read_api and publish them \
             with api.",
        );
    }
    if !kind.is_deploy_token() {
        note(
            Id::LowestRole,
            "The guidelines do not name roles. The wizard gives the lowest that works: Reporter to read code, \
             registries and the API of private projects (Guest cannot read code there), Developer to push code, \
             images or packages or to write through the API, Maintainer only for Maintainer-level actions.",
        );
    }
    note(
        Id::Lifetime,
        &format!(
            "The guidelines require an expiry date but set no lifetime. The wizard gives {lifetime_days} days: \
             {} days for lasting automation, {} for temporary automation, never more than {}.",
            policy.default_lifetime_days, policy.temporary_lifetime_days, policy.max_lifetime_days
        ),
    );
    assumptions
}

fn alternatives(chosen: RecommendedKind, needs: &Needs) -> Vec<Alternative> {
    let mut alternatives: Vec<Alternative> = RecommendedKind::ALL
        .into_iter()
        .filter(|kind| *kind != chosen)
        .map(|kind| alternative(kind, chosen, needs))
        .collect();
    alternatives.push(Alternative {
        kind: None,
        label: "reuse an existing token".to_owned(),
        why_not: "Never reuse an existing token: create a new one for this automation, so that it is clear what \
                  each token is used for and revoking one breaks only one automation."
            .to_owned(),
        rules: quoted([RuleId::DontReuse, RuleId::ReuseDisruptsRotation]),
    });
    alternatives
}

fn alternative(kind: RecommendedKind, chosen: RecommendedKind, needs: &Needs) -> Alternative {
    let misfits = kind.misfits(needs);
    let (why_not, rules) = if misfits.is_empty() {
        let mut rules = vec![RuleId::LeastPrivilege];
        if kind == RecommendedKind::ServiceAccount {
            rules.push(RuleId::ServiceAccount);
        }
        if chosen.is_deploy_token() {
            rules.push(RuleId::ProjectDeployToken);
        }
        let why_not = format!(
            "It would work, but a {} reaches more than a {}, which is enough: the guidelines ask for the least \
             privileged access.",
            kind.label(),
            chosen.label()
        );
        (why_not, rules)
    } else {
        let why_not = misfits
            .iter()
            .map(|misfit| misfit.explanation())
            .collect::<Vec<_>>()
            .join(" ");
        let rules = misfits
            .iter()
            .flat_map(|misfit| misfit.rules().iter().copied())
            .collect();
        (why_not, rules)
    };
    Alternative {
        kind: Some(kind),
        label: kind.label().to_owned(),
        why_not,
        rules: quoted(rules),
    }
}

fn next_step(plan: &Plan<'_>, base_url: &str) -> NextStep {
    match plan.kind {
        RecommendedKind::ServiceAccount => NextStep::RequestServiceAccount(Box::new(service_account_request(plan))),
        _ => NextStep::CreateToken(token_creation(plan, base_url)),
    }
}

fn token_creation(plan: &Plan<'_>, base_url: &str) -> TokenCreation {
    let kind = plan.kind;
    let in_group = kind.lives_in_group();
    let (path, api_id) = match &plan.details.path {
        Some(path) => (path.as_str().to_owned(), path.url_encoded()),
        None if in_group => ("<group-path>".to_owned(), "<group-id>".to_owned()),
        None => ("<project-path>".to_owned(), "<project-id>".to_owned()),
    };
    let page = if kind.is_deploy_token() {
        "repository"
    } else {
        "access_tokens"
    };
    let settings_url = if in_group {
        format!("{base_url}/groups/{path}/-/settings/{page}")
    } else {
        format!("{base_url}/{path}/-/settings/{page}")
    };
    let collection = if in_group { "groups" } else { "projects" };
    let endpoint = if kind.is_deploy_token() {
        "deploy_tokens"
    } else {
        "access_tokens"
    };
    let api_url = format!("{base_url}/api/v4/{collection}/{api_id}/{endpoint}");
    TokenCreation {
        instructions: creation_instructions(plan, &path, &settings_url),
        curl: curl_command(plan, &api_url),
        glab: glab_command(plan, &path),
        settings_url,
        api_url,
    }
}

fn creation_instructions(plan: &Plan<'_>, path: &str, settings_url: &str) -> String {
    let kind = plan.kind;
    let creator = if kind.lives_in_group() { "Owner" } else { "Maintainer" };
    let page = if kind.is_deploy_token() {
        format!("open {settings_url}, expand Deploy tokens and add a token")
    } else {
        format!("open {settings_url} and add a new token")
    };
    let role = match plan.role {
        Some(role) => format!(", role {}", role.label()),
        None => String::new(),
    };
    let scopes = scope_list(&plan.scopes);
    let mut text = format!(
        "Create a new {} for {path}: {page} named {}{role}, scopes {scopes}, expiring on {}; or run one of the \
         commands below with your own token in GITLAB_TOKEN. Creating it takes the {creator} role there.",
        kind.label(),
        plan.name,
        plan.expires_on
    );
    if kind.role(&plan.needs).is_some() {
        text.push_str(" You cannot give the token a role above your own.");
    }
    if plan.details.path.is_none() {
        text.push_str(&format!(" Replace {path} with the real path first."));
    }
    text.push_str(
        " Keep the new token's secret in a vault, never in code or chat, and record its owner and purpose in \
         the inventory.",
    );
    text
}

fn curl_command(plan: &Plan<'_>, api_url: &str) -> String {
    // Keys go in in alphabetical order, so the text is the same whether or not serde_json keeps
    // insertion order.
    let mut body = serde_json::Map::new();
    if let Some(role) = plan.role {
        body.insert("access_level".to_owned(), i32::from(role).into());
    }
    let expires_at = if plan.kind.is_deploy_token() {
        format!("{}T00:00:00Z", plan.expires_on)
    } else {
        plan.expires_on.to_string()
    };
    body.insert("expires_at".to_owned(), expires_at.into());
    body.insert("name".to_owned(), plan.name.clone().into());
    body.insert(
        "scopes".to_owned(),
        plan.scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .into(),
    );
    let body = serde_json::Value::Object(body).to_string();
    format!(
        "curl --request POST \\\n  --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \\\n  --header \"Content-Type: \
         application/json\" \\\n  --data {} \\\n  {}",
        shell_quote(&body),
        shell_quote(api_url)
    )
}

fn glab_command(plan: &Plan<'_>, path: &str) -> String {
    let kind = plan.kind;
    let command = if kind.is_deploy_token() {
        "deploy-token"
    } else {
        "token"
    };
    let place = if kind.lives_in_group() { "--group" } else { "--repo" };
    let mut words: Vec<String> = ["glab", command, "create", plan.name.as_str(), place, path]
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(role) = plan.role {
        words.extend(["--access-level".to_owned(), role.label().to_lowercase()]);
    }
    for scope in &plan.scopes {
        words.extend(["--scope".to_owned(), scope.as_str().to_owned()]);
    }
    words.extend(["--expires-at".to_owned(), plan.expires_on.to_string()]);
    words.iter().map(|word| shell_quote(word)).collect::<Vec<_>>().join(" ")
}

fn service_account_request(plan: &Plan<'_>) -> ServiceAccountRequest {
    let needs = &plan.needs;
    let owner_team = plan.details.owner_team.clone().unwrap_or_default();
    let memberships = memberships(needs.reach, plan.details.path.as_ref());
    let role = lowest_role(needs);
    let instructions = format!(
        "Ask for a new service account named {}, owned by {owner_team}, for: {}. It needs the {} role in {}, and \
         a token with scopes {} expiring on {}. Don't reuse an existing service account or its token.",
        plan.name,
        plan.details.purpose,
        role.label(),
        memberships.join(", "),
        scope_list(&plan.scopes),
        plan.expires_on
    );
    ServiceAccountRequest {
        ask: "The security team's access management, through the service account request form; the owning team's \
              lead endorses it."
            .to_owned(),
        instructions,
        account_name: plan.name.clone(),
        owner_team,
        purpose: plan.details.purpose.clone(),
        reach: needs.reach,
        memberships,
        role,
        scopes: plan.scopes.clone(),
        token_expires_on: plan.expires_on,
        guideline_url: SERVICE_ACCOUNT_REQUEST_URL.to_owned(),
        answers: plan.answers.clone(),
    }
}

fn memberships(reach: Reach, path: Option<&GitLabPath>) -> Vec<String> {
    let path = path.map(|path| path.as_str().to_owned());
    match (reach, path) {
        (Reach::OneProject | Reach::OneGroup, Some(path)) => vec![path],
        (Reach::OneProject, None) => vec!["<project-path>".to_owned()],
        (Reach::OneGroup, None) => vec!["<group-path>".to_owned()],
        (Reach::SeveralGroups | Reach::Instance, Some(path)) => vec![path, "<each-other-group-path>".to_owned()],
        (Reach::SeveralGroups | Reach::Instance, None) => vec!["<each-group-path>".to_owned()],
    }
}

fn scope_list(scopes: &[Scope]) -> String {
    scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(", ")
}

/// The word as the shell reads it: as is when it holds only safe characters, else in single
/// quotes.
fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    const TODAY: &str = "2026-11-25";

    /// Decision answers from a compact spec: usages of repository, package registry, container
    /// registry and API as `-` (unused), `r` (reads) or `w` (writes).
    fn answers(usages: &str, reach: Reach, maintainer: bool, confidential: bool) -> WizardAnswers {
        let usage = |index: usize| match usages.as_bytes().get(index) {
            Some(b'r') => Usage::Reads,
            Some(b'w') => Usage::Writes,
            _ => Usage::Unused,
        };
        WizardAnswers {
            repository: usage(0),
            package_registry: usage(1),
            container_registry: usage(2),
            api: usage(3),
            reach: Some(reach),
            maintainer_actions: Some(maintainer.into()),
            confidential_issues: Some(confidential.into()),
            temporary: Some(YesNo::No),
            path: String::new(),
            owner_team: "Engineering Productivity".to_owned(),
            purpose: "triage".to_owned(),
        }
    }

    fn recommend(answers: &WizardAnswers) -> Recommendation {
        recommend_token_kind(answers, &WizardPolicy::default(), day(TODAY)).expect("a recommendation")
    }

    /// Usages, reach, maintainer actions, confidential issues → kind, scopes, role.
    type DecisionRow = (
        &'static str,
        Reach,
        bool,
        bool,
        RecommendedKind,
        &'static [Scope],
        Option<AccessLevel>,
    );

    #[test]
    fn every_path_through_the_decision() {
        use AccessLevel::*;
        use Reach::*;
        use RecommendedKind::*;
        use Scope::*;
        // (repository, packages, container registry, API as - r w), reach, maintainer, confidential
        //   → kind, scopes, role
        #[rustfmt::skip]
        let table: &[DecisionRow] = &[
            // Repository, packages, container registry within a project: a project deploy token.
            ("r---", OneProject, false, false, ProjectDeployToken, &[ReadRepository], None),
            ("-r--", OneProject, false, false, ProjectDeployToken, &[ReadPackageRegistry], None),
            ("-w--", OneProject, false, false, ProjectDeployToken, &[ReadPackageRegistry, WritePackageRegistry], None),
            ("--r-", OneProject, false, false, ProjectDeployToken, &[ReadRegistry], None),
            ("--w-", OneProject, false, false, ProjectDeployToken, &[ReadRegistry, WriteRegistry], None),
            ("rrw-", OneProject, false, false, ProjectDeployToken,
                &[ReadRepository, ReadRegistry, WriteRegistry, ReadPackageRegistry], None),
            // Confidential issues without the API: ignored (there is no other way to read issues).
            ("r---", OneProject, false, true, ProjectDeployToken, &[ReadRepository], None),
            // The same within one group: a group deploy token.
            ("r---", OneGroup, false, false, GroupDeployToken, &[ReadRepository], None),
            ("-ww-", OneGroup, false, false, GroupDeployToken,
                &[ReadRegistry, WriteRegistry, ReadPackageRegistry, WritePackageRegistry], None),
            // Pushing to the repository: deploy tokens cannot, so an access token.
            ("w---", OneProject, false, false, ProjectAccessToken, &[WriteRepository], Some(Developer)),
            ("w-w-", OneProject, false, false, ProjectAccessToken,
                &[WriteRepository, ReadRegistry, WriteRegistry], Some(Developer)),
            ("w---", OneGroup, false, false, GroupAccessToken, &[WriteRepository], Some(Developer)),
            // Maintainer-level actions within one project: deploy tokens have no role.
            ("r---", OneProject, true, false, ProjectAccessToken, &[ReadRepository], Some(Maintainer)),
            ("--w-", OneProject, true, false, ProjectAccessToken, &[ReadRegistry, WriteRegistry], Some(Maintainer)),
            ("---w", OneProject, true, false, ProjectAccessToken, &[Api], Some(Maintainer)),
            // API within a project: a project access token, read_api when it only reads.
            ("---r", OneProject, false, false, ProjectAccessToken, &[ReadApi], Some(Reporter)),
            ("---w", OneProject, false, false, ProjectAccessToken, &[Api], Some(Developer)),
            ("r--r", OneProject, false, false, ProjectAccessToken, &[ReadApi], Some(Reporter)),
            ("w--r", OneProject, false, false, ProjectAccessToken, &[ReadApi, WriteRepository], Some(Developer)),
            ("--wr", OneProject, false, false, ProjectAccessToken, &[ReadApi, WriteRegistry], Some(Developer)),
            ("wwww", OneProject, false, false, ProjectAccessToken, &[Api], Some(Developer)),
            // Packages with the API: access tokens reach packages through read_api / api.
            ("-r-r", OneProject, false, false, ProjectAccessToken, &[ReadApi], Some(Reporter)),
            ("-w-r", OneProject, false, false, ProjectAccessToken, &[Api], Some(Developer)),
            // API within a group: a group access token.
            ("---r", OneGroup, false, false, GroupAccessToken, &[ReadApi], Some(Reporter)),
            ("---w", OneGroup, false, false, GroupAccessToken, &[Api], Some(Developer)),
            ("rr-w", OneGroup, false, false, GroupAccessToken, &[Api], Some(Developer)),
            // Group level and Maintainer permission: a service account.
            ("---w", OneGroup, true, false, ServiceAccount, &[Api], Some(Maintainer)),
            ("r---", OneGroup, true, false, ServiceAccount, &[ReadRepository], Some(Maintainer)),
            // Confidential issues: not a project (nor group) access token.
            ("---r", OneProject, false, true, ServiceAccount, &[ReadApi], Some(Reporter)),
            ("---w", OneProject, false, true, ServiceAccount, &[Api], Some(Developer)),
            ("---r", OneGroup, false, true, ServiceAccount, &[ReadApi], Some(Reporter)),
            // Beyond one group: no project or group token reaches there.
            ("---r", SeveralGroups, false, false, ServiceAccount, &[ReadApi], Some(Reporter)),
            ("r---", SeveralGroups, false, false, ServiceAccount, &[ReadRepository], Some(Reporter)),
            ("w---", SeveralGroups, true, false, ServiceAccount, &[WriteRepository], Some(Maintainer)),
            ("--r-", Instance, false, false, ServiceAccount, &[ReadRegistry], Some(Reporter)),
            ("---w", Instance, true, false, ServiceAccount, &[Api], Some(Maintainer)),
        ];
        for (usages, reach, maintainer, confidential, kind, scopes, role) in table {
            let answers = answers(usages, *reach, *maintainer, *confidential);
            let case = format!("{usages} {reach:?} maintainer={maintainer} confidential={confidential}");
            let recommendation = recommend(&answers);
            assert_eq!(recommendation.kind, *kind, "{case}");
            assert_eq!(recommendation.scopes, scopes.to_vec(), "{case}");
            assert_eq!(recommendation.role, *role, "{case}");
            assert!(fits(*kind, &answers), "{case}");
        }
    }

    #[test]
    fn each_misfit_has_its_cause() {
        use Misfit::*;
        use Reach::*;
        use RecommendedKind::*;
        let needs = |usages: &str, reach, maintainer, confidential| {
            answers(usages, reach, maintainer, confidential)
                .needs()
                .expect("answered")
        };
        #[rustfmt::skip]
        let table = [
            (ProjectDeployToken, needs("---r", OneProject, false, false), vec![NoApiAccess]),
            (ProjectDeployToken, needs("w---", OneProject, false, false), vec![CannotWriteRepository]),
            (ProjectDeployToken, needs("r---", OneProject, true, false), vec![HasNoRole]),
            (ProjectDeployToken, needs("r---", OneGroup, false, false), vec![OneProjectOnly]),
            (GroupDeployToken, needs("r---", OneGroup, false, false), vec![]),
            (GroupDeployToken, needs("r---", SeveralGroups, false, false), vec![OneGroupOnly]),
            (ProjectAccessToken, needs("---r", OneProject, false, true), vec![ConfidentialIssues]),
            (ProjectAccessToken, needs("---r", Instance, true, false), vec![OneProjectOnly]),
            (GroupAccessToken, needs("---r", OneGroup, true, true), vec![ConfidentialIssues, MaintainerAtGroupLevel]),
            (GroupAccessToken, needs("---r", Instance, false, false), vec![OneGroupOnly]),
            (ServiceAccount, needs("wwww", Instance, true, true), vec![]),
            (ProjectDeployToken, needs("w--w", SeveralGroups, true, true),
                vec![NoApiAccess, CannotWriteRepository, HasNoRole, OneProjectOnly]),
        ];
        for (kind, needs, expected) in table {
            assert_eq!(kind.misfits(&needs), expected, "{kind} {needs:?}");
        }
    }

    #[test]
    fn the_wizard_asks_its_questions_in_order() {
        let mut answers = WizardAnswers::default();
        assert_eq!(answers.next_question(), Some(Question::Touches));
        answers.api = Usage::Reads;
        assert_eq!(answers.next_question(), Some(Question::Reach));
        answers.reach = Some(Reach::OneProject);
        assert_eq!(answers.next_question(), Some(Question::MaintainerActions));
        answers.maintainer_actions = Some(YesNo::No);
        assert_eq!(answers.next_question(), Some(Question::ConfidentialIssues));
        answers.confidential_issues = Some(YesNo::No);
        assert_eq!(answers.next_question(), Some(Question::Temporary));
        answers.temporary = Some(YesNo::Yes);
        assert_eq!(answers.next_question(), Some(Question::Details));
        answers.purpose = "retrospective".into();
        assert_eq!(answers.next_question(), None, "a project access token needs no team");
        answers.confidential_issues = Some(YesNo::Yes);
        assert_eq!(
            answers.next_question(),
            Some(Question::Details),
            "a service account needs a team"
        );
        answers.owner_team = "Engineering Productivity".into();
        assert_eq!(answers.next_question(), None);
    }

    #[test]
    fn the_confidential_issues_question_is_skipped_without_the_api() {
        let mut answers = WizardAnswers {
            repository: Usage::Reads,
            reach: Some(Reach::OneProject),
            maintainer_actions: Some(YesNo::No),
            ..WizardAnswers::default()
        };
        assert_eq!(answers.next_question(), Some(Question::Temporary));
        answers.temporary = Some(YesNo::No);
        answers.purpose = "mirror".into();
        assert_eq!(answers.next_question(), None);
    }

    #[test]
    fn each_step_names_its_own_unanswered_field() {
        let complete = answers("---r", Reach::Instance, true, false);
        assert!(Question::ALL.iter().all(|q| complete.unanswered(*q).is_none()));
        let blank = WizardAnswers::default();
        let table = [
            (Question::Touches, Some(Field::Touches)),
            (Question::Reach, Some(Field::Reach)),
            (Question::MaintainerActions, Some(Field::MaintainerActions)),
            (Question::ConfidentialIssues, None), // no API use: not asked
            (Question::Temporary, Some(Field::Temporary)),
            (Question::Details, Some(Field::Purpose)),
        ];
        for (question, field) in table {
            assert_eq!(blank.unanswered(question), field, "{question:?}");
        }
        let reads_api = WizardAnswers {
            confidential_issues: None,
            ..complete.clone()
        };
        assert_eq!(
            reads_api.unanswered(Question::ConfidentialIssues),
            Some(Field::ConfidentialIssues)
        );
        // A service account needs its owner team; other kinds do not.
        assert_eq!(complete.kind(), Some(RecommendedKind::ServiceAccount));
        let no_team = WizardAnswers {
            owner_team: String::new(),
            ..complete.clone()
        };
        assert_eq!(no_team.unanswered(Question::Details), Some(Field::OwnerTeam));
        let deploy = WizardAnswers {
            owner_team: String::new(),
            ..answers("r---", Reach::OneProject, false, false)
        };
        assert_eq!(deploy.unanswered(Question::Details), None);
    }

    #[test]
    fn missing_and_invalid_answers_name_their_field() {
        let complete = answers("---r", Reach::OneProject, false, false);
        let table: Vec<(&str, WizardAnswers, Field, Option<&str>)> = vec![
            (
                "nothing touched",
                WizardAnswers {
                    api: Usage::Unused,
                    ..complete.clone()
                },
                Field::Touches,
                None,
            ),
            (
                "no reach",
                WizardAnswers {
                    reach: None,
                    ..complete.clone()
                },
                Field::Reach,
                None,
            ),
            (
                "no maintainer answer",
                WizardAnswers {
                    maintainer_actions: None,
                    ..complete.clone()
                },
                Field::MaintainerActions,
                None,
            ),
            (
                "no confidential answer",
                WizardAnswers {
                    confidential_issues: None,
                    ..complete.clone()
                },
                Field::ConfidentialIssues,
                None,
            ),
            (
                "no temporary answer",
                WizardAnswers {
                    temporary: None,
                    ..complete.clone()
                },
                Field::Temporary,
                None,
            ),
            (
                "no purpose",
                WizardAnswers {
                    purpose: "  ".into(),
                    ..complete.clone()
                },
                Field::Purpose,
                None,
            ),
            (
                "a service account without a team",
                WizardAnswers {
                    owner_team: String::new(),
                    reach: Some(Reach::Instance),
                    ..complete.clone()
                },
                Field::OwnerTeam,
                None,
            ),
            (
                "a too long purpose",
                WizardAnswers {
                    purpose: "x".repeat(PURPOSE_MAX_CHARS + 1),
                    ..complete.clone()
                },
                Field::Purpose,
                Some("at most 60 characters"),
            ),
            (
                "a purpose without letters",
                WizardAnswers {
                    purpose: "!!!".into(),
                    ..complete.clone()
                },
                Field::Purpose,
                Some("use letters or digits: it becomes part of the token's name"),
            ),
            (
                "a secret as purpose",
                WizardAnswers {
                    purpose: "glpat-abcdefghijklmnopqrst".into(),
                    ..complete.clone()
                },
                Field::Purpose,
                Some("this looks like a token's secret: never paste secrets here"),
            ),
            (
                "a two-line purpose",
                WizardAnswers {
                    purpose: "allure\nreports".into(),
                    ..complete.clone()
                },
                Field::Purpose,
                Some("use a single line of text"),
            ),
            (
                "a too long team",
                WizardAnswers {
                    owner_team: "t".repeat(OWNER_TEAM_MAX_CHARS + 1),
                    ..complete.clone()
                },
                Field::OwnerTeam,
                Some("at most 100 characters"),
            ),
            (
                "a path with spaces",
                WizardAnswers {
                    path: "gitlab-org/my project".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("a GitLab path has no spaces: group/subgroup/project"),
            ),
            (
                "a URL as path",
                WizardAnswers {
                    path: "https://gitlab.com/gitlab-org/gitlab".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("give the path, not the URL: group/project"),
            ),
            (
                "a project path without its group",
                WizardAnswers {
                    path: "gitlab".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("a project's path starts with its group: group/project"),
            ),
            (
                "an empty part",
                WizardAnswers {
                    path: "gitlab-org//gitlab".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("a GitLab path has no empty parts: group/project"),
            ),
            (
                "a forbidden character",
                WizardAnswers {
                    path: "gitlab-org/git$lab".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("'$' cannot be in a GitLab path: use letters, digits, '_', '-' and '.'"),
            ),
            (
                "a part starting with a dash",
                WizardAnswers {
                    path: "gitlab-org/-lab".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("\"-lab\": each part of a path starts with a letter, a digit or '_'"),
            ),
            (
                "a .git ending",
                WizardAnswers {
                    path: "gitlab-org/gitlab.git".into(),
                    ..complete.clone()
                },
                Field::Path,
                Some("\"gitlab.git\": a path does not end in .git or .atom"),
            ),
        ];
        for (case, answers, field, message) in table {
            let error = recommend_token_kind(&answers, &WizardPolicy::default(), day(TODAY)).expect_err(case);
            assert_eq!(error.field(), Some(field), "{case}: {error}");
            match message {
                Some(message) => {
                    assert_eq!(error, WizardError::invalid(field, message), "{case}");
                    assert!(answers.invalid_fields().contains(&error), "{case}");
                }
                None => {
                    assert_eq!(error, WizardError::Missing { field }, "{case}");
                    assert_eq!(answers.next_question(), Some(field.question()), "{case}");
                }
            }
        }
        assert!(complete.invalid_fields().is_empty());
    }

    #[test]
    fn errors_read_well() {
        let missing = WizardError::Missing { field: Field::Purpose };
        assert_eq!(
            missing.to_string(),
            "purpose: say in a few words what it is for: it becomes the token's name"
        );
        assert_eq!(WizardError::policy("bad").to_string(), "wizard settings: bad");
        let json = serde_json::to_string(&WizardError::invalid(Field::Path, "no")).expect("json");
        assert_eq!(json, r#"{"error":"invalid","field":"path","message":"no"}"#);
    }

    #[test]
    fn paths_are_trimmed_and_a_group_path_may_have_one_part() {
        let mut answers = answers("---r", Reach::OneGroup, false, false);
        answers.path = " /gitlab-org/ ".into();
        let recommendation = recommend(&answers);
        let NextStep::CreateToken(creation) = recommendation.next_step else {
            panic!("a group access token is created, not requested");
        };
        assert_eq!(
            creation.settings_url,
            "https://gitlab.com/groups/gitlab-org/-/settings/access_tokens"
        );
        answers.path = "gitlab-org/quality/triage_ops.v2".into();
        assert!(answers.invalid_fields().is_empty());
    }

    #[test]
    fn expiry_is_shorter_for_temporary_automation_and_never_beyond_the_maximum() {
        let mut answers = answers("---r", Reach::OneProject, false, false);
        assert_eq!(recommend(&answers).expires_on, day("2027-02-23"));
        assert_eq!(recommend(&answers).lifetime_days, 90);
        answers.temporary = Some(YesNo::Yes);
        assert_eq!(recommend(&answers).expires_on, day("2026-12-25"));
        let short = WizardPolicy {
            max_lifetime_days: 20,
            default_lifetime_days: 20,
            temporary_lifetime_days: 7,
            ..WizardPolicy::default()
        };
        let recommendation = recommend_token_kind(&answers, &short, day(TODAY)).expect("valid");
        assert_eq!(recommendation.expires_on, day("2026-12-02"));
        assert_eq!(short.lifetime_days(false), 20);
        let generous = WizardPolicy {
            default_lifetime_days: 500,
            ..WizardPolicy::default()
        };
        assert_eq!(generous.lifetime_days(false), 365, "cut to the maximum");
        assert!(generous.validate().is_err(), "but refused as settings");
    }

    #[test]
    fn policies_are_checked() {
        let default = WizardPolicy::default;
        #[rustfmt::skip]
        let table = [
            (WizardPolicy { max_lifetime_days: 0, ..default() }, false),
            (WizardPolicy { max_lifetime_days: 401, ..default() }, false),
            (WizardPolicy { max_lifetime_days: 400, ..default() }, true),
            (WizardPolicy { default_lifetime_days: 0, ..default() }, false),
            (WizardPolicy { temporary_lifetime_days: 91, ..default() }, false),
            (WizardPolicy { temporary_lifetime_days: 0, ..default() }, false),
            (WizardPolicy { gitlab_url: "gitlab.com".into(), ..default() }, false),
            (WizardPolicy { gitlab_url: "https://".into(), ..default() }, false),
            (WizardPolicy { gitlab_url: "https://gitlab.com/\"; rm".into(), ..default() }, false),
            (WizardPolicy { gitlab_url: "https://git.example.com:8443/gitlab/".into(), ..default() }, true),
        ];
        for (policy, valid) in table {
            assert_eq!(policy.validate().is_ok(), valid, "{policy:?}");
            let result = recommend_token_kind(&answers("r---", Reach::OneProject, false, false), &policy, day(TODAY));
            assert_eq!(result.is_ok(), valid, "{policy:?}");
        }
        assert_eq!(
            recommend_token_kind(
                &answers("r---", Reach::OneProject, false, false),
                &WizardPolicy::default(),
                NaiveDate::MAX
            ),
            Err(WizardError::policy("the expiry date is beyond the calendar"))
        );
    }

    #[test]
    fn naming_conventions_follow_their_syntax() {
        let valid = [
            (
                "{team}-{purpose}",
                Some("Engineering Productivity"),
                "Allure reports!",
                Some("gitlab"),
                "engineering-productivity-allure-reports",
            ),
            ("{team}-{purpose}", None, "Allure reports", None, "allure-reports"),
            ("bot-{path}-{team}-{purpose}", None, "Danger", None, "bot-danger"),
            ("{path}.{purpose}", None, "danger", Some("gitlab"), "gitlab.danger"),
            ("{purpose}_bot", Some("x"), "Ünïcode stuff", None, "n-code-stuff_bot"),
            ("{purpose}", None, "a", None, "a"),
        ];
        for (template, team, purpose, path, expected) in valid {
            let convention: NamingConvention = template.parse().expect(template);
            assert_eq!(convention.render(team, purpose, path), expected, "{template}");
            assert_eq!(convention.as_str(), template);
        }
        let invalid = [
            (
                "",
                "it must hold {purpose}, so that every automation gets a name of its own",
            ),
            (
                "{team}",
                "it must hold {purpose}, so that every automation gets a name of its own",
            ),
            ("{team}-{purpose", "a '{' is never closed"),
            (
                "{owner}-{purpose}",
                "{owner} is not a placeholder: use {team}, {purpose} or {path}",
            ),
            (
                "{team} {purpose}",
                "' ' is not allowed: use lower-case letters, digits, '-', '_' and '.' around the placeholders",
            ),
            (
                "Bot-{purpose}",
                "'B' is not allowed: use lower-case letters, digits, '-', '_' and '.' around the placeholders",
            ),
            (
                "{purpose}}",
                "'}' is not allowed: use lower-case letters, digits, '-', '_' and '.' around the placeholders",
            ),
        ];
        for (template, reason) in invalid {
            let error = template.parse::<NamingConvention>().expect_err(template);
            assert_eq!(error.reason, reason, "{template}");
        }
        let long = format!("{{purpose}}{}", "x".repeat(NAMING_TEMPLATE_MAX_CHARS));
        assert!(long.parse::<NamingConvention>().is_err());
        assert_eq!(NamingConvention::default().as_str(), "{team}-{purpose}");
        assert_eq!(
            "{team}-{purpose}".parse::<NamingConvention>().ok(),
            Some(NamingConvention::default())
        );
    }

    #[test]
    fn names_never_exceed_gitlabs_limit() {
        let convention: NamingConvention = "{team}-{path}-{purpose}".parse().expect("valid");
        let name = convention.render(Some(&"t".repeat(100)), &"p".repeat(60), Some(&"q".repeat(255)));
        assert_eq!(name.chars().count(), NAME_MAX_CHARS);
        let name = convention.render(Some(&"t".repeat(100)), "p", Some(&format!("{}-x", "q".repeat(153))));
        assert!(!name.ends_with('-'), "no separator left at the end: {name}");
    }

    #[test]
    fn slugs_and_separators() {
        assert_eq!(slug("  Engineering   Productivity!! "), "engineering-productivity");
        assert_eq!(slug("--a--b--"), "a-b");
        assert_eq!(slug("?!"), "");
        assert_eq!(tidy_separators("-.a--_b._"), "a-b");
    }

    #[test]
    fn every_recommendation_rests_on_dont_reuse_and_always_expire() {
        for usages in ["r---", "---r", "w---", "---w"] {
            for reach in Reach::ALL {
                for maintainer in [false, true] {
                    let recommendation = recommend(&answers(usages, reach, maintainer, false));
                    let ids: Vec<RuleId> = recommendation.rules.iter().map(|rule| rule.id).collect();
                    for needed in [
                        RuleId::DontReuse,
                        RuleId::AlwaysExpire,
                        RuleId::MinimumScopes,
                        RuleId::SuitableName,
                    ] {
                        assert!(ids.contains(&needed), "{usages} {reach:?} {maintainer}: {ids:?}");
                    }
                    let mut unique = ids.clone();
                    unique.sort();
                    unique.dedup();
                    assert_eq!(unique.len(), ids.len(), "no rule twice");
                    let reuse = recommendation.alternatives.iter().find(|alt| alt.kind.is_none());
                    assert!(reuse.is_some_and(|alt| alt.rules.iter().any(|rule| rule.id == RuleId::DontReuse)));
                }
            }
        }
    }

    #[test]
    fn the_rules_quoted_follow_the_kind() {
        use RuleId::*;
        let table = [
            (
                answers("r---", Reach::OneProject, false, false),
                vec![ProjectDeployTokenSufficient, ProjectDeployToken],
            ),
            (
                answers("r---", Reach::OneGroup, false, false),
                vec![ProjectDeployToken, LeastPrivilege],
            ),
            (
                answers("---r", Reach::OneProject, false, false),
                vec![ProjectAccessTokenSufficient, ProjectAccessTokenByDefault],
            ),
            (
                answers("w---", Reach::OneProject, false, false),
                vec![ProjectAccessTokenByDefault],
            ),
            (
                answers("---r", Reach::OneGroup, false, false),
                vec![GroupAccessTokenSufficient, LeastPrivilege],
            ),
            (answers("w---", Reach::OneGroup, false, false), vec![LeastPrivilege]),
            (answers("---r", Reach::OneGroup, true, false), vec![ServiceAccount]),
            (
                answers("---r", Reach::OneProject, false, true),
                vec![RetrospectiveConfidentialIssues, ServiceAccount],
            ),
        ];
        for (answers, specific) in table {
            let recommendation = recommend(&answers);
            let ids: Vec<RuleId> = recommendation.rules.iter().map(|rule| rule.id).collect();
            let mut expected = vec![DontReuse];
            expected.extend(specific);
            expected.extend([SuitableName, AlwaysExpire, MinimumScopes]);
            assert_eq!(ids, expected, "{answers:?}");
            for rule in &recommendation.rules {
                assert_eq!(rule.quote, rule.id.quote());
                assert_eq!(rule.section, rule.id.section());
            }
        }
    }

    #[test]
    fn assumptions_say_where_the_guidelines_are_silent() {
        use AssumptionId::*;
        let table = [
            (answers("r---", Reach::OneProject, false, false), vec![Lifetime]),
            (
                answers("r---", Reach::OneGroup, false, false),
                vec![GroupDeployToken, Lifetime],
            ),
            (
                answers("w---", Reach::OneProject, false, false),
                vec![DeployTokensCannotPush, LowestRole, Lifetime],
            ),
            (
                answers("r---", Reach::OneProject, true, false),
                vec![DeployTokensHaveNoRole, MaintainerWithinProject, LowestRole, Lifetime],
            ),
            (
                answers("---r", Reach::OneProject, true, false),
                vec![MaintainerWithinProject, LowestRole, Lifetime],
            ),
            (
                answers("---r", Reach::SeveralGroups, false, false),
                vec![BeyondOneGroup, LowestRole, Lifetime],
            ),
            (
                answers("---r", Reach::SeveralGroups, true, false),
                vec![LowestRole, Lifetime],
            ),
            (
                answers("---r", Reach::OneProject, false, true),
                vec![ConfidentialIssues, LowestRole, Lifetime],
            ),
            (
                answers("-r-r", Reach::OneProject, false, false),
                vec![PackagesThroughApi, LowestRole, Lifetime],
            ),
        ];
        for (answers, expected) in table {
            let ids: Vec<AssumptionId> = recommend(&answers).assumptions.iter().map(|a| a.id).collect();
            assert_eq!(ids, expected, "{answers:?}");
        }
        let lifetime = recommend(&answers("r---", Reach::OneProject, false, false)).assumptions;
        assert_eq!(
            lifetime.last().map(|a| a.explanation.as_str()),
            Some(
                "The guidelines require an expiry date but set no lifetime. The wizard gives 90 days: 90 days for \
                 lasting automation, 30 for temporary automation, never more than 365."
            )
        );
    }

    #[test]
    fn alternatives_say_why_they_lost() {
        let recommendation = recommend(&answers("---r", Reach::OneGroup, false, false));
        assert_eq!(recommendation.kind, RecommendedKind::GroupAccessToken);
        let why = |kind: RecommendedKind| {
            recommendation
                .alternatives
                .iter()
                .find(|alt| alt.kind == Some(kind))
                .map(|alt| {
                    (
                        alt.why_not.clone(),
                        alt.rules.iter().map(|rule| rule.id).collect::<Vec<_>>(),
                    )
                })
                .expect("every other kind is listed")
        };
        assert_eq!(
            why(RecommendedKind::ProjectDeployToken),
            (
                format!(
                    "{} {}",
                    Misfit::NoApiAccess.explanation(),
                    Misfit::OneProjectOnly.explanation()
                ),
                vec![
                    RuleId::ProjectDeployTokenSufficient,
                    RuleId::ProjectAccessTokenSufficient
                ]
            )
        );
        assert_eq!(
            why(RecommendedKind::ProjectAccessToken),
            (
                Misfit::OneProjectOnly.explanation().to_owned(),
                vec![
                    RuleId::ProjectDeployTokenSufficient,
                    RuleId::ProjectAccessTokenSufficient
                ]
            )
        );
        assert_eq!(
            why(RecommendedKind::ServiceAccount),
            (
                "It would work, but a service account reaches more than a group access token, which is enough: the \
                 guidelines ask for the least privileged access."
                    .to_owned(),
                vec![RuleId::LeastPrivilege, RuleId::ServiceAccount]
            )
        );
        assert_eq!(recommendation.alternatives.len(), 5);
        let deploy = recommend(&answers("r---", Reach::OneProject, false, false));
        let group_deploy = deploy
            .alternatives
            .iter()
            .find(|alt| alt.kind == Some(RecommendedKind::GroupDeployToken))
            .expect("listed");
        assert_eq!(
            group_deploy.rules.iter().map(|rule| rule.id).collect::<Vec<_>>(),
            vec![RuleId::LeastPrivilege, RuleId::ProjectDeployToken]
        );
    }

    #[test]
    fn a_project_access_token_comes_with_its_page_and_commands() {
        let mut answers = answers("---w", Reach::OneProject, false, false);
        answers.path = "gitlab-org/gitlab".into();
        answers.owner_team = "Quality".into();
        answers.purpose = "Allure reports".into();
        let recommendation = recommend(&answers);
        assert_eq!(recommendation.name, "quality-allure-reports");
        let NextStep::CreateToken(creation) = recommendation.next_step else {
            panic!("created, not requested");
        };
        assert_eq!(
            creation.settings_url,
            "https://gitlab.com/gitlab-org/gitlab/-/settings/access_tokens"
        );
        assert_eq!(
            creation.api_url,
            "https://gitlab.com/api/v4/projects/gitlab-org%2Fgitlab/access_tokens"
        );
        assert_eq!(
            creation.curl,
            "curl --request POST \\\n  --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \\\n  --header \"Content-Type: \
             application/json\" \\\n  --data '{\"access_level\":30,\"expires_at\":\"2027-02-23\",\"name\":\
             \"quality-allure-reports\",\"scopes\":[\"api\"]}' \\\n  \
             https://gitlab.com/api/v4/projects/gitlab-org%2Fgitlab/access_tokens"
        );
        assert_eq!(
            creation.glab,
            "glab token create quality-allure-reports --repo gitlab-org/gitlab --access-level developer --scope api \
             --expires-at 2027-02-23"
        );
        assert_eq!(
            creation.instructions,
            "Create a new project access token for gitlab-org/gitlab: open \
             https://gitlab.com/gitlab-org/gitlab/-/settings/access_tokens and add a new token named \
             quality-allure-reports, role Developer, scopes api, expiring on 2027-02-23; or run one of the \
             commands below with your own token in GITLAB_TOKEN. Creating it takes the Maintainer role there. You \
             cannot give the token a role above your own. Keep the new token's secret in a vault, never in code or \
             chat, and record its owner and purpose in the inventory."
        );
    }

    #[test]
    fn deploy_and_group_tokens_come_with_their_pages_and_commands() {
        let policy = WizardPolicy {
            gitlab_url: "https://gitlab.example.com/".into(),
            ..WizardPolicy::default()
        };
        let create = |answers: &WizardAnswers| match recommend_token_kind(answers, &policy, day(TODAY)) {
            Ok(Recommendation {
                next_step: NextStep::CreateToken(creation),
                ..
            }) => creation,
            other => panic!("expected a token to create, got {other:?}"),
        };
        let mut deploy = answers("r-w-", Reach::OneProject, false, false);
        deploy.path = "group/project".into();
        let creation = create(&deploy);
        assert_eq!(
            creation.settings_url,
            "https://gitlab.example.com/group/project/-/settings/repository"
        );
        assert_eq!(
            creation.api_url,
            "https://gitlab.example.com/api/v4/projects/group%2Fproject/deploy_tokens"
        );
        assert!(creation.curl.contains(concat!(
            r#"--data '{"expires_at":"2027-02-23T00:00:00Z","name":"engineering-productivity-triage","#,
            r#""scopes":["read_repository","read_registry","write_registry"]}'"#
        )));
        assert!(!creation.curl.contains("access_level"));
        assert_eq!(
            creation.glab,
            "glab deploy-token create engineering-productivity-triage --repo group/project --scope read_repository \
             --scope read_registry --scope write_registry --expires-at 2027-02-23"
        );
        assert!(creation.instructions.contains("expand Deploy tokens"));
        assert!(!creation.instructions.contains("role above your own"));

        let group_deploy = answers("r---", Reach::OneGroup, false, false);
        let creation = create(&group_deploy);
        assert_eq!(
            creation.settings_url,
            "https://gitlab.example.com/groups/<group-path>/-/settings/repository"
        );
        assert_eq!(
            creation.api_url,
            "https://gitlab.example.com/api/v4/groups/<group-id>/deploy_tokens"
        );
        assert!(creation.glab.contains("--group '<group-path>'"), "{}", creation.glab);
        assert!(
            creation
                .curl
                .ends_with("'https://gitlab.example.com/api/v4/groups/<group-id>/deploy_tokens'")
        );
        assert!(
            creation
                .instructions
                .contains("Replace <group-path> with the real path first.")
        );
        assert!(
            creation
                .instructions
                .contains("Creating it takes the Owner role there.")
        );

        let group_access = answers("---r", Reach::OneGroup, false, false);
        let creation = create(&group_access);
        assert_eq!(
            creation.settings_url,
            "https://gitlab.example.com/groups/<group-path>/-/settings/access_tokens"
        );
        assert!(creation.glab.starts_with(
            "glab token create engineering-productivity-triage --group '<group-path>' --access-level reporter \
             --scope read_api"
        ));

        let project_access = answers("w---", Reach::OneProject, false, false);
        let creation = create(&project_access);
        assert_eq!(
            creation.settings_url,
            "https://gitlab.example.com/<project-path>/-/settings/access_tokens"
        );
        assert_eq!(
            creation.api_url,
            "https://gitlab.example.com/api/v4/projects/<project-id>/access_tokens"
        );
    }

    #[test]
    fn a_service_account_is_requested_from_the_security_team() {
        let mut answers = answers("---w", Reach::SeveralGroups, true, false);
        answers.path = "gitlab-org".into();
        answers.purpose = "triage ops".into();
        let recommendation = recommend(&answers);
        assert_eq!(recommendation.kind, RecommendedKind::ServiceAccount);
        let NextStep::RequestServiceAccount(request) = recommendation.next_step else {
            panic!("requested, not created");
        };
        assert_eq!(request.account_name, "engineering-productivity-triage-ops");
        assert_eq!(request.owner_team, "Engineering Productivity");
        assert_eq!(request.purpose, "triage ops");
        assert_eq!(request.memberships, vec!["gitlab-org", "<each-other-group-path>"]);
        assert_eq!(request.role, AccessLevel::Maintainer);
        assert_eq!(request.scopes, vec![Scope::Api]);
        assert_eq!(request.token_expires_on, day("2027-02-23"));
        assert_eq!(request.guideline_url, SERVICE_ACCOUNT_REQUEST_URL);
        assert_eq!(request.answers, answers);
        assert!(request.ask.starts_with("The security team's access management"));
        assert_eq!(
            request.instructions,
            "Ask for a new service account named engineering-productivity-triage-ops, owned by Engineering \
             Productivity, for: triage ops. It needs the Maintainer role in gitlab-org, <each-other-group-path>, \
             and a token with scopes api expiring on 2027-02-23. Don't reuse an existing service account or its \
             token."
        );
        let table = [
            (Reach::OneProject, None, vec!["<project-path>"]),
            (Reach::OneGroup, None, vec!["<group-path>"]),
            (Reach::SeveralGroups, None, vec!["<each-group-path>"]),
            (Reach::Instance, None, vec!["<each-group-path>"]),
            (Reach::OneGroup, Some("g/sub"), vec!["g/sub"]),
        ];
        for (reach, path, expected) in table {
            let path = path.map(|p| GitLabPath::parse(p).expect("valid"));
            assert_eq!(memberships(reach, path.as_ref()), expected);
        }
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("gitlab-org/gitlab"), "gitlab-org/gitlab");
        assert_eq!(shell_quote("<project-path>"), "'<project-path>'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn enums_round_trip_through_their_identifiers() {
        for usage in Usage::ALL {
            assert_eq!(usage.as_str().parse::<Usage>(), Ok(usage));
            assert_eq!(serde_json::to_value(usage).ok(), Some(usage.as_str().into()));
            assert!(!usage.label().is_empty());
        }
        assert_eq!(Usage::try_from(String::new()), Ok(Usage::Unused));
        for reach in Reach::ALL {
            assert_eq!(reach.as_str().parse::<Reach>(), Ok(reach));
            assert_eq!(serde_json::to_value(reach).ok(), Some(reach.as_str().into()));
            assert!(!reach.label().is_empty());
        }
        for answer in YesNo::ALL {
            assert_eq!(answer.as_str().parse::<YesNo>(), Ok(answer));
            assert_eq!(serde_json::to_value(answer).ok(), Some(answer.as_str().into()));
            assert!(!answer.label().is_empty());
        }
        for question in Question::ALL {
            assert_eq!(question.as_str().parse::<Question>(), Ok(question));
            assert_eq!(serde_json::to_value(question).ok(), Some(question.as_str().into()));
            assert!(question.label().ends_with('?'));
            assert!(!question.help().is_empty());
        }
        for field in Field::ALL {
            assert_eq!(field.as_str().parse::<Field>(), Ok(field));
            assert_eq!(serde_json::to_value(field).ok(), Some(field.as_str().into()));
        }
        for resource in Resource::ALL {
            assert_eq!(resource.as_str().parse::<Resource>(), Ok(resource));
            assert_eq!(serde_json::to_value(resource).ok(), Some(resource.as_str().into()));
            assert!(!resource.label().is_empty() && !resource.help().is_empty());
            let mut answers = WizardAnswers::default();
            answers.set_usage(resource, Usage::Writes);
            assert_eq!(answers.usage(resource), Usage::Writes);
        }
        for kind in RecommendedKind::ALL {
            assert_eq!(kind.as_str().parse::<RecommendedKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
        }
        for rule in RuleId::ALL {
            assert_eq!(rule.as_str().parse::<RuleId>(), Ok(rule));
            assert_eq!(serde_json::to_value(rule).ok(), Some(rule.as_str().into()));
        }
        assert!("several".parse::<Reach>().is_err());
    }

    #[test]
    fn kinds_map_to_the_inventorys_token_kinds() {
        use RecommendedKind::*;
        let table = [
            (ProjectDeployToken, TokenKind::Deploy, ContainerKind::Project),
            (GroupDeployToken, TokenKind::Deploy, ContainerKind::Group),
            (ProjectAccessToken, TokenKind::ProjectAccess, ContainerKind::Project),
            (GroupAccessToken, TokenKind::GroupAccess, ContainerKind::Group),
            (ServiceAccount, TokenKind::Personal, ContainerKind::Group),
        ];
        for (kind, token_kind, container) in table {
            assert_eq!(kind.token_kind(), token_kind);
            assert_eq!(kind.container_kind(), container);
        }
        let mut sorted = RecommendedKind::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, RecommendedKind::ALL.to_vec(), "ALL is narrowest first");
    }
}
