//! Configuration: typed, from flags and environment variables.

use std::{net::IpAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "token-inventory",
    version,
    about = "The inventory of every GitLab access token and service account"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// `sqlite:…` (a file, created with its folder when missing) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/token-inventory.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the web application.
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Read every token and service account from GitLab into the database, once.
    Sync(SyncArgs),
    /// Load teams and tokens from a JSON file (development and browser tests).
    #[command(hide = true)]
    LoadFixture {
        /// `{"teams": [...], "tokens": [...]}`
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one (the URL is printed).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDRESS", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Folder holding `pkg/` (the wasm bundle, its JS and the stylesheet) built by `cargo xtask build`.
    #[arg(long, env = "SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

impl ServeArgs {
    /// The `serve` settings from the environment and defaults alone, for when no subcommand is given.
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(Parser)]
        struct Serve {
            #[command(flatten)]
            args: ServeArgs,
        }
        Serve::try_parse_from(["token-inventory"]).map(|serve| serve.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_is_the_default_and_flags_parse() {
        let cli = Cli::try_parse_from(["token-inventory"]).expect("no arguments");
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "token-inventory",
            "serve",
            "--port",
            "0",
            "--database-url",
            "sqlite://x.db",
        ])
        .expect("serve flags");
        match cli.command {
            Some(Command::Serve(args)) => assert_eq!(args.port, 0),
            other => panic!("expected serve, got {other:?}"),
        }
        assert_eq!(cli.global.database_url, "sqlite://x.db");
        assert!(Cli::try_parse_from(["token-inventory", "serve", "--port", "http"]).is_err());
    }
}

/// Where and how sync reads GitLab. The credential should be a `read_api` token with an expiry:
/// an administrator's (the fewest requests) or a group owner's (walks the groups it owns).
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// GitLab's base URL, e.g. `https://gitlab.example.com`.
    #[arg(long = "gitlab-url", env = "SYNC_GITLAB_URL")]
    pub gitlab_url: String,
    /// The access token sync reads with (`read_api`). Never logged, never stored.
    #[arg(
        long = "gitlab-token",
        env = "SYNC_GITLAB_TOKEN",
        hide_env_values = true,
        conflicts_with = "gitlab_token_file"
    )]
    pub gitlab_token: Option<String>,
    /// A file holding the token (a mounted secret), instead of `SYNC_GITLAB_TOKEN`.
    #[arg(long = "gitlab-token-file", env = "SYNC_GITLAB_TOKEN_FILE")]
    pub gitlab_token_file: Option<PathBuf>,
    /// Full paths of the groups to read (comma-separated); empty: everything the credential can.
    #[arg(long = "root-groups", env = "SYNC_ROOT_GROUPS", value_delimiter = ',')]
    pub root_groups: Vec<String>,
    /// Requests in flight at once.
    #[arg(long, env = "SYNC_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,
    #[arg(long, env = "SYNC_STRATEGY", value_enum, default_value_t = crate::sync::StrategyChoice::Auto)]
    pub strategy: crate::sync::StrategyChoice,
    /// No progress bar (logs only).
    #[arg(long)]
    pub quiet: bool,
}

impl SyncArgs {
    /// The sync settings, with the token read from the flag, the variable or the file.
    pub fn settings(&self) -> anyhow::Result<crate::sync::SyncSettings> {
        use anyhow::Context;
        let token = match (&self.gitlab_token, &self.gitlab_token_file) {
            (Some(token), _) => token.trim().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the GitLab token file {}", path.display()))?
                .trim()
                .to_owned(),
            (None, None) => anyhow::bail!("sync needs a GitLab token: set SYNC_GITLAB_TOKEN or SYNC_GITLAB_TOKEN_FILE"),
        };
        anyhow::ensure!(!token.is_empty(), "the GitLab token is empty");
        anyhow::ensure!(
            self.gitlab_url.starts_with("http://") || self.gitlab_url.starts_with("https://"),
            "SYNC_GITLAB_URL must start with http:// or https://"
        );
        let mut settings = crate::sync::SyncSettings::new(self.gitlab_url.clone(), secrecy::SecretString::from(token));
        settings.root_groups = self
            .root_groups
            .iter()
            .map(|path| path.trim().trim_matches('/').to_owned())
            .filter(|path| !path.is_empty())
            .collect();
        settings.strategy = self.strategy;
        settings.client.concurrency = self.concurrency.clamp(1, 64);
        Ok(settings)
    }
}
