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
fn answers_have_labels_and_a_blank_usage_is_unused() {
    // Reading back every identifier: `enums::tests`.
    assert!(Usage::ALL.iter().all(|usage| !usage.label().is_empty()));
    assert_eq!(Usage::try_from(String::new()), Ok(Usage::Unused));
    assert!(Reach::ALL.iter().all(|reach| !reach.label().is_empty()));
    assert!(YesNo::ALL.iter().all(|answer| !answer.label().is_empty()));
    for question in Question::ALL {
        assert!(question.label().ends_with('?'));
        assert!(!question.help().is_empty());
    }
    for resource in Resource::ALL {
        assert!(!resource.label().is_empty() && !resource.help().is_empty());
        let mut answers = WizardAnswers::default();
        answers.set_usage(resource, Usage::Writes);
        assert_eq!(answers.usage(resource), Usage::Writes);
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
