//! Inventory benchmark: gitlab-sim's `large` (about 112,000 tokens) and `huge` (about a million)
//! worlds, each synced into a fresh database, then the inventory's and the review's pages as
//! people use them (median and p95 over 100 requests each, one at a time, on loopback), and
//! throughput with 64 connections at once from a second process (this binary, re-run) for 10 s,
//! and the first page's again from oha when it is installed (`cargo install oha`; `BENCH_OHA`
//! names another binary). Each world on each backend is synced and served by a process of its own
//! (this binary, re-run), so its memory figures are its own and not what an earlier run left in
//! the allocator. It ends with one table: the machine, the date, every figure of both backends and
//! both sizes, and the targets (issue 19); the README carries it as printed.
//!
//! `cargo bench -p server --bench inventory`. SQLite always; PostgreSQL too when
//! `BENCH_POSTGRES_URL` names a server (a database of its own is created and dropped there).
//! `BENCH_SCENARIOS` (`large,huge`; `small` for a quick look), `BENCH_BACKENDS` (`sqlite,postgres`:
//! one of them alone, to look at it), `BENCH_SECONDS` (10); `BENCH_KEEP` keeps the databases, to
//! look at their plans afterwards. The table's heading gives how long the machine took for a
//! fixed piece of work before and after (`reference_ms`): machines of one kind differ, and one
//! machine from hour to hour, so figures are only compared at a like reference.

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use app::{
    db::{ApiKeyScope, NewApiKey, Repo, UserProfile},
    domain::{Role, SyncTrigger},
};
use gitlab_sim::{Scenario, SimConfig};
use secrecy::SecretString;
use server::{Server, config::ServeArgs, sync::SyncSettings};
use sqlx::{Connection, Executor};

/// The server binary's allocator, so the pages cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LOAD_CHILD: &str = "INVENTORY_BENCH_LOAD";
const SIM_CHILD: &str = "INVENTORY_BENCH_SIM";
const RUN_CHILD: &str = "INVENTORY_BENCH_RUN";
const CONNECTIONS: usize = 64;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if std::env::var_os(LOAD_CHILD).is_some() {
        return runtime.block_on(load_child());
    }
    if std::env::var_os(SIM_CHILD).is_some() {
        return runtime.block_on(sim_child());
    }
    if std::env::var_os(RUN_CHILD).is_some() {
        return runtime.block_on(run_child());
    }
    runtime.block_on(bench())
}

/// The second process: `CONNECTIONS` clients asking for inventory pages for `BENCH_SECONDS`.
async fn load_child() -> anyhow::Result<()> {
    let base = std::env::var("BENCH_URL")?;
    let key = std::env::var("BENCH_KEY")?;
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build()?;
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let paths: Vec<String> = std::env::var("BENCH_PATHS")?.split(' ').map(str::to_owned).collect();
    let paths = Arc::new(paths);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONNECTIONS {
        let (client, base, key, done, errors) =
            (client.clone(), base.clone(), key.clone(), done.clone(), errors.clone());
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < until {
                let path = &paths[i % paths.len()];
                i += 1;
                let ok = match client.get(format!("{base}{path}")).bearer_auth(&key).send().await {
                    Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
                    _ => false,
                };
                let counter = if ok { &done } else { &errors };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} {} {:.3}",
        done.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        elapsed
    );
    Ok(())
}

/// gitlab-sim in a process of its own, so the server's memory is measured alone: prints its URL
/// and administrator token, serves until stdin closes.
async fn sim_child() -> anyhow::Result<()> {
    let scenario: Scenario = std::env::var("BENCH_SCENARIO")?.parse().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let sim = gitlab_sim::spawn(SimConfig {
        scenario,
        rate_limit_per_minute: 100_000_000,
        ..SimConfig::default()
    })
    .await?;
    println!(
        "{} {} {:.1}",
        sim.url,
        sim.credentials.admin_token,
        started.elapsed().as_secs_f64()
    );
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await?;
    Ok(())
}

