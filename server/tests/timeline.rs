//! The expiry timeline over real HTTP: the chart on the Review page and My team, its links to
//! the inventory filtered to a week (which lists exactly that week's tokens), the cliff callout,
//! who sees which teams, and refusals (a bad date, a bad range, nobody signed in).

mod common;

use app::server::timeline::ExpiryTimeline;
use chrono::{Days, NaiveDate, Utc};
use common::{TestApp, builders::TokenBuilder, team_id};
use domain::timeline::week_start;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

/// Next week's Monday and Sunday.
fn next_week() -> (NaiveDate, NaiveDate) {
    let monday = week_start(Utc::now().date_naive()) + Days::new(7);
    (monday, monday + Days::new(6))
}

/// Platform: three live tokens next week (Monday, Wednesday, Sunday), one revoked, one the week
/// after; Engineering Productivity: one next week; no team: one next week; and 30 of Platform's
/// on one day five weeks on (a cliff).
async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    let (monday, sunday) = next_week();
    let platform = |id: i64, name: &str, on: NaiveDate| {
        TokenBuilder::project(id, name, &format!("acme/platform/p{id}")).expires_on(on)
    };
    let mut tokens = vec![
        platform(1, "pf-monday", monday).build(),
        platform(2, "pf-wednesday", monday + Days::new(2)).build(),
        platform(3, "pf-sunday", sunday).build(),
        platform(4, "pf-revoked", monday).revoked().build(),
        platform(5, "pf-week-after", sunday + Days::new(1)).build(),
        TokenBuilder::project(6, "ep-next-week", "acme/engineering-productivity/x")
            .expires_on(monday + Days::new(3))
            .build(),
        TokenBuilder::project(7, "nobodys-next-week", "elsewhere/x")
            .expires_on(monday + Days::new(4))
            .build(),
    ];
    let cliff = monday + Days::new(28);
    tokens.extend((0..30).map(|n| platform(100 + n, &format!("pf-migrated-{n}"), cliff).build()));
    app.add_tokens(&tokens).await;
    app.repo.refresh_inferred_teams().await.expect("teams");
    app
}

