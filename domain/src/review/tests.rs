//! The rules at their boundaries, table-driven.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use super::*;
use crate::{AccessLevel, AccountOwner, ContainerKind, OwnerSource, ServiceAccount, TeamRef, TokenKind};

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
}

const TODAY: &str = "2026-12-02";

/// What a case expects: each finding's rule and severity, in the order they come.
type Expected = &'static [(FindingRule, Severity)];
/// A case: what it is, then its values, then what it expects.
type ExpiryCase = (&'static str, Option<&'static str>, Option<&'static str>, Expected);
type UseCase = (
    &'static str,
    Option<DateTime<Utc>>,
    Option<&'static str>,
    &'static [FindingRule],
);
type ScopeCase = (
    &'static str,
    TokenKind,
    &'static [&'static str],
    Option<&'static str>,
    Expected,
);

/// A token that passes every rule on `TODAY`: a project access token of the Platform team, at
/// Developer with read_api, used yesterday, 90 days to go, named after the default convention.
fn clean() -> TokenUnderReview {
    TokenUnderReview {
        token: TokenSummary {
            id: 7,
            kind: TokenKind::ProjectAccess,
            gitlab_id: 70,
            name: "platform-release-notes".to_owned(),
            container_kind: ContainerKind::Project,
            container_path: "acme/platform/api".to_owned(),
            account_username: Some("project_1_bot_ab".to_owned()),
            scopes: vec!["read_api".to_owned()],
            access_level: Some(AccessLevel::Developer),
            created_at: Some(at("2026-09-01T10:00:00Z")),
            expires_on: Some(day("2027-03-02")),
            last_used_at: Some(at("2026-12-01T10:00:00Z")),
            revoked: false,
            gone_since: None,
            owner_team: Some(TeamRef {
                id: 1,
                name: "Platform".to_owned(),
            }),
            owner_inferred: false,
            purpose: Some("writes the release notes".to_owned()),
        },
        notes: None,
        description: None,
        owner_team_leads: Some(1),
        group_projects: None,
        owner_team_has_channel: Some(true),
        recert_flag: None,
    }
}

fn rules(reviewed: &TokenUnderReview) -> Vec<(FindingRule, Severity)> {
    token_findings(reviewed, &ReviewPolicy::default(), day(TODAY))
        .into_iter()
        .map(|finding| (finding.rule, finding.severity))
        .collect()
}

#[test]
fn a_clean_token_has_no_finding() {
    assert_eq!(rules(&clean()), []);
}

#[test]
fn expiry_at_its_boundaries() {
    use FindingRule::*;
    use Severity::*;
    let cases: &[ExpiryCase] = &[
        (
            "no expiry date",
            None,
            Some("2026-09-01T10:00:00Z"),
            &[(NoExpiry, High)],
        ),
        (
            "exactly 365 days",
            Some("2027-09-01"),
            Some("2026-09-01T10:00:00Z"),
            &[],
        ),
        (
            "366 days",
            Some("2027-09-02"),
            Some("2026-09-01T10:00:00Z"),
            &[(LifetimeOverMaximum, Medium)],
        ),
        (
            "no creation date: the lifetime is unknown",
            Some("2030-01-01"),
            None,
            &[],
        ),
        (
            "expires today: already expired",
            Some(TODAY),
            Some("2026-09-01T10:00:00Z"),
            &[(ExpiredNotRevoked, Low)],
        ),
        (
            "expires tomorrow",
            Some("2026-12-03"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, High)],
        ),
        (
            "7 days",
            Some("2026-12-09"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, High)],
        ),
        (
            "8 days",
            Some("2026-12-10"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, Medium)],
        ),
        (
            "30 days",
            Some("2027-01-01"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, Medium)],
        ),
        (
            "31 days",
            Some("2027-01-02"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, Low)],
        ),
        (
            "60 days",
            Some("2027-01-31"),
            Some("2026-09-01T10:00:00Z"),
            &[(Expiring, Low)],
        ),
        ("61 days", Some("2027-02-01"), Some("2026-09-01T10:00:00Z"), &[]),
    ];
    for (case, expires_on, created_at, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.expires_on = expires_on.map(day);
        reviewed.token.created_at = created_at.map(at);
        assert_eq!(rules(&reviewed), *expected, "{case}");
    }
}

