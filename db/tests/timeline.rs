//! The expiry timeline's aggregate and the inventory's expiry date range, the same on SQLite and
//! PostgreSQL.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use db::FindingFilter;
use db::NewTeam;
use domain::{
    ExpiryCount, Stack, TokenKind, TokenQuery, TokenStatus,
    review::{DecisionKind, FindingState, ReviewPolicy, Severity, ValidDecision},
};
use support::builders::TokenBuilder;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn count(team_id: Option<i64>, expires_on: &str, tokens: u64) -> ExpiryCount {
    ExpiryCount {
        team_id,
        severity: None,
        expires_on: day(expires_on),
        tokens,
    }
}

#[tokio::test]
async fn expiry_counts_are_live_tokens_per_owner_team_and_date() {
    // A Wednesday: the range runs from tomorrow to Sunday 2026-12-13 (two weeks).
    let today = day("2026-12-02");
    let (from, to) = domain::timeline::date_range(today, 2);
    assert_eq!((from, to), (day("2026-12-03"), day("2026-12-13")));
    for db in support::backends().await {
        let repo = &db.repo;
        let team = |name: &str, path: &str| NewTeam {
            name: name.to_owned(),
            group_paths: vec![path.to_owned()],
        };
        let apps = repo.create_team(&team("Apps", "acme/apps")).await.expect("team");
        let ops = repo.create_team(&team("Ops", "acme/ops")).await.expect("team");
        let token = |id: i64, name: &str, path: &str, on: &str| {
            TokenBuilder::synced(TokenKind::ProjectAccess, id, name, path).expires_on(Some(day(on)))
        };
        let gone = token(1, "gone", "acme/apps/a", "2026-12-04").build();
        let seen = at("2026-12-01T00:00:00Z");
        repo.upsert_tokens(&[gone], seen).await.expect("upsert");
        let tokens = [
            token(2, "today", "acme/apps/b", "2026-12-02"),
            token(3, "revoked", "acme/apps/c", "2026-12-04").revoked(),
            token(4, "tomorrow", "acme/apps/d", "2026-12-03"),
            token(5, "sunday", "acme/apps/e", "2026-12-06"),
            token(6, "sunday too", "acme/apps/f", "2026-12-06"),
            token(7, "monday", "acme/ops/a", "2026-12-07"),
            token(8, "no team", "elsewhere/a", "2026-12-13"),
            token(9, "too late", "acme/ops/b", "2026-12-14"),
            token(10, "set to ops", "acme/apps/g", "2026-12-06"),
        ]
        .map(TokenBuilder::build);
        repo.upsert_tokens(&tokens, at("2026-12-01T12:00:00Z"))
            .await
            .expect("upsert");
        repo.mark_tokens_gone(0, at("2026-12-01T12:00:00Z"), &db::GoneRule::default())
            .await
            .expect("gone");
        let (all, _) = repo
            .list_tokens(
                &TokenQuery {
                    page: 1,
                    ..TokenQuery::default()
                },
                today,
            )
            .await
            .expect("all");
        let set_to_ops = all.iter().find(|t| t.name == "set to ops").expect("listed").id;
        let ownership = domain::ValidOwnership {
            owner_team_id: Some(ops.id),
            ..Default::default()
        };
        repo.set_ownership(set_to_ops, &ownership, "sam.security", seen)
            .await
            .expect("owner set");

        let counts = repo
            .expiry_counts(from, to, None, Stack::Team, today)
            .await
            .expect("counts");
        let mut counts = counts;
        counts.sort_by_key(|c| (c.expires_on, c.team_id));
        assert_eq!(
            counts,
            vec![
                count(Some(apps.id), "2026-12-03", 1),
                count(Some(apps.id), "2026-12-06", 2),
                count(Some(ops.id), "2026-12-06", 1),
                count(Some(ops.id), "2026-12-07", 1),
                count(None, "2026-12-13", 1),
            ],
            "{}",
            db.name
        );
        // The aggregate is kept per data version: a change shows at once. The "monday" token
        // moves to Apps (a person sets it), and it leaves Ops's count for Apps's.
        let monday = all.iter().find(|t| t.name == "monday").expect("listed").id;
        let to_apps = domain::ValidOwnership {
            owner_team_id: Some(apps.id),
            ..Default::default()
        };
        repo.set_ownership(monday, &to_apps, "sam.security", seen)
            .await
            .expect("owner set");
        let moved = repo
            .expiry_counts(from, to, None, Stack::Team, today)
            .await
            .expect("counts");
        assert!(
            moved.contains(&count(Some(apps.id), "2026-12-07", 1))
                && !moved.contains(&count(Some(ops.id), "2026-12-07", 1)),
            "{}: {moved:?}",
            db.name
        );
        let back = domain::ValidOwnership {
            owner_team_id: Some(ops.id),
            ..Default::default()
        };
        repo.set_ownership(monday, &back, "sam.security", seen)
            .await
            .expect("owner set");
        let mine = repo
            .expiry_counts(from, to, Some(&[ops.id]), Stack::Team, today)
            .await
            .expect("ops");
        assert_eq!(mine.iter().map(|c| c.tokens).sum::<u64>(), 2, "{}", db.name);
        assert!(mine.iter().all(|c| c.team_id == Some(ops.id)), "{}", db.name);
        let none = repo
            .expiry_counts(from, to, Some(&[]), Stack::Team, today)
            .await
            .expect("none");
        assert!(none.is_empty(), "{}", db.name);

        // Each week's link lists what the week counts: the inventory's date range (inclusive).
        let week = |from: &str, to: &str, team: Option<i64>| TokenQuery {
            expires_from: Some(day(from)),
            expires_to: Some(day(to)),
            status: Some(TokenStatus::Active),
            team,
            page: 1,
            ..TokenQuery::default()
        };
        let (first, total) = repo
            .list_tokens(&week("2026-11-30", "2026-12-06", Some(apps.id)), today)
            .await
            .expect("first week");
        let mut names: Vec<&str> = first.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            (names, total),
            (vec!["sunday", "sunday too", "tomorrow"], 3),
            "{}",
            db.name
        );
        let second = repo
            .count_tokens(&week("2026-12-07", "2026-12-13", None), today)
            .await
            .expect("second week");
        assert_eq!(second, 2, "{}", db.name);
        // One end alone: everything from that date, whatever its status.
        let from_only = TokenQuery {
            expires_from: Some(day("2026-12-07")),
            page: 1,
            ..TokenQuery::default()
        };
        assert_eq!(
            repo.count_tokens(&from_only, today).await.expect("from"),
            3,
            "{}",
            db.name
        );
        db.finish().await;
    }
}

