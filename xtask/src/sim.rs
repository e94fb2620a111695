//! Starting gitlab-sim for the demo and the browser tests, and reading the credentials it
//! writes once it listens.

use anyhow::{Context, bail};
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::process::KillOnDrop;

/// What gitlab-sim writes to its `--credentials-file`.
#[derive(serde::Deserialize)]
pub struct SimCredentials {
    pub url: String,
    pub admin_token: String,
    /// The group owner's `api` token: the write credential that makes approved service accounts.
    pub group_owner_write_token: String,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
}

/// Starts gitlab-sim's `demo` world on `port` (0: any), its OAuth application accepting each of
/// `redirect_uris`, and waits until it listens.
pub fn start(
    binary: &Path,
    port: u16,
    redirect_uris: &[&str],
    credentials_file: &Path,
) -> anyhow::Result<(KillOnDrop, SimCredentials)> {
    let _ = std::fs::remove_file(credentials_file);
    let child = Command::new(binary)
        .args(["--scenario", "demo", "--port", &port.to_string()])
        .args(redirect_uris.iter().flat_map(|uri| ["--redirect-uri", uri]))
        .arg("--credentials-file")
        .arg(credentials_file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut sim = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = sim.0.try_wait()? {
            bail!("gitlab-sim stopped ({status}); is port {port} taken?");
        }
        if let Ok(text) = std::fs::read_to_string(credentials_file)
            && let Ok(credentials) = serde_json::from_str(&text)
        {
            return Ok((sim, credentials));
        }
        if Instant::now() > deadline {
            bail!(
                "gitlab-sim did not start within a minute (no {})",
                credentials_file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The environment that makes `token-inventory serve` sign people in through gitlab-sim, with the
/// demo world's security group, its administrator, and `e2e/fixtures/teams.toml`, whose alert
/// webhooks post to gitlab-sim's chat sink (`DEMO_CHAT_URL`, read by the teams file).
pub fn sign_in_env(credentials: &SimCredentials, public_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AUTH_GITLAB_URL", credentials.url.clone()),
        ("OAUTH_CLIENT_ID", credentials.oauth_client_id.clone()),
        ("OAUTH_CLIENT_SECRET", credentials.oauth_client_secret.clone()),
        ("PUBLIC_URL", public_url.to_owned()),
        ("SECURITY_GROUPS", "acme/security".to_owned()),
        ("ADMIN_USERS", "root".to_owned()),
        ("TEAMS_FILE", "e2e/fixtures/teams.toml".to_owned()),
        (
            "DEMO_CHAT_URL",
            format!("{}/-/sim/chat", credentials.url.trim_end_matches('/')),
        ),
    ]
}

/// The environment that makes `token-inventory serve` sync gitlab-sim as its administrator, and
/// make approved service accounts there as the Owner of its top-level groups.
pub fn sync_env(credentials: &SimCredentials, interval: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SYNC_GITLAB_URL", credentials.url.clone()),
        ("SYNC_GITLAB_TOKEN", credentials.admin_token.clone()),
        ("FULFIL_GITLAB_TOKEN", credentials.group_owner_write_token.clone()),
        ("SYNC_INTERVAL", interval.to_owned()),
    ]
}
