//! Sync benchmark: the `large` scenario (2,000 groups, 20,000 projects, 100,000 tokens) behind
//! 20 ms of latency per request, synced into a fresh SQLite database once with an
//! administrator's credential and once with a group owner's; then a naive sequential walk (one
//! request at a time, offset pages), as home-grown scripts do.
//!
//! `cargo bench -p server --bench sync`. Settings from the environment: `BENCH_SCENARIO`
//! (`large`; `small` for a quick look), `BENCH_LATENCY_MS` (20), `BENCH_CONCURRENCY` (16),
//! `BENCH_NAIVE` (`1`; `0` skips the naive walk, which takes about a quarter of an hour).
//!
//! gitlab-sim runs in a child process (this same binary, re-run), so the peak memory measured
//! here is the sync's alone. Its rate limit is set out of reach: the bench measures the sync,
//! and the lower bound it reports says what a rate limit would change.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use domain::SyncTrigger;
use gitlab_sim::{
    Scenario, SimConfig,
    faults::Faults,
    model::{Source, UserKind, World},
};
use secrecy::SecretString;
use server::sync::{StrategyChoice, SyncSettings};

const CHILD: &str = "SYNC_BENCH_SIM_CHILD";
const RATE_LIMIT_PER_MINUTE: u32 = 10_000_000;
const PER_PAGE: u64 = 100;

/// What the simulator child tells the bench: where it is, and what a sync must at least ask.
#[derive(serde::Serialize, serde::Deserialize)]
struct SimInfo {
    url: String,
    admin_token: String,
    group_owner_token: String,
    tokens: usize,
    groups: usize,
    projects: usize,
    minimum_administrator: u64,
    minimum_group_owner: u64,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else here takes arguments.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if std::env::var_os(CHILD).is_some() {
        return runtime.block_on(simulator_child());
    }
    runtime.block_on(bench())
}

