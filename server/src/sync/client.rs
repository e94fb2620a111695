//! A small GitLab REST API v4 client for sync: typed pages, GitLab's two paginations, retries
//! with capped exponential backoff and jitter, and obedience to `Retry-After` and
//! `RateLimit-Remaining`/`RateLimit-Reset` shared by every request in flight.
//!
//! The credential goes to GitLab's API and nowhere else: no redirect is followed (`PRIVATE-TOKEN`
//! is a header redirects keep), and a URL (a `Link` header's next page) of another origin, or
//! outside `/api/v4`, is not asked; either fails the listing.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, stream};
use rand::Rng;
use reqwest::{StatusCode, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use tokio::time::Instant;
use url::{Origin, Url};

/// Why one request failed: worth asking again, or not.
enum Failed {
    Retry(String),
    Fail(ClientError),
}

/// GitLab's largest page.
pub const PER_PAGE: u32 = 100;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Attempts per request, the first included.
    pub attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub timeout: Duration,
    /// Requests in flight at once for paged listings that can be fetched side by side.
    pub concurrency: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            attempts: 8,
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            concurrency: 16,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The credential was refused: nothing can be read.
    #[error("GitLab refused the credential (401): check SYNC_GITLAB_TOKEN")]
    Unauthorized,
    /// This resource is not readable with this credential (403) or does not exist (404).
    #[error("{path}: {status}")]
    Refused { path: String, status: StatusCode },
    /// Retries ran out.
    #[error("{path}: gave up after {attempts} attempts: {last}")]
    GaveUp { path: String, attempts: u32, last: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// GitLab answered with a redirect (3xx): not followed, so the credential goes nowhere else.
    #[error(
        "{path}: GitLab answered {status}, a redirect, which sync does not follow: \
         give sync the address GitLab itself answers on"
    )]
    Redirected { path: String, status: StatusCode },
    /// A URL (a `Link` header's next page) of another scheme, host or port than GitLab's, or
    /// outside its `/api/v4`: not asked.
    #[error("{path}: a link outside GitLab's API (another origin, or not under /api/v4), which sync does not follow")]
    Elsewhere { path: String },
    /// The run was stopped ([`GitLabClient::stop`]): no request is sent any more.
    #[error("{path}: not asked, the run was stopped: {reason}")]
    Stopped { path: String, reason: String },
}

/// Why a write did not go through: its answer was lost (it may have been made), or GitLab refused
/// it with a status and what it said.
#[derive(Debug)]
pub enum SendFailed {
    Lost(String),
    Refused(StatusCode, String),
}

/// A page and where the next one is.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page: Option<u32>,
    pub total_pages: Option<u32>,
    /// Keyset pagination: the next page's full URL.
    pub next_link: Option<String>,
}

pub struct GitLabClient {
    http: reqwest::Client,
    /// `https://gitlab.example.com/api/v4`
    api: String,
    /// GitLab's scheme, host and port: the only origin asked.
    origin: Origin,
    /// The path of `api` (`/api/v4`, or below a relative URL root): every URL asked is under it.
    api_path: String,
    token: SecretString,
    options: ClientOptions,
    requests: AtomicU64,
    /// Every request waits until then (a 429's `Retry-After`, or a spent rate limit's reset).
    paused_until: Mutex<Option<Instant>>,
    /// At most `concurrency` requests in flight, however many listings run side by side.
    in_flight: tokio::sync::Semaphore,
    /// Why the run stopped (it lost its lease, or its writer failed): set once, then every
    /// request fails at once without being sent.
    stopped: std::sync::OnceLock<String>,
}

