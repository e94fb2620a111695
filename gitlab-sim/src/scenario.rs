//! Deterministic worlds from a seed and a size: `demo` (reads like the token guidelines' own list
//! of automations), `small`, `large` (2,000 groups, 20,000 projects, 100,000 tokens) and `huge`
//! (18,000 groups, 180,000 projects, a million tokens: the size of a large GitLab instance).

use std::str::FromStr;

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;

use crate::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Demo,
    Small,
    Large,
    Huge,
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(Scenario::Demo),
            "small" => Ok(Scenario::Small),
            "large" => Ok(Scenario::Large),
            "huge" => Ok(Scenario::Huge),
            other => Err(format!("unknown scenario {other:?}: use demo, small, large or huge")),
        }
    }
}

/// Well-known credentials of a generated world, printed at start for local use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Credentials {
    /// An administrator's personal access token (`api`, `read_api`, `sudo`-less).
    pub admin_token: String,
    /// A group owner's `read_api` token: Owner of every top-level group, not an administrator.
    pub group_owner_token: String,
    /// The same group owner's `api` token, for writes (creating service accounts, their
    /// memberships and tokens).
    pub group_owner_write_token: String,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
}

pub struct Generated {
    pub world: World,
    pub credentials: Credentials,
}

/// Builds the world of `scenario` from `seed`; expiries are spread around `today`.
pub fn generate(scenario: Scenario, seed: u64, today: NaiveDate, redirect_uris: Vec<String>) -> Generated {
    let mut builder = Builder::new(seed, today);
    let mut credentials = builder.base(redirect_uris);
    match scenario {
        Scenario::Demo => builder.demo(),
        Scenario::Small => builder.organisation(3, 16, 8, 4),
        Scenario::Large => builder.organisation(20, 100, 10, 5),
        Scenario::Huge => builder.organisation(45, 400, 10, 5),
    }
    // Issued after the organisation, so that it shifts none of its ids or random draws.
    credentials.group_owner_write_token =
        builder.fixed_token(builder.group_owner, "token-inventory-fulfilment", &["api"]);
    Generated {
        world: builder.world,
        credentials,
    }
}

/// How a generated token's expiry is chosen.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    Never,
    InDays(i64),
    /// The realistic spread: some expired, some this week, this month, later, some never.
    Spread,
}

pub struct Builder {
    pub world: World,
    rng: ChaCha8Rng,
    today: NaiveDate,
    now: DateTime<Utc>,
    root_user: Id,
    group_owner: Id,
}

const HOST: &str = "gitlab.example.com";

