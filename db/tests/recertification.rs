//! Recertification campaigns as stored, the same on SQLite and PostgreSQL: what a campaign takes
//! at opening, answers and progress, closing, and the flags the review reads.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use db::{ConfiguredTeam, DbError, FindingFilter, Repo, SyncBatch};
use domain::{
    TokenKind, ValidOwnership,
    recertification::{Answer, CampaignScope, ItemKind, ValidCampaign, select_items},
    review::{FindingRule, ReviewPolicy, Subject},
};
use support::builders::{TokenBuilder, service_account, top_level_group};

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

const TODAY: &str = "2026-12-02";

/// Platform owns acme/platform (two live tokens, a revoked one, an expired one, and service
/// account 501); Delivery owns acme/delivery (one token); `stray` is nobody's.
async fn seed(repo: &Repo) -> (i64, i64) {
    repo.apply_configured_teams(&[
        ConfiguredTeam {
            name: "Platform".to_owned(),
            group_paths: vec!["acme/platform".to_owned()],
            leads: vec!["pat.lead".to_owned()],
        },
        ConfiguredTeam {
            name: "Delivery".to_owned(),
            group_paths: vec!["acme/delivery".to_owned()],
            leads: vec!["dana.lead".to_owned()],
        },
    ])
    .await
    .expect("teams");
    let tokens = [
        TokenBuilder::synced(TokenKind::ProjectAccess, 1, "platform-api", "acme/platform/api").build(),
        TokenBuilder::synced(TokenKind::Deploy, 2, "platform-pull", "acme/platform/web").build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 3, "platform-old", "acme/platform/api")
            .revoked()
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 4, "platform-ran-out", "acme/platform/api")
            .expires_on(day("2026-12-01"))
            .build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 5, "delivery-tools", "acme/delivery/tools").build(),
        TokenBuilder::synced(TokenKind::ProjectAccess, 6, "stray", "other/thing").build(),
    ];
    repo.upsert_tokens(&tokens, at("2026-12-02T08:00:00Z"))
        .await
        .expect("tokens");
    let batch = SyncBatch {
        accounts: vec![service_account(501, "platform-release-bot", 1)],
        groups: vec![top_level_group(1, "acme")],
        ..SyncBatch::default()
    };
    repo.write_sync_batch(0, &batch, at("2026-12-02T08:00:00Z"))
        .await
        .expect("accounts");
    repo.refresh_inferred_teams().await.expect("teams inferred");
    let teams = repo.list_teams().await.expect("teams");
    let id = |name: &str| teams.iter().find(|t| t.name == name).expect("team").id;
    repo.set_account_owner(501, Some(id("Platform")), "sam.security", at("2026-12-02T08:30:00Z"))
        .await
        .expect("account owner");
    (id("Platform"), id("Delivery"))
}

fn flagged(reason: &str) -> Answer {
    Answer::Flagged {
        reason: reason.to_owned(),
    }
}

