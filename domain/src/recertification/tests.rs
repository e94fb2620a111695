use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::*;
use crate::{Role, TeamMembership};

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn team(id: i64, name: &str) -> TeamRef {
    TeamRef {
        id,
        name: name.to_owned(),
    }
}

fn candidate(subject: Subject, kind: ItemKind, team_id: Option<i64>) -> Candidate {
    Candidate {
        subject,
        kind,
        name: format!("{kind}-{subject:?}"),
        path: "acme/platform".to_owned(),
        team: team_id.map(|id| team(id, if id == 1 { "Platform" } else { "Delivery" })),
        purpose: None,
    }
}

fn viewer(roles: &[Role], teams: &[(i64, bool)]) -> Viewer {
    Viewer {
        id: 1,
        gitlab_id: 1,
        username: "someone".to_owned(),
        name: "Someone".to_owned(),
        roles: roles.iter().copied().chain([Role::Engineer]).collect::<BTreeSet<_>>(),
        teams: teams
            .iter()
            .map(|(id, lead)| TeamMembership {
                team_id: *id,
                team_name: format!("team {id}"),
                is_lead: *lead,
            })
            .collect(),
        unread_notices: 0,
        read_only: false,
        api_key_id: None,
    }
}

#[test]
fn a_scope_selects_the_live_items_with_an_owner_team() {
    let candidates = vec![
        candidate(Subject::Token(1), ItemKind::ProjectAccess, Some(1)),
        candidate(Subject::Token(2), ItemKind::Deploy, Some(2)),
        candidate(Subject::Token(3), ItemKind::Deploy, None),
        candidate(Subject::Account(90), ItemKind::ServiceAccount, Some(1)),
        candidate(Subject::Account(91), ItemKind::ServiceAccount, None),
    ];
    let subjects = |scope| {
        let (items, left_out) = select_items(scope, candidates.clone());
        (items.into_iter().map(|item| item.subject).collect::<Vec<_>>(), left_out)
    };
    assert_eq!(
        subjects(CampaignScope::All),
        (vec![Subject::Token(1), Subject::Token(2), Subject::Account(90)], 2)
    );
    assert_eq!(
        subjects(CampaignScope::Team(1)),
        (vec![Subject::Token(1), Subject::Account(90)], 0)
    );
    assert_eq!(
        subjects(CampaignScope::Kind(ItemKind::Deploy)),
        (vec![Subject::Token(2)], 1)
    );
    assert_eq!(
        subjects(CampaignScope::Kind(ItemKind::ServiceAccount)),
        (vec![Subject::Account(90)], 1)
    );
    assert_eq!(subjects(CampaignScope::Team(7)), (vec![], 0));
    for scope in [
        CampaignScope::All,
        CampaignScope::Team(4),
        CampaignScope::Kind(ItemKind::GroupAccess),
    ] {
        let (name, team, kind) = scope.parts();
        assert_eq!(
            CampaignScope::from_parts(name, team, kind.map(ItemKind::as_str)),
            Some(scope)
        );
    }
    assert_eq!(CampaignScope::from_parts("team", None, None), None);
    assert_eq!(CampaignScope::from_parts("kind", None, Some("bogus")), None);
    let teams = [team(1, "Platform")];
    assert_eq!(
        CampaignScope::Team(1).describe(&teams),
        "Platform's tokens and service accounts"
    );
    assert_eq!(
        CampaignScope::Kind(ItemKind::Deploy).describe(&teams),
        "every team's deploy tokens"
    );
}

