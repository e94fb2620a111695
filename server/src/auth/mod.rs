//! Sign-in with GitLab (OAuth2 authorization code + PKCE), sessions in the database, and the
//! gates every request passes: pages need a signed-in person, state-changing requests must come
//! from this site.
//!
//! - `GET /auth/sign-in?next=/path`: remembers a fresh `state` and PKCE verifier in the session
//!   and sends the person to GitLab.
//! - `GET /auth/callback`: checks `state` (once: it is taken out of the session), exchanges the
//!   code with the verifier, records the person, their roles and teams, rotates the session id
//!   and goes back to `next`.
//! - `POST /auth/sign-out`: ends the session (the row is deleted, the cookie cleared).

pub mod oauth;
pub mod pages;
pub mod session_store;

use std::sync::Arc;

use app::{
    auth::{MaybeViewer, SESSION_SIGNED_IN_AT, SESSION_USER_ID},
    db::{ConfiguredTeam, Repo},
    domain::{RolePolicy, ownership::looks_like_a_secret, people},
    error::AppError,
    state::AppState,
};
use axum::{
    Router,
    extract::{FromRequestParts, Query, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use self::oauth::{GitLabOAuth, PendingSignIn};

const SESSION_PENDING: &str = "oauth_pending";

/// What the sign-in routes and gates need.
#[derive(Clone)]
pub struct AuthState {
    pub oauth: Option<GitLabOAuth>,
    pub roles: Arc<RolePolicy>,
    /// `scheme://host[:port]` of the public URL: the only origin allowed to change things.
    pub origin: String,
    /// The public URL, which `next` is read against after sign-in.
    pub public_url: url::Url,
    /// How many sign-ins one address may start a minute (0: no limit).
    pub sign_in_rate: u32,
}

/// What the teams file says: the teams, and where each team's alerts go.
#[derive(Debug, Default)]
pub struct TeamsFile {
    pub teams: Vec<ConfiguredTeam>,
    pub channels: crate::alerts::config::TeamChannels,
}

/// Reads the teams file: `[[team]]` tables with `name`, `group_paths`, `leads` and the team's
/// alert channels (`webhook_url`, `emails`), and an optional `[security]` table with security's
/// channels for the organisation's digest. `${VAR}` in a webhook URL is read from the environment.
pub fn read_teams_file(path: &std::path::Path) -> anyhow::Result<TeamsFile> {
    read_teams_file_with(path, &|name| std::env::var(name).ok())
}

/// [`read_teams_file`] with the variables `env` gives.
pub fn read_teams_file_with(path: &std::path::Path, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<TeamsFile> {
    use crate::alerts::config::{ChannelEntry, TeamChannels};
    use anyhow::Context;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        team: Vec<Team>,
        #[serde(default)]
        security: ChannelEntry,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Team {
        name: String,
        group_paths: Vec<String>,
        #[serde(default)]
        leads: Vec<String>,
        #[serde(default)]
        webhook_url: Option<String>,
        #[serde(default)]
        emails: Vec<String>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the teams file {}", path.display()))?;
    let file: File =
        toml::from_str(&text).with_context(|| format!("the teams file {} is not valid", path.display()))?;
    let in_file = |error: anyhow::Error| anyhow::anyhow!("the teams file {}: {error}", path.display());
    let mut channels = TeamChannels {
        security: file.security.check("[security]", env).map_err(in_file)?,
        ..TeamChannels::default()
    };
    let mut teams = Vec::with_capacity(file.team.len());
    for team in file.team {
        anyhow::ensure!(!team.name.trim().is_empty(), "a team in {} has no name", path.display());
        let entry = ChannelEntry {
            webhook_url: team.webhook_url,
            emails: team.emails,
        };
        let checked = entry.check(&format!("team {}", team.name), env).map_err(in_file)?;
        channels.teams.insert(team.name.clone(), checked);
        teams.push(ConfiguredTeam {
            name: team.name,
            group_paths: team.group_paths,
            leads: team.leads,
        });
    }
    Ok(TeamsFile { teams, channels })
}

/// The sign-in routes. Starting a sign-in writes a session row, so one address may start only
/// `sign_in_rate` a minute (a burst of that many, then one every `60 / rate` seconds; 429 with
/// `Retry-After` beyond), counted by the peer address (behind a reverse proxy: the proxy's).
pub fn routes(sign_in_rate: u32) -> Router<(AppState, AuthState)> {
    let start = get(sign_in);
    let start = match sign_in_limit(sign_in_rate) {
        Some(limit) => start.layer(limit),
        None => start,
    };
    Router::new()
        .route(PUBLIC_ROUTES[0], start)
        .route(PUBLIC_ROUTES[1], get(callback))
        .route(PUBLIC_ROUTES[2], post(sign_out))
        .route(PUBLIC_ROUTES[3], get(signed_out))
}

/// The sign-in routes, which anyone may reach.
const PUBLIC_ROUTES: [&str; 4] = ["/auth/sign-in", "/auth/callback", "/auth/sign-out", "/auth/signed-out"];

type SignInLimit = tower_governor::GovernorLayer<
    tower_governor::key_extractor::PeerIpKeyExtractor,
    governor::middleware::NoOpMiddleware<governor::clock::QuantaInstant>,
    axum::body::Body,
>;

fn sign_in_limit(per_minute: u32) -> Option<SignInLimit> {
    let per_minute = std::num::NonZeroU32::new(per_minute)?;
    let config = tower_governor::governor::GovernorConfigBuilder::default()
        .period(std::time::Duration::from_secs(60) / per_minute.get())
        .burst_size(per_minute.get())
        .finish()?;
    let config = Arc::new(config);
    // Forget addresses that have not been seen for a while, so the table stays small.
    let limiter = Arc::clone(config.limiter());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            limiter.retain_recent();
        }
    });
    Some(tower_governor::GovernorLayer::new(config))
}

/// A sign-in under way lives this long; the session it is kept in is written with this expiry,
/// so a browser that never comes back leaves a row that expires in minutes, not hours.
const PENDING_SIGN_IN_MINUTES: i64 = 10;

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
}