impl GitLabClient {
    pub fn new(base_url: &str, token: SecretString, options: ClientOptions) -> anyhow::Result<Arc<Self>> {
        let api = format!("{}/api/v4", base_url.trim_end_matches('/'));
        let parsed = Url::parse(&api).context("the GitLab URL is not an absolute URL")?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("token-inventory/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(options.concurrency.max(1) * 2)
            .tcp_keepalive(Duration::from_secs(60))
            .build()?;
        Ok(Arc::new(GitLabClient {
            http,
            origin: parsed.origin(),
            api_path: parsed.path().to_owned(),
            api,
            token,
            requests: AtomicU64::new(0),
            paused_until: Mutex::new(None),
            in_flight: tokio::sync::Semaphore::new(options.concurrency.max(1)),
            stopped: std::sync::OnceLock::new(),
            options,
        }))
    }

    pub fn concurrency(&self) -> usize {
        self.options.concurrency.max(1)
    }

    /// Stops the run: from now on no request is sent (those in flight finish). The first reason
    /// given is kept.
    pub fn stop(&self, reason: impl Into<String>) {
        let reason = reason.into();
        if self.stopped.set(reason.clone()).is_ok() {
            tracing::warn!(sync.stop_reason = %reason, "sync stops: no further request to GitLab");
        }
    }

    /// Why the run was stopped, when it was.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.get().map(String::as_str)
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    async fn wait_if_paused(&self) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until.filter(|until| *until > Instant::now()) {
            tokio::time::sleep_until(until).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .options
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.options.backoff_cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    /// Heeds the rate-limit headers: when fewer requests remain than may be in flight, everyone
    /// waits for the reset.
    fn observe_rate_limit(&self, headers: &HeaderMap) {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        if let (Some(remaining), Some(reset)) = (number("ratelimit-remaining"), number("ratelimit-reset"))
            && remaining <= i64::try_from(self.concurrency()).unwrap_or(i64::MAX)
        {
            let wait = reset - Utc::now().timestamp();
            if wait > 0 {
                self.pause_for(Duration::from_secs(u64::try_from(wait).unwrap_or(0).min(120)));
            }
        }
    }

    /// The URL of a path (relative to `/api/v4`) or of an absolute URL (from a `Link` header),
    /// if it is on GitLab's API: GitLab's origin, no user or password, under `/api/v4`.
    fn url(&self, path: &str) -> Option<Url> {
        let url = if path.starts_with('/') {
            Url::parse(&format!("{}{path}", self.api))
        } else {
            Url::parse(path)
        }
        .ok()?;
        let under_api = url
            .path()
            .strip_prefix(&self.api_path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        (url.origin() == self.origin && url.username().is_empty() && url.password().is_none() && under_api)
            .then_some(url)
    }

    /// GET a URL (relative to `/api/v4`, or absolute from a `Link` header) and decode its JSON,
    /// retrying what can be retried. An absolute URL must be on GitLab's API; a redirect is not
    /// followed: both fail at once.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<(T, HeaderMap), ClientError> {
        let Some(url) = self.url(path) else {
            return Err(ClientError::Elsewhere { path: path_only(path) });
        };
        let mut last = String::new();
        for attempt in 0..self.options.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff(attempt - 1)).await;
            }
            self.wait_if_paused().await;
            // Held until the body is read; released before any backoff.
            let Ok(_permit) = self.in_flight.acquire().await else {
                break;
            };
            if let Some(reason) = self.stopped() {
                return Err(ClientError::Stopped {
                    path: path_only(path),
                    reason: reason.to_owned(),
                });
            }
            match self.attempt(&url, path, attempt).await {
                Ok(found) => return Ok(found),
                Err(Failed::Retry(why)) => last = why,
                Err(Failed::Fail(error)) => return Err(error),
            }
        }
        Err(ClientError::GaveUp {
            path: path_only(path),
            attempts: self.options.attempts,
            last,
        })
    }

    /// One request: its JSON, or why it failed and whether asking again may help.
    async fn attempt<T: DeserializeOwned>(
        &self,
        url: &Url,
        path: &str,
        attempt: u32,
    ) -> Result<(T, HeaderMap), Failed> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .get(url.clone())
            .header("PRIVATE-TOKEN", self.token.expose_secret())
            .send()
            .await
            .map_err(|error| Failed::Retry(format!("network: {}", without_url(&error))))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.observe_rate_limit(&headers);
        self.check_status(status, &headers, path, attempt)?;
        let body = response
            .bytes()
            .await
            .map_err(|error| Failed::Retry(format!("body: {}", without_url(&error))))?;
        // A body cut short decodes as an error: ask again.
        let value = serde_json::from_slice(&body).map_err(|error| Failed::Retry(format!("JSON: {error}")))?;
        Ok((value, headers))
    }

    /// What an answer's status says: go on and read it, ask again (a 429 pauses every request
    /// for its `Retry-After`; a 5xx), or fail (refused, redirected, unexpected).
    fn check_status(&self, status: StatusCode, headers: &HeaderMap, path: &str, attempt: u32) -> Result<(), Failed> {
        let fail = |error| Err(Failed::Fail(error));
        match status {
            StatusCode::UNAUTHORIZED => fail(ClientError::Unauthorized),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => fail(ClientError::Refused {
                path: path_only(path),
                status,
            }),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| self.backoff(attempt));
                self.pause_for(wait.min(Duration::from_secs(120)));
                Err(Failed::Retry("429 Too Many Requests".to_owned()))
            }
            status if status.is_redirection() => fail(ClientError::Redirected {
                path: path_only(path),
                status,
            }),
            status if status.is_server_error() => Err(Failed::Retry(status.to_string())),
            status if !status.is_success() => fail(ClientError::Invalid {
                path: path_only(path),
                message: format!("unexpected {status}"),
            }),
            _ => Ok(()),
        }
    }

    /// One write (`POST`/`PUT`) of a JSON body to a path under `/api/v4`, never retried here: a
    /// lost answer may hide a change that was made, which only the caller can look up. Answers
    /// the status and the decoded body; a transport failure, a 5xx or a 429 is `Err(None)` with
    /// why, anything else the status GitLab gave.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(StatusCode, serde_json::Value), SendFailed> {
        let Some(url) = self.url(path) else {
            return Err(SendFailed::Refused(
                StatusCode::BAD_REQUEST,
                "a path outside GitLab's API".to_owned(),
            ));
        };
        self.wait_if_paused().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .request(method, url)
            .header("PRIVATE-TOKEN", self.token.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|error| SendFailed::Lost(format!("network: {}", without_url(&error))))?;
        let status = response.status();
        self.observe_rate_limit(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|error| SendFailed::Lost(format!("body: {}", without_url(&error))))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(SendFailed::Lost(status.to_string()));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return Ok((status, value));
        }
        let message = ["message", "error"]
            .iter()
            .find_map(|field| value.get(field))
            .map(|said| match said {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| status.to_string());
        Err(SendFailed::Refused(status, message))
    }

    pub async fn page<T: DeserializeOwned>(&self, path: &str) -> Result<Page<T>, ClientError> {
        let (items, headers) = self.get::<Vec<T>>(path).await?;
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u32>().ok();
        Ok(Page {
            items,
            next_page: number("x-next-page"),
            total_pages: number("x-total-pages"),
            next_link: headers.get("link").and_then(|v| v.to_str().ok()).and_then(next_link),
        })
    }

    /// Every item of an offset-paginated listing. When GitLab says how many pages there are, the
    /// rest are fetched side by side; when it does not (over 10,000 records), a window of pages is
    /// fetched at a time until one comes back short.
    pub async fn all_pages<T: DeserializeOwned + Send>(&self, path: &str) -> Result<Vec<T>, ClientError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let at = |page: u32| format!("{path}{separator}per_page={PER_PAGE}&page={page}");
        let first = self.page::<T>(&at(1)).await?;
        let mut items = first.items;
        let Some(mut next) = first.next_page else {
            return Ok(items);
        };
        if let Some(total) = first.total_pages {
            let pages: Vec<Vec<T>> = stream::iter(next..=total)
                .map(|page| {
                    let url = at(page);
                    async move { self.page::<T>(&url).await.map(|p| p.items) }
                })
                .buffered(self.concurrency())
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?;
            items.extend(pages.into_iter().flatten());
            return Ok(items);
        }
        loop {
            let window = u32::try_from(self.concurrency()).unwrap_or(1);
            let pages: Vec<Page<T>> = stream::iter(next..next + window)
                .map(|page| {
                    let url = at(page);
                    async move { self.page::<T>(&url).await }
                })
                .buffered(self.concurrency())
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?;
            let mut more = None;
            for page in pages {
                let full = page.next_page.is_some();
                items.extend(page.items);
                if !full {
                    more = None;
                    break;
                }
                more = page.next_page;
            }
            match more {
                Some(page) => next = page,
                None => return Ok(items),
            }
        }
    }

    /// Every item of a keyset-paginated listing (`pagination=keyset&order_by=id&sort=asc`),
    /// following `Link: rel="next"` while it stays on GitLab's API.
    pub async fn all_keyset<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ClientError> {
        let mut listing = self.keyset(path);
        let mut items = Vec::new();
        while let Some(page) = listing.next_page::<T>().await? {
            items.extend(page);
        }
        Ok(items)
    }

    /// A keyset-paginated listing to read a page at a time, so that a listing of a million users
    /// need not be held whole.
    pub fn keyset(&self, path: &str) -> Keyset<'_> {
        let separator = if path.contains('?') { '&' } else { '?' };
        Keyset {
            client: self,
            path: path_only(path),
            next: Some(format!(
                "{path}{separator}pagination=keyset&order_by=id&sort=asc&per_page={PER_PAGE}"
            )),
        }
    }
}

