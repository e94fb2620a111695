//! gitlab-sim over real HTTP, as a GitLab client sees it.

use chrono::NaiveDate;
use gitlab_sim::{Scenario, SimConfig, SimHandle, faults::Faults, model::*};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

async fn sim(scenario: Scenario) -> SimHandle {
    gitlab_sim::spawn(SimConfig {
        scenario,
        seed: 1,
        today: Some(today()),
        redirect_uris: vec!["http://app.test/auth/callback".to_owned()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

struct Call {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(sim: &SimHandle, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Call {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}{path}", sim.url));
    if let Some(token) = token {
        request = request.header("PRIVATE-TOKEN", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Call {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn get(sim: &SimHandle, path: &str, token: &str) -> Call {
    call(sim, reqwest::Method::GET, path, Some(token), None).await
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Follows `Link rel="next"` to the end, as GitLab clients do.
async fn all_pages(sim: &SimHandle, path: &str, token: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut url = format!("{}{path}", sim.url);
    let mut items = Vec::new();
    loop {
        let response = client
            .get(&url)
            .header("PRIVATE-TOKEN", token)
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let next = header(response.headers(), "link")
            .split(", ")
            .find(|part| part.ends_with("rel=\"next\""))
            .and_then(|part| part.strip_prefix('<'))
            .and_then(|part| part.split_once('>'))
            .map(|(url, _)| url.to_owned());
        let page: Vec<Value> = response.json().await.expect("JSON page");
        items.extend(page);
        match next {
            Some(next) => url = next,
            None => return items,
        }
    }
}

fn user_token(sim: &SimHandle, username: &str, scopes: &[&str]) -> String {
    let mut world = sim.state.world_mut();
    let user = world
        .users
        .values()
        .find(|u| u.username == username)
        .map(|u| u.id)
        .expect("user exists");
    let id = world.new_personal_access_token_id();
    let secret = format!("glpat-test-{username}-{id}");
    world.insert_personal_access_token(PersonalAccessToken {
        id,
        user_id: user,
        name: "test".to_owned(),
        description: None,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        created_at: chrono::Utc::now(),
        expires_at: Some(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap_or_default()),
        last_used_at: None,
        revoked: false,
        secret: secret.clone(),
    });
    secret
}

#[tokio::test]
async fn requests_need_a_live_token_sent_like_gitlab_expects() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let anonymous = call(&sim, reqwest::Method::GET, "/api/v4/groups", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body, json!({"message": "401 Unauthorized"}));
    assert_eq!(
        get(&sim, "/api/v4/groups", "glpat-not-a-token").await.status,
        StatusCode::UNAUTHORIZED
    );

    let bearer = reqwest::Client::new()
        .get(format!("{}/api/v4/user", sim.url))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(bearer.status(), StatusCode::OK);
    let me: Value = bearer.json().await.expect("JSON");
    assert_eq!(me["username"], "root");
    assert_eq!(me["is_admin"], true);

    // A revoked token stops working.
    let token = user_token(&sim, "erin.lead", &["api"]);
    assert_eq!(get(&sim, "/api/v4/user", &token).await.status, StatusCode::OK);
    let own = get(&sim, "/api/v4/personal_access_tokens/self", &token).await;
    let revoked = call(
        &sim,
        reqwest::Method::DELETE,
        &format!("/api/v4/personal_access_tokens/{}", own.body["id"]),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, "/api/v4/user", &token).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn read_api_reads_but_cannot_write() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_token.clone();
    assert_eq!(get(&sim, "/api/v4/groups/acme", &owner).await.status, StatusCode::OK);
    let write = call(
        &sim,
        reqwest::Method::POST,
        "/api/v4/groups/acme/access_tokens",
        Some(&owner),
        Some(json!({"name": "x", "scopes": ["api"], "expires_at": "2027-01-01"})),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.body["error"], "insufficient_scope");

    let read_user = user_token(&sim, "erin.lead", &["read_user"]);
    assert_eq!(
        get(&sim, "/api/v4/user", &read_user).await.body["username"],
        "erin.lead"
    );
    assert_eq!(
        get(&sim, "/api/v4/groups", &read_user).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn offset_pagination_sends_gitlabs_headers_and_links() {
    let sim = sim(Scenario::Small).await;
    let admin = sim.credentials.admin_token.clone();
    let first = get(&sim, "/api/v4/groups?per_page=7&order_by=id", &admin).await;
    let total: usize = header(&first.headers, "x-total").parse().expect("x-total");
    assert_eq!(total, sim.state.world.read().expect("world").groups.len());
    assert_eq!(header(&first.headers, "x-page"), "1");
    assert_eq!(header(&first.headers, "x-per-page"), "7");
    assert_eq!(header(&first.headers, "x-next-page"), "2");
    assert_eq!(header(&first.headers, "x-prev-page"), "");
    assert_eq!(header(&first.headers, "x-total-pages"), total.div_ceil(7).to_string());
    let link = header(&first.headers, "link");
    assert!(
        link.contains(&format!(
            "<{}/api/v4/groups?order_by=id&page=2&per_page=7>; rel=\"next\"",
            sim.url
        )),
        "{link}"
    );
    assert!(link.contains("rel=\"first\"") && link.contains("rel=\"last\""));
    assert_eq!(first.body.as_array().map(Vec::len), Some(7));

    let every = all_pages(&sim, "/api/v4/groups?per_page=7&order_by=id", &admin).await;
    assert_eq!(every.len(), total);
    let ids: Vec<u64> = every.iter().filter_map(|g| g["id"].as_u64()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "order_by=id is ascending and pages do not overlap"
    );

    let capped = get(&sim, "/api/v4/projects?per_page=500", &admin).await;
    assert_eq!(header(&capped.headers, "x-per-page"), "100");
    assert_eq!(capped.body.as_array().map(Vec::len), Some(100));

    let last_page: usize = header(&first.headers, "x-total-pages").parse().expect("pages");
    let last = get(
        &sim,
        &format!("/api/v4/groups?per_page=7&order_by=id&page={last_page}"),
        &admin,
    )
    .await;
    assert_eq!(header(&last.headers, "x-next-page"), "");
    assert!(!header(&last.headers, "link").contains("rel=\"next\""));
}

#[tokio::test]
async fn past_ten_thousand_records_totals_are_left_out() {
    let sim = sim(Scenario::Small).await;
    let admin = sim.credentials.admin_token.clone();
    {
        let mut world = sim.state.world_mut();
        for n in 0..10_001 {
            let id = world.new_personal_access_token_id();
            world.insert_personal_access_token(PersonalAccessToken {
                id,
                user_id: 1,
                name: format!("bulk-{n}"),
                description: None,
                scopes: vec!["read_api".to_owned()],
                created_at: chrono::Utc::now(),
                expires_at: None,
                last_used_at: None,
                revoked: false,
                secret: format!("glpat-bulk-{n}"),
            });
        }
    }
    let page = get(&sim, "/api/v4/personal_access_tokens?per_page=100", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers.get("x-total").is_none());
    assert!(page.headers.get("x-total-pages").is_none());
    assert!(!header(&page.headers, "link").contains("rel=\"last\""));
    assert_eq!(header(&page.headers, "x-next-page"), "2");
}

#[tokio::test]
async fn keyset_pagination_walks_every_project_once() {
    let sim = sim(Scenario::Small).await;
    let admin = sim.credentials.admin_token.clone();
    let projects = all_pages(
        &sim,
        "/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=100",
        &admin,
    )
    .await;
    let expected: Vec<u64> = sim
        .state
        .world
        .read()
        .expect("world")
        .projects
        .keys()
        .copied()
        .collect();
    let ids: Vec<u64> = projects.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids, expected);
    let page = get(
        &sim,
        "/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=5",
        &admin,
    )
    .await;
    assert!(page.headers.get("x-total").is_none(), "keyset pages carry no totals");
    let bad = get(&sim, "/api/v4/projects?pagination=keyset&order_by=name", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn what_a_caller_sees_follows_membership_and_role() {
    let sim = sim(Scenario::Demo).await;
    let engineer = user_token(&sim, "eli.eng", &["api"]);
    let lead = user_token(&sim, "dora.lead", &["api"]);
    let groups = all_pages(&sim, "/api/v4/groups", &engineer).await;
    let paths: Vec<&str> = groups.iter().filter_map(|g| g["full_path"].as_str()).collect();
    assert_eq!(
        paths,
        ["acme/engineering-productivity"],
        "an engineer sees the team's group only"
    );
    assert_eq!(
        get(&sim, "/api/v4/groups/acme%2Fdelivery", &engineer).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&sim, "/api/v4/groups/acme%2Fdelivery", &engineer).await.body,
        json!({"message": "404 Group Not Found"})
    );
    // A Developer may see the project but not its access tokens; a Maintainer may.
    let project = "/api/v4/projects/acme%2Fengineering-productivity%2Ftriage-ops";
    assert_eq!(get(&sim, project, &engineer).await.status, StatusCode::OK);
    assert_eq!(
        get(&sim, &format!("{project}/access_tokens"), &engineer).await.status,
        StatusCode::FORBIDDEN
    );
    let omnibus = "/api/v4/projects/acme%2Fdistribution%2Fomnibus";
    assert_eq!(
        get(&sim, &format!("{omnibus}/access_tokens"), &lead).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, &format!("{omnibus}/deploy_tokens"), &lead).await.status,
        StatusCode::OK
    );
    // Group access tokens take Owner; the instance-wide listings take an administrator.
    assert_eq!(
        get(&sim, "/api/v4/groups/acme%2Fdistribution/access_tokens", &lead)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let owner = sim.credentials.group_owner_token.clone();
    assert_eq!(
        get(&sim, "/api/v4/groups/acme%2Fdistribution/access_tokens", &owner)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, "/api/v4/deploy_tokens", &owner).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&sim, "/api/v4/deploy_tokens", &sim.credentials.admin_token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn project_access_tokens_are_created_rotated_and_revoked_like_gitlabs() {
    let sim = sim(Scenario::Demo).await;
    let lead = user_token(&sim, "dora.lead", &["api"]);
    let base = "/api/v4/projects/acme%2Fdistribution%2Fomnibus/access_tokens";
    let post = |body: Value| {
        let sim = &sim;
        let lead = lead.clone();
        async move { call(sim, reqwest::Method::POST, base, Some(&lead), Some(body)).await }
    };
    let missing = post(json!({"scopes": ["api"], "expires_at": "2027-01-01"})).await;
    assert_eq!(
        (missing.status, missing.body.clone()),
        (StatusCode::BAD_REQUEST, json!({"error": "name is missing"}))
    );
    assert_eq!(
        post(json!({"name": "x", "scopes": ["api"]})).await.body,
        json!({"error": "expires_at is missing"})
    );
    assert_eq!(
        post(json!({"name": "x", "scopes": ["api"], "expires_at": "2028-01-01"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(json!({"name": "x", "scopes": ["everything"], "expires_at": "2027-01-01"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let too_high = post(json!({"name": "x", "scopes": ["api"], "expires_at": "2027-01-01", "access_level": 50})).await;
    assert_eq!(
        too_high.status,
        StatusCode::BAD_REQUEST,
        "a Maintainer cannot create an Owner token"
    );

    let created =
        post(json!({"name": "ci-deploy", "scopes": ["read_api"], "expires_at": "2027-01-01", "access_level": 30}))
            .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.body["token"]
        .as_str()
        .expect("secret in the create response")
        .to_owned();
    assert!(token.starts_with("glpat-"));
    assert_eq!(created.body["access_level"], 30);
    assert_eq!(created.body["expires_at"], "2027-01-01");
    let id = created.body["id"].as_u64().expect("id");
    let bot = get(&sim, &format!("/api/v4/users/{}", created.body["user_id"]), &lead).await;
    assert_eq!(bot.body["bot"], true);
    let project_id = sim
        .state
        .world
        .read()
        .expect("world")
        .project_by_ref("acme/distribution/omnibus")
        .map(|p| p.id);
    assert!(
        bot.body["username"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("project_{}_bot_", project_id.unwrap_or(0))))
    );
    // The new token works, with its own scopes.
    assert_eq!(
        get(&sim, "/api/v4/projects/acme%2Fdistribution%2Fomnibus", &token)
            .await
            .status,
        StatusCode::OK
    );

    let listed = get(&sim, &format!("{base}/{id}"), &lead).await;
    assert!(
        listed.body.get("token").is_none(),
        "the secret is only in the create response"
    );

    let rotated = call(
        &sim,
        reqwest::Method::POST,
        &format!("{base}/{id}/rotate"),
        Some(&lead),
        None,
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_id = rotated.body["id"].as_u64().expect("new id");
    assert_ne!(new_id, id);
    assert_eq!(
        rotated.body["expires_at"], "2026-12-02",
        "rotation defaults to one week"
    );
    assert_eq!(get(&sim, &format!("{base}/{id}"), &lead).await.body["revoked"], true);
    assert_eq!(
        get(&sim, "/api/v4/user", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the old secret stops working"
    );
    let again = call(
        &sim,
        reqwest::Method::POST,
        &format!("{base}/{id}/rotate"),
        Some(&lead),
        None,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "a revoked token cannot be rotated"
    );

    let active = get(&sim, &format!("{base}?state=active"), &lead).await;
    let active_ids: Vec<u64> = active
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_u64())
        .collect();
    assert!(active_ids.contains(&new_id) && !active_ids.contains(&id));

    let revoked = call(
        &sim,
        reqwest::Method::DELETE,
        &format!("{base}/{new_id}"),
        Some(&lead),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let inactive = get(&sim, &format!("{base}?state=inactive"), &lead).await;
    assert!(
        inactive
            .body
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["id"] == json!(new_id))
    );
}

#[tokio::test]
async fn deploy_tokens_are_listed_created_and_deleted() {
    let sim = sim(Scenario::Demo).await;
    let lead = user_token(&sim, "dora.lead", &["api"]);
    let base = "/api/v4/projects/acme%2Fdistribution%2Fomnibus/deploy_tokens";
    let created = call(
        &sim,
        reqwest::Method::POST,
        base,
        Some(&lead),
        Some(json!({"name": "registry-push", "scopes": ["write_registry"], "expires_at": "2027-03-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(created.body["token"].as_str().is_some_and(|t| t.starts_with("gldt-")));
    let id = created.body["id"].as_u64().expect("id");
    assert_eq!(created.body["username"], format!("gitlab+deploy-token-{id}"));
    assert_eq!(created.body["expires_at"], "2027-03-01T00:00:00.000Z");
    assert_eq!(created.body["expired"], false);
    let bad = call(
        &sim,
        reqwest::Method::POST,
        base,
        Some(&lead),
        Some(json!({"name": "x", "scopes": ["api"]})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "api is not a deploy token scope");

    let all = all_pages(&sim, "/api/v4/deploy_tokens", &sim.credentials.admin_token).await;
    assert!(all.iter().any(|t| t["id"] == json!(id)));
    let deleted = call(
        &sim,
        reqwest::Method::DELETE,
        &format!("{base}/{id}"),
        Some(&lead),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&sim, &format!("{base}/{id}"), &lead).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_administrator_lists_every_personal_access_token_and_others_their_own() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let all = all_pages(&sim, "/api/v4/personal_access_tokens?per_page=100", &admin).await;
    assert_eq!(
        all.len(),
        sim.state.world.read().expect("world").personal_access_tokens.len()
    );
    let bot_tokens = all.iter().filter(|t| t["name"] == "allure-report-poster").count();
    assert_eq!(
        bot_tokens, 1,
        "project access tokens are personal access tokens of their bots"
    );
    let owner = sim.credentials.group_owner_token.clone();
    let own = all_pages(&sim, "/api/v4/personal_access_tokens", &owner).await;
    let names: Vec<&str> = own.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["token-inventory-sync", "token-inventory-fulfilment"]);
    assert_eq!(
        get(&sim, "/api/v4/personal_access_tokens?user_id=1", &owner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let inactive = all_pages(&sim, "/api/v4/personal_access_tokens?state=inactive", &admin).await;
    assert!(inactive.iter().all(|t| t["active"] == false));
    assert!(
        inactive.iter().any(|t| t["name"] == "omnibus-mirror"),
        "expired tokens are inactive"
    );
}

#[tokio::test]
async fn group_service_accounts_and_their_tokens() {
    let sim = sim(Scenario::Demo).await;
    let owner = user_token(&sim, "olive.owner", &["api"]);
    let accounts = all_pages(&sim, "/api/v4/groups/acme/service_accounts", &owner).await;
    assert!(
        accounts
            .iter()
            .any(|a| a["username"].as_str().is_some_and(|u| u.ends_with("_triage_ops")))
    );
    let subgroup = get(&sim, "/api/v4/groups/acme%2Fdelivery/service_accounts", &owner).await;
    assert_eq!(
        subgroup.status,
        StatusCode::BAD_REQUEST,
        "only top-level groups have service accounts"
    );
    let lead = user_token(&sim, "dora.lead", &["api"]);
    assert_eq!(
        get(&sim, "/api/v4/groups/acme/service_accounts", &lead).await.status,
        StatusCode::NOT_FOUND
    );

    let created = call(
        &sim,
        reqwest::Method::POST,
        "/api/v4/groups/acme/service_accounts",
        Some(&owner),
        Some(json!({"name": "Mirror bot"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let user_id = created.body["id"].as_u64().expect("id");
    let group_id = sim
        .state
        .world
        .read()
        .expect("world")
        .group_by_ref("acme")
        .map(|g| g.id)
        .unwrap_or(0);
    assert!(
        created.body["username"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("service_account_group_{group_id}_")))
    );
    let tokens = format!("/api/v4/groups/acme/service_accounts/{user_id}/personal_access_tokens");
    let token = call(
        &sim,
        reqwest::Method::POST,
        &tokens,
        Some(&owner),
        Some(json!({"name": "mirror", "scopes": ["read_repository"], "expires_at": "2027-02-01"})),
    )
    .await;
    assert_eq!(token.status, StatusCode::CREATED);
    let token_id = token.body["id"].as_u64().expect("token id");
    let rotated = call(
        &sim,
        reqwest::Method::POST,
        &format!("{tokens}/{token_id}/rotate"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let listed = all_pages(&sim, &tokens, &owner).await;
    assert_eq!(listed.len(), 2);
    let user = get(&sim, &format!("/api/v4/users/{user_id}"), &owner).await;
    assert_eq!(user.body["bot"], true);
}

#[tokio::test]
async fn users_and_members_tell_people_from_bots() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let found = get(&sim, "/api/v4/users?username=erin.lead", &admin).await;
    assert_eq!(found.body.as_array().map(Vec::len), Some(1));
    assert_eq!(found.body[0]["bot"], false);
    let without_bots = all_pages(&sim, "/api/v4/users?without_project_bots=true", &admin).await;
    assert!(
        without_bots
            .iter()
            .all(|u| !u["username"].as_str().unwrap_or("").starts_with("project_"))
    );
    let humans = all_pages(&sim, "/api/v4/users?humans=true", &admin).await;
    assert!(humans.iter().all(|u| u["bot"] == false));

    let direct = all_pages(&sim, "/api/v4/groups/acme%2Fdistribution/members", &admin).await;
    let inherited = all_pages(&sim, "/api/v4/groups/acme%2Fdistribution/members/all", &admin).await;
    assert!(inherited.len() > direct.len());
    let olive = inherited
        .iter()
        .find(|m| m["username"] == "olive.owner")
        .expect("owner inherited from acme");
    assert_eq!(olive["access_level"], 50);
    let project = all_pages(
        &sim,
        "/api/v4/projects/acme%2Fdistribution%2Fomnibus/members/all",
        &admin,
    )
    .await;
    assert!(
        project
            .iter()
            .any(|m| m["username"] == "dora.lead" && m["access_level"] == 40)
    );
}

#[tokio::test]
async fn an_administrator_reads_a_users_memberships_page_by_page() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let (account, delivery, runner) = {
        let world = sim.state.world.read().expect("world");
        let account = world
            .users
            .values()
            .find(|u| u.username.ends_with("_release_tools"))
            .map(|u| u.id)
            .expect("the release tools service account");
        let delivery = world.group_by_ref("acme/delivery").map(|g| g.id).expect("delivery");
        let runner = world
            .project_by_ref("acme/delivery/runner")
            .map(|p| p.id)
            .expect("runner");
        (account, delivery, runner)
    };
    // A project membership besides the demo's group one.
    sim.state
        .world_mut()
        .members
        .insert((Source::Project(runner), account), DEVELOPER);
    let path = format!("/api/v4/users/{account}/memberships");

    let listed = get(&sim, &path, &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body,
        json!([
            {"source_id": delivery, "source_name": "Acme / Delivery", "source_type": "Namespace", "access_levels": 40},
            {"source_id": runner, "source_name": "Acme / Delivery / runner", "source_type": "Project", "access_levels": 30},
        ])
    );
    assert_eq!(header(&listed.headers, "x-total"), "2");
    assert_eq!(header(&listed.headers, "x-page"), "1");

    let paged = get(&sim, &format!("{path}?per_page=1"), &admin).await;
    assert_eq!(paged.body.as_array().map(Vec::len), Some(1));
    assert_eq!(header(&paged.headers, "x-total-pages"), "2");
    assert_eq!(header(&paged.headers, "x-next-page"), "2");
    assert!(header(&paged.headers, "link").contains("rel=\"next\""));
    assert_eq!(
        Value::Array(all_pages(&sim, &format!("{path}?per_page=1"), &admin).await),
        listed.body
    );

    let projects = get(&sim, &format!("{path}?type=Project"), &admin).await;
    assert_eq!(projects.body.as_array().map(Vec::len), Some(1));
    assert_eq!(projects.body[0]["source_id"], runner);
    let groups = get(&sim, &format!("{path}?type=Namespace"), &admin).await;
    assert_eq!(groups.body.as_array().map(Vec::len), Some(1));
    assert_eq!(groups.body[0]["source_type"], "Namespace");
    assert_eq!(
        get(&sim, &format!("{path}?type=Group"), &admin).await.status,
        StatusCode::BAD_REQUEST
    );

    // Administrators only, whoever is asked about (a user may not read even their own).
    let owner = sim.credentials.group_owner_token.clone();
    let refused = get(&sim, &path, &owner).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body, json!({"message": "403 Forbidden"}));
    let olive = sim
        .state
        .world
        .read()
        .expect("world")
        .users
        .values()
        .find(|u| u.username == "olive.owner")
        .map(|u| u.id)
        .expect("olive");
    assert_eq!(
        get(&sim, &format!("/api/v4/users/{olive}/memberships"), &owner)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    for unknown in ["999999", "someone"] {
        let missing = get(&sim, &format!("/api/v4/users/{unknown}/memberships"), &admin).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.body, json!({"message": "404 User Not Found"}));
    }
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_gitlabs_headers() {
    let sim = sim(Scenario::Demo).await;
    sim.state.limiter.set_limit(3);
    let admin = sim.credentials.admin_token.clone();
    for remaining in ["2", "1", "0"] {
        let ok = get(&sim, "/api/v4/version", &admin).await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(header(&ok.headers, "ratelimit-remaining"), remaining);
        assert_eq!(header(&ok.headers, "ratelimit-limit"), "3");
    }
    let refused = get(&sim, "/api/v4/version", &admin).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body, json!("Retry later\n"));
    assert!(
        header(&refused.headers, "retry-after")
            .parse::<u64>()
            .is_ok_and(|s| (1..=60).contains(&s))
    );
    assert!(!header(&refused.headers, "ratelimit-resettime").is_empty());
    // Per user: another user still gets through.
    assert_eq!(
        get(&sim, "/api/v4/version", &sim.credentials.group_owner_token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn injected_faults_fail_requests_the_way_networks_do() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let set = |faults: Faults| sim.state.faults.set(faults);

    set(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert!(get(&sim, "/api/v4/groups", &admin).await.status.is_server_error());

    set(Faults {
        throttle_rate: 1.0,
        throttle_burst: 2,
        ..Faults::default()
    });
    let throttled = get(&sim, "/api/v4/groups", &admin).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&throttled.headers, "retry-after"), "1");

    for faults in [
        Faults {
            truncate_rate: 1.0,
            ..Faults::default()
        },
        Faults {
            reset_rate: 1.0,
            ..Faults::default()
        },
    ] {
        set(faults);
        let response = reqwest::Client::new()
            .get(format!("{}/api/v4/groups", sim.url))
            .header("PRIVATE-TOKEN", &admin)
            .send()
            .await;
        let body = match response {
            Ok(response) => response.bytes().await.map(|b| b.to_vec()),
            Err(error) => Err(error),
        };
        match body {
            Err(_) => {}
            Ok(bytes) => assert!(
                serde_json::from_slice::<Value>(&bytes).is_err(),
                "a cut body is not whole JSON"
            ),
        }
    }

    set(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(get(&sim, "/api/v4/version", &admin).await.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));

    set(Faults {
        slow_body_ms: 5,
        ..Faults::default()
    });
    let slow = get(&sim, "/api/v4/groups", &admin).await;
    assert_eq!(slow.status, StatusCode::OK);
    assert!(
        slow.body.as_array().is_some_and(|groups| !groups.is_empty()),
        "a slow body still arrives whole"
    );

    // One path fails every time; the others still answer.
    set(Faults {
        fail_path: Some("/memberships".to_owned()),
        ..Faults::default()
    });
    assert_eq!(
        get(&sim, "/api/v4/users/1/memberships", &admin).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(get(&sim, "/api/v4/users/1", &admin).await.status, StatusCode::OK);

    set(Faults::default());
    assert_eq!(get(&sim, "/api/v4/groups", &admin).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_world_dump_and_mutations_are_for_administrators() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    assert_eq!(
        call(&sim, reqwest::Method::GET, "/-/sim/world", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&sim, "/-/sim/world", &sim.credentials.group_owner_token)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let dump = get(&sim, "/-/sim/world", &admin).await;
    assert_eq!(dump.status, StatusCode::OK);
    let text = dump.body.to_string();
    assert!(!text.contains(&admin), "no secret in the dump");
    assert!(!text.contains("glpat-") && !text.contains("gldt-"));

    let (token_id, project_id, group_id) = {
        let world = sim.state.world.read().expect("world");
        let token = world
            .personal_access_tokens
            .values()
            .find(|t| t.name == "allure-report-poster")
            .map(|t| t.id);
        let project = world.project_by_ref("acme/quality/end-to-end").map(|p| p.id);
        let group = world.group_by_ref("acme/platform").map(|g| g.id);
        (token.unwrap_or(0), project.unwrap_or(0), group.unwrap_or(0))
    };
    let mutations = json!([
        {"op": "revoke_token", "token_id": token_id},
        {"op": "move_project", "project_id": project_id, "group_id": group_id},
    ]);
    let applied = call(
        &sim,
        reqwest::Method::POST,
        "/-/sim/mutations",
        Some(&admin),
        Some(mutations),
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK);
    let moved = get(&sim, &format!("/api/v4/projects/{project_id}"), &admin).await;
    assert_eq!(moved.body["path_with_namespace"], "acme/platform/end-to-end");
    let token = get(&sim, &format!("/api/v4/personal_access_tokens/{token_id}"), &admin).await;
    assert_eq!(token.body["revoked"], true);

    let bad = json!([{"op": "delete_token", "token_id": token_id}, {"op": "delete_token", "token_id": 999_999}]);
    let refused = call(&sim, reqwest::Method::POST, "/-/sim/mutations", Some(&admin), Some(bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get(&sim, &format!("/api/v4/personal_access_tokens/{token_id}"), &admin)
            .await
            .status,
        StatusCode::OK,
        "nothing applied"
    );
}

#[tokio::test]
async fn people_are_blocked_and_deleted_by_mutations_all_or_nothing() {
    let sim = sim(Scenario::Demo).await;
    let admin = sim.credentials.admin_token.clone();
    let owner_token = sim.credentials.group_owner_token.clone();
    let (eli, olive) = {
        let world = sim.state.world.read().expect("world");
        let id = |username: &str| {
            world
                .users
                .values()
                .find(|u| u.username == username)
                .map(|u| u.id)
                .expect("in the demo world")
        };
        (id("eli.eng"), id("olive.owner"))
    };
    let user = |id: Id| format!("/api/v4/users/{id}");
    let mutate = async |mutations: Value| {
        call(
            &sim,
            reqwest::Method::POST,
            "/-/sim/mutations",
            Some(&admin),
            Some(mutations),
        )
        .await
    };
    // Anyone signed in reads a person's state, as in GitLab.
    let seen = get(&sim, &user(eli), &owner_token).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.body["state"], "active");

    // A state GitLab does not have, or a person who does not exist, applies nothing.
    let refused = mutate(json!([
        {"op": "set_user_state", "user_id": eli, "state": "blocked"},
        {"op": "set_user_state", "user_id": olive, "state": "asleep"},
    ]))
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    let refused = mutate(json!([
        {"op": "delete_user", "user_id": eli},
        {"op": "delete_user", "user_id": 999_999},
    ]))
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    assert_eq!(get(&sim, &user(eli), &admin).await.body["state"], "active");

    // Blocked: GitLab says so, and the person's own tokens stop working.
    let applied = mutate(json!([
        {"op": "set_user_state", "user_id": olive, "state": "blocked"},
        {"op": "delete_user", "user_id": eli},
    ]))
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.body);
    assert_eq!(get(&sim, &user(olive), &admin).await.body["state"], "blocked");
    assert_eq!(
        get(&sim, "/api/v4/user", &owner_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Deleted: 404, and nothing of theirs is left.
    let gone = get(&sim, &user(eli), &admin).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["message"], "404 User Not Found");
    {
        let world = sim.state.world.read().expect("world");
        assert!(world.members.keys().all(|(_, member)| *member != eli));
        assert!(world.personal_access_tokens.values().all(|t| t.user_id != eli));
    }

    // Unblocked, the tokens work again.
    let applied = mutate(json!([{"op": "set_user_state", "user_id": olive, "state": "active"}])).await;
    assert_eq!(applied.status, StatusCode::OK);
    assert_eq!(get(&sim, "/api/v4/user", &owner_token).await.status, StatusCode::OK);
}

// Writes the fulfilment of a service account makes: members, the account, its first token.

async fn post(sim: &SimHandle, path: &str, token: &str, body: Value) -> Call {
    call(sim, reqwest::Method::POST, path, Some(token), Some(body)).await
}

async fn put(sim: &SimHandle, path: &str, token: &str, body: Value) -> Call {
    call(sim, reqwest::Method::PUT, path, Some(token), Some(body)).await
}

fn user_id(sim: &SimHandle, username: &str) -> Id {
    let world = sim.state.world.read().expect("world");
    world
        .users
        .values()
        .find(|u| u.username == username)
        .map(|u| u.id)
        .expect("user exists")
}

#[tokio::test]
async fn members_are_added_read_and_given_another_role_like_gitlabs() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let admin = sim.credentials.admin_token.clone();
    let eli = user_id(&sim, "eli.eng");
    let members = "/api/v4/groups/acme%2Fquality/members";

    let added = post(&sim, members, &owner, json!({"user_id": eli, "access_level": 30})).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let listed = all_pages(&sim, members, &admin).await;
    let listed = listed.iter().find(|m| m["id"] == eli).expect("listed");
    assert_eq!(&added.body, listed, "the member view of the listing");
    assert_eq!(
        (added.body["username"].clone(), added.body["access_level"].clone()),
        (json!("eli.eng"), json!(30))
    );
    let again = post(&sim, members, &owner, json!({"user_id": eli, "access_level": 20})).await;
    assert_eq!(
        (again.status, again.body),
        (StatusCode::CONFLICT, json!({"message": "Member already exists"}))
    );
    // The index follows: the member sees the group, and the memberships listing has it.
    let eli_token = user_token(&sim, "eli.eng", &["api"]);
    assert_eq!(
        get(&sim, "/api/v4/groups/acme%2Fquality", &eli_token).await.status,
        StatusCode::OK
    );
    let memberships = all_pages(&sim, &format!("/api/v4/users/{eli}/memberships"), &admin).await;
    assert!(
        memberships
            .iter()
            .any(|m| m["source_name"] == "Acme / Quality" && m["access_levels"] == 30)
    );

    let one = get(&sim, &format!("{members}/{eli}"), &owner).await;
    assert_eq!(
        (one.status, one.body["access_level"].clone()),
        (StatusCode::OK, json!(30))
    );
    let dmitri = user_id(&sim, "dmitri.eng");
    let absent = get(&sim, &format!("{members}/{dmitri}"), &owner).await;
    assert_eq!(
        (absent.status, absent.body),
        (StatusCode::NOT_FOUND, json!({"message": "404 Member Not Found"}))
    );
    let inherited = get(&sim, &format!("{members}/{}", user_id(&sim, "olive.owner")), &owner).await;
    assert_eq!(inherited.status, StatusCode::NOT_FOUND, "direct members only");

    let changed = put(&sim, &format!("{members}/{eli}"), &owner, json!({"access_level": 40})).await;
    assert_eq!(
        (changed.status, changed.body["access_level"].clone()),
        (StatusCode::OK, json!(40))
    );
    assert_eq!(
        get(&sim, &format!("{members}/{eli}"), &admin).await.body["access_level"],
        40
    );
    let not_member = put(
        &sim,
        &format!("{members}/{dmitri}"),
        &owner,
        json!({"access_level": 30}),
    )
    .await;
    assert_eq!(not_member.status, StatusCode::NOT_FOUND);
    let members_now = sim.state.world.read().expect("world").index.memberships_of[&eli].clone();
    assert!(members_now.values().any(|level| *level == 40), "{members_now:?}");
}

#[tokio::test]
async fn adding_members_refuses_what_gitlab_refuses() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let eli = user_id(&sim, "eli.eng");
    let members = "/api/v4/projects/acme%2Fdistribution%2Fomnibus/members";
    for (body, error) in [
        (json!({"access_level": 30}), "user_id is missing"),
        (json!({"user_id": eli}), "access_level is missing"),
        (
            json!({"user_id": eli, "access_level": 35}),
            "access_level does not have a valid value",
        ),
        (
            json!({"user_id": eli, "access_level": 30, "expires_at": "soon"}),
            "expires_at is invalid",
        ),
    ] {
        let refused = post(&sim, members, &owner, body).await;
        assert_eq!(
            (refused.status, refused.body),
            (StatusCode::BAD_REQUEST, json!({"error": error}))
        );
    }
    let unknown = post(&sim, members, &owner, json!({"user_id": 999_999, "access_level": 30})).await;
    assert_eq!(
        (unknown.status, unknown.body),
        (StatusCode::NOT_FOUND, json!({"message": "404 User Not Found"}))
    );

    // A project's Maintainer (inherited from its group) adds members up to Maintainer.
    let lead = user_token(&sim, "dora.lead", &["api"]);
    let added = post(
        &sim,
        members,
        &lead,
        json!({"user_id": eli, "access_level": 40, "expires_at": "2027-06-01"}),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let emma = user_id(&sim, "emma.eng");
    let above = post(&sim, members, &lead, json!({"user_id": emma, "access_level": 50})).await;
    assert_eq!(above.status, StatusCode::FORBIDDEN, "no role above the caller's own");
    let raise = put(&sim, &format!("{members}/{eli}"), &lead, json!({"access_level": 50})).await;
    assert_eq!(raise.status, StatusCode::FORBIDDEN);
    // A group's members are its Owners' to manage; a Developer manages none.
    let group = post(
        &sim,
        "/api/v4/groups/acme%2Fdistribution/members",
        &lead,
        json!({"user_id": emma, "access_level": 10}),
    )
    .await;
    assert_eq!(
        (group.status, group.body),
        (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"}))
    );
    let engineer = user_token(&sim, "eli.eng", &["api"]);
    let project = "/api/v4/projects/acme%2Fengineering-productivity%2Ftriage-ops/members";
    assert_eq!(
        post(&sim, project, &engineer, json!({"user_id": emma, "access_level": 10}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let unseen = post(
        &sim,
        "/api/v4/groups/acme%2Fsecurity/members",
        &engineer,
        json!({"user_id": emma, "access_level": 10}),
    )
    .await;
    assert_eq!(unseen.status, StatusCode::NOT_FOUND, "a group the caller cannot see");
    // Owners are allowed on projects; an administrator may do anything.
    let owned = post(&sim, members, &owner, json!({"user_id": emma, "access_level": 50})).await;
    assert_eq!(
        (owned.status, owned.body["access_level"].clone()),
        (StatusCode::CREATED, json!(50))
    );
    let admin = sim.credentials.admin_token.clone();
    let paula = user_id(&sim, "paula.eng");
    assert_eq!(
        post(
            &sim,
            "/api/v4/groups/acme/members",
            &admin,
            json!({"user_id": paula, "access_level": 50})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // A read_api token writes nothing.
    let read = post(
        &sim,
        members,
        &sim.credentials.group_owner_token,
        json!({"user_id": paula, "access_level": 10}),
    )
    .await;
    assert_eq!(read.body["error"], "insufficient_scope");
}

#[tokio::test]
async fn a_service_account_joins_only_its_own_top_level_groups_hierarchy() {
    let sim = sim(Scenario::Small).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let (home, home_sub, home_project, other, other_project) = {
        let world = sim.state.world.read().expect("world");
        let roots: Vec<&Group> = world.groups.values().filter(|g| g.parent_id.is_none()).collect();
        let (home, other) = (roots[0].id, roots[1].id);
        let under = |root: Id| world.groups.values().find(|g| g.parent_id == Some(root)).map(|g| g.id);
        let project_under = |root: Id| {
            world
                .projects
                .values()
                .find(|p| world.top_level_group(Source::Project(p.id)) == Some(root))
                .map(|p| p.id)
        };
        let found = (under(home), project_under(home), project_under(other));
        (
            home,
            found.0.expect("subgroup"),
            found.1.expect("project"),
            other,
            found.2.expect("project"),
        )
    };
    let created = post(
        &sim,
        &format!("/api/v4/groups/{home}/service_accounts"),
        &owner,
        json!({"name": "Deployer"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let account = created.body["id"].as_u64().expect("id");
    let member = json!({"user_id": account, "access_level": 30});
    for path in [
        format!("/api/v4/groups/{home}/members"),
        format!("/api/v4/groups/{home_sub}/members"),
        format!("/api/v4/projects/{home_project}/members"),
    ] {
        let added = post(&sim, &path, &owner, member.clone()).await;
        assert_eq!(added.status, StatusCode::CREATED, "{path}: {:?}", added.body);
        assert_eq!(added.body["bot"], true);
    }
    for path in [
        format!("/api/v4/groups/{other}/members"),
        format!("/api/v4/projects/{other_project}/members"),
    ] {
        for token in [&owner, &sim.credentials.admin_token] {
            let refused = post(&sim, &path, token, member.clone()).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
            assert!(
                refused.body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("top-level group")),
                "{:?}",
                refused.body
            );
        }
    }
    let world = sim.state.world.read().expect("world");
    assert_eq!(world.index.memberships_of[&account].len(), 3);
}

#[tokio::test]
async fn service_accounts_and_their_first_token_are_refused_as_gitlab_refuses_them() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let created = post(
        &sim,
        "/api/v4/groups/acme/service_accounts",
        &owner,
        json!({"name": "Fulfilled", "username": "service_account_group_1_fulfilled"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let taken = post(
        &sim,
        "/api/v4/groups/acme/service_accounts",
        &owner,
        json!({"username": "service_account_group_1_fulfilled"}),
    )
    .await;
    assert_eq!(
        (taken.status, taken.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Username has already been taken"})
        )
    );
    // A Maintainer of the top-level group sees it but may not create its service accounts.
    let erin = user_id(&sim, "erin.lead");
    let maintainer = post(
        &sim,
        "/api/v4/groups/acme/members",
        &owner,
        json!({"user_id": erin, "access_level": 40}),
    )
    .await;
    assert_eq!(maintainer.status, StatusCode::CREATED);
    let erin_token = user_token(&sim, "erin.lead", &["api"]);
    let refused = post(
        &sim,
        "/api/v4/groups/acme/service_accounts",
        &erin_token,
        json!({"name": "Mine"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let tokens = format!(
        "/api/v4/groups/acme/service_accounts/{}/personal_access_tokens",
        created.body["id"]
    );
    for scopes in [
        json!(["api", "sudo"]),
        json!(["admin_mode"]),
        json!(["read_service_ping"]),
        json!(["everything"]),
    ] {
        let refused = post(
            &sim,
            &tokens,
            &owner,
            json!({"name": "first", "scopes": scopes, "expires_at": "2027-01-01"}),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{scopes}");
        assert!(
            refused.body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("scopes does not have a valid value")),
            "{:?}",
            refused.body
        );
    }
    // Without `expires_at` the token lives the maximum lifetime.
    let first = post(
        &sim,
        &tokens,
        &owner,
        json!({"name": "first", "scopes": ["api", "read_user"]}),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let year = today().checked_add_days(chrono::Days::new(365)).map(|d| d.to_string());
    assert_eq!(first.body["expires_at"].as_str(), year.as_deref());
    assert!(first.body["token"].as_str().is_some_and(|t| t.starts_with("glpat-")));
}

async fn set_faults(sim: &SimHandle, faults: Value) -> Call {
    put(sim, "/-/sim/faults", &sim.credentials.admin_token, faults).await
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_still_happens() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let accounts = "/api/v4/groups/acme/service_accounts";
    let fault = json!({"after_write": {"path": "/service_accounts", "answer": "error", "times": 1}});
    let set = set_faults(&sim, fault.clone()).await;
    assert_eq!(
        (set.status, set.body["after_write"].clone()),
        (StatusCode::OK, fault["after_write"].clone())
    );
    assert_eq!(
        get(&sim, "/-/sim/faults", &sim.credentials.admin_token).await.body,
        set.body
    );
    assert_eq!(
        get(&sim, accounts, &owner).await.status,
        StatusCode::OK,
        "reads are not hit"
    );

    // A refused write changed nothing: it keeps its answer and the hit.
    let existing = get(&sim, accounts, &owner).await.body[0]["username"].clone();
    let refused = post(&sim, accounts, &owner, json!({"username": existing})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let lost = post(
        &sim,
        accounts,
        &owner,
        json!({"username": "service_account_group_1_lost"}),
    )
    .await;
    assert_eq!(
        (lost.status, lost.body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "500 Internal Server Error"})
        )
    );
    let found = get(&sim, "/api/v4/users?username=service_account_group_1_lost", &owner).await;
    assert_eq!(found.body.as_array().map(Vec::len), Some(1), "the account was created");
    let next = post(
        &sim,
        accounts,
        &owner,
        json!({"username": "service_account_group_1_next"}),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "only the first write is hit");

    // Faults::default() is no fault; unknown fields are refused.
    let cleared = set_faults(&sim, json!({})).await;
    assert_eq!(cleared.body["after_write"], Value::Null);
    let typo = set_faults(
        &sim,
        json!({"after_write": {"path": "/x", "answer": "error", "count": 2}}),
    )
    .await;
    assert!(typo.status.is_client_error());
}

#[tokio::test]
async fn a_write_whose_answer_hangs_still_happens() {
    let sim = sim(Scenario::Demo).await;
    let owner = sim.credentials.group_owner_write_token.clone();
    let fault = json!({"after_write": {"path": "/service_accounts", "answer": {"hang": {"ms": 2000}}}});
    assert_eq!(set_faults(&sim, fault).await.status, StatusCode::OK);
    let started = std::time::Instant::now();
    let gave_up = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .expect("client")
        .post(format!("{}/api/v4/groups/acme/service_accounts", sim.url))
        .header("PRIVATE-TOKEN", &owner)
        .json(&json!({"username": "service_account_group_1_slow"}))
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()), "the client timed out");
    assert!(started.elapsed() < std::time::Duration::from_millis(1500));
    let found = get(&sim, "/api/v4/users?username=service_account_group_1_slow", &owner).await;
    assert_eq!(found.body.as_array().map(Vec::len), Some(1), "the account was created");
    // The hit is used up: the next write answers at once.
    let next = post(
        &sim,
        "/api/v4/groups/acme/service_accounts",
        &owner,
        json!({"name": "Quick"}),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED);
}

/// The demo's chat sink: a webhook's `{"text": …}` is kept by channel and listed, without a token;
/// a payload without text is refused as Slack refuses it.
#[tokio::test]
async fn the_chat_sink_keeps_what_webhooks_post() {
    let sim = sim(Scenario::Small).await;
    let post = |channel: &'static str, body: Value| call(&sim, reqwest::Method::POST, channel, None, Some(body));
    assert_eq!(
        post("/-/sim/chat/platform", json!({"text": "digest one"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post("/-/sim/chat/data", json!({"text": "digest two"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post("/-/sim/chat/data", json!({"blocks": []})).await.status,
        StatusCode::BAD_REQUEST
    );
    let all = call(&sim, reqwest::Method::GET, "/-/sim/chat", None, None).await;
    let texts: Vec<&str> = all
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["digest one", "digest two"]);
    let one = call(&sim, reqwest::Method::GET, "/-/sim/chat?channel=platform", None, None).await;
    assert_eq!(one.body.as_array().map(Vec::len), Some(1));
    assert_eq!(one.body[0]["channel"], "platform");
}