#[test]
fn an_expiring_token_is_due_by_its_expiry_date() {
    let mut reviewed = clean();
    reviewed.token.expires_on = Some(day("2026-12-03"));
    let findings = token_findings(&reviewed, &ReviewPolicy::default(), day(TODAY));
    assert_eq!(findings[0].due_on, day("2026-12-03"));
    assert!(findings[0].detail.contains("tomorrow"), "{}", findings[0].detail);
    // A window of 45 days instead of 30: a token 40 days away is in it.
    let policy = ReviewPolicy {
        notice_days: vec![45, 7],
        ..ReviewPolicy::default()
    };
    reviewed.token.expires_on = Some(day("2027-01-11"));
    let findings = token_findings(&reviewed, &policy, day(TODAY));
    assert_eq!(findings.len(), 1);
    assert!(findings[0].detail.contains("45-day notice"), "{}", findings[0].detail);
}

#[test]
fn use_at_its_boundaries_counted_in_utc_days() {
    use FindingRule::*;
    let cases: &[UseCase] = &[
        (
            "used 89 days ago",
            Some(at("2026-09-04T12:00:00Z")),
            Some("2026-01-01T00:00:00Z"),
            &[],
        ),
        (
            "used exactly 90 days ago",
            Some(at("2026-09-03T12:00:00Z")),
            Some("2026-01-01T00:00:00Z"),
            &[Unused],
        ),
        // 23:30 in New York on 2 September is 04:30 UTC on 3 September: 90 days, not 91.
        (
            "used at midnight in another time zone",
            Some(
                FixedOffset::west_opt(5 * 3600)
                    .expect("an offset")
                    .with_ymd_and_hms(2026, 9, 2, 23, 30, 0)
                    .single()
                    .expect("a time")
                    .with_timezone(&Utc),
            ),
            Some("2026-01-01T00:00:00Z"),
            &[Unused],
        ),
        (
            "never used, created 89 days ago",
            None,
            Some("2026-09-04T00:00:00Z"),
            &[],
        ),
        (
            "never used, created 90 days ago",
            None,
            Some("2026-09-03T00:00:00Z"),
            &[NeverUsed],
        ),
        ("never used, no creation date", None, None, &[]),
    ];
    for (case, last_used_at, created_at, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.last_used_at = *last_used_at;
        reviewed.token.created_at = created_at.map(at);
        reviewed.token.expires_on = Some(day("2027-06-01"));
        let found: Vec<FindingRule> = rules(&reviewed)
            .into_iter()
            .map(|(rule, _)| rule)
            .filter(|rule| !matches!(rule, LifetimeOverMaximum))
            .collect();
        assert_eq!(found, *expected, "{case}");
    }
}

#[test]
fn a_deploy_token_is_not_reported_unused_gitlab_does_not_say() {
    let mut reviewed = clean();
    reviewed.token.kind = TokenKind::Deploy;
    reviewed.token.access_level = None;
    reviewed.token.scopes = vec!["read_repository".to_owned()];
    reviewed.token.last_used_at = None;
    assert_eq!(rules(&reviewed), []);
}

#[test]
fn scopes_broader_than_the_purpose() {
    use FindingRule::*;
    use Severity::*;
    let cases: &[ScopeCase] = &[
        (
            "sudo on anything",
            TokenKind::ProjectAccess,
            &["api", "sudo"],
            Some("deploys"),
            &[(AdminScope, Critical)],
        ),
        (
            "admin_mode",
            TokenKind::Personal,
            &["read_api", "admin_mode"],
            None,
            &[(AdminScope, Critical), (NoPurpose, Low)],
        ),
        (
            "a deploy token that writes, for pulling",
            TokenKind::Deploy,
            &["read_registry", "write_registry"],
            Some("pulls images for staging"),
            &[(WriteScopeForReading, High)],
        ),
        (
            "a deploy token that writes, for publishing",
            TokenKind::Deploy,
            &["write_package_registry"],
            Some("publishes packages"),
            &[],
        ),
        (
            "api for reading reports",
            TokenKind::ProjectAccess,
            &["api"],
            Some("reads pipelines for a weekly report"),
            &[(ApiScopeForReading, Medium)],
        ),
        (
            "api for posting comments",
            TokenKind::ProjectAccess,
            &["api"],
            Some("reads test results and posts a comment"),
            &[],
        ),
        (
            "api with no purpose said",
            TokenKind::ProjectAccess,
            &["api"],
            None,
            &[(NoPurpose, Low)],
        ),
    ];
    for (case, kind, scopes, purpose, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.kind = *kind;
        if *kind == TokenKind::Deploy {
            reviewed.token.access_level = None;
        }
        reviewed.token.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        reviewed.token.purpose = purpose.map(str::to_owned);
        assert_eq!(rules(&reviewed), *expected, "{case}");
    }
}

