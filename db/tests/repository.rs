//! The repository layer's behaviour, the same on SQLite and PostgreSQL.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use db::{DbError, NewTeam, SyncBatch, UpsertCounts};
use domain::{
    AccessLevel, AccountMembership, ContainerKind, ExpiryWindow, PER_PAGE, TokenKind, TokenQuery, TokenRecord,
    TokenSort, TokenStatus,
};
use support::builders::{TokenBuilder, service_account, top_level_group};

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn query() -> TokenQuery {
    TokenQuery {
        page: 1,
        ..TokenQuery::default()
    }
}

#[tokio::test]
async fn migrations_apply_once_and_the_database_answers() {
    for db in support::backends().await {
        db.repo
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("{}: second migrate: {e}", db.name));
        db.repo
            .ping()
            .await
            .unwrap_or_else(|e| panic!("{}: ping: {e}", db.name));
        db.finish().await;
    }
}

#[tokio::test]
async fn upserts_insert_new_tokens_and_update_known_ones_by_kind_and_id() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let repo = &db.repo;
        let mut deploy = TokenBuilder::synced(TokenKind::Deploy, 7, "registry-pull", "acme/app")
            .scopes(&["read_registry", "read_repository"])
            .access_level(None)
            .build();
        // The same GitLab id under another kind is another token.
        let project = TokenBuilder::synced(TokenKind::ProjectAccess, 7, "ci-bot", "acme/app").build();
        let counts = repo
            .upsert_tokens(&[deploy.clone(), project], at("2026-11-20T10:00:00Z"))
            .await
            .expect("first upsert");
        assert_eq!(
            counts,
            UpsertCounts {
                inserted: 2,
                updated: 0
            },
            "{}",
            db.name
        );

        deploy.name = "registry-pull-renamed".to_owned();
        deploy.expires_on = Some(day("2027-01-01"));
        deploy.revoked = true;
        let counts = repo
            .upsert_tokens(&[deploy], at("2026-11-21T10:00:00Z"))
            .await
            .expect("second upsert");
        assert_eq!(
            counts,
            UpsertCounts {
                inserted: 0,
                updated: 1
            },
            "{}",
            db.name
        );

        let (tokens, total) = repo
            .list_tokens(
                &TokenQuery {
                    kind: Some(TokenKind::Deploy),
                    ..query()
                },
                today,
            )
            .await
            .expect("list");
        assert_eq!(total, 1, "{}", db.name);
        let stored = &tokens[0];
        assert_eq!(stored.name, "registry-pull-renamed", "{}", db.name);
        assert_eq!(stored.scopes, vec!["read_registry", "read_repository"], "{}", db.name);
        assert_eq!(stored.expires_on, Some(day("2027-01-01")), "{}", db.name);
        assert!(stored.revoked, "{}", db.name);
        assert_eq!(stored.access_level, None, "{}", db.name);
        assert_eq!(stored.created_at, Some(at("2026-01-01T00:00:00Z")), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn large_upserts_are_batched_in_one_transaction() {
    for db in support::backends().await {
        let tokens: Vec<TokenRecord> = (1..=1_234)
            .map(|id| TokenBuilder::synced(TokenKind::ProjectAccess, id, &format!("bot-{id:04}"), "acme/big").build())
            .collect();
        let counts = db.repo.upsert_tokens(&tokens, Utc::now()).await.expect("upsert");
        assert_eq!(counts.inserted, 1_234, "{}", db.name);
        let (page, total) = db
            .repo
            .list_tokens(&TokenQuery { page: 25, ..query() }, day("2026-11-25"))
            .await
            .expect("deep page");
        assert_eq!(total, 1_234, "{}", db.name);
        assert_eq!(page.len(), 34, "{}: the last page holds the rest", db.name);
        assert_eq!(page[0].name, format!("bot-{:04}", 24 * PER_PAGE + 1), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn filters_search_and_sorting_select_the_right_tokens() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let expired = TokenBuilder::synced(TokenKind::ProjectAccess, 1, "Allure-Reporter", "acme/qa/e2e")
            .expires_on(day("2026-11-25"))
            .build();
        let week = TokenBuilder::synced(TokenKind::GroupAccess, 2, "danger_bot", "acme/tooling")
            .expires_on(day("2026-12-02"))
            .last_used_at(at("2026-11-24T08:00:00Z"))
            .build();
        let month = TokenBuilder::synced(TokenKind::Deploy, 3, "mirror 100%", "acme/distribution/omnibus")
            .expires_on(day("2026-12-20"))
            .account_username("gitlab+deploy-token-3")
            .build();
        let never = TokenBuilder::synced(TokenKind::Personal, 4, "triage-ops", "acme/tooling/triage").build();
        db.repo
            .upsert_tokens(&[expired, week, month, never], Utc::now())
            .await
            .expect("upsert");

        let names = |query: TokenQuery| {
            let repo = db.repo.clone();
            async move {
                let (tokens, total) = repo.list_tokens(&query, today).await.expect("list");
                assert_eq!(total as usize, tokens.len());
                tokens.into_iter().map(|t| t.name).collect::<Vec<_>>()
            }
        };
        let search = |words: &str| TokenQuery {
            search: Some(words.to_owned()),
            ..query()
        };
        let expiry = |window| TokenQuery {
            expiry: Some(window),
            ..query()
        };

        assert_eq!(
            names(search("ALLURE")).await,
            ["Allure-Reporter"],
            "{}: case-insensitive",
            db.name
        );
        assert_eq!(
            names(search("acme/tooling")).await,
            ["danger_bot", "triage-ops"],
            "{}: by path",
            db.name
        );
        assert_eq!(
            names(search("deploy-token-3")).await,
            ["mirror 100%"],
            "{}: by account",
            db.name
        );
        assert_eq!(
            names(search("100%")).await,
            ["mirror 100%"],
            "{}: % is literal",
            db.name
        );
        assert!(
            names(search("r_1")).await.is_empty(),
            "{}: _ is literal, not any character",
            db.name
        );
        assert_eq!(names(search("r_bot")).await, ["danger_bot"], "{}", db.name);
        assert_eq!(
            names(TokenQuery {
                kind: Some(TokenKind::Deploy),
                ..query()
            })
            .await,
            ["mirror 100%"],
            "{}",
            db.name
        );
        assert_eq!(
            names(expiry(ExpiryWindow::Expired)).await,
            ["Allure-Reporter"],
            "{}: today is expired",
            db.name
        );
        assert_eq!(names(expiry(ExpiryWindow::Days7)).await, ["danger_bot"], "{}", db.name);
        assert_eq!(
            names(expiry(ExpiryWindow::Days30)).await,
            ["danger_bot", "mirror 100%"],
            "{}",
            db.name
        );
        assert_eq!(names(expiry(ExpiryWindow::Never)).await, ["triage-ops"], "{}", db.name);

        let by_expiry = TokenQuery {
            sort: TokenSort::Expires,
            ..query()
        };
        assert_eq!(
            names(by_expiry.clone()).await,
            ["Allure-Reporter", "danger_bot", "mirror 100%", "triage-ops"],
            "{}: never-expiring last",
            db.name
        );
        assert_eq!(
            names(TokenQuery {
                descending: true,
                ..by_expiry
            })
            .await,
            ["mirror 100%", "danger_bot", "Allure-Reporter", "triage-ops"],
            "{}: never-expiring still last",
            db.name
        );
        assert_eq!(
            names(query()).await,
            ["Allure-Reporter", "danger_bot", "mirror 100%", "triage-ops"],
            "{}: names sort case-insensitively",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn teams_keep_their_group_paths_and_names_are_unique() {
    for db in support::backends().await {
        let team = db
            .repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec![
                    "acme/delivery".to_owned(),
                    "acme/release".to_owned(),
                    "acme/delivery".to_owned(),
                ],
            })
            .await
            .expect("create team");
        assert_eq!(team.group_paths, ["acme/delivery", "acme/release"], "{}", db.name);
        db.repo
            .create_team(&NewTeam {
                name: "Distribution".to_owned(),
                group_paths: vec![],
            })
            .await
            .expect("second team");

        let duplicate = db
            .repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme/other".to_owned()],
            })
            .await;
        match duplicate {
            Err(DbError::Conflict(message)) => {
                assert!(message.contains("Delivery"), "{}: {message}", db.name)
            }
            other => panic!("{}: expected a conflict, got {other:?}", db.name),
        }

        let teams = db.repo.list_teams().await.expect("list teams");
        let summary: Vec<(&str, usize)> = teams.iter().map(|t| (t.name.as_str(), t.group_paths.len())).collect();
        assert_eq!(
            summary,
            [("Delivery", 2), ("Distribution", 0)],
            "{}: nothing of the refused team was kept",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn owner_teams_are_inferred_from_group_paths_and_people_can_set_them() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let repo = &db.repo;
        let platform = repo
            .create_team(&NewTeam {
                name: "Platform".to_owned(),
                group_paths: vec!["acme/platform".to_owned()],
            })
            .await
            .expect("team");
        let api = repo
            .create_team(&NewTeam {
                name: "API".to_owned(),
                group_paths: vec!["acme/platform/api".to_owned()],
            })
            .await
            .expect("team");
        let gateway = TokenBuilder::synced(TokenKind::ProjectAccess, 1, "gateway-bot", "acme/platform/api/gateway")
            .scopes(&["api", "read_repository"])
            .access_level(Some(AccessLevel::Developer))
            .build();
        let web = TokenBuilder::synced(TokenKind::ProjectAccess, 2, "web-bot", "acme/platform/web").build();
        let lookalike = TokenBuilder::synced(TokenKind::Deploy, 3, "pull", "acme/platform-old/app").build();
        let revoked = TokenBuilder::synced(TokenKind::GroupAccess, 4, "old", "acme/platform")
            .revoked()
            .build();
        repo.upsert_tokens(&[gateway, web, lookalike, revoked], Utc::now())
            .await
            .expect("upsert");

        let list = |query: TokenQuery| async move {
            let (tokens, total) = repo.list_tokens(&query, today).await.expect("list");
            assert_eq!(total as usize, tokens.len());
            tokens
        };
        let names = |tokens: Vec<domain::TokenSummary>| tokens.into_iter().map(|t| t.name).collect::<Vec<_>>();
        let all = list(query()).await;
        let owner = |name: &str| {
            all.iter()
                .find(|t| t.name == name)
                .map(|t| (t.owner_team.as_ref().map(|team| team.name.clone()), t.owner_inferred))
        };
        // The longest path wins; a path that only starts with the same letters is not below it.
        assert_eq!(
            owner("gateway-bot"),
            Some((Some("API".to_owned()), true)),
            "{}",
            db.name
        );
        assert_eq!(
            owner("web-bot"),
            Some((Some("Platform".to_owned()), true)),
            "{}",
            db.name
        );
        assert_eq!(owner("pull"), Some((None, false)), "{}", db.name);

        let by_team = |team: i64| TokenQuery {
            team: Some(team),
            ..query()
        };
        assert_eq!(
            names(list(by_team(platform.id)).await),
            ["old", "web-bot"],
            "{}",
            db.name
        );
        assert_eq!(names(list(by_team(api.id)).await), ["gateway-bot"], "{}", db.name);
        let no_owner = TokenQuery {
            no_owner: true,
            ..query()
        };
        assert_eq!(names(list(no_owner.clone()).await), ["pull"], "{}", db.name);

        // A person sets the owner and the purpose of the deploy token; it is no longer inferred.
        let pull = all.iter().find(|t| t.name == "pull").expect("pull").id;
        repo.set_ownership(
            pull,
            &domain::ValidOwnership {
                owner_team_id: Some(platform.id),
                purpose: Some("Pulls images for the old platform".to_owned()),
                ..Default::default()
            },
            "pat.lead",
            at("2026-11-25T10:00:00Z"),
        )
        .await
        .expect("ownership");
        assert!(list(no_owner).await.is_empty(), "{}", db.name);
        let mine = list(by_team(platform.id)).await;
        assert_eq!(names(mine.clone()), ["old", "pull", "web-bot"], "{}", db.name);
        let pull_row = mine.iter().find(|t| t.name == "pull").expect("pull");
        assert!(!pull_row.owner_inferred);
        assert_eq!(pull_row.purpose.as_deref(), Some("Pulls images for the old platform"));
        let no_purpose = TokenQuery {
            no_purpose: true,
            ..query()
        };
        assert_eq!(
            names(list(no_purpose).await),
            ["gateway-bot", "old", "web-bot"],
            "{}",
            db.name
        );
        let search = TokenQuery {
            search: Some("old platform".to_owned()),
            ..query()
        };
        assert_eq!(names(list(search).await), ["pull"], "{}: purpose is searched", db.name);
        let detail = repo.get_token(pull, today).await.expect("detail").expect("exists");
        assert_eq!(detail.ownership.updated_by.as_deref(), Some("pat.lead"));
        assert_eq!(detail.inferred_team, None);
        assert_eq!(detail.summary.owner_team.map(|t| t.id), Some(platform.id));
        assert!(repo.get_token(pull + 1000, today).await.expect("detail").is_none());

        // Scope, role and status filters.
        let scope = TokenQuery {
            scope: Some(domain::Scope::ReadRepository),
            ..query()
        };
        assert_eq!(names(list(scope).await), ["gateway-bot"], "{}", db.name);
        let role = TokenQuery {
            role: Some(AccessLevel::Developer),
            ..query()
        };
        assert_eq!(names(list(role).await), ["gateway-bot"], "{}", db.name);
        let revoked = TokenQuery {
            status: Some(domain::TokenStatus::Revoked),
            ..query()
        };
        assert_eq!(names(list(revoked).await), ["old"], "{}", db.name);
        let active = TokenQuery {
            status: Some(domain::TokenStatus::Active),
            ..query()
        };
        assert_eq!(
            names(list(active).await),
            ["gateway-bot", "pull", "web-bot"],
            "{}",
            db.name
        );
        let by_owner = TokenQuery {
            sort: TokenSort::Owner,
            ..query()
        };
        let owners: Vec<Option<String>> = list(by_owner)
            .await
            .into_iter()
            .map(|t| t.owner_team.map(|t| t.name))
            .collect();
        assert_eq!(owners.first().cloned().flatten().as_deref(), Some("API"), "{}", db.name);

        // Setting ownership of a token that does not exist, or to a team that does not, is refused.
        let missing = repo
            .set_ownership(pull + 1000, &Default::default(), "x", Utc::now())
            .await;
        assert!(matches!(missing, Err(DbError::NotFound(_))), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn team_stats_count_the_health_of_each_teams_tokens() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let repo = &db.repo;
        let team = repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme/delivery".to_owned()],
            })
            .await
            .expect("team");
        repo.create_team(&NewTeam {
            name: "Empty".to_owned(),
            group_paths: vec!["acme/empty".to_owned()],
        })
        .await
        .expect("team");
        let expired = TokenBuilder::synced(TokenKind::ProjectAccess, 1, "expired", "acme/delivery/a")
            .expires_on(day("2026-11-20"))
            .build();
        let soon = TokenBuilder::synced(TokenKind::ProjectAccess, 2, "soon", "acme/delivery/b")
            .expires_on(day("2026-12-10"))
            .build();
        let never = TokenBuilder::synced(TokenKind::Deploy, 3, "never", "acme/delivery").build();
        let revoked = TokenBuilder::synced(TokenKind::ProjectAccess, 4, "revoked", "acme/delivery/c")
            .revoked()
            .build();
        let elsewhere = TokenBuilder::synced(TokenKind::Deploy, 5, "elsewhere", "acme/other").build();
        repo.upsert_tokens(&[expired, soon, never, revoked, elsewhere], Utc::now())
            .await
            .expect("upsert");
        repo.apply_configured_teams(&[db::ConfiguredTeam {
            name: "Delivery".to_owned(),
            group_paths: vec!["acme/delivery".to_owned()],
            leads: vec!["dana.lead".to_owned()],
        }])
        .await
        .expect("leads");
        let stats = repo.team_stats(today).await.expect("stats");
        let delivery = stats.iter().find(|s| s.id == team.id).expect("delivery");
        assert_eq!(
            (
                delivery.tokens,
                delivery.active,
                delivery.expired,
                delivery.expiring_30_days,
                delivery.never_expiring,
                delivery.without_purpose
            ),
            (4, 2, 1, 1, 1, 4),
            "{}",
            db.name
        );
        assert_eq!(delivery.leads, ["dana.lead"], "{}", db.name);
        let empty = stats.iter().find(|s| s.name == "Empty").expect("empty");
        assert_eq!(empty.tokens, 0, "{}", db.name);
        db.finish().await;
    }
}

/// The "My team" figures: every count is what `count_tokens` gives for the same filter (as the
/// page used to ask, one query each), and the active tokens are the first page of the list.
#[tokio::test]
async fn a_teams_overview_counts_its_tokens_by_status_and_expiry_window() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let repo = &db.repo;
        let team = repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme/delivery".to_owned()],
            })
            .await
            .expect("team");
        let other = repo
            .create_team(&NewTeam {
                name: "Platform".to_owned(),
                group_paths: vec!["acme/platform".to_owned()],
            })
            .await
            .expect("team");
        let expiring = |id: i64, name: &str, path: &str, on: Option<&str>| {
            TokenBuilder::synced(TokenKind::ProjectAccess, id, name, path).expires_on(on.map(day))
        };
        let revoked = expiring(8, "revoked", "acme/delivery/h", Some("2026-12-01")).revoked();
        let gone = expiring(9, "gone", "acme/delivery/i", None).build();
        repo.upsert_tokens(&[gone], at("2026-11-01T00:00:00Z"))
            .await
            .expect("upsert");
        let tokens = [
            expiring(1, "expired", "acme/delivery/a", Some("2026-11-20")),
            expiring(2, "expires today", "acme/delivery/b", Some("2026-11-25")),
            expiring(3, "in 7 days", "acme/delivery/c", Some("2026-12-02")),
            expiring(4, "in 30 days", "acme/delivery/d", Some("2026-12-20")),
            expiring(5, "in 90 days", "acme/delivery/e", Some("2027-02-01")),
            expiring(6, "later", "acme/delivery/f", Some("2027-06-01")),
            expiring(7, "never", "acme/delivery/g", None),
            revoked,
            expiring(10, "elsewhere", "acme/platform/a", Some("2026-12-01")),
            expiring(11, "set to delivery", "acme/platform/b", Some("2026-11-30")),
            expiring(12, "set away", "acme/delivery/j", None),
        ]
        .map(TokenBuilder::build);
        let seen = at("2026-11-24T00:00:00Z");
        repo.upsert_tokens(&tokens, seen).await.expect("upsert");
        repo.mark_tokens_gone(0, seen, &db::GoneRule::default())
            .await
            .expect("gone");
        let (all, _) = repo.list_tokens(&query(), today).await.expect("all");
        let id = |name: &str| all.iter().find(|t| t.name == name).expect("listed").id;
        for (name, owner) in [("set to delivery", team.id), ("set away", other.id)] {
            let ownership = domain::ValidOwnership {
                owner_team_id: Some(owner),
                purpose: Some("named".to_owned()),
                ..Default::default()
            };
            repo.set_ownership(id(name), &ownership, "sam.security", seen)
                .await
                .expect("owner set");
        }

        let overview = repo.team_overview(team.id, today).await.expect("overview");
        let base = TokenQuery {
            team: Some(team.id),
            ..query()
        };
        let count = |query: TokenQuery| async move { repo.count_tokens(&query, today).await.expect("count") };
        assert_eq!(overview.total, count(base.clone()).await, "{}", db.name);
        assert_eq!(overview.total, 10, "{}", db.name);
        let mut by_status = Vec::new();
        for status in TokenStatus::ALL {
            let query = TokenQuery {
                status: Some(status),
                ..base.clone()
            };
            by_status.push((status, count(query).await));
        }
        assert_eq!(overview.by_status, by_status, "{}", db.name);
        use TokenStatus::{Active, Expired, Gone, Revoked};
        assert_eq!(
            overview.by_status,
            [(Active, 6), (Expired, 2), (Revoked, 1), (Gone, 1)],
            "{}",
            db.name
        );
        let mut by_expiry = Vec::new();
        for window in ExpiryWindow::ALL {
            let query = TokenQuery {
                expiry: Some(window),
                status: (window != ExpiryWindow::Expired).then_some(Active),
                ..base.clone()
            };
            by_expiry.push((window, count(query).await));
        }
        assert_eq!(overview.by_expiry, by_expiry, "{}", db.name);
        assert_eq!(
            overview.by_expiry,
            [
                (ExpiryWindow::Expired, 2),
                (ExpiryWindow::Days7, 2),
                (ExpiryWindow::Days30, 3),
                (ExpiryWindow::Days90, 4),
                (ExpiryWindow::Never, 1),
            ],
            "{}",
            db.name
        );
        let (active, _) = repo
            .list_tokens(
                &TokenQuery {
                    status: Some(Active),
                    sort: TokenSort::Expires,
                    ..base.clone()
                },
                today,
            )
            .await
            .expect("active");
        assert_eq!(overview.active, active, "{}", db.name);
        assert_eq!(
            overview.active.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            [
                "set to delivery",
                "in 7 days",
                "in 30 days",
                "in 90 days",
                "later",
                "never"
            ],
            "{}",
            db.name
        );

        // A team without tokens: zeros, nothing listed.
        let empty = repo
            .create_team(&NewTeam {
                name: "Empty".to_owned(),
                group_paths: vec!["acme/empty".to_owned()],
            })
            .await
            .expect("team");
        let overview = repo.team_overview(empty.id, today).await.expect("overview");
        assert_eq!(overview.total, 0, "{}", db.name);
        assert!(overview.by_status.iter().all(|(_, n)| *n == 0), "{}", db.name);
        assert!(overview.by_expiry.iter().all(|(_, n)| *n == 0), "{}", db.name);
        assert!(overview.active.is_empty(), "{}", db.name);
        db.finish().await;
    }
}

