//! The wizard's pages without JavaScript: each step a GET form whose answers travel in the URL,
//! messages and 4xx for missing or unreadable answers, and the recommendation at the end.

mod common;

use common::TestApp;
use reqwest::StatusCode;

/// The `data-step` of the step a page shows, or `None` on the summary.
fn step_of(page: &str) -> Option<&str> {
    let start = page.find("data-step=\"")? + "data-step=\"".len();
    page[start..].split('"').next()
}

fn kind_of(page: &str) -> Option<&str> {
    let start =
        page.find("data-testid=\"recommendation\" data-kind=\"")? + "data-testid=\"recommendation\" data-kind=\"".len();
    page[start..].split('"').next()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_engineer_walks_the_steps_to_a_project_deploy_token() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;

    let (status, page) = browser.get("/wizard").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(step_of(&page), Some("touches"));
    assert!(page.contains("Step 1 of 6"), "no API use: five steps and the summary");

    // Each answer is submitted with the earlier ones (hidden fields) and the step it answers.
    let walk = [
        ("/wizard?repository=reads&from=touches", "reach", "Step 2 of 6"),
        (
            "/wizard?repository=reads&reach=one_project&from=reach",
            "maintainer_actions",
            "Step 3 of 6",
        ),
        (
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&from=maintainer_actions",
            "temporary",
            "Step 4 of 6",
        ),
        (
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&from=temporary",
            "details",
            "Step 5 of 6",
        ),
    ];
    for (url, step, progress) in walk {
        let (status, page) = browser.get(url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_eq!(step_of(&page), Some(step), "{url}");
        assert!(page.contains(progress), "{url}: {progress}");
        assert!(page.contains("data-testid=\"wizard-back\""), "{url}: a way back");
    }
    let (status, page) = browser
        .get("/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=docs+mirror&owner_team=Platform&path=acme%2Fplatform%2Fdocs&from=details")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(step_of(&page), None, "the summary");
    assert_eq!(kind_of(&page), Some("project_deploy_token"));
    assert!(page.contains("Create a project deploy token"));
    assert!(page.contains(">read_repository<"), "the minimal scope");
    assert!(
        page.contains("platform-docs-mirror"),
        "the name from the team and the purpose"
    );
    assert!(
        page.contains("acme/platform/docs/-/settings/repository"),
        "the GitLab page to create it on"
    );
    assert!(page.contains("Never reuse an existing token"), "a guideline quoted");

    // A link back to a step shows it with the answer chosen.
    let (_, page) = browser
        .get("/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=docs&step=reach")
        .await;
    assert_eq!(step_of(&page), Some("reach"));
    assert!(page.contains("value=\"one_project\" checked"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_submitted_without_its_answer_says_what_is_missing() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/wizard?from=touches").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(step_of(&page), Some("touches"));
    assert!(page.contains("choose at least one part of GitLab it touches"));

    // A service account needs its owner team.
    let (status, page) = browser
        .get("/wizard?api=writes&reach=instance&maintainer_actions=yes&confidential_issues=no&temporary=no&purpose=triage&owner_team=&from=details")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(step_of(&page), Some("details"));
    assert!(page.contains("data-error-for=\"owner_team\""), "{page}");

    // A step submitted blank while an earlier one is unanswered too (a hand-made or stale link)
    // stays where it was, with its own message, instead of moving on.
    let (status, page) = browser.get("/wizard?from=maintainer_actions").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(step_of(&page), Some("maintainer_actions"));
    assert!(page.contains("say whether it needs Maintainer-level actions"), "{page}");

    // An unreadable answer to a question these answers skip (no API use: no confidential
    // issues question) is ignored.
    let (status, page) = browser
        .get("/wizard?repository=reads&reach=one_project&maintainer_actions=no&confidential_issues=maybe&temporary=no&purpose=docs&from=details")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind_of(&page), Some("project_deploy_token"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_answers_and_secrets_are_refused_with_a_message() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser.get("/wizard?repository=reads&reach=everywhere").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(step_of(&page), Some("reach"));
    assert!(page.contains("not one of the choices"));

    let secret = "glpat-abcdefghij0123456789";
    let (status, page) = browser
        .get(&format!(
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose={secret}&from=details"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("never paste secrets here"));
    assert!(!page.contains(secret), "the secret is not shown again");

    // Nor in a path, nor when another field is the one refused, nor on the summary's form.
    for url in [
        format!(
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=docs&path=acme/{secret}&from=details"
        ),
        format!(
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=%21%21&owner_team={secret}&from=details"
        ),
        format!(
            "/wizard?repository=reads&reach=one_project&maintainer_actions=no&temporary=no&purpose=docs&owner_team={secret}"
        ),
    ] {
        let (status, page) = browser.get(&url).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(!page.contains(secret), "{url}: the secret is not shown again");
    }

    // Signed out, the sign-in page's way back leaves it out as well.
    let stranger = app.browser();
    let (status, page) = stranger
        .get(&format!("/wizard?repository=reads&purpose={secret}"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains(secret), "{page}");
    assert!(
        page.contains("repository%3Dreads"),
        "the rest of the way back is kept: {page}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recommendation_follows_the_configured_policy() {
    let app = TestApp::spawn_with(|args| {
        args.wizard.naming = "bot-{purpose}".parse().expect("template");
        args.wizard.lifetime_days = 60;
    })
    .await;
    let browser = app.signed_in("eli.eng").await;
    let (status, page) = browser
        .get("/wizard?api=reads&reach=one_group&maintainer_actions=no&confidential_issues=no&temporary=no&purpose=Weekly+Report")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind_of(&page), Some("group_access_token"));
    assert!(page.contains(">bot-weekly-report<"), "the configured naming convention");
    assert!(page.contains("60 days"), "the configured lifetime");
    assert!(page.contains(">read_api<"));
}