#[test]
fn what_a_token_is_for_comes_from_its_purpose_then_its_description_then_its_name() {
    // Purpose, GitLab's description, name, and what the api scope finding says (None: no finding).
    type Case = (
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        (None, None, "platform-docs-reader", Some("Its name says it only reads")),
        (None, None, "platform-release-notes", None),
        (
            None,
            Some("lists open issues"),
            "platform-release-notes",
            Some("Its description in GitLab"),
        ),
        // A description that writes is what it is for, whatever the name says.
        (None, Some("posts release notes"), "platform-docs-reader", None),
        // The recorded purpose comes first.
        (
            Some("publishes the docs"),
            Some("lists open issues"),
            "platform-docs-reader",
            None,
        ),
        (
            Some("reads the changelog"),
            Some("posts release notes"),
            "x",
            Some("Its recorded purpose"),
        ),
    ];
    for (purpose, description, name, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.scopes = vec!["api".to_owned()];
        reviewed.token.purpose = purpose.map(str::to_owned);
        reviewed.description = description.map(str::to_owned);
        reviewed.token.name = (*name).to_owned();
        let finding = token_findings(&reviewed, &ReviewPolicy::default(), day(TODAY))
            .into_iter()
            .find(|finding| finding.rule == FindingRule::ApiScopeForReading);
        match (expected, finding) {
            (None, None) => {}
            (Some(says), Some(finding)) => assert!(finding.detail.starts_with(says), "{}", finding.detail),
            (expected, found) => panic!("{purpose:?} {description:?} {name}: expected {expected:?}, found {found:?}"),
        }
    }
}

#[test]
fn a_high_role_needs_a_reason_in_the_notes() {
    let mut reviewed = clean();
    reviewed.token.access_level = Some(AccessLevel::Maintainer);
    assert_eq!(
        rules(&reviewed),
        [(FindingRule::HighRoleWithoutReason, Severity::Medium)]
    );
    reviewed.notes = Some("posts restricted quick actions".to_owned());
    assert_eq!(rules(&reviewed), []);
    // A service account's token has no role of its own.
    reviewed.notes = None;
    reviewed.token.kind = TokenKind::Personal;
    assert_eq!(rules(&reviewed), []);
}

#[test]
fn an_owner_team_without_an_alert_channel_only_when_alerts_are_configured() {
    let mut reviewed = clean();
    reviewed.owner_team_has_channel = Some(false);
    assert_eq!(rules(&reviewed), [(FindingRule::TeamWithoutChannel, Severity::Low)]);
    let found = token_findings(&reviewed, &ReviewPolicy::default(), day(TODAY));
    assert_eq!(
        found[0].detail,
        "Its owner team, Platform, has no alert channel: nobody is told when it expires."
    );
    assert_eq!(
        FindingRule::TeamWithoutChannel.basis().quote(),
        "Organisation policy (teams file: webhook_url or emails); the guidelines say nothing on this"
    );
    // Alerts not configured: nobody is asked for a channel.
    reviewed.owner_team_has_channel = None;
    assert_eq!(rules(&reviewed), []);
}

#[test]
fn owner_team_purpose_and_leads() {
    let mut reviewed = clean();
    reviewed.owner_team_leads = Some(0);
    assert_eq!(rules(&reviewed), [(FindingRule::OrphanedTeam, Severity::Medium)]);
    reviewed.token.owner_team = None;
    reviewed.owner_team_leads = None;
    reviewed.token.purpose = Some("  ".to_owned());
    let found = rules(&reviewed);
    assert_eq!(
        found,
        [
            (FindingRule::NoOwnerTeam, Severity::High),
            (FindingRule::NoPurpose, Severity::Low)
        ]
    );
}

#[test]
fn names_off_the_convention() {
    let mut policy = ReviewPolicy::default();
    policy.token.naming = "{team}-{purpose}".parse().expect("a template");
    for (name, off) in [
        ("platform-release-notes", false),
        ("Release Notes", true),
        ("delivery-release-notes", true),
    ] {
        let mut reviewed = clean();
        reviewed.token.name = name.to_owned();
        let found = token_findings(&reviewed, &policy, day(TODAY))
            .iter()
            .any(|finding| finding.rule == FindingRule::NameOffConvention);
        assert_eq!(found, off, "{name}");
    }
}