/// Counts may be kept between pages (PostgreSQL keeps them per data version): whatever writes,
/// this replica or another one on the same database, the next count is the true one.
#[tokio::test]
async fn counts_follow_every_write_from_any_replica() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let other = db::connect(&db.url).await.expect("a second replica");
        let count = |query: TokenQuery| {
            let repo = db.repo.clone();
            async move { repo.list_tokens(&query, today).await.expect("list").1 }
        };
        let no_purpose = TokenQuery {
            no_purpose: true,
            ..query()
        };
        assert_eq!(count(query()).await, 0, "{}", db.name);
        other
            .upsert_tokens(
                &[
                    TokenBuilder::synced(TokenKind::Deploy, 1, "a", "acme/x").build(),
                    TokenBuilder::synced(TokenKind::Deploy, 2, "b", "acme/y").build(),
                ],
                Utc::now(),
            )
            .await
            .expect("upsert");
        assert_eq!(count(query()).await, 2, "{}: rows another replica added", db.name);
        assert_eq!(count(no_purpose.clone()).await, 2, "{}", db.name);
        let a = db.repo.list_tokens(&query(), today).await.expect("list").0[0].id;
        other
            .set_ownership(
                a,
                &domain::ValidOwnership {
                    purpose: Some("mirrors x".to_owned()),
                    ..Default::default()
                },
                "pat.lead",
                Utc::now(),
            )
            .await
            .expect("ownership");
        assert_eq!(
            count(no_purpose.clone()).await,
            1,
            "{}: a purpose set elsewhere",
            db.name
        );
        let team = other
            .create_team(&NewTeam {
                name: "X".to_owned(),
                group_paths: vec!["acme/x".to_owned()],
            })
            .await
            .expect("team");
        let by_team = TokenQuery {
            team: Some(team.id),
            ..query()
        };
        assert_eq!(
            count(by_team.clone()).await,
            1,
            "{}: an owner inferred elsewhere",
            db.name
        );
        // Statistics and the folding of old change notes leave the counts true.
        other.refresh_statistics().await.expect("statistics");
        assert_eq!(count(by_team.clone()).await, 1, "{}", db.name);
        other
            .upsert_tokens(
                &[TokenBuilder::synced(TokenKind::Deploy, 3, "c", "acme/x/z").build()],
                Utc::now(),
            )
            .await
            .expect("upsert");
        assert_eq!(count(by_team).await, 2, "{}: after the fold", db.name);
        assert_eq!(count(query()).await, 3, "{}", db.name);
        drop(other);
        db.finish().await;
    }
}

