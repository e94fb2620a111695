//! Prometheus metrics at `/metrics`, off by default. On when `METRICS_BEARER_TOKEN` (or its file)
//! is set, then `/metrics` on the app's own address asks for `Authorization: Bearer <it>`
//! (compared in constant time), and/or when `METRICS_BIND_ADDRESS` is set, then a listener of its
//! own there serves `/metrics` only (with the bearer token too when one is set). Off, `/metrics`
//! is no route: 404.
//!
//! What it says (OpenMetrics text, `token_inventory_` names):
//! - gauges read from the database at each scrape, with cheap aggregate queries
//!   (`db::MetricsStore`): tokens by kind, owner team and status; active tokens inside each
//!   notice window (`REVIEW_NOTICE_DAYS`, label `window`); the review's open findings by rule and
//!   severity; the last finished sync run's end time, duration, GitLab requests and outcome;
//! - a histogram of HTTP request durations by method, matched route (the route's template, such
//!   as `/tokens/{id}`, or `unmatched`) and status class (`2xx`…), kept in memory since start.
//!
//! Every label comes from a bounded set (kinds, statuses, configured teams, rules, severities,
//! routes): no token, person or path is a label.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use app::{
    db::{Repo, TokenCount},
    domain::{SyncRun, SyncStatus},
    error::AppError,
};
use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::AtomicU64;

/// Upper bounds of the request duration buckets, in seconds: from a page answered from memory
/// to an export of the whole inventory.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Sync runs read to find the last finished one (a run under way is the newest).
const SYNC_RUNS_READ: u32 = 5;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status_class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    kind: String,
    team: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WindowLabels {
    window: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    rule: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

type HttpFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The metrics of this process, and what a scrape reads. Its `Debug` hides the bearer token.
#[derive(Clone)]
pub struct Metrics {
    http: HttpFamily,
    repo: Repo,
    notice_days: Arc<[u32]>,
    bearer: Option<Arc<SecretString>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("notice_days", &self.notice_days)
            .field("bearer", &self.bearer.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new(repo: Repo, notice_days: &[u32], bearer: Option<SecretString>) -> Self {
        Metrics {
            http: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            repo,
            notice_days: notice_days.into(),
            bearer: bearer.map(Arc::new),
        }
    }

    /// Whether `/metrics` is served on the app's own address (a bearer token is set).
    pub fn on_app_address(&self) -> bool {
        self.bearer.is_some()
    }

    /// The `/metrics` route alone.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new().route("/metrics", get(scrape)).with_state(self.clone())
    }

    /// Serves `/metrics` alone on `listener` (`METRICS_BIND_ADDRESS`) until `stopped`'s sender
    /// is dropped (with the server).
    pub fn spawn_listener(&self, listener: tokio::net::TcpListener, mut stopped: tokio::sync::watch::Receiver<()>) {
        let router = self.routes::<()>();
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!(error.message = %error, "the metrics listener failed");
            }
        });
    }
}

/// Binds `METRICS_BIND_ADDRESS`; the address it listens on.
pub async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    use anyhow::Context;
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))
}

/// Middleware: times every request and counts it by method, route template and status class.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status_class: format!("{}xx", response.status().as_u16() / 100),
    };
    metrics
        .http
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The method, or `other` for one outside HTTP's usual few (a label set stays bounded).
fn method_label(method: &Method) -> String {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_owned()
    } else {
        "other".to_owned()
    }
}

async fn scrape(State(metrics): State<Metrics>, headers: HeaderMap) -> Response {
    if !metrics.authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is needed",
        )
            .into_response();
    }
    match metrics.render().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

