use clap::Parser;
use gitlab_sim::{Scenario, SimConfig, faults::Faults, ratelimit::DEFAULT_PER_MINUTE};

/// A simulated GitLab (REST API v4 and OAuth2 provider) full of realistic tokens.
#[derive(Debug, Parser)]
#[command(name = "gitlab-sim", version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, env = "GITLAB_SIM_PORT", default_value_t = 3100)]
    port: u16,
    /// demo, small, large (2,000 groups, 20,000 projects, 100,000 tokens) or huge (18,000 groups,
    /// 180,000 projects, a million tokens).
    #[arg(long, default_value = "demo")]
    scenario: Scenario,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Authenticated API requests a user may make per minute.
    #[arg(long, default_value_t = DEFAULT_PER_MINUTE)]
    rate_limit: u32,
    /// Redirect URIs of the OAuth application (repeatable).
    #[arg(long = "redirect-uri", default_value = "http://127.0.0.1:3000/auth/callback")]
    redirect_uris: Vec<String>,
    /// Latency added to every API request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Random extra latency, up to this much.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Share of API requests answered with a 5xx (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of API requests that start a burst of 429s.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    #[arg(long, default_value_t = 5)]
    throttle_burst: u32,
    /// Share of API requests whose connection is dropped.
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    /// Share of API responses whose body ends half-way.
    #[arg(long, default_value_t = 0.0)]
    truncate_rate: f64,
    /// Send bodies slowly, pausing this long between pieces.
    #[arg(long, default_value_t = 0)]
    slow_body_ms: u64,
    /// Also write the URL and the credentials as JSON to this file (readable by its owner only),
    /// for scripts such as `cargo xtask demo`.
    #[arg(long)]
    credentials_file: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let started = std::time::Instant::now();
    let sim = gitlab_sim::spawn(SimConfig {
        scenario: args.scenario,
        seed: args.seed,
        port: args.port,
        rate_limit_per_minute: args.rate_limit,
        redirect_uris: args.redirect_uris,
        today: None,
        faults: Faults {
            latency_ms: args.latency_ms,
            jitter_ms: args.jitter_ms,
            error_rate: args.error_rate,
            throttle_rate: args.throttle_rate,
            throttle_burst: args.throttle_burst,
            reset_rate: args.reset_rate,
            truncate_rate: args.truncate_rate,
            slow_body_ms: args.slow_body_ms,
            fail_path: None,
            after_write: None,
        },
    })
    .await?;
    let counts = {
        let world = sim.state.world.read().unwrap_or_else(|e| e.into_inner());
        (
            world.groups.len(),
            world.projects.len(),
            world.personal_access_tokens.len() + world.deploy_tokens.len(),
        )
    };
    if let Some(path) = &args.credentials_file {
        write_credentials(path, &sim.url, &sim.credentials)?;
    }
    println!("gitlab-sim is running at {}", sim.url);
    println!(
        "  world: {} groups, {} projects, {} tokens (ready in {:.2} s)",
        counts.0,
        counts.1,
        counts.2,
        started.elapsed().as_secs_f64()
    );
    println!("  administrator token (PRIVATE-TOKEN): {}", sim.credentials.admin_token);
    println!(
        "  group owner token (read_api):        {}",
        sim.credentials.group_owner_token
    );
    println!(
        "  group owner token (api):             {}",
        sim.credentials.group_owner_write_token
    );
    println!(
        "  OAuth client id:                     {}",
        sim.credentials.oauth_client_id
    );
    println!(
        "  OAuth client secret:                 {}",
        sim.credentials.oauth_client_secret
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// `{"url": …, "admin_token": …, …}`, created with mode 0600 where the platform has modes.
fn write_credentials(
    path: &std::path::Path,
    url: &str,
    credentials: &gitlab_sim::scenario::Credentials,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    #[derive(serde::Serialize)]
    struct File<'a> {
        url: &'a str,
        #[serde(flatten)]
        credentials: &'a gitlab_sim::scenario::Credentials,
    }
    let json = serde_json::to_string_pretty(&File { url, credentials })?;
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(json.as_bytes())?;
    Ok(())
}