/// The page with its attribute values read back (`&amp;` is `&`).
async fn page(browser: &common::Browser, path: &str) -> (StatusCode, String) {
    let (status, body) = browser.get(path).await;
    (status, body.replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_page_charts_expiries_per_week_linked_to_the_inventory() {
    let app = seeded().await;
    let platform = team_id(&app, "Platform").await;
    let (monday, sunday) = next_week();
    let security = app.signed_in("sam.security").await;
    let (status, review) = page(&security, "/review").await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(review.contains("id=\"expiry-timeline\""), "{review}");
    assert!(review.contains("Tokens expiring in the next 26 weeks"));
    // Security sees every team, and tokens with none.
    for band in ["Platform", "Engineering Productivity", "No team"] {
        assert!(review.contains(&format!("data-band=\"{band}\"")), "{band}");
    }
    // The cliff: 30 of the 36 live tokens in one week.
    assert!(review.contains("id=\"timeline-cliff\""), "{review}");
    assert!(
        review.contains("Cliff: 30 tokens (83% of these weeks' expiries)"),
        "{review}"
    );
    assert!(review.contains("at least 25% of the expiries shown and at least 20 tokens"));

    let link = format!("/?expires_from={monday}&expires_to={sunday}&team={platform}&status=active");
    assert!(review.contains(&format!("href=\"{link}\"")), "{link} in {review}");
    let (status, inventory) = page(&security, &link).await;
    assert_eq!(status, StatusCode::OK);
    for name in ["pf-monday", "pf-wednesday", "pf-sunday"] {
        assert!(inventory.contains(name), "{name} listed");
    }
    for name in [
        "pf-revoked",
        "pf-week-after",
        "ep-next-week",
        "nobodys-next-week",
        "pf-migrated-0",
    ] {
        assert!(!inventory.contains(name), "{name} not listed");
    }
    // The date fields show the range, so filtering further keeps it.
    assert!(inventory.contains("name=\"expires_from\""), "{inventory}");
    assert!(inventory.contains(&format!("value=\"{monday}\"")), "{inventory}");

    // The JSON API shares the filter.
    let (status, json) = page(
        &security,
        &format!("/api/v1/tokens?expires_from={monday}&expires_to={sunday}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(json.contains("pf-sunday") && json.contains("pf-revoked") && !json.contains("pf-week-after"));

    // The range is in the URL.
    let (status, eight) = page(&security, "/review?weeks=8").await;
    assert_eq!(status, StatusCode::OK);
    assert!(eight.contains("Tokens expiring in the next 8 weeks"));
    assert!(eight.contains("href=\"/review?weeks=52\""), "the range picker");
}

#[tokio::test(flavor = "multi_thread")]
async fn others_see_their_teams_and_my_team_one_team() {
    let app = seeded().await;
    let platform = team_id(&app, "Platform").await;
    let productivity = team_id(&app, "Engineering Productivity").await;
    let (monday, sunday) = next_week();
    let engineer = app.signed_in("paula.eng").await;
    let (status, review) = page(&engineer, "/review").await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(review.contains("data-band=\"Platform\""), "{review}");
    assert!(!review.contains("data-band=\"Engineering Productivity\""));
    assert!(!review.contains("data-band=\"No team\""));

    let lead = app.signed_in("pat.lead").await;
    let (status, mine) = page(&lead, "/my-team").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(mine.contains("id=\"expiry-timeline\""), "{mine}");
    let link = format!("/?expires_from={monday}&expires_to={sunday}&team={platform}&status=active");
    assert!(mine.contains(&format!("href=\"{link}\"")), "{mine}");
    assert!(mine.contains(&format!("href=\"/my-team?team={platform}&weeks=13\"")));
    // Another team's page: its overview, but not its timeline.
    let (status, other) = page(&lead, &format!("/my-team?team={productivity}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!other.contains("id=\"expiry-timeline\""));
    assert!(other.contains("id=\"timeline-not-shown\""), "{other}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_dates_and_ranges_are_refused_with_a_message() {
    let app = TestApp::spawn().await;
    let security = app.signed_in("sam.security").await;
    let (status, body) = page(&security, "/?expires_from=2026-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("expires_from: \"2026-13-01\" is not a date written YYYY-MM-DD"),
        "{body}"
    );
    let (status, body) = page(&security, "/?expires_from=2027-01-10&expires_to=2027-01-03").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("expires_to: 2027-01-03 is before expires_from (2027-01-10)"),
        "{body}"
    );
    let (status, body) = page(&security, "/api/v1/tokens?expires_to=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("YYYY-MM-DD"), "{body}");
    let (status, body) = page(&security, "/review?weeks=99").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("weeks: \"99\" is not a number of weeks from 4 to 52"),
        "{body}"
    );

    // Nobody signed in: the server function refuses before it reads anything.
    let monday = week_start(Utc::now().date_naive()).to_string();
    let asked = [
        ("range[first]", monday.as_str()),
        ("range[weeks]", "26"),
        ("stack", "team"),
    ];
    let response = app.browser().post_form(ExpiryTimeline::PATH, &asked).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A range in the past, or one a script sends that does not start on a Monday.
    let (status, body) = page(&security, "/review?from=2020-01-06").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is in the past"), "{body}");
    let (status, body) = page(&security, "/review?stack=colour").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("stack:"), "{body}");
    let tuesday = (week_start(Utc::now().date_naive()) + Days::new(8)).to_string();
    let asked = [
        ("range[first]", tuesday.as_str()),
        ("range[weeks]", "26"),
        ("stack", "team"),
    ];
    let response = security.post_form(ExpiryTimeline::PATH, &asked).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.expect("body").contains("is not a Monday"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeline_stacks_by_severity_and_shows_later_weeks() {
    let app = seeded().await;
    let today = Utc::now().date_naive();
    app.repo
        .refresh_findings(&domain::review::ReviewPolicy::default(), today, Utc::now())
        .await
        .expect("findings");
    let (monday, sunday) = next_week();
    let security = app.signed_in("sam.security").await;
    let (status, review) = page(&security, "/review?stack=severity").await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(review.contains("aria-label=\"Most severe open finding\""), "{review}");
    assert!(
        ["Critical", "High", "Medium", "Low"]
            .iter()
            .any(|band| review.contains(&format!("data-band=\"{band}\""))),
        "a severity band: {review}"
    );
    assert!(!review.contains("data-band=\"Platform\""), "not stacked by team");
    // A severity's segment lists that week's tokens of every team.
    let link = format!("/?expires_from={monday}&expires_to={sunday}&status=active");
    assert!(review.contains(&format!("href=\"{link}\"")), "{link} in {review}");
    // The pickers keep the stacking.
    assert!(review.contains("href=\"/review?weeks=52&stack=severity\""), "{review}");

    // Four weeks from the cliff's week: only the cliff, and a way back.
    let later = week_start(today) + Days::new(35);
    let (status, body) = page(&security, &format!("/review?from={later}&weeks=4")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Tokens expiring in 4 weeks from"), "{body}");
    assert!(
        body.contains("Cliff: 30 tokens (100% of these weeks' expiries)"),
        "{body}"
    );
    assert!(body.contains("href=\"/review?weeks=4\""), "back to this week: {body}");
    let next = later + Days::new(28);
    assert!(
        body.contains(&format!("href=\"/review?from={next}&weeks=4\"")),
        "later weeks: {body}"
    );
    // The form to start at any week keeps the queue's filters.
    let (_, filtered) = page(&security, &format!("/review?rule=expiring&from={later}")).await;
    assert!(filtered.contains("id=\"timeline-from\""));
    assert!(
        filtered.contains("type=\"hidden\" name=\"rule\" value=\"expiring\""),
        "{filtered}"
    );
}