#[test]
fn revoked_and_gone_tokens_have_nothing_to_fix() {
    let mut reviewed = clean();
    reviewed.token.expires_on = None;
    reviewed.token.revoked = true;
    assert_eq!(rules(&reviewed), []);
    reviewed.token.revoked = false;
    reviewed.token.gone_since = Some(at("2026-11-30T00:00:00Z"));
    assert_eq!(rules(&reviewed), []);
}

#[test]
fn every_rule_says_what_it_rests_on() {
    for rule in FindingRule::ALL {
        let quote = rule.basis().quote();
        assert!(
            quote.starts_with('“') || quote.starts_with("Organisation policy ("),
            "{rule}: {quote}"
        );
        assert!(!rule.label().is_empty());
    }
    assert!(
        FindingRule::NoExpiry
            .basis()
            .quote()
            .contains("Always set an expiration date")
    );
}

#[test]
fn a_service_account_needs_an_owner_team() {
    let mut account = ServiceAccount {
        gitlab_id: 90,
        username: "gitlab-bot".to_owned(),
        name: "GitLab Bot".to_owned(),
        state: "active".to_owned(),
        group_path: Some("acme".to_owned()),
        owner: None,
        tokens: Vec::new(),
        memberships: Vec::new(),
    };
    let findings = account_findings(
        &account,
        &AccountHistory::default(),
        &ReviewPolicy::default(),
        day(TODAY),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].subject, Subject::Account(90));
    assert_eq!(findings[0].due_on, day("2026-12-09"));
    account.owner = Some(AccountOwner {
        team: TeamRef {
            id: 1,
            name: "Platform".to_owned(),
        },
        source: OwnerSource::Set {
            by: "sam".to_owned(),
            at: at("2026-11-01T00:00:00Z"),
        },
    });
    assert!(
        account_findings(
            &account,
            &AccountHistory::default(),
            &ReviewPolicy::default(),
            day(TODAY)
        )
        .is_empty()
    );
}

#[test]
fn an_access_token_that_only_reaches_the_repository_or_registries_could_be_a_deploy_token() {
    let cases: &[(TokenKind, &[&str], bool)] = &[
        (TokenKind::ProjectAccess, &["read_repository"], true),
        (TokenKind::GroupAccess, &["read_registry", "write_registry"], true),
        (TokenKind::ProjectAccess, &["read_repository", "read_api"], false),
        (TokenKind::Personal, &["read_repository"], false),
        (TokenKind::ProjectAccess, &[], false),
    ];
    for (kind, scopes, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.kind = *kind;
        reviewed.token.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        let found = rules(&reviewed).contains(&(FindingRule::DeployTokenSuffices, Severity::Low));
        assert_eq!(found, *expected, "{kind:?} {scopes:?}");
    }
}

#[test]
fn a_group_token_whose_group_holds_one_project_could_be_a_project_token() {
    // Projects in the group (with its subgroups), scopes, and whether the rule fires.
    let cases: &[(Option<usize>, &[&str], bool)] = &[
        (Some(1), &["read_api"], true),
        (Some(2), &["read_api"], false),
        (Some(0), &["read_api"], false),
        (None, &["read_api"], false),
        // A deploy token does it (and the deploy token finding says so): not this one too.
        (Some(1), &["read_repository"], false),
    ];
    for (projects, scopes, expected) in cases {
        let mut reviewed = clean();
        reviewed.token.kind = TokenKind::GroupAccess;
        reviewed.token.container_kind = ContainerKind::Group;
        reviewed.token.container_path = "acme/platform".to_owned();
        reviewed.token.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        reviewed.group_projects = *projects;
        let found = rules(&reviewed).contains(&(FindingRule::GroupTokenForOneProject, Severity::Low));
        assert_eq!(found, *expected, "{projects:?} {scopes:?}");
    }
    // Only a group access token: a project's token in a one-project group is where it should be.
    let mut reviewed = clean();
    reviewed.group_projects = Some(1);
    assert!(
        !rules(&reviewed)
            .iter()
            .any(|(rule, _)| *rule == FindingRule::GroupTokenForOneProject)
    );
}