async fn simulator_child() -> anyhow::Result<()> {
    let scenario: Scenario = std::env::var("BENCH_SCENARIO")
        .unwrap_or_else(|_| "large".to_owned())
        .parse()
        .map_err(anyhow::Error::msg)?;
    let sim = gitlab_sim::spawn(SimConfig {
        scenario,
        rate_limit_per_minute: RATE_LIMIT_PER_MINUTE,
        faults: Faults {
            latency_ms: env_or("BENCH_LATENCY_MS", 20),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await?;
    let info = {
        let world = sim.state.world.read().unwrap_or_else(|e| e.into_inner());
        SimInfo {
            url: sim.url.clone(),
            admin_token: sim.credentials.admin_token.clone(),
            group_owner_token: sim.credentials.group_owner_token.clone(),
            tokens: world.personal_access_tokens.len() + world.deploy_tokens.len(),
            groups: world.groups.len(),
            projects: world.projects.len(),
            minimum_administrator: minimum_administrator(&world),
            minimum_group_owner: minimum_group_owner(&world),
        }
    };
    println!("{}", serde_json::to_string(&info)?);
    std::io::stdout().flush()?;
    // Serve until the bench closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await?;
    Ok(())
}

/// Requests a listing of `n` items takes at 100 a page (an empty listing still takes one).
fn pages(n: usize) -> u64 {
    (n as u64).div_ceil(PER_PAGE).max(1)
}

fn access_tokens_of(world: &World, source: Source) -> usize {
    world.index.bots_of.get(&source).map_or(0, |bots| {
        bots.iter()
            .map(|bot| world.index.tokens_of_user.get(bot).map_or(0, |t| t.len()))
            .sum()
    })
}

fn deploy_tokens_of(world: &World, source: Source) -> usize {
    world.index.deploy_tokens_of.get(&source).map_or(0, |t| t.len())
}

fn tokens_of_user(world: &World, user: u64) -> usize {
    world.index.tokens_of_user.get(&user).map_or(0, |t| t.len())
}

fn memberships_of(world: &World, user: u64) -> usize {
    world.index.memberships_of.get(&user).map_or(0, |m| m.len())
}

/// The administrator's minimum: `/user`; every group, project and non-human user listed once;
/// every project's and group's deploy tokens (GitLab's instance-wide list does not say where a
/// deploy token lives); the access tokens of the projects and groups that have a bot user; and
/// every service account's tokens and memberships.
fn minimum_administrator(world: &World) -> u64 {
    let bots = world.users.values().filter(|u| u.kind.is_bot()).count();
    let mut requests = 1 + pages(world.groups.len()) + pages(world.projects.len()) + pages(bots);
    let sources = world
        .projects
        .keys()
        .map(|id| Source::Project(*id))
        .chain(world.groups.keys().map(|id| Source::Group(*id)));
    for source in sources {
        requests += pages(deploy_tokens_of(world, source));
        if world.index.bots_of.get(&source).is_some_and(|bots| !bots.is_empty()) {
            requests += pages(access_tokens_of(world, source));
        }
    }
    for user in world.users.values() {
        if matches!(
            user.kind,
            UserKind::GroupServiceAccount { .. } | UserKind::InstanceServiceAccount
        ) {
            requests += pages(tokens_of_user(world, user.id)) + pages(memberships_of(world, user.id));
        }
    }
    requests
}

/// The group owner's minimum: `/user`, the top-level groups it owns, each one's descendant
/// groups, projects and service accounts; then every project's and group's access and deploy
/// tokens (it cannot see which have bots), and each service account's tokens.
fn minimum_group_owner(world: &World) -> u64 {
    let roots: Vec<u64> = world
        .groups
        .values()
        .filter(|g| g.parent_id.is_none())
        .map(|g| g.id)
        .collect();
    let mut requests = 1 + pages(roots.len());
    for root in &roots {
        let mut descendants = Vec::new();
        let mut queue = vec![*root];
        while let Some(group) = queue.pop() {
            for child in world.index.subgroups.get(&group).into_iter().flatten() {
                descendants.push(*child);
                queue.push(*child);
            }
        }
        let projects: usize = std::iter::once(root)
            .chain(descendants.iter())
            .map(|g| world.index.projects_in_group.get(g).map_or(0, |p| p.len()))
            .sum();
        let service_accounts = world
            .users
            .values()
            .filter(|u| u.kind == UserKind::GroupServiceAccount { group_id: *root })
            .count();
        requests += pages(descendants.len()) + pages(projects) + pages(service_accounts);
    }
    let sources = world
        .projects
        .keys()
        .map(|id| Source::Project(*id))
        .chain(world.groups.keys().map(|id| Source::Group(*id)));
    for source in sources {
        requests += pages(access_tokens_of(world, source)) + pages(deploy_tokens_of(world, source));
    }
    for user in world.users.values() {
        if let UserKind::GroupServiceAccount { .. } = user.kind {
            requests += pages(tokens_of_user(world, user.id));
        }
    }
    requests
}

struct Row {
    name: &'static str,
    requests: u64,
    minimum: Option<u64>,
    wall: Duration,
    lower_bound: Option<Duration>,
    rows: u64,
    peak_rss_mib: Option<f64>,
    status: String,
}

async fn bench() -> anyhow::Result<()> {
    let latency_ms: u64 = env_or("BENCH_LATENCY_MS", 20);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 16);
    let naive: u8 = env_or("BENCH_NAIVE", 1);

    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?).read_line(&mut line)?;
    let sim: SimInfo = serde_json::from_str(&line)?;
    println!(
        "gitlab-sim: {} groups, {} projects, {} tokens, {latency_ms} ms a request (ready in {:.1} s)",
        sim.groups,
        sim.projects,
        sim.tokens,
        started.elapsed().as_secs_f64()
    );

    let lower_bound = |minimum: u64, concurrency: usize| {
        let by_latency = minimum as f64 * latency_ms as f64 / 1000.0 / concurrency as f64;
        let by_rate_limit = minimum as f64 / (f64::from(RATE_LIMIT_PER_MINUTE) / 60.0);
        Duration::from_secs_f64(by_latency.max(by_rate_limit))
    };
    let mut rows = Vec::new();
    for (name, token, strategy, minimum) in [
        (
            "administrator",
            &sim.admin_token,
            StrategyChoice::Administrator,
            sim.minimum_administrator,
        ),
        (
            "group owner",
            &sim.group_owner_token,
            StrategyChoice::GroupOwner,
            sim.minimum_group_owner,
        ),
    ] {
        let folder = tempfile::tempdir()?;
        let repo = server::open_database(&format!("sqlite://{}", folder.path().join("bench.db").display())).await?;
        let mut settings = SyncSettings::new(sim.url.clone(), SecretString::from(token.clone()));
        settings.strategy = strategy;
        settings.client.concurrency = concurrency;
        reset_peak_rss();
        let outcome = server::sync::run(repo, &settings, SyncTrigger::CommandLine, None).await?;
        let progress = &outcome.progress;
        rows.push(Row {
            name,
            requests: outcome.requests,
            minimum: Some(minimum),
            wall: outcome.elapsed,
            lower_bound: Some(lower_bound(minimum, concurrency)),
            rows: progress.tokens_seen,
            peak_rss_mib: peak_rss_mib(),
            status: format!("{} ({} errors)", outcome.status, outcome.errors.len()),
        });
        print_row(rows.last().expect("just pushed"));
    }
    if naive != 0 {
        let started = Instant::now();
        let (requests, tokens) = naive_walk(&sim.url, &sim.admin_token).await?;
        rows.push(Row {
            name: "naive sequential",
            requests,
            minimum: None,
            wall: started.elapsed(),
            lower_bound: None,
            rows: tokens,
            peak_rss_mib: None,
            status: "read only, nothing written".to_owned(),
        });
        print_row(rows.last().expect("just pushed"));
    }
    drop(child.stdin.take());
    let _ = child.wait();

    println!();
    println!("| run | requests | minimum | wall | lower bound | wall ÷ bound | tokens/s | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.1} s | {} | {} | {:.0} | {} |",
            row.name,
            row.requests,
            row.minimum.map_or("–".to_owned(), |m| format!(
                "{m} ({:+.1}%)",
                (row.requests as f64 / m as f64 - 1.0) * 100.0
            )),
            row.wall.as_secs_f64(),
            row.lower_bound
                .map_or("–".to_owned(), |b| format!("{:.1} s", b.as_secs_f64())),
            row.lower_bound.map_or("–".to_owned(), |b| format!(
                "{:.2}×",
                row.wall.as_secs_f64() / b.as_secs_f64()
            )),
            row.rows as f64 / row.wall.as_secs_f64(),
            row.peak_rss_mib.map_or("–".to_owned(), |m| format!("{m:.0} MiB")),
        );
    }
    if let (Some(admin), Some(naive)) = (rows.first(), rows.iter().find(|r| r.name == "naive sequential")) {
        println!(
            "\nthe naive walk took {:.1}× the administrator's sync",
            naive.wall.as_secs_f64() / admin.wall.as_secs_f64()
        );
    }
    Ok(())
}

