//! The sync credential and the OAuth client's secrets go to the configured GitLab only: a hostile
//! stand-in that redirects, or links the next page elsewhere, gets the request refused, and the
//! other listener never hears from us.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    db::Repo,
    domain::{SyncStatus, SyncTrigger, TokenKind},
    server::inventory::TokenQuery,
};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use gitlab_sim::{Scenario, SimConfig, SimHandle};
use secrecy::SecretString;
use server::{
    auth::oauth::{GitLabOAuth, OAuthSettings, SignInError},
    sync::{
        self, StrategyChoice, SyncSettings,
        client::{ClientError, ClientOptions, GitLabClient},
    },
};

const TOKEN: &str = "glpat-the-sync-credential";

/// Serves `router(own URL)` on a port of its own; returns its URL.
async fn serve(router: impl FnOnce(String) -> Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = router(url.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Another host: records the headers of every request it gets and answers an empty listing, as a
/// thief would to keep sync going.
struct Elsewhere {
    url: String,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Elsewhere {
    async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let url = serve(move |_| {
            Router::new().fallback(move |request: Request| {
                let record = record.clone();
                async move {
                    record.lock().expect("record").push(request.headers().clone());
                    let body = if request.uri().path().starts_with("/api/v4/") {
                        "[]"
                    } else {
                        r#"{"access_token": "stolen", "token_type": "Bearer", "id": 1, "sub": "1"}"#
                    };
                    ([(header::CONTENT_TYPE, "application/json")], body)
                }
            })
        })
        .await;
        Elsewhere { url, seen }
    }

    /// Asserts nothing reached this listener, with or without a credential.
    fn assert_untouched(&self) {
        let seen = self.seen.lock().expect("seen");
        let with_credential = seen
            .iter()
            .filter(|h| h.contains_key("private-token") || h.contains_key(header::AUTHORIZATION))
            .count();
        assert_eq!(with_credential, 0, "the credential reached another host: {seen:?}");
        assert!(seen.is_empty(), "another host was asked: {seen:?}");
    }
}

fn client(url: &str) -> Arc<GitLabClient> {
    GitLabClient::new(
        url,
        SecretString::from(TOKEN.to_owned()),
        ClientOptions {
            attempts: 3,
            backoff_base: Duration::from_millis(5),
            backoff_cap: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            concurrency: 4,
        },
    )
    .expect("client")
}

fn redirect(status: StatusCode, to: String) -> Response {
    (status, [(header::LOCATION, to)]).into_response()
}

#[tokio::test]
async fn a_listing_that_redirects_elsewhere_fails_and_the_credential_stays_home() {
    for status in [StatusCode::FOUND, StatusCode::TEMPORARY_REDIRECT] {
        let elsewhere = Elsewhere::start().await;
        let asked = Arc::new(Mutex::new(0));
        let count = asked.clone();
        let target = format!("{}/api/v4/projects/1/access_tokens?per_page=100&page=1", elsewhere.url);
        let gitlab = serve(move |_| {
            Router::new().route(
                "/api/v4/projects/1/access_tokens",
                get(move || {
                    *count.lock().expect("count") += 1;
                    let target = target.clone();
                    async move { redirect(status, target) }
                }),
            )
        })
        .await;

        let error = client(&gitlab)
            .all_pages::<serde_json::Value>("/projects/1/access_tokens")
            .await
            .expect_err("a redirect is no listing");
        assert!(matches!(error, ClientError::Redirected { .. }), "{status}: {error:?}");
        let message = error.to_string();
        assert!(message.starts_with("/projects/1/access_tokens: "), "{message}");
        assert!(message.contains("redirect"), "{message}");
        assert!(!message.contains("127.0.0.1") && !message.contains('?'), "{message}");
        assert_eq!(*asked.lock().expect("asked"), 1, "a redirect is not retried");
        elsewhere.assert_untouched();
    }
}

/// A keyset page: `[{"id": 1}]` with `Link: <next>; rel="next"`.
fn keyset_page(next: Option<String>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], r#"[{"id": 1}]"#).into_response();
    if let Some(next) = next {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")).expect("link"),
        );
    }
    response
}

