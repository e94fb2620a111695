//! Team alerts end to end: digests posted to a local webhook listener (failing at first: retried
//! with backoff, then recorded sent), once per notice across a restart, mailed through a local
//! SMTP sink, and the Alerts page and its "send now" refused to people who are not security.

mod common;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use app::{db::Repo, domain::TokenKind};
use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use chrono::{DateTime, Utc};
use common::{TestApp, builders::TokenBuilder};
use server::{
    alerts::{
        AlertService, AlertSettings, Clock, RunTrigger,
        config::{AlertArgs, ChannelEntry, DigestAt, TeamChannels},
    },
    open_database,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// A clock the test moves.
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(time: &str) -> Arc<Self> {
        Arc::new(TestClock(Mutex::new(time.parse().expect("time"))))
    }

    fn advance(&self, by: chrono::Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

/// A chat webhook on 127.0.0.1 that answers 500 to its first `failures` posts and keeps the
/// `text` of the others, by path.
#[derive(Clone, Default)]
struct Webhook {
    failures: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<(String, String)>>>,
}

impl Webhook {
    async fn spawn(failures: usize) -> (Self, String) {
        let hook = Webhook {
            failures: Arc::new(AtomicUsize::new(failures)),
            ..Webhook::default()
        };
        async fn receive(
            State(hook): State<Webhook>,
            uri: axum::http::Uri,
            Json(body): Json<serde_json::Value>,
        ) -> StatusCode {
            if hook
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            hook.received.lock().expect("hook").push((uri.path().to_owned(), text));
            StatusCode::OK
        }
        let router = Router::new()
            .route("/hooks/{channel}", post(receive))
            .with_state(hook.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        (hook, url)
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().expect("hook").clone()
    }
}

/// One mail an SMTP sink received: the envelope's recipients and the message as sent.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A tiny SMTP server on 127.0.0.1 that takes every message (the dialogue lettre has: EHLO, MAIL,
/// RCPT, DATA, QUIT) and keeps it.
async fn smtp_sink() -> (Arc<Mutex<Vec<Mail>>>, u16) {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("address").port();
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut mail = Mail {
                    to: Vec::new(),
                    data: String::new(),
                };
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if let Some(to) = upper.strip_prefix("RCPT TO:") {
                        mail.to.push(to.trim().trim_matches(['<', '>']).to_lowercase());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go on\r\n").await;
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            mail.data.push_str(&data);
                            mail.data.push('\n');
                        }
                        kept.lock().expect("mails").push(mail.clone());
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (mails, port)
}

const TEAMS: &str = r#"
[[team]]
name = "Platform"
group_paths = ["acme/platform"]
leads = ["pat.lead"]

[[team]]
name = "Data"
group_paths = ["acme/data"]
"#;

/// A database with Platform and Data, Platform's token expiring in 5 days and Data's in 20.
async fn database(dir: &std::path::Path) -> Repo {
    let repo = open_database(&format!("sqlite://{}", dir.join("app.db").display()))
        .await
        .expect("database");
    let file = dir.join("teams.toml");
    std::fs::write(&file, TEAMS).expect("teams file");
    let teams = server::auth::read_teams_file(&file).expect("teams").teams;
    repo.apply_configured_teams(&teams).await.expect("teams");
    let today = Utc::now().date_naive();
    repo.upsert_tokens(
        &[
            TokenBuilder::synced(TokenKind::ProjectAccess, 1, "platform-deploy", "acme/platform/api")
                .expires_on(today + chrono::Days::new(5))
                .build(),
            TokenBuilder::synced(TokenKind::ProjectAccess, 2, "data-export", "acme/data/lake")
                .expires_on(today + chrono::Days::new(20))
                .build(),
        ],
        Utc::now(),
    )
    .await
    .expect("tokens");
    repo.refresh_inferred_teams().await.expect("inferred");
    repo
}

fn channels(webhook: Option<String>, emails: &[&str]) -> TeamChannels {
    let entry = ChannelEntry {
        webhook_url: webhook,
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
    };
    TeamChannels {
        teams: BTreeMap::from([(
            "Platform".to_owned(),
            entry.check("team Platform", &|_| None).expect("channels"),
        )]),
        security: Default::default(),
    }
}

fn settings() -> AlertSettings {
    AlertSettings {
        windows: vec![60, 30, 7],
        public_url: "https://tokens.example.com".to_owned(),
        digest_at: DigestAt(None),
        retry_base: Duration::from_secs(60),
        max_attempts: 4,
        retry_every: Duration::from_secs(30),
        wait_for_first_sync: false,
    }
}

async fn service(
    repo: &Repo,
    channels: &TeamChannels,
    clock: Arc<TestClock>,
    mail: Option<&AlertArgs>,
) -> AlertService {
    let mail = mail.map(|args| args.mail().expect("mail settings").expect("mail configured"));
    AlertService::new(repo.clone(), channels, mail.as_ref(), settings(), clock)
        .await
        .expect("alerts")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_webhook_is_retried_with_backoff_then_recorded_sent() {
    let dir = tempfile::tempdir().expect("folder");
    let repo = database(dir.path()).await;
    let (hook, url) = Webhook::spawn(2).await;
    let clock = TestClock::at(&format!("{}T07:00:00Z", Utc::now().date_naive()));
    let alerts = service(
        &repo,
        &channels(Some(format!("{url}/platform")), &[]),
        clock.clone(),
        None,
    )
    .await;

    assert_eq!(alerts.run_digests(RunTrigger::Scheduled).await.expect("run"), Some(1));
    assert!(hook.received().is_empty(), "the first attempt failed");
    let listed = repo.list_deliveries(None, 10).await.expect("list");
    assert_eq!((listed[0].state.as_str(), listed[0].attempts), ("pending", 1));
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some("the webhook answered 500 Internal Server Error")
    );
    assert!(
        !listed[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("127.0.0.1")
    );
    // The day's scheduled run is made once.
    assert_eq!(alerts.run_digests(RunTrigger::Scheduled).await.expect("run"), None);

    // Not before its backoff (a minute), then again (fails), then after two more minutes: sent.
    assert_eq!(alerts.deliver_due().await.expect("due"), 0);
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(alerts.deliver_due().await.expect("due"), 0);
    let listed = repo.list_deliveries(None, 10).await.expect("list");
    assert_eq!(listed[0].attempts, 2);
    let next = listed[0].next_attempt_at.expect("a next attempt");
    assert_eq!((next - clock.now()).num_seconds(), 120, "the wait doubled");
    clock.advance(chrono::Duration::seconds(121));
    assert_eq!(alerts.deliver_due().await.expect("due"), 1);
    let listed = repo.list_deliveries(None, 10).await.expect("list");
    assert_eq!((listed[0].state.as_str(), listed[0].attempts), ("sent", 3));

    let received = hook.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "/hooks/platform");
    let text = &received[0].1;
    assert!(
        text.starts_with(&format!("Token digest for Platform, {}", clock.now().date_naive())),
        "{text}"
    );
    assert!(
        text.contains("platform-deploy (Project access token, acme/platform/api) expires in 5 days"),
        "{text}"
    );
    let platform_token = app_token_id(&repo, "platform-deploy").await;
    assert!(
        text.contains(&format!("https://tokens.example.com/tokens/{platform_token}")),
        "{text}"
    );
    assert!(!text.contains("data-export"), "Data's token is not Platform's: {text}");
}

async fn app_token_id(repo: &Repo, name: &str) -> i64 {
    let query = app::domain::TokenQuery {
        search: Some(name.to_owned()),
        ..Default::default()
    };
    let (tokens, _) = repo.list_tokens(&query, Utc::now().date_naive()).await.expect("tokens");
    tokens[0].id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_is_sent_once_across_a_restart() {
    let dir = tempfile::tempdir().expect("folder");
    let repo = database(dir.path()).await;
    let (hook, url) = Webhook::spawn(0).await;
    let team_channels = channels(Some(format!("{url}/platform")), &[]);
    let clock = TestClock::at(&format!("{}T07:00:00Z", Utc::now().date_naive()));
    let first = service(&repo, &team_channels, clock.clone(), None).await;
    assert_eq!(
        first
            .run_digests(RunTrigger::Manual("sam.security".to_owned()))
            .await
            .expect("run"),
        Some(1)
    );
    assert_eq!(hook.received().len(), 1);
    drop(first);
    drop(repo);

    // A new server on the same database, later that day and the next: nothing new to say.
    let repo = open_database(&format!("sqlite://{}", dir.path().join("app.db").display()))
        .await
        .expect("database again");
    clock.advance(chrono::Duration::hours(2));
    let second = service(&repo, &team_channels, clock.clone(), None).await;
    assert_eq!(
        second
            .run_digests(RunTrigger::Manual("sam.security".to_owned()))
            .await
            .expect("run"),
        Some(0)
    );
    clock.advance(chrono::Duration::days(1));
    assert_eq!(second.run_digests(RunTrigger::Scheduled).await.expect("run"), Some(0));
    assert_eq!(hook.received().len(), 1, "{:?}", hook.received());
}

#[tokio::test(flavor = "multi_thread")]
async fn digests_are_mailed_through_smtp() {
    let dir = tempfile::tempdir().expect("folder");
    let repo = database(dir.path()).await;
    let (mails, port) = smtp_sink().await;
    let args = AlertArgs {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}").into()),
        from: Some("Token Inventory <tokens@example.com>".to_owned()),
        ..AlertArgs::default()
    };
    let team_channels = channels(None, &["Platform <platform@example.com>", "ops@example.com"]);
    let clock = TestClock::at(&format!("{}T07:00:00Z", Utc::now().date_naive()));
    let alerts = service(&repo, &team_channels, clock.clone(), Some(&args)).await;
    assert_eq!(
        alerts
            .run_digests(RunTrigger::Manual("sam.security".to_owned()))
            .await
            .expect("run"),
        Some(1)
    );
    let listed = repo.list_deliveries(None, 10).await.expect("list");
    assert_eq!(
        (listed[0].channel.as_str(), listed[0].state.as_str()),
        ("email", "sent"),
        "{listed:?}"
    );
    let mails = mails.lock().expect("mails").clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["platform@example.com", "ops@example.com"]);
    // Quoted-printable: lines longer than 76 characters end in a soft break (`=`).
    let data = &mails[0].data.replace("=\n", "");
    let today = clock.now().date_naive();
    assert!(
        data.contains(&format!("Subject: Token digest for Platform, {today}")),
        "{data}"
    );
    assert!(
        data.contains("To: Platform <platform@example.com>, ops@example.com"),
        "{data}"
    );
    assert!(
        data.contains("From: \"Token Inventory\" <tokens@example.com>"),
        "{data}"
    );
    assert!(data.contains("Content-Type: text/plain; charset=utf-8"), "{data}");
    assert!(
        data.contains("platform-deploy (Project access token, acme/platform/api)"),
        "{data}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_addresses_without_smtp_stop_the_server_and_a_bad_url_names_no_secret() {
    let dir = tempfile::tempdir().expect("folder");
    let repo = database(dir.path()).await;
    let clock = TestClock::at("2026-12-07T07:00:00Z");
    let error = AlertService::new(repo, &channels(None, &["ops@example.com"]), None, settings(), clock)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("SMTP_URL"), "{error}");

    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[team]]\nname = \"X\"\ngroup_paths = []\nwebhook_url = \"ftp://hooks.example.com/s3cret\"\n",
    )
    .expect("file");
    let error = server::auth::read_teams_file(&file).expect_err("refused").to_string();
    assert!(
        error.contains("team X: webhook_url must be an http:// or https:// URL"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}

/// The Alerts page: security sees every team's channels (never a webhook's URL) and can send the
/// digest now; anyone else is refused, and nobody is asked to sign in.
#[tokio::test(flavor = "multi_thread")]
async fn the_alerts_page_and_send_now_are_for_security() {
    let (hook, url) = Webhook::spawn(0).await;
    let app = TestApp::spawn_with(|args| {
        let teams = args.auth.teams_file.clone().expect("teams file");
        let text = std::fs::read_to_string(&teams).expect("teams");
        let text = text.replace(
            "leads = [\"pat.lead\"]",
            &format!("leads = [\"pat.lead\"]\nwebhook_url = \"{url}/platform-s3cret\""),
        );
        std::fs::write(&teams, text).expect("teams");
        args.alerts.digest_at = DigestAt(None);
    })
    .await;
    app.add_tokens(&[
        TokenBuilder::synced(TokenKind::ProjectAccess, 1, "platform-deploy", "acme/platform/api")
            .expires_on(Utc::now().date_naive() + chrono::Days::new(5))
            .build(),
    ])
    .await;
    app.repo.refresh_inferred_teams().await.expect("inferred");

    let anonymous = app.browser();
    let (status, _) = anonymous.get("/review/alerts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = anonymous.post_form("/alerts/run", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let engineer = app.signed_in("eli.eng").await;
    let (status, _) = engineer.get("/review/alerts").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        engineer.post_form("/alerts/run", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let api = engineer
        .client
        .post(format!("{}/api/v1/alerts/run", app.base))
        .header("origin", &app.base)
        .send()
        .await
        .expect("POST");
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert!(hook.received().is_empty());

    let security = app.signed_in("sam.security").await;
    let (status, page) = security.get("/review/alerts").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Webhook configured"), "{page}");
    assert!(
        !page.contains("s3cret") && !page.contains("/hooks/"),
        "the URL is a secret: {page}"
    );
    assert!(
        page.contains("None: the review reports its tokens"),
        "Engineering Productivity has none"
    );
    let response = security.post_form("/alerts/run", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/review/alerts?sent=1");
    let received = hook.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].1.contains("platform-deploy"));
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("app.db").display()))
        .await
        .expect("database");
    let audited: Vec<(String,)> = sqlx::query_as("SELECT actor FROM audit_log WHERE action = 'alerts.send_now'")
        .fetch_all(&pool)
        .await
        .expect("audit");
    assert_eq!(audited, [("sam.security".to_owned(),)], "who asked is in the audit log");
    let (_, page) = security.get("/review/alerts?sent=1").await;
    assert!(page.contains("One digest was made and sent"), "{page}");
    assert!(page.contains("data-state=\"sent\""), "{page}");

    // The team's lead sees its channel and deliveries on My team; an engineer does not.
    let lead = app.signed_in("pat.lead").await;
    let (_, page) = lead.get("/my-team").await;
    assert!(page.contains("The daily digest goes to: Webhook configured."), "{page}");
    let (_, page) = engineer.get("/my-team").await;
    assert!(!page.contains("team-alerts-title"), "{page}");
}

/// Opens a campaign over every team's items today, due in three weeks (as security would).
async fn open_campaign(repo: &Repo, today: chrono::NaiveDate, opened_at: chrono::DateTime<Utc>) -> i64 {
    use app::domain::recertification::{CampaignScope, ValidCampaign, select_items};
    let (items, _) = select_items(
        CampaignScope::All,
        repo.recert_candidates(today).await.expect("candidates"),
    );
    assert!(!items.is_empty(), "Platform's and Data's tokens are in scope");
    let campaign = ValidCampaign {
        scope: CampaignScope::All,
        due_on: today + chrono::Days::new(21),
    };
    repo.open_campaign(&campaign, &items, "sam.security", opened_at)
        .await
        .expect("campaign")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_days_digest_reminds_a_team_of_its_recertification_and_sending_now_does_not() {
    let dir = tempfile::tempdir().expect("folder");
    let repo = database(dir.path()).await;
    let today = Utc::now().date_naive();
    let clock = TestClock::at(&format!("{today}T07:00:00Z"));
    let campaign = open_campaign(&repo, today, clock.now()).await;
    let (hook, url) = Webhook::spawn(0).await;
    let alerts = service(
        &repo,
        &channels(Some(format!("{url}/platform")), &[]),
        clock.clone(),
        None,
    )
    .await;
    // Sending now: the token notices, no reminder (reminders go once a day, with the day's digest).
    alerts
        .run_digests(RunTrigger::Manual("sam.security".to_owned()))
        .await
        .expect("run");
    let received = hook.received();
    assert_eq!(received.len(), 1);
    assert!(!received[0].1.contains("Recertification"), "{}", received[0].1);

    // The day's digest: nothing new about tokens, and the campaign opened today.
    alerts.run_digests(RunTrigger::Scheduled).await.expect("run");
    let received = hook.received();
    assert_eq!(received.len(), 2, "the reminder alone makes a digest");
    let text = &received[1].1;
    let platform = team_id_of(&repo, "Platform").await;
    assert!(
        text.contains(&format!("Recertification #{campaign} is opened today")),
        "{text}"
    );
    assert!(
        text.contains("Platform's tokens and service accounts: 0/1 answered, 1 left"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "https://tokens.example.com/recertification/{campaign}/team/{platform}"
        )),
        "{text}"
    );
    assert!(!text.contains("Data's"), "Data has no channel here: {text}");
}

async fn team_id_of(repo: &Repo, name: &str) -> i64 {
    repo.list_teams()
        .await
        .expect("teams")
        .into_iter()
        .find(|team| team.name == name)
        .expect(name)
        .id
}
