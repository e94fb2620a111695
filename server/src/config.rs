//! Configuration: typed, from flags and environment variables.

use std::{net::IpAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

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
    Serve(Box<ServeArgs>),
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
    /// Where sync reads GitLab; without `SYNC_GITLAB_URL` the server does not sync.
    #[command(flatten)]
    pub sync: SyncSourceArgs,
    /// How often to sync (`30m`, `1h`, `1day`), the first run at start; `off`: only when asked.
    #[arg(long = "sync-interval", env = "SYNC_INTERVAL", default_value = "1h", value_parser = parse_interval)]
    pub sync_interval: SyncInterval,
    /// Sign-in with GitLab, sessions, roles and teams.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// What the wizard recommends: lifetimes and names.
    #[command(flatten)]
    pub wizard: WizardArgs,
    /// Making approved service accounts through GitLab's API.
    #[command(flatten)]
    pub fulfil: FulfilArgs,
    /// Prometheus metrics at `/metrics`, off unless one of these is set.
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Team alerts: how digests are mailed, when they go out, how failures are retried.
    #[command(flatten)]
    pub alerts: crate::alerts::config::AlertArgs,
}

/// Prometheus metrics (`/metrics`), off by default. A bearer token serves them on the app's own
/// address to scrapers that present it; a bind address serves them on a listener of its own
/// (with the token too, when one is set). Either one turns them on.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsArgs {
    /// The bearer token scrapers present (`Authorization: Bearer …`).
    #[arg(
        long = "metrics-bearer-token",
        env = "METRICS_BEARER_TOKEN",
        hide_env_values = true,
        conflicts_with = "bearer_token_file",
        value_parser = parse_secret
    )]
    pub bearer_token: Option<SecretString>,
    /// A file holding it (a mounted secret), instead of `METRICS_BEARER_TOKEN`.
    #[arg(long = "metrics-bearer-token-file", env = "METRICS_BEARER_TOKEN_FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// An address (`host:port`) where a listener of its own serves `/metrics` alone.
    #[arg(long = "metrics-bind-address", env = "METRICS_BIND_ADDRESS")]
    pub bind_address: Option<std::net::SocketAddr>,
}

impl MetricsArgs {
    /// The bearer token, read from its file if need be; an empty one is refused.
    pub fn bearer(&self) -> anyhow::Result<Option<SecretString>> {
        let token = crate::secret::secret_from(
            self.bearer_token.as_ref(),
            self.bearer_token_file.as_deref(),
            "metrics bearer token",
        )?;
        if token.as_ref().is_some_and(|token| token.expose_secret().is_empty()) {
            anyhow::bail!("the metrics bearer token is empty");
        }
        Ok(token)
    }
}

/// The write credential that makes approved service accounts in GitLab (at `AUTH_GITLAB_URL`, else
/// `SYNC_GITLAB_URL`: the GitLab people sign in with and sync reads; it goes nowhere else). Separate from sync's read-only one: a
/// personal (or group) access token with the `api` scope of an Owner of the top-level groups the
/// accounts are made in (GitLab lets only a top-level group's Owners make its service accounts,
/// add members up to their own role, and make the accounts' tokens). Without it, the request's
/// page says how to make the account by hand, and sync closes the request when it sees it.
#[derive(Debug, Clone, Args)]
pub struct FulfilArgs {
    #[arg(
        id = "fulfil_token",
        long = "fulfil-gitlab-token",
        env = "FULFIL_GITLAB_TOKEN",
        hide_env_values = true,
        conflicts_with = "fulfil_token_file",
        value_parser = parse_secret
    )]
    pub token: Option<SecretString>,
    /// A file holding it (a mounted secret), instead of `FULFIL_GITLAB_TOKEN`.
    #[arg(
        id = "fulfil_token_file",
        long = "fulfil-gitlab-token-file",
        env = "FULFIL_GITLAB_TOKEN_FILE"
    )]
    pub token_file: Option<PathBuf>,
    /// How long one call to GitLab may take before its answer counts as lost (then the
    /// fulfilment looks up what was made before it asks again).
    #[arg(
        id = "fulfil_timeout",
        long = "fulfil-timeout",
        env = "FULFIL_TIMEOUT",
        default_value = "20s",
        value_parser = parse_duration
    )]
    pub timeout: std::time::Duration,
}