#[tokio::test]
async fn a_next_page_linked_elsewhere_fails_the_listing_and_is_not_asked() {
    let elsewhere = Elsewhere::start().await;
    // Another host, the same host under another scheme, or GitLab's own origin outside its API:
    // none of them is asked.
    let cases: [fn(&str, &str) -> String; 4] = [
        |_, other| format!("{other}/api/v4/users?id_after=1&pagination=keyset"),
        |own, _| format!("{}/api/v4/users?id_after=1", own.replacen("http://", "https://", 1)),
        |own, _| format!("{own}/admin/keys?id_after=1"),
        |own, _| format!("{own}/api/v4/../../admin?id_after=1"),
    ];
    for case in cases {
        let other = elsewhere.url.clone();
        let gitlab = serve(move |own| {
            let next = case(&own, &other);
            Router::new()
                .route(
                    "/api/v4/users",
                    get(move || {
                        let next = next.clone();
                        async move { keyset_page(Some(next)) }
                    }),
                )
                .fallback(|| async { StatusCode::IM_A_TEAPOT })
        })
        .await;
        let error = client(&gitlab)
            .all_keyset::<serde_json::Value>("/users")
            .await
            .expect_err("a link elsewhere fails the listing");
        assert!(
            matches!(error, ClientError::Elsewhere { .. }),
            "{}: {error:?}",
            case(&gitlab, &elsewhere.url)
        );
        let message = error.to_string();
        assert!(message.starts_with("/users: "), "{message}");
        assert!(!message.contains("127.0.0.1") && !message.contains('?'), "{message}");
    }
    elsewhere.assert_untouched();
}