/// The legacy bot: a service account of the Platform team with a token per automation.
fn legacy_bot(tokens: &[(&str, &[&str], Option<&str>)]) -> ServiceAccount {
    ServiceAccount {
        gitlab_id: 90,
        username: "gitlab_bot".to_owned(),
        name: "GitLab Bot".to_owned(),
        state: "active".to_owned(),
        group_path: Some("acme".to_owned()),
        owner: Some(AccountOwner {
            team: TeamRef {
                id: 1,
                name: "Platform".to_owned(),
            },
            source: OwnerSource::Set {
                by: "sam".to_owned(),
                at: at("2026-11-01T00:00:00Z"),
            },
        }),
        tokens: tokens
            .iter()
            .enumerate()
            .map(|(index, (name, scopes, purpose))| {
                let mut token = clean().token;
                token.id = 100 + i64::try_from(index).expect("few");
                token.kind = TokenKind::Personal;
                token.access_level = None;
                token.name = (*name).to_owned();
                token.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
                token.purpose = purpose.map(str::to_owned);
                token
            })
            .collect(),
        memberships: Vec::new(),
    }
}

fn catch_all_of(account: &ServiceAccount) -> Option<Finding> {
    account_findings(
        account,
        &AccountHistory::default(),
        &ReviewPolicy::default(),
        day(TODAY),
    )
    .into_iter()
    .find(|finding| finding.rule == FindingRule::CatchAllAccount)
}

#[test]
fn one_account_for_several_automations_is_the_single_bot_lesson() {
    // One automation, even with two tokens of the same name (a rotation): not a catch-all.
    assert!(catch_all_of(&legacy_bot(&[("gitlab-bot-triage", &["api"], None)])).is_none());
    assert!(
        catch_all_of(&legacy_bot(&[
            ("gitlab-bot-triage", &["api"], None),
            ("gitlab-bot-triage", &["api"], None)
        ]))
        .is_none()
    );
    // Two names and one recorded purpose for both: one automation.
    let same_purpose = legacy_bot(&[
        ("gitlab-bot-triage", &["api"], Some("triage")),
        ("gitlab-bot-triage-2", &["api"], Some("Triage")),
    ]);
    assert!(catch_all_of(&same_purpose).is_none());
    // A revoked token serves nothing.
    let mut revoked = legacy_bot(&[
        ("gitlab-bot-triage", &["api"], None),
        ("gitlab-bot-release", &["api"], None),
    ]);
    revoked.tokens[1].revoked = true;
    assert!(catch_all_of(&revoked).is_none());

    let account = legacy_bot(&[
        ("gitlab-bot-triage", &["api"], None),
        ("gitlab-bot-mirror", &["read_repository", "write_repository"], None),
        ("gitlab-bot-images", &["read_registry"], Some("pulls base images")),
    ]);
    let finding = catch_all_of(&account).expect("a catch-all");
    assert_eq!(
        (finding.severity, finding.subject),
        (Severity::Medium, Subject::Account(90))
    );
    assert!(
        finding.detail.contains("3 live tokens serving 3 automations"),
        "{}",
        finding.detail
    );
    let plan: Vec<&str> = finding.fix.lines().collect();
    assert!(plan[0].contains("assumes each works in one project"), "{}", plan[0]);
    assert_eq!(
        plan[1..],
        [
            "• gitlab-bot-triage: a project access token with api, Developer, named platform-triage.",
            "• gitlab-bot-mirror: a project access token with write_repository, Developer, named platform-mirror.",
            "• gitlab-bot-images: a project deploy token with read_registry, named platform-pulls-base-images.",
        ]
    );
}