/// `next` is not an address to go back to: it holds control characters.
#[derive(Debug, PartialEq, Eq)]
struct UnreadableNext;

/// Where to go after sign-in: a path of this site only. `next` is read against the public URL
/// as a browser would read it (the `url` crate follows the WHATWG URL standard, which browsers
/// do: a tab or a backslash after the first `/` makes `//host`), and kept only when the result
/// has the public URL's origin; it comes back as the parsed path and query (dot segments
/// resolved). Control characters are refused: browsers drop some and a `Location` header cannot
/// hold others. Anything that looks like a token's secret is left out, so a secret pasted into
/// an address is neither stored in the session nor shown on the sign-in page.
fn local_path(next: Option<&str>, public_url: &url::Url) -> Result<String, UnreadableNext> {
    let Some(next) = next else {
        return Ok("/".to_owned());
    };
    if next.chars().any(char::is_control) {
        return Err(UnreadableNext);
    }
    if !next.starts_with('/') {
        return Ok("/".to_owned());
    }
    let Ok(target) = public_url.join(next) else {
        return Ok("/".to_owned());
    };
    let path = &target[url::Position::BeforePath..];
    // What is sent back must read the same again: `/./\\/evil.example` resolves to a path that
    // starts `//`, which a browser reads as another host.
    let reread = public_url.join(path).ok();
    if target.origin() != public_url.origin() || path.starts_with("//") || reread.as_ref() != Some(&target) {
        return Ok("/".to_owned());
    }
    Ok(without_secrets(path))
}

