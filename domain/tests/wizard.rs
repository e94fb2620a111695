//! The token wizard against the guidelines' own list of automations, and its promises for any
//! answers: never an empty scope set, never an expiry beyond the maximum, never a kind broader
//! than another kind that also fits.

use chrono::{Days, NaiveDate};
use domain::{
    AccessLevel, Field, NextStep, Reach, RecommendedKind, Resource, RuleId, Scope, Usage, WizardAnswers, WizardError,
    WizardPolicy, YesNo, fits, recommend_token_kind,
};
use proptest::prelude::*;

const GUIDELINES: &str = include_str!("fixtures/token-guidelines.md");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date")
}

/// The guidelines as a reader sees them: link targets and backticks dropped, all whitespace one
/// space.
fn rendered(markdown: &str) -> String {
    let mut text = String::new();
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](").zip(after.find(')')) {
            Some((close, end)) if close < end && !after[..close].contains(']') => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.replace('`', "").split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Example {
    /// The automation, as the guidelines list it.
    quote: &'static str,
    answers: WizardAnswers,
    kind: RecommendedKind,
    scopes: &'static [Scope],
    role: AccessLevel,
}

fn automation(
    usages: [(Resource, Usage); 4],
    reach: Reach,
    maintainer: bool,
    confidential: bool,
    purpose: &str,
) -> WizardAnswers {
    let mut answers = WizardAnswers {
        reach: Some(reach),
        maintainer_actions: Some(maintainer.into()),
        confidential_issues: Some(confidential.into()),
        temporary: Some(YesNo::No),
        owner_team: "Engineering Productivity".to_owned(),
        purpose: purpose.to_owned(),
        ..WizardAnswers::default()
    };
    for (resource, usage) in usages {
        answers.set_usage(resource, usage);
    }
    answers
}

fn api_writes() -> [(Resource, Usage); 4] {
    [
        (Resource::Repository, Usage::Unused),
        (Resource::PackageRegistry, Usage::Unused),
        (Resource::ContainerRegistry, Usage::Unused),
        (Resource::Api, Usage::Writes),
    ]
}

/// Every automation the guidelines list, answered as it works, with the token the guidelines
/// say it uses.
fn examples() -> Vec<Example> {
    use RecommendedKind::*;
    vec![
        Example {
            // Comments on and labels merge requests in the projects of one group.
            quote: "Danger bot for merge request hygiene. We use the Danger bot group access token.",
            answers: automation(api_writes(), Reach::OneGroup, false, false, "danger bot"),
            kind: GroupAccessToken,
            scopes: &[Scope::Api],
            role: AccessLevel::Developer,
        },
        Example {
            // Group-level reminders and reports that post restricted quick actions.
            quote: "Scheduled reminders and reports of issues and merge requests. Requires a service account.",
            answers: automation(api_writes(), Reach::OneGroup, true, false, "triage scheduled"),
            kind: ServiceAccount,
            scopes: &[Scope::Api],
            role: AccessLevel::Maintainer,
        },
        Example {
            // Reacts to events across groups, with restricted quick actions.
            quote: "Real-time reaction to events on issues and merge requests. Requires a service account.",
            answers: automation(api_writes(), Reach::SeveralGroups, true, false, "triage reactive"),
            kind: ServiceAccount,
            scopes: &[Scope::Api],
            role: AccessLevel::Maintainer,
        },
        Example {
            // Posts a report on merge requests of one project.
            quote: "Allure test reports. We use the End-to-end tests Allure report project access token to post \
                    Allure test report on merge requests that run end-to-end tests against their Review App.",
            answers: automation(api_writes(), Reach::OneProject, false, false, "allure report"),
            kind: ProjectAccessToken,
            scopes: &[Scope::Api],
            role: AccessLevel::Developer,
        },
        Example {
            // Reads issues and merge requests, opens the retrospective issue in one project.
            quote: "Asynchronous retrospective generation. Can use a project access tokens unless fetching \
                    confidential issues.",
            answers: automation(api_writes(), Reach::OneProject, false, false, "async retrospectives"),
            kind: ProjectAccessToken,
            scopes: &[Scope::Api],
            role: AccessLevel::Developer,
        },
        Example {
            // The same, fetching confidential issues.
            quote: "Asynchronous retrospective generation. Can use a project access tokens unless fetching \
                    confidential issues.",
            answers: automation(api_writes(), Reach::OneProject, false, true, "async retrospectives"),
            kind: ServiceAccount,
            scopes: &[Scope::Api],
            role: AccessLevel::Developer,
        },
        Example {
            // Tags, releases, packages and images across the runner's projects; protected tags.
            quote: "GitLab Runner releases. Requires a service account.",
            answers: automation(
                [
                    (Resource::Repository, Usage::Writes),
                    (Resource::PackageRegistry, Usage::Writes),
                    (Resource::ContainerRegistry, Usage::Writes),
                    (Resource::Api, Usage::Writes),
                ],
                Reach::SeveralGroups,
                true,
                false,
                "runner releases",
            ),
            kind: ServiceAccount,
            scopes: &[Scope::Api],
            role: AccessLevel::Maintainer,
        },
        Example {
            // Pushes other projects' branches and tags (protected ones too) into mirrors elsewhere.
            quote: "Repository mirroring. Requires a service account.",
            answers: automation(
                [
                    (Resource::Repository, Usage::Writes),
                    (Resource::PackageRegistry, Usage::Unused),
                    (Resource::ContainerRegistry, Usage::Unused),
                    (Resource::Api, Usage::Unused),
                ],
                Reach::SeveralGroups,
                true,
                false,
                "omnibus mirror",
            ),
            kind: ServiceAccount,
            scopes: &[Scope::WriteRepository],
            role: AccessLevel::Maintainer,
        },
    ]
}

#[test]
fn the_guidelines_examples_get_the_token_the_guidelines_name() {
    let guidelines = rendered(GUIDELINES);
    for example in examples() {
        assert!(
            guidelines.contains(example.quote),
            "not in the guidelines: {:?}",
            example.quote
        );
        let recommendation = recommend_token_kind(&example.answers, &WizardPolicy::default(), today())
            .unwrap_or_else(|error| panic!("{}: {error}", example.quote));
        assert_eq!(recommendation.kind, example.kind, "{}", example.quote);
        assert_eq!(recommendation.scopes, example.scopes, "{}", example.quote);
        assert_eq!(recommendation.role, Some(example.role), "{}", example.quote);
        let rules: Vec<RuleId> = recommendation.rules.iter().map(|rule| rule.id).collect();
        assert!(rules.contains(&RuleId::DontReuse), "{}", example.quote);
        match example.kind {
            RecommendedKind::ServiceAccount => {
                assert!(rules.contains(&RuleId::ServiceAccount), "{}", example.quote);
                assert!(matches!(recommendation.next_step, NextStep::RequestServiceAccount(_)));
            }
            _ => assert!(matches!(recommendation.next_step, NextStep::CreateToken(_))),
        }
    }
}

#[test]
fn the_confidential_retrospective_quotes_its_example() {
    let confidential = examples()
        .into_iter()
        .find(|example| example.answers.confidential_issues == Some(YesNo::Yes))
        .map(|example| example.answers)
        .unwrap_or_default();
    let recommendation =
        recommend_token_kind(&confidential, &WizardPolicy::default(), today()).unwrap_or_else(|e| panic!("{e}"));
    let quoted = recommendation
        .rules
        .iter()
        .find(|rule| rule.id == RuleId::RetrospectiveConfidentialIssues)
        .map(|rule| rule.quote.as_str());
    assert_eq!(
        quoted,
        Some(
            "Asynchronous retrospective generation. Can use a project access tokens unless fetching confidential \
             issues."
        )
    );
    let project_token = recommendation
        .alternatives
        .iter()
        .find(|alt| alt.kind == Some(RecommendedKind::ProjectAccessToken))
        .map(|alt| alt.rules.iter().map(|rule| rule.id).collect::<Vec<_>>());
    assert_eq!(
        project_token,
        Some(vec![RuleId::RetrospectiveConfidentialIssues, RuleId::ServiceAccount])
    );
}

#[test]
fn answers_travel_as_a_url_query() {
    for example in examples() {
        let query = serde_urlencoded::to_string(&example.answers).unwrap_or_else(|e| panic!("{e}"));
        let back: WizardAnswers = serde_urlencoded::from_str(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(back, example.answers, "{query}");
    }
    let danger = &examples()[0].answers;
    assert_eq!(
        serde_urlencoded::to_string(danger).ok().as_deref(),
        Some(
            "api=writes&reach=one_group&maintainer_actions=no&confidential_issues=no&temporary=no\
             &owner_team=Engineering+Productivity&purpose=danger+bot"
        )
    );
}

#[test]
fn a_partly_answered_wizard_reads_from_a_query() {
    let answers: WizardAnswers =
        serde_urlencoded::from_str("repository=reads&reach=one_project&maintainer_actions=&path=")
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        answers,
        WizardAnswers {
            repository: Usage::Reads,
            reach: Some(Reach::OneProject),
            ..WizardAnswers::default()
        }
    );
    assert_eq!(answers.next_question(), Some(domain::Question::MaintainerActions));
    let empty: WizardAnswers = serde_urlencoded::from_str("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(empty, WizardAnswers::default());
    assert_eq!(serde_urlencoded::to_string(&empty).ok().as_deref(), Some(""));
    let blank_usage: WizardAnswers = serde_urlencoded::from_str("api=").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(blank_usage.api, Usage::Unused);
    assert!(serde_urlencoded::from_str::<WizardAnswers>("reach=everywhere").is_err());
    assert!(serde_urlencoded::from_str::<WizardAnswers>("api=sometimes").is_err());
    assert!(serde_urlencoded::from_str::<WizardAnswers>("temporary=true").is_err());
}

#[test]
fn answers_and_recommendations_travel_as_json() {
    for example in examples() {
        let json = serde_json::to_string(&example.answers).unwrap_or_else(|e| panic!("{e}"));
        let back: WizardAnswers = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back, example.answers);
        let recommendation =
            recommend_token_kind(&example.answers, &WizardPolicy::default(), today()).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_string(&recommendation).unwrap_or_else(|e| panic!("{e}"));
        let back = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(recommendation, back);
    }
    let partial: WizardAnswers =
        serde_json::from_str(r#"{"api": "reads", "reach": null, "temporary": ""}"#).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        partial,
        WizardAnswers {
            api: Usage::Reads,
            ..WizardAnswers::default()
        }
    );
}

#[test]
fn a_recommendation_reads_as_json() {
    let allure = &examples()[3].answers;
    let recommendation =
        recommend_token_kind(allure, &WizardPolicy::default(), today()).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&recommendation).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["kind"], "project_access_token");
    assert_eq!(json["scopes"], serde_json::json!(["api"]));
    assert_eq!(json["role"], 30);
    assert_eq!(json["expires_on"], "2027-02-23");
    assert_eq!(json["name"], "engineering-productivity-allure-report");
    assert_eq!(json["rules"][0]["id"], "dont-reuse");
    assert_eq!(json["next_step"]["action"], "create_token");
    assert!(
        json["next_step"]["curl"]
            .as_str()
            .is_some_and(|curl| curl.contains("$GITLAB_TOKEN"))
    );
    let error = serde_json::to_value(WizardError::Missing { field: Field::Purpose }).unwrap_or_default();
    assert_eq!(error, serde_json::json!({"error": "missing", "field": "purpose"}));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn usage() -> impl Strategy<Value = Usage> {
    prop::sample::select(Usage::ALL.to_vec())
}

