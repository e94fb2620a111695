//! The OAuth2 provider: authorization code with PKCE and state, and its failures.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gitlab_sim::{Scenario, SimConfig, SimHandle};
use reqwest::{StatusCode, redirect::Policy};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://app.test/auth/callback";
const VERIFIER: &str = "a-code-verifier-that-is-long-enough-to-satisfy-rfc-7636-rules";

async fn sim() -> SimHandle {
    gitlab_sim::spawn(SimConfig {
        scenario: Scenario::Demo,
        redirect_uris: vec![REDIRECT.to_owned()],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn user_id(sim: &SimHandle, username: &str) -> u64 {
    let world = sim.state.world.read().expect("world");
    world
        .users
        .values()
        .find(|u| u.username == username)
        .map(|u| u.id)
        .expect("user")
}

/// The query of a redirect's `Location`, as pairs.
fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(location.starts_with(REDIRECT), "redirected to {location}");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    serde_urlencoded::from_str(query).expect("query")
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Signs `username` in through the consent form and returns the redirect's parameters.
async fn sign_in(sim: &SimHandle, username: &str, decision: &str, state: &str) -> Vec<(String, String)> {
    let form = [
        ("client_id", sim.credentials.oauth_client_id.clone()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("response_type", "code".to_owned()),
        ("state", state.to_owned()),
        ("scope", "read_user openid".to_owned()),
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".to_owned()),
        ("user_id", user_id(sim, username).to_string()),
        ("decision", decision.to_owned()),
    ];
    let response = client()
        .post(format!("{}/oauth/authorize", sim.url))
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location_params(&response)
}

async fn exchange(sim: &SimHandle, code: &str, verifier: &str, secret: &str, redirect: &str) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/oauth/token", sim.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", &sim.credentials.oauth_client_id),
            ("client_secret", secret),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_authorization_code_flow_with_pkce_signs_a_person_in() {
    let sim = sim().await;
    let page = client()
        .get(format!(
            "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&state=xyz&scope=read_user&code_challenge={}&code_challenge_method=S256",
            sim.url,
            sim.credentials.oauth_client_id,
            urlencode(REDIRECT),
            challenge(VERIFIER)
        ))
        .send()
        .await
        .expect("authorize page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("Sign in as Erin Lead (erin.lead)"));
    assert!(!html.contains("project_"), "bots cannot sign in");

    let back = sign_in(&sim, "erin.lead", "approve", "xyz").await;
    assert_eq!(param(&back, "state"), Some("xyz"));
    let code = param(&back, "code").expect("code").to_owned();
    let secret = sim.credentials.oauth_client_secret.clone();
    let (status, token) = exchange(&sim, &code, VERIFIER, &secret, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 7200);
    let access = token["access_token"].as_str().expect("access token").to_owned();

    let me: Value = client()
        .get(format!("{}/api/v4/user", sim.url))
        .bearer_auth(&access)
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["username"], "erin.lead");
    let info: Value = client()
        .get(format!("{}/oauth/userinfo", sim.url))
        .bearer_auth(&access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("JSON");
    assert_eq!(info["nickname"], "erin.lead", "{info}");
    assert!(
        info["groups"]
            .as_array()
            .is_some_and(|g| g.iter().any(|p| p == "acme/engineering-productivity"))
    );
    // Erin leads Engineering Productivity: GitLab's per-role claim says Maintainer there.
    assert_eq!(
        info["https://gitlab.org/claims/groups/maintainer"],
        serde_json::json!(["acme/engineering-productivity"]),
        "{info}"
    );
    assert_eq!(info["https://gitlab.org/claims/groups/owner"], serde_json::json!([]));
    // An OAuth token with read_user reads the user, not the rest of the API.
    let groups = client()
        .get(format!("{}/api/v4/groups", sim.url))
        .bearer_auth(&access)
        .send()
        .await
        .expect("groups");
    assert_eq!(groups.status(), StatusCode::FORBIDDEN);

    // A refresh gives a new pair and ends the old one.
    let refreshed: Value = client()
        .post(format!("{}/oauth/token", sim.url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token["refresh_token"].as_str().unwrap_or("")),
            ("client_id", &sim.credentials.oauth_client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("JSON");
    assert_ne!(refreshed["access_token"], token["access_token"]);
    let old = client()
        .get(format!("{}/api/v4/user", sim.url))
        .bearer_auth(&access)
        .send()
        .await
        .expect("user");
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    // Revoked tokens stop working.
    let new_access = refreshed["access_token"].as_str().unwrap_or("").to_owned();
    let revoked = client()
        .post(format!("{}/oauth/revoke", sim.url))
        .form(&[
            ("token", new_access.as_str()),
            ("client_id", &sim.credentials.oauth_client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = client()
        .get(format!("{}/api/v4/user", sim.url))
        .bearer_auth(&new_access)
        .send()
        .await
        .expect("user");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_code_fails_with_the_wrong_secret_verifier_or_redirect_and_works_once() {
    let sim = sim().await;
    let secret = sim.credentials.oauth_client_secret.clone();

    let code = param(&sim_code(&sim).await, "code").expect("code").to_owned();
    let (status, body) = exchange(&sim, &code, VERIFIER, "gloas-wrong", REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );

    let code = param(&sim_code(&sim).await, "code").expect("code").to_owned();
    let (status, body) = exchange(&sim, &code, "not-the-verifier", &secret, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let code = param(&sim_code(&sim).await, "code").expect("code").to_owned();
    let (status, body) = exchange(&sim, &code, VERIFIER, &secret, "http://evil.test/callback").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let code = param(&sim_code(&sim).await, "code").expect("code").to_owned();
    let (status, first) = exchange(&sim, &code, VERIFIER, &secret, REDIRECT).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = exchange(&sim, &code, VERIFIER, &secret, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "a code works once"
    );
    let access = first["access_token"].as_str().unwrap_or("");
    let user = client()
        .get(format!("{}/api/v4/user", sim.url))
        .bearer_auth(access)
        .send()
        .await
        .expect("user");
    assert_eq!(
        user.status(),
        StatusCode::UNAUTHORIZED,
        "replaying a code revokes what it gave"
    );

    let (status, body) = exchange(&sim, "no-such-code", VERIFIER, &secret, REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

async fn sim_code(sim: &SimHandle) -> Vec<(String, String)> {
    sign_in(sim, "sam.security", "approve", "s1").await
}

#[tokio::test]
async fn denied_consent_and_bad_requests_fail_as_gitlab_fails_them() {
    let sim = sim().await;
    let denied = sign_in(&sim, "erin.lead", "deny", "st8").await;
    assert_eq!(param(&denied, "error"), Some("access_denied"));
    assert_eq!(param(&denied, "state"), Some("st8"));
    assert_eq!(param(&denied, "code"), None);

    let id = sim.credentials.oauth_client_id.clone();
    let authorize = |query: String| {
        let url = format!("{}/oauth/authorize?{query}", sim.url);
        async move { client().get(url).send().await.expect("authorize") }
    };
    // An unknown redirect URI or client gets an error page, never a redirect.
    let unknown_redirect = authorize(format!(
        "client_id={id}&redirect_uri={}&response_type=code&state=a",
        urlencode("http://evil.test/cb")
    ))
    .await;
    assert_eq!(unknown_redirect.status(), StatusCode::BAD_REQUEST);
    assert!(unknown_redirect.headers().get("location").is_none());
    let unknown_client = authorize(format!(
        "client_id=nope&redirect_uri={}&response_type=code",
        urlencode(REDIRECT)
    ))
    .await;
    assert_eq!(unknown_client.status(), StatusCode::UNAUTHORIZED);

    let bad_scope = authorize(format!(
        "client_id={id}&redirect_uri={}&response_type=code&state=b&scope=api",
        urlencode(REDIRECT)
    ))
    .await;
    let pairs = location_params(&bad_scope);
    assert_eq!(
        (param(&pairs, "error"), param(&pairs, "state")),
        (Some("invalid_scope"), Some("b"))
    );
    let bad_type = authorize(format!(
        "client_id={id}&redirect_uri={}&response_type=token",
        urlencode(REDIRECT)
    ))
    .await;
    assert_eq!(
        param(&location_params(&bad_type), "error"),
        Some("unsupported_response_type")
    );
    let bad_method = authorize(format!(
        "client_id={id}&redirect_uri={}&response_type=code&code_challenge=x&code_challenge_method=S512",
        urlencode(REDIRECT)
    ))
    .await;
    assert_eq!(param(&location_params(&bad_method), "error"), Some("invalid_request"));
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_owned()
}
