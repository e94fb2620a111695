//! `TestApp`: the server on port 0 with a fresh SQLite database and a simulated GitLab (the
//! `demo` world) as its OAuth provider, and browsers that sign in through the real redirect flow.

#![allow(dead_code)]

use std::time::Duration;

use app::{
    db::Repo,
    domain::{TokenRecord, TokenSummary},
};
use gitlab_sim::{Scenario, SimConfig, SimHandle};
use reqwest::{StatusCode, redirect::Policy};
use server::{Server, config::ServeArgs, open_database};
use tokio::sync::oneshot;

/// The test data builders, shared with db's tests.
#[path = "../../../db/tests/support/builders.rs"]
pub mod builders;

pub const TEAMS: &str = r#"
[[team]]
name = "Engineering Productivity"
group_paths = ["acme/engineering-productivity"]

[[team]]
name = "Platform"
group_paths = ["acme/platform"]
leads = ["pat.lead"]
"#;

pub struct TestApp {
    pub base: String,
    /// The metrics' listener of their own (`METRICS_BIND_ADDRESS`), when one was asked for.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub repo: Repo,
    pub sim: SimHandle,
    _stop: oneshot::Sender<()>,
    pub dir: tempfile::TempDir,
}

/// A browser: keeps cookies, follows no redirect by itself.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with settings changed by `configure` (timeouts, roles).
    pub async fn spawn_with(configure: impl FnOnce(&mut ServeArgs)) -> Self {
        Self::spawn_knowing(|args, _| configure(args)).await
    }

    /// Spawns with a write credential for GitLab (the group owner's `api` token): approved
    /// service accounts are made through the API, each call given `timeout`.
    pub async fn spawn_with_writes(timeout: Duration) -> Self {
        Self::spawn_knowing(|args, credentials| {
            args.fulfil.token = Some(credentials.group_owner_write_token.clone().into());
            args.fulfil.timeout = timeout;
        })
        .await
    }

    /// Spawns with settings changed by `configure`, which knows the simulator's credentials.
    pub async fn spawn_knowing(configure: impl FnOnce(&mut ServeArgs, &gitlab_sim::Credentials)) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let repo = open_database(&format!("sqlite://{}", dir.path().join("app.db").display()))
            .await
            .expect("database");
        let sim = gitlab_sim::spawn(SimConfig {
            scenario: Scenario::Demo,
            ..SimConfig::default()
        })
        .await
        .expect("gitlab-sim");
        let teams = dir.path().join("teams.toml");
        std::fs::write(&teams, TEAMS).expect("teams file");
        let mut args = ServeArgs::loopback(dir.path().join("site"));
        args.auth.gitlab_url = Some(sim.url.clone());
        args.auth.client_id = Some(sim.credentials.oauth_client_id.clone());
        args.auth.client_secret = Some(sim.credentials.oauth_client_secret.clone().into());
        args.auth.security_groups = vec!["acme/security".to_owned()];
        args.auth.admin_users = vec!["root".to_owned()];
        args.auth.teams_file = Some(teams);
        configure(&mut args, &sim.credentials);
        let server = Server::bind(&args, repo.clone()).await.expect("bind");
        let base = format!("http://{}", server.addr);
        let metrics_addr = server.metrics_addr;
        // The OAuth application learns the test server's address.
        sim.state.world_mut().oauth_apps[0]
            .redirect_uris
            .push(format!("{base}/auth/callback"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            metrics_addr,
            repo,
            sim,
            _stop: stop,
            dir,
        }
    }

    pub fn browser(&self) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            base: self.base.clone(),
        }
    }

    /// A browser signed in as `username` through the whole redirect flow.
    pub async fn signed_in(&self, username: &str) -> Browser {
        let browser = self.browser();
        let callback = browser.consent(self, username, "approve", "/").await;
        let response = browser.client.get(&callback).send().await.expect("callback");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text().await.unwrap_or_default()
        );
        browser
    }

    pub fn user_id(&self, username: &str) -> u64 {
        let world = self.sim.state.world.read().unwrap_or_else(|e| e.into_inner());
        world
            .users
            .values()
            .find(|u| u.username == username)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no {username} in the demo world"))
    }

    /// The inventory's first page, sorted by name, as the repository lists it.
    pub async fn first_page(&self) -> Vec<TokenSummary> {
        let query = app::server::inventory::TokenQuery {
            page: 1,
            ..Default::default()
        };
        let (tokens, _) = self
            .repo
            .list_tokens(&query, chrono::Utc::now().date_naive())
            .await
            .expect("list");
        tokens
    }

    /// A sync of the simulator as its administrator, which succeeds.
    pub async fn sync_as_administrator(&self) {
        let settings = server::sync::SyncSettings::new(
            self.sim.url.clone(),
            secrecy::SecretString::from(self.sim.credentials.admin_token.clone()),
        );
        let outcome = server::sync::run(self.repo.clone(), &settings, domain::SyncTrigger::CommandLine, None)
            .await
            .expect("sync runs");
        assert_eq!(outcome.status, domain::SyncStatus::Succeeded, "{:?}", outcome.errors);
    }

    pub async fn add_tokens(&self, records: &[TokenRecord]) {
        self.repo
            .upsert_tokens(records, chrono::Utc::now())
            .await
            .expect("tokens stored");
    }
}

