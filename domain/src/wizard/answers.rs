//! The answers: what the automation needs, read from and written to JSON and a URL query.

use super::*;

// ---------------------------------------------------------------------------------------------
// The answers
// ---------------------------------------------------------------------------------------------

/// A part of GitLab an automation can touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Resource {
    Repository,
    PackageRegistry,
    ContainerRegistry,
    Api,
}

impl Resource {
    pub const ALL: [Resource; 4] = all(Self::VARIANTS);

    /// The answer's field name, in forms and URLs.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("part of GitLab", value)
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

/// How an automation uses one part of GitLab: not at all, only reading, or reading and writing.
///
/// Ordered by what it needs, so the larger of two usages is the one a scope must cover.
/// A blank value (an unanswered radio group) reads as "not used".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Usage {
    #[default]
    Unused,
    Reads,
    Writes,
}

impl Usage {
    pub const ALL: [Usage; 3] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("usage", value)
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
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
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
    pub const ALL: [Reach; 4] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("reach", value)
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

/// The answer to a yes-or-no question. An enum rather than a `bool` so that "not answered yet"
/// (`None`) stays apart from "no", in a URL as in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum YesNo {
    Yes,
    No,
}

impl YesNo {
    pub const ALL: [YesNo; 2] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("yes or no", value)
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

/// The wizard's steps, in the order it asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
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
    pub const ALL: [Question; 6] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("wizard question", value)
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

/// A field of the wizard's form, so that a message shows next to the field it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
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
    pub const ALL: [Field; 8] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("wizard field", value)
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

    pub(crate) fn invalid(field: Field, message: impl Into<String>) -> Self {
        WizardError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn policy(message: impl Into<String>) -> Self {
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

    pub(crate) fn writes_anything(&self) -> bool {
        self.usages().contains(&Usage::Writes)
    }

    /// What a token with these scopes touches, as the wizard asks it, with the other answers
    /// given. Scopes that reach nothing the wizard asks about (`read_user`, `sudo`, …) go through
    /// the API: with nothing else, it reads the API.
    pub fn from_scopes<'a>(
        scopes: impl IntoIterator<Item = &'a str> + Clone,
        reach: Reach,
        maintainer_actions: bool,
        confidential_issues: bool,
        temporary: bool,
    ) -> Needs {
        let usage = |read: &str, write: &str| {
            if scopes.clone().into_iter().any(|scope| scope == write) {
                Usage::Writes
            } else if scopes.clone().into_iter().any(|scope| scope == read) {
                Usage::Reads
            } else {
                Usage::Unused
            }
        };
        let mut needs = Needs {
            repository: usage("read_repository", "write_repository"),
            package_registry: usage("read_package_registry", "write_package_registry"),
            container_registry: usage("read_registry", "write_registry"),
            api: usage("read_api", "api"),
            reach,
            maintainer_actions,
            confidential_issues,
            temporary,
        };
        if !needs.usages().iter().any(|usage| usage.is_used()) {
            needs.api = Usage::Reads;
        }
        needs.confidential_issues &= needs.api.is_used();
        needs
    }

    /// The answers that say the same, for a link to the wizard (`path` and the texts empty).
    pub fn answers(&self) -> WizardAnswers {
        WizardAnswers {
            repository: self.repository,
            package_registry: self.package_registry,
            container_registry: self.container_registry,
            api: self.api,
            reach: Some(self.reach),
            maintainer_actions: Some(self.maintainer_actions.into()),
            confidential_issues: self.api.is_used().then_some(self.confidential_issues.into()),
            temporary: Some(self.temporary.into()),
            ..WizardAnswers::default()
        }
    }
}

/// The checked texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Details {
    pub(crate) path: Option<GitLabPath>,
    pub(crate) owner_team: Option<String>,
    pub(crate) purpose: String,
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

    /// The given answers as a URL query (empty when none is given).
    pub fn to_query_string(&self) -> String {
        let pairs = self.to_query_pairs();
        crate::query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())))
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

    pub(crate) fn details(&self, reach: Reach, kind: RecommendedKind) -> Result<Details, WizardError> {
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
pub(crate) struct GitLabPath(String);

impl GitLabPath {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
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

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> usize {
        self.0.split('/').count()
    }

    pub(crate) fn last_segment(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The path as the API takes it in place of an id: `gitlab-org%2Fgitlab`. The other
    /// characters a path may hold need no encoding.
    pub(crate) fn url_encoded(&self) -> String {
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
