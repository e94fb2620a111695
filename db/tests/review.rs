//! The security review's findings and decisions as stored, the same on SQLite and PostgreSQL.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use db::{ConfiguredTeam, DbError, FindingFilter, Repo};
use domain::{
    TokenKind,
    review::{DecisionKind, FindingRule, FindingState, ReviewPolicy, Severity, ValidDecision},
};
use support::builders::TokenBuilder;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

const TODAY: &str = "2026-12-02";

/// Platform (a lead) owns acme/platform, Delivery (no lead) acme/delivery; three tokens:
/// - `never-ends` (Platform): no expiry date → no-expiry (high), no purpose (low);
/// - `soon` (Delivery): expires in 5 days → expiring (high), orphaned team (medium), no purpose;
/// - `sudo-bot` (nobody's): sudo → admin scope (critical), no owner team (high), a lifetime of 396
///   days (medium), no purpose.
async fn seed(repo: &Repo) {
    repo.apply_configured_teams(&[
        ConfiguredTeam {
            name: "Platform".to_owned(),
            group_paths: vec!["acme/platform".to_owned()],
            leads: vec!["pat.lead".to_owned()],
        },
        ConfiguredTeam {
            name: "Delivery".to_owned(),
            group_paths: vec!["acme/delivery".to_owned()],
            leads: Vec::new(),
        },
    ])
    .await
    .expect("teams");
    let used = at("2026-12-01T10:00:00Z");
    let tokens = [
        TokenBuilder::synced(TokenKind::ProjectAccess, 1, "platform-never-ends", "acme/platform/api")
            .last_used_at(used)
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 2, "delivery-soon", "acme/delivery/tools")
            .expires_on(day("2026-12-07"))
            .last_used_at(used)
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 3, "sudo-bot", "other/thing")
            .scopes(&["api", "sudo"])
            .expires_on(day("2027-02-01"))
            .last_used_at(used)
            .build(),
    ];
    repo.upsert_tokens(&tokens, at("2026-12-02T08:00:00Z"))
        .await
        .expect("tokens");
    repo.refresh_inferred_teams().await.expect("teams inferred");
}

fn open() -> FindingFilter {
    FindingFilter {
        limit: 100,
        ..FindingFilter::default()
    }
}

async fn rules(repo: &Repo, filter: &FindingFilter, today: &str) -> Vec<(String, FindingRule)> {
    repo.list_findings(filter, day(today))
        .await
        .expect("list")
        .findings
        .into_iter()
        .map(|f| (f.subject_name, f.finding.rule))
        .collect()
}

fn accept(until: &str) -> ValidDecision {
    ValidDecision {
        kind: DecisionKind::AcceptRisk,
        reason: Some("the vendor fixes it in January".to_owned()),
        until: Some(day(until)),
    }
}

