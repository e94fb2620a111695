//! The JSON API (`/api/v1`): paging like GitLab's, the same filters as the page, exports for
//! security and for the lead of the team filtered to, and who is refused.

mod common;

use common::{TestApp, builders::TokenBuilder, header};
use domain::{ContainerKind, TokenKind, TokenRecord};
use reqwest::StatusCode;
use serde_json::Value;

async fn app_with_tokens() -> TestApp {
    let app = TestApp::spawn().await;
    // Project access tokens with `api`, each in a project of its own id.
    let token = |id: i64, name: &str, path: &str| {
        TokenBuilder::project(id, name, path)
            .container(ContainerKind::Project, id)
            .account_username(&format!("project_{id}_bot_x"))
            .scopes(&["api"])
            .build()
    };
    let mut tokens: Vec<TokenRecord> = (1..=5)
        .map(|i| token(i, &format!("ep-bot-{i}"), "acme/engineering-productivity/tools"))
        .collect();
    tokens.push(token(6, "platform, \"quoted\" bot", "acme/platform/api"));
    app.add_tokens(&tokens).await;
    app
}

async fn team_id(app: &TestApp, name: &str) -> i64 {
    app.repo
        .list_teams()
        .await
        .expect("teams")
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.id)
        .expect("team")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_pages_like_gitlab_and_filters_like_the_page() {
    let app = app_with_tokens().await;
    let engineer = app.signed_in("eli.eng").await;
    let response = engineer
        .client
        .get(format!("{}/api/v1/tokens?per_page=2&page=2&sort=name", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-total"), "6");
    assert_eq!(header(&response, "x-total-pages"), "3");
    assert_eq!(header(&response, "x-page"), "2");
    assert_eq!(header(&response, "x-per-page"), "2");
    assert_eq!(header(&response, "x-next-page"), "3");
    assert_eq!(header(&response, "x-prev-page"), "1");
    let link = header(&response, "link");
    assert!(link.contains("page=3&per_page=2>; rel=\"next\""), "{link}");
    let body: Vec<Value> = response.json().await.expect("JSON");
    let names: Vec<&str> = body.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["ep-bot-3", "ep-bot-4"]);
    assert_eq!(body[0]["owner_team"], "Engineering Productivity");
    assert_eq!(body[0]["owner_inferred"], true);
    assert_eq!(body[0]["status"], "active");

    let ep = team_id(&app, "Engineering Productivity").await;
    let response = engineer
        .client
        .get(format!("{}/api/v1/tokens?team={ep}", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(header(&response, "x-total"), "5");

    let response = engineer
        .client
        .get(format!("{}/api/v1/tokens?per_page=1000", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.expect("JSON");
    assert!(error["error"].as_str().unwrap_or("").contains("per_page"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_callers_and_bad_keys_are_refused_with_json() {
    let app = app_with_tokens().await;
    for path in [
        "/api/v1/tokens",
        "/api/v1/tokens/export.csv",
        "/api/v1/tokens/export.json",
        "/api/v1/openapi.json",
    ] {
        let response = reqwest::get(format!("{}{path}", app.base)).await.expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "sign in to continue", "{path}");
        let response = reqwest::Client::new()
            .get(format!("{}{path}", app.base))
            .bearer_auth("ti_nope_nope")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_are_for_security_and_for_the_lead_of_the_team_filtered_to() {
    let app = app_with_tokens().await;
    let ep = team_id(&app, "Engineering Productivity").await;
    let platform = team_id(&app, "Platform").await;
    let get = async |browser: &common::Browser, path: &str| {
        browser
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET")
    };

    let engineer = app.signed_in("eli.eng").await;
    assert_eq!(
        get(&engineer, "/api/v1/tokens/export.csv").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&engineer, &format!("/api/v1/tokens/export.csv?team={ep}"))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "a member who does not lead"
    );

    let lead = app.signed_in("erin.lead").await;
    assert_eq!(
        get(&lead, "/api/v1/tokens/export.csv").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&lead, &format!("/api/v1/tokens/export.csv?team={platform}"))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "another team's view"
    );
    let response = get(&lead, &format!("/api/v1/tokens/export.csv?team={ep}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-disposition").contains("tokens.csv"));
    let csv = response.text().await.expect("CSV");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6, "a header and the team's five tokens:\n{csv}");
    assert!(lines[0].starts_with("id,kind,gitlab_id,name,path"));

    let security = app.signed_in("sasha.security").await;
    let response = get(&security, "/api/v1/tokens/export.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let all: Vec<Value> = response.json().await.expect("JSON");
    assert_eq!(all.len(), 6);
    let csv = get(&security, "/api/v1/tokens/export.csv?q=quoted")
        .await
        .text()
        .await
        .expect("CSV");
    assert!(csv.contains("\"platform, \"\"quoted\"\" bot\""), "CSV quoting: {csv}");

    // The inventory page offers the export links only to those who may use them.
    let (_, html) = engineer.get("/").await;
    assert!(!html.contains("id=\"export-csv\""));
    let (_, html) = lead.get(&format!("/?team={ep}")).await;
    assert!(html.contains("id=\"export-csv\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_route_and_filter() {
    let app = app_with_tokens().await;
    let engineer = app.signed_in("eli.eng").await;
    let doc: Value = engineer
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/tokens",
        "/api/v1/tokens/export.csv",
        "/api/v1/tokens/export.json",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is documented");
    }
    let documented: Vec<&str> = doc["paths"]["/api/v1/tokens"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    // Every parameter the inventory's URL takes is documented, and each documented one is read.
    let query = app::server::inventory::TokenQuery {
        search: Some("x".into()),
        kind: Some(TokenKind::Deploy),
        expiry: Some(domain::ExpiryWindow::Days7),
        expires_from: "2027-01-04".parse().ok(),
        expires_to: "2027-01-10".parse().ok(),
        team: Some(1),
        scope: Some(app::domain::Scope::Api),
        role: Some(domain::AccessLevel::Developer),
        status: Some(domain::TokenStatus::Active),
        no_owner: true,
        no_purpose: true,
        sort: app::server::inventory::TokenSort::Owner,
        descending: true,
        page: 2,
        per_page: Some(10),
        exact_count: true,
    };
    for pair in query.to_query_string().split('&') {
        let name = pair.split('=').next().unwrap_or_default();
        assert!(documented.contains(&name), "{name} is not documented");
    }
    assert_eq!(documented.len(), 16);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_key_reads_the_api() {
    let app = app_with_tokens().await;
    let browser = app.signed_in("eli.eng").await;
    let response = browser
        .post_form("/account/api-keys", &[("name", "report"), ("expires_in_days", "7")])
        .await;
    let page = response.text().await.expect("page");
    let secret = page
        .split("id=\"api-key-secret\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .expect("secret")
        .to_owned();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/tokens", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-total"), "6");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_answers_scripts_and_names_a_missing_answer() {
    let app = app_with_tokens().await;
    let engineer = app.signed_in("eli.eng").await;
    let post = async |body: Value| {
        engineer
            .client
            .post(format!("{}/api/v1/recommendations", app.base))
            .header("origin", &app.base)
            .json(&body)
            .send()
            .await
            .expect("POST")
    };
    // The guidelines' Allure example: posts reports on merge requests of one project.
    let response = post(serde_json::json!({
        "api": "writes", "reach": "one_project", "maintainer_actions": "no", "confidential_issues": "no",
        "temporary": "no", "path": "acme/qa/end-to-end", "owner_team": "Quality", "purpose": "allure reports"
    }))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let recommendation: Value = response.json().await.expect("JSON");
    assert_eq!(recommendation["kind"], "project_access_token", "{recommendation}");
    assert_eq!(recommendation["scopes"], serde_json::json!(["api"]));

    let response = post(serde_json::json!({"api": "reads"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.expect("JSON");
    assert!(error["error"].as_str().unwrap_or("").starts_with("reach:"), "{error}");

    let response = post(serde_json::json!(["not", "answers"])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/v1/recommendations", app.base))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("POST");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
