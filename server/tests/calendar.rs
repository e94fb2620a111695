//! The calendar feeds: parsed back with the `icalendar` crate's parser, refused without a key,
//! refused for another team, read with a read-only key in the URL or the header.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::{TestApp, builders::TokenBuilder, team_id};
use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime};
use reqwest::StatusCode;

fn in_days(days: i64) -> NaiveDate {
    Utc::now().date_naive() + Duration::days(days)
}

/// Platform: two live tokens with expiry dates (one named with the characters iCalendar
/// escapes), one without, one revoked, one expired; Engineering Productivity: one live token.
async fn app_with_tokens() -> TestApp {
    let app = TestApp::spawn().await;
    app.add_tokens(&[
        TokenBuilder::project(1, "deploy-bot", "acme/platform/api")
            .scopes(&["read_api", "read_repository"])
            .expires_on(in_days(20))
            .build(),
        TokenBuilder::project(2, "odd; name, with\\ \"quotes\"\nand a line", "acme/platform/web")
            .expires_on(in_days(3))
            .build(),
        TokenBuilder::project(3, "forever", "acme/platform/api").build(),
        TokenBuilder::project(4, "revoked", "acme/platform/api")
            .expires_on(in_days(10))
            .revoked()
            .build(),
        TokenBuilder::project(5, "expired", "acme/platform/api")
            .expires_on(in_days(-2))
            .build(),
        TokenBuilder::project(6, "triage", "acme/engineering-productivity/triage-ops")
            .expires_on(in_days(40))
            .build(),
    ])
    .await;
    app
}

/// A read-only API key made through the account form by `username`.
async fn read_only_key(app: &TestApp, username: &str) -> String {
    let browser = app.signed_in(username).await;
    let response = browser
        .post_form("/account/api-keys", &[("name", "calendar"), ("expires_in_days", "30")])
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let page = response.text().await.expect("page");
    page.split("id=\"api-key-secret\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .expect("the secret")
        .to_owned()
}

async fn get(app: &TestApp, path_and_query: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path_and_query}", app.base));
    if let Some(key) = bearer {
        request = request.bearer_auth(key);
    }
    request.send().await.expect("GET")
}

/// The events' (UID, summary, date, URL), sorted by date.
fn events(text: &str) -> Vec<(String, String, NaiveDate, String)> {
    let calendar: Calendar = text.parse().expect("a calendar the parser reads");
    let mut events: Vec<_> = calendar
        .components
        .iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .map(|event| {
            let date = match event.get_start() {
                Some(DatePerhapsTime::Date(date)) => date,
                other => panic!("an all-day event, not {other:?}"),
            };
            assert_eq!(event.get_end(), Some(DatePerhapsTime::Date(date + Duration::days(1))));
            (
                event.get_uid().expect("UID").to_owned(),
                event.get_summary().expect("SUMMARY").to_owned(),
                date,
                event.get_url().expect("URL").to_owned(),
            )
        })
        .collect();
    events.sort_by_key(|event| event.2);
    events
}

async fn token_id(app: &TestApp, name: &str) -> i64 {
    let (tokens, _) = app
        .repo
        .list_tokens(
            &app::server::inventory::TokenQuery {
                per_page: Some(100),
                page: 1,
                ..Default::default()
            },
            Utc::now().date_naive(),
        )
        .await
        .expect("tokens");
    tokens.iter().find(|t| t.name == name).expect("the token").id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_feed_holds_exactly_its_live_expiring_tokens() {
    let app = app_with_tokens().await;
    let platform = team_id(&app, "Platform").await;
    let key = read_only_key(&app, "paula.eng").await;
    let response = get(&app, &format!("/calendar/team/{platform}.ics?key={key}"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        common::header(&response, "content-type"),
        "text/calendar; charset=utf-8"
    );
    let text = response.text().await.expect("body");
    assert!(text.contains("DTSTART;VALUE=DATE:"), "{text}");
    assert!(
        text.contains("BEGIN:VALARM") && text.contains("TRIGGER;RELATED=START:-PT604800S"),
        "{text}"
    );
    assert!(
        text.contains("X-WR-CALNAME;VALUE=TEXT:Token expiries: Platform"),
        "{text}"
    );

    let odd = token_id(&app, "odd; name, with\\ \"quotes\"\nand a line").await;
    let bot = token_id(&app, "deploy-bot").await;
    let host = url::Url::parse(&app.base)
        .expect("base")
        .host_str()
        .expect("host")
        .to_owned();
    let expected = vec![
        (
            format!("token-{odd}@{host}"),
            "Token expires: odd; name, with\\ \"quotes\"\nand a line (Platform)".to_owned(),
            in_days(3),
            format!("{}/tokens/{odd}", app.base),
        ),
        (
            format!("token-{bot}@{host}"),
            "Token expires: deploy-bot (Platform)".to_owned(),
            in_days(20),
            format!("{}/tokens/{bot}", app.base),
        ),
    ];
    assert_eq!(events(&text), expected);
    // The description says what the token is.
    assert!(text.contains("Scopes: read_api\\, read_repository"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn security_reads_every_team_and_the_whole_feed() {
    let app = app_with_tokens().await;
    let key = read_only_key(&app, "sam.security").await;
    let response = get(&app, "/calendar/all.ics", Some(&key)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let names: Vec<String> = events(&response.text().await.expect("body"))
        .into_iter()
        .map(|event| event.1)
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[2].starts_with("Token expires: triage"), "{names:?}");
    let platform = team_id(&app, "Platform").await;
    let response = get(&app, &format!("/calendar/team/{platform}.ics"), Some(&key)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_are_refused_without_a_key_for_another_team_and_for_no_team() {
    let app = app_with_tokens().await;
    let platform = team_id(&app, "Platform").await;
    let team_path = format!("/calendar/team/{platform}.ics");
    assert_eq!(get(&app, &team_path, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&app, "/calendar/all.ics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = format!("{team_path}?key=ti_abcdefgh_{}", "x".repeat(40));
    assert_eq!(get(&app, &wrong, None).await.status(), StatusCode::UNAUTHORIZED);

    // Eli is in Engineering Productivity, not Platform, and not security.
    let key = read_only_key(&app, "eli.eng").await;
    assert_eq!(get(&app, &team_path, Some(&key)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/calendar/all.ics", Some(&key)).await.status(),
        StatusCode::FORBIDDEN
    );
    let own = team_id(&app, "Engineering Productivity").await;
    let response = get(&app, &format!("/calendar/team/{own}.ics?key={key}"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(events(&response.text().await.expect("body")).len(), 1);

    for bad in [
        "/calendar/team/999999.ics",
        "/calendar/team/abc.ics",
        "/calendar/team/1",
        "/calendar/team/-1.ics",
    ] {
        let status = get(&app, bad, Some(&key)).await.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_keys_page_lists_the_feeds_a_person_may_read() {
    let app = TestApp::spawn().await;
    let ep = team_id(&app, "Engineering Productivity").await;
    let (status, page) = app.signed_in("eli.eng").await.get("/account/api-keys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"calendar-heading\""), "{page}");
    assert!(page.contains(&format!("/calendar/team/{ep}.ics?key=ti_…")), "{page}");
    assert!(!page.contains("/calendar/all.ics"), "{page}");
    let (_, page) = app.signed_in("sam.security").await.get("/account/api-keys").await;
    assert!(page.contains("/calendar/all.ics?key=ti_…"), "{page}");
}