/// oha's figures for the inventory's first page with `CONNECTIONS` connections for
/// `BENCH_SECONDS`: (pages per second, failed requests); `None` when oha is not installed.
fn oha_first_page(base: &str, key: &str) -> anyhow::Result<Option<(f64, u64)>> {
    let oha = std::env::var("BENCH_OHA").unwrap_or_else(|_| "oha".to_owned());
    if Command::new(&oha).arg("--version").output().is_err() {
        println!("oha is not installed: only this benchmark's own client measures the load");
        return Ok(None);
    }
    let seconds = std::env::var("BENCH_SECONDS").unwrap_or_else(|_| "10".to_owned());
    // The key is a throw-away one, for this benchmark's own database.
    let output = Command::new(&oha)
        .args(["--no-tui", "--output-format", "json", "-c"])
        .arg(CONNECTIONS.to_string())
        .arg("-z")
        .arg(format!("{seconds}s"))
        .arg("-H")
        .arg(format!("Authorization: Bearer {key}"))
        .arg(format!("{base}/"))
        .output()?;
    // An oha that fails (an older one without JSON output, say) costs its line, not the run.
    let report: Option<serde_json::Value> = output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).ok())
        .flatten();
    let Some((report, rate)) = report.and_then(|r| r["summary"]["requestsPerSec"].as_f64().map(|rate| (r, rate)))
    else {
        println!(
            "oha gave no figures: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return Ok(None);
    };
    let count = |value: &serde_json::Value, keep: &dyn Fn(&str) -> bool| -> u64 {
        value.as_object().map_or(0, |map| {
            map.iter()
                .filter(|(name, _)| keep(name))
                .filter_map(|(_, n)| n.as_u64())
                .sum()
        })
    };
    // Requests cut off when the time is up are not failures.
    let errors = count(&report["statusCodeDistribution"], &|status| status != "200")
        + count(&report["errorDistribution"], &|error| !error.contains("deadline"));
    Ok(Some((rate, errors)))
}

/// A user of `role` and a read-only API key of theirs, as the `Authorization` header carries it.
async fn api_key(repo: &Repo, gitlab_id: i64, username: &str, role: Role) -> anyhow::Result<String> {
    let user = repo
        .record_sign_in(
            &UserProfile {
                gitlab_id,
                username: username.into(),
                name: username.into(),
                email: None,
            },
            &BTreeSet::from([role]),
            &[],
            chrono::Utc::now(),
        )
        .await?;
    let prefix = format!("{username:0<8}").chars().take(8).collect::<String>();
    let secret = format!("{username:x<40}").chars().take(40).collect::<String>();
    repo.create_api_key(
        &NewApiKey {
            user_id: user,
            name: username.into(),
            prefix: prefix.clone(),
            secret_hash: app::auth::secret_hash(&secret),
            scope: ApiKeyScope::Read,
            expires_on: chrono::Utc::now().date_naive() + chrono::Days::new(1),
        },
        chrono::Utc::now(),
    )
    .await?;
    Ok(format!("ti_{prefix}_{secret}"))
}

/// Each page asked for 100 times, one at a time: (name, median, p95).
async fn time_pages(
    backend: &str,
    client: &reqwest::Client,
    base: &str,
    key: &str,
    paths: &[(&'static str, &str)],
) -> anyhow::Result<Vec<(String, Duration, Duration)>> {
    let mut pages = Vec::new();
    for (name, path) in paths {
        let mut times = Vec::new();
        for _ in 0..100 {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).bearer_auth(key).send().await?;
            anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
            let _ = response.bytes().await?;
            times.push(started.elapsed());
        }
        times.sort();
        pages.push((
            (*name).to_owned(),
            times[times.len() / 2],
            times[times.len() * 95 / 100],
        ));
        println!(
            "{backend}: {name}: median {:.1} ms",
            times[times.len() / 2].as_secs_f64() * 1000.0
        );
    }
    Ok(pages)
}

/// What one backend did on one world, as its process hands it to the table's.
#[derive(serde::Serialize, serde::Deserialize)]
struct Figures {
    scenario: String,
    backend: String,
    tokens: u64,
    sync: Duration,
    /// (page, median, p95)
    pages: Vec<(String, Duration, Duration)>,
    /// (load, pages per second, errors)
    loads: Vec<(String, f64, u64)>,
    /// Peak RSS of the process while it synced and worked out the review, and while it served the
    /// loads (MiB).
    sync_rss_mib: Option<f64>,
    serve_rss_mib: Option<f64>,
}

/// gitlab-sim with `scenario` in a process of its own: the process, its URL and administrator
/// token, and how long it took to make its world.
fn spawn_sim(scenario: &str) -> anyhow::Result<(std::process::Child, (String, String), f64)> {
    let mut process = Command::new(std::env::current_exe()?)
        .env(SIM_CHILD, "1")
        .env("BENCH_SCENARIO", scenario)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(process.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?).read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let mut word = || words.next().unwrap_or_default().to_owned();
    let sim = (word(), word());
    let generated: f64 = word().parse().unwrap_or(0.0);
    Ok((process, sim, generated))
}

async fn bench() -> anyhow::Result<()> {
    let reference_before = reference_ms();
    let scenarios = std::env::var("BENCH_SCENARIOS").unwrap_or_else(|_| "large,huge".to_owned());
    let mut all = Vec::new();
    let mut generated = Vec::new();
    for scenario in scenarios.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (mut sim_process, sim, seconds) = spawn_sim(scenario)?;
        println!("gitlab-sim made the {scenario} world in {seconds:.1} s");
        generated.push((scenario.to_owned(), seconds));
        let wanted = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
        let backends = ["sqlite", "postgres"].into_iter().filter(|backend| {
            wanted.split(',').any(|w| w.trim() == *backend)
                && (*backend != "postgres" || std::env::var_os("BENCH_POSTGRES_URL").is_some())
        });
        for backend in backends {
            let figures = run_in_child(scenario, backend, &sim).await;
            if figures.is_err() {
                drop(sim_process.stdin.take());
                let _ = sim_process.wait();
            }
            all.push(figures?);
        }
        drop(sim_process.stdin.take());
        let _ = sim_process.wait();
    }
    println!();
    print_table(&all, &generated, (reference_before, reference_ms()));
    Ok(())
}

