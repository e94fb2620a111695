//! Calendar feeds of token expiries, for people to subscribe to in their calendar app:
//!
//! - `GET /calendar/all.ics`: every live token's expiry; security and admins.
//! - `GET /calendar/team/{id}.ics`: the live tokens the team owns; its members and leads, and
//!   security. Another team's feed is refused with a 403: team names and ids are no secret
//!   (everyone signed in sees the Teams page), so hiding that the team exists would protect
//!   nothing, and the 403 tells the subscriber the key works but not for this team. An id that
//!   is no team, or not a number, is a 404.
//!
//! Calendar apps cannot send a header, so the API key may come in the URL (`?key=ti_…`):
//! [`key_from_query`] moves it into `Authorization: Bearer` before the sign-in gate and takes it
//! out of the URI, so nothing after it (the gate, handlers, logs) sees it in the query; the
//! request span names the path only (`http.rs`). A read-only key is enough.
//!
//! One all-day event per token with an expiry date (`DTSTART;VALUE=DATE`), with a stable UID
//! (`token-<id>@<host>`), the token's page as its URL and a reminder seven days before. The
//! `icalendar` crate writes it and escapes every text property; what people wrote (token, team
//! and purpose names) only ever goes into text properties.

use std::sync::Arc;

use app::{
    auth::MaybeViewer,
    domain::{TokenStatus, TokenSummary, Viewer},
    error::AppError,
    server::inventory::{TokenQuery, TokenSort},
    state::AppState,
};
use axum::{
    Router,
    extract::{Path, Request, State},
    http::{HeaderValue, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Property, Trigger};

/// Rows read per query while building a feed.
const FEED_BATCH: u32 = 1_000;

/// The reminder before each expiry, in days (GitLab's last notice comes a week before, too).
const REMINDER_DAYS: i64 = 7;

/// Where the feeds live; the key-in-the-URL rule applies below it only.
pub const CALENDAR_PREFIX: &str = "/calendar/";

/// The state the feeds need: the app's, and its public address (for links and UIDs).
#[derive(Clone)]
pub struct CalendarState {
    app: AppState,
    public_url: Arc<url::Url>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(app: AppState, public_url: url::Url) -> Router<S> {
    Router::new()
        .route("/calendar/all.ics", get(all_feed))
        .route("/calendar/team/{file}", get(team_feed))
        .with_state(CalendarState {
            app,
            public_url: Arc::new(public_url),
        })
}

/// Middleware (outside the sign-in gate): under `/calendar/`, a `key` query parameter becomes
/// `Authorization: Bearer <key>` (unless the request has that header already) and leaves the URI.
pub async fn key_from_query(mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(CALENDAR_PREFIX)
        && let Some(query) = request.uri().query()
    {
        let (key, rest) = split_key(query);
        if let Some(key) = key {
            if let Ok(value) = HeaderValue::from_str(&format!("Bearer {key}")) {
                request.headers_mut().entry(header::AUTHORIZATION).or_insert(value);
            }
            if let Some(uri) = without_query(request.uri(), &rest) {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

/// The `key` parameter's value, and the query without it.
fn split_key(query: &str) -> (Option<String>, String) {
    let mut key = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name == "key" {
            key = Some(value.trim().to_owned());
        } else {
            rest.append_pair(&name, &value);
        }
    }
    (key, rest.finish())
}

fn without_query(uri: &Uri, query: &str) -> Option<Uri> {
    let path_and_query = if query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{query}", uri.path())
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

async fn all_feed(State(state): State<CalendarState>, viewer: MaybeViewer) -> Result<Response, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    if !viewer.is_security() {
        return Err(AppError::Forbidden);
    }
    let tokens = live_expiring_tokens(&state.app, None).await?;
    tracing::info!(user.username = %viewer.username, calendar.events = tokens.len(), "calendar feed read");
    Ok(answer(&state.public_url, "Token expiries", &tokens))
}

async fn team_feed(
    State(state): State<CalendarState>,
    viewer: MaybeViewer,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    let team_id = team_id_of(&file).ok_or_else(no_such_feed)?;
    let teams = state.app.repo.list_teams().await?;
    let team = teams.iter().find(|team| team.id == team_id).ok_or_else(no_such_feed)?;
    if !may_read_team_feed(&viewer, team_id) {
        return Err(AppError::Forbidden);
    }
    let tokens = live_expiring_tokens(&state.app, Some(team_id)).await?;
    tracing::info!(user.username = %viewer.username, team.id = team_id, calendar.events = tokens.len(), "calendar feed read");
    Ok(answer(
        &state.public_url,
        &format!("Token expiries: {}", team.name),
        &tokens,
    ))
}

fn no_such_feed() -> AppError {
    AppError::NotFound("this team calendar".to_owned())
}

/// `12.ics` → 12; anything else is no feed.
fn team_id_of(file: &str) -> Option<i64> {
    let id = file.strip_suffix(".ics")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// A team's feed: its members and leads, and security (and admins).
pub fn may_read_team_feed(viewer: &Viewer, team_id: i64) -> bool {
    viewer.is_security() || viewer.teams.iter().any(|team| team.team_id == team_id)
}

/// The active tokens (not expired, revoked or gone) with an expiry date, of one team or all,
/// soonest first.
async fn live_expiring_tokens(app: &AppState, team: Option<i64>) -> Result<Vec<TokenSummary>, AppError> {
    let today = chrono::Utc::now().date_naive();
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let query = TokenQuery {
            team,
            status: Some(TokenStatus::Active),
            sort: TokenSort::Expires,
            page,
            per_page: Some(FEED_BATCH),
            ..TokenQuery::default()
        };
        let (tokens, total) = app.repo.list_tokens(&query, today).await?;
        let done = tokens.len() < FEED_BATCH as usize || all.len() + tokens.len() >= total as usize;
        all.extend(tokens.into_iter().filter(|token| token.expires_on.is_some()));
        if done {
            return Ok(all);
        }
        page += 1;
    }
}

fn answer(public_url: &url::Url, name: &str, tokens: &[TokenSummary]) -> Response {
    let body = feed(public_url, name, tokens).to_string();
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response()
}

/// The calendar: its name, and one event per token.
pub fn feed(public_url: &url::Url, name: &str, tokens: &[TokenSummary]) -> Calendar {
    let mut calendar = Calendar::new();
    // `X-WR-CALNAME` is no text property by name, so it is marked as one to be escaped.
    calendar.append_property(
        Property::new("X-WR-CALNAME", plain(name))
            .add_parameter("VALUE", "TEXT")
            .done(),
    );
    for token in tokens {
        if let Some(event) = event(public_url, token) {
            calendar.push(event);
        }
    }
    calendar.done()
}

/// One all-day event on the token's expiry date, with a reminder a week before.
fn event(public_url: &url::Url, token: &TokenSummary) -> Option<Event> {
    let expires_on = token.expires_on?;
    let host = public_url.host_str().unwrap_or("token-inventory");
    let page = public_url.join(&format!("tokens/{}", token.id)).ok()?;
    let team = token
        .owner_team
        .as_ref()
        .map_or("no owner team".to_owned(), |team| team.name.clone());
    let summary = plain(&format!("Token expires: {} ({team})", token.name));
    let reminder = plain(&format!("{} expires in {REMINDER_DAYS} days", token.name));
    let alarm = Alarm::display(&reminder, Trigger::before_start(chrono::Duration::days(REMINDER_DAYS)))
        .uid(&format!("token-{}-reminder@{host}", token.id))
        .done();
    // An all-day event ends (exclusively) the next day.
    Some(
        Event::new()
            .uid(&format!("token-{}@{host}", token.id))
            .all_day(expires_on)
            .ends(expires_on.succ_opt()?)
            .summary(&summary)
            .description(&plain(&description(token, &team)))
            .url(page.as_str())
            .alarm(alarm)
            .done(),
    )
}

/// What the token is: kind, scopes, where it lives, owner and purpose.
fn description(token: &TokenSummary, team: &str) -> String {
    let mut lines = vec![
        format!("Kind: {}", token.kind.label()),
        format!("Scopes: {}", token.scopes.join(", ")),
        format!("Where: {}", token.container_path),
        format!("Owner team: {team}"),
    ];
    if let Some(purpose) = token.purpose.as_deref().filter(|p| !p.trim().is_empty()) {
        lines.push(format!("Purpose: {purpose}"));
    }
    lines.join("\n")
}

/// Text for a property: line breaks as `\n` (which the crate writes as `\n`), every other control
/// character a space. The crate escapes `\`, `,`, `;` and newlines, but not a lone carriage
/// return, which would end the content line.
fn plain(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_leaves_the_query() {
        let (key, rest) = split_key("key=ti_abc_def&x=1");
        assert_eq!(key.as_deref(), Some("ti_abc_def"));
        assert_eq!(rest, "x=1");
        let uri: Uri = "/calendar/all.ics?key=ti_a_b".parse().expect("uri");
        assert_eq!(without_query(&uri, "").expect("uri").to_string(), "/calendar/all.ics");
    }

    /// What a handler behind the layer sees: the URI and the `Authorization` header.
    async fn seen(uri: &str, authorization: Option<&str>) -> String {
        use tower::ServiceExt;
        let echo = |request: Request| async move {
            let header = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            format!("{} {header}", request.uri())
        };
        let router = Router::new()
            .fallback(echo)
            .layer(axum::middleware::from_fn(key_from_query));
        let mut request = Request::builder().uri(uri);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = router
            .oneshot(request.body(axum::body::Body::empty()).expect("request"))
            .await
            .expect("answer");
        let body = axum::body::to_bytes(response.into_body(), 10_000).await.expect("body");
        String::from_utf8_lossy(&body).into_owned()
    }

    #[tokio::test]
    async fn a_key_in_the_address_becomes_a_header_and_leaves_the_uri() {
        let key = "ti_abcdefgh_0123456789";
        assert_eq!(
            seen(&format!("/calendar/all.ics?key={key}"), None).await,
            format!("/calendar/all.ics Bearer {key}")
        );
        assert_eq!(
            seen(&format!("/calendar/team/1.ics?a=1&key={key}"), None).await,
            format!("/calendar/team/1.ics?a=1 Bearer {key}")
        );
        // A header already there wins; the key still leaves the URI.
        assert_eq!(
            seen(&format!("/calendar/all.ics?key={key}"), Some("Bearer other")).await,
            "/calendar/all.ics Bearer other"
        );
        // Elsewhere, `key` is nobody's business.
        assert_eq!(seen("/api/v1/tokens?key=x", None).await, "/api/v1/tokens?key=x -");
    }

    #[test]
    fn team_files_are_numbers_with_ics() {
        assert_eq!(team_id_of("12.ics"), Some(12));
        assert_eq!(team_id_of("12"), None);
        assert_eq!(team_id_of("-1.ics"), None);
        assert_eq!(team_id_of(".ics"), None);
        assert_eq!(team_id_of("99999999999999999999.ics"), None);
    }

    #[test]
    fn control_characters_cannot_end_a_line() {
        assert_eq!(plain("a\r\nb\rc\u{7}"), "a\nb c ");
    }
}