/// `target` (a path and query) without anything that looks like a secret: `/` when the path
/// holds one (token characters never need escaping, so the raw path shows it), else the query
/// without the pairs whose name or value holds one.
fn without_secrets(target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if looks_like_a_secret(path) {
        return "/".to_owned();
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let secret = |(name, value): &&(String, String)| looks_like_a_secret(name) || looks_like_a_secret(value);
    if !pairs.iter().any(|pair| secret(&pair)) {
        return target.to_owned();
    }
    let kept = app::query_string(
        pairs
            .iter()
            .filter(|pair| !secret(pair))
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{kept}")
    }
}

async fn sign_in(
    State((_, auth)): State<(AppState, AuthState)>,
    session: Session,
    Query(query): Query<SignInQuery>,
) -> Response {
    let Some(oauth) = &auth.oauth else {
        return pages::not_configured();
    };
    let Ok(next) = local_path(query.next.as_deref(), &auth.public_url) else {
        return pages::failed(
            StatusCode::BAD_REQUEST,
            "The address to return to after sign-in is not valid. Please sign in again from the page you want.",
        );
    };
    let (url, pending) = oauth.authorize(next);
    // A session holding only a sign-in under way expires in minutes; the callback's session (a
    // new id, the user) gets the usual expiry.
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(
        tower_sessions::cookie::time::Duration::minutes(PENDING_SIGN_IN_MINUTES),
    )));
    if let Err(error) = session.insert(SESSION_PENDING, &pending).await {
        tracing::error!(error.message = %error, "sign-in: the session store failed");
        return pages::failed(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The sign-in could not be started. Please try again.",
        );
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State((app, auth)): State<(AppState, AuthState)>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(oauth) = &auth.oauth else {
        return pages::not_configured();
    };
    // A callback with no sign-in under way in this browser is someone else's link: it is
    // refused with a fixed message, and the session (perhaps signed in) is left as it is.
    let pending: Option<PendingSignIn> = session.get(SESSION_PENDING).await.ok().flatten();
    let Some(pending) = pending else {
        return pages::failed(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired or was already used. Please sign in again.",
        );
    };
    // Taken out whatever happens next: a state and a code are good for one try.
    if let Err(error) = session.remove_value(SESSION_PENDING).await {
        tracing::error!(error.message = %error, "sign-in: the session store failed");
    }
    let signed_in = async {
        let code = answered_code(query, &pending)?;
        let (profile, groups) = oauth
            .finish(code, &pending)
            .await
            .map_err(|error| (StatusCode::BAD_REQUEST, error.to_string()))?;
        let user_id = record_sign_in(&app, &auth, &profile, &groups).await?;
        start_session(&session, user_id).await?;
        tracing::info!(user.id = user_id, user.username = %profile.username, "signed in");
        Ok::<_, Refusal>(())
    };
    match signed_in.await {
        Ok(()) => Redirect::to(&pending.next).into_response(),
        Err((status, message)) => {
            if let Err(error) = session.flush().await {
                tracing::error!(error.message = %error, "sign-in: the session store failed");
            }
            pages::failed(status, &message)
        }
    }
}

/// Why a sign-in is refused: the status and the sentence the person reads.
type Refusal = (StatusCode, String);

fn refusal(status: StatusCode, message: &str) -> Refusal {
    (status, message.to_owned())
}

/// The code GitLab's answer carries, once the answer is this browser's sign-in (its state).
fn answered_code(query: CallbackQuery, pending: &PendingSignIn) -> Result<String, Refusal> {
    if let Some(error) = query.error {
        // GitLab's error code picks one of our sentences; its text (and the description, which
        // anyone can put in a link) is only logged.
        tracing::info!(oauth.error = %error.chars().take(64).collect::<String>(), "sign-in: GitLab did not sign the person in");
        let message = if error == "access_denied" {
            "You did not allow Token Inventory to read your GitLab profile, so you are not signed in."
        } else {
            "GitLab did not sign you in. Please try again, or ask your GitLab administrator."
        };
        return Err(refusal(StatusCode::FORBIDDEN, message));
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "GitLab's answer lacks the sign-in code. Please sign in again.",
        ));
    };
    if !constant_time_eq(state.as_bytes(), pending.state.as_bytes()) {
        tracing::warn!("sign-in: the state does not match the one this session sent");
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "The sign-in answer does not belong to this browser's sign-in. Please sign in again.",
        ));
    }
    Ok(code)
}

const NOT_RECORDED: &str = "The sign-in could not be recorded. Please try again.";

/// Stores the person with the teams and roles their GitLab groups give them.
async fn record_sign_in(
    app: &AppState,
    auth: &AuthState,
    profile: &app::db::UserProfile,
    groups: &[app::domain::GroupMembership],
) -> Result<i64, Refusal> {
    let recorded = async {
        let rules = app.repo.team_rules().await?;
        let teams = people::resolve_teams(&profile.username, groups, &rules);
        let roles = people::resolve_roles(&profile.username, groups, &teams, &auth.roles);
        app.repo.record_sign_in(profile, &roles, &teams, Utc::now()).await
    };
    recorded.await.map_err(|error| {
        tracing::error!(error.message = %error, "sign-in: recording the person failed");
        refusal(StatusCode::INTERNAL_SERVER_ERROR, NOT_RECORDED)
    })
}

