//! Team alerts' ledger, the same on SQLite and PostgreSQL: teams' channels for the review, runs
//! once per scheduled day, notices claimed once (across runs and a second replica), digests with
//! their deliveries, retries and outcomes.

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use db::{AudienceChannels, ConfiguredTeam, FindingFilter, Repo};
use domain::{
    TokenKind,
    alerts::{DigestInput, NoticeKey, team_digests},
    review::{DecisionKind, FindingRule, FindingState, ReviewPolicy, ValidDecision},
};
use support::builders::TokenBuilder;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

const TODAY: &str = "2026-12-07";

/// Platform and Data; Platform's token expires in 5 days, Data's expired yesterday, a token
/// nobody owns expires in 20 days, and one far away.
async fn seed(repo: &Repo) {
    let team = |name: &str, path: &str| ConfiguredTeam {
        name: name.to_owned(),
        group_paths: vec![path.to_owned()],
        leads: vec!["pat.lead".to_owned()],
    };
    repo.apply_configured_teams(&[team("Platform", "acme/platform"), team("Data", "acme/data")])
        .await
        .expect("teams");
    let tokens = [
        TokenBuilder::synced(TokenKind::ProjectAccess, 1, "platform-deploy", "acme/platform/api")
            .expires_on(day("2026-12-12"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 2, "data-export", "acme/data/lake")
            .expires_on(day("2026-12-06"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 3, "nobodys", "other/thing")
            .expires_on(day("2026-12-27"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 4, "far", "acme/platform/api")
            .expires_on(day("2027-06-01"))
            .build(),
    ];
    repo.upsert_tokens(&tokens, at("2026-12-07T06:00:00Z"))
        .await
        .expect("tokens");
    repo.refresh_inferred_teams().await.expect("teams inferred");
}

async fn team_id(repo: &Repo, name: &str) -> i64 {
    repo.team_rules()
        .await
        .expect("teams")
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.team_id)
        .expect("team")
}

/// One run's digests, stored with `channels`: the digests' ids.
async fn run(repo: &Repo, channels: &AudienceChannels, now: &str) -> Vec<i64> {
    let now = at(now);
    let today = now.date_naive();
    let started = repo
        .start_alert_run("manual", None, Some("sam.security"), now)
        .await
        .expect("run")
        .expect("started");
    let since = started.previous_started_at.unwrap_or(now - chrono::Duration::days(1));
    let inputs = repo.alert_inputs(today, 60, since).await.expect("inputs");
    let digests = team_digests(&DigestInput {
        today,
        windows: &[60, 30, 7],
        tokens: &inputs.tokens,
        new_findings: &inputs.new_findings,
        reopened: &inputs.reopened,
        sent: &inputs.sent,
        reminders: &[],
    });
    let stored = repo
        .record_digests(started.id, &digests, channels, "https://tokens.example.com", now)
        .await
        .expect("digests stored");
    repo.finish_alert_run(started.id, now).await.expect("finished");
    stored
}

#[tokio::test]
async fn notices_are_claimed_once_across_runs_and_replicas() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let platform = team_id(repo, "Platform").await;
        let data = team_id(repo, "Data").await;
        let channels: AudienceChannels = BTreeMap::from([
            (format!("team:{platform}"), vec!["webhook".to_owned()]),
            (
                "organisation".to_owned(),
                vec!["email".to_owned(), "webhook".to_owned()],
            ),
        ]);
        let stored = run(repo, &channels, "2026-12-07T07:00:00Z").await;
        // Platform's digest, and the organisation's; Data has no channel.
        assert_eq!(stored.len(), 2, "{}", db.name);
        let deliveries = repo.list_deliveries(None, 10).await.expect("deliveries");
        assert_eq!(deliveries.len(), 3, "{}", db.name);
        let mine = repo.list_deliveries(Some(platform), 10).await.expect("deliveries");
        assert_eq!(mine.len(), 1, "{}", db.name);
        assert_eq!(mine[0].subject, "Token digest for Platform, 2026-12-07");
        assert_eq!(mine[0].state, "pending");
        assert!(repo.list_deliveries(Some(data), 10).await.expect("none").is_empty());

        let inputs = repo
            .alert_inputs(day(TODAY), 60, at("2026-12-07T07:00:00Z"))
            .await
            .expect("inputs");
        assert!(
            inputs.sent.contains(&NoticeKey::Window { token: 1, days: 7 }),
            "{}",
            db.name
        );
        assert!(inputs.sent.contains(&NoticeKey::Expired { token: 2 }), "{}", db.name);
        assert!(
            inputs.sent.contains(&NoticeKey::Window { token: 3, days: 30 }),
            "{}",
            db.name
        );
        assert_eq!(inputs.tokens.len(), 3, "{}: the far one is not read", db.name);

        // Again, and from a second replica on the same database: nothing new, nothing made.
        assert!(
            run(repo, &channels, "2026-12-07T08:00:00Z").await.is_empty(),
            "{}",
            db.name
        );
        let replica = db::connect(&db.url).await.expect("second replica");
        assert!(
            run(&replica, &channels, "2026-12-07T09:00:00Z").await.is_empty(),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_scheduled_run_starts_once_a_day() {
    for db in support::backends().await {
        let repo = &db.repo;
        let first = repo
            .start_alert_run("scheduled", Some(day(TODAY)), None, at("2026-12-07T07:00:00Z"))
            .await
            .expect("run");
        assert!(
            first.is_some_and(|run| run.previous_started_at.is_none()),
            "{}",
            db.name
        );
        let again = repo
            .start_alert_run("scheduled", Some(day(TODAY)), None, at("2026-12-07T07:00:05Z"))
            .await
            .expect("run");
        assert!(again.is_none(), "{}: the day's run exists", db.name);
        let manual = repo
            .start_alert_run("manual", None, Some("sam.security"), at("2026-12-07T09:00:00Z"))
            .await
            .expect("run")
            .expect("a manual run always starts");
        assert_eq!(
            manual.previous_started_at,
            Some(at("2026-12-07T07:00:00Z")),
            "{}",
            db.name
        );
        let tomorrow = repo
            .start_alert_run("scheduled", Some(day("2026-12-08")), None, at("2026-12-08T07:00:00Z"))
            .await
            .expect("run");
        assert!(tomorrow.is_some(), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn deliveries_are_claimed_retried_and_their_outcome_recorded() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let platform = team_id(repo, "Platform").await;
        let channels: AudienceChannels = BTreeMap::from([(format!("team:{platform}"), vec!["webhook".to_owned()])]);
        run(repo, &channels, "2026-12-07T07:00:00Z").await;
        let now = at("2026-12-07T07:00:01Z");
        let lease = at("2026-12-07T07:05:01Z");
        let due = repo.claim_due_deliveries(now, lease, 10).await.expect("due");
        assert_eq!(due.len(), 1, "{}", db.name);
        assert!(due[0].body.contains("platform-deploy"), "{}", due[0].body);
        assert!(
            !due[0].body.contains("data-export"),
            "{}: Data's is not Platform's",
            db.name
        );
        // Claimed: another replica finds nothing due.
        assert!(repo.claim_due_deliveries(now, lease, 10).await.expect("due").is_empty());

        let retry = at("2026-12-07T07:01:01Z");
        repo.record_delivery(due[0].id, Err("the webhook answered 500"), Some(retry), now)
            .await
            .expect("failure recorded");
        let listed = repo.list_deliveries(None, 10).await.expect("list");
        assert_eq!(
            (
                listed[0].state.as_str(),
                listed[0].attempts,
                listed[0].last_error.as_deref()
            ),
            ("pending", 1, Some("the webhook answered 500")),
            "{}",
            db.name
        );
        assert_eq!(listed[0].next_attempt_at, Some(retry));
        assert!(
            repo.claim_due_deliveries(now, lease, 10).await.expect("due").is_empty(),
            "not yet"
        );
        let due = repo.claim_due_deliveries(retry, lease, 10).await.expect("due");
        assert_eq!((due.len(), due[0].attempts), (1, 1), "{}", db.name);
        repo.record_delivery(due[0].id, Ok(()), None, retry)
            .await
            .expect("sent");
        let listed = repo.list_deliveries(None, 10).await.expect("list");
        assert_eq!((listed[0].state.as_str(), listed[0].attempts), ("sent", 2));
        assert_eq!(listed[0].sent_at, Some(retry));
        let counts = repo.notice_counts().await.expect("counts");
        // Platform's token (60, 30 and 7-day windows) sent; Data's and nobody's had no channel.
        assert_eq!((counts.sent, counts.undelivered), (3, 3), "{}: {counts:?}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_delivery_out_of_attempts_fails_its_notices() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let platform = team_id(repo, "Platform").await;
        let channels: AudienceChannels = BTreeMap::from([(format!("team:{platform}"), vec!["webhook".to_owned()])]);
        run(repo, &channels, "2026-12-07T07:00:00Z").await;
        let now = at("2026-12-07T07:00:01Z");
        let due = repo.claim_due_deliveries(now, now, 10).await.expect("due");
        repo.record_delivery(due[0].id, Err("refused"), None, now)
            .await
            .expect("recorded");
        let listed = repo.list_deliveries(None, 10).await.expect("list");
        assert_eq!((listed[0].state.as_str(), listed[0].next_attempt_at), ("failed", None));
        assert_eq!(repo.notice_counts().await.expect("counts").failed, 3, "{}", db.name);
        db.finish().await;
    }
}

/// Findings new since the last run are listed; a decision that stopped holding reopens, once.
#[tokio::test]
async fn new_findings_and_reopened_decisions_are_read() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        repo.refresh_findings(&ReviewPolicy::default(), day(TODAY), at("2026-12-07T06:30:00Z"))
            .await
            .expect("refresh");
        let inputs = repo
            .alert_inputs(day(TODAY), 60, at("2026-12-07T06:00:00Z"))
            .await
            .expect("inputs");
        let rules: Vec<FindingRule> = inputs.new_findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&FindingRule::NoPurpose), "{}: {rules:?}", db.name);
        assert!(
            !rules.contains(&FindingRule::Expiring),
            "{}: listed by window instead",
            db.name
        );
        assert!(inputs.reopened.is_empty());
        let later = repo
            .alert_inputs(day(TODAY), 60, at("2026-12-07T06:45:00Z"))
            .await
            .expect("inputs");
        assert!(later.new_findings.is_empty(), "{}: not new any more", db.name);

        // A risk accepted until yesterday no longer holds: reopened.
        let all = FindingFilter {
            state: FindingState::All,
            limit: 100,
            ..FindingFilter::default()
        };
        let page = repo.list_findings(&all, day("2026-12-01")).await.expect("findings");
        let id = page.findings[0].id;
        let accepted = ValidDecision {
            kind: DecisionKind::AcceptRisk,
            reason: Some("until the migration".to_owned()),
            until: Some(day("2026-12-06")),
        };
        repo.decide(&[id], &accepted, "sam.security", at("2026-12-07T06:50:00Z"))
            .await
            .expect("decided");
        let inputs = repo
            .alert_inputs(day(TODAY), 60, at("2026-12-07T06:45:00Z"))
            .await
            .expect("inputs");
        assert_eq!(inputs.reopened.len(), 1, "{}", db.name);
        assert!(inputs.reopened[0].decision_id.is_some());
        db.finish().await;
    }
}

#[tokio::test]
async fn teams_without_a_channel_are_found_only_when_alerts_are_on() {
    for db in support::backends().await {
        let repo = &db.repo;
        seed(repo).await;
        let found = |repo: Repo| async move {
            repo.refresh_findings(&ReviewPolicy::default(), day(TODAY), Utc::now())
                .await
                .expect("refresh");
            let filter = FindingFilter {
                rule: Some(FindingRule::TeamWithoutChannel),
                limit: 100,
                ..FindingFilter::default()
            };
            let page = repo.list_findings(&filter, day(TODAY)).await.expect("findings");
            page.findings.into_iter().map(|f| f.subject_name).collect::<Vec<_>>()
        };
        assert!(found(repo.clone()).await.is_empty(), "{}: alerts off", db.name);
        repo.set_team_alert_channels(Some(&["Platform".to_owned()]))
            .await
            .expect("channels");
        assert_eq!(found(repo.clone()).await, ["data-export"], "{}", db.name);
        repo.set_team_alert_channels(None).await.expect("off");
        assert!(found(repo.clone()).await.is_empty(), "{}: off again", db.name);
        db.finish().await;
    }
}