#[tokio::test]
async fn a_next_page_on_gitlabs_own_api_is_followed() {
    let gitlab = serve(|own| {
        Router::new().route(
            "/api/v4/users",
            get(move |request: Request| {
                let next = format!("{own}/api/v4/users?id_after=1&pagination=keyset");
                async move {
                    if request.uri().query().is_some_and(|q| q.contains("id_after=1")) {
                        ([(header::CONTENT_TYPE, "application/json")], r#"[{"id": 2}]"#).into_response()
                    } else {
                        keyset_page(Some(next))
                    }
                }
            }),
        )
    })
    .await;
    let users = client(&gitlab)
        .all_keyset::<serde_json::Value>("/users")
        .await
        .expect("both pages");
    assert_eq!(users, [serde_json::json!({"id": 1}), serde_json::json!({"id": 2})]);
}

// The whole sync engine, against gitlab-sim behind a stand-in that turns hostile on two listings.

/// Forwards every request to gitlab-sim, with its `Link`s pointing back at itself; but answers
/// the project listing with a redirect elsewhere, and links the users listing's next page there.
#[derive(Clone)]
struct Hostile {
    sim: String,
    own: String,
    elsewhere: String,
    http: reqwest::Client,
}

async fn hostile(State(hostile): State<Hostile>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    if path == "/api/v4/projects" {
        return redirect(StatusCode::TEMPORARY_REDIRECT, format!("{}{target}", hostile.elsewhere));
    }
    let mut forward = hostile.http.get(format!("{}{target}", hostile.sim));
    for (name, value) in request.headers() {
        if name != header::HOST {
            forward = forward.header(name, value);
        }
    }
    let Ok(answer) = forward.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name == header::LINK {
            let link = value.to_str().unwrap_or_default().replace(&hostile.sim, &hostile.own);
            response = response.header(name, link);
        } else if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    if path == "/api/v4/users" {
        response = response.header(
            header::LINK,
            format!(
                "<{}/api/v4/users?id_after=1&per_page=100>; rel=\"next\"",
                hostile.elsewhere
            ),
        );
    }
    let body = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// Every stored token and whether it is marked gone.
async fn stored(repo: &Repo) -> BTreeMap<(TokenKind, i64), bool> {
    let today = chrono::Utc::now().date_naive();
    let mut found = BTreeMap::new();
    let mut query = TokenQuery {
        page: 1,
        ..TokenQuery::default()
    };
    loop {
        let (tokens, total) = repo.list_tokens(&query, today).await.expect("list tokens");
        let last = tokens.is_empty();
        found.extend(
            tokens
                .into_iter()
                .map(|t| ((t.kind, t.gitlab_id), t.gone_since.is_some())),
        );
        if last || found.len() as u64 >= total {
            return found;
        }
        query.page += 1;
    }
}

fn settings(url: &str, sim: &SimHandle) -> SyncSettings {
    let mut settings = SyncSettings::new(url, SecretString::from(sim.credentials.admin_token.clone()));
    settings.strategy = StrategyChoice::Administrator;
    settings.client.backoff_base = Duration::from_millis(5);
    settings.client.backoff_cap = Duration::from_millis(50);
    settings.client.attempts = 3;
    settings.client.timeout = Duration::from_secs(5);
    settings.lease_ttl = Duration::from_secs(2);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_through_a_hostile_gitlab_ends_partial_and_marks_nothing_gone() {
    let sim = gitlab_sim::spawn(SimConfig {
        scenario: Scenario::Small,
        seed: 31,
        rate_limit_per_minute: 1_000_000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temporary folder");
    let repo = server::open_database(&format!("sqlite://{}", dir.path().join("sync.db").display()))
        .await
        .expect("database");
    let clean = sync::run(repo.clone(), &settings(&sim.url, &sim), SyncTrigger::CommandLine, None)
        .await
        .expect("clean sync");
    assert_eq!(clean.status, SyncStatus::Succeeded, "{:?}", clean.errors);
    let before = stored(&repo).await;
    assert!(!before.is_empty() && before.values().all(|gone| !gone));

    let elsewhere = Elsewhere::start().await;
    let (sim_url, other) = (sim.url.clone(), elsewhere.url.clone());
    let gitlab = serve(move |own| {
        Router::new().fallback(hostile).with_state(Hostile {
            sim: sim_url,
            own,
            elsewhere: other,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        })
    })
    .await;
    let outcome = sync::run(repo.clone(), &settings(&gitlab, &sim), SyncTrigger::CommandLine, None)
        .await
        .expect("sync runs");
    elsewhere.assert_untouched();
    assert_eq!(outcome.status, SyncStatus::Partial, "{:?}", outcome.errors);
    let scopes: Vec<&str> = outcome.errors.iter().map(|e| e.scope.as_str()).collect();
    assert_eq!(scopes.len(), 2, "{:?}", outcome.errors);
    assert!(scopes.contains(&"projects") && scopes.contains(&"users"), "{scopes:?}");
    for error in &outcome.errors {
        assert!(!error.message.contains("127.0.0.1"), "{error:?}");
    }
    assert_eq!(outcome.progress.tokens_gone, 0);
    assert_eq!(stored(&repo).await, before, "nothing marked gone");
}

// OAuth: the code, the client secret and the person's GitLab token go to the configured GitLab.

fn oauth(gitlab: &str) -> GitLabOAuth {
    GitLabOAuth::new(&OAuthSettings {
        gitlab_url: gitlab.to_owned(),
        client_id: "the-client-id".to_owned(),
        client_secret: SecretString::from("the-client-secret".to_owned()),
        redirect_url: "http://127.0.0.1:9/auth/callback".to_owned(),
    })
    .expect("oauth client")
}

#[tokio::test]
async fn a_token_endpoint_that_redirects_gets_no_code_sent_on() {
    let elsewhere = Elsewhere::start().await;
    let other = elsewhere.url.clone();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let record = bodies.clone();
    let gitlab = serve(move |_| {
        Router::new().route(
            "/oauth/token",
            post(move |body: String| {
                record.lock().expect("record").push(body);
                let to = format!("{other}/oauth/token");
                async move { redirect(StatusCode::TEMPORARY_REDIRECT, to) }
            }),
        )
    })
    .await;
    let oauth = oauth(&gitlab);
    let (_, pending) = oauth.authorize("/".to_owned());
    let result = oauth.finish("the-code".to_owned(), &pending).await;
    let bodies = bodies.lock().expect("bodies").clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(
        bodies[0].contains("code=the-code"),
        "the configured GitLab was asked: {bodies:?}"
    );
    elsewhere.assert_untouched();
    assert!(
        matches!(result, Err(SignInError::Unreachable | SignInError::CodeRefused)),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn profile_reads_that_redirect_are_not_followed() {
    let elsewhere = Elsewhere::start().await;
    let other = elsewhere.url.clone();
    let gitlab = serve(move |_| {
        let away = move |path: &'static str| {
            let to = format!("{other}{path}");
            get(move || {
                let to = to.clone();
                async move { redirect(StatusCode::TEMPORARY_REDIRECT, to) }
            })
        };
        Router::new()
            .route(
                "/oauth/token",
                post(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"access_token": "the-persons-token", "token_type": "Bearer", "expires_in": 7200}"#,
                    )
                }),
            )
            .route("/api/v4/user", away("/api/v4/user"))
            .route("/oauth/userinfo", away("/oauth/userinfo"))
    })
    .await;
    let oauth = oauth(&gitlab);
    let (_, pending) = oauth.authorize("/".to_owned());
    let result = oauth.finish("the-code".to_owned(), &pending).await;
    elsewhere.assert_untouched();
    assert!(matches!(result, Err(SignInError::BadProfile)), "{:?}", result.err());
}