impl Builder {
    pub fn new(seed: u64, today: NaiveDate) -> Self {
        let now = today
            .and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(Utc::now);
        Builder {
            world: World::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            today,
            now,
            root_user: 0,
            group_owner: 0,
        }
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    /// A secret like GitLab's: a prefix and 20 URL-safe characters.
    fn secret(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let tail: String = (0..20)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        format!("{prefix}{tail}")
    }

    fn past(&mut self, max_days: i64) -> DateTime<Utc> {
        let minutes = self.rng.random_range(0..max_days.max(1) * 24 * 60);
        self.now - Duration::minutes(minutes)
    }

    fn expiry(&mut self, expiry: Expiry) -> Option<NaiveDate> {
        let days = match expiry {
            Expiry::Never => return None,
            Expiry::InDays(days) => days,
            Expiry::Spread => match self.rng.random_range(0..100) {
                0..=9 => -self.rng.random_range(1..400),
                10..=14 => self.rng.random_range(1..=7),
                15..=24 => self.rng.random_range(8..=30),
                25..=39 => self.rng.random_range(31..=90),
                40..=89 => self.rng.random_range(91..=365),
                90..=94 => return None,
                _ => self.rng.random_range(366..=800),
            },
        };
        if days >= 0 {
            self.today.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            self.today.checked_sub_days(Days::new(days.unsigned_abs()))
        }
    }

    /// Last use: `None` for never-used tokens (about one in six), else within `max_days`.
    fn last_used(&mut self, max_days: i64) -> Option<DateTime<Utc>> {
        if self.rng.random_bool(0.16) {
            None
        } else {
            Some(self.past(max_days))
        }
    }

    pub fn group(&mut self, parent: Option<Id>, path: &str, name: &str) -> Id {
        let id = self.world.new_group_id();
        let (full_path, full_name) = match parent.and_then(|p| self.world.groups.get(&p)) {
            Some(parent) => (
                format!("{}/{path}", parent.full_path),
                format!("{} / {name}", parent.full_name),
            ),
            None => (path.to_owned(), name.to_owned()),
        };
        let created_at = self.past(2000);
        self.world.groups.insert(
            id,
            Group {
                id,
                name: name.to_owned(),
                path: path.to_owned(),
                full_path,
                full_name,
                parent_id: parent,
                description: String::new(),
                created_at,
            },
        );
        id
    }

    pub fn project(&mut self, group: Id, path: &str, name: &str) -> Id {
        let id = self.world.new_project_id();
        let namespace = self
            .world
            .groups
            .get(&group)
            .map(|g| g.full_path.clone())
            .unwrap_or_default();
        let created_at = self.past(1500);
        let archived = self.rng.random_bool(0.03);
        self.world.projects.insert(
            id,
            Project {
                id,
                name: name.to_owned(),
                path: path.to_owned(),
                namespace_id: group,
                path_with_namespace: format!("{namespace}/{path}"),
                description: String::new(),
                archived,
                created_at,
            },
        );
        id
    }

    pub fn user(&mut self, username: &str, name: &str, kind: UserKind, is_admin: bool) -> Id {
        let id = self.world.new_user_id();
        let email = if kind.is_bot() {
            format!("{username}@noreply.{HOST}")
        } else {
            format!("{username}@example.com")
        };
        let created_at = self.past(1500);
        self.world.users.insert(
            id,
            User {
                id,
                username: username.to_owned(),
                name: name.to_owned(),
                email,
                state: "active".to_owned(),
                is_admin,
                kind,
                created_at,
            },
        );
        id
    }

    pub fn member(&mut self, source: Source, user: Id, level: u8) {
        self.world.members.insert((source, user), level);
    }

    /// A personal access token of `user`.
    pub fn token(&mut self, user: Id, name: &str, scopes: &[&str], expiry: Expiry) -> Id {
        let id = self.world.new_personal_access_token_id();
        let created_at = self.past(700);
        let expires_at = self.expiry(expiry);
        let last_used_at = self.last_used(60);
        let revoked = self.rng.random_bool(0.04);
        let secret = self.secret("glpat-");
        self.world.insert_personal_access_token(PersonalAccessToken {
            id,
            user_id: user,
            name: name.to_owned(),
            description: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            created_at,
            expires_at,
            last_used_at,
            revoked,
            secret,
        });
        id
    }

    /// A project access token: its bot user, the bot's membership at `level`, and the token.
    pub fn project_access_token(&mut self, project: Id, name: &str, scopes: &[&str], level: u8, expiry: Expiry) -> Id {
        let username = format!("project_{project}_bot_{}", self.hex(32));
        let bot = self.user(&username, name, UserKind::ProjectBot { project_id: project }, false);
        self.member(Source::Project(project), bot, level);
        self.token(bot, name, scopes, expiry)
    }

    /// A group access token: its bot user, the bot's membership at `level`, and the token.
    pub fn group_access_token(&mut self, group: Id, name: &str, scopes: &[&str], level: u8, expiry: Expiry) -> Id {
        let username = format!("group_{group}_bot_{}", self.hex(32));
        let bot = self.user(&username, name, UserKind::GroupBot { group_id: group }, false);
        self.member(Source::Group(group), bot, level);
        self.token(bot, name, scopes, expiry)
    }

    /// A service account of a top-level group.
    pub fn service_account(&mut self, group: Id, slug: &str, name: &str) -> Id {
        let username = format!("service_account_group_{group}_{slug}");
        self.user(
            &username,
            name,
            UserKind::GroupServiceAccount { group_id: group },
            false,
        )
    }

    pub fn deploy_token(&mut self, owner: Source, name: &str, scopes: &[&str], expiry: Expiry) -> Id {
        let id = self.world.new_deploy_token_id();
        let expires_at = self
            .expiry(expiry)
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
        let revoked = self.rng.random_bool(0.04);
        let secret = self.secret("gldt-");
        self.world.deploy_tokens.insert(
            id,
            DeployToken {
                id,
                name: name.to_owned(),
                username: format!("gitlab+deploy-token-{id}"),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                expires_at,
                revoked,
                owner,
                secret,
            },
        );
        id
    }

    /// The administrator, the group owner used by benchmarks, and the OAuth application.
    fn base(&mut self, redirect_uris: Vec<String>) -> Credentials {
        self.root_user = self.user("root", "Administrator", UserKind::Human, true);
        let admin_token = self.fixed_token(self.root_user, "token-inventory-admin", &["api", "read_api"]);
        self.group_owner = self.user("olive.owner", "Olive Owner", UserKind::Human, false);
        let group_owner_token = self.fixed_token(self.group_owner, "token-inventory-sync", &["read_api"]);
        let oauth_client_id = self.hex(64);
        let oauth_client_secret = format!("gloas-{}", self.hex(64));
        self.world.oauth_apps.push(OAuthApp {
            name: "Token Inventory".to_owned(),
            client_id: oauth_client_id.clone(),
            client_secret: oauth_client_secret.clone(),
            redirect_uris,
            scopes: vec![
                "read_user".to_owned(),
                "openid".to_owned(),
                "profile".to_owned(),
                "email".to_owned(),
            ],
        });
        Credentials {
            admin_token,
            group_owner_token,
            // Issued by `generate`, once the organisation is built.
            group_owner_write_token: String::new(),
            oauth_client_id,
            oauth_client_secret,
        }
    }

    /// A token that is active, unexpired for a year, and returns its secret.
    fn fixed_token(&mut self, user: Id, name: &str, scopes: &[&str]) -> String {
        let id = self.world.new_personal_access_token_id();
        let secret = self.secret("glpat-");
        let expires_at = self.today.checked_add_days(Days::new(365));
        self.world.insert_personal_access_token(PersonalAccessToken {
            id,
            user_id: user,
            name: name.to_owned(),
            description: Some("Created by gitlab-sim for local use".to_owned()),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            created_at: self.now,
            expires_at,
            last_used_at: None,
            revoked: false,
            secret: secret.clone(),
        });
        secret
    }

    /// People: each team's lead (Maintainer) and engineers (Developer) in the team's group.
    fn team(&mut self, group: Id, lead: (&str, &str), engineers: &[(&str, &str)]) {
        let lead = self.user(lead.0, lead.1, UserKind::Human, false);
        self.member(Source::Group(group), lead, MAINTAINER);
        for (username, name) in engineers {
            let engineer = self.user(username, name, UserKind::Human, false);
            self.member(Source::Group(group), engineer, DEVELOPER);
        }
    }

    /// An organisation that reads like the token guidelines' list of automations.
    fn demo(&mut self) {
        let acme = self.group(None, "acme", "Acme");
        self.member(Source::Group(acme), self.group_owner, OWNER);

        let ep = self.group(Some(acme), "engineering-productivity", "Engineering Productivity");
        let quality = self.group(Some(acme), "quality", "Quality");
        let delivery = self.group(Some(acme), "delivery", "Delivery");
        let distribution = self.group(Some(acme), "distribution", "Distribution");
        let security = self.group(Some(acme), "security", "Security");
        let platform = self.group(Some(acme), "platform", "Platform");
        let platform_api = self.group(Some(platform), "api", "API");
        let platform_web = self.group(Some(platform), "web", "Web");

        self.team(
            ep,
            ("erin.lead", "Erin Lead"),
            &[("eli.eng", "Eli Engineer"), ("emma.eng", "Emma Engineer")],
        );
        self.team(
            quality,
            ("quinn.lead", "Quinn Lead"),
            &[("quentin.eng", "Quentin Engineer")],
        );
        self.team(delivery, ("dana.lead", "Dana Lead"), &[("dev.eng", "Dev Engineer")]);
        self.team(
            distribution,
            ("dora.lead", "Dora Lead"),
            &[("dmitri.eng", "Dmitri Engineer")],
        );
        self.team(
            security,
            ("sam.security", "Sam Security"),
            &[("sasha.security", "Sasha Security")],
        );
        self.team(
            platform,
            ("pat.lead", "Pat Lead"),
            &[("paula.eng", "Paula Engineer"), ("piotr.eng", "Piotr Engineer")],
        );

        let triage_ops = self.project(ep, "triage-ops", "triage-ops");
        let danger = self.project(ep, "danger", "danger");
        let retros = self.project(ep, "async-retrospectives", "async-retrospectives");
        let e2e = self.project(quality, "end-to-end", "end-to-end");
        let release_tools = self.project(delivery, "release-tools", "release-tools");
        let runner = self.project(delivery, "runner", "runner");
        let changelog = self.project(delivery, "changelog", "changelog");
        let omnibus = self.project(distribution, "omnibus", "omnibus");
        let charts = self.project(distribution, "charts", "charts");
        let scanners = self.project(security, "scanners", "scanners");
        let api = self.project(platform_api, "gateway", "gateway");
        let api_docs = self.project(platform_api, "api-docs", "api-docs");
        let web = self.project(platform_web, "storefront", "storefront");

        // Merge request hygiene: the Danger bot's group access token.
        self.group_access_token(acme, "danger-bot", &["api"], DEVELOPER, Expiry::InDays(12));
        // Triage operations: a service account for scheduled reports and one for reactions.
        let triage = self.service_account(acme, "triage_ops", "Triage Ops");
        self.member(Source::Group(acme), triage, MAINTAINER);
        self.token(triage, "triage-ops-scheduled", &["api"], Expiry::InDays(5));
        self.token(triage, "triage-ops-reactive", &["api"], Expiry::InDays(40));
        // Allure test reports posted on merge requests.
        self.project_access_token(e2e, "allure-report-poster", &["api"], DEVELOPER, Expiry::InDays(25));
        // Asynchronous retrospectives: a project access token that only reads.
        self.project_access_token(
            retros,
            "async-retrospectives",
            &["read_api"],
            REPORTER,
            Expiry::InDays(80),
        );
        // Runner releases: a service account.
        let release = self.service_account(acme, "release_tools", "Release Tools Bot");
        self.member(Source::Group(delivery), release, MAINTAINER);
        self.token(
            release,
            "runner-release",
            &["api", "write_repository"],
            Expiry::InDays(200),
        );
        // Repository mirroring: a service account.
        let mirror = self.service_account(acme, "omnibus_mirror", "Omnibus Mirror Bot");
        self.member(Source::Group(distribution), mirror, MAINTAINER);
        self.token(
            mirror,
            "omnibus-mirror",
            &["read_repository", "write_repository"],
            Expiry::InDays(-4),
        );
        // Build triggers.
        self.group_access_token(distribution, "build-trigger", &["api"], DEVELOPER, Expiry::InDays(3));
        // The legacy catch-all bot that many automations share.
        let legacy = self.service_account(acme, "gitlab_bot", "GitLab Bot (legacy)");
        self.member(Source::Group(acme), legacy, OWNER);
        for name in [
            "gitlab-bot",
            "gitlab-bot-triage",
            "gitlab-bot-changelog",
            "gitlab-bot-release",
        ] {
            self.token(legacy, name, &["api"], Expiry::Never);
        }
        // Deploy tokens for registries and packages.
        self.deploy_token(
            Source::Project(omnibus),
            "registry-pull",
            &["read_registry"],
            Expiry::Never,
        );
        self.deploy_token(
            Source::Project(release_tools),
            "package-publish",
            &["read_package_registry", "write_package_registry"],
            Expiry::InDays(45),
        );
        self.deploy_token(
            Source::Group(platform),
            "k8s-image-pull",
            &["read_registry"],
            Expiry::InDays(150),
        );
        self.deploy_token(
            Source::Project(charts),
            "helm-chart-publish",
            &["write_package_registry"],
            Expiry::InDays(-20),
        );
        // Everyday project automations.
        let everyday: [(Id, &str, &[&str], u8); 9] = [
            (triage_ops, "triage-ops-ci", &["read_api"], REPORTER),
            (danger, "danger-ci", &["api"], DEVELOPER),
            (runner, "runner-changelog", &["api"], DEVELOPER),
            (changelog, "old-changelog-bot", &["api"], DEVELOPER),
            (
                scanners,
                "dependency-scanner",
                &["read_api", "read_repository"],
                REPORTER,
            ),
            (api, "gateway-deployer", &["api"], MAINTAINER),
            (api_docs, "docs-publisher", &["write_repository"], DEVELOPER),
            (web, "review-app-cleanup", &["api"], MAINTAINER),
            (web, "sentry-release", &["read_api"], REPORTER),
        ];
        for (project, name, scopes, level) in everyday {
            self.project_access_token(project, name, scopes, level, Expiry::Spread);
        }
        self.review_cases(acme, scanners, api_docs);
    }

    /// What the security review finds in the demo besides the above (last, so the tokens before
    /// keep their random draws), each live: an administrator's script with `sudo`; a deploy token
    /// named for pulling that may push; a token named for reading with `api`; and the Data team
    /// (no lead in the teams file or GitLab) with a group of one project, whose group token has
    /// not been used for 200 days.
    fn review_cases(&mut self, acme: Id, scanners: Id, api_docs: Id) {
        let housekeeping = self.service_account(acme, "housekeeping", "Housekeeping scripts");
        let admin = self.token(housekeeping, "housekeeping-admin", &["api", "sudo"], Expiry::InDays(90));
        let pull = self.deploy_token(
            Source::Project(scanners),
            "scanner-image-pull",
            &["read_registry", "write_registry"],
            Expiry::InDays(90),
        );
        self.world
            .deploy_tokens
            .entry(pull)
            .and_modify(|token| token.revoked = false);
        let reader = self.project_access_token(api_docs, "api-docs-reader", &["api"], REPORTER, Expiry::InDays(60));
        let data = self.group(Some(acme), "data", "Data");
        self.project(data, "warehouse", "warehouse");
        let warehouse = self.group_access_token(data, "warehouse-sync", &["read_api"], DEVELOPER, Expiry::InDays(100));
        let long_ago = self.now - Duration::days(200);
        for (token, last_used) in [
            (admin, Some(self.now)),
            (reader, Some(self.now)),
            (warehouse, Some(long_ago)),
        ] {
            self.world.personal_access_tokens.entry(token).and_modify(|token| {
                token.revoked = false;
                token.last_used_at = last_used;
            });
        }
    }

    /// `roots` top-level groups, each with about `groups_per_root` subgroups (up to three deep),
    /// `projects_per_group` projects each, and about `tokens_per_project` tokens per project.
    fn organisation(
        &mut self,
        roots: usize,
        groups_per_root: usize,
        projects_per_group: usize,
        tokens_per_project: usize,
    ) {
        let mut person = 0usize;
        for r in 0..roots {
            let groups = self.top_level_group(r, groups_per_root);
            let root = groups[0];
            // People: a lead and two engineers per group; the root's team owns the top.
            for &group in &groups {
                person += 1;
                self.team(
                    group,
                    (&format!("lead.{person}"), &format!("Lead {person}")),
                    &[
                        (&format!("eng.{person}.a"), &format!("Engineer {person} A")),
                        (&format!("eng.{person}.b"), &format!("Engineer {person} B")),
                    ],
                );
            }
            self.service_accounts(root, &groups, groups_per_root);
            for &group in &groups {
                self.group_tokens(group);
                for p in 0..projects_per_group {
                    self.project_with_tokens(group, p, tokens_per_project);
                }
            }
        }
    }

    /// The `r`th top-level group, owned by the group owner, and about `groups_per_root` groups
    /// below it (up to three deep); the top-level group first.
    fn top_level_group(&mut self, r: usize, groups_per_root: usize) -> Vec<Id> {
        let area = AREAS[r % AREAS.len()];
        let root_path = if r < AREAS.len() {
            area.to_owned()
        } else {
            format!("{area}-{r}")
        };
        let root = self.group(None, &root_path, &title(&root_path));
        self.member(Source::Group(root), self.group_owner, OWNER);
        let mut groups = vec![root];
        while groups.len() < groups_per_root {
            let parent = *groups.choose(&mut self.rng).unwrap_or(&root);
            if self.world.ancestors(parent).count() >= 4 {
                continue;
            }
            let name = format!("{}-{}", AREAS[self.rng.random_range(0..AREAS.len())], groups.len());
            let group = self.group(Some(parent), &name, &title(&name));
            groups.push(group);
        }
        groups
    }

    /// The legacy catch-all bot of a top-level group, and a few dedicated service accounts, each
    /// a Maintainer of one of its `groups`.
    fn service_accounts(&mut self, root: Id, groups: &[Id], groups_per_root: usize) {
        let legacy = self.service_account(root, "gitlab_bot", "GitLab Bot (legacy)");
        self.member(Source::Group(root), legacy, OWNER);
        for automation in AUTOMATIONS.iter().take(6) {
            self.token(legacy, &format!("gitlab-bot-{automation}"), &["api"], Expiry::Never);
        }
        let service_accounts = (groups_per_root / 5).max(2);
        for s in 0..service_accounts {
            let automation = AUTOMATIONS[s % AUTOMATIONS.len()];
            let account = self.service_account(
                root,
                &format!("{}_{s}", automation.replace('-', "_")),
                &title(automation),
            );
            let target = *groups.choose(&mut self.rng).unwrap_or(&root);
            self.member(Source::Group(target), account, MAINTAINER);
            for t in 0..self.rng.random_range(1..=6) {
                self.token(account, &format!("{automation}-{t}"), &["api"], Expiry::Spread);
            }
        }
    }

    /// Perhaps a group access token, perhaps a group deploy token.
    fn group_tokens(&mut self, group: Id) {
        if self.rng.random_bool(0.6) {
            let name = *AUTOMATIONS.choose(&mut self.rng).unwrap_or(&"automation");
            let scopes = *API_SCOPES.choose(&mut self.rng).unwrap_or(&&["api"][..]);
            let level = *[REPORTER, DEVELOPER, MAINTAINER]
                .choose(&mut self.rng)
                .unwrap_or(&DEVELOPER);
            self.group_access_token(group, name, scopes, level, Expiry::Spread);
        }
        if self.rng.random_bool(0.2) {
            let scopes = *DEPLOY_SCOPES.choose(&mut self.rng).unwrap_or(&&["read_registry"][..]);
            self.deploy_token(Source::Group(group), "group-image-pull", scopes, Expiry::Spread);
        }
    }

    /// The group's `p`th project, with its access and deploy tokens: most projects have a few,
    /// some many, some none.
    fn project_with_tokens(&mut self, group: Id, p: usize, tokens_per_project: usize) {
        let name = PROJECTS[(p + group as usize) % PROJECTS.len()];
        let path = if p < PROJECTS.len() {
            name.to_owned()
        } else {
            format!("{name}-{p}")
        };
        let project = self.project(group, &path, &path);
        let count = match self.rng.random_range(0..10) {
            0 => 0,
            1..=5 => self.rng.random_range(1..=tokens_per_project),
            _ => self.rng.random_range(tokens_per_project..=tokens_per_project * 3),
        };
        for _ in 0..count {
            let name = *AUTOMATIONS.choose(&mut self.rng).unwrap_or(&"automation");
            if self.rng.random_bool(0.2) {
                let scopes = *DEPLOY_SCOPES.choose(&mut self.rng).unwrap_or(&&["read_registry"][..]);
                self.deploy_token(Source::Project(project), name, scopes, Expiry::Spread);
            } else {
                let scopes = *API_SCOPES.choose(&mut self.rng).unwrap_or(&&["api"][..]);
                let level = *[REPORTER, DEVELOPER, MAINTAINER, OWNER]
                    .choose(&mut self.rng)
                    .unwrap_or(&DEVELOPER);
                self.project_access_token(project, name, scopes, level, Expiry::Spread);
            }
        }
    }
}

// The names and scopes the generated organisations draw from.

const AREAS: &[&str] = &[
    "platform",
    "payments",
    "search",
    "mobile",
    "infrastructure",
    "data",
    "identity",
    "billing",
    "growth",
    "observability",
    "security",
    "developer-experience",
    "ml",
    "storage",
    "networking",
    "compliance",
];
const PROJECTS: &[&str] = &[
    "api",
    "web",
    "worker",
    "gateway",
    "docs",
    "charts",
    "terraform",
    "pipelines",
    "sdk-go",
    "sdk-python",
    "cli",
    "scheduler",
    "exporter",
    "dashboards",
    "migrations",
    "runbooks",
    "e2e",
    "load-tests",
];
const AUTOMATIONS: &[&str] = &[
    "ci-deploy",
    "release-bot",
    "renovate",
    "danger-bot",
    "sentry-release",
    "terraform-state",
    "backup-mirror",
    "metrics-exporter",
    "docs-publisher",
    "changelog-generator",
    "dependency-scanner",
    "review-app-cleanup",
    "triage",
    "label-sync",
    "image-pull",
    "package-publish",
    "chatops",
    "merge-train",
];
const API_SCOPES: &[&[&str]] = &[
    &["api"],
    &["read_api"],
    &["read_repository"],
    &["api", "write_repository"],
    &["read_api", "read_repository"],
    &["read_registry"],
    &["write_registry", "read_registry"],
];
const DEPLOY_SCOPES: &[&[&str]] = &[
    &["read_repository"],
    &["read_registry"],
    &["read_registry", "write_registry"],
    &["read_package_registry", "write_package_registry"],
];
fn title(path: &str) -> String {
    path.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
    }

