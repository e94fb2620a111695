//! Where alerts go: each team's channels and security's, from the teams file (a Slack-compatible
//! incoming webhook and/or mail addresses; `${VAR}` in a webhook URL reads the environment, so
//! the file need not hold the secret), and how mail is sent (`SMTP_URL`, `ALERTS_FROM`).
//!
//! A webhook URL is a secret (whoever has it may post to the channel): it is a `SecretString`
//! from the moment it is read, kept in memory only, never stored, logged or shown.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::{Context, bail, ensure};
use clap::Args;
use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// One audience's channels: a chat webhook, mail addresses, or both.
#[derive(Clone, Default)]
pub struct Channels {
    pub webhook: Option<SecretString>,
    pub emails: Vec<Mailbox>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("webhook", &self.webhook.as_ref().map(|_| "[REDACTED]"))
            .field("emails", &self.emails.len())
            .finish()
    }
}

impl Channels {
    pub fn is_empty(&self) -> bool {
        self.webhook.is_none() && self.emails.is_empty()
    }

    /// The channels' names as the ledger records deliveries: `webhook`, `email`.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.webhook.is_some() {
            names.push(WEBHOOK.to_owned());
        }
        if !self.emails.is_empty() {
            names.push(EMAIL.to_owned());
        }
        names
    }
}

pub const WEBHOOK: &str = "webhook";
pub const EMAIL: &str = "email";

/// The channels of the teams file: by team name, and security's for the organisation's digest.
#[derive(Debug, Clone, Default)]
pub struct TeamChannels {
    pub teams: BTreeMap<String, Channels>,
    pub security: Channels,
}

impl TeamChannels {
    /// Whether any channel is configured at all (alerts are off otherwise).
    pub fn any(&self) -> bool {
        !self.security.is_empty() || self.teams.values().any(|channels| !channels.is_empty())
    }

    /// The teams that have a channel.
    pub fn teams_with_channel(&self) -> Vec<String> {
        self.teams
            .iter()
            .filter(|(_, channels)| !channels.is_empty())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether a mail address is named anywhere (then SMTP must be configured).
    pub fn needs_mail(&self) -> bool {
        !self.security.emails.is_empty() || self.teams.values().any(|channels| !channels.emails.is_empty())
    }
}

/// A team's or security's channels as the teams file writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelEntry {
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
}

impl ChannelEntry {
    /// Checks the entry (`who` names it in the error): the URL is http(s) after `${VAR}`s are
    /// read from `env`; each address parses.
    pub fn check(&self, who: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Channels> {
        let webhook = match self.webhook_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            None => None,
            Some(written) => Some(webhook_url(written, who, env)?),
        };
        let emails = self
            .emails
            .iter()
            .map(|address| {
                address
                    .trim()
                    .parse::<Mailbox>()
                    .map_err(|error| anyhow::anyhow!("{who}: {address:?} is not a mail address ({error})"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Channels { webhook, emails })
    }
}

/// A webhook URL with its `${VAR}`s read from `env`, checked to be http(s) with a host. Errors name
/// the team and the variable, never the URL.
fn webhook_url(written: &str, who: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<SecretString> {
    let mut url = String::new();
    let mut rest = written;
    while let Some(start) = rest.find("${") {
        url.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            bail!("{who}: webhook_url has a `${{` without its `}}`");
        };
        let name = &rest[start + 2..start + end];
        let value = env(name).with_context(|| format!("{who}: webhook_url names ${{{name}}}, which is not set"))?;
        url.push_str(value.trim());
        rest = &rest[start + end + 1..];
    }
    url.push_str(rest);
    let parsed = url::Url::parse(&url).map_err(|_| anyhow::anyhow!("{who}: webhook_url is not a URL"))?;
    ensure!(
        matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some(),
        "{who}: webhook_url must be an http:// or https:// URL"
    );
    Ok(SecretString::from(url))
}

/// How digests are sent and when. Off unless the teams file gives some team (or security) a channel.
#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// The mail server, in lettre's URL form: `smtp://host:port` (plain; add `?tls=required` for
    /// STARTTLS) or `smtps://host:port` (TLS from the start); `user@host` to log in.
    #[arg(long = "smtp-url", env = "SMTP_URL", hide_env_values = true, value_parser = parse_secret)]
    pub smtp_url: Option<SecretString>,
    /// A file holding the SMTP password (a mounted secret), used with the URL's user.
    #[arg(long = "smtp-password-file", env = "SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// The address digests are sent from, e.g. `Token Inventory <tokens@example.com>`.
    #[arg(long = "alerts-from", env = "ALERTS_FROM")]
    pub from: Option<String>,
    /// When the daily digest goes out (UTC, `HH:MM`), and at start when that day's has not;
    /// `off`: only when security asks.
    #[arg(long = "alerts-digest-at", env = "ALERTS_DIGEST_AT", default_value = "07:00", value_parser = parse_digest_at)]
    pub digest_at: DigestAt,
    /// The wait before a failed delivery's first retry; it doubles with each attempt (at most an
    /// hour).
    #[arg(long = "alerts-retry-base", env = "ALERTS_RETRY_BASE", default_value = "1m", value_parser = parse_duration)]
    pub retry_base: Duration,
    /// How many attempts a delivery gets before it is recorded failed.
    #[arg(
        long = "alerts-max-attempts",
        env = "ALERTS_MAX_ATTEMPTS",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=50)
    )]
    pub max_attempts: u32,
    /// How often due retries are looked for.
    #[arg(long = "alerts-retry-every", env = "ALERTS_RETRY_EVERY", default_value = "30s", value_parser = parse_duration)]
    pub retry_every: Duration,
}