#[test]
fn the_migration_plan_follows_the_accounts_reach() {
    let mut account = legacy_bot(&[
        ("gitlab-bot-triage", &["api"], None),
        ("gitlab-bot-docs", &["read_api"], None),
        ("gitlab-bot-release", &["api"], None),
    ]);
    // A member of one group only: group access tokens there.
    account.memberships = vec![crate::AccountMembership {
        source_kind: ContainerKind::Group,
        source_gitlab_id: 5,
        source_path: "acme/platform".to_owned(),
        access_level: AccessLevel::Developer,
    }];
    let finding = catch_all_of(&account).expect("a catch-all");
    assert!(!finding.fix.contains("assumes"), "{}", finding.fix);
    assert!(
        finding.fix.contains(
            "• gitlab-bot-docs: a group access token on acme/platform with read_api, Reporter, named platform-docs."
        ),
        "{}",
        finding.fix
    );
    // Two teams behind one automation's name: several teams is reason enough.
    let mut shared = legacy_bot(&[("gitlab-bot", &["api"], None), ("gitlab-bot", &["api"], None)]);
    shared.tokens[1].owner_team = Some(TeamRef {
        id: 2,
        name: "Delivery".to_owned(),
    });
    let finding = catch_all_of(&shared).expect("a catch-all");
    assert!(
        finding.detail.contains("of 2 teams (Delivery, Platform)"),
        "{}",
        finding.detail
    );
    assert!(
        FindingRule::CatchAllAccount
            .basis()
            .quote()
            .contains("Reusing the same token everywhere")
    );
    // An account with no owner team and many automations has both findings, the most severe first.
    let mut across = legacy_bot(&[
        ("gitlab-bot-a", &["api"], None),
        ("gitlab-bot-b", &["api"], None),
        ("gitlab-bot-c", &["api"], None),
    ]);
    across.owner = None;
    for token in &mut across.tokens {
        token.owner_team = None;
    }
    across.memberships = vec![crate::AccountMembership {
        source_kind: ContainerKind::Group,
        source_gitlab_id: 5,
        source_path: "acme".to_owned(),
        access_level: AccessLevel::Maintainer,
    }];
    let findings = account_findings(
        &across,
        &AccountHistory::default(),
        &ReviewPolicy::default(),
        day(TODAY),
    );
    let rules: Vec<FindingRule> = findings.iter().map(|finding| finding.rule).collect();
    assert_eq!(rules, [FindingRule::AccountWithoutOwner, FindingRule::CatchAllAccount]);
}

#[test]
fn the_new_names_drop_the_words_the_accounts_tokens_share() {
    let account = legacy_bot(&[
        ("gitlab-bot", &["api"], None),
        ("gitlab-bot-triage", &["api"], None),
        ("gitlab-bot_release-notes", &["api"], None),
        ("gitlab-botany", &["api"], None),
    ]);
    let finding = catch_all_of(&account).expect("a catch-all");
    let names: Vec<&str> = finding
        .fix
        .lines()
        .skip(1)
        .filter_map(|line| line.rsplit("named ").next())
        .collect();
    // `gitlab-botany` shares only `gitlab` with the others: a word, not a prefix of letters.
    assert_eq!(
        names,
        [
            "platform-bot.",
            "platform-bot-triage.",
            "platform-bot-release-notes.",
            "platform-botany."
        ]
    );
}

fn drift_rules(account: &ServiceAccount, history: &AccountHistory) -> Vec<(FindingRule, String)> {
    account_findings(account, history, &ReviewPolicy::default(), day(TODAY))
        .into_iter()
        .filter(|finding| {
            matches!(
                finding.rule,
                FindingRule::MadeOutsideRequests | FindingRule::DiffersFromRequest
            )
        })
        .map(|finding| (finding.rule, finding.detail))
        .collect()
}

#[test]
fn an_account_no_request_explains_was_made_outside_the_process_once_it_was_on() {
    let account = legacy_bot(&[("release-bot", &["api"], None)]);
    let since = at("2026-11-20T00:00:00Z");
    let history = |first_seen: &str, request: Option<(i64, crate::requests::ValidRequest)>| AccountHistory {
        first_seen: Some(at(first_seen)),
        requests_since: Some(since),
        request,
        recert_flag: None,
    };
    let found = drift_rules(&account, &history("2026-11-25T10:00:00Z", None));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, FindingRule::MadeOutsideRequests);
    assert!(found[0].1.contains("appeared on 2026-11-25"), "{}", found[0].1);
    // There before the process (or the first sync): not drift.
    assert!(drift_rules(&account, &history("2026-11-19T23:59:59Z", None)).is_empty());
    assert!(drift_rules(&account, &history("2026-11-20T00:00:00Z", None)).is_empty());
    // Nothing synced yet, or a request asked for it.
    let unknown = AccountHistory {
        requests_since: None,
        ..history("2026-11-25T10:00:00Z", None)
    };
    assert!(drift_rules(&account, &unknown).is_empty());
    let asked = crate::requests::ValidRequest {
        scopes: vec![crate::Scope::Api],
        ..Default::default()
    };
    assert!(
        drift_rules(&account, &history("2026-11-25T10:00:00Z", Some((7, asked))))
            .iter()
            .all(|(rule, _)| *rule != FindingRule::MadeOutsideRequests)
    );
}

