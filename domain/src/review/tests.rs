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
        owner_team_leads: Some(1),
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
    let policy = ReviewPolicy {
        naming: "{team}-{purpose}".parse().expect("a template"),
        ..ReviewPolicy::default()
    };
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
    let findings = account_findings(&account, day(TODAY));
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
    assert!(account_findings(&account, day(TODAY)).is_empty());
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