fn yes_no() -> impl Strategy<Value = YesNo> {
    prop::sample::select(YesNo::ALL.to_vec())
}

/// Any complete, valid answers (the team may be missing: then a service account cannot be
/// recommended).
fn answers() -> impl Strategy<Value = WizardAnswers> {
    (
        (usage(), usage(), usage(), usage()),
        prop::sample::select(Reach::ALL.to_vec()),
        (yes_no(), yes_no(), yes_no()),
        prop::option::of("[A-Za-z][A-Za-z &-]{0,30}"),
        "[A-Za-z0-9][A-Za-z0-9 _./-]{0,40}",
        prop::option::of("[a-z][a-z0-9-]{0,12}/[a-z0-9_][a-z0-9_.-]{0,12}[0-9]"),
    )
        .prop_filter("it touches something", |((repository, packages, registry, api), ..)| {
            [repository, packages, registry, api]
                .iter()
                .any(|usage| usage.is_used())
        })
        .prop_map(
            |(
                (repository, package_registry, container_registry, api),
                reach,
                (maintainer, confidential, temporary),
                team,
                purpose,
                path,
            )| {
                WizardAnswers {
                    repository,
                    package_registry,
                    container_registry,
                    api,
                    reach: Some(reach),
                    maintainer_actions: Some(maintainer),
                    confidential_issues: Some(confidential),
                    temporary: Some(temporary),
                    path: path.unwrap_or_default(),
                    owner_team: team.unwrap_or_default(),
                    purpose,
                }
            },
        )
}