/// A new session id at sign-in: an id planted before cannot ride into the signed-in session.
async fn start_session(session: &Session, user_id: i64) -> Result<(), Refusal> {
    let stored = async {
        session.cycle_id().await?;
        session.insert(SESSION_USER_ID, user_id).await?;
        session.insert(SESSION_SIGNED_IN_AT, Utc::now()).await
    };
    stored.await.map_err(|error| {
        tracing::error!(error.message = %error, "sign-in: the session store failed");
        refusal(StatusCode::INTERNAL_SERVER_ERROR, NOT_RECORDED)
    })
}

async fn sign_out(session: Session) -> Response {
    if let Err(error) = session.flush().await {
        tracing::error!(error.message = %error, "sign-out: the session store failed");
    }
    Redirect::to("/auth/signed-out").into_response()
}

async fn signed_out() -> Response {
    pages::signed_out()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Paths anyone may fetch: health, the bundle, sign-in itself; each matched whole (the bundle's
/// files by their folder, which only the file server answers).
fn is_public(path: &str) -> bool {
    path == "/healthz" || path == "/favicon.ico" || path.starts_with("/pkg/") || PUBLIC_ROUTES.contains(&path)
}

/// Whether a path has a `.` or `..` segment, written plainly or percent-encoded (`%2e`): such a
/// path could be read one way by the gate and another by a route, so it is refused outright.
fn has_dot_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        decoded == "." || decoded == ".." || decoded.contains('/') || decoded.contains('\\')
    })
}

/// Everything but sign-in itself, health and the bundle needs a signed-in person (or an API
/// key): pages answer 401 with the sign-in page, server functions and the JSON API (`/api/…`)
/// with 401 and a JSON error. This gate runs before a request's arguments are even read, so a
/// server function added without a check of its own is still closed to anonymous callers; the
/// functions then check the role or team they need. `open` lists the server functions anyone may
/// call.
pub async fn require_sign_in(
    State((open, public_url)): State<(Arc<[&'static str]>, Arc<url::Url>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if has_dot_segment(path) {
        return pages::failed(
            StatusCode::BAD_REQUEST,
            "This address has `.` or `..` in its path, which no page of Token Inventory has.",
        );
    }
    if is_public(path) || open.contains(&path) {
        return next.run(request).await;
    }
    let api = path.starts_with("/api/");
    let path = path.to_owned();
    let target =
        local_path(request.uri().path_and_query().map(|p| p.as_str()), &public_url).unwrap_or_else(|_| "/".to_owned());
    let (mut parts, body) = request.into_parts();
    let refusal = match MaybeViewer::from_request_parts(&mut parts, &()).await {
        Ok(MaybeViewer(Some(_))) => return next.run(Request::from_parts(parts, body)).await,
        Ok(MaybeViewer(None)) => AppError::Unauthorized,
        Err(error) => error,
    };
    match (api, &refusal) {
        // The JSON API answers `{"error": …}`; server functions answer in their own error
        // encoding, so the hydrated page can show what happened.
        (true, _) if path.starts_with("/api/v1/") => refusal.into_response(),
        (true, _) => (
            refusal.status_code(),
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&refusal).unwrap_or_default(),
        )
            .into_response(),
        (false, AppError::Unauthorized) => pages::sign_in_required(&target),
        (false, other) => pages::failed(other.status_code(), &other.to_string()),
    }
}

/// A state-changing request carrying the session cookie must come from this site: its `Origin`
/// (or, lacking one, its `Referer`) must be ours. `SameSite=Lax` cookies already stay home on
/// cross-site POSTs; this is the second lock. Requests with an API key carry no cookie a browser
/// would add on its own, so they pass.
pub async fn refuse_cross_site(State(auth): State<AuthState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || from_this_site(request.headers(), &auth.origin) {
        return next.run(request).await;
    }
    tracing::warn!(http.path = %request.uri().path(), "refused a cross-site request");
    let wants_json = request.uri().path().starts_with("/api/");
    if wants_json {
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": "cross-site requests are refused"})),
        )
            .into_response()
    } else {
        pages::failed(
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused.",
        )
    }
}

