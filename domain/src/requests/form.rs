//! The request form: what it asks, how each answer is checked, and what the wizard would say of
//! the same needs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ownership::looks_like_a_secret;
use crate::wizard::{GitLabPath, NamingConvention, Needs, Reach, RecommendedKind, ServiceAccountRequest, choose_kind};
use crate::{AccessLevel, ContainerKind, FieldError, Scope, TeamRef};

/// The longest account name (GitLab's limit on a username).
pub const ACCOUNT_NAME_MAX_CHARS: usize = 255;
/// The longest free text.
pub const TEXT_MAX_CHARS: usize = 1000;

/// The scopes a service account's token may be asked for here: not `sudo` nor `admin_mode`
/// (a service account is no administrator), in GitLab's order.
pub const SERVICE_ACCOUNT_SCOPES: [Scope; 6] = [
    Scope::Api,
    Scope::ReadApi,
    Scope::ReadRepository,
    Scope::WriteRepository,
    Scope::ReadRegistry,
    Scope::WriteRegistry,
];

/// The form as a browser or the API sends it: texts, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    /// The account's username (also its name).
    pub account_name: String,
    /// The owner team's id.
    pub owner_team: String,
    pub purpose: String,
    /// The automation it serves (a bot, a job, a pipeline).
    pub automation: String,
    /// Where it runs (a CI project, a cluster, a server).
    pub runs_on: String,
    /// One membership per line: `path role` (`acme/platform developer`).
    pub memberships: String,
    pub scopes: Vec<String>,
    /// `yes` when it reads confidential issues (the guidelines' exception for access tokens).
    pub confidential_issues: String,
    /// Why a project or group access token will not do.
    pub why_not_token: String,
    /// The first token's lifetime, in days.
    pub lifetime_days: String,
    /// Where its secret will be kept (a vault item's name): never the secret.
    pub secret_location: String,
}

/// One membership asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipAsk {
    pub kind: ContainerKind,
    /// A group's full path, or a project's path with its namespace.
    pub path: String,
    pub role: AccessLevel,
}

/// A checked request. In a draft any answer may still be missing (empty, `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidRequest {
    pub account_name: String,
    pub owner_team: Option<TeamRef>,
    pub purpose: String,
    pub automation: String,
    pub runs_on: String,
    pub memberships: Vec<MembershipAsk>,
    pub scopes: Vec<Scope>,
    pub confidential_issues: bool,
    pub why_not_token: String,
    pub lifetime_days: Option<u32>,
    pub secret_location: String,
}

/// What the form is checked against.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    pub teams: &'a [TeamRef],
    /// The requester's teams (ids): the owner team must be one of them.
    pub requester_teams: &'a [i64],
    /// Usernames already taken: service accounts in GitLab and other open requests.
    pub taken_names: &'a [String],
    pub naming: &'a NamingConvention,
    pub max_lifetime_days: u32,
    /// The groups and projects sync knows, of those the form names
    /// ([`RequestForm::membership_paths`]), with their kind.
    pub containers: &'a [(String, ContainerKind)],
}

impl RequestForm {
    /// The form filled in from the wizard's service-account recommendation: its name, purpose,
    /// memberships (with the role; not the placeholders), scopes and lifetime; the owner team when
    /// one of `teams` has the name the wizard was given.
    pub fn from_wizard(request: &ServiceAccountRequest, teams: &[TeamRef], today: NaiveDate) -> RequestForm {
        let role = request.role.label().to_lowercase();
        RequestForm {
            account_name: request.account_name.clone(),
            owner_team: teams
                .iter()
                .find(|team| team.name.eq_ignore_ascii_case(request.owner_team.trim()))
                .map_or(String::new(), |team| team.id.to_string()),
            purpose: request.purpose.clone(),
            // The wizard's placeholders (`<each-other-group-path>`) are left for the person to
            // write: a draft keeps only what is real.
            memberships: request
                .memberships
                .iter()
                .filter(|path| !path.contains('<'))
                .map(|path| format!("{path} {role}"))
                .collect::<Vec<_>>()
                .join("\n"),
            scopes: request.scopes.iter().map(|scope| scope.as_str().to_owned()).collect(),
            confidential_issues: request
                .answers
                .confidential_issues
                .filter(|answer| answer.is_yes())
                .map_or(String::new(), |_| "yes".to_owned()),
            lifetime_days: (request.token_expires_on - today).num_days().max(1).to_string(),
            ..RequestForm::default()
        }
    }

    /// The paths the memberships name, for the caller to look up (what sync knows of them goes
    /// into [`RequestContext::containers`]).
    pub fn membership_paths(&self) -> Vec<String> {
        self.memberships
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(|path| path.trim_matches('/').to_owned())
            .collect()
    }