#[test]
fn the_opening_form_needs_a_known_scope_and_a_due_date_ahead() {
    let teams = [team(1, "Platform")];
    let today = day("2026-12-07");
    let form = |scope: &str, team: &str, kind: &str, due_on: &str| CampaignForm {
        scope: scope.to_owned(),
        team: team.to_owned(),
        kind: kind.to_owned(),
        due_on: due_on.to_owned(),
    };
    assert_eq!(
        form("team", "1", "", "2026-12-31").validate(&teams, today),
        Ok(ValidCampaign {
            scope: CampaignScope::Team(1),
            due_on: day("2026-12-31")
        })
    );
    assert_eq!(
        form("kind", "", "service_account", "2026-12-08")
            .validate(&teams, today)
            .map(|c| c.scope),
        Ok(CampaignScope::Kind(ItemKind::ServiceAccount))
    );
    let fields = |form: CampaignForm| {
        form.validate(&teams, today)
            .expect_err("refused")
            .into_iter()
            .map(|error| error.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(form("team", "2", "", "2026-12-31")), ["team"]);
    assert_eq!(fields(form("kind", "", "ssh_key", "2026-12-31")), ["kind"]);
    assert_eq!(fields(form("everything", "", "", "2026-12-31")), ["scope"]);
    assert_eq!(fields(form("all", "", "", "2026-12-07")), ["due_on"]);
    assert_eq!(fields(form("all", "", "", "2027-12-08")), ["due_on"]);
    assert_eq!(fields(form("all", "", "", "31/12/2026")), ["due_on"]);
    assert_eq!(fields(form("team", "x", "", "")), ["team", "due_on"]);
}

#[test]
fn an_answer_confirms_or_flags_with_a_reason() {
    assert_eq!(answer_from_form("confirm", "ignored"), Ok(Answer::Confirmed));
    assert_eq!(
        answer_from_form("flag", "  nobody uses it  "),
        Ok(Answer::Flagged {
            reason: "nobody uses it".to_owned()
        })
    );
    let refused = |action: &str, reason: &str| answer_from_form(action, reason).expect_err("refused");
    assert_eq!(refused("flag", " ").field, "reason");
    assert_eq!(refused("flag", &"x".repeat(REASON_MAX_CHARS + 1)).field, "reason");
    assert!(answer_from_form("flag", &"x".repeat(REASON_MAX_CHARS)).is_ok());
    assert!(refused("flag", "two\nlines").message.contains("control"));
    assert!(refused("flag", "glpat-abcdefghijklmnopqrst").message.contains("secret"));
    assert_eq!(refused("approve", "").field, "action");
    let flagged = Answer::Flagged {
        reason: "gone".to_owned(),
    };
    assert_eq!(
        Answer::from_parts(flagged.as_str(), Some("gone".to_owned())),
        Some(flagged)
    );
    assert_eq!(Answer::from_parts("flagged", None), None);
    assert_eq!(Answer::from_parts("confirmed", None), Some(Answer::Confirmed));
}

#[test]
fn only_the_items_teams_lead_answers_and_only_security_runs_campaigns() {
    let lead = viewer(&[Role::TeamLead], &[(1, true), (2, false)]);
    let security = viewer(&[Role::Security], &[]);
    let engineer = viewer(&[], &[(1, false)]);
    assert_eq!(may_answer(&lead, 1, false), Ok(()));
    assert!(matches!(may_answer(&lead, 2, false), Err(Refused::NotAllowed(_))));
    assert!(matches!(may_answer(&lead, 1, true), Err(Refused::Closed(_))));
    assert!(matches!(may_answer(&security, 1, false), Err(Refused::NotAllowed(_))));
    assert!(matches!(may_answer(&engineer, 1, false), Err(Refused::NotAllowed(_))));
    let read_only = Viewer {
        read_only: true,
        ..lead.clone()
    };
    assert!(matches!(may_answer(&read_only, 1, false), Err(Refused::NotAllowed(_))));

    assert_eq!(may_run(&security), Ok(()));
    assert!(may_run(&lead).is_err());
    assert!(
        may_run(&Viewer {
            read_only: true,
            ..security.clone()
        })
        .is_err()
    );
    assert!(may_see(&security) && may_see(&lead) && !may_see(&engineer));
    assert!(may_see_team(&lead, 1) && !may_see_team(&lead, 2) && may_see_team(&security, 2));
}

fn progress(team_id: i64, total: u64, answered: u64) -> TeamProgress {
    TeamProgress {
        team: team(team_id, if team_id == 1 { "Platform" } else { "Delivery" }),
        total,
        answered,
        flagged: 0,
    }
}

#[test]
fn progress_counts_per_team_and_is_overdue_after_the_due_date() {
    let due = day("2026-12-31");
    let half = progress(1, 12, 5);
    assert_eq!((half.unanswered(), half.percent(), half.done()), (7, 41, false));
    assert!(!half.overdue(due, false, due));
    assert!(half.overdue(due, false, day("2027-01-01")));
    assert!(!half.overdue(due, true, day("2027-01-01")), "a closed campaign is over");
    let done = progress(2, 3, 3);
    assert_eq!((done.percent(), done.done()), (100, true));
    assert!(!done.overdue(due, false, day("2027-01-01")));
    assert_eq!(progress(3, 0, 0).percent(), 100);
    let campaign = CampaignProgress {
        campaign_id: 1,
        scope: CampaignScope::All,
        opened_on: day("2026-12-07"),
        due_on: due,
        closed: false,
        teams: vec![half, done],
    };
    let overall = campaign.overall();
    assert_eq!((overall.total, overall.answered), (15, 8));
}

#[test]
fn reminders_go_at_opening_a_week_and_a_day_before_and_daily_when_overdue() {
    let campaign = CampaignProgress {
        campaign_id: 4,
        scope: CampaignScope::All,
        opened_on: day("2026-12-07"),
        due_on: day("2026-12-31"),
        closed: false,
        teams: vec![progress(1, 12, 5), progress(2, 3, 3)],
    };
    let on = |date: &str| reminders_due(std::slice::from_ref(&campaign), day(date));
    let opening = on("2026-12-07");
    assert_eq!(opening.len(), 1, "only the team with items left");
    assert_eq!(opening[0].team.name, "Platform");
    assert_eq!(opening[0].path, "/recertification/4/team/1");
    assert_eq!(
        opening[0].text,
        "Recertification #4 is opened today, due on 2026-12-31. Platform's tokens and service accounts: 5/12 \
         answered, 7 left. A lead confirms each that is still needed with the right owner and purpose, or flags it."
    );
    assert!(on("2026-12-08").is_empty());
    assert!(on("2026-12-23").is_empty());
    assert!(on("2026-12-24")[0].text.contains("due in 7 days (2026-12-31)"));
    assert!(on("2026-12-30")[0].text.contains("due tomorrow"));
    assert!(on("2026-12-31").is_empty());
    assert!(on("2027-01-01")[0].text.contains("overdue since 2026-12-31 (1 day)"));
    assert!(on("2027-01-05")[0].text.contains("(5 days)"));
    let closed = CampaignProgress {
        closed: true,
        ..campaign.clone()
    };
    assert!(reminders_due(&[closed], day("2027-01-01")).is_empty());
    let all_done = CampaignProgress {
        teams: vec![progress(1, 12, 12)],
        ..campaign.clone()
    };
    assert!(reminders_due(&[all_done], day("2027-01-01")).is_empty());
}