fn from_this_site(headers: &HeaderMap, origin: &str) -> bool {
    let has_cookie = headers.contains_key(header::COOKIE);
    let has_key = headers.contains_key(header::AUTHORIZATION);
    if !has_cookie && has_key {
        return true;
    }
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    match claimed {
        Some(claimed) => claimed.eq_ignore_ascii_case(origin),
        // No cookie and no key: nothing to ride on; the handler refuses it as anonymous.
        None => !has_cookie,
    }
}

/// Deletes expired sessions every hour.
pub fn spawn_session_cleanup(repo: Repo) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            match repo.delete_expired_sessions(Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions.deleted = n, "expired sessions deleted"),
                Err(error) => tracing::warn!(error.message = %error, "could not delete expired sessions"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> url::Url {
        url::Url::parse("https://tokens.example.com").expect("URL")
    }

    fn local(next: &str) -> String {
        local_path(Some(next), &public()).expect("readable")
    }

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(local("/review?x=1"), "/review?x=1");
        assert_eq!(local("//evil.example/"), "/");
        assert_eq!(local("https://evil.example/"), "/");
        assert_eq!(local("/\\evil.example"), "/");
        assert_eq!(local_path(None, &public()), Ok("/".to_owned()));
        assert_eq!(
            local("/%09/evil.example"),
            "/%09/evil.example",
            "encoded, it stays a path here"
        );
        assert_eq!(local("/./\\/evil.example"), "/");
        assert_eq!(local("/tokens/../review"), "/review", "dot segments are resolved");
        assert_eq!(local("/a b"), "/a%20b");
    }

    #[test]
    fn next_with_control_characters_is_refused() {
        // `next=/%09/evil.example`: browsers drop the tab and read `//evil.example`.
        for next in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\u{0}",
            "/x\u{7f}",
        ] {
            assert_eq!(local_path(Some(next), &public()), Err(UnreadableNext), "{next:?}");
        }
    }

    #[test]
    fn public_paths_are_matched_whole_and_dot_segments_found() {
        assert!(is_public("/auth/sign-in") && is_public("/auth/callback") && is_public("/pkg/app.js"));
        assert!(!is_public("/auth/") && !is_public("/auth/x") && !is_public("/auth/sign-in/x"));
        for path in [
            "/auth/../tokens/5",
            "/auth/%2e%2e/tokens/5",
            "/auth/%2E./x",
            "/./tokens",
            "/a/%2f../b",
            "/auth\\..\\x",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in ["/tokens/5", "/pkg/token-inventory.js", "/a.b/c..d", "/..."] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }

    #[test]
    fn next_never_carries_a_secret() {
        assert_eq!(
            local("/wizard?api=reads&purpose=glpat-1234567890abcdefghij&reach=project"),
            "/wizard?api=reads&reach=project"
        );
        assert_eq!(local("/?q=glpat-1234567890abcdefghij"), "/");
        assert_eq!(local("/?q=allure+bot"), "/?q=allure+bot");
        assert_eq!(local("/tokens/glpat-1234567890abcdefghij"), "/");
        assert_eq!(local("/?glpat-1234567890abcdefghij&kind=deploy"), "/?kind=deploy");
    }

    #[test]
    fn only_this_sites_origin_may_change_things_with_a_cookie() {
        let ours = "http://127.0.0.1:3000";
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), value.parse().expect("header"));
            }
            map
        };
        assert!(from_this_site(
            &headers(&[(header::COOKIE, "s=1"), (header::ORIGIN, ours)]),
            ours
        ));
        assert!(!from_this_site(
            &headers(&[(header::COOKIE, "s=1"), (header::ORIGIN, "https://evil.example")]),
            ours
        ));
        assert!(from_this_site(
            &headers(&[(header::COOKIE, "s=1"), (header::REFERER, "http://127.0.0.1:3000/x")]),
            ours
        ));
        assert!(!from_this_site(&headers(&[(header::COOKIE, "s=1")]), ours));
        assert!(from_this_site(
            &headers(&[(header::AUTHORIZATION, "Bearer ti_x_y")]),
            ours
        ));
        assert!(!from_this_site(
            &headers(&[
                (header::AUTHORIZATION, "Bearer ti_x_y"),
                (header::COOKIE, "s=1"),
                (header::ORIGIN, "https://evil.example")
            ]),
            ours
        ));
    }
}