    /// Checks every answer; with `complete`, every answer must be there (to send it), otherwise
    /// (a draft) only what is given is checked. Each message names its field.
    pub fn validate(&self, context: &RequestContext, complete: bool) -> Result<ValidRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        let text = |field: &str, value: &str, error: &mut dyn FnMut(&str, String)| -> String {
            let value = value.trim();
            if value.chars().count() > TEXT_MAX_CHARS {
                error(field, format!("at most {TEXT_MAX_CHARS} characters"));
            } else if looks_like_a_secret(value) {
                error(
                    field,
                    "this looks like a token's secret: never paste secrets here".to_owned(),
                );
            } else if complete && value.is_empty() {
                error(field, "required".to_owned());
            }
            value.to_owned()
        };
        let purpose = text("purpose", &self.purpose, &mut error);
        let automation = text("automation", &self.automation, &mut error);
        let runs_on = text("runs_on", &self.runs_on, &mut error);
        let why_not_token = text("why_not_token", &self.why_not_token, &mut error);
        let secret_location = text("secret_location", &self.secret_location, &mut error);
        let owner_team = owner_team(&self.owner_team, context, complete, &mut error);
        let account_name = account_name(&self.account_name, owner_team.as_ref(), context, complete, &mut error);
        let memberships = memberships(&self.memberships, context.containers, complete, &mut error);
        let scopes = scopes(&self.scopes, complete, &mut error);
        let lifetime_days = lifetime(&self.lifetime_days, context.max_lifetime_days, complete, &mut error);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidRequest {
            account_name,
            owner_team,
            purpose,
            automation,
            runs_on,
            memberships,
            scopes,
            confidential_issues: self.confidential_issues.trim() == "yes",
            why_not_token,
            lifetime_days,
            secret_location,
        })
    }
}

fn owner_team(
    value: &str,
    context: &RequestContext,
    complete: bool,
    error: &mut dyn FnMut(&str, String),
) -> Option<TeamRef> {
    let value = value.trim();
    if value.is_empty() {
        if complete {
            error(
                "owner_team",
                "required: the guidelines want a service account owned by a specific team".to_owned(),
            );
        }
        return None;
    }
    let Some(team) = value
        .parse::<i64>()
        .ok()
        .and_then(|id| context.teams.iter().find(|team| team.id == id))
    else {
        error("owner_team", "no such team".to_owned());
        return None;
    };
    if !context.requester_teams.contains(&team.id) {
        error(
            "owner_team",
            format!("you are not in {}: ask someone of that team to request it", team.name),
        );
        return None;
    }
    Some(team.clone())
}

fn account_name(
    value: &str,
    team: Option<&TeamRef>,
    context: &RequestContext,
    complete: bool,
    error: &mut dyn FnMut(&str, String),
) -> String {
    let name = value.trim();
    if name.is_empty() {
        if complete {
            error("account_name", "required".to_owned());
        }
        return String::new();
    }
    if name.chars().count() > ACCOUNT_NAME_MAX_CHARS {
        error("account_name", format!("at most {ACCOUNT_NAME_MAX_CHARS} characters"));
    } else if let Err(why) = context.naming.check(name, team.map(|team| team.name.as_str())) {
        error(
            "account_name",
            format!("off the naming convention ({}): {why}", context.naming.as_str()),
        );
    } else if context.taken_names.iter().any(|taken| taken.eq_ignore_ascii_case(name)) {
        error(
            "account_name",
            format!("{name} is taken: a service account or another open request has it"),
        );
    }
    name.to_owned()
}

fn memberships(
    value: &str,
    containers: &[(String, ContainerKind)],
    complete: bool,
    error: &mut dyn FnMut(&str, String),
) -> Vec<MembershipAsk> {
    let mut found: Vec<MembershipAsk> = Vec::new();
    for (at, line) in value.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let line_no = at + 1;
        let mut words = line.split_whitespace();
        let (Some(path), Some(role), None) = (words.next(), words.next(), words.next()) else {
            error(
                "memberships",
                format!("line {line_no}: a path and a role, like `acme/platform developer`"),
            );
            continue;
        };
        let path = match GitLabPath::parse(path) {
            Ok(path) => path,
            Err(message) => {
                error("memberships", format!("line {line_no}: {message}"));
                continue;
            }
        };
        let Some(role) = AccessLevel::ALL
            .into_iter()
            .find(|level| level.label().eq_ignore_ascii_case(role))
        else {
            error(
                "memberships",
                format!("line {line_no}: {role:?} is not a role: guest, planner, reporter, developer or maintainer"),
            );
            continue;
        };
        if role == AccessLevel::Owner {
            error(
                "memberships",
                format!(
                    "line {line_no}: Owner is not granted to a service account: Maintainer at most (least privilege)"
                ),
            );
            continue;
        }
        if found.iter().any(|ask| ask.path.eq_ignore_ascii_case(path.as_str())) {
            error(
                "memberships",
                format!("line {line_no}: {} is listed twice", path.as_str()),
            );
            continue;
        }
        let Some((path, kind)) = containers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(path.as_str()))
        else {
            error(
                "memberships",
                format!(
                    "line {line_no}: {} is no group or project the inventory knows (sync reads them from GitLab)",
                    path.as_str()
                ),
            );
            continue;
        };
        found.push(MembershipAsk {
            kind: *kind,
            path: path.clone(),
            role,
        });
    }
    if complete && found.is_empty() {
        error(
            "memberships",
            "required: the groups or projects it works in, each with a role".to_owned(),
        );
    }
    found
}

