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
    /// `cargo xtask demo`: quick to build from cold, optimised enough to feel fast
    /// (`[profile.demo]`, `[profile.wasm-demo]`).
    Demo,
    /// Release server, wasm optimised for size (`[profile.wasm-release]`), held to its budget.
    Release,
}

impl Profile {
    pub fn from_release(release: bool) -> Self {
        if release { Profile::Release } else { Profile::Dev }
    }

    fn server_profile(self) -> (&'static str, &'static str) {
        match self {
            Profile::Dev => ("dev", "debug"),
            Profile::Demo => ("demo", "demo"),
            Profile::Release => ("release", "release"),
        }
    }

    fn wasm_profile(self) -> (&'static str, &'static str) {
        match self {
            Profile::Dev => ("dev", "debug"),
            Profile::Demo => ("wasm-demo", "wasm-demo"),
            Profile::Release => ("wasm-release", "wasm-release"),
        }
    }
}

/// Builds everything; returns the server binary's path. A release build prints the bundle's
/// table and fails when a file is over its budget.
pub fn all(profile: Profile) -> anyhow::Result<PathBuf> {
    let server = server(profile)?;
    wasm_bundle(profile)?;
    stylesheet()?;
    report_bundle((profile == Profile::Release).then(read_budget).transpose()?.as_ref())?;
    Ok(server)
}

