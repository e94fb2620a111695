//! `/metrics`: off by default, behind a bearer token or on its own address, parsed with a
//! Prometheus text-format parser after a sync of gitlab-sim's demo world.

mod common;

use std::collections::HashSet;

use app::domain::{TokenKind, TokenQuery};
use common::TestApp;
use prometheus_parse::{Scrape, Value};
use reqwest::StatusCode;

const TOKEN: &str = "scrape-me-0123456789";

async fn app_with_bearer() -> TestApp {
    TestApp::spawn_with(|args| args.metrics.bearer_token = Some(TOKEN.to_owned().into())).await
}

async fn scrape(url: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("GET /metrics")
}

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text")
}

/// The sum of `metric`'s gauge samples whose labels include every one of `labels`.
fn gauge_sum(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == metric)
        .filter(|sample| {
            labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(value))
        })
        .map(|sample| match sample.value {
            Value::Gauge(value) | Value::Untyped(value) => value,
            ref other => panic!("{metric} is a gauge, not {other:?}"),
        })
        .sum()
}

async fn count(app: &TestApp, query: TokenQuery) -> f64 {
    let today = chrono::Utc::now().date_naive();
    app.repo.count_tokens(&query, today).await.expect("count") as f64
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_after_a_sync_match_the_repository_and_name_no_token() {
    let app = app_with_bearer().await;
    app.sync_as_administrator().await;
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.base))
            .await
            .expect("GET")
            .status(),
        StatusCode::OK
    );
    let response = scrape(&format!("{}/metrics", app.base), Some(TOKEN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(common::header(&response, "content-type").starts_with("application/openmetrics-text"));
    let scrape = parse(&response.text().await.expect("body"));

    let deploy = TokenQuery {
        kind: Some(TokenKind::Deploy),
        ..TokenQuery::default()
    };
    let deploy_tokens = count(&app, deploy).await;
    assert!(deploy_tokens > 0.0);
    assert_eq!(
        gauge_sum(&scrape, "token_inventory_tokens", &[("kind", "deploy")]),
        deploy_tokens
    );
    let all_tokens = count(&app, TokenQuery::default()).await;
    assert_eq!(gauge_sum(&scrape, "token_inventory_tokens", &[]), all_tokens);
    // Each notice window, the widest holding the most.
    let window = |days: &str| gauge_sum(&scrape, "token_inventory_tokens_expiring", &[("window", days)]);
    assert!(window("60") >= window("30") && window("30") >= window("7"));
    let findings = gauge_sum(&scrape, "token_inventory_findings_open", &[]);
    assert!(findings > 0.0);
    assert_eq!(
        gauge_sum(&scrape, "token_inventory_sync_last_status", &[("status", "succeeded")]),
        1.0
    );
    assert!(gauge_sum(&scrape, "token_inventory_sync_last_requests", &[]) > 0.0);
    assert!(gauge_sum(&scrape, "token_inventory_sync_last_finished_timestamp_seconds", &[]) > 1.7e9);
    // The health check was timed under its route, by status class.
    let healthz = scrape.samples.iter().find(|sample| {
        sample.metric == "token_inventory_http_request_duration_seconds"
            && sample.labels.get("route") == Some("/healthz")
            && sample.labels.get("status_class") == Some("2xx")
            && sample.labels.get("method") == Some("GET")
    });
    assert!(healthz.is_some(), "{:?}", scrape.samples);

    // No label value is a token's name.
    let (tokens, _) = app
        .repo
        .list_tokens(
            &TokenQuery {
                per_page: Some(100),
                page: 1,
                ..TokenQuery::default()
            },
            chrono::Utc::now().date_naive(),
        )
        .await
        .expect("tokens");
    let names: HashSet<&str> = tokens.iter().map(|token| token.name.as_str()).collect();
    for sample in &scrape.samples {
        for (_, value) in sample.labels.iter() {
            assert!(
                !names.contains(value.as_str()),
                "{} has a token's name: {value}",
                sample.metric
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_off_by_default_and_refuse_a_wrong_token() {
    let off = TestApp::spawn().await;
    let response = scrape(&format!("{}/metrics", off.base), Some(TOKEN)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let app = app_with_bearer().await;
    let url = format!("{}/metrics", app.base);
    assert_eq!(scrape(&url, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&url, Some("scrape-me-0123456788")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(scrape(&url, Some("scrape-me")).await.status(), StatusCode::UNAUTHORIZED);
    // A signed-in person's session is no bearer token.
    let browser = app.signed_in("sam.security").await;
    assert_eq!(browser.get("/metrics").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_may_have_an_address_of_their_own() {
    let app = TestApp::spawn_with(|args| args.metrics.bind_address = Some(([127, 0, 0, 1], 0).into())).await;
    let own = app.metrics_addr.expect("the metrics' own address");
    let response = scrape(&format!("http://{own}/metrics"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let scrape_text = response.text().await.expect("body");
    assert!(scrape_text.contains("token_inventory_tokens"), "{scrape_text}");
    // Without a bearer token, the app's own address does not serve them.
    let response = scrape(&format!("{}/metrics", app.base), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // It stops with the server.
    drop(app);
    let mut stopped = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if reqwest::get(format!("http://{own}/metrics")).await.is_err() {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "the metrics listener still answers");
}