impl FulfilArgs {
    /// The writes over GitLab's API, when a write credential is configured; it needs GitLab's URL.
    pub fn writes(&self, gitlab_url: Option<&str>) -> anyhow::Result<Option<crate::gitlab_writes::RestWrites>> {
        let Some(token) =
            crate::secret::secret_from(self.token.as_ref(), self.token_file.as_deref(), "fulfilment token")?
        else {
            return Ok(None);
        };
        anyhow::ensure!(!token.expose_secret().is_empty(), "the fulfilment token is empty");
        let Some(url) = gitlab_url.map(str::trim).filter(|url| !url.is_empty()) else {
            anyhow::bail!("FULFIL_GITLAB_TOKEN needs GitLab's URL: set AUTH_GITLAB_URL or SYNC_GITLAB_URL");
        };
        crate::gitlab_writes::RestWrites::new(url, token, self.timeout).map(Some)
    }
}

/// The token policy the wizard applies (the token guidelines leave these to the organisation).
#[derive(Debug, Clone, Args)]
pub struct WizardArgs {
    /// How suggested token names are built: literal text and `{team}`, `{purpose}` (required),
    /// `{path}` (the project's or group's last path segment).
    #[arg(long = "token-naming", env = "TOKEN_NAMING", default_value = "{team}-{purpose}")]
    pub naming: domain::NamingConvention,
    /// The longest lifetime the wizard recommends, in days (GitLab allows up to 400).
    #[arg(
        long = "token-max-lifetime-days",
        env = "TOKEN_MAX_LIFETIME_DAYS",
        default_value_t = 365
    )]
    pub max_lifetime_days: u32,
    /// The lifetime recommended for lasting automation, in days.
    #[arg(long = "token-lifetime-days", env = "TOKEN_LIFETIME_DAYS", default_value_t = 90)]
    pub lifetime_days: u32,
    /// The lifetime recommended for temporary automation, in days.
    #[arg(
        long = "token-temporary-lifetime-days",
        env = "TOKEN_TEMPORARY_LIFETIME_DAYS",
        default_value_t = 30
    )]
    pub temporary_lifetime_days: u32,
    /// Team leads may accept a risk in the review for their team's findings (otherwise only
    /// security may).
    #[arg(
        long = "review-leads-may-accept-risk",
        env = "REVIEW_LEADS_MAY_ACCEPT_RISK",
        default_value_t = false
    )]
    pub leads_may_accept_risk: bool,
    /// Days before expiry at which the review reports a token (GitLab mails 60, 30 and 7 days
    /// before).
    #[arg(
        long = "review-notice-days",
        env = "REVIEW_NOTICE_DAYS",
        value_delimiter = ',',
        default_value = "60,30,7"
    )]
    pub notice_days: Vec<u32>,
    /// Days without use after which the review reports a token.
    #[arg(long = "review-unused-days", env = "REVIEW_UNUSED_DAYS", default_value_t = 90)]
    pub unused_days: u32,
    /// From this day (YYYY-MM-DD) every new service account should come through a request; one
    /// that appears later with no request is reported. Left out: from the first sync.
    #[arg(long = "requests-required-since", env = "REQUESTS_REQUIRED_SINCE")]
    pub requests_since: Option<chrono::NaiveDate>,
}

impl WizardArgs {
    /// The security review's policy: the maximum lifetime and the naming convention are the
    /// wizard's.
    pub fn review(&self) -> domain::review::ReviewPolicy {
        domain::review::ReviewPolicy {
            token: self.unchecked_policy(None),
            notice_days: self.notice_days.clone(),
            unused_days: self.unused_days,
            leads_may_accept_risk: self.leads_may_accept_risk,
            requests_since: self.requests_since,
        }
    }

    /// The wizard's policy, checked: a bad setting stops the server before it listens.
    pub fn policy(&self, gitlab_url: Option<&str>) -> anyhow::Result<domain::WizardPolicy> {
        let policy = self.unchecked_policy(gitlab_url);
        policy
            .validate()
            .map_err(|error| anyhow::anyhow!("the token policy (TOKEN_*): {error}"))?;
        Ok(policy)
    }
}

impl WizardArgs {
    fn unchecked_policy(&self, gitlab_url: Option<&str>) -> domain::WizardPolicy {
        domain::WizardPolicy {
            max_lifetime_days: self.max_lifetime_days,
            default_lifetime_days: self.lifetime_days,
            temporary_lifetime_days: self.temporary_lifetime_days,
            naming: self.naming.clone(),
            gitlab_url: gitlab_url.map_or(domain::WizardPolicy::default().gitlab_url, str::to_owned),
        }
    }
}