/// Any valid settings.
fn policy() -> impl Strategy<Value = WizardPolicy> {
    (1u32..=400)
        .prop_flat_map(|max| (Just(max), 1..=max))
        .prop_flat_map(|(max, default)| (Just(max), Just(default), 1..=default))
        .prop_map(|(max, default, temporary)| WizardPolicy {
            max_lifetime_days: max,
            default_lifetime_days: default,
            temporary_lifetime_days: temporary,
            ..WizardPolicy::default()
        })
}

fn a_day() -> impl Strategy<Value = NaiveDate> {
    (0u64..20_000).prop_map(|days| {
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|start| start.checked_add_days(Days::new(days)))
            .unwrap_or_default()
    })
}

/// Whether the scopes let a token of this kind use this part of GitLab this way: GitLab's
/// rules, written out apart from the wizard's.
fn grants(scopes: &[Scope], deploy: bool, resource: Resource, usage: Usage) -> bool {
    let has = |scope| scopes.contains(&scope);
    let api = has(Scope::Api);
    let read_api = api || has(Scope::ReadApi);
    match (resource, usage) {
        (_, Usage::Unused) => true,
        (Resource::Api, Usage::Reads) => read_api,
        (Resource::Api, Usage::Writes) => api,
        (Resource::Repository, Usage::Reads) => read_api || has(Scope::ReadRepository) || has(Scope::WriteRepository),
        (Resource::Repository, Usage::Writes) => api || has(Scope::WriteRepository),
        (Resource::ContainerRegistry, Usage::Reads) => read_api || has(Scope::ReadRegistry),
        (Resource::ContainerRegistry, Usage::Writes) => {
            (read_api || has(Scope::ReadRegistry)) && (api || has(Scope::WriteRegistry))
        }
        (Resource::PackageRegistry, Usage::Reads) if deploy => has(Scope::ReadPackageRegistry),
        (Resource::PackageRegistry, Usage::Writes) if deploy => {
            has(Scope::ReadPackageRegistry) && has(Scope::WritePackageRegistry)
        }
        (Resource::PackageRegistry, Usage::Reads) => read_api,
        (Resource::PackageRegistry, Usage::Writes) => api,
    }
}

