//! Service-account requests as stored, the same on SQLite and PostgreSQL: a step on a stale
//! version is refused, the timeline and notices follow each step.

mod support;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use db::{ConfiguredTeam, DbError, Person, Repo, RequestFilter, RequestStep, UserProfile};
use domain::{
    AccessLevel, ContainerKind, Role, TeamMembership, TeamRef,
    requests::{MembershipAsk, RequestAction, RequestState, ValidRequest},
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

async fn user(repo: &Repo, gitlab_id: i64, username: &str, roles: &[Role], teams: &[TeamMembership]) -> Person {
    let id = repo
        .record_sign_in(
            &UserProfile {
                gitlab_id,
                username: username.to_owned(),
                name: username.to_owned(),
                email: None,
            },
            &roles.iter().copied().collect::<BTreeSet<_>>(),
            teams,
            at("2026-12-01T09:00:00Z"),
        )
        .await
        .expect("sign-in");
    Person {
        id,
        username: username.to_owned(),
    }
}

fn body(team: &TeamRef, name: &str) -> ValidRequest {
    ValidRequest {
        account_name: name.to_owned(),
        owner_team: Some(team.clone()),
        purpose: "release notes".to_owned(),
        memberships: vec![MembershipAsk {
            kind: ContainerKind::Group,
            path: "acme/platform".to_owned(),
            role: AccessLevel::Maintainer,
        }],
        lifetime_days: Some(90),
        ..ValidRequest::default()
    }
}

#[tokio::test]
async fn a_request_goes_step_by_step_and_a_stale_step_is_refused() {
    for db in support::backends().await {
        let repo = &db.repo;
        repo.apply_configured_teams(&[ConfiguredTeam {
            name: "Platform".to_owned(),
            group_paths: vec!["acme/platform".to_owned()],
            leads: vec!["pat.lead".to_owned()],
        }])
        .await
        .expect("teams");
        let teams = repo.list_teams().await.expect("teams");
        let platform = TeamRef {
            id: teams[0].id,
            name: teams[0].name.clone(),
        };
        let member = |is_lead| TeamMembership {
            team_id: platform.id,
            team_name: platform.name.clone(),
            is_lead,
        };
        let paula = user(repo, 1, "paula.eng", &[Role::Engineer], &[member(false)]).await;
        let pat = user(repo, 2, "pat.lead", &[Role::TeamLead], &[member(false)]).await;
        let sam = user(repo, 3, "sam.security", &[Role::Security], &[]).await;
        let sasha = user(repo, 4, "sasha.security", &[Role::Security, Role::Admin], &[]).await;
        assert_eq!(
            repo.team_lead_ids(platform.id).await.expect("leads"),
            [pat.id],
            "{}",
            db.name
        );
        assert_eq!(
            repo.security_ids().await.expect("security"),
            [sam.id, sasha.id],
            "{}",
            db.name
        );

        let id = repo
            .create_request(
                &paula,
                RequestState::Submitted,
                &body(&platform, "platform-release-bot"),
                &[(pat.id, "Paula asks for platform-release-bot".to_owned())],
                at("2026-12-02T09:00:00Z"),
            )
            .await
            .expect("created");
        assert_eq!(
            repo.taken_account_names(None).await.expect("names"),
            ["platform-release-bot"],
            "{}",
            db.name
        );
        assert!(repo.taken_account_names(Some(id)).await.expect("names").is_empty());
        assert_eq!(unread(repo, pat.id).await, 1);

        let step = |version, action, next_state, by: &Person, note: Option<&str>| RequestStep {
            request_id: id,
            expected_version: version,
            action,
            next_state,
            by: by.clone(),
            body: None,
            note: note.map(str::to_owned),
            notify: vec![(paula.id, format!("{} {}", by.username, action.done()))],
            account_gitlab_id: None,
        };
        repo.record_step(
            &step(1, RequestAction::Endorse, RequestState::Endorsed, &pat, None),
            at("2026-12-02T10:00:00Z"),
        )
        .await
        .expect("endorsed");
        // Two security members at once, both on version 2: the first wins, the second is told.
        repo.record_step(
            &step(2, RequestAction::Approve, RequestState::Approved, &sam, None),
            at("2026-12-02T11:00:00Z"),
        )
        .await
        .expect("approved");
        let late = repo
            .record_step(
                &step(2, RequestAction::Reject, RequestState::Rejected, &sasha, Some("no")),
                at("2026-12-02T11:00:01Z"),
            )
            .await
            .expect_err("stale");
        assert!(
            matches!(late, DbError::Conflict(ref m) if m.contains("someone else changed")),
            "{late:?}"
        );
        let missing = repo
            .record_step(
                &RequestStep {
                    request_id: id + 100,
                    ..step(3, RequestAction::Fulfil, RequestState::Fulfilled, &sam, None)
                },
                at("2026-12-02T12:00:00Z"),
            )
            .await
            .expect_err("no such request");
        assert!(matches!(missing, DbError::NotFound(_)), "{missing:?}");

        let stored = repo.request(id).await.expect("read").expect("exists");
        assert_eq!(stored.state, RequestState::Approved, "{}", db.name);
        assert_eq!(stored.version, 3);
        assert_eq!(stored.endorsed_by.map(|p| p.username).as_deref(), Some("pat.lead"));
        assert_eq!(stored.decided_by.map(|p| p.username).as_deref(), Some("sam.security"));
        assert_eq!(stored.body, body(&platform, "platform-release-bot"));
        let timeline: Vec<(Option<&str>, RequestAction, RequestState)> = stored
            .events
            .iter()
            .map(|event| (event.by.as_deref(), event.action, event.state))
            .collect();
        assert_eq!(
            timeline,
            [
                (Some("paula.eng"), RequestAction::Submit, RequestState::Submitted),
                (Some("pat.lead"), RequestAction::Endorse, RequestState::Endorsed),
                (Some("sam.security"), RequestAction::Approve, RequestState::Approved),
            ],
            "{}",
            db.name
        );

        // An amendment clears the endorsement (and a new body is stored).
        let other = user(repo, 5, "piotr.eng", &[Role::Engineer], &[member(false)]).await;
        let second = repo
            .create_request(
                &other,
                RequestState::Submitted,
                &body(&platform, "platform-docs-bot"),
                &[],
                at("2026-12-02T13:00:00Z"),
            )
            .await
            .expect("created");
        repo.record_step(
            &RequestStep {
                request_id: second,
                ..step(1, RequestAction::Endorse, RequestState::Endorsed, &pat, None)
            },
            at("2026-12-02T13:10:00Z"),
        )
        .await
        .expect("endorsed");
        repo.record_step(
            &RequestStep {
                request_id: second,
                body: Some(body(&platform, "platform-docs-publisher")),
                ..step(2, RequestAction::Amend, RequestState::Submitted, &other, None)
            },
            at("2026-12-02T13:20:00Z"),
        )
        .await
        .expect("amended");
        let amended = repo.request(second).await.expect("read").expect("exists");
        assert_eq!((amended.state, amended.endorsed_by), (RequestState::Submitted, None));
        assert_eq!(amended.body.account_name, "platform-docs-publisher");

        // Lists: a person's own, a team's, by state; drafts only in their requester's list.
        repo.create_request(
            &paula,
            RequestState::Draft,
            &ValidRequest::default(),
            &[],
            at("2026-12-02T14:00:00Z"),
        )
        .await
        .expect("draft");
        let mine = repo
            .list_requests(&RequestFilter {
                requester: Some(paula.id),
                limit: 10,
                ..RequestFilter::default()
            })
            .await
            .expect("mine");
        assert_eq!(mine.len(), 2, "{}", db.name);
        let waiting = repo
            .list_requests(&RequestFilter {
                teams: Some(vec![platform.id]),
                states: vec![RequestState::Submitted],
                limit: 10,
                ..RequestFilter::default()
            })
            .await
            .expect("waiting");
        assert_eq!(
            waiting.iter().map(|r| r.account_name.as_str()).collect::<Vec<_>>(),
            ["platform-docs-publisher"]
        );

        // The inbox (each step above told paula): unread first; reading one request's notices.
        let inbox = repo.inbox(paula.id, 10).await.expect("inbox");
        assert_eq!(inbox.len(), 4, "{}", db.name);
        assert!(inbox.iter().all(|notice| !notice.read));
        assert_eq!(inbox.iter().filter(|notice| notice.request_id == Some(id)).count(), 2);
        repo.mark_read(paula.id, Some(id), at("2026-12-02T15:00:00Z"))
            .await
            .expect("read");
        assert_eq!(unread(repo, paula.id).await, 2);
        let inbox = repo.inbox(paula.id, 10).await.expect("inbox");
        assert_eq!(
            inbox
                .iter()
                .map(|notice| (notice.read, notice.request_id == Some(id)))
                .collect::<Vec<_>>(),
            [(false, false), (false, false), (true, true), (true, true)],
            "unread first"
        );
        repo.mark_read(paula.id, None, at("2026-12-02T15:00:00Z"))
            .await
            .expect("read");
        assert_eq!(unread(repo, paula.id).await, 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_fulfilment_is_held_once_and_a_retry_keeps_its_first_key() {
    for db in support::backends().await {
        let repo = &db.repo;
        repo.apply_configured_teams(&[ConfiguredTeam {
            name: "Platform".to_owned(),
            group_paths: vec!["acme/platform".to_owned()],
            leads: vec!["pat.lead".to_owned()],
        }])
        .await
        .expect("teams");
        let teams = repo.list_teams().await.expect("teams");
        let platform = TeamRef {
            id: teams[0].id,
            name: teams[0].name.clone(),
        };
        let paula = user(repo, 1, "paula.eng", &[Role::Engineer], &[]).await;
        let sam = user(repo, 3, "sam.security", &[Role::Security], &[]).await;
        let id = repo
            .create_request(
                &paula,
                RequestState::Approved,
                &body(&platform, "platform-release-bot"),
                &[],
                at("2026-12-02T09:00:00Z"),
            )
            .await
            .expect("created");
        let now = at("2026-12-02T10:00:00Z");
        let until = at("2026-12-02T10:02:00Z");
        let first = repo.hold_fulfilment(id, "key-1", now, until).await.expect("held");
        assert_eq!(first.key.as_deref(), Some("key-1"), "{}", db.name);
        // A double click while it is held is told, not run.
        let second = repo
            .hold_fulfilment(id, "key-2", now, until)
            .await
            .expect_err("held already");
        assert!(
            matches!(second, DbError::Conflict(ref m) if m.contains("right now")),
            "{second:?}"
        );
        // It failed: released with why; a retry keeps the first key (and so knows it is a retry).
        repo.record_fulfilment_account(id, 4242).await.expect("account");
        repo.release_fulfilment(id, "GitLab did not answer")
            .await
            .expect("released");
        let stored = repo.request(id).await.expect("read").expect("exists");
        assert_eq!(stored.fulfilment.error.as_deref(), Some("GitLab did not answer"));
        assert_eq!(stored.account_gitlab_id, Some(4242));
        let retry = repo.hold_fulfilment(id, "key-3", now, until).await.expect("held again");
        assert_eq!(retry.key.as_deref(), Some("key-1"), "{}", db.name);
        // Before the account is made, no token can be.
        let early = repo.hold_first_token(id, now, until).await.expect_err("not fulfilled");
        assert!(
            matches!(early, DbError::Conflict(ref m) if m.contains("not made through the API")),
            "{early:?}"
        );
        let step = |action, next_state, by: &Person, account| RequestStep {
            request_id: id,
            expected_version: 1,
            action,
            next_state,
            by: by.clone(),
            body: None,
            note: None,
            notify: Vec::new(),
            account_gitlab_id: account,
        };
        repo.record_step(
            &step(RequestAction::Fulfil, RequestState::Fulfilled, &sam, Some(4242)),
            at("2026-12-02T10:01:00Z"),
        )
        .await
        .expect("fulfilled");
        let stored = repo.request(id).await.expect("read").expect("exists");
        assert_eq!(
            (stored.state, stored.fulfilment.error, stored.fulfilment.busy_until),
            (RequestState::Fulfilled, None, None)
        );
        // Fulfilled: nobody holds it for a fulfilment any more.
        let after = repo
            .hold_fulfilment(id, "key-4", now, until)
            .await
            .expect_err("fulfilled");
        assert!(
            matches!(after, DbError::Conflict(ref m) if m.contains("not waiting")),
            "{after:?}"
        );

        // The first token: held once, recorded once.
        assert_eq!(repo.hold_first_token(id, now, until).await.expect("held"), 4242);
        let twice = repo.hold_first_token(id, now, until).await.expect_err("held already");
        assert!(
            matches!(twice, DbError::Conflict(ref m) if m.contains("right now")),
            "{twice:?}"
        );
        repo.record_first_token(
            &step(RequestAction::MakeToken, RequestState::Fulfilled, &paula, None),
            777,
            at("2026-12-02T10:03:00Z"),
        )
        .await
        .expect("recorded");
        let made = repo
            .hold_first_token(id, at("2026-12-02T11:00:00Z"), at("2026-12-02T11:02:00Z"))
            .await
            .expect_err("made");
        assert!(
            matches!(made, DbError::Conflict(ref m) if m.contains("made already")),
            "{made:?}"
        );
        let stored = repo.request(id).await.expect("read").expect("exists");
        assert_eq!(stored.fulfilment.token_gitlab_id, Some(777));
        assert_eq!(
            stored.events.last().map(|event| event.action),
            Some(RequestAction::MakeToken)
        );
    }
}

/// A person's unread notices, as a request reads them with the rest of the viewer.
async fn unread(repo: &Repo, user_id: i64) -> u64 {
    repo.viewer(user_id)
        .await
        .expect("viewer")
        .expect("a person")
        .unread_notices
}