fn print_row(row: &Row) {
    println!(
        "{}: {} requests in {:.1} s, {} tokens, {}",
        row.name,
        row.requests,
        row.wall.as_secs_f64(),
        row.rows,
        row.status
    );
}

/// Linux: writing 5 to `clear_refs` resets the peak resident set size (`VmHWM`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// What most home-grown scripts do: as an administrator, page through every group and every
/// project with offset pagination, then ask each one for its access tokens and deploy tokens,
/// one request at a time.
async fn naive_walk(url: &str, token: &str) -> anyhow::Result<(u64, u64)> {
    let client = reqwest::Client::new();
    let mut requests = 0u64;
    let mut get_all = async |path: &str| -> anyhow::Result<Vec<serde_json::Value>> {
        let mut items = Vec::new();
        let mut page = 1;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let response = client
                .get(format!("{url}/api/v4{path}{separator}per_page=100&page={page}"))
                .header("PRIVATE-TOKEN", token)
                .send()
                .await?
                .error_for_status()?;
            requests += 1;
            let next = response
                .headers()
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok());
            let batch: Vec<serde_json::Value> = response.json().await?;
            items.extend(batch);
            match next {
                Some(n) => page = n,
                None => return Ok(items),
            }
        }
    };
    let groups = get_all("/groups?all_available=true").await?;
    let projects = get_all("/projects").await?;
    let mut tokens = 0u64;
    let mut containers = BTreeMap::new();
    for group in &groups {
        containers.insert(format!("/groups/{}", group["id"]), ());
    }
    for project in &projects {
        containers.insert(format!("/projects/{}", project["id"]), ());
    }
    for container in containers.keys() {
        tokens += get_all(&format!("{container}/access_tokens")).await?.len() as u64;
        tokens += get_all(&format!("{container}/deploy_tokens")).await?.len() as u64;
    }
    Ok((requests, tokens))
}
