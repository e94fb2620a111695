//! The `token-inventory` server: configuration, telemetry, HTTP, and the commands of the binary.

pub mod config;
pub mod fixtures;
pub mod http;
pub mod sync;
pub mod telemetry;

use std::net::SocketAddr;

use anyhow::Context;
use app::{BUNDLE_NAME, db::Repo, state::AppState};
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;

use crate::config::ServeArgs;

/// Opens the database and brings its schema up to date.
pub async fn open_database(database_url: &str) -> anyhow::Result<Repo> {
    let repo = app::db::connect(database_url)
        .await
        .context("cannot open the database")?;
    repo.migrate().await.context("cannot migrate the database")?;
    tracing::info!(db.backend = ?repo.backend(), "database ready");
    Ok(repo)
}

/// A bound server, ready to be run; `addr` is where it listens (useful with port 0).
pub struct Server {
    pub addr: SocketAddr,
    listener: TcpListener,
    router: axum::Router,
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
        let state = AppState { leptos_options, repo };
        let router = http::router(state, &args.site_root);
        Ok(Server { addr, listener, router })
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
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
