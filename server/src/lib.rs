//! The `token-inventory` server: configuration, telemetry, HTTP, and the commands of the binary.

pub mod account;
pub mod alerts;
pub mod api;
pub mod auth;
pub mod calendar;
pub mod config;
pub mod fixtures;
pub mod gitlab_writes;
pub mod http;
pub mod inventory;
pub mod metrics;
pub mod recertification;
pub mod requests;
pub mod review;
pub mod secret;
pub mod spreadsheet;
pub mod sync;
pub mod telemetry;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use app::{
    BUNDLE_NAME,
    db::Repo,
    domain::RolePolicy,
    state::{AppState, AuthPolicy, SyncControl},
};
use leptos::config::{Env, LeptosOptions};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::{
    auth::{AuthState, oauth::OAuthSettings},
    config::{AuthArgs, ServeArgs},
};

/// Opens the database and brings its schema up to date.
pub async fn open_database(database_url: &str) -> anyhow::Result<Repo> {
    let repo = db::connect(database_url).await.context("cannot open the database")?;
    repo.migrate().await.context("cannot migrate the database")?;
    tracing::info!(db.backend = ?repo.backend(), "database ready");
    Ok(repo)
}

/// A bound server, ready to be run; `addr` is where it listens (useful with port 0).
pub struct Server {
    pub addr: SocketAddr,
    /// Where the metrics' listener of their own listens (`METRICS_BIND_ADDRESS`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    listener: TcpListener,
    router: axum::Router,
    /// Team alerts, when a channel is configured (tests drive it directly).
    pub alerts: Option<Arc<alerts::AlertService>>,
    /// Dropped with the server: the sync scheduler, alerts and the metrics' own listener stop.
    _stop_sync: tokio::sync::watch::Sender<()>,
}

