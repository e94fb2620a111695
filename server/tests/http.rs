//! The server over real HTTP: a `TestApp` on port 0 with a fresh SQLite database.

use app::{
    db::Repo,
    domain::{ContainerKind, TokenKind, TokenRecord},
    server::inventory::ListTokens,
};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use server::{Server, config::ServeArgs, open_database};
use tokio::sync::oneshot;

struct TestApp {
    base: String,
    repo: Repo,
    client: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let repo = open_database(&format!("sqlite://{}", dir.path().join("app.db").display()))
            .await
            .expect("database");
        let args = ServeArgs {
            port: 0,
            bind: [127, 0, 0, 1].into(),
            site_root: dir.path().join("site"),
        };
        let server = Server::bind(&args, repo.clone()).await.expect("bind");
        let base = format!("http://{}", server.addr);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            repo,
            client: reqwest::Client::new(),
            _stop: stop,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    async fn add_tokens(&self, tokens: &[(TokenKind, i64, &str)]) {
        let records: Vec<TokenRecord> = tokens
            .iter()
            .map(|(kind, id, name)| TokenRecord {
                kind: *kind,
                gitlab_id: *id,
                name: (*name).to_owned(),
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
            })
            .collect();
        self.repo
            .upsert_tokens(&records, chrono::Utc::now())
            .await
            .expect("upsert");
    }
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    let response = app
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
    let (status, page) = app.get("/").await;
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
    app.add_tokens(&[
        (TokenKind::Deploy, 1, "registry-pull"),
        (TokenKind::ProjectAccess, 2, "danger-bot"),
        (TokenKind::ProjectAccess, 3, "allure-poster"),
    ])
    .await;

    let (status, page) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("data-kind=").count(), 3);
    assert!(page.contains("Showing 1–3 of 3"));

    let (status, page) = app.get("/?kind=project_access&sort=name&dir=desc").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("data-kind=\"project_access\"").count(), 2);
    assert!(!page.contains("registry-pull"));
    let danger = page.find("danger-bot").expect("danger-bot listed");
    let allure = page.find("allure-poster").expect("allure-poster listed");
    assert!(danger < allure, "descending by name");

    let (_, page) = app.get("/?q=nothing-like-this").await;
    assert!(page.contains("No token matches these filters."));
}

#[tokio::test]
async fn bad_filters_get_a_clear_message_and_a_4xx() {
    let app = TestApp::spawn().await;
    let (status, page) = app.get("/?kind=everything").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("kind: &quot;everything&quot; is not a known token kind")
            || page.contains("kind: \"everything\" is not a known token kind")
    );

    let (status, _) = app.get("/?page=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = TestApp::spawn().await;
    let (status, page) = app.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}

#[tokio::test]
async fn the_list_tokens_server_function_answers_json() {
    let app = TestApp::spawn().await;
    app.add_tokens(&[
        (TokenKind::Deploy, 1, "registry-pull"),
        (TokenKind::GroupAccess, 2, "triage"),
    ])
    .await;
    let response = app
        .client
        .post(format!("{}{}", app.base, ListTokens::PATH))
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

    let response = app
        .client
        .post(format!("{}{}", app.base, ListTokens::PATH))
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
