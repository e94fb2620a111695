//! gitlab-sim: a faithful, seeded stand-in for the parts of GitLab's REST API v4 and OAuth2
//! provider that Token Inventory uses, served over real HTTP. Used by tests, benchmarks and the
//! demo.

pub mod api;
pub mod auth;
pub mod chat;
pub mod control;
pub mod error;
pub mod faults;
pub mod model;
pub mod oauth;
pub mod paging;
pub mod ratelimit;
pub mod scenario;

use std::{
    net::SocketAddr,
    sync::{Arc, RwLock},
};

use axum::{
    Router, middleware,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, Utc};

pub use scenario::{Credentials, Scenario};

/// What the simulator shares between requests.
#[derive(Clone)]
pub struct SimState {
    pub world: Arc<RwLock<model::World>>,
    pub oauth: Arc<oauth::OAuthState>,
    pub limiter: Arc<ratelimit::RateLimiter>,
    pub faults: Arc<faults::FaultState>,
    /// Overrides the clock (tests); `None` is the real date.
    pub today_override: Option<NaiveDate>,
    /// What the demo's chat webhooks received (`/-/sim/chat`).
    pub chat: chat::ChatSink,
}

impl SimState {
    pub fn new(mut world: model::World, rate_limit_per_minute: u32) -> Self {
        world.reindex();
        SimState {
            world: Arc::new(RwLock::new(world)),
            oauth: Arc::new(oauth::OAuthState::default()),
            limiter: Arc::new(ratelimit::RateLimiter::new(rate_limit_per_minute)),
            faults: Arc::new(faults::FaultState::default()),
            today_override: None,
            chat: chat::ChatSink::default(),
        }
    }

    /// Write access to the world; the index is rebuilt when the guard is dropped, so every
    /// change (API, control endpoint, test) keeps the listings' look-ups true.
    pub fn world_mut(&self) -> WorldMut<'_> {
        WorldMut(self.world.write().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn today(&self) -> NaiveDate {
        self.today_override.unwrap_or_else(|| Utc::now().date_naive())
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.today_override {
            Some(day) => day.and_hms_opt(12, 0, 0).map(|t| t.and_utc()).unwrap_or_else(Utc::now),
            None => Utc::now(),
        }
    }
}

/// A write guard on the world that reindexes it when dropped.
pub struct WorldMut<'a>(std::sync::RwLockWriteGuard<'a, model::World>);

impl std::ops::Deref for WorldMut<'_> {
    type Target = model::World;
    fn deref(&self) -> &model::World {
        &self.0
    }
}

impl std::ops::DerefMut for WorldMut<'_> {
    fn deref_mut(&mut self) -> &mut model::World {
        &mut self.0
    }
}

impl Drop for WorldMut<'_> {
    fn drop(&mut self) {
        self.0.reindex();
    }
}

/// The whole simulator: `/api/v4/…` (authenticated, rate limited, with injected faults),
/// `/oauth/…`, and the control endpoints under `/-/sim/…`.
pub fn router(state: SimState) -> Router {
    let api = api::router(state.clone())
        .layer(middleware::from_fn(runtime))
        .layer(middleware::from_fn_with_state(state.clone(), faults::inject));
    Router::new()
        .nest("/api/v4", api)
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_decision),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/token/info", get(oauth::token_info))
        .route("/oauth/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .nest("/-/sim", control::router(state.clone()).merge(chat::router()))
        .with_state(state)
}

/// `X-Runtime`, as GitLab (Rails) sends it: the seconds the server spent on the request, before
/// injected latency. Benchmarks read it.
async fn runtime(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let seconds = format!("{:.6}", started.elapsed().as_secs_f64());
    if let Ok(value) = axum::http::HeaderValue::from_str(&seconds) {
        response.headers_mut().insert("x-runtime", value);
    }
    response
}

/// Options of a simulator started by [`spawn`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub scenario: Scenario,
    pub seed: u64,
    pub port: u16,
    pub rate_limit_per_minute: u32,
    pub redirect_uris: Vec<String>,
    pub today: Option<NaiveDate>,
    pub faults: faults::Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: Scenario::Small,
            seed: 1,
            port: 0,
            rate_limit_per_minute: ratelimit::DEFAULT_PER_MINUTE,
            redirect_uris: vec![],
            today: None,
            faults: faults::Faults::default(),
        }
    }
}

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub url: String,
    pub credentials: Credentials,
    pub state: SimState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Generates the world and serves it on 127.0.0.1 (`port` 0 picks a free port).
pub async fn spawn(config: SimConfig) -> anyhow::Result<SimHandle> {
    let today = config.today.unwrap_or_else(|| Utc::now().date_naive());
    let generated = scenario::generate(config.scenario, config.seed, today, config.redirect_uris.clone());
    let mut state = SimState::new(generated.world, config.rate_limit_per_minute);
    state.today_override = config.today;
    state.faults.set(config.faults.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(error.message = %error, "gitlab-sim stopped");
        }
    });
    Ok(SimHandle {
        addr,
        url: format!("http://{addr}"),
        credentials: generated.credentials,
        state,
        server,
    })
}