fn membership(kind: ContainerKind, id: i64, path: &str, level: AccessLevel) -> AccountMembership {
    AccountMembership {
        source_kind: kind,
        source_gitlab_id: id,
        source_path: path.to_owned(),
        access_level: level,
    }
}

#[tokio::test]
async fn an_accounts_memberships_are_replaced_whole_and_listed_with_it() {
    for db in support::backends().await {
        let repo = &db.repo;
        let batch = SyncBatch {
            accounts: vec![
                service_account(501, "service_account_group_1_release", 1),
                service_account(502, "service_account_group_1_mirror", 1),
            ],
            groups: vec![top_level_group(1, "acme")],
            ..SyncBatch::default()
        };
        repo.write_sync_batch(0, &batch, Utc::now()).await.expect("accounts");
        let first = [
            membership(
                ContainerKind::Project,
                7,
                "acme/delivery/runner",
                AccessLevel::Developer,
            ),
            membership(ContainerKind::Group, 3, "acme/delivery", AccessLevel::Maintainer),
            membership(ContainerKind::Group, 2, "acme/build", AccessLevel::Reporter),
        ];
        repo.replace_account_memberships(501, &first, Utc::now())
            .await
            .expect("memberships");
        let other = [membership(ContainerKind::Group, 1, "acme", AccessLevel::Owner)];
        repo.replace_account_memberships(502, &other, Utc::now())
            .await
            .expect("memberships of another account");
        let reach = |accounts: &[domain::ServiceAccount], id: i64| {
            accounts
                .iter()
                .find(|a| a.gitlab_id == id)
                .map(|a| a.memberships.clone())
                .expect("the account is listed")
        };
        let accounts = repo.list_service_accounts().await.expect("list");
        assert_eq!(
            reach(&accounts, 501),
            [first[2].clone(), first[1].clone(), first[0].clone()],
            "{}: groups first, then by path",
            db.name
        );
        assert_eq!(reach(&accounts, 502), other, "{}", db.name);

        // A new listing replaces the old one entirely; the other account keeps its own.
        let second = [membership(
            ContainerKind::Group,
            3,
            "acme/delivery",
            AccessLevel::Developer,
        )];
        repo.replace_account_memberships(501, &second, Utc::now())
            .await
            .expect("replaced");
        let accounts = repo.list_service_accounts().await.expect("list");
        assert_eq!(reach(&accounts, 501), second, "{}", db.name);
        assert_eq!(reach(&accounts, 502), other, "{}", db.name);

        // A bad list is refused as a whole: what was stored stays.
        let instance = [membership(ContainerKind::Instance, 0, "", AccessLevel::Guest)];
        assert!(matches!(
            repo.replace_account_memberships(501, &instance, Utc::now()).await,
            Err(DbError::Conflict(_))
        ));
        let twice = [
            membership(ContainerKind::Project, 9, "acme/x", AccessLevel::Guest),
            membership(ContainerKind::Project, 9, "acme/x", AccessLevel::Reporter),
        ];
        assert!(
            matches!(
                repo.replace_account_memberships(501, &twice, Utc::now()).await,
                Err(DbError::Conflict(_))
            ),
            "{}",
            db.name
        );
        let accounts = repo.list_service_accounts().await.expect("list");
        assert_eq!(reach(&accounts, 501), second, "{}: rolled back", db.name);

        // An account that reaches nothing any more.
        repo.replace_account_memberships(502, &[], Utc::now())
            .await
            .expect("cleared");
        let accounts = repo.list_service_accounts().await.expect("list");
        assert!(reach(&accounts, 502).is_empty(), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_service_accounts_owner_is_inferred_or_set_and_its_tokens_follow() {
    let today = day("2026-11-25");
    for db in support::backends().await {
        let repo = &db.repo;
        let delivery = repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme/delivery".to_owned()],
            })
            .await
            .expect("team");
        let platform = repo
            .create_team(&NewTeam {
                name: "Platform".to_owned(),
                group_paths: vec!["acme/platform".to_owned()],
            })
            .await
            .expect("team");
        // Two service accounts of the top-level group `acme`, which is no team's.
        let release = TokenBuilder::synced(TokenKind::Personal, 1, "runner-release", "acme")
            .container(ContainerKind::Group, 10)
            .account(501, "service_account_group_1_release")
            .build();
        let legacy = TokenBuilder::synced(TokenKind::Personal, 2, "gitlab-bot", "acme")
            .container(ContainerKind::Group, 20)
            .account(502, "service_account_group_1_legacy")
            .build();
        let batch = SyncBatch {
            accounts: vec![
                service_account(501, "service_account_group_1_release", 1),
                service_account(502, "service_account_group_1_legacy", 1),
            ],
            groups: vec![top_level_group(1, "acme")],
            tokens: vec![release, legacy],
            ..SyncBatch::default()
        };
        repo.write_sync_batch(0, &batch, Utc::now()).await.expect("sync batch");
        repo.replace_account_memberships(
            501,
            &[
                membership(ContainerKind::Group, 3, "acme/delivery", AccessLevel::Maintainer),
                membership(
                    ContainerKind::Project,
                    7,
                    "acme/delivery/runner",
                    AccessLevel::Developer,
                ),
            ],
            Utc::now(),
        )
        .await
        .expect("memberships");
        repo.replace_account_memberships(
            502,
            &[membership(ContainerKind::Group, 1, "acme", AccessLevel::Owner)],
            Utc::now(),
        )
        .await
        .expect("memberships");
        repo.refresh_inferred_teams().await.expect("refresh");

        let owners = || async {
            let accounts = repo.list_service_accounts().await.expect("accounts");
            // One account by its id is the same as in the list.
            for account in &accounts {
                let alone = repo.service_account(account.gitlab_id).await.expect("one account");
                assert_eq!(alone.as_ref(), Some(account), "{}", db.name);
            }
            assert_eq!(
                repo.service_account(999).await.expect("no account"),
                None,
                "{}",
                db.name
            );
            let (tokens, _) = repo.list_tokens(&query(), today).await.expect("tokens");
            let account = |id: i64| {
                accounts
                    .iter()
                    .find(|a| a.gitlab_id == id)
                    .expect("listed")
                    .owner
                    .clone()
                    .map(|owner| (owner.team.name, owner.source))
            };
            let token = |name: &str| {
                tokens
                    .iter()
                    .find(|t| t.name == name)
                    .map(|t| (t.owner_team.as_ref().map(|team| team.name.clone()), t.owner_inferred))
                    .expect("token listed")
            };
            (account(501), account(502), token("runner-release"), token("gitlab-bot"))
        };
        use domain::OwnerSource;
        // Everything the release account reaches is Delivery's; the legacy one reaches `acme`.
        let (release, legacy, release_token, legacy_token) = owners().await;
        assert_eq!(
            release,
            Some(("Delivery".to_owned(), OwnerSource::Memberships)),
            "{}",
            db.name
        );
        assert_eq!(legacy, None, "{}", db.name);
        assert_eq!(
            release_token,
            (Some("Delivery".to_owned()), true),
            "{}: its token follows it",
            db.name
        );
        assert_eq!(legacy_token, (None, false), "{}", db.name);
        let (all, _) = repo.list_tokens(&query(), today).await.expect("tokens");
        let from_account = |name: &str| {
            let id = all.iter().find(|t| t.name == name).expect("listed").id;
            async move {
                repo.get_token(id, today)
                    .await
                    .expect("detail")
                    .expect("found")
                    .inferred_from_account
            }
        };
        assert!(from_account("runner-release").await, "{}", db.name);
        assert!(!from_account("gitlab-bot").await, "{}: nothing to follow", db.name);
        let by_team = |team: i64| TokenQuery {
            team: Some(team),
            ..query()
        };
        let (mine, _) = repo.list_tokens(&by_team(delivery.id), today).await.expect("team");
        assert_eq!(
            mine.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["runner-release"],
            "{}: in the team's list",
            db.name
        );

        // Security says who owns the legacy account; its token moves to that team.
        let when = at("2026-11-29T10:00:00Z");
        repo.set_account_owner(502, Some(platform.id), "sam.security", when)
            .await
            .expect("set");
        let (_, legacy, _, legacy_token) = owners().await;
        assert_eq!(
            legacy,
            Some((
                "Platform".to_owned(),
                OwnerSource::Set {
                    by: "sam.security".to_owned(),
                    at: when
                }
            )),
            "{}",
            db.name
        );
        assert_eq!(legacy_token, (Some("Platform".to_owned()), true), "{}", db.name);
        // A sync afterwards keeps what a person said.
        repo.refresh_inferred_teams().await.expect("refresh");
        assert_eq!(owners().await.3, (Some("Platform".to_owned()), true), "{}", db.name);

        // Taken back: inferred again (nothing points to a team for this one).
        repo.set_account_owner(502, None, "sam.security", when)
            .await
            .expect("cleared");
        let (_, legacy, _, legacy_token) = owners().await;
        assert_eq!(legacy, None, "{}", db.name);
        assert_eq!(legacy_token, (None, false), "{}", db.name);

        // No such account, no such team: refused, nothing changes.
        assert!(matches!(
            repo.set_account_owner(999, Some(platform.id), "sam.security", when)
                .await,
            Err(DbError::NotFound(_))
        ));
        assert!(
            matches!(
                repo.set_account_owner(501, Some(platform.id + delivery.id + 100), "sam.security", when)
                    .await,
                Err(DbError::NotFound(_))
            ),
            "{}",
            db.name
        );
        assert_eq!(
            owners().await.0,
            Some(("Delivery".to_owned(), OwnerSource::Memberships)),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

/// Filters read through their indexes when few tokens match (on SQLite: the trigram index, the
/// expiry's index) and in the page's order when many do (a `LIKE`, the order's index): either
/// way a page holds what a plain filter and sort of every token gives. 600 tokens, so "few" (under
/// one in 50) and "many" both occur; every answer is checked against one worked out here.
#[tokio::test]
async fn pages_are_the_same_whether_few_or_many_tokens_match() {
    let today = day("2026-11-25");
    let kinds = [TokenKind::ProjectAccess, TokenKind::GroupAccess, TokenKind::Deploy];
    let records: Vec<TokenRecord> = (1..=600)
        .map(|id| {
            // Every 97th token's name holds a rare word; every other one the common "bot".
            let name = if id % 97 == 0 {
                format!("needle-{id:03}")
            } else {
                format!("Bot-{:03}", (id * 37) % 600)
            };
            let expires = (id % 5 != 0).then(|| today + chrono::Days::new(((id * 13) % 400) as u64));
            TokenBuilder::synced(kinds[(id % 3) as usize], id, &name, "acme/app")
                .expires_on(expires)
                .build()
        })
        .collect();
    let matches = |query: &TokenQuery, token: &TokenRecord| {
        let window = query.expiry.and_then(|w| w.date_bounds(today));
        query.kind.is_none_or(|kind| kind == token.kind)
            && query.search.as_ref().is_none_or(|words| {
                // What the search reads: the name, the path and the account.
                let text = format!(
                    "{} {} {}",
                    token.name,
                    token.container_path,
                    token.account_username.as_deref().unwrap_or_default()
                );
                text.to_lowercase().contains(&words.to_lowercase())
            })
            && window.is_none_or(|(after, until)| {
                token
                    .expires_on
                    .is_some_and(|on| after.is_none_or(|after| on > after) && until.is_none_or(|until| on <= until))
            })
    };
    let expected = |query: &TokenQuery| {
        let mut found: Vec<&TokenRecord> = records.iter().filter(|t| matches(query, t)).collect();
        match query.sort {
            // Never-expiring last, then by date, then by id (the GitLab id here: one kind each).
            TokenSort::Expires => found.sort_by_key(|t| (t.expires_on.is_none(), t.expires_on, t.gitlab_id)),
            _ => found.sort_by_key(|t| t.name.to_lowercase()),
        }
        let total = found.len() as u64;
        let page: Vec<String> = found
            .into_iter()
            .skip(query.offset() as usize)
            .take(query.limit() as usize)
            .map(|t| t.name.clone())
            .collect();
        (page, total)
    };
    let queries = [
        TokenQuery {
            search: Some("needle".to_owned()),
            ..query()
        },
        TokenQuery {
            search: Some("bot".to_owned()),
            page: 3,
            ..query()
        },
        TokenQuery {
            search: Some("bot-1".to_owned()),
            sort: TokenSort::Expires,
            ..query()
        },
        TokenQuery {
            expiry: Some(ExpiryWindow::Days30),
            ..query()
        },
        TokenQuery {
            expiry: Some(ExpiryWindow::Days7),
            kind: Some(TokenKind::Deploy),
            ..query()
        },
        TokenQuery {
            kind: Some(TokenKind::Deploy),
            sort: TokenSort::Expires,
            page: 2,
            ..query()
        },
        TokenQuery {
            kind: Some(TokenKind::GroupAccess),
            search: Some("needle".to_owned()),
            ..query()
        },
    ];
    for db in support::backends().await {
        db.repo.upsert_tokens(&records, Utc::now()).await.expect("upsert");
        for query in &queries {
            let (tokens, total) = db.repo.list_tokens(query, today).await.expect("list");
            let names: Vec<String> = tokens.into_iter().map(|t| t.name).collect();
            assert_eq!((names, total), expected(query), "{}: {query:?}", db.name);
            // The pages' own way (on PostgreSQL the page is read first, with the data version).
            let listing = db
                .repo
                .list_tokens_within(query, today, all_time())
                .await
                .expect("list within");
            let names: Vec<String> = listing.tokens.into_iter().map(|t| t.name).collect();
            assert_eq!(
                (names, listing.counted.total),
                expected(query),
                "{}: {query:?}",
                db.name
            );
        }
        db.finish().await;
    }
}

/// A budget every count meets: the exact count, always.
fn all_time() -> db::CountBudget {
    db::CountBudget {
        time: std::time::Duration::from_secs(60),
        from_tokens: u64::MAX,
    }
}

/// A page and its count are the data's as it is now: a change after a look (its count kept) is in
/// the next look's rows and count; a page with no rows still has its count (none) and the teams.
#[tokio::test]
async fn a_page_after_a_change_has_the_change_in_its_rows_and_count() {
    let today = day("2026-11-25");
    let records: Vec<TokenRecord> = (1..=30)
        .map(|id| TokenBuilder::synced(TokenKind::ProjectAccess, id, &format!("bot-{id:02}"), "acme/app").build())
        .collect();
    let names = |listing: &db::TokenListing| listing.tokens.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    for db in support::backends().await {
        db.repo.upsert_tokens(&records, Utc::now()).await.expect("upsert");
        let before = db
            .repo
            .list_tokens_within(&query(), today, all_time())
            .await
            .expect("list");
        assert_eq!(before.counted.total, 30, "{}", db.name);
        assert_eq!(
            names(&before).first().map(String::as_str),
            Some("bot-01"),
            "{}",
            db.name
        );
        let first = TokenBuilder::synced(TokenKind::Deploy, 99, "aaa-first", "acme/app").build();
        db.repo.upsert_tokens(&[first], Utc::now()).await.expect("upsert");
        db.repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme".to_owned()],
            })
            .await
            .expect("create team");
        let after = db
            .repo
            .list_tokens_within(&query(), today, all_time())
            .await
            .expect("list");
        assert_eq!(after.counted.total, 31, "{}", db.name);
        assert_eq!(
            names(&after).first().map(String::as_str),
            Some("aaa-first"),
            "{}",
            db.name
        );
        assert_eq!(after.teams.len(), 1, "{}", db.name);
        // The new team owns the group path: the rows say so.
        assert!(
            after
                .tokens
                .iter()
                .all(|t| t.owner_team.as_ref().map(|team| team.name.as_str()) == Some("Delivery")),
            "{}",
            db.name
        );
        let none = TokenQuery {
            search: Some("nothing-is-called-this".to_owned()),
            ..query()
        };
        let empty = db
            .repo
            .list_tokens_within(&none, today, all_time())
            .await
            .expect("list");
        assert!(empty.tokens.is_empty(), "{}", db.name);
        assert_eq!(empty.counted.total, 0, "{}", db.name);
        assert_eq!(empty.teams, after.teams, "{}", db.name);
        // What matched nothing (its count of none kept) is found once it is there.
        let named = TokenBuilder::synced(TokenKind::Deploy, 100, "nothing-is-called-this", "acme/app").build();
        db.repo.upsert_tokens(&[named], Utc::now()).await.expect("upsert");
        let found = db
            .repo
            .list_tokens_within(&none, today, all_time())
            .await
            .expect("list");
        assert_eq!(names(&found), ["nothing-is-called-this"], "{}", db.name);
        assert_eq!(found.counted.total, 1, "{}", db.name);
        db.finish().await;
    }
}

/// A page counted within a budget it cannot meet says its total is an estimate, from evenly
/// spread ranges of ids; the exact count goes on behind and the next look has it. 5,120 tokens,
/// one in four a deploy token, so the sample (32 ranges of 128 ids) holds exactly a quarter of
/// them and the estimate is exact too.
#[tokio::test]
async fn a_count_over_its_budget_is_estimated_and_exact_at_the_next_look() {
    let today = day("2026-11-25");
    let kinds = [
        TokenKind::Deploy,
        TokenKind::ProjectAccess,
        TokenKind::GroupAccess,
        TokenKind::ProjectAccess,
    ];
    let records: Vec<TokenRecord> = (1..=5_120)
        .map(|id| TokenBuilder::synced(kinds[(id % 4) as usize], id, &format!("bot-{id:04}"), "acme/app").build())
        .collect();
    let deploy = TokenQuery {
        kind: Some(TokenKind::Deploy),
        ..query()
    };
    // No time at all, whatever the number of tokens: the count cannot end in it.
    let no_time = db::CountBudget {
        time: std::time::Duration::ZERO,
        from_tokens: 0,
    };
    for db in support::backends().await {
        db.repo.upsert_tokens(&records, Utc::now()).await.expect("upsert");
        db.repo
            .create_team(&NewTeam {
                name: "Delivery".to_owned(),
                group_paths: vec!["acme/delivery".to_owned()],
            })
            .await
            .expect("create team");
        let db::TokenListing {
            tokens: page,
            counted,
            teams,
        } = db.repo.list_tokens_within(&deploy, today, no_time).await.expect("list");
        // Every team, as the team list gives them, read at the same data version.
        assert_eq!(teams.len(), 1, "{}", db.name);
        assert_eq!(teams, db.repo.list_teams().await.expect("teams"), "{}", db.name);
        assert!(counted.estimated, "{}: {counted:?}", db.name);
        assert_eq!(counted.total, 1_280, "{}", db.name);
        assert_eq!(page.len(), PER_PAGE as usize, "{}", db.name);
        assert!(page.iter().all(|t| t.kind == TokenKind::Deploy), "{}", db.name);
        // The count ends behind the answer and is kept for this data version.
        let mut exact = None;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let counted = counted_within(&db.repo, &deploy, today, no_time).await;
            if !counted.estimated {
                exact = Some(counted.total);
                break;
            }
        }
        assert_eq!(exact, Some(1_280), "{}: the exact count is kept", db.name);
        // A change is a new version: estimated again, whatever was kept before.
        let more = TokenBuilder::synced(TokenKind::Deploy, 9_999, "one-more", "acme/app").build();
        db.repo.upsert_tokens(&[more], Utc::now()).await.expect("upsert");
        let counted = counted_within(&db.repo, &deploy, today, no_time).await;
        assert!(counted.estimated, "{}: {counted:?}", db.name);
        let (_, total) = db.repo.list_tokens(&deploy, today).await.expect("exact");
        assert_eq!(total, 1_281, "{}", db.name);
        // Below `from_tokens` a page always waits for its count.
        let small = db::CountBudget {
            time: std::time::Duration::ZERO,
            from_tokens: 100_000,
        };
        let recent = TokenQuery {
            search: Some("bot-5".to_owned()),
            ..query()
        };
        let counted = counted_within(&db.repo, &recent, today, small).await;
        assert!(!counted.estimated, "{}: {counted:?}", db.name);
        db.finish().await;
    }
}

/// How [`db::Repository::list_tokens_within`] counts `query` within `budget`.
async fn counted_within(repo: &db::Repo, query: &TokenQuery, today: NaiveDate, budget: db::CountBudget) -> db::Counted {
    repo.list_tokens_within(query, today, budget)
        .await
        .expect("list")
        .counted
}
