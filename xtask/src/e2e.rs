//! The browser tests: a fresh database loaded with `e2e/fixtures/inventory.json`, gitlab-sim's
//! demo world for signing in, the server on a free port, and Playwright driving Debian's
//! Chromium, hydrated and with JavaScript off.

use anyhow::bail;
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use crate::{
    build::{self, Profile},
    process::{self, KillOnDrop},
    sim,
};

/// The sample inventory of the browser tests.
pub const FIXTURE: &str = "e2e/fixtures/inventory.json";

/// Runs the browser tests; `only` (Playwright's own arguments, such as a spec file) narrows them.
pub fn run(only: &[String]) -> anyhow::Result<()> {
    let chromium = ensure_chromium()?;
    ensure_node_modules()?;
    // What ships: the size-optimised bundle; the server in debug, as the Rust tests built it.
    let server_binary = build::server(Profile::Dev)?;
    // The bundle the browser tests load is the release one: it is held to its budget here too,
    // so CI fails when it grows past it.
    build::release_bundle()?;

    let scratch = std::env::temp_dir().join(format!("token-inventory-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let database_url = format!("sqlite://{}", scratch.join("e2e.db").display());
    process::run(
        Command::new(&server_binary)
            .args(["load-fixture", FIXTURE])
            .env("DATABASE_URL", &database_url),
    )?;

    // Two servers share one gitlab-sim: one on the fixture (the inventory's journeys count its
    // rows), one syncing the simulator's demo world at start (service accounts, sync runs).
    let port = sim::free_port()?;
    let base_url = format!("http://127.0.0.1:{port}");
    let synced_port = sim::free_port()?;
    let synced_url = format!("http://127.0.0.1:{synced_port}");
    let (sim, credentials) = sim::start(
        &build::gitlab_sim_binary(Profile::Dev),
        0,
        &[
            &format!("{base_url}/auth/callback"),
            &format!("{synced_url}/auth/callback"),
        ],
        &scratch.join("gitlab-sim.json"),
    )?;
    let server = start_server(
        &server_binary,
        &database_url,
        port,
        &sim::sign_in_env(&credentials, &base_url),
    )?;
    let mut synced_env = sim::sign_in_env(&credentials, &synced_url);
    synced_env.extend(sim::sync_env(&credentials, "1day"));
    let synced_database = format!("sqlite://{}", scratch.join("synced.db").display());
    let synced = start_server(&server_binary, &synced_database, synced_port, &synced_env)?;
    println!("browser tests against {base_url} (fixture) and {synced_url} (synced from gitlab-sim)");
    let result = process::run(
        Command::new("npx")
            .args(["--no-install", "playwright", "test"])
            .args(only)
            .current_dir("e2e")
            .env("E2E_BASE_URL", &base_url)
            .env("E2E_SYNCED_URL", &synced_url)
            // The journeys that change the simulated GitLab between syncs (`/-/sim/mutations`).
            .env("E2E_SIM_URL", &credentials.url)
            .env("E2E_SIM_ADMIN_TOKEN", &credentials.admin_token)
            .env("CHROMIUM_PATH", &chromium),
    );
    drop(synced);
    drop(server);
    drop(sim);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Starts `token-inventory serve --port PORT` and waits until it says it listens.
fn start_server(binary: &Path, database_url: &str, port: u16, env: &[(&str, String)]) -> anyhow::Result<KillOnDrop> {
    let (server, _) = process::start_server(
        Command::new(binary)
            .args(["serve", "--port", &port.to_string()])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("DATABASE_URL", database_url)
            .env("SITE_ROOT", "target/site")
            .env("RUST_LOG", "warn")
            // Every journey signs in, all from 127.0.0.1: more than a person starts in a minute.
            .env("SIGN_IN_RATE_LIMIT", "0"),
        false,
        Duration::from_secs(30),
    )?;
    Ok(server)
}

/// Debian's Chromium (`CHROMIUM_PATH` or `/usr/bin/chromium`), installed with apt-get when
/// missing and we are root, as on this project's machines.
fn ensure_chromium() -> anyhow::Result<PathBuf> {
    let path = PathBuf::from(std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()));
    if path.exists() {
        return Ok(path);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        bail!("Chromium is missing: install it with `sudo apt-get install -y chromium` (or set CHROMIUM_PATH)");
    }
    println!("installing Debian's chromium for the browser tests");
    process::run(Command::new("apt-get").arg("update").stdout(Stdio::null()))?;
    process::run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null()),
    )?;
    if !path.exists() {
        bail!("apt-get installed chromium but {} is not there", path.display());
    }
    Ok(path)
}

/// `npm ci` in `e2e/` when its packages are missing or older than the lock file.
fn ensure_node_modules() -> anyhow::Result<()> {
    let marker = Path::new("e2e/node_modules/.package-lock.json");
    let lock = Path::new("e2e/package-lock.json");
    let stale = match (std::fs::metadata(marker), std::fs::metadata(lock)) {
        (Ok(installed), Ok(locked)) => installed.modified()? < locked.modified()?,
        _ => true,
    };
    if stale {
        process::run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir("e2e"),
        )?;
    }
    Ok(())
}
