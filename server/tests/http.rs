//! The server over real HTTP: a `TestApp` on port 0 with a fresh SQLite database, signed in
//! through gitlab-sim.

use app::{
    domain::{ContainerKind, TokenKind, TokenRecord},
    server::inventory::ListTokens,
};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

mod common;

use common::TestApp;

fn token(kind: TokenKind, id: i64, name: &str) -> TokenRecord {
    TokenRecord {
        kind,
        gitlab_id: id,
        name: name.to_owned(),
        description: None,
        container_kind: ContainerKind::Project,
        container_gitlab_id: Some(1),
        container_path: "acme/app".to_owned(),
        account_gitlab_id: None,
        account_username: None,
        scopes: vec!["read_api".to_owned()],
        access_level: None,
        created_at: None,
        expires_on: None,
        last_used_at: None,
        revoked: false,
        active: true,
    }
}

async fn add_tokens(app: &TestApp, tokens: &[(TokenKind, i64, &str)]) {
    let records: Vec<TokenRecord> = tokens.iter().map(|(kind, id, name)| token(*kind, *id, name)).collect();
    app.add_tokens(&records).await;
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}

#[tokio::test]
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
async fn finished_runs(app: &TestApp, count: usize) -> Vec<app::domain::SyncRun> {
    for _ in 0..200 {
        let runs = app.repo.list_sync_runs(10).await.expect("runs");
        if runs.iter().filter(|r| r.finished_at.is_some()).count() >= count {
            return runs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{count} sync runs did not finish within 10 s");
}

#[tokio::test]
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
        args.sync.gitlab_token = Some(token);
    })
    .await;
    let runs = finished_runs(&app, 1).await;
    assert_eq!(runs[0].trigger, app::domain::SyncTrigger::Startup);
    assert_eq!(
        runs[0].status,
        app::domain::SyncStatus::Succeeded,
        "{:?}",
        runs[0].errors
    );

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
    assert_eq!(runs[0].trigger, app::domain::SyncTrigger::Manual);
    assert_eq!(runs[0].status, app::domain::SyncStatus::Succeeded);

    let engineer = app.signed_in("eli.eng").await;
    let (status, page) = engineer.get("/sync").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("id=\"sync-now\""),
        "engineers see the runs, not the button"
    );
}