impl Default for WizardArgs {
    fn default() -> Self {
        let policy = domain::WizardPolicy::default();
        WizardArgs {
            naming: policy.naming,
            max_lifetime_days: policy.max_lifetime_days,
            lifetime_days: policy.default_lifetime_days,
            temporary_lifetime_days: policy.temporary_lifetime_days,
            leads_may_accept_risk: false,
            notice_days: domain::review::ReviewPolicy::default().notice_days,
            unused_days: domain::review::ReviewPolicy::default().unused_days,
            requests_since: None,
        }
    }
}

/// Sign-in: the GitLab OAuth application, sessions, and who holds which role.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// GitLab's base URL for sign-in; `SYNC_GITLAB_URL` when left out.
    #[arg(id = "auth_gitlab_url", long = "auth-gitlab-url", env = "AUTH_GITLAB_URL")]
    pub gitlab_url: Option<String>,
    /// The OAuth application's id (GitLab: Admin area or group settings → Applications; scopes
    /// `openid` and `read_user`; redirect URI `<PUBLIC_URL>/auth/callback`).
    #[arg(long = "oauth-client-id", env = "OAUTH_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The OAuth application's secret. Never logged, never stored.
    #[arg(
        long = "oauth-client-secret",
        env = "OAUTH_CLIENT_SECRET",
        hide_env_values = true,
        conflicts_with = "client_secret_file",
        value_parser = parse_secret
    )]
    pub client_secret: Option<SecretString>,
    /// A file holding the OAuth secret, instead of `OAUTH_CLIENT_SECRET`.
    #[arg(long = "oauth-client-secret-file", env = "OAUTH_CLIENT_SECRET_FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// The address people reach the app at, e.g. `https://tokens.example.com`; the listening
    /// address when left out. Cookies are `Secure` when it is https.
    #[arg(long = "public-url", env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A session ends after this long without a request.
    #[arg(long = "session-idle-timeout", env = "SESSION_IDLE_TIMEOUT", default_value = "8h", value_parser = parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// A session ends this long after sign-in, however active.
    #[arg(long = "session-max-age", env = "SESSION_MAX_AGE", default_value = "12h", value_parser = parse_duration)]
    pub max_age: std::time::Duration,
    /// An API key works only while its owner signed in within this many days (it acts with the
    /// roles of that sign-in).
    #[arg(
        long = "api-key-sign-in-max-age-days",
        env = "API_KEY_SIGN_IN_MAX_AGE_DAYS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub api_key_sign_in_max_age_days: u32,
    /// How many sign-ins one client address may start a minute (each writes a short-lived
    /// session row); `0` turns the limit off. Behind a reverse proxy every client shares the
    /// proxy's address, so raise it there.
    #[arg(long = "sign-in-rate-limit", env = "SIGN_IN_RATE_LIMIT", default_value_t = 30)]
    pub sign_in_rate: u32,
    /// GitLab group paths whose members are security (comma-separated).
    #[arg(long = "security-groups", env = "SECURITY_GROUPS", value_delimiter = ',')]
    pub security_groups: Vec<String>,
    /// GitLab usernames who are security (comma-separated).
    #[arg(long = "security-users", env = "SECURITY_USERS", value_delimiter = ',')]
    pub security_users: Vec<String>,
    #[arg(long = "admin-groups", env = "ADMIN_GROUPS", value_delimiter = ',')]
    pub admin_groups: Vec<String>,
    #[arg(long = "admin-users", env = "ADMIN_USERS", value_delimiter = ',')]
    pub admin_users: Vec<String>,
    /// A TOML file of teams: `[[team]] name = "…", group_paths = ["…"], leads = ["username"]`.
    #[arg(long = "teams-file", env = "TEAMS_FILE")]
    pub teams_file: Option<PathBuf>,
}

/// A secret from a flag or the environment: a [`SecretString`] from the moment it is parsed, so
/// the settings' `Debug` (and anything that prints them) shows `[REDACTED]`.
fn parse_secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.trim()))
}

fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(value.trim()).map_err(|error| format!("{error}; write it like `30m`, `8h` or `1day`"))
}

/// How often `serve` syncs; `None`: only when someone asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncInterval(pub Option<std::time::Duration>);

fn parse_interval(value: &str) -> Result<SyncInterval, String> {
    if matches!(value.trim(), "off" | "never" | "0") {
        return Ok(SyncInterval(None));
    }
    let interval = humantime::parse_duration(value.trim())
        .map_err(|error| format!("{error}; write it like `30m`, `1h` or `1day`, or `off`"))?;
    if interval < std::time::Duration::from_secs(60) {
        return Err("the sync interval must be at least a minute".to_owned());
    }
    Ok(SyncInterval(Some(interval)))
}