/// A complete request for Platform's release bot (`send`: "1" to send it, "" for a draft).
pub fn request_form<'a>(team: &'a str, send: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("account_name", "platform-release-bot"),
        ("owner_team", team),
        ("purpose", "posts release notes with restricted quick actions"),
        ("automation", "the release pipeline"),
        ("runs_on", "acme/delivery/release-tools CI"),
        (
            "memberships",
            "acme/platform maintainer\r\nacme/delivery/changelog developer",
        ),
        ("scopes", "api"),
        ("why_not_token", "Maintainer across the groups of two teams"),
        ("lifetime_days", "90"),
        ("secret_location", "vault: platform/release-bot"),
        ("send", send),
    ]
}

/// The request version in a page's step form.
pub fn step_version(page: &str) -> String {
    let at = page.find("name=\"version\" value=\"").expect("a step form") + "name=\"version\" value=\"".len();
    page[at..].chars().take_while(char::is_ascii_digit).collect()
}

/// A team's id by its name, as the forms send it.
pub async fn team_id(app: &TestApp, name: &str) -> String {
    let teams = app.repo.list_teams().await.expect("teams");
    teams
        .iter()
        .find(|team| team.name == name)
        .map(|team| team.id.to_string())
        .expect("the team")
}

impl Browser {
    /// Starts sign-in at the app, answers GitLab's consent page as `username` with `decision`,
    /// and returns the callback URL GitLab sends the browser back to (not yet visited).
    pub async fn consent(&self, app: &TestApp, username: &str, decision: &str, next: &str) -> String {
        let response = self
            .client
            .get(format!("{}/auth/sign-in?next={}", self.base, urlencode(next)))
            .send()
            .await
            .expect("sign-in");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let authorize = location(&response);
        assert!(authorize.starts_with(&app.sim.url), "{authorize}");
        assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
        assert!(authorize.contains("scope=openid+read_user"), "{authorize}");
        let query = authorize.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        form.push(("user_id".to_owned(), app.user_id(username).to_string()));
        form.push(("decision".to_owned(), decision.to_owned()));
        let response = self
            .client
            .post(format!("{}/oauth/authorize", app.sim.url))
            .form(&form)
            .send()
            .await
            .expect("consent");
        assert!(response.status().is_redirection(), "consent: {}", response.status());
        location(&response)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// A same-site form POST, as the browser sends it.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("POST")
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A response header's value, or `""`.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