#[tokio::test]
async fn a_refresh_stores_the_findings_in_queue_order_with_counts_per_rule() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let counts = repo
            .refresh_findings(&ReviewPolicy::default(), day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        assert_eq!(counts.found, 9, "{}", db.name);
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        let queue: Vec<(&str, FindingRule, Severity)> = page
            .findings
            .iter()
            .map(|f| (f.subject_name.as_str(), f.finding.rule, f.finding.severity))
            .collect();
        assert_eq!(
            queue,
            [
                ("sudo-bot", FindingRule::AdminScope, Severity::Critical),
                ("delivery-soon", FindingRule::Expiring, Severity::High),
                ("platform-never-ends", FindingRule::NoExpiry, Severity::High),
                ("sudo-bot", FindingRule::NoOwnerTeam, Severity::High),
                ("delivery-soon", FindingRule::OrphanedTeam, Severity::Medium),
                ("sudo-bot", FindingRule::LifetimeOverMaximum, Severity::Medium),
                ("platform-never-ends", FindingRule::NoPurpose, Severity::Low),
                ("delivery-soon", FindingRule::NoPurpose, Severity::Low),
                ("sudo-bot", FindingRule::NoPurpose, Severity::Low),
            ],
            "{}: by severity, then due date (the expiring one is due by its expiry), then as found",
            db.name
        );
        assert_eq!(page.total, 9);
        assert!(page.by_rule.contains(&(FindingRule::NoPurpose, 3)), "{}", db.name);
        assert_eq!(
            page.findings[1].team.as_ref().map(|t| t.name.as_str()),
            Some("Delivery")
        );

        // Filters: a rule (the counts stay those of every rule), a team, a severity.
        let by_rule = FindingFilter {
            rule: Some(FindingRule::NoPurpose),
            ..open()
        };
        let page = repo.list_findings(&by_rule, day(TODAY)).await.expect("list");
        assert_eq!((page.findings.len(), page.total), (3, 3), "{}", db.name);
        assert_eq!(page.by_rule.len(), 7, "{}: every rule's count", db.name);
        let platform = page.findings.iter().find(|f| f.subject_name == "platform-never-ends");
        let team = platform.and_then(|f| f.team.clone()).expect("Platform's");
        let filter = FindingFilter {
            team: Some(team.id),
            ..open()
        };
        assert_eq!(
            rules(repo, &filter, TODAY).await,
            [
                ("platform-never-ends".to_owned(), FindingRule::NoExpiry),
                ("platform-never-ends".to_owned(), FindingRule::NoPurpose)
            ]
        );
        let critical = FindingFilter {
            severity: Some(Severity::Critical),
            ..open()
        };
        assert_eq!(rules(repo, &critical, TODAY).await.len(), 1, "{}", db.name);

        // What someone who is not security sees: their teams' findings only; no team, none.
        let mine = FindingFilter {
            within_teams: Some(vec![team.id]),
            ..open()
        };
        assert_eq!(rules(repo, &mine, TODAY).await.len(), 2, "{}", db.name);
        let nobody = FindingFilter {
            within_teams: Some(Vec::new()),
            ..open()
        };
        assert!(rules(repo, &nobody, TODAY).await.is_empty(), "{}", db.name);
        let ids: Vec<i64> = page.findings.iter().map(|f| f.id).chain([999_999]).collect();
        let teams = repo.finding_teams(&ids).await.expect("teams");
        assert_eq!(teams.len(), 3, "{}: the unknown id is absent", db.name);
        assert_eq!(
            teams.get(&platform.map(|f| f.id).unwrap_or_default()),
            Some(&Some(team.id))
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_accepted_risk_leaves_the_queue_until_its_date_or_until_the_token_changes() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let policy = ReviewPolicy::default();
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        let (open_before, admin) = (page.total, page.findings[0].clone());
        assert_eq!(admin.finding.rule, FindingRule::AdminScope);
        // The counts are kept per review version: each change below must show in them.
        let counted = |total: u64| async move {
            let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
            assert_eq!(page.total, total, "{}", db.name);
            assert_eq!(page.by_rule.iter().map(|(_, n)| n).sum::<u64>(), total, "{}", db.name);
        };
        repo.decide(
            &[admin.id],
            &accept("2026-12-20"),
            "sam.security",
            at("2026-12-02T10:00:00Z"),
        )
        .await
        .expect("decide");
        counted(open_before - 1).await;
        let open_now = rules(repo, &open(), TODAY).await;
        assert!(
            !open_now.contains(&("sudo-bot".to_owned(), FindingRule::AdminScope)),
            "{}",
            db.name
        );
        let decided = FindingFilter {
            state: FindingState::Decided,
            ..open()
        };
        let page = repo.list_findings(&decided, day(TODAY)).await.expect("list");
        let decision = page.findings[0].decision.clone().expect("its decision");
        assert_eq!(
            (decision.kind, decision.by.as_str(), decision.until),
            (DecisionKind::AcceptRisk, "sam.security", Some(day("2026-12-20")))
        );
        assert!(page.findings[0].decided);

        // Its last day still holds; the day after, it is open again.
        assert!(
            !rules(repo, &open(), "2026-12-20")
                .await
                .contains(&("sudo-bot".to_owned(), FindingRule::AdminScope))
        );
        assert!(
            rules(repo, &open(), "2026-12-21")
                .await
                .contains(&("sudo-bot".to_owned(), FindingRule::AdminScope))
        );

        // The token's scopes change (a sync): open again, though the date has not passed.
        let changed = TokenBuilder::synced(TokenKind::ProjectAccess, 3, "sudo-bot", "other/thing")
            .scopes(&["read_api", "sudo"])
            .expires_on(day("2027-02-01"))
            .last_used_at(at("2026-12-01T10:00:00Z"))
            .build();
        repo.upsert_tokens(&[changed], at("2026-12-03T08:00:00Z"))
            .await
            .expect("sync");
        assert!(
            rules(repo, &open(), TODAY)
                .await
                .contains(&("sudo-bot".to_owned(), FindingRule::AdminScope)),
            "{}: reopened by the change",
            db.name
        );
        counted(open_before).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn findings_no_longer_found_are_resolved_and_open_afresh_when_found_again() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let policy = ReviewPolicy::default();
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        let expiring = page
            .findings
            .iter()
            .find(|f| f.finding.rule == FindingRule::Expiring)
            .expect("expiring")
            .clone();
        let fixed = ValidDecision {
            kind: DecisionKind::MarkFixed,
            reason: None,
            until: None,
        };
        repo.decide(&[expiring.id], &fixed, "sam.security", at("2026-12-02T10:00:00Z"))
            .await
            .expect("decide");
        assert!(
            !rules(repo, &open(), TODAY)
                .await
                .contains(&("delivery-soon".to_owned(), FindingRule::Expiring))
        );
        // The next refresh still finds it (nothing changed): "fixed" no longer holds.
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-02T11:00:00Z"))
            .await
            .expect("refresh");
        assert!(
            rules(repo, &open(), TODAY)
                .await
                .contains(&("delivery-soon".to_owned(), FindingRule::Expiring))
        );

        // Rotated for a year: the finding is resolved and no longer listed at all.
        let rotated = TokenBuilder::synced(TokenKind::ProjectAccess, 2, "delivery-soon", "acme/delivery/tools")
            .expires_on(day("2027-11-30"))
            .last_used_at(at("2026-12-01T10:00:00Z"))
            .build();
        repo.upsert_tokens(&[rotated], at("2026-12-02T12:00:00Z"))
            .await
            .expect("sync");
        let counts = repo
            .refresh_findings(&policy, day(TODAY), at("2026-12-02T13:00:00Z"))
            .await
            .expect("refresh");
        assert_eq!(counts.resolved, 1, "{}", db.name);
        let all = FindingFilter {
            state: FindingState::All,
            ..open()
        };
        assert!(
            !rules(repo, &all, TODAY)
                .await
                .contains(&("delivery-soon".to_owned(), FindingRule::Expiring))
        );

        // Back to its old expiry: found again, it opens afresh, its old decision history aside.
        let back = TokenBuilder::synced(TokenKind::ProjectAccess, 2, "delivery-soon", "acme/delivery/tools")
            .expires_on(day("2026-12-07"))
            .last_used_at(at("2026-12-01T10:00:00Z"))
            .build();
        repo.upsert_tokens(&[back], at("2026-12-02T14:00:00Z"))
            .await
            .expect("sync");
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-02T15:00:00Z"))
            .await
            .expect("refresh");
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        let again = page
            .findings
            .iter()
            .find(|f| f.finding.rule == FindingRule::Expiring)
            .expect("open again");
        assert_eq!(again.id, expiring.id, "{}: the same finding", db.name);
        assert_eq!(again.first_found_at, at("2026-12-02T15:00:00Z"), "{}", db.name);
        assert!(!again.decided, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_decision_on_a_finding_that_does_not_stand_records_nothing() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        repo.refresh_findings(&ReviewPolicy::default(), day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        let first = page.findings[0].id;
        let result = repo
            .decide(
                &[first, 999_999],
                &accept("2026-12-20"),
                "sam.security",
                at("2026-12-02T10:00:00Z"),
            )
            .await;
        assert!(matches!(result, Err(DbError::NotFound(_))), "{}: {result:?}", db.name);
        let page = repo.list_findings(&open(), day(TODAY)).await.expect("list");
        assert_eq!(page.findings[0].id, first, "{}: the first one is still open", db.name);
        assert!(page.findings[0].decision.is_none());
        db.finish().await;
    }
}

/// A full refresh reads and stores the tokens a batch (5,000) at a time and resolves what it did
/// not find only at the end: with 5,120 tokens, those of every batch are found, and a token of the
/// first batch revoked since the last refresh has its findings resolved by the next one.
#[tokio::test]
async fn a_refresh_over_several_batches_finds_and_resolves_across_all_of_them() {
    const TOKENS: i64 = 5_120;
    for db in support::backends().await {
        let repo = &db.repo;
        let tokens: Vec<_> = (1..=TOKENS)
            .map(|id| TokenBuilder::synced(TokenKind::ProjectAccess, id, &format!("bot-{id:04}"), "acme/app").build())
            .collect();
        repo.upsert_tokens(&tokens, at("2026-12-01T09:00:00Z"))
            .await
            .expect("upsert");
        let policy = ReviewPolicy::default();
        let first = repo
            .refresh_findings(&policy, day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let never = FindingFilter {
            rule: Some(FindingRule::NoExpiry),
            limit: 10,
            ..FindingFilter::default()
        };
        let open = repo.list_findings(&never, day(TODAY)).await.expect("list");
        // No token has an expiry date: each has a "no expiry" finding, in both batches.
        assert_eq!(open.total, TOKENS as u64, "{}", db.name);
        assert!(first.found >= TOKENS as u64, "{}: {first:?}", db.name);
        assert_eq!(first.resolved, 0, "{}", db.name);

        let mut revoked = tokens[0].clone();
        revoked.revoked = true;
        repo.upsert_tokens(&[revoked], at("2026-12-02T10:00:00Z"))
            .await
            .expect("revoke");
        let second = repo
            .refresh_findings(&policy, day(TODAY), at("2026-12-02T11:00:00Z"))
            .await
            .expect("refresh");
        let open = repo.list_findings(&never, day(TODAY)).await.expect("list");
        assert_eq!(open.total, TOKENS as u64 - 1, "{}", db.name);
        assert!(second.resolved >= 1, "{}: {second:?}", db.name);
        assert_eq!(
            first.found - second.found,
            first.resolved + second.resolved,
            "{}",
            db.name
        );
        db.finish().await;
    }
}

/// Refreshes run at once (a sync's, one token's after an answer or an edit): one that began
/// earlier and stores later changes nothing that a later one found or resolved.
#[tokio::test]
async fn a_refresh_that_began_earlier_changes_nothing_a_later_one_stored() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let policy = ReviewPolicy::default();
        // On 2 December `delivery-soon` (expiring on the 7th) is expiring ...
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let expiring = FindingFilter {
            rule: Some(FindingRule::Expiring),
            ..open()
        };
        let found = repo.list_findings(&expiring, day(TODAY)).await.expect("list");
        let [soon] = found.findings.as_slice() else {
            panic!("{}: one expiring token, not {:?}", db.name, found.findings);
        };
        let domain::review::Subject::Token(soon_id) = soon.finding.subject else {
            panic!("{}: a token", db.name);
        };
        // ... and on the 8th expired: the refresh of that day resolves "expiring".
        let later = "2026-12-08";
        repo.refresh_findings(&policy, day(later), at("2026-12-08T09:00:00Z"))
            .await
            .expect("refresh");
        let after_later = rules(repo, &open(), later).await;
        assert!(
            after_later.contains(&("delivery-soon".to_owned(), FindingRule::ExpiredNotRevoked)),
            "{}: {after_later:?}",
            db.name
        );
        assert!(
            !after_later.contains(&("delivery-soon".to_owned(), FindingRule::Expiring)),
            "{}: {after_later:?}",
            db.name
        );

        // A refresh of the token that began on the 2nd stores only now: "expiring" stays
        // resolved, what the later refresh found stays open, and nothing else moves.
        repo.refresh_token_findings(soon_id, &policy, day(TODAY), at("2026-12-02T10:00:00Z"))
            .await
            .expect("the earlier refresh");
        assert_eq!(rules(repo, &open(), later).await, after_later, "{}", db.name);

        // A refresh after both still finds and resolves as before.
        repo.refresh_findings(&policy, day(later), at("2026-12-08T10:00:00Z"))
            .await
            .expect("refresh");
        assert_eq!(rules(repo, &open(), later).await, after_later, "{}", db.name);
        db.finish().await;
    }
}
