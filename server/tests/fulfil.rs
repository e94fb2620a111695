//! Making approved service accounts through GitLab's API, against gitlab-sim with faults: a 5xx
//! after the account was made, a timeout, a double click, a name GitLab has already. Whatever
//! fails, GitLab ends with exactly one account, its memberships and one live token, checked
//! through `/-/sim/world`; the token's secret reaches its requester once and is stored nowhere.

mod common;

use std::time::Duration;

use common::{Browser, TestApp, location, request_form, step_version, team_id};
use db::FindingFilter;
use domain::review::{FindingRule, FindingState};
use gitlab_sim::faults::{AfterWrite, AfterWriteAnswer, Faults};
use reqwest::StatusCode;
use serde_json::Value;

/// Each call to GitLab may take this long before its answer counts as lost.
const TIMEOUT: Duration = Duration::from_millis(1500);

async fn app() -> TestApp {
    let app = TestApp::spawn_with_writes(TIMEOUT).await;
    app.sync_as_administrator().await;
    app
}

/// `form` filed by paula, endorsed by pat and approved by sam: the request's page path.
async fn approved(app: &TestApp, form: &[(&str, &str)]) -> String {
    let paula = app.signed_in("paula.eng").await;
    let pat = app.signed_in("pat.lead").await;
    let sam = app.signed_in("sam.security").await;
    let response = paula.post_form("/requests/file", form).await;
    let path = location(&response).split('?').next().expect("a path").to_owned();
    assert!(path.starts_with("/requests/"), "{path}");
    for (who, action) in [(&pat, "endorse"), (&sam, "approve")] {
        let (_, seen) = who.get(&path).await;
        let response = who
            .post_form(
                &format!("{path}/steps"),
                &[("action", action), ("version", &step_version(&seen))],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{action}: {}",
            location(&response)
        );
    }
    path
}

async fn fulfil(sam: &Browser, path: &str) -> reqwest::Response {
    let (_, seen) = sam.get(path).await;
    sam.post_form(&format!("{path}/fulfil"), &[("version", &step_version(&seen))])
        .await
}

/// gitlab-sim's ground truth, as its administrator reads it.
async fn world(app: &TestApp) -> Value {
    reqwest::Client::new()
        .get(format!("{}/-/sim/world", app.sim.url))
        .header("PRIVATE-TOKEN", &app.sim.credentials.admin_token)
        .send()
        .await
        .expect("world")
        .json()
        .await
        .expect("JSON")
}

/// The users named `username`: their ids.
fn users_named(world: &Value, username: &str) -> Vec<i64> {
    world["users"]
        .as_object()
        .expect("users")
        .values()
        .filter(|user| user["username"] == username)
        .map(|user| user["id"].as_i64().expect("id"))
        .collect()
}

