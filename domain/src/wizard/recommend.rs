//! The recommendation: the narrowest kind that fits, its scopes, role, expiry, name and next step.

use super::*;

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

pub(crate) fn memberships(reach: Reach, path: Option<&GitLabPath>) -> Vec<String> {
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
pub(crate) fn shell_quote(word: &str) -> String {
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