/// A keyset-paginated listing read a page at a time ([`GitLabClient::keyset`]).
pub struct Keyset<'c> {
    client: &'c GitLabClient,
    /// The listing's path, for messages.
    path: String,
    next: Option<String>,
}

impl Keyset<'_> {
    /// The next page's items; `None` after the last page.
    pub async fn next_page<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>, ClientError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let page = self.client.page::<T>(&url).await?;
        match page.next_link {
            Some(next) if self.client.url(&next).is_some() => self.next = Some(next),
            // Stopping here would pass a listing cut short for a whole one.
            Some(_) => {
                return Err(ClientError::Elsewhere {
                    path: self.path.clone(),
                });
            }
            None => {}
        }
        Ok(Some(page.items))
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// A path without its query (nor, for a URL, its scheme, host and port), for messages.
fn path_only(path: &str) -> String {
    let path = match Url::parse(path) {
        Ok(url) => url.path().to_owned(),
        Err(_) => path.split(['?', '#']).next().unwrap_or(path).to_owned(),
    };
    match path.find("/api/v4") {
        Some(at) => path[at + "/api/v4".len()..].to_owned(),
        None => path.to_owned(),
    }
}

/// reqwest's message without the URL (which could carry a query worth keeping out of logs).
fn without_url(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "…");
    }
    if error.is_timeout() {
        "timed out".to_owned()
    } else {
        message
    }
}

