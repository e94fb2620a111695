//! The server over real HTTP: a `TestApp` on port 0 with a fresh SQLite database, signed in
//! through gitlab-sim.

use app::{
    domain::{TokenKind, TokenRecord},
    server::inventory::ListTokens,
};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

mod common;

use common::{TestApp, builders::TokenBuilder};

/// Stores tokens of project #1 at `acme/app`, by kind, id and name.
async fn add_tokens(app: &TestApp, tokens: &[(TokenKind, i64, &str)]) {
    let records: Vec<TokenRecord> = tokens
        .iter()
        .map(|(kind, id, name)| TokenBuilder::project(*id, name, "acme/app").kind(*kind).build())
        .collect();
    app.add_tokens(&records).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    let response = app
        .browser()
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["backend"], "sqlite");
    assert_eq!(body["database"]["status"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_inventory_says_so() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No tokens yet."), "empty state missing");
    assert!(!page.contains("data-testid=\"token-table\""));
    for area in ["Inventory", "Review", "Wizard", "Requests"] {
        assert!(page.contains(&format!(">{area}</a>")), "header link {area} missing");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_is_rendered_on_the_server_with_its_filters_applied() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    add_tokens(
        &app,
        &[
            (TokenKind::Deploy, 1, "registry-pull"),
            (TokenKind::ProjectAccess, 2, "danger-bot"),
            (TokenKind::ProjectAccess, 3, "allure-poster"),
        ],
    )
    .await;

    let (status, page) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("data-kind=").count(), 3);
    assert!(page.contains("Showing 1–3 of 3"));

    let (status, page) = browser.get("/?kind=project_access&sort=name&dir=desc").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("data-kind=\"project_access\"").count(), 2);
    assert!(!page.contains("registry-pull"));
    let danger = page.find("danger-bot").expect("danger-bot listed");
    let allure = page.find("allure-poster").expect("allure-poster listed");
    assert!(danger < allure, "descending by name");

    let (_, page) = browser.get("/?q=nothing-like-this").await;
    assert!(page.contains("No token matches these filters."));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_filters_get_a_clear_message_and_a_4xx() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/?kind=everything").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("kind: &quot;everything&quot; is not a known token kind")
            || page.contains("kind: \"everything\" is not a known token kind")
    );

    let (status, _) = browser.get("/?page=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_pages_are_404() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_tokens_server_function_answers_json() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    add_tokens(
        &app,
        &[
            (TokenKind::Deploy, 1, "registry-pull"),
            (TokenKind::GroupAccess, 2, "triage"),
        ],
    )
    .await;
    let response = browser
        .client
        .post(format!("{}{}", app.base, ListTokens::PATH))
        .header("origin", &app.base)
        .form(&[
            ("query[kind]", "group_access"),
            ("query[sort]", "name"),
            ("query[descending]", "false"),
            ("query[page]", "1"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::OK);
    let page: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(page["total"], 1);
    assert_eq!(page["tokens"][0]["name"], "triage");

    let response = browser
        .client
        .post(format!("{}{}", app.base, ListTokens::PATH))
        .header("origin", &app.base)
        .form(&[("query[kind]", "personal_access"), ("query[page]", "1")])
        .send()
        .await
        .expect("POST");
    assert!(
        response.status().is_client_error(),
        "bad arguments are the caller's mistake, got {}",
        response.status()
    );
}

/// Waits until `count` sync runs have finished.
async fn finished_runs(app: &TestApp, count: usize) -> Vec<domain::SyncRun> {
    for _ in 0..200 {
        let runs = app.repo.list_sync_runs(10).await.expect("runs");
        if runs.iter().filter(|r| r.finished_at.is_some()).count() >= count {
            return runs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{count} sync runs did not finish within 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_syncs_at_start_and_when_security_asks() {
    // Sync needs the simulator's URL, known only once it runs: start one first.
    let sim = gitlab_sim::spawn(gitlab_sim::SimConfig {
        scenario: gitlab_sim::Scenario::Demo,
        ..gitlab_sim::SimConfig::default()
    })
    .await
    .expect("sim");
    let (url, token) = (sim.url.clone(), sim.credentials.admin_token.clone());
    let app = TestApp::spawn_with(move |args| {
        args.sync.gitlab_url = Some(url);
        args.sync.gitlab_token = Some(token.into());
    })
    .await;
    let runs = finished_runs(&app, 1).await;
    assert_eq!(runs[0].trigger, domain::SyncTrigger::Startup);
    assert_eq!(runs[0].status, domain::SyncStatus::Succeeded, "{:?}", runs[0].errors);

    let browser = app.signed_in("sam.security").await;
    let (status, page) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("danger-bot"),
        "the demo world's tokens are in the inventory"
    );
    let (status, page) = browser.get("/sync").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"sync-now\""), "security sees Sync now");
    assert!(page.contains("data-status=\"succeeded\""));

    let response = browser.post_form(app::server::sync::StartSync::PATH, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let runs = finished_runs(&app, 2).await;
    assert_eq!(runs[0].trigger, domain::SyncTrigger::Manual);
    assert_eq!(runs[0].status, domain::SyncStatus::Succeeded);

    let engineer = app.signed_in("eli.eng").await;
    let (status, page) = engineer.get("/sync").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("id=\"sync-now\""),
        "engineers see the runs, not the button"
    );

    // The service accounts sync found, with their tokens; acme itself belongs to no team here.
    let (status, page) = engineer.get("/service-accounts").await;
    assert_eq!(status, StatusCode::OK);
    let triage = account_card(&page, "_triage_ops");
    assert!(triage.contains("triage-ops-scheduled") && triage.contains("triage-ops-reactive"));
    assert!(triage.contains("in acme") && triage.contains("No owner team"));
    // What it can reach, linked to GitLab, with the role; rendered on the server.
    assert!(
        triage.contains("data-membership=\"acme\" data-kind=\"group\" data-role=\"Maintainer\""),
        "{triage}"
    );
    assert!(
        triage.contains(&format!("href=\"{}/groups/acme\"", app.sim.url)),
        "{triage}"
    );
    assert!(!page.contains("id=\"memberships-note\""));
}

/// Sync as `token` against the app's own simulated GitLab.
async fn sync_with(app: &TestApp, token: &str) {
    let settings = server::sync::SyncSettings::new(app.sim.url.clone(), secrecy::SecretString::from(token.to_owned()));
    let outcome = server::sync::run(app.repo.clone(), &settings, domain::SyncTrigger::CommandLine, None)
        .await
        .expect("sync");
    assert_eq!(outcome.status, domain::SyncStatus::Succeeded, "{:?}", outcome.errors);
}

/// The part of the service accounts page about the account whose username ends with `suffix`.
fn account_card<'p>(page: &'p str, suffix: &str) -> &'p str {
    page.split("data-account=\"")
        .find(|part| {
            part.starts_with("service_account_group_")
                && part.split('"').next().is_some_and(|name| name.ends_with(suffix))
        })
        .unwrap_or_else(|| panic!("no {suffix} account in {page}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn service_accounts_show_what_they_can_reach_once_an_administrator_synced() {
    let app = TestApp::spawn().await;
    let engineer = app.signed_in("eli.eng").await;

    // A group owner's sync finds the accounts, not their memberships: the page says why.
    sync_with(&app, &app.sim.credentials.group_owner_token).await;
    let (status, page) = engineer.get("/service-accounts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"memberships-note\""), "{page}");
    assert!(account_card(&page, "_release_tools").contains("no group or project membership known"));

    sync_with(&app, &app.sim.credentials.admin_token).await;
    let (_, page) = engineer.get("/service-accounts").await;
    assert!(!page.contains("id=\"memberships-note\""));
    let release = account_card(&page, "_release_tools");
    assert!(
        release.contains("data-membership=\"acme/delivery\" data-kind=\"group\" data-role=\"Maintainer\""),
        "{release}"
    );
    assert!(release.contains(&format!("href=\"{}/groups/acme/delivery\"", app.sim.url)));
    assert!(account_card(&page, "_gitlab_bot").contains("data-role=\"Owner\""));

    // A group owner's run afterwards keeps what the administrator's read, and says so.
    sync_with(&app, &app.sim.credentials.group_owner_token).await;
    let (_, page) = engineer.get("/service-accounts").await;
    assert!(page.contains("id=\"memberships-note\""));
    assert!(account_card(&page, "_release_tools").contains("data-membership=\"acme/delivery\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn team_leads_and_security_edit_ownership_engineers_cannot() {
    let app = TestApp::spawn().await;
    let gateway = TokenBuilder::project(7, "gateway-bot", "acme/platform/api/gateway").build();
    app.add_tokens(&[gateway]).await;
    let (tokens, _) = app
        .repo
        .list_tokens(
            &app::server::inventory::TokenQuery {
                page: 1,
                ..Default::default()
            },
            chrono::Utc::now().date_naive(),
        )
        .await
        .expect("list");
    let id = tokens[0].id;
    let page = format!("/tokens/{id}");
    let form_path = format!("{page}/ownership");

    // Everyone signed in may look; only the lead of the owning team (inferred) sees the form.
    let engineer = app.signed_in("eli.eng").await;
    let (status, html) = engineer.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("gateway-bot") && html.contains("(inferred from the group path)"));
    assert!(!html.contains("id=\"save-ownership\""));
    let response = engineer.post_form(&form_path, &[("purpose", "mine now")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let other_lead = app.signed_in("erin.lead").await;
    let response = other_lead.post_form(&form_path, &[("purpose", "mine now")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a lead of another team");
    let anonymous = app.browser();
    let response = anonymous.post_form(&form_path, &[("purpose", "x")]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let lead = app.signed_in("pat.lead").await;
    let (_, html) = lead.get(&page).await;
    assert!(html.contains("id=\"save-ownership\""), "Pat leads Platform");

    // A pasted secret is refused, with a message next to the field, and not echoed in the URL.
    let secret = "glpat-abcdefghij0123456789";
    let response = lead
        .post_form(
            &form_path,
            &[("purpose", "Gateway deploys"), ("secret_location", secret)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = common::location(&response);
    assert!(
        back.contains("error_secret_location=") && !back.contains(secret),
        "{back}"
    );
    let (status, html) = lead.get(&back).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"error-secret_location\""),
        "the message is next to the field"
    );
    assert!(html.contains("value=\"Gateway deploys\""), "what was typed is kept");

    let response = lead
        .post_form(
            &form_path,
            &[
                ("purpose", "Gateway deploys"),
                ("secret_location", "vault: platform/gateway"),
                ("owner_team", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(common::location(&response).ends_with("?saved=1#ownership"));
    let (_, html) = engineer.get("/").await;
    assert!(html.contains("Gateway deploys"), "the purpose shows in the inventory");
    let (_, html) = engineer.get("/?no_purpose=1").await;
    assert!(!html.contains("gateway-bot"));

    // Security may edit any token; every edit is in the audit log with who made it.
    let security = app.signed_in("sasha.security").await;
    let response = security
        .post_form(&form_path, &[("purpose", "Gateway deploys to production")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database");
    let actors: Vec<(String,)> =
        sqlx::query_as("SELECT actor FROM audit_log WHERE action = 'ownership_changed' ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("audit");
    assert_eq!(actors, vec![("pat.lead".to_owned(),), ("sasha.security".to_owned(),)]);
    let (status, _) = engineer.get("/tokens/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn security_sets_a_service_accounts_owner_and_its_tokens_follow_to_the_team() {
    let app = TestApp::spawn().await;
    sync_with(&app, &app.sim.credentials.admin_token).await;
    let triage_id = {
        let world = app.sim.state.world.read().unwrap_or_else(|e| e.into_inner());
        world
            .users
            .values()
            .find(|u| u.username.ends_with("_triage_ops"))
            .map(|u| u.id)
            .expect("the triage ops account")
    };
    let teams = app.repo.list_teams().await.expect("teams");
    let ep = teams
        .iter()
        .find(|t| t.name == "Engineering Productivity")
        .expect("team")
        .id;
    let form_path = format!("/service-accounts/{triage_id}/owner");
    let ep = ep.to_string();

    // Nobody owns it yet (it is a member of `acme`, no team's): only security may say who does.
    let engineer = app.signed_in("eli.eng").await;
    let (_, page) = engineer.get("/service-accounts").await;
    assert!(account_card(&page, "_triage_ops").contains("No owner team"));
    assert!(!page.contains("data-owner-form"), "engineers change nothing");
    let response = engineer.post_form(&form_path, &[("owner_team", &ep)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let lead = app.signed_in("erin.lead").await;
    let (_, page) = lead.get("/service-accounts").await;
    assert!(!account_card(&page, "_triage_ops").contains("data-owner-form"));
    let response = lead.post_form(&form_path, &[("owner_team", &ep)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "not yet her team's");
    let response = app.browser().post_form(&form_path, &[("owner_team", &ep)]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, team_page) = lead.get(&format!("/?team={ep}")).await;
    assert!(!team_page.contains("triage-ops-scheduled"));

    let security = app.signed_in("sasha.security").await;
    let (_, page) = security.get("/service-accounts").await;
    assert!(account_card(&page, "_triage_ops").contains("data-owner-form"));
    let response = security.post_form(&form_path, &[("owner_team", "not a team")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = security.post_form(&form_path, &[("owner_team", "999999")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = security
        .post_form("/service-accounts/999999/owner", &[("owner_team", "")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = security.post_form(&form_path, &[("owner_team", &ep)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = common::location(&response);
    assert!(
        back.starts_with("/service-accounts?saved=service_account_group_"),
        "{back}"
    );
    let (_, page) = security.get(&back).await;
    let card = account_card(&page, "_triage_ops");
    assert!(card.contains("data-owner=\"Engineering Productivity\""), "{card}");
    assert!(card.contains("set by sasha.security"), "{card}");
    assert!(card.contains("Owner saved"), "{card}");

    // Its tokens are now the team's: in the team's list, and its lead may change the owner.
    let (_, team_page) = lead.get(&format!("/?team={ep}")).await;
    assert!(
        team_page.contains("triage-ops-scheduled") && team_page.contains("triage-ops-reactive"),
        "{team_page}"
    );
    let (_, page) = lead.get("/service-accounts").await;
    assert!(account_card(&page, "_triage_ops").contains("data-owner-form"));
    let response = lead.post_form(&form_path, &[("owner_team", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the lead takes it back");
    let (_, page) = lead.get("/service-accounts").await;
    assert!(account_card(&page, "_triage_ops").contains("No owner team"));

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database");
    let actors: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, subject FROM audit_log WHERE action = 'account_owner_changed' ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("audit");
    let subject = format!("service_account:{triage_id}");
    assert_eq!(
        actors,
        vec![
            ("sasha.security".to_owned(), subject.clone()),
            ("erin.lead".to_owned(), subject)
        ]
    );
}

/// Leptos marks resource loading as suppressed, process-wide, while it walks the app to list its
/// routes (leptos-rs/leptos#4773): a page whose resource first ran in that window never finished.
/// Several servers in one process (these tests) must not stall each other's pages.
#[tokio::test(flavor = "multi_thread")]
async fn pages_keep_answering_while_other_servers_start() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("erin.lead").await;
    let starting = tokio::spawn(async {
        for _ in 0..12 {
            drop(TestApp::spawn().await);
        }
    });
    let mut pages = 0;
    while !starting.is_finished() || pages < 20 {
        let (status, body) = browser.get("/").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("</html>"), "the page ended early: {body}");
        pages += 1;
    }
    starting.await.expect("servers started");
}