/// A user's direct memberships: (the source as the world writes it, access level), sorted.
fn memberships(world: &Value, user: i64) -> Vec<(String, i64)> {
    let mut found: Vec<(String, i64)> = world["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|member| member["user_id"] == user)
        .map(|member| {
            (
                member["source"].to_string(),
                member["access_level"].as_i64().expect("level"),
            )
        })
        .collect();
    found.sort();
    found
}

/// A user's tokens: (name, active, scopes, expires_at).
fn tokens_of(world: &Value, user: i64) -> Vec<(String, bool, Value, Value)> {
    world["personal_access_tokens"]
        .as_object()
        .expect("tokens")
        .values()
        .filter(|token| token["user_id"] == user)
        .map(|token| {
            (
                token["name"].as_str().unwrap_or_default().to_owned(),
                token["active"].as_bool().unwrap_or(false),
                token["scopes"].clone(),
                token["expires_at"].clone(),
            )
        })
        .collect()
}

fn lose_answers(app: &TestApp, path: &str, answer: AfterWriteAnswer) {
    app.sim.state.faults.set(Faults {
        after_write: Some(AfterWrite {
            path: path.to_owned(),
            answer,
            times: 1,
        }),
        ..Faults::default()
    });
}

/// What the database files hold, to look for a secret in.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.dir.path()).expect("folder").flatten() {
        if entry.file_name().to_string_lossy().starts_with("app.db") {
            bytes.extend(std::fs::read(entry.path()).expect("file"));
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_after_the_account_was_made_and_a_lost_token_answer_still_end_with_one_of_each() {
    let app = app().await;
    let platform = team_id(&app, "Platform").await;
    let path = approved(&app, &request_form(&platform, "1")).await;
    let sam = app.signed_in("sam.security").await;

    // GitLab makes the account, then answers 500: the fulfilment finds it and goes on.
    lose_answers(&app, "/service_accounts", AfterWriteAnswer::Error);
    let response = fulfil(&sam, &path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    assert!(location(&response).contains("done=Made+in+GitLab"));
    let seen = world(&app).await;
    let accounts = users_named(&seen, "platform-release-bot");
    assert_eq!(accounts.len(), 1, "exactly one account");
    let account = accounts[0];
    let levels: Vec<i64> = memberships(&seen, account)
        .into_iter()
        .map(|(_, level)| level)
        .collect();
    assert_eq!(
        levels.iter().filter(|level| **level == 40).count(),
        1,
        "Maintainer of acme/platform"
    );
    assert_eq!(
        levels.iter().filter(|level| **level == 30).count(),
        1,
        "Developer of the changelog project"
    );
    assert_eq!(levels.len(), 2);
    // Made once: a second click (on the page as it was) is refused, and makes nothing.
    let response = sam.post_form(&format!("{path}/fulfil"), &[("version", "3")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(users_named(&world(&app).await, "platform-release-bot").len(), 1);

    // Only its requester makes the first token; someone outside the team does not see it.
    let pat = app.signed_in("pat.lead").await;
    assert_eq!(
        pat.post_form(&format!("{path}/token"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let eli = app.signed_in("eli.eng").await;
    assert_eq!(
        eli.post_form(&format!("{path}/token"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let paula = app.signed_in("paula.eng").await;
    let (_, page) = paula.get(&path).await;
    assert!(page.contains("id=\"make-token\""), "{page}");
    let (_, page) = pat.get(&path).await;
    assert!(
        !page.contains("id=\"make-token\"") && page.contains("id=\"first-token\""),
        "{page}"
    );

    // GitLab makes the token but its answer comes too late: it is rotated, so one stands, and
    // the requester gets a secret that works.
    lose_answers(&app, "/personal_access_tokens", AfterWriteAnswer::Hang { ms: 4000 });
    let response = paula.post_form(&format!("{path}/token"), &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(common::header(&response, "cache-control"), "no-store");
    let page = response.text().await.expect("page");
    let at = page.find("id=\"token-secret\"").expect("the secret shown");
    let secret: String = page[at..]
        .split_once('>')
        .map(|(_, rest)| rest.chars().take_while(|c| *c != '<').collect())
        .expect("secret");
    assert!(secret.starts_with("glpat-"), "{secret}");
    assert!(page.contains("vault: platform/release-bot"), "where to keep it");
    let expected_expiry = (chrono::Utc::now().date_naive() + chrono::Days::new(90)).to_string();
    let live: Vec<_> = tokens_of(&world(&app).await, account)
        .into_iter()
        .filter(|(_, active, _, _)| *active)
        .collect();
    assert_eq!(live.len(), 1, "one live token: {live:?}");
    assert_eq!(live[0].0, "platform-release-bot");
    assert_eq!(live[0].2, serde_json::json!(["api"]));
    assert_eq!(live[0].3, serde_json::json!(expected_expiry));
    // The secret works in GitLab, and is nowhere in the database.
    let me = reqwest::Client::new()
        .get(format!("{}/api/v4/user", app.sim.url))
        .header("PRIVATE-TOKEN", &secret)
        .send()
        .await
        .expect("asked");
    assert_eq!(me.status(), StatusCode::OK);
    let stored = database_bytes(&app);
    assert!(
        !stored.windows(secret.len()).any(|window| window == secret.as_bytes()),
        "the secret is not stored"
    );
    // Shown once: a second try is refused and makes no token.
    let response = paula.post_form(&format!("{path}/token"), &[]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let live = tokens_of(&world(&app).await, account)
        .into_iter()
        .filter(|(_, active, _, _)| *active)
        .count();
    assert_eq!(live, 1);
    assert_eq!(
        tokens_of(&world(&app).await, account).len(),
        2,
        "the token whose answer was lost was rotated (revoked), not left standing"
    );

    // The next sync shows the account owned by the request's team.
    app.sync_as_administrator().await;
    let owned = app
        .repo
        .list_service_accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|found| found.username == "platform-release-bot")
        .expect("synced");
    assert!(drift(&app, "platform-release-bot").await.is_empty(), "made as approved");
    let owner = owned.owner.expect("owned");
    assert_eq!(owner.team.name, "Platform");
    assert!(
        matches!(owner.source, domain::OwnerSource::Set { ref by, .. } if by == "sam.security"),
        "set by the fulfilment, not inferred: {:?}",
        owner.source
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_a_double_click_and_a_name_gitlab_has_each_end_well() {
    let app = app().await;
    let platform = team_id(&app, "Platform").await;
    let sam = app.signed_in("sam.security").await;

    // The account is made but its answer comes after the timeout; two clicks at once.
    let path = approved(&app, &request_form(&platform, "1")).await;
    lose_answers(&app, "/service_accounts", AfterWriteAnswer::Hang { ms: 2500 });
    let (first, second) = tokio::join!(fulfil(&sam, &path), fulfil(&sam, &path));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
        "one runs, one is told"
    );
    let seen = world(&app).await;
    let accounts = users_named(&seen, "platform-release-bot");
    assert_eq!(accounts.len(), 1, "exactly one account");
    assert_eq!(memberships(&seen, accounts[0]).len(), 2);

    // A name GitLab already has (made outside this request): refused, told, nothing adopted.
    let mut form = request_form(&platform, "1");
    form[0] = ("account_name", "platform-docs-bot");
    let path = approved(&app, &form).await;
    let group = seen["groups"]
        .as_object()
        .expect("groups")
        .values()
        .find(|group| group["full_path"] == "acme")
        .and_then(|group| group["id"].as_i64())
        .expect("acme");
    let made = reqwest::Client::new()
        .post(format!("{}/api/v4/groups/{group}/service_accounts", app.sim.url))
        .header("PRIVATE-TOKEN", &app.sim.credentials.group_owner_write_token)
        .json(&serde_json::json!({"name": "someone else's", "username": "platform-docs-bot"}))
        .send()
        .await
        .expect("made outside");
    assert_eq!(made.status(), StatusCode::CREATED);
    let response = fulfil(&sam, &path).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let said = response.text().await.expect("page");
    assert!(said.contains("Username has already been taken"), "{said}");
    let (_, page) = sam.get(&path).await;
    assert!(page.contains("id=\"fulfil-error\""), "the page says why: {page}");
    let id: i64 = path.trim_start_matches("/requests/").parse().expect("id");
    let stored = app.repo.request(id).await.expect("read").expect("exists");
    assert_eq!(
        stored.state,
        domain::requests::RequestState::Approved,
        "still to be made"
    );
    assert_eq!(stored.account_gitlab_id, None, "not adopted");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_api_makes_the_account_and_answers_the_secret_once_to_its_requester() {
    let app = app().await;
    let platform = team_id(&app, "Platform").await;
    let path = approved(&app, &request_form(&platform, "1")).await;
    let id = path.trim_start_matches("/requests/");
    let post = async |browser: &Browser, path: &str, body: Value| {
        let response = browser
            .client
            .post(format!("{}{path}", app.base))
            .header("origin", &app.base)
            .json(&body)
            .send()
            .await
            .expect("POST");
        (response.status(), response.json::<Value>().await.unwrap_or_default())
    };
    let fulfilment = format!("/api/v1/requests/{id}/fulfilment");
    let first_token = format!("/api/v1/requests/{id}/first-token");
    let anonymous = app.browser();
    assert_eq!(
        post(&anonymous, &fulfilment, serde_json::json!({"version": 3})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(&anonymous, &first_token, serde_json::json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    let paula = app.signed_in("paula.eng").await;
    let (status, body) = post(&paula, &fulfilment, serde_json::json!({"version": 3})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only security makes it: {body}");
    let (status, body) = post(&paula, &first_token, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "no account yet: {body}");
    let sam = app.signed_in("sam.security").await;
    let (status, body) = post(&sam, &fulfilment, serde_json::json!({"version": "three"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = post(&sam, &fulfilment, serde_json::json!({"version": 3})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let account = body["account_gitlab_id"].as_i64().expect("the account");
    assert_eq!(users_named(&world(&app).await, "platform-release-bot"), [account]);
    let (status, body) = post(&sam, &first_token, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "security never sees the secret: {body}");
    let (status, body) = post(&paula, &first_token, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|secret| secret.starts_with("glpat-")),
        "{body}"
    );
    assert_eq!(body["scopes"], serde_json::json!(["api"]));
    let (status, _) = post(&paula, &first_token, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "once");
    // The request as the API shows it says the token was made, and never holds its secret.
    let shown = paula
        .client
        .get(format!("{}/api/v1/requests/{id}", app.base))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    let request: Value = serde_json::from_str(&shown).expect("JSON");
    assert!(request["fulfilment"]["token_created_at"].is_string(), "{shown}");
    assert!(!shown.contains(body["token"].as_str().unwrap_or("glpat-")), "{shown}");
}

/// The request-process findings about a service account: (rule, detail).
async fn drift(app: &TestApp, username: &str) -> Vec<(FindingRule, String)> {
    let all = FindingFilter {
        state: FindingState::Open,
        limit: 1_000,
        ..FindingFilter::default()
    };
    app.repo
        .list_findings(&all, chrono::Utc::now().date_naive())
        .await
        .expect("findings")
        .findings
        .into_iter()
        .filter(|found| found.subject_name == username)
        .filter(|found| {
            matches!(
                found.finding.rule,
                FindingRule::MadeOutsideRequests | FindingRule::DiffersFromRequest
            )
        })
        .map(|found| (found.finding.rule, found.finding.detail))
        .collect()
}

/// `POST /api/v4/…` as the group owner (GitLab, changed outside this product).
async fn as_group_owner(app: &TestApp, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v4{path}", app.sim.url))
        .header("PRIVATE-TOKEN", &app.sim.credentials.group_owner_write_token)
        .json(&body)
        .send()
        .await
        .expect("asked");
    assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    response.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_no_request_explains_and_one_beyond_its_approval_are_found_by_the_next_sync() {
    let app = app().await;
    let platform = team_id(&app, "Platform").await;
    let path = approved(&app, &request_form(&platform, "1")).await;
    let sam = app.signed_in("sam.security").await;
    assert_eq!(fulfil(&sam, &path).await.status(), StatusCode::SEE_OTHER);
    let seen = world(&app).await;
    let account = users_named(&seen, "platform-release-bot")[0];
    let acme = seen["groups"]
        .as_object()
        .expect("groups")
        .values()
        .find(|group| group["full_path"] == "acme")
        .and_then(|group| group["id"].as_i64())
        .expect("acme");
    // Outside this product: an account nobody asked for, and a token beyond the approval.
    as_group_owner(
        &app,
        &format!("/groups/{acme}/service_accounts"),
        serde_json::json!({"name": "Stray", "username": "stray-helper"}),
    )
    .await;
    as_group_owner(
        &app,
        &format!("/groups/{acme}/service_accounts/{account}/personal_access_tokens"),
        serde_json::json!({"name": "extra", "scopes": ["api", "write_repository"], "expires_at": "2027-01-15"}),
    )
    .await;
    app.sync_as_administrator().await;
    let stray = drift(&app, "stray-helper").await;
    assert_eq!(stray.len(), 1, "{stray:?}");
    assert_eq!(stray[0].0, FindingRule::MadeOutsideRequests);
    let drifted = drift(&app, "platform-release-bot").await;
    assert_eq!(drifted.len(), 1, "{drifted:?}");
    assert_eq!(drifted[0].0, FindingRule::DiffersFromRequest);
    assert!(
        drifted[0]
            .1
            .contains("token extra has write_repository beyond the approved scopes"),
        "{}",
        drifted[0].1
    );
    // The Service accounts page marks it.
    let (_, page) = app.signed_in("sam.security").await.get("/service-accounts").await;
    let card = |username: &str| {
        let at = page.find(&format!("data-account=\"{username}\"")).expect("a card");
        let end = page[at..].find("</section>").map_or(page.len(), |end| at + end);
        page[at..end].to_owned()
    };
    assert!(
        card("stray-helper").contains("data-made-outside"),
        "{}",
        card("stray-helper")
    );
    assert!(!card("platform-release-bot").contains("data-made-outside"));
    // Accounts there at the first sync are not drift: the process starts with it.
    let before: Vec<_> = app
        .repo
        .list_service_accounts()
        .await
        .expect("accounts")
        .into_iter()
        .filter(|found| found.username != "stray-helper" && found.username != "platform-release-bot")
        .collect();
    assert!(!before.is_empty());
    for account in before {
        assert!(drift(&app, &account.username).await.is_empty(), "{}", account.username);
    }
}