/// How long one core of this machine takes for a fixed piece of arithmetic (milliseconds): a
/// yardstick printed with the figures.
fn reference_ms() -> f64 {
    let started = Instant::now();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut sum: u64 = 0;
    for i in 0..300_000_000_u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum = sum.wrapping_add(x ^ i);
    }
    std::hint::black_box(sum);
    started.elapsed().as_secs_f64() * 1000.0
}

/// One world on one backend, synced and served by a process of its own (`run_child`): its figures.
async fn run_in_child(scenario: &str, backend: &str, sim: &(String, String)) -> anyhow::Result<Figures> {
    let folder = tempfile::tempdir()?;
    let figures = folder.path().join("figures.json");
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .env(RUN_CHILD, "1")
        .env("BENCH_SCENARIO", scenario)
        .env("BENCH_BACKEND", backend)
        .env("BENCH_SIM_URL", &sim.0)
        .env("BENCH_SIM_TOKEN", &sim.1)
        .env("BENCH_FIGURES", &figures)
        .kill_on_drop(true)
        .spawn()?;
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "the {scenario} world on {backend}: {status}");
    Ok(serde_json::from_slice(&std::fs::read(&figures)?)?)
}

/// The process of one world on one backend: writes its figures, as JSON, where `BENCH_FIGURES`
/// says.
async fn run_child() -> anyhow::Result<()> {
    // `RUST_LOG=info` shows the sync's steps as they happen, to tell which one a figure is of.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let scenario = std::env::var("BENCH_SCENARIO")?;
    let sim = (std::env::var("BENCH_SIM_URL")?, std::env::var("BENCH_SIM_TOKEN")?);
    let figures = match std::env::var("BENCH_BACKEND")?.as_str() {
        "postgres" => on_postgres(&scenario, &std::env::var("BENCH_POSTGRES_URL")?, &sim).await?,
        _ => on_sqlite(&scenario, &sim).await?,
    };
    std::fs::write(std::env::var("BENCH_FIGURES")?, serde_json::to_vec(&figures)?)?;
    Ok(())
}

async fn on_sqlite(scenario: &str, sim: &(String, String)) -> anyhow::Result<Figures> {
    let folder = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", folder.path().join("bench.db").display());
    let _folder = if std::env::var_os("BENCH_KEEP").is_some() {
        println!("SQLite database kept: {sqlite}");
        let _ = folder.keep();
        None
    } else {
        Some(folder)
    };
    run(scenario, "SQLite", &sqlite, sim).await
}

async fn on_postgres(scenario: &str, url: &str, sim: &(String, String)) -> anyhow::Result<Figures> {
    let database = format!("inventory_bench_{scenario}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await?;
    admin
        .execute(format!("CREATE DATABASE \"{database}\"").as_str())
        .await?;
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&database);
    let result = run(scenario, "PostgreSQL", parsed.as_str(), sim).await;
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("PostgreSQL database kept: {parsed}");
    } else {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)").as_str())
            .await;
    }
    result
}

/// The target of a page's p95 at `tokens` (issue 19): 25 ms up to about 112,000, 50 ms at a
/// million.
fn p95_target(tokens: u64) -> Duration {
    Duration::from_millis(if tokens > 200_000 { 50 } else { 25 })
}