fn grants_everything(scopes: &[Scope], deploy: bool, answers: &WizardAnswers) -> bool {
    Resource::ALL
        .into_iter()
        .all(|resource| grants(scopes, deploy, resource, answers.usage(resource)))
}

proptest! {
    #[test]
    fn every_recommendation_keeps_the_promises(answers in answers(), policy in policy(), today in a_day()) {
        let narrowest_fit = RecommendedKind::ALL.into_iter().find(|kind| fits(*kind, &answers));
        prop_assert!(narrowest_fit.is_some(), "a service account always fits");
        let result = recommend_token_kind(&answers, &policy, today);
        if narrowest_fit == Some(RecommendedKind::ServiceAccount) && answers.owner_team.trim().is_empty() {
            prop_assert_eq!(result, Err(WizardError::Missing { field: Field::OwnerTeam }));
            return Ok(());
        }
        let recommendation = result.map_err(|error| TestCaseError::fail(error.to_string()))?;
        let kind = recommendation.kind;

        // Never an empty scope set; sorted, no duplicates, each one the kind accepts.
        prop_assert!(!recommendation.scopes.is_empty());
        prop_assert!(recommendation.scopes.windows(2).all(|pair| pair[0] < pair[1]));
        prop_assert!(recommendation.scopes.iter().all(|scope| scope.accepted_by(kind.token_kind())));
        // The scopes do the job, and none of them is needless.
        prop_assert!(grants_everything(&recommendation.scopes, kind.is_deploy_token(), &answers));
        for index in 0..recommendation.scopes.len() {
            let mut fewer = recommendation.scopes.clone();
            fewer.remove(index);
            let needless = recommendation.scopes[index];
            prop_assert!(!grants_everything(&fewer, kind.is_deploy_token(), &answers), "{:?} is needless", needless);
        }
        // Read-only scopes when it only reads.
        let writes = Resource::ALL.into_iter().any(|resource| answers.usage(resource) == Usage::Writes);
        if !writes {
            prop_assert!(recommendation.scopes.iter().all(|scope| scope.is_read_only()));
        }

        // Never an expiry beyond the maximum; always after today.
        let latest = today.checked_add_days(Days::new(u64::from(policy.max_lifetime_days)));
        prop_assert!(recommendation.expires_on > today);
        prop_assert!(Some(recommendation.expires_on) <= latest);
        prop_assert!(recommendation.lifetime_days <= policy.max_lifetime_days);

        // Never a kind broader than another kind that also fits.
        prop_assert!(fits(kind, &answers));
        prop_assert_eq!(Some(kind), narrowest_fit);
        for narrower in RecommendedKind::ALL.into_iter().filter(|other| *other < kind) {
            prop_assert!(!fits(narrower, &answers), "{} also fits", narrower);
        }
        // The two kinds whose breadth cannot be compared never decide between themselves.
        if fits(RecommendedKind::GroupDeployToken, &answers) && fits(RecommendedKind::ProjectAccessToken, &answers) {
            prop_assert!(fits(RecommendedKind::ProjectDeployToken, &answers));
        }

        // The role: none for deploy tokens, else the lowest that works.
        let maintainer = answers.maintainer_actions == Some(YesNo::Yes);
        let expected_role = if kind.is_deploy_token() {
            None
        } else if maintainer {
            Some(AccessLevel::Maintainer)
        } else if writes {
            Some(AccessLevel::Developer)
        } else {
            Some(AccessLevel::Reporter)
        };
        prop_assert_eq!(recommendation.role, expected_role);

        // The guidelines' decisions.
        let uses_api = answers.api.is_used();
        let reach = answers.reach.unwrap_or(Reach::Instance);
        if uses_api && answers.confidential_issues == Some(YesNo::Yes) {
            prop_assert_eq!(kind, RecommendedKind::ServiceAccount);
        }
        if (maintainer && reach >= Reach::OneGroup) || reach >= Reach::SeveralGroups {
            prop_assert_eq!(kind, RecommendedKind::ServiceAccount);
        }
        if uses_api && kind != RecommendedKind::ServiceAccount {
            prop_assert!(!kind.is_deploy_token());
        }

        // Never reuse: the rule is always quoted, and reusing is always an alternative that lost.
        let rules: Vec<RuleId> = recommendation.rules.iter().map(|rule| rule.id).collect();
        prop_assert!(rules.contains(&RuleId::DontReuse));
        prop_assert!(rules.contains(&RuleId::AlwaysExpire));
        prop_assert!(recommendation.alternatives.iter().any(|alt| alt.kind.is_none()));
        for other in RecommendedKind::ALL.into_iter().filter(|other| *other != kind) {
            let lost = recommendation.alternatives.iter().find(|alt| alt.kind == Some(other));
            prop_assert!(lost.is_some_and(|alt| !alt.why_not.is_empty()), "{} is not among the alternatives", other);
        }

        // A name, never a secret in the commands.
        prop_assert!(!recommendation.name.is_empty());
        prop_assert!(recommendation.name.len() <= 255);
        let name_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
        prop_assert!(recommendation.name.chars().all(name_char));
        match &recommendation.next_step {
            NextStep::CreateToken(creation) => {
                prop_assert!(creation.curl.contains("--header \"PRIVATE-TOKEN: $GITLAB_TOKEN\""));
                prop_assert!(creation.curl.contains(&recommendation.name));
                prop_assert!(creation.glab.starts_with("glab "));
                let expires_at = format!("--expires-at {}", recommendation.expires_on);
                prop_assert!(creation.glab.contains(&expires_at));
            }
            NextStep::RequestServiceAccount(request) => {
                prop_assert_eq!(kind, RecommendedKind::ServiceAccount);
                prop_assert_eq!(&request.answers, &answers);
                prop_assert_eq!(&request.scopes, &recommendation.scopes);
                prop_assert!(!request.memberships.is_empty());
            }
        }

        prop_assert_eq!(answers.next_question(), None);
    }

    #[test]
    fn answers_round_trip_through_a_query_and_json(answers in answers()) {
        let query = serde_urlencoded::to_string(&answers).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: WizardAnswers = serde_urlencoded::from_str(&query).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &answers);
        let json = serde_json::to_string(&answers).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: WizardAnswers = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &answers);
    }

    #[test]
    fn any_text_is_answered_with_a_recommendation_or_a_field_error(
        path in ".{0,40}",
        team in ".{0,40}",
        purpose in ".{0,80}",
    ) {
        let mut answers = examples()[2].answers.clone();
        answers.path = path;
        answers.owner_team = team;
        answers.purpose = purpose;
        match recommend_token_kind(&answers, &WizardPolicy::default(), today()) {
            Ok(recommendation) => prop_assert!(!recommendation.name.is_empty()),
            Err(error) => {
                let field = error.field();
                prop_assert!(matches!(field, Some(Field::Path | Field::OwnerTeam | Field::Purpose)), "{}", error);
            }
        }
    }
}