#[test]
fn an_account_beyond_its_approved_request_has_drifted() {
    use crate::{AccountMembership, requests::MembershipAsk};
    let approved = crate::requests::ValidRequest {
        scopes: vec![crate::Scope::Api],
        lifetime_days: Some(90),
        memberships: vec![MembershipAsk {
            kind: ContainerKind::Group,
            path: "acme/platform".to_owned(),
            role: AccessLevel::Maintainer,
        }],
        ..Default::default()
    };
    let history = AccountHistory {
        request: Some((7, approved)),
        ..AccountHistory::default()
    };
    let member = |path: &str, level| AccountMembership {
        source_kind: ContainerKind::Group,
        source_gitlab_id: 5,
        source_path: path.to_owned(),
        access_level: level,
    };
    let mut account = legacy_bot(&[("release-bot", &["api"], None)]);
    account.tokens[0].created_at = Some(at("2026-12-01T09:00:00Z"));
    account.tokens[0].expires_on = Some(day("2027-03-01"));
    account.memberships = vec![member("acme/platform", AccessLevel::Maintainer)];
    // As approved (90 days from its making, to the day): nothing.
    assert!(drift_rules(&account, &history).is_empty());

    account.tokens[0].scopes.push("write_repository".to_owned());
    account.tokens[0].expires_on = Some(day("2027-06-01"));
    account.memberships = vec![
        member("acme/platform", AccessLevel::Owner),
        member("acme/delivery", AccessLevel::Developer),
    ];
    let found = drift_rules(&account, &history);
    assert_eq!(found.len(), 1, "one finding that lists every difference");
    let (rule, detail) = &found[0];
    assert_eq!(*rule, FindingRule::DiffersFromRequest);
    for said in [
        "request #7",
        "write_repository beyond the approved scopes",
        "lives until 2027-06-01, longer than the approved 90 days",
        "Owner of acme/platform, approved as Maintainer",
        "member of acme/delivery (Developer), which was not asked for",
    ] {
        assert!(detail.contains(said), "{said}: {detail}");
    }
    account.tokens[0].expires_on = None;
    let found = drift_rules(&account, &history);
    assert!(found[0].1.contains("never expires"), "{}", found[0].1);
}

#[test]
fn what_a_lead_flagged_at_recertification_is_a_finding_quoting_them() {
    let flag = RecertFlag {
        campaign_id: 3,
        reason: "nobody knows <what> this runs".to_owned(),
        by: "pat.lead".to_owned(),
        at: at("2026-12-01T09:00:00Z"),
    };
    let mut reviewed = clean();
    assert!(rules(&reviewed).is_empty());
    reviewed.recert_flag = Some(flag.clone());
    assert_eq!(
        rules(&reviewed),
        [(FindingRule::FlaggedAtRecertification, Severity::Medium)]
    );
    let found = token_findings(&reviewed, &ReviewPolicy::default(), day(TODAY));
    assert_eq!(found[0].subject, Subject::Token(7));
    assert_eq!(
        found[0].detail,
        "pat.lead flagged this token at recertification #3 on 2026-12-01: “nobody knows <what> this runs”"
    );
    assert_eq!(found[0].due_on, day(TODAY) + chrono::Days::new(30));
    // A revoked token has nothing left to recertify.
    reviewed.token.revoked = true;
    assert!(rules(&reviewed).is_empty());

    // A service account's flag.
    let account = legacy_bot(&[("release-bot", &["api"], None)]);
    let history = AccountHistory {
        recert_flag: Some(flag),
        ..AccountHistory::default()
    };
    let found = account_findings(&account, &history, &ReviewPolicy::default(), day(TODAY));
    let flagged = found
        .iter()
        .find(|finding| finding.rule == FindingRule::FlaggedAtRecertification)
        .expect("the account's flag is a finding");
    assert_eq!(flagged.subject, Subject::Account(account.gitlab_id));
    assert!(
        flagged.detail.contains("flagged this service account"),
        "{}",
        flagged.detail
    );
    assert!(
        FindingRule::FlaggedAtRecertification
            .basis()
            .quote()
            .starts_with("Organisation policy (owner teams recertify")
    );
}