fn scopes(values: &[String], complete: bool, error: &mut dyn FnMut(&str, String)) -> Vec<Scope> {
    let mut found = Vec::new();
    for value in values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
    {
        match value.parse::<Scope>() {
            Ok(scope) if SERVICE_ACCOUNT_SCOPES.contains(&scope) => found.push(scope),
            Ok(scope) => error(
                "scopes",
                format!("{} is not given to a service account's token here", scope.as_str()),
            ),
            Err(_) => error("scopes", format!("{value:?} is not a scope")),
        }
    }
    found.sort();
    found.dedup();
    if complete && found.is_empty() {
        error("scopes", "required: pick the fewest scopes that do the job".to_owned());
    }
    found
}

fn lifetime(value: &str, max: u32, complete: bool, error: &mut dyn FnMut(&str, String)) -> Option<u32> {
    let value = value.trim();
    if value.is_empty() {
        if complete {
            error("lifetime_days", format!("required: 1 to {max} days"));
        }
        return None;
    }
    match value.parse::<u32>() {
        Ok(days) if (1..=max).contains(&days) => Some(days),
        _ => {
            error(
                "lifetime_days",
                format!("a number of days from 1 to {max} (the longest lifetime the policy allows)"),
            );
            None
        }
    }
}

impl ValidRequest {
    /// The needs the request describes, as the wizard asks them: what its scopes touch; where
    /// (its one project or group; one group when every membership is in a common group's tree;
    /// else several groups); Maintainer-level actions when a membership has that role; temporary
    /// at `temporary_days` or less.
    pub fn needs(&self, temporary_days: u32) -> Needs {
        let reach = match self.memberships.as_slice() {
            [only] if only.kind == ContainerKind::Project => Reach::OneProject,
            [_] => Reach::OneGroup,
            many if common_group(many).is_some() => Reach::OneGroup,
            _ => Reach::SeveralGroups,
        };
        Needs::from_scopes(
            self.scopes.iter().map(|scope| scope.as_str()),
            reach,
            self.memberships.iter().any(|ask| ask.role >= AccessLevel::Maintainer),
            self.confidential_issues,
            self.lifetime_days.is_some_and(|days| days <= temporary_days),
        )
    }

    /// The narrower kind the wizard would recommend for these needs, if any, with the answers to
    /// open the wizard at.
    pub fn narrower_kind(&self, temporary_days: u32) -> Option<(RecommendedKind, crate::WizardAnswers)> {
        let needs = self.needs(temporary_days);
        let kind = choose_kind(&needs);
        (kind != RecommendedKind::ServiceAccount).then(|| (kind, needs.answers()))
    }

    /// The memberships in the form's own words (`path role`, one per line).
    pub fn memberships_text(&self) -> String {
        self.memberships
            .iter()
            .map(|ask| format!("{} {}", ask.path, ask.role.label().to_lowercase()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The request back in its form, to amend it.
    pub fn to_form(&self) -> RequestForm {
        RequestForm {
            account_name: self.account_name.clone(),
            owner_team: self
                .owner_team
                .as_ref()
                .map_or(String::new(), |team| team.id.to_string()),
            purpose: self.purpose.clone(),
            automation: self.automation.clone(),
            runs_on: self.runs_on.clone(),
            memberships: self.memberships_text(),
            scopes: self.scopes.iter().map(|scope| scope.as_str().to_owned()).collect(),
            confidential_issues: if self.confidential_issues {
                "yes".to_owned()
            } else {
                String::new()
            },
            why_not_token: self.why_not_token.clone(),
            lifetime_days: self.lifetime_days.map_or(String::new(), |days| days.to_string()),
            secret_location: self.secret_location.clone(),
        }
    }
}

/// The deepest group every path is in (a project's group is its path without the last part).
fn common_group(asks: &[MembershipAsk]) -> Option<String> {
    let groups: Vec<Vec<&str>> = asks
        .iter()
        .map(|ask| {
            let parts: Vec<&str> = ask.path.split('/').collect();
            match ask.kind {
                ContainerKind::Project => parts[..parts.len().saturating_sub(1)].to_vec(),
                ContainerKind::Group | ContainerKind::Instance => parts,
            }
        })
        .collect();
    let first = groups.first()?;
    let depth = (0..first.len())
        .take_while(|at| groups.iter().all(|group| group.get(*at) == first.get(*at)))
        .count();
    (depth > 0).then(|| first[..depth].join("/"))
}
