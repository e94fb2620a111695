//! Sync against gitlab-sim over real HTTP: the database must equal the simulator's ground truth,
//! for every token kind, with both strategies, after changes, through faults, and after a run
//! that was killed half-way.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use app::{
    db::Repo,
    domain::{AccessLevel, ContainerKind, SyncStatus, SyncTrigger, TokenKind},
    server::inventory::TokenQuery,
};
use chrono::NaiveDate;
use gitlab_sim::{Scenario, SimConfig, SimHandle, faults::Faults, model::*};
use secrecy::SecretString;
use server::sync::{self, StrategyChoice, SyncSettings, SyncStartError};

/// One fresh database per test on SQLite, and on PostgreSQL when `TEST_POSTGRES_URL` is set:
/// the repository tests' own helper.
#[path = "../../db/tests/support/mod.rs"]
mod support;

/// What the product and the simulator must agree on, per token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    kind: TokenKind,
    gitlab_id: i64,
    name: String,
    container_path: String,
    scopes: Vec<String>,
    access_level: Option<i32>,
    expires_on: Option<NaiveDate>,
    revoked: bool,
    gone: bool,
}

async fn database() -> (Repo, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("sync.db").display());
    (server::open_database(&url).await.expect("database"), dir)
}

async fn simulator(seed: u64) -> SimHandle {
    gitlab_sim::spawn(SimConfig {
        scenario: Scenario::Small,
        seed,
        rate_limit_per_minute: 1_000_000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn settings(sim: &SimHandle, token: &str, strategy: StrategyChoice) -> SyncSettings {
    let mut settings = SyncSettings::new(sim.url.clone(), SecretString::from(token.to_owned()));
    settings.strategy = strategy;
    settings.client.backoff_base = Duration::from_millis(5);
    settings.client.backoff_cap = Duration::from_millis(100);
    settings.client.attempts = 12;
    settings.client.timeout = Duration::from_secs(5);
    settings.lease_ttl = Duration::from_secs(2);
    settings.batch_size = 300;
    settings
}

/// Changes gitlab-sim's world as GitLab would change (`/-/sim/mutations`).
async fn mutate(sim: &SimHandle, mutations: &serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/-/sim/mutations", sim.url))
        .header("PRIVATE-TOKEN", &sim.credentials.admin_token)
        .json(mutations)
        .send()
        .await
        .expect("mutations");
    assert!(response.status().is_success(), "mutations: {}", response.status());
}

/// The id of the `skip`-th (from 0) project access token of gitlab-sim's world that is not
/// revoked.
fn project_access_token(world: &World, skip: usize) -> u64 {
    world
        .personal_access_tokens
        .values()
        .filter(|t| !t.revoked)
        .filter(|t| {
            world
                .users
                .get(&t.user_id)
                .is_some_and(|u| matches!(u.kind, UserKind::ProjectBot { .. }))
        })
        .nth(skip)
        .map(|t| t.id)
        .expect("a project access token")
}

/// Every token in the database, through the repository's own listing.
async fn stored(repo: &Repo) -> BTreeMap<(TokenKind, i64), Seen> {
    let today = chrono::Utc::now().date_naive();
    let mut found = BTreeMap::new();
    let mut query = TokenQuery {
        page: 1,
        ..TokenQuery::default()
    };
    loop {
        let (tokens, total) = repo.list_tokens(&query, today).await.expect("list tokens");
        let last = tokens.is_empty();
        for token in tokens {
            found.insert(
                (token.kind, token.gitlab_id),
                Seen {
                    kind: token.kind,
                    gitlab_id: token.gitlab_id,
                    name: token.name,
                    container_path: token.container_path,
                    scopes: token.scopes,
                    access_level: token.access_level.map(i32::from),
                    expires_on: token.expires_on,
                    revoked: token.revoked,
                    gone: token.gone_since.is_some(),
                },
            );
        }
        if last || found.len() as u64 >= total {
            return found;
        }
        query.page += 1;
    }
}

/// What GitLab holds, from the simulator's own world (tokens of people are not the product's
/// business: only bots' and service accounts').
fn truth(sim: &SimHandle) -> BTreeMap<(TokenKind, i64), Seen> {
    let world = sim.state.world.read().expect("world");
    let group_path = |id: Id| world.groups.get(&id).map(|g| g.full_path.clone()).unwrap_or_default();
    let project_path = |id: Id| {
        world
            .projects
            .get(&id)
            .map(|p| p.path_with_namespace.clone())
            .unwrap_or_default()
    };
    let mut found = BTreeMap::new();
    for token in world.personal_access_tokens.values() {
        let Some(user) = world.users.get(&token.user_id) else {
            continue;
        };
        let (kind, path, level) = match user.kind {
            UserKind::Human => continue,
            UserKind::ProjectBot { project_id } => (
                TokenKind::ProjectAccess,
                project_path(project_id),
                world
                    .members
                    .get(&(Source::Project(project_id), user.id))
                    .map(|l| i32::from(*l)),
            ),
            UserKind::GroupBot { group_id } => (
                TokenKind::GroupAccess,
                group_path(group_id),
                world
                    .members
                    .get(&(Source::Group(group_id), user.id))
                    .map(|l| i32::from(*l)),
            ),
            UserKind::GroupServiceAccount { group_id } => (TokenKind::Personal, group_path(group_id), None),
            UserKind::InstanceServiceAccount => (TokenKind::Personal, String::new(), None),
        };
        let id = i64::try_from(token.id).expect("id");
        found.insert(
            (kind, id),
            Seen {
                kind,
                gitlab_id: id,
                name: token.name.clone(),
                container_path: path,
                scopes: token.scopes.clone(),
                access_level: level,
                expires_on: token.expires_at,
                revoked: token.revoked,
                gone: false,
            },
        );
    }
    for token in world.deploy_tokens.values() {
        let path = match token.owner {
            Source::Project(id) => project_path(id),
            Source::Group(id) => group_path(id),
        };
        let id = i64::try_from(token.id).expect("id");
        found.insert(
            (TokenKind::Deploy, id),
            Seen {
                kind: TokenKind::Deploy,
                gitlab_id: id,
                name: token.name.clone(),
                container_path: path,
                scopes: token.scopes.clone(),
                access_level: None,
                expires_on: token.expires_at.map(|at| at.date_naive()),
                revoked: token.revoked,
                gone: false,
            },
        );
    }
    found
}

/// What each service account can reach: (kind, full path, role), by username.
type Reach = BTreeMap<String, Vec<(&'static str, String, AccessLevel)>>;

/// The memberships the inventory shows, by service account.
async fn stored_reach(repo: &Repo) -> Reach {
    repo.list_service_accounts()
        .await
        .expect("service accounts")
        .into_iter()
        .map(|account| {
            let mut reach: Vec<_> = account
                .memberships
                .into_iter()
                .map(|m| (m.source_kind.as_str(), m.source_path, m.access_level))
                .collect();
            reach.sort();
            (account.username, reach)
        })
        .collect()
}

/// Every service account's direct memberships, from the simulator's world.
fn true_reach(sim: &SimHandle) -> Reach {
    let world = sim.state.world.read().expect("world");
    world
        .users
        .values()
        .filter(|u| {
            matches!(
                u.kind,
                UserKind::GroupServiceAccount { .. } | UserKind::InstanceServiceAccount
            )
        })
        .map(|user| {
            let mut reach: Vec<_> = world
                .index
                .memberships_of
                .get(&user.id)
                .into_iter()
                .flatten()
                .map(|(source, level)| {
                    let (kind, path) = match source {
                        Source::Group(id) => (ContainerKind::Group, world.groups[id].full_path.clone()),
                        Source::Project(id) => (ContainerKind::Project, world.projects[id].path_with_namespace.clone()),
                    };
                    (
                        kind.as_str(),
                        path,
                        AccessLevel::try_from(i32::from(*level)).expect("a role"),
                    )
                })
                .collect();
            reach.sort();
            (user.username.clone(), reach)
        })
        .collect()
}

/// Gives the first service account of the world a project membership too (the seeded worlds give
/// them group memberships only); returns its username.
fn add_project_membership(sim: &SimHandle) -> String {
    let mut world = sim.state.world_mut();
    let account = world
        .users
        .values()
        .find(|u| matches!(u.kind, UserKind::GroupServiceAccount { .. }))
        .map(|u| (u.id, u.username.clone()))
        .expect("a service account");
    let project = *world.projects.keys().next().expect("a project");
    world.members.insert((Source::Project(project), account.0), REPORTER);
    account.1
}

/// The stored tokens that are not gone must be exactly the truth.
fn assert_matches(stored: &BTreeMap<(TokenKind, i64), Seen>, truth: &BTreeMap<(TokenKind, i64), Seen>) {
    let present: BTreeMap<_, _> = stored
        .iter()
        .filter(|(_, s)| !s.gone)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    for (key, expected) in truth {
        assert_eq!(present.get(key), Some(expected), "token {key:?}");
    }
    for key in present.keys() {
        assert!(
            truth.contains_key(key),
            "token {key:?} is stored as present but GitLab does not have it"
        );
    }
    for kind in TokenKind::ALL {
        assert!(
            truth.keys().any(|(k, _)| *k == kind),
            "the scenario has no {kind:?} token"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sync_stores_exactly_what_gitlab_holds() {
    for db in support::backends().await {
        println!("backend: {}", db.name);
        let sim = simulator(11).await;
        administrator_sync(&sim, db.repo.clone()).await;
        db.finish().await;
    }
}

async fn administrator_sync(sim: &SimHandle, repo: Repo) {
    let with_project = add_project_membership(sim);
    let outcome = sync::run(
        repo.clone(),
        &settings(sim, &sim.credentials.admin_token, StrategyChoice::Auto),
        SyncTrigger::CommandLine,
        None,
    )
    .await
    .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    assert_eq!(outcome.strategy, Some(sync::Strategy::Administrator));
    assert_matches(&stored(&repo).await, &truth(sim));

    let runs = repo.list_sync_runs(10).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, SyncStatus::Succeeded);
    assert_eq!(runs[0].strategy.as_deref(), Some("administrator"));
    assert_eq!(runs[0].requests, outcome.requests);
    assert_eq!(runs[0].progress.tokens_seen, truth(sim).len() as u64);

    // What every service account can reach, groups and projects, with the role.
    let reach = stored_reach(&repo).await;
    assert_eq!(reach, true_reach(sim));
    assert!(
        reach[&with_project].iter().any(|(kind, ..)| *kind == "project"),
        "{reach:?}"
    );
    assert!(
        reach.values().all(|r| !r.is_empty()),
        "every seeded account is a member somewhere"
    );

    // The review's findings follow the run: nobody has said what any token is for yet, so every
    // live token has a "no purpose" finding, and nothing else is listed for a token sync did not
    // store.
    let today = chrono::Utc::now().date_naive();
    let all = db::FindingFilter {
        state: domain::review::FindingState::All,
        limit: 1_000,
        ..db::FindingFilter::default()
    };
    let page = repo.list_findings(&all, today).await.expect("findings");
    let live = truth(sim).values().filter(|seen| !seen.revoked && !seen.gone).count() as u64;
    let without_purpose = page
        .by_rule
        .iter()
        .find(|(rule, _)| *rule == domain::review::FindingRule::NoPurpose)
        .map(|(_, n)| *n);
    assert_eq!(without_purpose, Some(live), "{:?}", page.by_rule);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_written_a_batch_at_a_time_are_every_one_stored() {
    let sim = simulator(13).await;
    let (repo, dir) = database().await;
    let mut settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Administrator);
    // The administrator sends the projects' records to the writer a batch at a time.
    settings.batch_size = 7;
    let outcome = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    let projects: BTreeSet<(i64, String, i64, bool)> = {
        let world = sim.state.world.read().expect("world");
        assert!(
            world.projects.len() > 3 * 7,
            "the world's projects take several batches"
        );
        world
            .projects
            .values()
            .map(|p| {
                let id = |id: Id| i64::try_from(id).expect("an id");
                (id(p.id), p.path_with_namespace.clone(), id(p.namespace_id), p.archived)
            })
            .collect()
    };
    let stored_projects: Vec<(i64, String, i64, bool)> = sqlx::query_as(
        "SELECT gitlab_id, path_with_namespace, namespace_gitlab_id, archived FROM gitlab_projects \
         WHERE gone_since IS NULL AND web_url LIKE 'http%'",
    )
    .fetch_all(&mut connection(&dir).await)
    .await
    .expect("stored projects");
    assert_eq!(stored_projects.into_iter().collect::<BTreeSet<_>>(), projects);
    assert_matches(&stored(&repo).await, &truth(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_owner_sync_walks_the_groups_and_stores_the_same() {
    let sim = simulator(12).await;
    let (repo, _dir) = database().await;
    let outcome = sync::run(
        repo.clone(),
        &settings(&sim, &sim.credentials.group_owner_token, StrategyChoice::Auto),
        SyncTrigger::CommandLine,
        None,
    )
    .await
    .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    assert_eq!(outcome.strategy, Some(sync::Strategy::GroupOwner));
    // A group owner cannot see instance-wide service accounts: everything else must match.
    let mut expected = truth(&sim);
    expected.retain(|_, seen| !(seen.kind == TokenKind::Personal && seen.container_path.is_empty()));
    assert_matches(&stored(&repo).await, &expected);
    // GitLab lists memberships to administrators only: none are read, none are invented.
    let reach = stored_reach(&repo).await;
    assert!(!reach.is_empty());
    assert!(reach.values().all(Vec::is_empty), "{reach:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_sync_reflects_exactly_what_changed() {
    for db in support::backends().await {
        println!("backend: {}", db.name);
        let sim = simulator(13).await;
        next_sync(&sim, db.repo.clone()).await;
        db.finish().await;
    }
}

async fn next_sync(sim: &SimHandle, repo: Repo) {
    let settings = settings(sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("first sync");

    // Pick tokens to change from the world.
    let (project, other_group, access, deploy, to_delete, to_expire) = {
        let world = sim.state.world.read().expect("world");
        let bot_token = |skip: usize| project_access_token(&world, skip);
        let project = *world.projects.keys().next_back().expect("a project");
        let other_group = world
            .groups
            .values()
            .find(|g| world.projects.get(&project).is_some_and(|p| p.namespace_id != g.id))
            .map(|g| g.id)
            .expect("another group");
        let deploy = world
            .deploy_tokens
            .values()
            .find(|t| !t.revoked)
            .map(|t| t.id)
            .expect("a deploy token");
        (project, other_group, bot_token(0), deploy, bot_token(1), bot_token(2))
    };
    let mutations = serde_json::json!([
        {"op": "create_project_access_token", "project_id": project, "name": "release-notes",
         "scopes": ["read_api"], "access_level": 20, "expires_at": "2027-06-01"},
        {"op": "rotate_token", "token_id": access, "expires_at": "2027-03-01"},
        {"op": "revoke_deploy_token", "id": deploy},
        {"op": "delete_token", "token_id": to_delete},
        {"op": "set_expiry", "token_id": to_expire, "expires_at": "2027-01-15"},
        {"op": "move_project", "project_id": project, "group_id": other_group},
    ]);
    mutate(sim, &mutations).await;

    let outcome = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("second sync");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    let stored = stored(&repo).await;
    assert_matches(&stored, &truth(sim));
    assert_eq!(outcome.progress.tokens_gone, 1, "only the deleted token is gone");
    assert!(stored[&(TokenKind::ProjectAccess, to_delete as i64)].gone);
    assert_eq!(
        outcome.progress.tokens_created, 2,
        "the new token and the rotated one's successor"
    );

    let history = |kind, id: u64| {
        let repo = repo.clone();
        async move {
            repo.token_history(kind, id as i64)
                .await
                .expect("history")
                .into_iter()
                .map(|(_, event, _)| event)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(history(TokenKind::ProjectAccess, access).await, ["revoked"]);
    assert_eq!(history(TokenKind::Deploy, deploy).await, ["revoked"]);
    assert_eq!(history(TokenKind::ProjectAccess, to_delete).await, ["gone"]);
    assert_eq!(history(TokenKind::ProjectAccess, to_expire).await, ["expiry_changed"]);
    let successor = stored
        .values()
        .filter(|s| s.kind == TokenKind::ProjectAccess && !s.revoked)
        .filter(|s| s.name == stored[&(TokenKind::ProjectAccess, access as i64)].name)
        .map(|s| s.gitlab_id)
        .max()
        .expect("the rotated token's successor");
    assert_eq!(history(TokenKind::ProjectAccess, successor as u64).await, ["rotated"]);
    // The moved project's tokens moved with it.
    let moved_path = {
        let world = sim.state.world.read().expect("world");
        world.projects[&project].path_with_namespace.clone()
    };
    assert!(
        stored
            .values()
            .any(|s| s.container_path == moved_path && s.name == "release-notes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_change_nothing_and_mark_nothing_gone() {
    let sim = simulator(14).await;
    let (repo, _dir) = database().await;
    let settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("clean sync");
    sim.state.faults.set(Faults {
        error_rate: 0.10,
        throttle_rate: 0.02,
        throttle_burst: 3,
        reset_rate: 0.03,
        truncate_rate: 0.05,
        ..Faults::default()
    });
    for strategy in [StrategyChoice::Administrator, StrategyChoice::GroupOwner] {
        let token = if strategy == StrategyChoice::Administrator {
            &sim.credentials.admin_token
        } else {
            &sim.credentials.group_owner_token
        };
        let mut faulty = self::settings(&sim, token, strategy);
        faulty.client.attempts = 20;
        let outcome = sync::run(repo.clone(), &faulty, SyncTrigger::CommandLine, None)
            .await
            .expect("sync under faults");
        assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
        assert_eq!(outcome.progress.tokens_gone, 0);
        assert_matches(&stored(&repo).await, &truth(&sim));
        // The group owner's run leaves what the administrator's read.
        assert_eq!(stored_reach(&repo).await, true_reach(&sim));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_listings_end_partial_and_keep_their_tokens() {
    let sim = simulator(15).await;
    let (repo, _dir) = database().await;
    let mut settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("clean sync");
    let before = stored(&repo).await;
    let reach_before = stored_reach(&repo).await;
    assert!(reach_before.values().any(|r| !r.is_empty()));
    // Every request fails: retries run out everywhere.
    sim.state.faults.set(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    settings.client.attempts = 2;
    let outcome = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Failed);
    assert_eq!(outcome.progress.tokens_gone, 0);
    assert_eq!(stored(&repo).await, before, "nothing lost, nothing marked gone");
    assert_eq!(stored_reach(&repo).await, reach_before, "memberships kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_users_listing_still_reads_every_access_token() {
    let sim = simulator(16).await;
    let (repo, _dir) = database().await;
    let mut settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Administrator);
    sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("clean sync");
    let changed = {
        let world = sim.state.world.read().expect("world");
        project_access_token(&world, 0)
    };
    mutate(
        &sim,
        &serde_json::json!([{"op": "set_expiry", "token_id": changed, "expires_at": "2027-02-11"}]),
    )
    .await;
    // Without the bot users, which projects and groups hold access tokens is not known: every
    // one is listed, none is taken for empty.
    sim.state.faults.set(Faults {
        fail_path: Some("exclude_humans".to_owned()),
        ..Faults::default()
    });
    settings.client.attempts = 2;
    let outcome = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Partial);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].scope, "users");
    assert_eq!(outcome.progress.tokens_gone, 0);
    let stored = stored(&repo).await;
    assert_eq!(
        stored[&(TokenKind::ProjectAccess, changed as i64)].expires_on,
        NaiveDate::from_ymd_opt(2027, 2, 11)
    );
    assert_matches(&stored, &truth(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_membership_listing_keeps_that_accounts_memberships() {
    for db in support::backends().await {
        println!("backend: {}", db.name);
        let sim = simulator(19).await;
        failed_membership_listing(&sim, db.repo.clone()).await;
        db.finish().await;
    }
}

async fn failed_membership_listing(sim: &SimHandle, repo: Repo) {
    let settings = settings(sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("first sync");
    let before = stored_reach(&repo).await;
    assert_eq!(before, true_reach(sim));

    // Two service accounts' memberships change in GitLab: one gains a project, the other loses
    // its groups and gains a project. The first one's listing fails every time. A third account
    // is deleted, with its tokens.
    let (failing, failing_name, other_name, deleted_name, deleted_tokens) = {
        let mut world = sim.state.world_mut();
        let accounts: Vec<(Id, String)> = world
            .users
            .values()
            .filter(|u| matches!(u.kind, UserKind::GroupServiceAccount { .. }))
            .map(|u| (u.id, u.username.clone()))
            .take(3)
            .collect();
        assert_eq!(accounts.len(), 3, "the world has three service accounts");
        let deleted = accounts[2].0;
        world.users.remove(&deleted);
        let before = world.personal_access_tokens.len();
        world.personal_access_tokens.retain(|_, token| token.user_id != deleted);
        let deleted_tokens = (before - world.personal_access_tokens.len()) as u64;
        world.members.retain(|(_, user), _| *user != deleted);
        let projects: Vec<Id> = world.projects.keys().copied().take(2).collect();
        world
            .members
            .insert((Source::Project(projects[0]), accounts[0].0), DEVELOPER);
        world.members.retain(|(_, user), _| *user != accounts[1].0);
        world
            .members
            .insert((Source::Project(projects[1]), accounts[1].0), MAINTAINER);
        (
            accounts[0].0,
            accounts[0].1.clone(),
            accounts[1].1.clone(),
            accounts[2].1.clone(),
            deleted_tokens,
        )
    };
    sim.state.faults.set(Faults {
        fail_path: Some(format!("/users/{failing}/memberships")),
        ..Faults::default()
    });
    let mut quick = settings.clone();
    quick.client.attempts = 2;
    let outcome = sync::run(repo.clone(), &quick, SyncTrigger::CommandLine, None)
        .await
        .expect("sync runs");
    assert_eq!(outcome.status, SyncStatus::Partial);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].scope, format!("{failing_name} memberships"));
    // A failed membership listing hides no token and no account: the deleted account and its
    // tokens are marked gone all the same.
    assert_eq!(outcome.progress.tokens_gone, deleted_tokens);
    assert_matches(&stored(&repo).await, &truth(sim));
    let now = stored_reach(&repo).await;
    assert!(before.contains_key(&deleted_name));
    assert!(!now.contains_key(&deleted_name), "the deleted account is gone");
    let truth_now = true_reach(sim);
    assert_eq!(
        now[&failing_name], before[&failing_name],
        "the failed listing keeps the old ones"
    );
    assert_ne!(truth_now[&failing_name], before[&failing_name]);
    assert_eq!(now[&other_name], truth_now[&other_name], "the others are up to date");
    assert_ne!(now[&other_name], before[&other_name]);

    // Once GitLab answers again, the next run catches up.
    sim.state.faults.set(Faults::default());
    let outcome = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("next sync");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    assert_eq!(stored_reach(&repo).await, true_reach(sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_half_way_is_completed_by_the_next() {
    let sim = simulator(16).await;
    let (repo, _dir) = database().await;
    sim.state.faults.set(Faults {
        latency_ms: 5,
        ..Faults::default()
    });
    let settings = settings(&sim, &sim.credentials.group_owner_token, StrategyChoice::Auto);
    let killed = tokio::time::timeout(
        Duration::from_millis(600),
        sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None),
    )
    .await;
    assert!(killed.is_err(), "the run should still have been going");
    let half = stored(&repo).await;
    assert!(half.values().all(|s| !s.gone), "a killed run marks nothing gone");

    // The lease of the killed run runs out; the next run takes over and completes.
    tokio::time::sleep(settings.lease_ttl + Duration::from_millis(200)).await;
    sim.state.faults.set(Faults::default());
    let (watch_tx, watch_rx) = tokio::sync::watch::channel(Default::default());
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, Some(watch_tx)),
    )
    .await
    .unwrap_or_else(|_| panic!("stuck at {:?}", *watch_rx.borrow()))
    .expect("next sync");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    let mut expected = truth(&sim);
    expected.retain(|_, seen| !(seen.kind == TokenKind::Personal && seen.container_path.is_empty()));
    assert_matches(&stored(&repo).await, &expected);
    let runs = repo.list_sync_runs(10).await.expect("runs");
    assert_eq!(runs[0].status, SyncStatus::Succeeded);
    assert_eq!(
        runs[1].status,
        SyncStatus::Abandoned,
        "the killed run is recorded as abandoned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_run_at_a_time() {
    let sim = simulator(17).await;
    let (repo, _dir) = database().await;
    sim.state.faults.set(Faults {
        latency_ms: 20,
        ..Faults::default()
    });
    let settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    let first = tokio::spawn({
        let repo = repo.clone();
        let settings = settings.clone();
        async move { sync::run(repo, &settings, SyncTrigger::Schedule, None).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = sync::run(repo.clone(), &settings, SyncTrigger::Manual, None).await;
    assert!(matches!(second, Err(SyncStartError::AlreadyRunning)));
    let first = first.await.expect("join").expect("first run");
    assert_eq!(first.status, SyncStatus::Succeeded);
    // Once it finished, the next may run.
    sim.state.faults.set(Faults::default());
    let third = sync::run(repo.clone(), &settings, SyncTrigger::Manual, None)
        .await
        .expect("third run");
    assert_eq!(third.status, SyncStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_fails_the_run_and_writes_nothing() {
    let sim = simulator(18).await;
    let (repo, _dir) = database().await;
    let outcome = sync::run(
        repo.clone(),
        &settings(&sim, "glpat-not-a-real-token-000000", StrategyChoice::Auto),
        SyncTrigger::CommandLine,
        None,
    )
    .await
    .expect("the run is recorded");
    assert_eq!(outcome.status, SyncStatus::Failed);
    assert!(
        outcome.errors.iter().any(|e| e.message.contains("401")),
        "{:?}",
        outcome.errors
    );
    assert!(stored(&repo).await.is_empty());
}

/// A second database connection on the test's SQLite file, as another replica or an operator.
async fn connection(dir: &tempfile::TempDir) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("sync.db").display()))
        .await
        .expect("a second connection")
}

/// The requests a whole run makes against seed `seed`'s world, with an administrator's token.
async fn requests_of_a_whole_run(seed: u64) -> u64 {
    let sim = simulator(seed).await;
    let (repo, _dir) = database().await;
    let outcome = sync::run(
        repo,
        &settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto),
        SyncTrigger::CommandLine,
        None,
    )
    .await
    .expect("a whole run");
    assert_eq!(outcome.status, SyncStatus::Succeeded, "errors: {:?}", outcome.errors);
    outcome.requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_loses_its_lease_stops_and_marks_nothing_gone() {
    let whole = requests_of_a_whole_run(19).await;
    let sim = simulator(19).await;
    let (repo, dir) = database().await;
    let settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    // What a first run stored; then GitLab loses a token, which a whole second run would mark
    // gone.
    let first = sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None)
        .await
        .expect("first run");
    assert_eq!(first.status, SyncStatus::Succeeded);
    let before = stored(&repo).await;
    assert!(before.values().all(|seen| !seen.gone));
    let to_delete = {
        let world = sim.state.world.read().expect("world");
        project_access_token(&world, 0)
    };
    mutate(
        &sim,
        &serde_json::json!([{"op": "delete_token", "token_id": to_delete}]),
    )
    .await;

    // Slow enough that the run is still reading when another replica takes the lease (as it
    // may once a renewal came too late); the run's heartbeat sees it within a quarter of the
    // lease's time.
    sim.state.faults.set(Faults {
        latency_ms: 100,
        ..Faults::default()
    });
    let second = tokio::spawn({
        let repo = repo.clone();
        let settings = settings.clone();
        async move { sync::run(repo, &settings, SyncTrigger::Schedule, None).await }
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut other = connection(&dir).await;
    let taken = sqlx::query("UPDATE sync_lease SET holder = 'replica-b', expires_at = $1 WHERE id = 1")
        .bind(chrono::Utc::now() + chrono::Duration::minutes(5))
        .execute(&mut other)
        .await
        .expect("the other replica takes the lease");
    assert_eq!(taken.rows_affected(), 1);

    let outcome = tokio::time::timeout(Duration::from_secs(20), second)
        .await
        .expect("the run stops")
        .expect("join")
        .expect("the run is recorded");
    assert_eq!(outcome.status, SyncStatus::Failed);
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.message.contains("another replica holds the sync lease")),
        "{:?}",
        outcome.errors
    );
    assert!(
        outcome.requests < whole / 2,
        "the run went on asking GitLab: {} requests, a whole run makes {whole}",
        outcome.requests
    );
    assert_eq!(
        stored(&repo).await,
        before,
        "a stopped run changes nothing and marks nothing gone"
    );
    let runs = repo.list_sync_runs(10).await.expect("runs");
    assert_eq!(runs[0].status, SyncStatus::Failed);
    // The lease is the other replica's still: the stopped run did not release it.
    let holder: (Option<String>,) = sqlx::query_as("SELECT holder FROM sync_lease WHERE id = 1")
        .fetch_one(&mut other)
        .await
        .expect("the lease");
    assert_eq!(holder.0.as_deref(), Some("replica-b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_writer_fails_stops_asking_gitlab() {
    let whole = requests_of_a_whole_run(20).await;
    let sim = simulator(20).await;
    let (repo, dir) = database().await;
    // The database refuses every token from now on, as a full disk would.
    let mut other = connection(&dir).await;
    sqlx::query(
        "CREATE TRIGGER refuse_tokens BEFORE INSERT ON tokens BEGIN SELECT RAISE(ABORT, 'the disk is full'); END",
    )
    .execute(&mut other)
    .await
    .expect("the trigger");
    sim.state.faults.set(Faults {
        latency_ms: 20,
        ..Faults::default()
    });
    let mut settings = settings(&sim, &sim.credentials.admin_token, StrategyChoice::Auto);
    // Every listing's tokens are written as they come, so the first write fails early.
    settings.batch_size = 1;
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        sync::run(repo.clone(), &settings, SyncTrigger::CommandLine, None),
    )
    .await
    .expect("the run stops")
    .expect("the run is recorded");
    assert_eq!(outcome.status, SyncStatus::Failed);
    assert!(
        outcome.errors.iter().any(|e| e.message.contains("the disk is full")),
        "{:?}",
        outcome.errors
    );
    assert!(
        outcome.requests < whole / 2,
        "the listings went on after the writer failed: {} requests, a whole run makes {whole}",
        outcome.requests
    );
    assert!(stored(&repo).await.is_empty());
}