#[test]
fn every_quote_is_word_for_word_in_the_guidelines() {
    let guidelines = rendered(GUIDELINES);
    for rule in RuleId::ALL {
        assert!(
            guidelines.contains(rule.quote()),
            "{}: {:?}",
            rule.as_str(),
            rule.quote()
        );
        assert!(
            guidelines.contains(&format!("# {}", rule.section())),
            "{}: section {:?}",
            rule.as_str(),
            rule.section()
        );
    }
    assert!(GUIDELINES.contains(domain::wizard::SERVICE_ACCOUNT_REQUEST_URL));
}

#[test]
fn rendering_drops_link_targets_only() {
    assert_eq!(rendered("a [b](c) `d` [e] f\n  g"), "a b d [e] f g");
}

proptest! {
    /// The answers travel in the wizard's URL: what goes out comes back the same, and the steps
    /// they go through ask about confidential issues only when the API is used.
    #[test]
    fn answers_survive_the_trip_through_the_url(answers in answers()) {
        let pairs = answers.to_query_pairs();
        let (back, errors) = WizardAnswers::from_query(|name| {
            pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
        });
        prop_assert!(errors.is_empty(), "{:?}", errors);
        let trimmed = WizardAnswers {
            path: answers.path.trim().to_owned(),
            owner_team: answers.owner_team.trim().to_owned(),
            purpose: answers.purpose.trim().to_owned(),
            ..answers.clone()
        };
        prop_assert_eq!(back, trimmed);
        let steps = answers.steps();
        prop_assert_eq!(steps.contains(&domain::Question::ConfidentialIssues), answers.api.is_used());
        prop_assert_eq!(steps.first(), Some(&domain::Question::Touches));
        prop_assert_eq!(steps.last(), Some(&domain::Question::Details));
    }
}

#[test]
fn the_url_refuses_unknown_choices_and_drops_secrets() {
    let query = [
        ("repository", "reads"),
        ("api", "sometimes"),
        ("reach", "galaxy"),
        ("purpose", "glpat-abcdefghij0123456789"),
    ];
    let (answers, errors) =
        WizardAnswers::from_query(|name| query.iter().find(|(key, _)| *key == name).map(|(_, value)| *value));
    assert_eq!(answers.repository, Usage::Reads);
    assert_eq!(answers.api, Usage::Unused, "an unreadable value is not an answer");
    let fields: Vec<Option<Field>> = errors.iter().map(WizardError::field).collect();
    assert_eq!(fields, vec![Some(Field::Touches), Some(Field::Reach)]);
    assert!(
        answers.to_query_pairs().iter().all(|(name, _)| *name != "purpose"),
        "a secret never travels on in a link"
    );
}