impl Default for AlertArgs {
    fn default() -> Self {
        AlertArgs {
            smtp_url: None,
            smtp_password_file: None,
            from: None,
            digest_at: DigestAt(Some((7, 0))),
            retry_base: Duration::from_secs(60),
            max_attempts: 8,
            retry_every: Duration::from_secs(30),
        }
    }
}

/// The daily digest's time of day (UTC hour and minute); `None`: not scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestAt(pub Option<(u32, u32)>);

fn parse_digest_at(value: &str) -> Result<DigestAt, String> {
    let value = value.trim();
    if matches!(value, "off" | "never") {
        return Ok(DigestAt(None));
    }
    let time = chrono::NaiveTime::parse_from_str(value, "%H:%M")
        .map_err(|_| format!("{value:?} is not a time of day: write it like `07:00` (UTC), or `off`"))?;
    use chrono::Timelike;
    Ok(DigestAt(Some((time.hour(), time.minute()))))
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.trim()))
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value.trim()).map_err(|error| format!("{error}; write it like `30s`, `1m` or `1h`"))
}

impl AlertArgs {
    /// The mail transport's settings, checked: `None` when SMTP is not configured.
    pub fn mail(&self) -> anyhow::Result<Option<MailSettings>> {
        let Some(url) = &self.smtp_url else {
            ensure!(self.smtp_password_file.is_none(), "SMTP_PASSWORD_FILE needs SMTP_URL");
            return Ok(None);
        };
        let password = crate::secret::secret_from(None, self.smtp_password_file.as_deref(), "SMTP password")?;
        let from = self
            .from
            .as_deref()
            .context("SMTP_URL needs ALERTS_FROM, the address digests are sent from")?
            .parse::<Mailbox>()
            .map_err(|error| anyhow::anyhow!("ALERTS_FROM is not a mail address ({error})"))?;
        let parsed = url::Url::parse(url.expose_secret()).map_err(|_| anyhow::anyhow!("SMTP_URL is not a URL"))?;
        ensure!(
            matches!(parsed.scheme(), "smtp" | "smtps") && parsed.host_str().is_some(),
            "SMTP_URL must be smtp://host:port or smtps://host:port"
        );
        Ok(Some(MailSettings {
            url: url.clone(),
            password,
            from,
        }))
    }
}

/// How mail is sent: lettre's SMTP URL, a password from a file (for the URL's user), the sender.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub url: SecretString,
    pub password: Option<SecretString>,
    pub from: Mailbox,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "CHAT").then(|| "http://127.0.0.1:9/-/sim/chat".to_owned())
    }

    #[test]
    fn channels_are_checked_and_variables_read() {
        let entry = ChannelEntry {
            webhook_url: Some("${CHAT}/platform".to_owned()),
            emails: vec![
                "Platform <platform@example.com>".to_owned(),
                "ops@example.com".to_owned(),
            ],
        };
        let channels = entry.check("team Platform", &env).expect("good channels");
        assert_eq!(
            channels
                .webhook
                .as_ref()
                .map(|url| url.expose_secret().to_owned())
                .as_deref(),
            Some("http://127.0.0.1:9/-/sim/chat/platform")
        );
        assert_eq!(channels.names(), ["webhook", "email"]);
        assert!(!format!("{channels:?}").contains("127.0.0.1"));

        let refuse = |webhook: &str, email: &str| {
            ChannelEntry {
                webhook_url: Some(webhook.to_owned()),
                emails: vec![email.to_owned()].into_iter().filter(|e| !e.is_empty()).collect(),
            }
            .check("team Data", &env)
            .expect_err("refused")
            .to_string()
        };
        assert!(refuse("ftp://hooks.example.com/x", "").contains("http:// or https://"));
        assert!(refuse("hooks", "").contains("not a URL"));
        assert!(refuse("${MISSING}/x", "").contains("${MISSING}, which is not set"));
        let secret = refuse("https://hooks.example.com/T0/B0/s3cret", "not an address");
        assert!(secret.contains("\"not an address\" is not a mail address"), "{secret}");
        assert!(!secret.contains("s3cret"));
    }

    #[test]
    fn the_digest_time_reads_like_people_write_it() {
        assert_eq!(parse_digest_at("07:00"), Ok(DigestAt(Some((7, 0)))));
        assert_eq!(parse_digest_at(" 18:45 "), Ok(DigestAt(Some((18, 45)))));
        assert_eq!(parse_digest_at("off"), Ok(DigestAt(None)));
        assert!(parse_digest_at("7am").is_err());
    }

    #[test]
    fn mail_needs_a_sender_and_an_smtp_url() {
        let mut args = AlertArgs::default();
        assert!(args.mail().expect("no mail").is_none());
        args.smtp_url = Some(SecretString::from("smtp://127.0.0.1:2525"));
        assert!(args.mail().expect_err("no sender").to_string().contains("ALERTS_FROM"));
        args.from = Some("Tokens <tokens@example.com>".to_owned());
        assert!(args.mail().expect("mail").is_some());
        args.smtp_url = Some(SecretString::from("http://mail.example.com"));
        assert!(args.mail().is_err());
    }
}