async fn flags_found(repo: &Repo) -> Vec<(String, String)> {
    let filter = FindingFilter {
        rule: Some(FindingRule::FlaggedAtRecertification),
        limit: 100,
        ..FindingFilter::default()
    };
    let mut found: Vec<(String, String)> = repo
        .list_findings(&filter, day(TODAY))
        .await
        .expect("findings")
        .findings
        .into_iter()
        .map(|f| (f.subject_name, f.finding.detail))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn a_campaign_holds_what_was_live_at_opening_and_records_each_answer() {
    for db in support::backends().await {
        let repo = &db.repo;
        let (platform, delivery) = seed(repo).await;
        let candidates = repo.recert_candidates(day(TODAY)).await.expect("candidates");
        let (items, left_out) = select_items(CampaignScope::All, candidates.clone());
        let mut names: Vec<&str> = items.iter().map(|item| item.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "delivery-tools",
                "platform-api",
                "platform-pull",
                "platform-release-bot"
            ],
            "{}",
            db.name
        );
        assert_eq!(left_out, 1, "stray has no owner team");
        let account = items
            .iter()
            .find(|item| item.subject == Subject::Account(501))
            .expect("the account");
        assert_eq!(account.kind, ItemKind::ServiceAccount);

        let campaign = ValidCampaign {
            scope: CampaignScope::All,
            due_on: day("2026-12-31"),
        };
        let id = repo
            .open_campaign(&campaign, &items, "sam.security", at("2026-12-02T09:00:00Z"))
            .await
            .expect("opened");
        let stored = repo.campaign(id).await.expect("read").expect("there");
        assert_eq!(
            (
                stored.scope,
                stored.due_on,
                stored.opened_by.as_str(),
                stored.is_closed()
            ),
            (CampaignScope::All, day("2026-12-31"), "sam.security", false)
        );
        assert_eq!(repo.list_campaigns().await.expect("list").len(), 1);
        let progress = |repo: Repo| async move {
            repo.campaign_progress()
                .await
                .expect("progress")
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|team| (team.team.name, team.total, team.answered, team.flagged))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            progress(repo.clone()).await,
            [("Delivery".to_owned(), 1, 0, 0), ("Platform".to_owned(), 3, 0, 0)],
            "{}",
            db.name
        );

        let platform_items = repo.campaign_items(id, Some(platform)).await.expect("items");
        assert_eq!(platform_items.len(), 3);
        let item = |name: &str| platform_items.iter().find(|i| i.name == name).expect("item").id;
        let delivery_item = repo.campaign_items(id, Some(delivery)).await.expect("items")[0].id;
        let teams = repo
            .item_teams(id, &[item("platform-api"), delivery_item, 999_999])
            .await
            .expect("teams");
        assert_eq!(teams.len(), 2);
        assert_eq!(teams[&delivery_item], delivery);

        // Confirm two, flag the account; then change the mind on one token (recorded again).
        repo.answer_items(
            id,
            &[item("platform-api"), item("platform-pull")],
            &Answer::Confirmed,
            "pat.lead",
            at("2026-12-03T10:00:00Z"),
        )
        .await
        .expect("confirmed");
        let answered = repo
            .answer_items(
                id,
                &[item("platform-release-bot")],
                &flagged("nobody knows what runs as it"),
                "pat.lead",
                at("2026-12-03T10:01:00Z"),
            )
            .await
            .expect("flagged");
        assert_eq!(answered, [Subject::Account(501)]);
        repo.answer_items(
            id,
            &[item("platform-api")],
            &flagged("not needed since the move"),
            "pat.lead",
            at("2026-12-03T10:02:00Z"),
        )
        .await
        .expect("answered again");
        assert_eq!(
            progress(repo.clone()).await,
            [("Delivery".to_owned(), 1, 0, 0), ("Platform".to_owned(), 3, 3, 2)],
            "{}",
            db.name
        );
        let api = repo.campaign_items(id, Some(platform)).await.expect("items");
        let api = api.iter().find(|i| i.name == "platform-api").expect("item");
        let answered = api.answered.as_ref().expect("answered");
        assert_eq!(
            (&answered.answer, answered.by.as_str(), answered.at),
            (
                &flagged("not needed since the move"),
                "pat.lead",
                at("2026-12-03T10:02:00Z")
            )
        );

        // The flags are findings of the review, quoting the lead.
        let policy = ReviewPolicy::default();
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-03T11:00:00Z"))
            .await
            .expect("refresh");
        let found = flags_found(repo).await;
        assert_eq!(found.len(), 2, "{}: {found:?}", db.name);
        assert_eq!(found[0].0, "platform-api");
        assert!(found[0].1.contains("“not needed since the move”"), "{}", found[0].1);
        assert_eq!(found[1].0, "platform-release-bot");

        // Someone sets the token's ownership right after the flag: the flag is answered; the
        // campaign still shows the token as it was at opening.
        let token_id = match api.subject {
            Some(Subject::Token(token)) => token,
            other => panic!("a token, not {other:?}"),
        };
        let ownership = ValidOwnership {
            owner_team_id: Some(platform),
            purpose: Some("reads the API for the dashboards".to_owned()),
            automation: None,
            secret_location: None,
            notes: None,
        };
        repo.set_ownership(token_id, &ownership, "pat.lead", at("2026-12-03T12:00:00Z"))
            .await
            .expect("ownership");
        repo.refresh_token_findings(token_id, &policy, day(TODAY), at("2026-12-03T12:01:00Z"))
            .await
            .expect("refresh");
        assert_eq!(
            flags_found(repo)
                .await
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>(),
            ["platform-release-bot"],
            "{}",
            db.name
        );
        let api = repo.campaign_items(id, Some(platform)).await.expect("items");
        assert_eq!(
            api.iter().find(|i| i.name == "platform-api").expect("item").purpose,
            None
        );

        // An item of no campaign of this id; a closed campaign takes no answer.
        let other = repo
            .answer_items(
                id,
                &[999_999],
                &Answer::Confirmed,
                "pat.lead",
                at("2026-12-03T13:00:00Z"),
            )
            .await;
        assert!(matches!(other, Err(DbError::NotFound(_))), "{other:?}");
        repo.close_campaign(id, "sam.security", at("2026-12-04T09:00:00Z"))
            .await
            .expect("closed");
        let stored = repo.campaign(id).await.expect("read").expect("there");
        assert_eq!(stored.closed_by.as_deref(), Some("sam.security"));
        let late = repo
            .answer_items(
                id,
                &[delivery_item],
                &Answer::Confirmed,
                "dana.lead",
                at("2026-12-04T10:00:00Z"),
            )
            .await;
        assert!(matches!(late, Err(DbError::Conflict(_))), "{late:?}");
        let again = repo
            .close_campaign(id, "sam.security", at("2026-12-04T11:00:00Z"))
            .await;
        assert!(matches!(again, Err(DbError::Conflict(_))), "{again:?}");
        let missing = repo
            .close_campaign(id + 100, "sam.security", at("2026-12-04T11:00:00Z"))
            .await;
        assert!(matches!(missing, Err(DbError::NotFound(_))), "{missing:?}");

        // A later campaign that confirms the account answers its flag.
        let (items, _) = select_items(CampaignScope::Kind(ItemKind::ServiceAccount), candidates);
        let later = repo
            .open_campaign(&campaign, &items, "sam.security", at("2026-12-05T09:00:00Z"))
            .await
            .expect("opened");
        let account_item = repo.campaign_items(later, None).await.expect("items")[0].id;
        repo.answer_items(
            later,
            &[account_item],
            &Answer::Confirmed,
            "pat.lead",
            at("2026-12-05T10:00:00Z"),
        )
        .await
        .expect("confirmed");
        repo.refresh_findings(&policy, day(TODAY), at("2026-12-05T11:00:00Z"))
            .await
            .expect("refresh");
        assert!(flags_found(repo).await.is_empty(), "{}", db.name);
        db.finish().await;
    }
}
