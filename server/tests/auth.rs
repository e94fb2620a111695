//! Sign-in with GitLab (gitlab-sim as the provider), sessions, roles, the refusal of every server
//! function and route to the wrong caller, and API keys.

mod common;

use std::time::Duration;

use app::server::{account::CurrentUser, inventory::ListTokens, sync::StartSync};
use common::{TestApp, location};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::Value;

/// Calls a server function as the browser does (a same-site POST of form fields).
async fn call(browser: &common::Browser, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let response = browser.post_form(path, form).await;
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_redirect_flow_signs_a_person_in_with_their_roles_and_teams() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("erin.lead").await;
    let (status, page) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("data-username=\"erin.lead\""),
        "the header names who signed in"
    );
    assert!(page.contains("Team lead"), "Erin is Maintainer of her team's group");

    let (status, body) = call(&browser, CurrentUser::PATH, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let me: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(me["username"], "erin.lead");
    assert_eq!(me["roles"], serde_json::json!(["engineer", "team_lead"]));
    assert_eq!(me["teams"][0]["team_name"], "Engineering Productivity");
    assert_eq!(me["teams"][0]["is_lead"], true);

    // Roles from configuration: a member of acme/security is security; root is admin; Pat leads
    // Platform by name; an engineer is only an engineer.
    let roles = async |username: &str| -> Value {
        let browser = app.signed_in(username).await;
        let (_, body) = call(&browser, CurrentUser::PATH, &[]).await;
        serde_json::from_str::<Value>(&body).expect("JSON")["roles"].clone()
    };
    assert_eq!(
        roles("sasha.security").await,
        serde_json::json!(["engineer", "security"])
    );
    assert_eq!(roles("root").await, serde_json::json!(["engineer", "admin"]));
    assert_eq!(roles("pat.lead").await, serde_json::json!(["engineer", "team_lead"]));
    assert_eq!(roles("eli.eng").await, serde_json::json!(["engineer"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_ask_anonymous_people_to_sign_in_and_come_back_after() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (status, page) = browser.get("/sync?x=1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Sign in to continue"));
    assert!(
        page.contains("/auth/sign-in?next=%2Fsync%3Fx%3D1"),
        "the sign-in link returns here"
    );
    let callback = browser.consent(&app, "eli.eng", "approve", "/sync?x=1").await;
    let response = browser.client.get(&callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sync?x=1");
    let (status, _) = browser.get("/sync?x=1").await;
    assert_eq!(status, StatusCode::OK);
    // `next` never leaves the site.
    let response = app
        .browser()
        .client
        .get(format!("{}/auth/sign-in?next=https://evil.example/", app.base))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// After a refused sign-in, the browser is still anonymous.
async fn assert_not_signed_in(browser: &common::Browser) {
    let (status, _) = browser.get("/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no session may be left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_state_ends_in_a_clear_error_and_no_session() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let callback = browser.consent(&app, "eli.eng", "approve", "/").await;
    let tampered = regex_replace_state(&callback, "forged");
    let (status, page) = browser.get(tampered.trim_start_matches(&app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("does not belong to this browser"), "{page}");
    assert_not_signed_in(&browser).await;
}

fn regex_replace_state(url: &str, state: &str) -> String {
    let (base, query) = url.split_once('?').expect("query");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .map(|(k, v)| if k == "state" { (k, state.to_owned()) } else { (k, v) })
        .collect();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{base}?{query}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_is_refused() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let callback = browser.consent(&app, "eli.eng", "approve", "/").await;
    let path = callback.trim_start_matches(&app.base).to_owned();
    let response = browser.client.get(&callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The same answer again, in another browser: it has no sign-in under way.
    let other = app.browser();
    let (status, page) = other.get(&path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("expired or was already used"), "{page}");
    assert_not_signed_in(&other).await;

    // And with a sign-in of its own under way (its state), the old code is refused by GitLab.
    let fresh = other.consent(&app, "eli.eng", "approve", "/").await;
    let fresh_state = url::Url::parse(&fresh)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let replay = regex_replace_state(&callback, &fresh_state);
    let (status, page) = other.get(replay.trim_start_matches(&app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("GitLab refused the sign-in code"), "{page}");
    assert_not_signed_in(&other).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_consent_and_provider_errors_end_in_clear_pages_and_no_session() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let callback = browser.consent(&app, "eli.eng", "deny", "/").await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let (status, page) = browser.get(callback.trim_start_matches(&app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("You did not allow Token Inventory"), "{page}");
    assert_not_signed_in(&browser).await;

    let browser = app.browser();
    let _ = browser.consent(&app, "eli.eng", "approve", "/").await;
    let (status, page) = browser
        .get("/auth/callback?error=server_error&error_description=Something+broke&state=x")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A fixed sentence: GitLab's error text (which anyone can put in a link) is not shown.
    assert!(page.contains("GitLab did not sign you in."), "{page}");
    assert!(!page.contains("Something broke"), "{page}");
    assert_not_signed_in(&browser).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_pkce_verifier_is_refused_by_gitlab() {
    use server::auth::oauth::{GitLabOAuth, OAuthSettings, SignInError};
    let app = TestApp::spawn().await;
    let redirect = format!("{}/auth/callback", app.base);
    let oauth = GitLabOAuth::new(&OAuthSettings {
        gitlab_url: app.sim.url.clone(),
        client_id: app.sim.credentials.oauth_client_id.clone(),
        client_secret: secrecy::SecretString::from(app.sim.credentials.oauth_client_secret.clone()),
        redirect_url: redirect,
    })
    .expect("client");
    let (authorize, mut pending) = oauth.authorize("/".to_owned());
    let query = authorize.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    form.push(("user_id".to_owned(), app.user_id("eli.eng").to_string()));
    form.push(("decision".to_owned(), "approve".to_owned()));
    let browser = app.browser();
    let response = browser
        .client
        .post(format!("{}/oauth/authorize", app.sim.url))
        .form(&form)
        .send()
        .await
        .expect("consent");
    let back = location(&response);
    let code = url::Url::parse(&back)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    pending.verifier = "a-verifier-that-was-never-challenged-0123456789abcdefghijk".to_owned();
    let result = oauth.finish(code, &pending).await;
    assert!(matches!(result, Err(SignInError::CodeRefused)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_function_refuses_an_anonymous_caller() {
    let app = TestApp::spawn().await;
    let anonymous = app.browser();
    // Open to anyone, on purpose: it tells the caller only who they are (nobody).
    let open = [CurrentUser::PATH];
    let mut checked = 0;
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        assert_eq!(
            method,
            reqwest::Method::POST,
            "{path}: server functions only accept POST"
        );
        let (status, body) = call(&anonymous, path, &[]).await;
        if open.contains(&path) {
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body, "null", "{path}");
            continue;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} answered {status}: {body}");
        checked += 1;
    }
    assert!(checked >= 3, "the server functions were found ({checked})");
    // The routes that are not server functions refuse too.
    for path in ["/account/api-keys", "/account/api-keys/1/revoke", "/tokens/1/ownership"] {
        let response = anonymous.post_form(path, &[("name", "x")]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    for page in [
        "/",
        "/sync",
        "/account/api-keys",
        "/review",
        "/wizard",
        "/my-team",
        "/teams",
        "/service-accounts",
        "/tokens/1",
    ] {
        let (status, _) = anonymous.get(page).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_now_is_for_security_and_admins_only() {
    let app = TestApp::spawn().await;
    let engineer = app.signed_in("eli.eng").await;
    let (status, _) = call(&engineer, StartSync::PATH, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let lead = app.signed_in("erin.lead").await;
    let (status, _) = call(&lead, StartSync::PATH, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a team lead is not security");
    // Security may: this server has no sync configured, which it says plainly.
    let security = app.signed_in("sasha.security").await;
    let (status, body) = call(&security, StartSync::PATH, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("not set up to sync"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn state_changing_requests_from_other_sites_are_refused() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let response = browser
        .client
        .post(format!("{}/auth/sign-out", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = browser
        .client
        .post(format!("{}{}", app.base, ListTokens::PATH))
        .form(&[("query[page]", "1")])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "no Origin, no Referer, but a cookie"
    );
    let (status, _) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK, "still signed in");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_ends_the_session_for_good() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let cookie = session_cookie(&app, &browser).await;
    let response = browser.post_form("/auth/sign-out", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/auth/signed-out");
    assert_not_signed_in(&browser).await;
    // The old cookie, replayed by hand, opens nothing: the session is gone from the database.
    let response = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// The session cookie, as `name=value`, after checking its attributes.
async fn session_cookie(app: &TestApp, browser: &common::Browser) -> String {
    let response = browser.client.get(format!("{}/", app.base)).send().await.expect("GET");
    let set = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ti_session="))
        .expect("the session cookie is renewed")
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("Secure"), "plain http in tests: {set}");
    set.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_session_id_changes_at_sign_in_and_is_stored_only_hashed() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let callback = browser.consent(&app, "eli.eng", "approve", "/").await;
    let before = reqwest::Url::parse(&app.base).expect("URL");
    let _ = before;
    let response = browser.client.get(&callback).send().await.expect("callback");
    let after = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ti_session="))
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim_start_matches("ti_session=")
                .to_owned()
        })
        .expect("a new session cookie at sign-in");
    let rows: Vec<(String, String)> = stored_sessions(&app).await;
    assert!(
        rows.iter()
            .all(|(id, data)| !id.contains(&after) && !data.contains(&after))
    );
    assert!(rows.iter().any(|(id, _)| id == &app::auth::secret_hash(&after)));
}

async fn stored_sessions(app: &TestApp) -> Vec<(String, String)> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database");
    sqlx::query_as("SELECT id_hash, data FROM sessions")
        .fetch_all(&pool)
        .await
        .expect("sessions")
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_after_the_idle_timeout_and_the_maximum_age() {
    let idle = TestApp::spawn_with(|args| args.auth.idle_timeout = Duration::from_secs(2)).await;
    let browser = idle.signed_in("eli.eng").await;
    assert_eq!(browser.get("/").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_not_signed_in(&browser).await;

    let aged = TestApp::spawn_with(|args| args.auth.max_age = Duration::from_secs(3)).await;
    let browser = aged.signed_in("eli.eng").await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        assert_eq!(
            browser.get("/").await.0,
            StatusCode::OK,
            "active within the maximum age"
        );
    }
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_not_signed_in(&browser).await;
}

/// Creates a key through the account form and returns the secret from the page.
async fn create_key(browser: &common::Browser, name: &str, read_write: bool, days: &str) -> (StatusCode, String) {
    let mut form = vec![("name", name), ("expires_in_days", days)];
    if read_write {
        form.push(("read_write", "on"));
    }
    let response = browser.post_form("/account/api-keys", &form).await;
    let status = response.status();
    let page = response.text().await.unwrap_or_default();
    let secret = page
        .split("id=\"api-key-secret\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or(&page)
        .to_owned();
    (status, secret)
}

async fn with_key(app: &TestApp, key: &str, path: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .form(&[
            ("query[sort]", "name"),
            ("query[descending]", "false"),
            ("query[page]", "1"),
        ])
        .send()
        .await
        .expect("POST")
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_shown_once_stored_hashed_and_refused_when_revoked_or_expired() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (status, secret) = create_key(&browser, "weekly report", false, "30").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(secret.starts_with("ti_") && secret.len() > 40, "{secret}");

    // It works, for reading, as its owner.
    assert_eq!(with_key(&app, &secret, ListTokens::PATH).await, StatusCode::OK);
    let me: Value = reqwest::Client::new()
        .post(format!("{}{}", app.base, CurrentUser::PATH))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["username"], "eli.eng");
    assert_eq!(me["read_only"], true);
    // Read-only: it cannot make another key.
    let response = reqwest::Client::new()
        .post(format!("{}/account/api-keys", app.base))
        .bearer_auth(&secret)
        .form(&[("name", "sneaky"), ("expires_in_days", "10")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The list shows its prefix, never the secret; the database holds only a hash.
    let (_, page) = browser.get("/account/api-keys").await;
    assert!(page.contains("weekly report"));
    assert!(!page.contains(&secret));
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database");
    let rows: Vec<(String, String, String)> = sqlx::query_as("SELECT name, prefix, secret_hash FROM api_keys")
        .fetch_all(&pool)
        .await
        .expect("keys");
    let secret_part = secret.rsplit('_').next().unwrap_or_default();
    assert_eq!(rows.len(), 1);
    assert!(
        rows.iter()
            .all(|(n, p, h)| !n.contains(secret_part) && !p.contains(secret_part) && !h.contains(secret_part))
    );
    assert_eq!(rows[0].2, app::auth::secret_hash(secret_part));

    // A wrong secret with a right prefix, and garbage, are refused.
    // (The last character changed to one it is not.)
    let last = if secret.ends_with('x') { "y" } else { "x" };
    let forged = format!("{}{last}", &secret[..secret.len() - 1]);
    assert_ne!(forged, secret);
    assert_eq!(
        with_key(&app, &forged, ListTokens::PATH).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_key(&app, "nonsense", ListTokens::PATH).await,
        StatusCode::UNAUTHORIZED
    );

    // Expired: refused.
    sqlx::query("UPDATE api_keys SET expires_on = '2020-01-01'")
        .execute(&pool)
        .await
        .expect("expire");
    assert_eq!(
        with_key(&app, &secret, ListTokens::PATH).await,
        StatusCode::UNAUTHORIZED
    );
    sqlx::query("UPDATE api_keys SET expires_on = '2999-01-01'")
        .execute(&pool)
        .await
        .expect("unexpire");
    assert_eq!(with_key(&app, &secret, ListTokens::PATH).await, StatusCode::OK);

    // Revoked: refused. Someone else cannot revoke it.
    let id: (i64,) = sqlx::query_as("SELECT id FROM api_keys")
        .fetch_one(&pool)
        .await
        .expect("id");
    let other = app.signed_in("emma.eng").await;
    let response = other
        .post_form(&format!("/account/api-keys/{}/revoke", id.0), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(with_key(&app, &secret, ListTokens::PATH).await, StatusCode::OK);
    let response = browser
        .post_form(&format!("/account/api-keys/{}/revoke", id.0), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        with_key(&app, &secret, ListTokens::PATH).await,
        StatusCode::UNAUTHORIZED
    );

    // Bad input gets a clear message and a 4xx.
    let (status, page) = create_key(&browser, "", false, "30").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("give the key a name"), "{page}");
    let (status, page) = create_key(&browser, "forever", true, "4000").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("choose 1 to 365 days"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_are_secure_when_the_app_is_served_over_https() {
    let app = TestApp::spawn_with(|args| args.auth.public_url = Some("https://tokens.example.com".to_owned())).await;
    let response = app
        .browser()
        .client
        .get(format!("{}/auth/sign-in", app.base))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&response).contains("redirect_uri=https%3A%2F%2Ftokens.example.com%2Fauth%2Fcallback"),
        "{}",
        location(&response)
    );
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ti_session="))
        .expect("the sign-in under way is kept in a session")
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

/// A form POST with an API key instead of a session.
async fn post_with_key(app: &TestApp, key: &str, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .form(form)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

async fn database(app: &TestApp) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database")
}

/// The id of the key whose secret is `key` (`ti_<prefix>_<secret>`).
async fn key_id(pool: &sqlx::SqlitePool, key: &str) -> i64 {
    let prefix = key.split('_').nth(1).expect("prefix");
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM api_keys WHERE prefix = $1")
        .bind(prefix)
        .fetch_one(pool)
        .await
        .expect("the key is stored");
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_signed_in_person_makes_api_keys_and_a_key_revokes_only_itself() {
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    // A session makes keys, read-write ones included.
    let (status, read_write) = create_key(&browser, "automation", true, "365").await;
    assert_eq!(status, StatusCode::CREATED, "{read_write}");
    let (status, read_only) = create_key(&browser, "report", false, "30").await;
    assert_eq!(status, StatusCode::CREATED, "{read_only}");
    let (status, spare) = create_key(&browser, "spare", false, "30").await;
    assert_eq!(status, StatusCode::CREATED, "{spare}");

    // A key does not, whatever its scope: a key that made keys would never need its owner again.
    for key in [&read_write, &read_only] {
        let (status, page) = post_with_key(
            &app,
            key,
            "/account/api-keys",
            &[
                ("name", "the next one"),
                ("read_write", "on"),
                ("expires_in_days", "365"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("API keys cannot create API keys; sign in"), "{page}");
        assert!(!page.contains("api-key-secret"), "{page}");
    }
    let pool = database(&app).await;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 3, "no key was made with a key");

    // A key may revoke itself, even a read-only one (whoever finds a leaked key can end it), but
    // not its owner's other keys.
    let spare_id = key_id(&pool, &spare).await;
    let (status, page) = post_with_key(&app, &read_write, &format!("/account/api-keys/{spare_id}/revoke"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("an API key can revoke only itself"), "{page}");
    assert_eq!(with_key(&app, &spare, ListTokens::PATH).await, StatusCode::OK);
    let own = key_id(&pool, &read_only).await;
    let (status, page) = post_with_key(&app, &read_only, &format!("/account/api-keys/{own}/revoke"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(
        with_key(&app, &read_only, ListTokens::PATH).await,
        StatusCode::UNAUTHORIZED
    );
    // The session revokes any of its person's keys.
    let response = browser
        .post_form(&format!("/account/api-keys/{spare_id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(with_key(&app, &spare, ListTokens::PATH).await, StatusCode::UNAUTHORIZED);
    assert_eq!(with_key(&app, &read_write, ListTokens::PATH).await, StatusCode::OK);
}

/// A server function called with an API key: its status and body.
async fn read_with_key(app: &TestApp, key: &str) -> (StatusCode, String) {
    post_with_key(
        app,
        key,
        ListTokens::PATH,
        &[
            ("query[sort]", "name"),
            ("query[descending]", "false"),
            ("query[page]", "1"),
        ],
    )
    .await
}

async fn last_signed_in(pool: &sqlx::SqlitePool, username: &str, days_ago: i64) {
    sqlx::query("UPDATE users SET last_signed_in_at = $1 WHERE username = $2")
        .bind(chrono::Utc::now() - chrono::Duration::days(days_ago))
        .bind(username)
        .execute(pool)
        .await
        .expect("update");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_works_only_while_its_owner_signed_in_within_the_last_days() {
    // 30 days unless configured.
    let app = TestApp::spawn().await;
    let browser = app.signed_in("eli.eng").await;
    let (_, key) = create_key(&browser, "nightly report", true, "365").await;
    let pool = database(&app).await;
    last_signed_in(&pool, "eli.eng", 29).await;
    assert_eq!(read_with_key(&app, &key).await.0, StatusCode::OK);
    last_signed_in(&pool, "eli.eng", 31).await;
    let (status, body) = read_with_key(&app, &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("more than 30 days ago"), "{body}");
    assert!(body.contains("sign in"), "{body}");

    // API_KEY_SIGN_IN_MAX_AGE_DAYS; signing in again renews the roles and the key.
    let app = TestApp::spawn_with(|args| args.auth.api_key_sign_in_max_age_days = 7).await;
    let browser = app.signed_in("eli.eng").await;
    let (_, key) = create_key(&browser, "nightly report", true, "365").await;
    let pool = database(&app).await;
    last_signed_in(&pool, "eli.eng", 6).await;
    assert_eq!(read_with_key(&app, &key).await.0, StatusCode::OK);
    last_signed_in(&pool, "eli.eng", 8).await;
    let (status, body) = read_with_key(&app, &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("more than 7 days ago"), "{body}");
    app.signed_in("eli.eng").await;
    assert_eq!(read_with_key(&app, &key).await.0, StatusCode::OK);
}

fn sync_settings(app: &TestApp, token: &str, strategy: server::sync::StrategyChoice) -> server::sync::SyncSettings {
    let mut settings =
        server::sync::SyncSettings::new(app.sim.url.clone(), secrecy::SecretString::from(token.to_owned()));
    settings.strategy = strategy;
    settings.client.backoff_base = Duration::from_millis(5);
    settings.client.backoff_cap = Duration::from_millis(50);
    settings.client.attempts = 2;
    settings.lease_ttl = Duration::from_secs(2);
    settings
}

async fn sync_now(app: &TestApp, token: &str, strategy: server::sync::StrategyChoice) -> server::sync::SyncOutcome {
    server::sync::run(
        app.repo.clone(),
        &sync_settings(app, token, strategy),
        domain::SyncTrigger::CommandLine,
        None,
    )
    .await
    .expect("sync runs")
}

/// Changes the simulated GitLab through its control API.
async fn in_gitlab(app: &TestApp, mutations: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/-/sim/mutations", app.sim.url))
        .header("PRIVATE-TOKEN", &app.sim.credentials.admin_token)
        .json(&mutations)
        .send()
        .await
        .expect("mutations");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_stops_working_once_sync_finds_its_owner_blocked_or_gone_in_gitlab() {
    use domain::SyncStatus;
    use server::sync::StrategyChoice;
    let app = TestApp::spawn().await;
    let mut keys = std::collections::BTreeMap::new();
    for username in ["eli.eng", "emma.eng", "erin.lead", "pat.lead", "paula.eng"] {
        let browser = app.signed_in(username).await;
        let (status, key) = create_key(&browser, "automation", true, "90").await;
        assert_eq!(status, StatusCode::CREATED);
        keys.insert(username, key);
    }
    let works = async |username: &str| read_with_key(&app, &keys[username]).await;

    // GitLab blocks Eli and deletes Emma. Until a sync reads it, the inventory does not know.
    in_gitlab(
        &app,
        serde_json::json!([
            {"op": "set_user_state", "user_id": app.user_id("eli.eng"), "state": "blocked"},
            {"op": "delete_user", "user_id": app.user_id("emma.eng")},
        ]),
    )
    .await;
    assert_eq!(works("eli.eng").await.0, StatusCode::OK);
    let outcome = sync_now(&app, &app.sim.credentials.admin_token, StrategyChoice::Auto).await;
    assert_eq!(outcome.status, SyncStatus::Succeeded, "{:?}", outcome.errors);
    let (status, body) = works("eli.eng").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("blocked in GitLab"), "{body}");
    let (status, body) = works("emma.eng").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("no longer exists in GitLab"), "{body}");
    assert_eq!(
        works("erin.lead").await.0,
        StatusCode::OK,
        "an active owner's key works"
    );

    // A group owner's credential reads the same (here: Pat deactivated). GitLab failing to answer
    // for Erin, just blocked, changes nothing for Erin: a key is not cut off on a missing answer,
    // and the run says what it could not read.
    let erin = app.user_id("erin.lead");
    in_gitlab(
        &app,
        serde_json::json!([
            {"op": "set_user_state", "user_id": app.user_id("pat.lead"), "state": "deactivated"},
            {"op": "set_user_state", "user_id": erin, "state": "blocked"},
        ]),
    )
    .await;
    app.sim.state.faults.set(gitlab_sim::faults::Faults {
        fail_path: Some(format!("/api/v4/users/{erin}")),
        ..gitlab_sim::faults::Faults::default()
    });
    let outcome = sync_now(&app, &app.sim.credentials.group_owner_token, StrategyChoice::GroupOwner).await;
    app.sim.state.faults.set(gitlab_sim::faults::Faults::default());
    assert_eq!(outcome.status, SyncStatus::Partial, "{:?}", outcome.errors);
    assert!(
        outcome.errors.iter().any(|e| e.scope.contains("erin.lead")),
        "{:?}",
        outcome.errors
    );
    let (status, body) = works("pat.lead").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("deactivated in GitLab"), "{body}");
    assert_eq!(works("erin.lead").await.0, StatusCode::OK);
    assert_eq!(works("paula.eng").await.0, StatusCode::OK);
    assert_eq!(works("eli.eng").await.0, StatusCode::UNAUTHORIZED, "still blocked");

    // Reactivated in GitLab, Pat signs in again: the key works again at once.
    in_gitlab(
        &app,
        serde_json::json!([{"op": "set_user_state", "user_id": app.user_id("pat.lead"), "state": "active"}]),
    )
    .await;
    app.signed_in("pat.lead").await;
    assert_eq!(works("pat.lead").await.0, StatusCode::OK);
}