impl Metrics {
    /// No token configured (the metrics listener of its own), or the right one, compared in
    /// constant time.
    fn authorised(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.bearer else {
            return true;
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim();
        use subtle::ConstantTimeEq;
        let expected = expected.expose_secret().as_bytes();
        expected.len() == presented.len() && bool::from(expected.ct_eq(presented.as_bytes()))
    }

    /// Reads the database's figures and writes every metric as OpenMetrics text.
    async fn render(&self) -> Result<String, AppError> {
        let today = chrono::Utc::now().date_naive();
        let mut registry = Registry::with_prefix("token_inventory");
        register_tokens(&mut registry, &self.repo.token_counts(today).await?);
        let windows = self.repo.expiring_counts(today, &self.notice_days).await?;
        register_windows(&mut registry, &windows);
        register_findings(&mut registry, &self.repo.open_finding_counts(today).await?);
        let runs = self.repo.list_sync_runs(SYNC_RUNS_READ).await?;
        register_sync(&mut registry, runs.iter().find(|run| run.finished_at.is_some()));
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by method, matched route and status class, since the process started",
            self.http.clone(),
        );
        let mut text = String::new();
        encode(&mut text, &registry).map_err(|_| AppError::Internal)?;
        Ok(text)
    }
}

fn register_tokens(registry: &mut Registry, counts: &[TokenCount]) {
    let family = Family::<TokenLabels, Gauge>::default();
    for count in counts {
        let labels = TokenLabels {
            kind: count.kind.as_str().to_owned(),
            team: count.team.clone().unwrap_or_default(),
            status: count.status.label().to_owned(),
        };
        family.get_or_create(&labels).set(gauge_value(count.count));
    }
    registry.register("tokens", "Tokens by kind, owner team (empty: none) and status", family);
}

fn register_windows(registry: &mut Registry, windows: &[(u32, u64)]) {
    let family = Family::<WindowLabels, Gauge>::default();
    for (days, count) in windows {
        let labels = WindowLabels {
            window: days.to_string(),
        };
        family.get_or_create(&labels).set(gauge_value(*count));
    }
    registry.register(
        "tokens_expiring",
        "Active tokens expiring within each notice window (days, REVIEW_NOTICE_DAYS)",
        family,
    );
}

fn register_findings(registry: &mut Registry, counts: &[app::db::FindingCount]) {
    let family = Family::<FindingLabels, Gauge>::default();
    for count in counts {
        let labels = FindingLabels {
            rule: count.rule.as_str().to_owned(),
            severity: count.severity.as_str().to_owned(),
        };
        family.get_or_create(&labels).set(gauge_value(count.count));
    }
    registry.register(
        "findings_open",
        "The review's open findings (no decision holding) by rule and severity",
        family,
    );
}

/// The last finished run: when it ended, how long it took, how many requests it made of GitLab,
/// and its outcome (1 for its status, 0 for the others). Nothing when no run has finished.
fn register_sync(registry: &mut Registry, run: Option<&SyncRun>) {
    let Some(run) = run else { return };
    let Some(finished_at) = run.finished_at else { return };
    let float_gauge = |value: f64| {
        let gauge = Gauge::<f64, AtomicU64>::default();
        gauge.set(value);
        gauge
    };
    let seconds = |at: chrono::DateTime<chrono::Utc>| at.timestamp_millis() as f64 / 1000.0;
    registry.register(
        "sync_last_finished_timestamp_seconds",
        "When the last finished sync run ended (Unix time)",
        float_gauge(seconds(finished_at)),
    );
    registry.register(
        "sync_last_duration_seconds",
        "How long the last finished sync run took",
        float_gauge(seconds(finished_at) - seconds(run.started_at)),
    );
    let requests = Gauge::<i64>::default();
    requests.set(gauge_value(run.requests));
    registry.register(
        "sync_last_requests",
        "Requests the last finished sync run made of GitLab's API",
        requests,
    );
    let outcome = Family::<StatusLabels, Gauge>::default();
    for status in [
        SyncStatus::Succeeded,
        SyncStatus::Partial,
        SyncStatus::Failed,
        SyncStatus::Abandoned,
    ] {
        let labels = StatusLabels {
            status: status.as_str().to_owned(),
        };
        outcome.get_or_create(&labels).set(i64::from(run.status == status));
    }
    registry.register(
        "sync_last_status",
        "The last finished sync run's outcome: 1 for its status",
        outcome,
    );
}

fn gauge_value(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bearer_token_never_prints() {
        let repo = db::connect("sqlite::memory:").await.expect("database");
        let metrics = Metrics::new(repo, &[60, 30, 7], Some(SecretString::from("scrape-0123456789")));
        let printed = format!("{metrics:?}");
        assert!(!printed.contains("scrape-0123456789"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").expect("method")), "other");
    }
}
