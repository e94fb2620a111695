//! The security review over real HTTP: who sees which findings, who may decide what, and what a
//! decision does to the queue.

mod common;

use chrono::Utc;
use common::{TestApp, builders::TokenBuilder, location};
use db::FindingFilter;
use domain::review::{FindingRule, FindingState, ReviewPolicy};
use reqwest::StatusCode;

/// Two tokens: Platform's `platform-deployer` (no expiry, no purpose) and Engineering
/// Productivity's `ep-triage` (sudo, no purpose; its team has no lead); the findings worked out.
async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    let soon = Utc::now().date_naive() + chrono::Days::new(100);
    app.add_tokens(&[
        TokenBuilder::project(1, "platform-deployer", "acme/platform/api").build(),
        TokenBuilder::project(2, "ep-triage", "acme/engineering-productivity/triage-ops")
            .scopes(&["api", "sudo"])
            .expires_on(soon)
            .build(),
    ])
    .await;
    app.repo.refresh_inferred_teams().await.expect("teams");
    app.repo
        .refresh_findings(&ReviewPolicy::default(), Utc::now().date_naive(), Utc::now())
        .await
        .expect("findings");
    app
}

async fn finding(app: &TestApp, name: &str, rule: FindingRule) -> i64 {
    let all = FindingFilter {
        state: FindingState::All,
        limit: 100,
        ..FindingFilter::default()
    };
    let page = app
        .repo
        .list_findings(&all, Utc::now().date_naive())
        .await
        .expect("findings");
    page.findings
        .iter()
        .find(|f| f.subject_name == name && f.finding.rule == rule)
        .map(|f| f.id)
        .unwrap_or_else(|| panic!("no {rule} finding for {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn security_sees_every_finding_and_others_their_teams_only() {
    let app = seeded().await;
    let security = app.signed_in("sam.security").await;
    let (status, page) = security.get("/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("platform-deployer") && page.contains("ep-triage"),
        "{page}"
    );
    assert!(page.contains("id=\"record-decision\""), "security may decide");
    assert!(
        page.contains("Always set an expiration date"),
        "the guideline is quoted"
    );

    let engineer = app.signed_in("paula.eng").await;
    let (status, page) = engineer.get("/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("platform-deployer"), "{page}");
    assert!(!page.contains("ep-triage"), "another team's finding");
    assert!(!page.contains("id=\"record-decision\""), "an engineer only reads");

    let (status, _) = app.browser().get("/review").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = security.get("/review?rule=nonsense").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn leads_decide_for_their_team_but_accept_no_risk_and_engineers_not_at_all() {
    let app = seeded().await;
    let no_expiry = finding(&app, "platform-deployer", FindingRule::NoExpiry)
        .await
        .to_string();
    let admin_scope = finding(&app, "ep-triage", FindingRule::AdminScope).await.to_string();
    let until = (Utc::now().date_naive() + chrono::Days::new(30)).to_string();

    let engineer = app.signed_in("paula.eng").await;
    let response = engineer
        .post_form(
            "/review/decisions",
            &[("finding", &no_expiry), ("decision", "acknowledge")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let lead = app.signed_in("pat.lead").await;
    let accept = [
        ("finding", no_expiry.as_str()),
        ("decision", "accept_risk"),
        ("reason", "a vendor limit"),
        ("until", until.as_str()),
    ];
    let response = lead.post_form("/review/decisions", &accept).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "only security accepts a risk");
    let response = lead
        .post_form(
            "/review/decisions",
            &[("finding", &admin_scope), ("decision", "acknowledge")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "another team's finding");
    let response = lead
        .post_form(
            "/review/decisions",
            &[("finding", &no_expiry), ("decision", "ask_rotate")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("decided=1"), "{}", location(&response));

    let response = app
        .browser()
        .post_form(
            "/review/decisions",
            &[("finding", &no_expiry), ("decision", "acknowledge")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_risk_needs_a_reason_and_leaves_the_open_queue() {
    let app = seeded().await;
    let security = app.signed_in("sam.security").await;
    let admin_scope = finding(&app, "ep-triage", FindingRule::AdminScope).await.to_string();
    let until = (Utc::now().date_naive() + chrono::Days::new(30)).to_string();

    let response = security
        .post_form(
            "/review/decisions",
            &[
                ("finding", &admin_scope),
                ("decision", "accept_risk"),
                ("until", &until),
                ("rule", "admin-scope"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with("/review?rule=admin-scope"), "back to the view: {back}");
    assert!(back.contains("error_reason="), "{back}");
    let (_, page) = security.get(&back).await;
    assert!(page.contains("id=\"error-reason\""), "the message under its field");

    let response = security
        .post_form(
            "/review/decisions",
            &[
                ("finding", &admin_scope),
                ("decision", "accept_risk"),
                ("reason", "the vendor fixes it in January"),
                ("until", &until),
            ],
        )
        .await;
    assert!(location(&response).contains("decided=1"), "{}", location(&response));
    let marker = format!("data-finding=\"{admin_scope}\"");
    let (_, open) = security.get("/review").await;
    assert!(!open.contains(&marker), "no longer open");
    let (_, decided) = security.get("/review?state=decided").await;
    assert!(decided.contains(&marker) && decided.contains("data-decision=\"accept_risk\""));
    assert!(decided.contains("the vendor fixes it in January"));

    // Every finding a view lists at once: both tokens lack a purpose.
    let response = security
        .post_form(
            "/review/decisions",
            &[("all", "1"), ("rule", "no-purpose"), ("decision", "ask_owner")],
        )
        .await;
    assert!(location(&response).contains("decided=2"), "{}", location(&response));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ownership_edit_settles_its_findings_at_once() {
    let app = seeded().await;
    let no_purpose = finding(&app, "platform-deployer", FindingRule::NoPurpose).await;
    let token = app
        .first_page()
        .await
        .into_iter()
        .find(|t| t.name == "platform-deployer")
        .expect("the token")
        .id;
    let lead = app.signed_in("pat.lead").await;
    let response = lead
        .post_form(
            &format!("/tokens/{token}/ownership"),
            &[
                ("owner_team", ""),
                ("purpose", "deploys the API"),
                ("automation", ""),
                ("secret_location", ""),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let (_, page) = lead.get("/review?rule=no-purpose").await;
    assert!(
        !page.contains(&format!("data-finding=\"{no_purpose}\"")),
        "resolved at once"
    );
    let (_, page) = lead.get("/review?rule=no-expiry").await;
    assert!(page.contains("platform-deployer"), "its other finding stands");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tokens_page_shows_its_findings_and_decisions_to_security_and_its_team() {
    let app = seeded().await;
    let no_expiry = finding(&app, "platform-deployer", FindingRule::NoExpiry)
        .await
        .to_string();
    let token = app
        .first_page()
        .await
        .into_iter()
        .find(|t| t.name == "platform-deployer")
        .expect("the token")
        .id;
    let lead = app.signed_in("pat.lead").await;
    let response = lead
        .post_form(
            "/review/decisions",
            &[
                ("finding", &no_expiry),
                ("decision", "ask_rotate"),
                ("reason", "before the audit"),
            ],
        )
        .await;
    assert!(location(&response).contains("decided=1"));

    let security = app.signed_in("sam.security").await;
    let (status, page) = security.get(&format!("/tokens/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"token-findings\""), "{page}");
    assert!(page.contains("data-decision=\"ask_rotate\"") && page.contains("before the audit"));

    let (_, page) = app.signed_in("paula.eng").await.get(&format!("/tokens/{token}")).await;
    assert!(page.contains("id=\"token-findings\""), "the owning team's engineer");
    let (status, page) = app.signed_in("eli.eng").await.get(&format!("/tokens/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"token-findings\""), "another team's engineer");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_over_the_json_api_keeps_the_queues_permissions() {
    let app = seeded().await;
    let security = app.signed_in("sam.security").await;
    let response = security
        .client
        .get(format!("{}/api/v1/findings?per_page=2", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let total: u64 = response.headers()["x-total"]
        .to_str()
        .expect("text")
        .parse()
        .expect("a number");
    assert_eq!(
        total, 6,
        "no expiry, no purpose ×2, admin scope, orphaned team, a name without its team"
    );
    let body: Vec<serde_json::Value> = response.json().await.expect("JSON");
    assert_eq!(body.len(), 2);
    assert_eq!(body[0]["rule"], "admin-scope");
    assert_eq!(body[0]["subject"], "token");

    let engineer = app.signed_in("paula.eng").await;
    let (status, text) = engineer.get("/api/v1/findings").await;
    assert_eq!(status, StatusCode::OK);
    let mine: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    assert!(mine.iter().all(|f| f["name"] == "platform-deployer"), "{text}");
    let (status, _) = engineer.get("/api/v1/findings?per_page=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let no_expiry = finding(&app, "platform-deployer", FindingRule::NoExpiry).await;
    let post = async |browser: &common::Browser, body: serde_json::Value| {
        let response = browser
            .client
            .post(format!("{}/api/v1/findings/decisions", app.base))
            .header("origin", &app.base)
            .json(&body)
            .send()
            .await
            .expect("POST");
        (response.status(), response.text().await.expect("body"))
    };
    let acknowledge = serde_json::json!({"findings": [no_expiry], "decision": "acknowledge"});
    let (status, _) = post(&engineer, acknowledge.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, text) = post(
        &security,
        serde_json::json!({"findings": [no_expiry], "decision": "accept_risk"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("reason"), "{text}");
    let (status, text) = post(&security, acknowledge).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, r#"{"decided":1}"#));
    let (status, text) = post(
        &security,
        serde_json::json!({"matching": "rule=no-purpose", "decision": "ask_owner"}),
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, r#"{"decided":2}"#));
    let (status, _) = post(&security, serde_json::json!({"decision": "acknowledge"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no findings named");

    let (_, document) = security.get("/api/v1/openapi.json").await;
    assert!(document.contains("/api/v1/findings/decisions"));
}

#[tokio::test(flavor = "multi_thread")]
async fn my_team_shows_its_open_findings_first() {
    let app = seeded().await;
    let lead = app.signed_in("pat.lead").await;
    let (status, page) = lead.get("/my-team").await;
    assert_eq!(status, StatusCode::OK);
    let findings = page.find("id=\"team-findings\"").expect("the team's findings");
    let counts = page.find("aria-label=\"By status\"").expect("the counts");
    assert!(findings < counts, "first on the page");
    assert!(page[findings..counts].contains("platform-deployer"));
    assert!(!page[findings..counts].contains("ep-triage"), "another team's");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reason_is_shown_as_written_and_anonymous_callers_are_refused() {
    let app = seeded().await;
    let security = app.signed_in("sam.security").await;
    let no_purpose = finding(&app, "platform-deployer", FindingRule::NoPurpose)
        .await
        .to_string();
    let reason = "</textarea><script>alert(1)</script>";
    let response = security
        .post_form(
            "/review/decisions",
            &[
                ("finding", &no_purpose),
                ("decision", "acknowledge"),
                ("reason", reason),
            ],
        )
        .await;
    assert!(location(&response).contains("decided=1"));
    let (_, page) = security.get("/review?state=decided").await;
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(
        page.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    // Refused with it: what was written comes back into the form, escaped too.
    let (_, page) = security
        .get(&format!(
            "/review?decision=accept_risk&reason={}&error_until=x",
            common::urlencode(reason)
        ))
        .await;
    assert!(!page.contains("<script>alert(1)"));

    let anonymous = app.browser();
    let (status, _) = anonymous.get("/api/v1/findings").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = anonymous
        .client
        .post(format!("{}/api/v1/findings/decisions", app.base))
        .json(&serde_json::json!({"findings": [1], "decision": "acknowledge"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// gitlab-sim's demo world, synced with the demo's own teams file, yields a finding of every rule:
/// what the demo shows security is the whole review. Its legacy bot is the catch-all account, with
/// a migration plan line per token.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_world_yields_a_finding_of_every_rule() {
    // The demo's teams file, its chat webhooks pointed where nothing listens (no digest is
    // scheduled here): one team has no channel.
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/fixtures/teams.toml");
    let text = std::fs::read_to_string(demo).expect("the demo's teams file");
    let folder = tempfile::tempdir().expect("folder");
    let teams = folder.path().join("teams.toml");
    std::fs::write(
        &teams,
        text.replace("${DEMO_CHAT_URL}", "http://127.0.0.1:9/-/sim/chat"),
    )
    .expect("teams file");
    let app = TestApp::spawn_with(|args| {
        args.auth.teams_file = Some(teams);
        args.alerts.digest_at = server::alerts::config::DigestAt(None);
    })
    .await;
    app.sync_as_administrator().await;
    let all = FindingFilter {
        state: FindingState::All,
        limit: 1_000,
        ..FindingFilter::default()
    };
    let page = app
        .repo
        .list_findings(&all, Utc::now().date_naive())
        .await
        .expect("findings");
    let found: std::collections::BTreeSet<FindingRule> = page.by_rule.iter().map(|(rule, _)| *rule).collect();
    // The request process's drift needs a world that changed after a first sync, and requests:
    // tests/fulfil.rs finds both. A lead's flag needs a recertification campaign:
    // tests/recertification.rs finds it.
    let missing: Vec<FindingRule> = FindingRule::ALL
        .into_iter()
        .filter(|rule| {
            !matches!(
                rule,
                FindingRule::MadeOutsideRequests
                    | FindingRule::DiffersFromRequest
                    | FindingRule::FlaggedAtRecertification
            )
        })
        .filter(|rule| !found.contains(rule))
        .collect();
    assert!(missing.is_empty(), "no finding of {missing:?}: {:?}", page.by_rule);

    let catch_all: Vec<_> = page
        .findings
        .iter()
        .filter(|f| f.finding.rule == FindingRule::CatchAllAccount)
        .collect();
    assert_eq!(catch_all.len(), 1, "only the legacy bot: {catch_all:?}");
    assert!(catch_all[0].subject_name.ends_with("gitlab_bot"));
    let plan: Vec<&str> = catch_all[0].finding.fix.lines().skip(1).collect();
    assert_eq!(plan.len(), 4, "{}", catch_all[0].finding.fix);
    assert!(
        plan.contains(&"• gitlab-bot-triage: a group access token on acme with api, Developer, named triage."),
        "{plan:?}"
    );
}
