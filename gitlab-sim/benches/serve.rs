//! How fast gitlab-sim starts with the `large` scenario and serves list pages: the server time
//! of each request (its `X-Runtime`), and the round trip on loopback.
//! `cargo bench -p gitlab-sim --bench serve`

use std::time::{Duration, Instant};

use gitlab_sim::{Scenario, SimConfig};

const SAMPLES: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let sim = gitlab_sim::spawn(SimConfig {
        scenario: Scenario::Large,
        seed: 1,
        rate_limit_per_minute: u32::MAX,
        ..SimConfig::default()
    })
    .await?;
    let ready = started.elapsed();
    let (groups, projects, tokens, users) = {
        let world = sim.state.world.read().map_err(|_| anyhow::anyhow!("world lock"))?;
        (
            world.groups.len(),
            world.projects.len(),
            world.personal_access_tokens.len() + world.deploy_tokens.len(),
            world.users.len(),
        )
    };
    println!("large scenario: {groups} groups, {projects} projects, {tokens} tokens, {users} users");
    println!("ready to serve in {:.2} s", ready.as_secs_f64());

    let (project, group) = {
        let world = sim.state.world.read().map_err(|_| anyhow::anyhow!("world lock"))?;
        let project = world.projects.keys().nth(projects / 2).copied().unwrap_or(1);
        let group = world
            .groups
            .values()
            .find(|g| g.parent_id.is_none())
            .map(|g| g.id)
            .unwrap_or(1);
        (project, group)
    };
    let client = reqwest::Client::new();
    println!("\n| request | server time p50 | p99 | round trip p50 |");
    println!("|---|---|---|---|");
    for (name, path) in cases(project, group) {
        let (mut server, mut round_trip) = measure(&client, &sim, &path).await?;
        server.sort();
        round_trip.sort();
        println!(
            "| {name} | {:.0} µs | {:.0} µs | {:.0} µs |",
            percentile(&server, 0.5).as_secs_f64() * 1e6,
            percentile(&server, 0.99).as_secs_f64() * 1e6,
            percentile(&round_trip, 0.5).as_secs_f64() * 1e6
        );
    }
    Ok(())
}

/// The requests measured: a name and a path.
fn cases(project: u64, group: u64) -> [(&'static str, String); 9] {
    [
        ("version (no listing: the fixed cost)", "/api/v4/version".to_owned()),
        (
            "personal access tokens, page 1",
            "/api/v4/personal_access_tokens?per_page=100".to_owned(),
        ),
        (
            "personal access tokens, page 500",
            "/api/v4/personal_access_tokens?per_page=100&page=500".to_owned(),
        ),
        (
            "projects, keyset page",
            format!(
                "/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=100&id_after={}",
                project
            ),
        ),
        (
            "groups, page 10",
            "/api/v4/groups?per_page=100&page=10&order_by=id".to_owned(),
        ),
        (
            "a group's projects with subgroups",
            format!("/api/v4/groups/{group}/projects?include_subgroups=true&per_page=100&order_by=id"),
        ),
        (
            "a project's access tokens",
            format!("/api/v4/projects/{project}/access_tokens?per_page=100"),
        ),
        (
            "deploy tokens (instance), page 20",
            "/api/v4/deploy_tokens?per_page=100&page=20".to_owned(),
        ),
        (
            "users, keyset page",
            "/api/v4/users?pagination=keyset&order_by=id&sort=asc&per_page=100&id_after=50000".to_owned(),
        ),
    ]
}

/// `SAMPLES` requests of `path` as the administrator: each one's server time and round trip.
async fn measure(
    client: &reqwest::Client,
    sim: &gitlab_sim::SimHandle,
    path: &str,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let mut server = Vec::with_capacity(SAMPLES);
    let mut round_trip = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let sent = Instant::now();
        let response = client
            .get(format!("{}{path}", sim.url))
            .header("PRIVATE-TOKEN", &sim.credentials.admin_token)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        let runtime: f64 = response
            .headers()
            .get("x-runtime")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        response.bytes().await?;
        round_trip.push(sent.elapsed());
        server.push(Duration::from_secs_f64(runtime));
    }
    Ok((server, round_trip))
}