    fn counts(world: &World) -> (usize, usize, usize) {
        (
            world.groups.len(),
            world.projects.len(),
            world.personal_access_tokens.len() + world.deploy_tokens.len(),
        )
    }

    #[test]
    fn the_same_seed_makes_the_same_world() {
        let a = generate(Scenario::Small, 7, today(), vec![]);
        let b = generate(Scenario::Small, 7, today(), vec![]);
        let c = generate(Scenario::Small, 8, today(), vec![]);
        let dump = |g: &Generated| serde_json::to_string(&g.world).unwrap_or_default();
        assert_eq!(dump(&a), dump(&b));
        assert_eq!(a.credentials, b.credentials);
        assert_ne!(dump(&a), dump(&c));
        assert_ne!(
            a.credentials.group_owner_write_token,
            c.credentials.group_owner_write_token
        );
        let (admin, read, write) = (
            &a.credentials.admin_token,
            &a.credentials.group_owner_token,
            &a.credentials.group_owner_write_token,
        );
        assert!(write.starts_with("glpat-") && write != admin && write != read);
        let (token, user) = a.world.token_by_secret(write).expect("the write token is in the world");
        assert_eq!((user.username.as_str(), user.is_admin), ("olive.owner", false));
        assert_eq!(token.scopes, ["api"]);
        assert!(token.active(today()));
    }