/// Prints the bundle's table (the README's) and, given a budget, shows it beside each file and
/// fails when a file is over it.
fn report_bundle(budget: Option<&Budget>) -> anyhow::Result<()> {
    let sizes = bundle_sizes()?;
    print!("{}", size_table(&sizes, budget));
    budget.map_or(Ok(()), |budget| check_budget(&sizes, budget))
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

/// The release bundle alone (the browser's files, not the server): built, printed as the
/// README's table, and held to its budget.
pub fn release_bundle() -> anyhow::Result<()> {
    wasm_bundle(Profile::Release)?;
    stylesheet()?;
    report_bundle(Some(&read_budget()?))
}

/// The demo's wasm bundle, built once the server answers, at the lowest CPU priority (`nice -n
/// 19`, where there is a `nice`) so the pages stay quick, in a target folder of its own
/// (`target/demo-wasm`); says how long it took. The pages work without it; once it is there, each
/// page load hydrates.
pub fn demo_bundle() -> anyhow::Result<()> {
    let started = Instant::now();
    println!("demo: building the wasm bundle behind the running demo (profile `wasm-demo`, lowest priority)");
    wasm_bundle_in(Profile::Demo, Path::new("target/demo-wasm"), Build::Background)?;
    println!(
        "demo: the wasm bundle is ready after {:.0} s: pages hydrate from their next load",
        started.elapsed().as_secs_f64()
    );
    report_bundle(None)
}

/// The demo's server and gitlab-sim (`[profile.demo]`, one cargo run) and the stylesheet, in the
/// foreground with cargo's progress; says how long they took. Returns the server binary's path.
pub fn demo_server() -> anyhow::Result<PathBuf> {
    let started = Instant::now();
    println!("demo: building the server and gitlab-sim (profile `demo`)");
    let server = server(Profile::Demo)?;
    stylesheet()?;
    println!(
        "demo: the server and gitlab-sim built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(server)
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
    wasm_bundle_in(profile, Path::new("target"), Build::Foreground)
}

/// How a cargo build runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// With cargo's progress, at normal priority.
    Foreground,
    /// Quiet, at the lowest priority, behind a running demo.
    Background,
}

/// Builds the wasm bundle with `target_dir` as cargo's target folder.
fn wasm_bundle_in(profile: Profile, target_dir: &Path, how: Build) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let (name, dir) = profile.wasm_profile();
    let started = Instant::now();
    let target_arg = target_dir.display().to_string();
    let mut args = vec![
        "build",
        "-p",
        "frontend",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        name,
        "--target-dir",
        &target_arg,
    ];
    if how == Build::Background {
        args.push("--quiet");
        process::run(&mut process::lowest_priority(process::cargo_command(&args)))?;
    } else {
        process::cargo(&args)?;
    }
    let input = target_dir.join(WASM_TARGET).join(dir).join("frontend.wasm");
    let out = Path::new(SITE_PKG);
    fs::create_dir_all(out)?;
    // Outside dev, what browsers get carries no debug names, DWARF or producers section.
    let mode = if profile == Profile::Dev { "dev" } else { "shipped" };
    let input_arg = input.display().to_string();
    let bindgen = [
        "run",
        "--quiet",
        "-p",
        "xtask-bindgen",
        "--",
        input_arg.as_str(),
        SITE_PKG,
        BUNDLE_NAME,
        mode,
    ];
    match how {
        Build::Background => process::run(&mut process::lowest_priority(process::cargo_command(&bindgen)))?,
        Build::Foreground => process::cargo(&bindgen)?,
    }
    let level = match profile {
        Profile::Dev | Profile::Demo => Compression::Fast,
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

/// A file of the bundle and its sizes in bytes: as built, gzip, brotli.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSize {
    pub file: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The sizes of the files the browser loads, as the last build left them.
pub fn bundle_sizes() -> anyhow::Result<Vec<FileSize>> {
    [
        format!("{BUNDLE_NAME}_bg.wasm"),
        format!("{BUNDLE_NAME}.js"),
        format!("{BUNDLE_NAME}.css"),
    ]
    .into_iter()
    .map(|file| {
        let path = Path::new(SITE_PKG).join(&file);
        let size = |p: &Path| {
            fs::metadata(p)
                .map(|m| m.len())
                .with_context(|| format!("cannot read {}", p.display()))
        };
        Ok(FileSize {
            raw: size(&path)?,
            gzip: size(&with_suffix(&path, "gz"))?,
            brotli: size(&with_suffix(&path, "br"))?,
            file,
        })
    })
    .collect()
}

/// The release bundle's budget: the most each file may weigh, raw and brotli-compressed.
pub const BUDGET_FILE: &str = "xtask/bundle-budget.toml";

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub files: std::collections::BTreeMap<String, FileBudget>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBudget {
    pub raw_kib: u64,
    pub brotli_kib: u64,
}

pub fn read_budget() -> anyhow::Result<Budget> {
    let text = fs::read_to_string(BUDGET_FILE).with_context(|| format!("cannot read {BUDGET_FILE}"))?;
    toml::from_str(&text).with_context(|| format!("{BUDGET_FILE} is not valid"))
}

/// Fails, naming each file and by how much, when a file is over its budget or has none.
pub fn check_budget(sizes: &[FileSize], budget: &Budget) -> anyhow::Result<()> {
    let mut over = Vec::new();
    for size in sizes {
        let Some(limit) = budget.files.get(&size.file) else {
            over.push(format!("{} has no budget in {BUDGET_FILE}", size.file));
            continue;
        };
        for (what, bytes, kib) in [
            ("raw", size.raw, limit.raw_kib),
            ("brotli", size.brotli, limit.brotli_kib),
        ] {
            if bytes > kib * 1024 {
                over.push(format!(
                    "{} is {} KiB {what}, over its budget of {kib} KiB",
                    size.file,
                    bytes.div_ceil(1024)
                ));
            }
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        bail!(
            "the release bundle is over its budget ({BUDGET_FILE}):\n  {}\nCut what grew, or raise the budget on purpose (at most 10% for a feature) and say why.",
            over.join("\n  ")
        )
    }
}

/// The bundle as a Markdown table (the README's), with the budget when there is one.
pub fn size_table(sizes: &[FileSize], budget: Option<&Budget>) -> String {
    let kib = |bytes: u64| {
        let kib = bytes.div_ceil(1024);
        if kib >= 1000 {
            format!("{},{:03} KiB", kib / 1000, kib % 1000)
        } else {
            format!("{kib} KiB")
        }
    };
    let mut table = String::from("| file | raw | gzip | brotli |");
    table.push_str(if budget.is_some() {
        " budget (raw / brotli) |\n|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|\n"
    });
    for size in sizes {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |",
            size.file,
            kib(size.raw),
            kib(size.gzip),
            kib(size.brotli)
        ));
        if let Some(budget) = budget {
            match budget.files.get(&size.file) {
                Some(limit) => table.push_str(&format!(
                    " {} / {} |",
                    kib(limit.raw_kib * 1024),
                    kib(limit.brotli_kib * 1024)
                )),
                None => table.push_str(" none |"),
            }
        }
        table.push('\n');
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(file: &str, raw_kib: u64, brotli_kib: u64) -> FileSize {
        FileSize {
            file: file.to_owned(),
            raw: raw_kib * 1024,
            gzip: raw_kib * 512,
            brotli: brotli_kib * 1024,
        }
    }

    fn budget(text: &str) -> Budget {
        toml::from_str(text).expect("budget")
    }

    #[test]
    fn a_file_over_its_budget_or_without_one_fails_the_build() {
        let limits = budget("[files.\"a.wasm\"]\nraw_kib = 100\nbrotli_kib = 30\n");
        assert!(
            check_budget(&[size("a.wasm", 100, 30)], &limits).is_ok(),
            "exactly the budget"
        );
        let error = check_budget(&[size("a.wasm", 101, 30)], &limits).expect_err("over, raw");
        assert!(
            error
                .to_string()
                .contains("a.wasm is 101 KiB raw, over its budget of 100 KiB"),
            "{error}"
        );
        let error = check_budget(&[size("a.wasm", 90, 31)], &limits).expect_err("over, brotli");
        assert!(error.to_string().contains("31 KiB brotli"), "{error}");
        let error = check_budget(&[size("b.js", 1, 1)], &limits).expect_err("no budget");
        assert!(error.to_string().contains("b.js has no budget"), "{error}");
    }

    #[test]
    fn the_recorded_budget_reads_and_covers_every_file() {
        let text =
            fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("bundle-budget.toml")).expect("budget file");
        let limits = budget(&text);
        for file in [
            format!("{BUNDLE_NAME}_bg.wasm"),
            format!("{BUNDLE_NAME}.js"),
            format!("{BUNDLE_NAME}.css"),
        ] {
            assert!(limits.files.contains_key(&file), "{file} has no budget");
        }
    }

    #[test]
    fn the_table_is_the_readmes() {
        let table = size_table(
            &[size("a.wasm", 1200, 240)],
            Some(&budget("[files.\"a.wasm\"]\nraw_kib = 1300\nbrotli_kib = 250\n")),
        );
        assert_eq!(
            table,
            "| file | raw | gzip | brotli | budget (raw / brotli) |\n|---|---|---|---|---|\n| `a.wasm` | 1,200 KiB | 600 KiB | 240 KiB | 1,300 KiB / 250 KiB |\n"
        );
    }
}