impl ServeArgs {
    /// A free port on 127.0.0.1, no sync: for tests and tools that start a server of their own.
    pub fn loopback(site_root: PathBuf) -> Self {
        ServeArgs {
            port: 0,
            bind: [127, 0, 0, 1].into(),
            site_root,
            sync: SyncSourceArgs {
                gitlab_url: None,
                gitlab_token: None,
                gitlab_token_file: None,
                root_groups: Vec::new(),
                concurrency: 16,
                strategy: crate::sync::StrategyChoice::Auto,
            },
            sync_interval: SyncInterval(None),
            auth: AuthArgs {
                gitlab_url: None,
                client_id: None,
                client_secret: None,
                client_secret_file: None,
                public_url: None,
                idle_timeout: std::time::Duration::from_secs(8 * 3600),
                max_age: std::time::Duration::from_secs(12 * 3600),
                api_key_sign_in_max_age_days: 30,
                sign_in_rate: 30,
                security_groups: Vec::new(),
                security_users: Vec::new(),
                admin_groups: Vec::new(),
                admin_users: Vec::new(),
                teams_file: None,
            },
            wizard: WizardArgs::default(),
            fulfil: FulfilArgs {
                token: None,
                token_file: None,
                timeout: std::time::Duration::from_secs(20),
            },
            metrics: MetricsArgs::default(),
            alerts: crate::alerts::config::AlertArgs::default(),
        }
    }

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
    fn the_token_policy_is_read_and_checked_at_start() {
        let cli = Cli::try_parse_from([
            "token-inventory",
            "serve",
            "--token-naming",
            "bot-{purpose}",
            "--token-lifetime-days",
            "60",
        ])
        .expect("flags");
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve");
        };
        let policy = args
            .wizard
            .policy(Some("https://gitlab.example.com"))
            .expect("a good policy");
        assert_eq!(policy.naming.render(None, "Weekly Report", None), "bot-weekly-report");
        assert_eq!(policy.default_lifetime_days, 60);
        assert_eq!(policy.gitlab_url, "https://gitlab.example.com");

        // A template without its purpose, or a lifetime beyond the maximum, stops the server.
        assert!(Cli::try_parse_from(["token-inventory", "serve", "--token-naming", "{team}"]).is_err());
        let too_long = WizardArgs {
            lifetime_days: 500,
            ..WizardArgs::default()
        };
        let error = too_long.policy(None).expect_err("refused").to_string();
        assert!(error.contains("TOKEN_"), "{error}");
    }

    #[test]
    fn the_review_policy_follows_the_token_policy_and_its_own_settings() {
        let cli = Cli::try_parse_from([
            "token-inventory",
            "serve",
            "--token-max-lifetime-days",
            "180",
            "--review-notice-days",
            "45,14",
            "--review-unused-days",
            "60",
            "--review-leads-may-accept-risk",
        ])
        .expect("flags");
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve");
        };
        let review = args.wizard.review();
        assert_eq!(
            (
                review.max_lifetime_days(),
                review.notice_days,
                review.unused_days,
                review.leads_may_accept_risk
            ),
            (180, vec![45, 14], 60, true)
        );
        let defaults = WizardArgs::default().review();
        assert_eq!(defaults, domain::review::ReviewPolicy::default());
        assert!(Cli::try_parse_from(["token-inventory", "serve", "--review-notice-days", "soon"]).is_err());
    }

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

    /// The settings derive `Debug`; a secret in them prints as `[REDACTED]`, whether it came
    /// from a flag or the environment, and still reaches the code that needs it (trimmed).
    #[test]
    fn secrets_in_the_settings_never_print() {
        let cli = Cli::try_parse_from([
            "token-inventory",
            "serve",
            "--oauth-client-id",
            "app",
            "--oauth-client-secret",
            " gloas-0123456789abcdef ",
            "--gitlab-url",
            "http://gitlab.test",
            "--gitlab-token",
            "glpat-0123456789abcdefghij",
            "--fulfil-gitlab-token",
            "glpat-write0123456789abcd",
            "--metrics-bearer-token",
            "scrape-0123456789",
            "--smtp-url",
            "smtps://alerts:mailpw-0123456789@mail.example.com",
        ])
        .expect("parsed");
        let printed = format!("{cli:?} {cli:#?}");
        assert!(!printed.contains("mailpw-0123456789"), "{printed}");
        assert!(!printed.contains("glpat-write0123456789abcd"), "{printed}");
        assert!(!printed.contains("scrape-0123456789"), "{printed}");
        assert!(!printed.contains("gloas-0123456789abcdef"), "{printed}");
        assert!(!printed.contains("glpat-0123456789abcdefghij"), "{printed}");
        assert!(printed.contains("REDACTED"));
        let Some(Command::Serve(args)) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(
            args.auth
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned())
                .as_deref(),
            Some("gloas-0123456789abcdef")
        );
        let settings = args.sync.settings().expect("sync settings");
        assert!(!format!("{settings:?}").contains("glpat-0123456789abcdefghij"));
        // The write credential goes to GitLab's URL, and needs one.
        assert!(
            args.fulfil
                .writes(Some("http://gitlab.test"))
                .expect("writes")
                .is_some()
        );
        let without = args.fulfil.writes(None).map(|writes| writes.is_some());
        assert!(without.is_err_and(|error| error.to_string().contains("needs GitLab's URL")));
    }

    #[test]
    fn sync_interval_reads_like_people_write_it() {
        let minutes = |m: u64| SyncInterval(Some(std::time::Duration::from_secs(m * 60)));
        assert_eq!(parse_interval("30m"), Ok(minutes(30)));
        assert_eq!(parse_interval("1h"), Ok(minutes(60)));
        assert_eq!(parse_interval(" 1day "), Ok(minutes(24 * 60)));
        assert_eq!(parse_interval("off"), Ok(SyncInterval(None)));
        let too_short = parse_interval("10s").expect_err("10 seconds is too often");
        assert!(too_short.contains("at least a minute"), "{too_short}");
        let nonsense = parse_interval("hourly").expect_err("not a duration");
        assert!(nonsense.contains("`30m`"), "{nonsense}");
    }

    #[test]
    fn serve_without_a_gitlab_url_does_not_sync_and_sync_requires_one() {
        let cli = Cli::try_parse_from(["token-inventory", "serve"]).expect("serve");
        let Some(Command::Serve(args)) = cli.command else {
            panic!("expected serve");
        };
        assert!(!args.sync.is_configured());
        let error = args.sync.settings().expect_err("no URL");
        assert!(error.to_string().contains("SYNC_GITLAB_URL"), "{error}");
    }
}

