//! The aggregate counts `/metrics` reads at scrape time, the same on SQLite and PostgreSQL.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use db::{ConfiguredTeam, FindingCount, TokenCount};
use domain::{
    TokenKind, TokenStatus,
    review::{FindingRule, ReviewPolicy, Severity},
};
use support::builders::TokenBuilder;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

const TODAY: &str = "2026-12-02";

/// Platform owns acme/platform; five tokens: two Platform project access tokens (one expiring in
/// 5 days, one in 40), a revoked one, an expired deploy token, and one nobody owns expiring in 20.
async fn seed(repo: &db::Repo) {
    repo.apply_configured_teams(&[ConfiguredTeam {
        name: "Platform".to_owned(),
        group_paths: vec!["acme/platform".to_owned()],
        leads: vec!["pat.lead".to_owned()],
    }])
    .await
    .expect("teams");
    let tokens = [
        TokenBuilder::synced(TokenKind::ProjectAccess, 1, "soon", "acme/platform/api")
            .expires_on(day("2026-12-07"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 2, "later", "acme/platform/api")
            .expires_on(day("2027-01-11"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 3, "revoked", "acme/platform/api")
            .expires_on(day("2026-12-05"))
            .revoked()
            .build(),
        TokenBuilder::synced(TokenKind::Deploy, 4, "expired", "acme/platform/web")
            .expires_on(day("2026-12-02"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 5, "nobodys", "other/thing")
            .expires_on(day("2026-12-22"))
            .build(),
    ];
    repo.upsert_tokens(&tokens, at("2026-12-02T08:00:00Z"))
        .await
        .expect("tokens");
    repo.refresh_inferred_teams().await.expect("teams inferred");
}

fn counted(kind: TokenKind, team: Option<&str>, status: TokenStatus, count: u64) -> TokenCount {
    TokenCount {
        kind,
        team: team.map(str::to_owned),
        status,
        count,
    }
}

#[tokio::test]
async fn tokens_are_counted_by_kind_team_and_status_and_by_notice_window() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let mut counts = repo.token_counts(day(TODAY)).await.expect("counts");
        counts.sort_by_key(|c| (c.kind.as_str(), c.team.clone(), c.status.label()));
        let platform = Some("Platform");
        assert_eq!(
            counts,
            [
                counted(TokenKind::Deploy, platform, TokenStatus::Expired, 1),
                counted(TokenKind::ProjectAccess, None, TokenStatus::Active, 1),
                counted(TokenKind::ProjectAccess, platform, TokenStatus::Active, 2),
                counted(TokenKind::ProjectAccess, platform, TokenStatus::Revoked, 1),
            ],
            "{}",
            db.name
        );
        let windows = repo.expiring_counts(day(TODAY), &[60, 30, 7]).await.expect("windows");
        assert_eq!(windows, [(60, 3), (30, 2), (7, 1)], "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn open_findings_are_counted_by_rule_and_severity() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        repo.refresh_findings(&ReviewPolicy::default(), day(TODAY), at("2026-12-02T09:00:00Z"))
            .await
            .expect("refresh");
        let counts = repo.open_finding_counts(day(TODAY)).await.expect("counts");
        let page = repo
            .list_findings(
                &db::FindingFilter {
                    limit: 100,
                    ..db::FindingFilter::default()
                },
                day(TODAY),
            )
            .await
            .expect("list");
        // The same findings the queue lists as open, counted.
        let total: u64 = counts.iter().map(|c| c.count).sum();
        assert_eq!(total, page.total, "{}", db.name);
        let expiring = counts
            .iter()
            .find(|c| c.rule == FindingRule::Expiring && c.severity == Severity::High);
        assert_eq!(
            expiring,
            Some(&FindingCount {
                rule: FindingRule::Expiring,
                severity: Severity::High,
                count: 1,
            }),
            "{}: {counts:?}",
            db.name
        );
        db.finish().await;
    }
}
