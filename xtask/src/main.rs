//! `cargo xtask <command>`: the project's build, serve, demo and test steps, in Rust, so a
//! newcomer needs nothing but cargo.
//!
//! - `build [--release]`: the server, the wasm bundle (wasm-bindgen as a library, at the exact
//!   version of the `wasm-bindgen` crate), and the stylesheet (encre-css over `app/src`), all
//!   precompressed (brotli and gzip) under `target/site/pkg/`.
//! - `css`: only the stylesheet.
//! - `demo`: build in release and start the app on its embedded defaults.
//! - `serve [--release] [-- ARGS]`: build and run `token-inventory serve ARGS`.
//! - `test`: every test: the Rust suites (PostgreSQL too when `TEST_POSTGRES_URL` is set) and the
//!   browser tests (`e2e`).
//! - `e2e`: the browser tests alone, against a fresh server and database.
//! - `lint`: `cargo fmt --check` and clippy, host and wasm.

mod build;
mod e2e;
mod process;

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
    let passthrough: Vec<String> = rest
        .iter()
        .skip_while(|arg| *arg != "--")
        .skip(1)
        .cloned()
        .collect();
    std::env::set_current_dir(workspace_root()).context("cannot enter the workspace")?;
    match command.as_str() {
        "build" => build::all(build::Profile::from_release(release)).map(|_| ()),
        "css" => build::stylesheet().map(|_| ()),
        "demo" => {
            let server = build::all(build::Profile::Release)?;
            process::run_foreground(&server, &["serve".to_owned()])
        }
        "serve" => {
            let server = build::all(build::Profile::from_release(release))?;
            let mut server_args = vec!["serve".to_owned()];
            server_args.extend(passthrough);
            process::run_foreground(&server, &server_args)
        }
        "test" => {
            process::cargo(&["test", "--workspace", "--no-fail-fast"])?;
            e2e::run()
        }
        "e2e" => e2e::run(),
        "lint" => {
            process::cargo(&["fmt", "--all", "--check"])?;
            process::cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])?;
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
                "usage: cargo xtask <build [--release] | css | demo | serve [--release] [-- ARGS] | test | e2e | lint>"
            );
            Ok(())
        }
        other => bail!("unknown command {other:?}; try `cargo xtask help`"),
    }
}

/// The workspace root: xtask's manifest folder's parent.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