/// `token-inventory sync`: where to read, and how to show it.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub source: SyncSourceArgs,
    /// The token policy (the review's findings follow it, as the wizard does).
    #[command(flatten)]
    pub wizard: WizardArgs,
    /// No progress bar (logs only).
    #[arg(long)]
    pub quiet: bool,
}

/// Where and how sync reads GitLab. The credential should be a `read_api` token with an expiry:
/// an administrator's (the fewest requests) or a group owner's (walks the groups it owns).
#[derive(Debug, Clone, Args)]
pub struct SyncSourceArgs {
    /// GitLab's base URL, e.g. `https://gitlab.example.com`.
    #[arg(long = "gitlab-url", env = "SYNC_GITLAB_URL")]
    pub gitlab_url: Option<String>,
    /// The access token sync reads with (`read_api`). Never logged, never stored.
    #[arg(
        long = "gitlab-token",
        env = "SYNC_GITLAB_TOKEN",
        hide_env_values = true,
        conflicts_with = "gitlab_token_file",
        value_parser = parse_secret
    )]
    pub gitlab_token: Option<SecretString>,
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
}

impl SyncSourceArgs {
    /// Whether sync is configured at all.
    pub fn is_configured(&self) -> bool {
        self.gitlab_url.as_deref().is_some_and(|url| !url.trim().is_empty())
    }

    /// The sync settings, with the token read from the flag, the variable or the file.
    pub fn settings(&self) -> anyhow::Result<crate::sync::SyncSettings> {
        let Some(gitlab_url) = self.gitlab_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) else {
            anyhow::bail!("sync needs GitLab's URL: set SYNC_GITLAB_URL (or --gitlab-url)");
        };
        let Some(token) = crate::secret::secret_from(
            self.gitlab_token.as_ref(),
            self.gitlab_token_file.as_deref(),
            "GitLab token",
        )?
        else {
            anyhow::bail!("sync needs a GitLab token: set SYNC_GITLAB_TOKEN or SYNC_GITLAB_TOKEN_FILE");
        };
        anyhow::ensure!(!token.expose_secret().is_empty(), "the GitLab token is empty");
        anyhow::ensure!(
            gitlab_url.starts_with("http://") || gitlab_url.starts_with("https://"),
            "SYNC_GITLAB_URL must start with http:// or https://"
        );
        let mut settings = crate::sync::SyncSettings::new(gitlab_url, token);
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