    #[test]
    fn the_large_world_has_the_promised_size() {
        let (groups, projects, tokens) = counts(&generate(Scenario::Large, 1, today(), vec![]).world);
        assert!(groups >= 2_000, "{groups} groups");
        assert!(projects >= 20_000, "{projects} projects");
        assert!(tokens >= 100_000, "{tokens} tokens");
    }

    #[test]
    fn tokens_have_a_realistic_spread_and_bots_are_named_like_gitlabs() {
        let world = generate(Scenario::Small, 3, today(), vec![]).world;
        let tokens: Vec<&PersonalAccessToken> = world.personal_access_tokens.values().collect();
        let expired = tokens.iter().filter(|t| t.expired(today())).count();
        let never = tokens.iter().filter(|t| t.expires_at.is_none()).count();
        let this_week = tokens
            .iter()
            .filter(|t| {
                t.expires_at
                    .is_some_and(|d| d > today() && (d - today()).num_days() <= 7)
            })
            .count();
        let unused = tokens.iter().filter(|t| t.last_used_at.is_none()).count();
        for (what, n) in [
            ("expired", expired),
            ("never expiring", never),
            ("expiring this week", this_week),
            ("unused", unused),
        ] {
            assert!(n * 50 >= tokens.len(), "only {n} of {} tokens are {what}", tokens.len());
        }
        for user in world.users.values() {
            match user.kind {
                UserKind::ProjectBot { project_id } => {
                    let prefix = format!("project_{project_id}_bot_");
                    assert!(
                        user.username.starts_with(&prefix) && user.username.len() == prefix.len() + 32,
                        "{}",
                        user.username
                    );
                    assert!(user.email.ends_with("@noreply.gitlab.example.com"));
                }
                UserKind::GroupBot { group_id } => {
                    assert!(user.username.starts_with(&format!("group_{group_id}_bot_")))
                }
                UserKind::GroupServiceAccount { group_id } => {
                    assert!(user.username.starts_with(&format!("service_account_group_{group_id}_")));
                    assert!(
                        world.groups[&group_id].parent_id.is_none(),
                        "service accounts belong to top-level groups"
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_demo_reads_like_the_guidelines() {
        let world = generate(Scenario::Demo, 1, today(), vec![]).world;
        let names: Vec<&str> = world.personal_access_tokens.values().map(|t| t.name.as_str()).collect();
        for automation in [
            "danger-bot",
            "triage-ops-scheduled",
            "allure-report-poster",
            "async-retrospectives",
            "runner-release",
            "omnibus-mirror",
            "gitlab-bot",
        ] {
            assert!(names.contains(&automation), "{automation} missing");
        }
    }
}