/// The machine: its processor's model and how many cores this process may use.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown processor".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cores} cores ({model})")
}

/// The one table: a column per world and backend, a row per page, load and memory figure, and
/// the target; a figure that misses its target is marked ✗.
fn print_table(all: &[Figures], generated: &[(String, f64)], reference: (f64, f64)) {
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    println!(
        "Inventory benchmark, {}, {}, release build, {} s of load per figure; the machine's \
         reference work took {:.0} ms before and {:.0} ms after",
        chrono::Utc::now().format("%Y-%m-%d"),
        machine(),
        std::env::var("BENCH_SECONDS").unwrap_or_else(|_| "10".to_owned()),
        reference.0,
        reference.1,
    );
    println!();
    let mut header = "| figure |".to_owned();
    let mut rule = "|---|".to_owned();
    for f in all {
        header.push_str(&format!(" {} tokens, {} |", domain::thousands(f.tokens), f.backend));
        rule.push_str("---|");
    }
    println!("{header} target |");
    println!("{rule}---|");
    let row = |name: &str, target: &str, cell: &dyn Fn(&Figures) -> String| {
        let cells: String = all.iter().map(|f| format!(" {} |", cell(f))).collect();
        println!("| {name} |{cells} {target} |");
    };
    row("gitlab-sim made the world", "seconds", &|f| {
        generated
            .iter()
            .find(|(s, _)| *s == f.scenario)
            .map_or("–".to_owned(), |(_, s)| format!("{s:.1} s"))
    });
    row("sync (and the review's findings)", "–", &|f| {
        format!("{:.0} s", f.sync.as_secs_f64())
    });
    let Some(first) = all.first() else { return };
    for (i, (page, _, _)) in first.pages.iter().enumerate() {
        row(
            &format!("{page}: median / p95"),
            "p95 < 25 ms (112k), < 50 ms (1M)",
            &|f| {
                f.pages.get(i).map_or("–".to_owned(), |(_, median, p95)| {
                    let missed = if *p95 >= p95_target(f.tokens) { " ✗" } else { "" };
                    format!("{:.1} / {:.1} ms{missed}", ms(median), ms(p95))
                })
            },
        );
    }
    for (i, (load, _, _)) in first.loads.iter().enumerate() {
        let floor = match i {
            0 => Some(1_000.0),
            1 => Some(500.0),
            _ => None,
        };
        let target = floor.map_or("–".to_owned(), |f| format!("≥ {f:.0} pages/s at 112k, no errors"));
        row(&format!("{load}, {CONNECTIONS} connections"), &target, &|f| {
            f.loads.get(i).map_or("–".to_owned(), |(_, rate, errors)| {
                let missed = floor.is_some_and(|floor| f.tokens < 200_000 && *rate < floor) || *errors > 0;
                let mark = if missed { " ✗" } else { "" };
                format!("{rate:.0} pages/s, {errors} errors{mark}")
            })
        });
    }
    let rss = |value: Option<f64>, tokens: u64| {
        value.map_or("–".to_owned(), |m| {
            let mark = if tokens > 200_000 && m >= 300.0 { " ✗" } else { "" };
            format!("{m:.0} MiB{mark}")
        })
    };
    row("peak RSS: sync and review", "< 300 MiB (1M)", &|f| {
        rss(f.sync_rss_mib, f.tokens)
    });
    row("peak RSS: serving the loads", "< 300 MiB (1M)", &|f| {
        rss(f.serve_rss_mib, f.tokens)
    });
}

/// This process's peak RSS since it was last reset (MiB), and resets it.
fn take_peak_rss() -> Option<f64> {
    let peak = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace()
            .nth(1)?
            .parse::<f64>()
            .ok()
            .map(|kib| kib / 1024.0)
    });
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    peak
}

