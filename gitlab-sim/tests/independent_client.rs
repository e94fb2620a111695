//! A real, maintained GitLab client (python-gitlab, pinned in `tests/python/requirements.txt`)
//! lists everything through its normal pagination, unchanged; what it finds must equal the
//! simulator's ground truth. `cargo xtask test` prepares the Python environment and passes it in
//! `GITLAB_SIM_PYTHON`.

use std::{collections::BTreeSet, process::Command};

use gitlab_sim::{Scenario, SimConfig, model::*};
use serde_json::Value;

fn ids(value: &Value, key: &str) -> BTreeSet<u64> {
    value[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn python_gitlab_lists_exactly_the_simulated_world() {
    let python = std::env::var("GITLAB_SIM_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let sim = gitlab_sim::spawn(SimConfig {
        scenario: Scenario::Small,
        seed: 5,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/list_everything.py");
    let url = sim.url.clone();
    let token = sim.credentials.admin_token.clone();
    let output = tokio::task::spawn_blocking(move || Command::new(python).args([script, &url, &token]).output())
        .await
        .expect("join")
        .expect("python runs");
    assert!(
        output.status.success(),
        "python-gitlab failed (run the tests with `cargo xtask test`, which installs it, or \
         `pip install -r gitlab-sim/tests/python/requirements.txt`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found: Value = serde_json::from_slice(&output.stdout).expect("JSON from the script");

    let world = sim.state.world.read().expect("world").clone();
    let owned_by = |kind: fn(&UserKind) -> bool| -> BTreeSet<u64> {
        world
            .personal_access_tokens
            .values()
            .filter(|t| world.users.get(&t.user_id).is_some_and(|u| kind(&u.kind)))
            .map(|t| t.id)
            .collect()
    };
    let deploy = |keep: fn(&Source) -> bool| -> BTreeSet<u64> {
        world
            .deploy_tokens
            .values()
            .filter(|t| keep(&t.owner))
            .map(|t| t.id)
            .collect()
    };

    assert_eq!(found["version"], "17.6.0-ee");
    assert_eq!(ids(&found, "groups"), world.groups.keys().copied().collect());
    assert_eq!(ids(&found, "projects"), world.projects.keys().copied().collect());
    assert_eq!(
        ids(&found, "project_access_tokens"),
        owned_by(|k| matches!(k, UserKind::ProjectBot { .. }))
    );
    assert_eq!(
        ids(&found, "group_access_tokens"),
        owned_by(|k| matches!(k, UserKind::GroupBot { .. }))
    );
    assert_eq!(
        ids(&found, "project_deploy_tokens"),
        deploy(|o| matches!(o, Source::Project(_)))
    );
    assert_eq!(
        ids(&found, "group_deploy_tokens"),
        deploy(|o| matches!(o, Source::Group(_)))
    );
    assert_eq!(
        ids(&found, "instance_deploy_tokens"),
        world.deploy_tokens.keys().copied().collect()
    );
    assert_eq!(
        ids(&found, "personal_access_tokens"),
        world.personal_access_tokens.keys().copied().collect()
    );
    assert_eq!(
        ids(&found, "service_accounts"),
        world
            .users
            .values()
            .filter(|u| matches!(u.kind, UserKind::GroupServiceAccount { .. }))
            .map(|u| u.id)
            .collect()
    );
    assert_eq!(ids(&found, "users"), world.users.keys().copied().collect());
    assert_eq!(
        ids(&found, "bots"),
        world.users.values().filter(|u| u.kind.is_bot()).map(|u| u.id).collect()
    );
    assert!(
        ids(&found, "project_access_tokens").len() > 100,
        "a world worth listing"
    );
}
