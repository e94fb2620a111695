//! Sending one digest on one channel: a chat webhook (Slack-compatible: `POST {"text": …}`) over
//! reqwest, or mail over SMTP with lettre. Errors say what went wrong in words that hold neither the
//! webhook's URL nor a password.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use secrecy::{ExposeSecret, SecretString};

use super::config::MailSettings;

/// Sends digests; one per server, shared by every delivery.
pub struct Sender {
    http: reqwest::Client,
    mail: Option<Mailer>,
}

struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub fn new(mail: Option<&MailSettings>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mail = match mail {
            Some(settings) => Some(Mailer::new(settings)?),
            None => None,
        };
        Ok(Sender { http, mail })
    }

    /// Posts `text` to the webhook; any answer but a 2xx is a failure.
    pub async fn webhook(&self, url: &SecretString, text: &str) -> Result<(), String> {
        let response = self
            .http
            .post(url.expose_secret())
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .map_err(|error| format!("the webhook could not be reached: {}", error.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {status}"))
        }
    }

    /// Mails `text` to `to`, one message to them all.
    pub async fn mail(&self, to: &[Mailbox], subject: &str, text: &str) -> Result<(), String> {
        let Some(mailer) = &self.mail else {
            return Err("mail is not configured (SMTP_URL)".to_owned());
        };
        let mut message = Message::builder().from(mailer.from.clone()).subject(subject);
        for address in to {
            message = message.to(address.clone());
        }
        let message = message
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|error| format!("the mail could not be written: {error}"))?;
        mailer
            .transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| format!("the mail server did not take it: {error}"))
    }
}

impl Mailer {
    fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let url = settings.url.expose_secret();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| anyhow::anyhow!("SMTP_URL is not a mail server's URL"))?
            .timeout(Some(Duration::from_secs(20)));
        if let Some(password) = &settings.password {
            let user = url::Url::parse(url)
                .map(|parsed| {
                    percent_encoding::percent_decode_str(parsed.username())
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            anyhow::ensure!(
                !user.is_empty(),
                "SMTP_PASSWORD_FILE needs a user in SMTP_URL (smtp://user@host)"
            );
            builder = builder.credentials(Credentials::new(user, password.expose_secret().to_owned()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: settings.from.clone(),
        })
    }
}