async fn run(
    scenario: &str,
    backend: &'static str,
    database_url: &str,
    sim: &(String, String),
) -> anyhow::Result<Figures> {
    let _ = take_peak_rss();
    let repo: Repo = server::open_database(database_url).await?;
    // Three of the world's top-level groups have a team (`team=1` is Platform's).
    let teams = [
        ("Platform", "platform"),
        ("Payments", "payments"),
        ("Security", "security"),
    ];
    repo.apply_configured_teams(
        &teams
            .iter()
            .map(|(name, path)| db::ConfiguredTeam {
                name: (*name).to_owned(),
                group_paths: vec![(*path).to_owned()],
                leads: vec![],
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    let started = Instant::now();
    let mut settings = SyncSettings::new(sim.0.clone(), SecretString::from(sim.1.clone()));
    settings.client.concurrency = 16;
    let outcome = server::sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None).await?;
    let sync = started.elapsed();
    anyhow::ensure!(
        outcome.status == domain::SyncStatus::Succeeded,
        "sync {:?}",
        outcome.errors
    );
    let tokens = repo
        .count_tokens(
            &app::server::inventory::TokenQuery {
                page: 1,
                ..Default::default()
            },
            chrono::Utc::now().date_naive(),
        )
        .await?;
    println!("{backend}: {tokens} tokens synced in {:.1} s", sync.as_secs_f64());

    // A reader with an API key: the pages answer to it as they do to a signed-in browser. The
    // review's queue is read by security (an engineer sees only their team's findings).
    let key = api_key(&repo, 1, "bench", Role::Engineer).await?;
    let security_key = api_key(&repo, 2, "security", Role::Security).await?;
    let findings = repo
        .list_findings(&db::FindingFilter::default(), chrono::Utc::now().date_naive())
        .await?
        .total;
    println!("{backend}: {findings} open findings");
    let sync_rss_mib = take_peak_rss();

    let folder = tempfile::tempdir()?;
    let server = Server::bind(&ServeArgs::loopback(folder.path().to_path_buf()), repo.clone()).await?;
    let base = format!("http://{}", server.addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let mut pages = time_pages(
        backend,
        &client,
        &base,
        &key,
        &[
            ("first page", "/"),
            ("expiring within 30 days", "/?expiry=30d"),
            (
                "project access tokens expiring within 30 days",
                "/?kind=project_access&expiry=30d",
            ),
            ("search, a rare word (`q=bot-12`)", "/?q=bot-12"),
            ("search, a common word (`q=bot`)", "/?q=bot"),
            ("page 7", "/?page=7"),
            ("deep page (page 1,000)", "/?page=1000"),
            ("deploy tokens by expiry", "/?kind=deploy&sort=expires"),
            ("one team's tokens by expiry", "/?team=1&sort=expires"),
        ],
    )
    .await?;
    pages.extend(
        time_pages(
            backend,
            &client,
            &base,
            &security_key,
            &[
                ("review queue", "/review"),
                ("review queue, one rule", "/review?rule=never-used"),
                ("review queue, one team, high", "/review?team=1&severity=high"),
                ("review queue, page 100, all states", "/review?state=all&page=100"),
            ],
        )
        .await?,
    );

    let _ = take_peak_rss();
    let mut loads = Vec::new();
    for (load, paths) in [
        ("the first page", "/"),
        (
            "a mix: first page, expiring in 30 days, a search, page 7, deploy tokens by expiry",
            "/ /?expiry=30d /?q=bot /?page=7 /?kind=deploy&sort=expires",
        ),
    ] {
        let child = Command::new(std::env::current_exe()?)
            .env(LOAD_CHILD, "1")
            .env("BENCH_URL", &base)
            .env("BENCH_KEY", &key)
            .env("BENCH_PATHS", paths)
            .stdout(Stdio::piped())
            .spawn()?;
        let output = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
            let mut child = child;
            let mut line = String::new();
            if let Some(stdout) = child.stdout.take() {
                BufReader::new(stdout).read_line(&mut line)?;
            }
            child.wait()?;
            Ok(line)
        })
        .await??;
        let mut parts = output.split_whitespace();
        let done: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
        let errors: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        let elapsed: f64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
        println!("{backend}: {load}: {:.0} pages/s, {errors} errors", done / elapsed);
        loads.push((load.to_owned(), done / elapsed, errors));
    }
    // The same first-page load from oha, a load generator of its own, when it is installed
    // (`cargo install oha`): a check on the figures of this benchmark's own client.
    if let Some((rate, errors)) = oha_first_page(&base, &key)? {
        println!("{backend}: the first page (oha): {rate:.0} pages/s, {errors} errors");
        loads.push(("the first page, measured by oha".to_owned(), rate, errors));
    }
    let serve_rss_mib = take_peak_rss();
    let _ = stop.send(());
    let _ = serving.await;
    Ok(Figures {
        scenario: scenario.to_owned(),
        backend: backend.to_owned(),
        tokens,
        sync,
        pages,
        loads,
        sync_rss_mib,
        serve_rss_mib,
    })
}
