//! What sign-in keeps (sessions, people, teams, API keys), the same on SQLite and PostgreSQL.

mod support;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use db::{ApiKeyScope, ConfiguredTeam, DbError, NewApiKey, UserProfile};
use domain::{Role, TeamMembership};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn profile(gitlab_id: i64, username: &str) -> UserProfile {
    UserProfile {
        gitlab_id,
        username: username.to_owned(),
        name: format!("{username} (name)"),
        email: None,
    }
}

#[tokio::test]
async fn sessions_load_until_they_expire_and_go_when_deleted() {
    for db in support::backends().await {
        let repo = &db.repo;
        let now = at("2026-11-25T10:00:00Z");
        repo.save_session("h1", r#"{"user_id":1}"#, now + Duration::hours(1))
            .await
            .expect("save");
        repo.save_session("h2", "{}", now - Duration::seconds(1))
            .await
            .expect("save");
        let (data, expires) = repo.load_session("h1", now).await.expect("load").expect("live session");
        assert_eq!(data, r#"{"user_id":1}"#, "{}", db.name);
        assert_eq!(expires, now + Duration::hours(1), "{}", db.name);
        assert!(
            repo.load_session("h2", now).await.expect("load").is_none(),
            "{}: expired",
            db.name
        );
        // Saving again replaces the data and the expiry.
        repo.save_session("h1", "{}", now + Duration::hours(2))
            .await
            .expect("save");
        assert_eq!(
            repo.load_session("h1", now).await.expect("load").map(|(d, _)| d),
            Some("{}".to_owned())
        );
        assert_eq!(
            repo.delete_expired_sessions(now).await.expect("purge"),
            1,
            "{}",
            db.name
        );
        repo.delete_session("h1").await.expect("delete");
        assert!(
            repo.load_session("h1", now).await.expect("load").is_none(),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn configured_teams_and_sign_ins_make_a_viewer() {
    for db in support::backends().await {
        let repo = &db.repo;
        let teams = vec![
            ConfiguredTeam {
                name: "Platform".into(),
                group_paths: vec!["acme/platform".into(), "/acme/web/".into()],
                leads: vec!["Pat.Lead".into()],
            },
            ConfiguredTeam {
                name: "Delivery".into(),
                group_paths: vec!["acme/delivery".into()],
                leads: vec![],
            },
        ];
        repo.apply_configured_teams(&teams).await.expect("teams");
        // Applying again changes nothing but what changed.
        let mut changed = teams.clone();
        changed[1].group_paths = vec!["acme/release".into()];
        repo.apply_configured_teams(&changed).await.expect("teams again");
        let rules = repo.team_rules().await.expect("rules");
        assert_eq!(rules.len(), 2, "{}", db.name);
        let platform = rules.iter().find(|r| r.name == "Platform").expect("platform");
        assert_eq!(
            platform.group_paths.iter().collect::<BTreeSet<_>>(),
            BTreeSet::from([&"acme/platform".to_owned(), &"acme/web".to_owned()])
        );
        assert_eq!(platform.leads, vec!["pat.lead".to_owned()]);
        let delivery = rules.iter().find(|r| r.name == "Delivery").expect("delivery");
        assert_eq!(delivery.group_paths, vec!["acme/release".to_owned()], "{}", db.name);

        let roles = BTreeSet::from([Role::Engineer, Role::TeamLead]);
        // In the teams' order by name, each with its own lead flag (one row each in the
        // viewer's one statement).
        let membership = vec![
            TeamMembership {
                team_id: delivery.team_id,
                team_name: "Delivery".into(),
                is_lead: false,
            },
            TeamMembership {
                team_id: platform.team_id,
                team_name: "Platform".into(),
                is_lead: true,
            },
        ];
        let id = repo
            .record_sign_in(
                &profile(42, "pat.lead"),
                &roles,
                &membership,
                at("2026-11-25T10:00:00Z"),
            )
            .await
            .expect("sign-in");
        let viewer = repo.viewer(id).await.expect("viewer").expect("exists");
        assert_eq!(viewer.username, "pat.lead");
        assert_eq!(viewer.roles, roles, "{}", db.name);
        assert_eq!(viewer.teams, membership, "{}", db.name);
        assert!(viewer.leads(platform.team_id) && !viewer.leads(delivery.team_id));
        assert_eq!(viewer.unread_notices, 0);
        // A later sign-in updates the same person, roles and teams replaced.
        let again = repo
            .record_sign_in(
                &profile(42, "pat"),
                &BTreeSet::from([Role::Engineer]),
                &[],
                at("2026-11-26T10:00:00Z"),
            )
            .await
            .expect("sign-in");
        assert_eq!(again, id, "{}", db.name);
        let viewer = repo.viewer(id).await.expect("viewer").expect("exists");
        assert_eq!(viewer.username, "pat");
        assert!(viewer.teams.is_empty() && !viewer.has(Role::TeamLead), "{}", db.name);
        assert!(repo.viewer(id + 1000).await.expect("viewer").is_none());
        db.finish().await;
    }
}

#[tokio::test]
async fn api_keys_are_found_by_prefix_revoked_by_their_owner_only() {
    for db in support::backends().await {
        let repo = &db.repo;
        let now = at("2026-11-25T10:00:00Z");
        let owner = repo
            .record_sign_in(&profile(1, "eli"), &BTreeSet::from([Role::Engineer]), &[], now)
            .await
            .expect("owner");
        let other = repo
            .record_sign_in(&profile(2, "emma"), &BTreeSet::from([Role::Engineer]), &[], now)
            .await
            .expect("other");
        let key = NewApiKey {
            user_id: owner,
            name: "report".into(),
            prefix: "abcd1234".into(),
            secret_hash: "f".repeat(64),
            scope: ApiKeyScope::Read,
            expires_on: NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
        };
        let created = repo.create_api_key(&key, now).await.expect("create");
        assert!(
            matches!(repo.create_api_key(&key, now).await, Err(DbError::Conflict(_))),
            "{}: prefixes are unique",
            db.name
        );
        let found = repo.find_api_key("abcd1234").await.expect("find").expect("found");
        assert_eq!(found.user_id, owner);
        assert_eq!(found.secret_hash, "f".repeat(64));
        assert_eq!(found.key, created, "{}", db.name);
        // Its owner as a request with it sees them, read in the same statement.
        assert_eq!(Some(&found.owner), repo.viewer(owner).await.expect("viewer").as_ref());
        assert_eq!(found.owner.username, "eli");
        assert!(repo.find_api_key("nope").await.expect("find").is_none());
        repo.touch_api_key(created.id, now + Duration::minutes(5))
            .await
            .expect("touch");
        assert_eq!(
            repo.list_api_keys(owner).await.expect("list")[0].last_used_at,
            Some(now + Duration::minutes(5))
        );
        assert!(repo.list_api_keys(other).await.expect("list").is_empty());
        assert!(
            !repo.revoke_api_key(other, created.id, now).await.expect("revoke"),
            "{}: not theirs",
            db.name
        );
        assert!(repo.revoke_api_key(owner, created.id, now).await.expect("revoke"));
        assert!(
            !repo.revoke_api_key(owner, created.id, now).await.expect("revoke"),
            "already revoked"
        );
        assert_eq!(
            repo.find_api_key("abcd1234")
                .await
                .expect("find")
                .expect("found")
                .key
                .revoked_at,
            Some(now)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_keys_owner_comes_with_their_last_sign_in_and_their_state_in_gitlab() {
    for db in support::backends().await {
        let repo = &db.repo;
        let now = at("2026-11-25T10:00:00Z");
        let today = now.date_naive();
        let engineer = BTreeSet::from([Role::Engineer]);
        let eli = repo
            .record_sign_in(&profile(1, "eli"), &engineer, &[], now)
            .await
            .expect("eli");
        let emma = repo
            .record_sign_in(&profile(2, "emma"), &engineer, &[], now - Duration::days(3))
            .await
            .expect("emma");
        let noah = repo
            .record_sign_in(&profile(3, "noah"), &engineer, &[], now)
            .await
            .expect("noah");
        repo.record_sign_in(&profile(4, "ola"), &engineer, &[], now)
            .await
            .expect("ola, who has no key");
        let key = |user_id: i64, prefix: &str, expires_on: NaiveDate| NewApiKey {
            user_id,
            name: prefix.to_owned(),
            prefix: prefix.to_owned(),
            secret_hash: "f".repeat(64),
            scope: ApiKeyScope::ReadWrite,
            expires_on,
        };
        let later = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
        for new in [
            key(eli, "elikey01", later),
            key(emma, "emmakey1", later),
            key(noah, "noahrevk", later),
            key(noah, "noahexpd", today),
        ] {
            repo.create_api_key(&new, now).await.expect("key");
        }
        let revoked = repo.find_api_key("noahrevk").await.expect("find").expect("found");
        assert!(repo.revoke_api_key(noah, revoked.key.id, now).await.expect("revoke"));

        // Sync asks GitLab about the owners of keys that still work: not revoked, not expired.
        assert_eq!(
            repo.api_key_owners(today).await.expect("owners"),
            vec![(1, "eli".to_owned()), (2, "emma".to_owned())],
            "{}",
            db.name
        );
        // Signing in with GitLab proves the account active at that moment.
        let found = repo.find_api_key("emmakey1").await.expect("find").expect("found");
        assert_eq!(found.owner_signed_in_at, now - Duration::days(3), "{}", db.name);
        assert_eq!(found.owner_gitlab_state.as_deref(), Some("active"), "{}", db.name);

        // What sync found is stored by GitLab id; someone who never signed in is no one here.
        repo.record_gitlab_states(
            &[
                (1, "blocked".to_owned()),
                (2, "gone".to_owned()),
                (99, "active".to_owned()),
            ],
            now + Duration::hours(1),
        )
        .await
        .expect("states");
        let state = async |prefix: &str| {
            repo.find_api_key(prefix)
                .await
                .expect("find")
                .expect("found")
                .owner_gitlab_state
        };
        assert_eq!(state("elikey01").await.as_deref(), Some("blocked"), "{}", db.name);
        assert_eq!(state("emmakey1").await.as_deref(), Some("gone"), "{}", db.name);

        // A sign-in after the check wins over it; a check read before the sign-in changes nothing.
        repo.record_sign_in(&profile(1, "eli"), &engineer, &[], now + Duration::hours(2))
            .await
            .expect("eli again");
        assert_eq!(state("elikey01").await.as_deref(), Some("active"), "{}", db.name);
        repo.record_gitlab_states(&[(1, "blocked".to_owned())], now + Duration::minutes(90))
            .await
            .expect("a stale check");
        assert_eq!(state("elikey01").await.as_deref(), Some("active"), "{}", db.name);
        repo.record_gitlab_states(&[(1, "deactivated".to_owned())], now + Duration::hours(3))
            .await
            .expect("a newer check");
        assert_eq!(state("elikey01").await.as_deref(), Some("deactivated"), "{}", db.name);
        assert_eq!(
            repo.find_api_key("elikey01")
                .await
                .expect("find")
                .expect("found")
                .owner_signed_in_at,
            now + Duration::hours(2)
        );
        db.finish().await;
    }
}
