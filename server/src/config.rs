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
