//! Builds the server, the wasm bundle and the stylesheet into `target/site/pkg/`.

use anyhow::{Context, bail};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use crate::process;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Must match `app::BUNDLE_NAME`: the server's hydration script asks for these files.
const BUNDLE_NAME: &str = "token-inventory";
const SITE_PKG: &str = "target/site/pkg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Fast to build: debug server, unoptimised wasm.
    Dev,
    /// Release server, wasm optimised for size (`[profile.wasm-release]`).
    Release,
}

impl Profile {
    pub fn from_release(release: bool) -> Self {
        if release { Profile::Release } else { Profile::Dev }
    }

    fn server_profile(self) -> (&'static str, &'static str) {
        match self {
            Profile::Dev => ("dev", "debug"),
            Profile::Release => ("release", "release"),
        }
    }

    fn wasm_profile(self) -> (&'static str, &'static str) {
        match self {
            Profile::Dev => ("dev", "debug"),
            Profile::Release => ("wasm-release", "wasm-release"),
        }
    }
}

/// Builds everything; returns the server binary's path.
pub fn all(profile: Profile) -> anyhow::Result<PathBuf> {
    let server = server(profile)?;
    wasm_bundle(profile)?;
    stylesheet()?;
    report_sizes()?;
    Ok(server)
}

/// Builds the server and gitlab-sim (one cargo call, so they share their dependencies' builds);
/// returns the server binary's path.
pub fn server(profile: Profile) -> anyhow::Result<PathBuf> {
    let (name, dir) = profile.server_profile();
    process::cargo(&[
        "build",
        "-p",
        "server",
        "--bin",
        "token-inventory",
        "-p",
        "gitlab-sim",
        "--bin",
        "gitlab-sim",
        "--profile",
        name,
    ])?;
    Ok(PathBuf::from("target").join(dir).join("token-inventory"))
}

/// The gitlab-sim binary that [`server`] built beside the server.
pub fn gitlab_sim_binary(profile: Profile) -> PathBuf {
    PathBuf::from("target")
        .join(profile.server_profile().1)
        .join("gitlab-sim")
}

/// Adds the wasm target with rustup when it is missing.
pub fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("cannot run rustup")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == WASM_TARGET)
    {
        process::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

pub fn wasm_bundle(profile: Profile) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let (name, dir) = profile.wasm_profile();
    let started = Instant::now();
    process::cargo(&[
        "build",
        "-p",
        "frontend",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        name,
    ])?;
    let input = Path::new("target").join(WASM_TARGET).join(dir).join("frontend.wasm");
    let out = Path::new(SITE_PKG);
    fs::create_dir_all(out)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name(BUNDLE_NAME)
        .web(true)?
        .typescript(false)
        .debug(profile == Profile::Dev)
        .generate(out)
        .with_context(|| format!("wasm-bindgen failed on {}", input.display()))?;
    let level = match profile {
        Profile::Dev => Compression::Fast,
        Profile::Release => Compression::Best,
    };
    compress(&out.join(format!("{BUNDLE_NAME}.js")), level)?;
    compress(&out.join(format!("{BUNDLE_NAME}_bg.wasm")), level)?;
    println!("wasm bundle built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Generates the utility classes used in `app/src` with encre-css, after the base stylesheet.
pub fn stylesheet() -> anyhow::Result<PathBuf> {
    let mut sources = Vec::new();
    collect_rust_sources(Path::new("app/src"), &mut sources)?;
    // The few pages the server renders without Leptos (sign-in, API keys) use the same utilities.
    collect_rust_sources(Path::new("server/src"), &mut sources)?;
    let texts = sources
        .iter()
        .map(|path| fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = encre_css::Config::from_file("style/encre-css.toml").context("cannot read style/encre-css.toml")?;
    let utilities = encre_css::generate(texts.iter().map(String::as_str), &config);
    let base = fs::read_to_string("style/base.css").context("cannot read style/base.css")?;
    if utilities.trim().is_empty() {
        bail!("encre-css generated no CSS from app/src");
    }
    let css = format!("{utilities}\n\n/* style/base.css */\n{base}");
    fs::create_dir_all(SITE_PKG)?;
    let path = Path::new(SITE_PKG).join(format!("{BUNDLE_NAME}.css"));
    fs::write(&path, css)?;
    compress(&path, Compression::Best)?;
    Ok(path)
}

fn collect_rust_sources(dir: &Path, into: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_rust_sources(&path, into)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    /// For dev builds: seconds, not a minute, on a 5 MB debug bundle.
    Fast,
    Best,
}

/// Writes `FILE.br` and `FILE.gz` beside `FILE` for the server to send as they are. Both are
/// always rewritten, so a stale compressed copy is never served in place of a new build.
fn compress(path: &Path, level: Compression) -> anyhow::Result<()> {
    let (brotli_quality, gzip_level) = match level {
        Compression::Fast => (1, flate2::Compression::fast()),
        Compression::Best => (11, flate2::Compression::best()),
    };
    let raw = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut br = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: brotli_quality,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut raw.as_slice(), &mut br, &params)?;
    }
    fs::write(with_suffix(path, "br"), br)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), gzip_level);
    gz.write_all(&raw)?;
    fs::write(with_suffix(path, "gz"), gz.finish()?)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn report_sizes() -> anyhow::Result<()> {
    for file in [
        format!("{BUNDLE_NAME}_bg.wasm"),
        format!("{BUNDLE_NAME}.js"),
        format!("{BUNDLE_NAME}.css"),
    ] {
        let path = Path::new(SITE_PKG).join(&file);
        let size = |p: &Path| fs::metadata(p).map(|m| m.len() / 1024).unwrap_or(0);
        println!(
            "{file:<28} {:>6} KiB raw {:>6} KiB gzip {:>6} KiB brotli",
            size(&path),
            size(&with_suffix(&path, "gz")),
            size(&with_suffix(&path, "br"))
        );
    }
    Ok(())
}