// The shapes GitLab answers with (only the fields sync reads).

#[derive(Debug, Clone, Deserialize)]
pub struct ApiUserSelf {
    pub id: i64,
    pub username: String,
    #[serde(default)]
    pub is_admin: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiGroup {
    pub id: i64,
    pub full_path: String,
    pub parent_id: Option<i64>,
    pub web_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiNamespace {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiProject {
    pub id: i64,
    pub path_with_namespace: String,
    pub web_url: String,
    #[serde(default)]
    pub archived: bool,
    pub namespace: Option<ApiNamespace>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiUser {
    pub id: i64,
    pub username: String,
    pub name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub bot: bool,
}

/// A personal, project or group access token (`access_level` only on the last two).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiAccessToken {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub user_id: Option<i64>,
    #[serde(default)]
    pub access_level: Option<i32>,
    pub active: bool,
    pub revoked: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiDeployToken {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub expired: bool,
    pub scopes: Vec<String>,
}

/// One of a user's direct memberships (`/users/:id/memberships`, administrators only).
/// `source_type` is `Namespace` (a group) or `Project`; GitLab's documentation writes the level as
/// a string, its API as a number: both are read.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiMembership {
    pub source_id: i64,
    pub source_type: String,
    #[serde(deserialize_with = "number_or_text")]
    pub access_levels: i32,
}

fn number_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Level {
        Number(i32),
        Text(String),
    }
    match Level::deserialize(deserializer)? {
        Level::Number(level) => Ok(level),
        Level::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link() {
        let header = "<https://g.example/api/v4/projects?id_after=5&pagination=keyset>; rel=\"next\", \
                      <https://g.example/api/v4/projects?page=1>; rel=\"first\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://g.example/api/v4/projects?id_after=5&pagination=keyset")
        );
        assert_eq!(next_link("<https://g.example/x>; rel=\"first\""), None);
    }

    #[test]
    fn membership_levels_are_read_as_numbers_or_text() {
        let levels: Vec<ApiMembership> = serde_json::from_str(
            r#"[{"source_id": 1, "source_name": "Acme", "source_type": "Namespace", "access_levels": 40},
                {"source_id": 2, "source_name": "Acme / api", "source_type": "Project", "access_levels": "20"}]"#,
        )
        .expect("memberships");
        assert_eq!(levels[0].access_levels, 40);
        assert_eq!(levels[1].access_levels, 20);
        assert!(
            serde_json::from_str::<ApiMembership>(
                r#"{"source_id": 1, "source_type": "Project", "access_levels": "x"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn messages_name_the_path_not_the_host_or_query() {
        assert_eq!(
            path_only("/projects/5/access_tokens?per_page=100"),
            "/projects/5/access_tokens"
        );
        assert_eq!(path_only("https://g.example/api/v4/projects?id_after=5"), "/projects");
        assert_eq!(path_only("https://elsewhere.example/steal?token=x"), "/steal");
    }

    #[test]
    fn only_urls_on_gitlabs_api_are_asked() {
        let options = ClientOptions::default();
        let client =
            GitLabClient::new("https://g.example/gitlab/", SecretString::from("t"), options.clone()).expect("client");
        let asked = |path: &str| client.url(path).map(String::from);
        assert_eq!(
            asked("/projects?per_page=100").as_deref(),
            Some("https://g.example/gitlab/api/v4/projects?per_page=100")
        );
        // A path is always below GitLab's API, even one that looks like another host's.
        assert_eq!(
            asked("//elsewhere.example/x").as_deref(),
            Some("https://g.example/gitlab/api/v4//elsewhere.example/x")
        );
        for same in [
            "https://g.example/gitlab/api/v4/projects?id_after=5",
            "https://G.EXAMPLE:443/gitlab/api/v4/projects?id_after=5",
        ] {
            assert!(asked(same).is_some(), "{same}");
        }
        for elsewhere in [
            "https://elsewhere.example/gitlab/api/v4/projects?id_after=5",
            "http://g.example/gitlab/api/v4/projects?id_after=5",
            "https://g.example:8443/gitlab/api/v4/projects?id_after=5",
            "https://g.example.elsewhere.example/gitlab/api/v4/projects",
            "https://user:pass@g.example/gitlab/api/v4/projects",
            "https://g.example/gitlab/api/v4/../../admin",
            "https://g.example/gitlab/api/v4/%2e%2e/%2E%2E/admin",
            "https://g.example/gitlab/api/v42/projects",
            "https://g.example/api/v4/projects",
            "/../../admin",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert_eq!(asked(elsewhere), None, "{elsewhere}");
        }
        let http = GitLabClient::new("http://g.example:8080", SecretString::from("t"), options).expect("client");
        assert!(http.url("http://g.example:8080/api/v4/users?id_after=1").is_some());
        assert!(http.url("http://g.example/api/v4/users?id_after=1").is_none());
    }
}
