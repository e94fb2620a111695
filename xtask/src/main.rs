//! `cargo xtask <command>`: the project's build, serve, demo and test steps, in Rust, so a
//! newcomer needs nothing but cargo.
//!
//! - `build [--release]`: the server, the wasm bundle (wasm-bindgen as a library, at the exact
//!   version of the `wasm-bindgen` crate), and the stylesheet (encre-css over `app/src`), all
//!   precompressed (brotli and gzip) under `target/site/pkg/`.
//! - `css`: only the stylesheet.
//! - `bundle`: only the release wasm bundle and the stylesheet, their table, and the budget check.
//! - `demo`: build with the quick `demo` profile, start gitlab-sim's demo world and the app
//!   syncing it, then build the wasm bundle behind it.
//! - `serve [--release] [-- ARGS]`: build and run `token-inventory serve ARGS`.
//! - `test`: every test: the Rust suites (PostgreSQL too when `TEST_POSTGRES_URL` is set) and the
//!   browser tests (`e2e`).
//! - `e2e [-- ARGS]`: the browser tests alone, against a fresh server and database; ARGS go to
//!   Playwright (`-- tests/review.spec.ts` runs one file).
//! - `lint`: the crates' layers (`layers.rs`), no function over 80 lines (`lengths.rs`), `cargo fmt --check` and clippy, host and wasm.

mod build;
mod e2e;
mod layers;
mod lengths;
mod process;
mod sim;

use anyhow::{Context, bail};
use std::path::PathBuf;

fn main() {
    if let Err(error) = run() {
        eprintln!("xtask: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".to_owned());
    let rest: Vec<String> = args.collect();
    let release = rest.iter().any(|arg| arg == "--release");
    let passthrough: Vec<String> = rest.iter().skip_while(|arg| *arg != "--").skip(1).cloned().collect();
    std::env::set_current_dir(workspace_root()).context("cannot enter the workspace")?;
    match command.as_str() {
        "build" => build::all(build::Profile::from_release(release)).map(|_| ()),
        "css" => build::stylesheet().map(|_| ()),
        "bundle" => build::release_bundle(),
        "demo" => demo(),
        "serve" => {
            let server = build::all(build::Profile::from_release(release))?;
            let mut server_args = vec!["serve".to_owned()];
            server_args.extend(passthrough);
            process::run_foreground(&server, &server_args)
        }
        "test" => {
            let mut command = process::cargo_command(&["test", "--no-fail-fast"]);
            match postgres_for_tests() {
                Some(url) => {
                    println!("repository tests: SQLite and PostgreSQL ({})", redact(&url));
                    command.env("TEST_POSTGRES_URL", url);
                }
                None => {
                    println!("repository tests: SQLite only (no PostgreSQL at TEST_POSTGRES_URL or 127.0.0.1:5432)")
                }
            }
            command.env("GITLAB_SIM_PYTHON", python_gitlab()?);
            process::run(&mut command)?;
            e2e::run(&[])
        }
        "e2e" => e2e::run(&passthrough),
        "lint" => {
            layers::check()?;
            lengths::check()?;
            process::cargo(&["fmt", "--all", "--check"])?;
            process::cargo(&["clippy", "--all-targets", "--", "-D", "warnings"])?;
            build::ensure_wasm_target()?;
            process::cargo(&[
                "clippy",
                "-p",
                "frontend",
                "-p",
                "app",
                "--features",
                "app/hydrate",
                "--target",
                build::WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
        }
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <build [--release] | bundle | css | demo | serve [--release] [-- ARGS] | test | e2e [-- ARGS] | lint>"
            );
            Ok(())
        }
        other => bail!("unknown command {other:?}; try `cargo xtask help`"),
    }
}

/// The demo, built with the quick `demo` profiles: gitlab-sim's `demo` world on port 3100 (GitLab
/// and its sign-in), and the app on port 3000 signing people in through it and syncing it at
/// start (then every 10 minutes) into `data/demo.db`. The server starts as soon as it is built;
/// the wasm bundle builds after, at the lowest priority (the pages work without it, and hydrate
/// once it is there).
fn demo() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let server = build::demo_server()?;
    let public_url = "http://127.0.0.1:3000";
    let (sim, credentials) = sim::start(
        &build::gitlab_sim_binary(build::Profile::Demo),
        3100,
        &[&format!("{public_url}/auth/callback")],
        &PathBuf::from("target/demo/gitlab-sim.json"),
    )?;
    println!("gitlab-sim (the demo's GitLab) is running at {}", credentials.url);
    let (mut served, _) = process::start_server(
        std::process::Command::new(&server)
            .arg("serve")
            .envs(sim::sign_in_env(&credentials, public_url))
            .envs(sim::sync_env(&credentials, "10m"))
            .env("DATABASE_URL", "sqlite://data/demo.db"),
        true,
        std::time::Duration::from_secs(120),
    )?;
    println!(
        "demo: Token Inventory answers at {public_url}/, {:.0} s after xtask started: open it and sign in as anyone of the demo organisation",
        started.elapsed().as_secs_f64()
    );
    // Only now: beside the server's build it slowed it by a minute on two cores, even at the
    // lowest priority.
    build::demo_bundle()?;
    let status = served.0.wait()?;
    drop(sim);
    if !status.success() {
        bail!("the server stopped ({status})");
    }
    Ok(())
}

/// A Python with python-gitlab for gitlab-sim's independent-client test: a virtual environment
/// in `target/python-venv`, made or updated from `gitlab-sim/tests/python/requirements.txt`.
fn python_gitlab() -> anyhow::Result<PathBuf> {
    let requirements = PathBuf::from("gitlab-sim/tests/python/requirements.txt");
    let venv = PathBuf::from("target/python-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("installed-requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).context("cannot read the Python requirements")?;
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        process::run(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        process::run(
            std::process::Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
        )?;
        std::fs::write(&marker, wanted)?;
    }
    // Not canonicalize: the venv's python is a symlink, and only its own path sees the venv.
    Ok(std::path::absolute(python)?)
}

/// `TEST_POSTGRES_URL` when set; otherwise the local server of this project's machines, when it
/// answers.
fn postgres_for_tests() -> Option<String> {
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        return (!url.is_empty()).then_some(url);
    }
    let local = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    std::net::TcpStream::connect_timeout(&local, std::time::Duration::from_millis(500))
        .ok()
        .map(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The workspace root: xtask's manifest folder's parent.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact("postgres://ti:s3cret@db:5432/ti"),
            "postgres://ti:***@db:5432/ti"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