/// Every open finding, as the review queue lists them.
fn open_findings() -> FindingFilter {
    FindingFilter {
        team: None,
        within_teams: None,
        rule: None,
        kind: None,
        severity: None,
        state: FindingState::Open,
        offset: 0,
        limit: 1000,
    }
}

/// The most severe open finding of each token, as the review queue lists them.
async fn most_severe_open(repo: &db::Repo, today: NaiveDate) -> std::collections::HashMap<i64, Severity> {
    let page = repo.list_findings(&open_findings(), today).await.expect("findings");
    let mut worst = std::collections::HashMap::new();
    for stored in page.findings {
        if let domain::review::Subject::Token(id) = stored.finding.subject {
            let severity = stored.finding.severity;
            worst
                .entry(id)
                .and_modify(|s: &mut Severity| *s = (*s).min(severity))
                .or_insert(severity);
        }
    }
    worst
}

#[tokio::test]
async fn stacked_by_severity_each_token_counts_under_its_most_severe_open_finding() {
    let today = day("2026-12-02");
    let (from, to) = domain::timeline::date_range(today, 4);
    for db in support::backends().await {
        let repo = &db.repo;
        let token = |id: i64, name: &str, on: Option<&str>| {
            TokenBuilder::synced(TokenKind::ProjectAccess, id, name, "acme/apps/a").expires_on(on.map(day))
        };
        let tokens = [
            token(1, "soon", Some("2026-12-04")),
            token(2, "later", Some("2026-12-20")),
            token(3, "admin", Some("2026-12-20")).scopes(&["api", "sudo"]),
            token(4, "never", None),
        ]
        .map(TokenBuilder::build);
        repo.upsert_tokens(&tokens, at("2026-12-01T12:00:00Z"))
            .await
            .expect("upsert");
        repo.refresh_findings(&ReviewPolicy::default(), today, at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let worst = most_severe_open(repo, today).await;
        let by_team = repo
            .expiry_counts(from, to, None, Stack::Team, today)
            .await
            .expect("by team");
        let by_severity = repo
            .expiry_counts(from, to, None, Stack::Severity, today)
            .await
            .expect("by severity");
        // The same tokens, whichever way they are stacked.
        let total = |counts: &[ExpiryCount]| counts.iter().map(|c| c.tokens).sum::<u64>();
        assert_eq!((total(&by_team), total(&by_severity)), (3, 3), "{}", db.name);
        let (listed, _) = repo
            .list_tokens(
                &TokenQuery {
                    page: 1,
                    ..TokenQuery::default()
                },
                today,
            )
            .await
            .expect("tokens");
        let id = |name: &str| listed.iter().find(|t| t.name == name).expect(name).id;
        let severity_of = |counts: &[ExpiryCount], on: &str, severity: Option<Severity>| {
            counts
                .iter()
                .filter(|c| c.expires_on == day(on) && c.severity == severity)
                .map(|c| c.tokens)
                .sum::<u64>()
        };
        assert_eq!(
            severity_of(&by_severity, "2026-12-04", worst.get(&id("soon")).copied()),
            1,
            "{}",
            db.name
        );
        let admin = worst.get(&id("admin")).copied();
        assert!(admin.is_some(), "the admin scope is a finding ({})", db.name);
        assert!(
            admin < worst.get(&id("later")).copied().or(Some(Severity::Low)),
            "{}",
            db.name
        );
        assert_eq!(severity_of(&by_severity, "2026-12-20", admin), 1, "{}", db.name);

        // Risk accepted on each of its findings: it counts under its next finding, or none.
        let page = repo.list_findings(&open_findings(), today).await.expect("findings");
        let of_admin: Vec<i64> = page
            .findings
            .iter()
            .filter(|f| f.finding.subject == domain::review::Subject::Token(id("admin")))
            .map(|f| f.id)
            .collect();
        let accept = ValidDecision {
            kind: DecisionKind::AcceptRisk,
            reason: Some("needed for the migration".to_owned()),
            until: Some(day("2027-01-31")),
        };
        repo.decide(&of_admin, &accept, "sam.security", at("2026-12-02T10:00:00Z"))
            .await
            .expect("decided");
        let after = repo
            .expiry_counts(from, to, None, Stack::Severity, today)
            .await
            .expect("after");
        assert_eq!(severity_of(&after, "2026-12-20", admin), 0, "{}", db.name);
        assert_eq!(severity_of(&after, "2026-12-20", None), 1, "{}", db.name);
        db.finish().await;
    }
}
