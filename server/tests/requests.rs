//! Service-account requests over real HTTP: the whole path from the form to the account, and
//! every refusal on the way (who may not, what comes too late, what someone else did first).

mod common;

use common::{TestApp, location, request_form as form, step_version as version, team_id};
use reqwest::StatusCode;

/// The demo world synced (so its groups and projects are known), Platform's teams file.
async fn synced() -> TestApp {
    let app = TestApp::spawn().await;
    app.sync_as_administrator().await;
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_goes_from_the_form_to_the_account_and_each_wrong_step_is_refused() {
    let app = synced().await;
    let platform = team_id(&app, "Platform").await;
    let paula = app.signed_in("paula.eng").await;
    let pat = app.signed_in("pat.lead").await;
    let sam = app.signed_in("sam.security").await;
    let eli = app.signed_in("eli.eng").await;

    // Nobody files without signing in; nobody files for a team they are not in.
    let response = app.browser().post_form("/requests/file", &form(&platform, "1")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let productivity = team_id(&app, "Engineering Productivity").await;
    let response = paula.post_form("/requests/file", &form(&productivity, "1")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with("/requests/new?edit=1"), "{back}");
    assert!(
        back.contains("error_owner_team=you+are+not+in+Engineering+Productivity"),
        "{back}"
    );
    assert!(
        back.contains("account_name=platform-release-bot"),
        "what was written comes back: {back}"
    );

    // Filed and sent: the lead is told.
    let response = paula.post_form("/requests/file", &form(&platform, "1")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = location(&response);
    assert!(page.contains("done=Sent"), "{page}");
    let path = page.split('?').next().expect("a path").to_owned();
    let id: i64 = path.trim_start_matches("/requests/").parse().expect("an id");
    let leads = app
        .repo
        .team_lead_ids(platform.parse().expect("id"))
        .await
        .expect("leads");
    assert_eq!(leads.len(), 1);
    assert_eq!(unread(&app, leads[0]).await, 1);
    // The same name again is taken while this request is open.
    let response = paula.post_form("/requests/file", &form(&platform, "1")).await;
    assert!(
        location(&response).contains("error_account_name="),
        "{}",
        location(&response)
    );

    // The lead's header counts it; the inbox lists it; reading the request reads the notice.
    let (_, home) = pat.get("/requests").await;
    assert!(home.contains("aria-label=\"Inbox, 1 unread\""), "{home}");
    let (status, inbox) = pat.get("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        inbox.contains("paula.eng asks for the service account platform-release-bot for Platform"),
        "{inbox}"
    );
    assert!(inbox.contains(&format!("href=\"{path}\"")), "{inbox}");

    // Another team's engineer does not see it; its requester cannot endorse it.
    assert_eq!(eli.get(&path).await.0, StatusCode::NOT_FOUND);
    let (status, seen) = paula.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        seen.contains("platform-release-bot") && !seen.contains("step-endorse"),
        "{seen}"
    );
    let steps = format!("{path}/steps");
    let response = paula
        .post_form(&steps, &[("action", "endorse"), ("version", "1")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Someone who may not see it cannot tell it exists by acting on it either.
    let response = eli.post_form(&steps, &[("action", "withdraw"), ("version", "1")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = eli.post_form(&format!("{path}/file"), &form(&platform, "1")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The lead endorses; security, on the page as it was before (version 1), is told it moved.
    let (_, seen) = pat.get(&path).await;
    assert!(seen.contains("id=\"step-endorse\""), "{seen}");
    assert_eq!(unread(&app, leads[0]).await, 0, "read by looking");
    let response = pat
        .post_form(&steps, &[("action", "endorse"), ("version", &version(&seen))])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let response = sam.post_form(&steps, &[("action", "approve"), ("version", "1")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = pat.post_form(&steps, &[("action", "approve"), ("version", "2")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a lead does not approve");
    let (_, seen) = sam.get(&path).await;
    let response = sam
        .post_form(&steps, &[("action", "approve"), ("version", &version(&seen))])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // After the decision the requester can no longer amend; security sees how to make it.
    let response = paula.post_form(&format!("{path}/file"), &form(&platform, "1")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let (_, seen) = sam.get(&path).await;
    assert!(seen.contains("id=\"how-to-create\""), "{seen}");
    assert!(seen.contains("Mark the account created"), "{seen}");
    // Without a write credential, nothing is made through the API (the page says how by hand).
    let response = sam
        .post_form(&format!("{path}/fulfil"), &[("version", &version(&seen))])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(seen.contains("/service_accounts"), "{seen}");
    let response = sam
        .post_form(&steps, &[("action", "fulfil"), ("version", &version(&seen))])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = sam.post_form(&steps, &[("action", "fulfil"), ("version", "4")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "made once");
    // The requester was told of each decision; they read them all at once.
    let (_, home) = paula.get("/inbox").await;
    assert!(
        home.contains("sam.security approved your request for platform-release-bot"),
        "{home}"
    );
    assert_eq!(
        app.browser().post_form("/inbox/read", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = paula.post_form("/inbox/read", &[]).await;
    assert_eq!(location(&response), "/inbox");
    let (_, home) = paula.get("/requests").await;
    assert!(!home.contains("id=\"unread-count\""), "{home}");
    let stored = app.repo.request(id).await.expect("read").expect("exists");
    assert_eq!(stored.state, domain::requests::RequestState::Fulfilled);
    assert_eq!(stored.events.len(), 4, "submitted, endorsed, approved, created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_is_saved_half_done_and_a_rejection_needs_a_reason() {
    let app = synced().await;
    let platform = team_id(&app, "Platform").await;
    let paula = app.signed_in("paula.eng").await;
    let response = paula
        .post_form(
            "/requests/file",
            &[
                ("account_name", "platform-docs-bot"),
                ("owner_team", &platform),
                ("send", ""),
            ],
        )
        .await;
    let page = location(&response);
    assert!(page.contains("done=Draft+saved"), "{page}");
    let path = page.split('?').next().expect("a path").to_owned();
    // A draft is its requester's alone.
    let sam = app.signed_in("sam.security").await;
    assert_eq!(sam.get(&path).await.0, StatusCode::NOT_FOUND);
    // What people write is shown as text: on the request, in its form's text areas, and in the
    // form sent back refused.
    let markup = "</textarea><script>alert(1)</script>";
    let response = paula
        .post_form(
            &format!("{path}/file"),
            &[
                ("account_name", "platform-docs-bot"),
                ("owner_team", &platform),
                ("purpose", markup),
                ("why_not_token", markup),
                ("send", ""),
            ],
        )
        .await;
    assert!(
        location(&response).contains("done=Draft+saved"),
        "{}",
        location(&response)
    );
    for page in [path.clone(), format!("{path}/edit")] {
        let (status, seen) = paula.get(&page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!seen.contains("<script>alert(1)"), "{page}: {seen}");
        assert!(
            seen.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)"),
            "{page}: {seen}"
        );
    }
    let response = paula
        .post_form(
            &format!("{path}/file"),
            &[("account_name", "Not Valid"), ("why_not_token", markup), ("send", "1")],
        )
        .await;
    let (_, back) = paula.get(&location(&response)).await;
    assert!(back.contains("id=\"error-account_name\""), "{back}");
    assert!(!back.contains("<script>alert(1)"), "{back}");
    // Without signing in: no page, no list, no inbox.
    for page in [
        "/requests",
        "/requests/new",
        path.as_str(),
        "/inbox",
        "/api/v1/requests",
    ] {
        assert_eq!(app.browser().get(page).await.0, StatusCode::UNAUTHORIZED, "{page}");
    }
    // Sent half done: each missing answer is named.
    let response = paula
        .post_form(
            &format!("{path}/file"),
            &[
                ("account_name", "platform-docs-bot"),
                ("owner_team", &platform),
                ("send", "1"),
            ],
        )
        .await;
    let back = location(&response);
    for field in ["memberships", "scopes", "why_not_token", "lifetime_days", "purpose"] {
        assert!(back.contains(&format!("error_{field}=")), "{field}: {back}");
    }
    // Finished and sent; security rejects it, and must say why.
    let mut full = form(&platform, "1");
    full[0] = ("account_name", "platform-docs-bot");
    let response = paula.post_form(&format!("{path}/file"), &full).await;
    assert!(location(&response).contains("done=Sent"), "{}", location(&response));
    let (_, seen) = sam.get(&path).await;
    let steps = format!("{path}/steps");
    let response = sam
        .post_form(
            &steps,
            &[("action", "reject"), ("version", &version(&seen)), ("reason", " ")],
        )
        .await;
    assert!(
        location(&response).contains("error_reason=say+why"),
        "{}",
        location(&response)
    );
    let response = sam
        .post_form(
            &steps,
            &[
                ("action", "reject"),
                ("version", &version(&seen)),
                ("reason", "a group access token will do"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, seen) = paula.get(&path).await;
    assert!(seen.contains("Rejected: a group access token will do"), "{seen}");
    let response = paula.post_form(&steps, &[("action", "bogus"), ("version", "1")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// Without a write credential the account is made by hand: the next sync that sees it closes the
/// approved request and gives the account the request's owner team.
#[tokio::test(flavor = "multi_thread")]
async fn sync_closes_an_approved_request_when_gitlab_has_its_account() {
    let app = synced().await;
    let platform = team_id(&app, "Platform").await;
    let paula = app.signed_in("paula.eng").await;
    let pat = app.signed_in("pat.lead").await;
    let sam = app.signed_in("sam.security").await;
    let response = paula.post_form("/requests/file", &form(&platform, "1")).await;
    let path = location(&response).split('?').next().expect("a path").to_owned();
    let id: i64 = path.trim_start_matches("/requests/").parse().expect("an id");
    let steps = format!("{path}/steps");
    for (who, action, version) in [(&pat, "endorse", "1"), (&sam, "approve", "2")] {
        let response = who.post_form(&steps, &[("action", action), ("version", version)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
    }

    // A sync before the account exists changes nothing.
    app.sync_as_administrator().await;
    let stored = app.repo.request(id).await.expect("read").expect("exists");
    assert_eq!(stored.state, domain::requests::RequestState::Approved);

    // Security makes it in GitLab by hand (the API call the request page shows).
    let gitlab = reqwest::Client::new();
    let admin = app.sim.credentials.admin_token.clone();
    let group: serde_json::Value = gitlab
        .get(format!("{}/api/v4/groups/acme", app.sim.url))
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .expect("group")
        .json()
        .await
        .expect("json");
    let created = gitlab
        .post(format!(
            "{}/api/v4/groups/{}/service_accounts",
            app.sim.url, group["id"]
        ))
        .header("PRIVATE-TOKEN", &admin)
        .form(&[("name", "Platform release bot"), ("username", "platform-release-bot")])
        .send()
        .await
        .expect("created");
    assert_eq!(created.status(), StatusCode::CREATED);
    let account: serde_json::Value = created.json().await.expect("json");

    app.sync_as_administrator().await;
    let stored = app.repo.request(id).await.expect("read").expect("exists");
    assert_eq!(stored.state, domain::requests::RequestState::Fulfilled);
    assert_eq!(stored.account_gitlab_id, account["id"].as_i64());
    let last = stored.events.last().expect("a step");
    assert_eq!(
        (last.by.as_deref(), last.action),
        (None, domain::requests::RequestAction::Fulfil)
    );
    let accounts = app.repo.list_service_accounts().await.expect("accounts");
    let made = accounts
        .iter()
        .find(|a| a.username == "platform-release-bot")
        .expect("synced");
    assert_eq!(made.owner.as_ref().map(|o| o.team.name.as_str()), Some("Platform"));
    let (_, inbox) = paula.get("/inbox").await;
    assert!(
        inbox.contains("The service account platform-release-bot exists in GitLab"),
        "{inbox}"
    );
}

/// The same path over the JSON API, with the pages' permissions.
#[tokio::test(flavor = "multi_thread")]
async fn the_json_api_files_and_steps_with_the_pages_permissions() {
    let app = synced().await;
    let platform: i64 = team_id(&app, "Platform").await.parse().expect("an id");
    let paula = app.signed_in("paula.eng").await;
    let pat = app.signed_in("pat.lead").await;
    let eli = app.signed_in("eli.eng").await;
    let post = async |browser: &common::Browser, path: &str, body: serde_json::Value| {
        let response = browser
            .client
            .post(format!("{}{path}", app.base))
            .header("origin", &app.base)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status();
        (status, response.json::<serde_json::Value>().await.unwrap_or_default())
    };
    let request = serde_json::json!({
        "account_name": "platform-api-bot",
        "owner_team": platform.to_string(),
        "purpose": "labels merge requests",
        "automation": "the label bot",
        "runs_on": "acme/platform CI",
        "memberships": "acme/platform maintainer\nacme/delivery/changelog developer",
        "scopes": ["api"],
        "why_not_token": "Maintainer across two teams' groups",
        "lifetime_days": "60",
        "secret_location": "vault: platform/api-bot",
        "send": true
    });
    let anonymous = app.browser();
    assert_eq!(
        post(&anonymous, "/api/v1/requests", request.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let mut wrong = request.clone();
    wrong["lifetime_days"] = serde_json::json!("400");
    let (status, body) = post(&paula, "/api/v1/requests", wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = post(&paula, "/api/v1/requests", request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_i64().expect("an id");

    // Listed for its requester and its team; another team's engineer neither lists nor reads it.
    let (_, listed) = pat.get("/api/v1/requests?state=submitted").await;
    assert!(listed.contains("platform-api-bot"), "{listed}");
    let (_, listed) = eli.get("/api/v1/requests").await;
    assert!(!listed.contains("platform-api-bot"), "{listed}");
    assert_eq!(
        eli.get(&format!("/api/v1/requests/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, one) = pat.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let one: serde_json::Value = serde_json::from_str(&one).expect("JSON");
    assert_eq!(one["state"], "submitted");
    assert!(
        one["steps"]
            .as_array()
            .expect("steps")
            .contains(&serde_json::json!("endorse")),
        "{one}"
    );

    let steps = format!("/api/v1/requests/{id}/steps");
    let (status, _) = post(&paula, &steps, serde_json::json!({"action": "endorse", "version": 1})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(&pat, &steps, serde_json::json!({"action": "endorse", "version": 1})).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("endorsed")));
    let (status, _) = post(&pat, &steps, serde_json::json!({"action": "endorse", "version": 1})).await;
    assert_eq!(status, StatusCode::CONFLICT, "endorsed already");
    let (status, _) = post(&pat, &steps, serde_json::json!({"action": "anything", "version": 2})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app.browser().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, document) = paula.get("/api/v1/openapi.json").await;
    assert!(document.contains("/api/v1/requests/{id}/steps"), "{document}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_name_is_checked_as_it_is_typed() {
    let app = synced().await;
    let platform = team_id(&app, "Platform").await;
    let paula = app.signed_in("paula.eng").await;
    let response = paula.post_form("/requests/file", &form(&platform, "1")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = location(&response)
        .split('?')
        .next()
        .and_then(|path| path.strip_prefix("/requests/"))
        .expect("an id")
        .to_owned();
    let check = async |browser: &common::Browser, name: &str, request: &str| {
        let query = format!(
            "/requests/name-check?name={}&owner_team={platform}{request}",
            common::urlencode(name)
        );
        browser.get(&query).await
    };
    let (status, said) = check(&paula, "platform-docs-bot", "").await;
    assert_eq!(
        (status, said.as_str()),
        (StatusCode::OK, "Free, and on the naming convention.")
    );
    let (status, said) = check(&paula, "platform-release-bot", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(said.contains("is taken"), "{said}");
    let (status, said) = check(&paula, "release bot", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(said.contains("naming convention"), "{said}");
    // Its own request's name is not taken by itself.
    let (status, _) = check(&paula, "platform-release-bot", &format!("&id={id}")).await;
    assert_eq!(status, StatusCode::OK);
    // Nobody anonymous learns which names are taken.
    let (status, _) = check(&app.browser(), "platform-release-bot", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A person's unread notices, as a request reads them with the rest of the viewer.
async fn unread(app: &TestApp, user_id: i64) -> u64 {
    app.repo
        .viewer(user_id)
        .await
        .expect("viewer")
        .expect("a person")
        .unread_notices
}