impl Server {
    pub async fn bind(args: &ServeArgs, repo: Repo) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((args.bind, args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
        let addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name(BUNDLE_NAME)
            .site_root(args.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(Env::PROD)
            .build();
        let public_url = args
            .auth
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let auth = auth_state(&args.auth, args.sync.gitlab_url.as_deref(), &public_url)?;
        let channels = configured_teams(args, &repo).await?;
        // Sync starts with the server when configured; a bad setting stops it before it listens.
        let (stop_sync, sync_stopped) = tokio::sync::watch::channel(());
        let sync: Option<Arc<dyn SyncControl>> = if args.sync.is_configured() {
            let mut settings = args.sync.settings()?;
            settings.review = args.wizard.review();
            let mut stopped = sync_stopped;
            Some(Arc::new(sync::schedule::SyncScheduler::spawn(
                repo.clone(),
                settings,
                args.sync_interval.0,
                async move {
                    let _ = stopped.changed().await;
                },
            )))
        } else {
            tracing::info!("sync is not configured (SYNC_GITLAB_URL): the inventory shows what the database holds");
            None
        };
        let gitlab_url = args
            .auth
            .gitlab_url
            .as_deref()
            .or(args.sync.gitlab_url.as_deref())
            .map(|url| url.trim_end_matches('/').to_owned());
        let wizard = Arc::new(args.wizard.policy(gitlab_url.as_deref())?);
        let alerts = start_alerts(args, &repo, &channels, &public_url, stop_sync.subscribe()).await?;
        let state = AppState {
            alerts: alerts
                .clone()
                .map(|service| service as Arc<dyn app::state::AlertControl>),
            gitlab_writes: gitlab_writes(args, gitlab_url.as_deref())?,
            leptos_options,
            repo,
            sync,
            gitlab_url,
            wizard,
            review: Arc::new(args.wizard.review()),
            auth: Arc::new(auth_policy(&args.auth)),
        };
        auth::spawn_session_cleanup(state.repo.clone());
        let sessions = http::Sessions {
            idle_timeout: args.auth.idle_timeout,
            secure: public_url.starts_with("https://"),
        };
        let (metrics, metrics_addr) = start_metrics(args, &state, stop_sync.subscribe()).await?;
        let router = http::router(state, auth, sessions, &args.site_root, metrics);
        Ok(Server {
            addr,
            metrics_addr,
            alerts,
            listener,
            router,
            _stop_sync: stop_sync,
        })
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Server {
            listener,
            router,
            _stop_sync,
            ..
        } = self;
        // The peer's address is what sign-in's rate limit counts by.
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Stores the teams file's teams (when one is configured); their alert channels.
async fn configured_teams(args: &ServeArgs, repo: &Repo) -> anyhow::Result<alerts::config::TeamChannels> {
    let Some(path) = &args.auth.teams_file else {
        return Ok(alerts::config::TeamChannels::default());
    };
    let file = auth::read_teams_file(path)?;
    repo.apply_configured_teams(&file.teams)
        .await
        .context("cannot store the configured teams")?;
    tracing::info!(teams = file.teams.len(), "teams configured");
    Ok(file.channels)
}

/// Team alerts, when the teams file gives some audience a channel; they stop with the server.
async fn start_alerts(
    args: &ServeArgs,
    repo: &Repo,
    channels: &alerts::config::TeamChannels,
    public_url: &str,
    stopped: tokio::sync::watch::Receiver<()>,
) -> anyhow::Result<Option<Arc<alerts::AlertService>>> {
    let settings = alerts::AlertSettings {
        windows: args.wizard.review().notice_days,
        public_url: public_url.to_owned(),
        digest_at: args.alerts.digest_at,
        retry_base: args.alerts.retry_base,
        max_attempts: args.alerts.max_attempts,
        retry_every: args.alerts.retry_every,
        wait_for_first_sync: args.sync.is_configured(),
    };
    let mut stopped = stopped;
    alerts::start(&args.alerts, repo, channels, settings, async move {
        let _ = stopped.changed().await;
    })
    .await
}

/// How long sessions and API keys last.
fn auth_policy(args: &AuthArgs) -> AuthPolicy {
    AuthPolicy {
        absolute_timeout: chrono::Duration::from_std(args.max_age).unwrap_or(chrono::Duration::hours(12)),
        idle_timeout: chrono::Duration::from_std(args.idle_timeout).unwrap_or(chrono::Duration::hours(8)),
        api_key_sign_in_max_age: chrono::Duration::days(i64::from(args.api_key_sign_in_max_age_days)),
    }
}

/// Prometheus metrics, when configured (`METRICS_BEARER_TOKEN`, `METRICS_BIND_ADDRESS`): the
/// listener of their own is bound and served here; the metrics go to the router when a bearer
/// token puts them on the app's address too.
async fn start_metrics(
    args: &ServeArgs,
    state: &AppState,
    stopped: tokio::sync::watch::Receiver<()>,
) -> anyhow::Result<(Option<metrics::Metrics>, Option<SocketAddr>)> {
    let bearer = args.metrics.bearer()?;
    if bearer.is_none() && args.metrics.bind_address.is_none() {
        return Ok((None, None));
    }
    let metrics = metrics::Metrics::new(state.repo.clone(), &state.review.notice_days, bearer);
    let mut own_address = None;
    if let Some(address) = args.metrics.bind_address {
        let listener = metrics::bind(address).await?;
        let bound = listener.local_addr()?;
        tracing::info!(metrics.address = %bound, "metrics served on their own address");
        metrics.spawn_listener(listener, stopped);
        own_address = Some(bound);
    }
    if metrics.on_app_address() {
        tracing::info!("metrics served at /metrics to scrapers with the bearer token");
    }
    Ok((Some(metrics), own_address))
}

/// The writes that make approved service accounts, when a write credential is configured.
fn gitlab_writes(
    args: &ServeArgs,
    gitlab_url: Option<&str>,
) -> anyhow::Result<Option<Arc<dyn app::state::GitLabWrites>>> {
    let Some(writes) = args.fulfil.writes(gitlab_url)? else {
        return Ok(None);
    };
    tracing::info!("approved service accounts are made through GitLab's API (FULFIL_GITLAB_TOKEN)");
    Ok(Some(Arc::new(writes)))
}

/// Sign-in's state from the configuration: the OAuth client when an application is configured,
/// the role rules, and the origin state-changing requests must come from.
fn auth_state(args: &AuthArgs, sync_gitlab_url: Option<&str>, public_url: &str) -> anyhow::Result<AuthState> {
    let parsed = url::Url::parse(public_url).with_context(|| format!("PUBLIC_URL {public_url:?} is not a URL"))?;
    let origin = parsed.origin().ascii_serialization();
    let secret = secret::secret_from(
        args.client_secret.as_ref(),
        args.client_secret_file.as_deref(),
        "OAuth secret",
    )?;
    let oauth = match (&args.client_id, secret) {
        (Some(client_id), Some(secret)) if !client_id.trim().is_empty() && !secret.expose_secret().is_empty() => {
            let gitlab_url = args
                .gitlab_url
                .as_deref()
                .or(sync_gitlab_url)
                .context("sign-in needs GitLab's URL: set AUTH_GITLAB_URL (or SYNC_GITLAB_URL)")?;
            Some(auth::oauth::GitLabOAuth::new(&OAuthSettings {
                gitlab_url: gitlab_url.to_owned(),
                client_id: client_id.trim().to_owned(),
                client_secret: secret,
                redirect_url: format!("{public_url}/auth/callback"),
            })?)
        }
        (None, None) => {
            tracing::warn!("sign-in is not configured (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET): nobody can sign in");
            None
        }
        _ => anyhow::bail!("sign-in needs both OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET (or OAUTH_CLIENT_SECRET_FILE)"),
    };
    let list = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .map(|i| i.trim().trim_matches('/').to_owned())
            .filter(|i| !i.is_empty())
            .collect()
    };
    Ok(AuthState {
        oauth,
        roles: Arc::new(RolePolicy {
            security_groups: list(&args.security_groups),
            security_users: list(&args.security_users),
            admin_groups: list(&args.admin_groups),
            admin_users: list(&args.admin_users),
        }),
        origin,
        public_url: parsed,
        sign_in_rate: args.sign_in_rate,
    })
}
