use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};

use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

const TODAY: &str = "2026-12-07";

fn team(id: i64, name: &str) -> Option<TeamRef> {
    Some(TeamRef {
        id,
        name: name.to_owned(),
    })
}

fn token(id: i64, name: &str, team_: Option<TeamRef>, days_left: i64) -> AlertToken {
    let today = day(TODAY);
    let expires_on = if days_left >= 0 {
        today + Days::new(days_left.unsigned_abs())
    } else {
        today - Days::new(days_left.unsigned_abs())
    };
    AlertToken {
        id,
        name: name.to_owned(),
        kind: TokenKind::ProjectAccess,
        path: "acme/platform/api".to_owned(),
        team: team_,
        expires_on,
    }
}

fn finding(id: i64, team_: Option<TeamRef>, decision: Option<i64>) -> AlertFinding {
    AlertFinding {
        id,
        rule: FindingRule::AdminScope,
        severity: Severity::Critical,
        subject_name: format!("finding-{id}"),
        subject_path: "acme/platform/api".to_owned(),
        token_id: Some(100 + id),
        team: team_,
        decision_id: decision,
    }
}

const WINDOWS: [u32; 3] = [60, 30, 7];

fn digests(tokens: &[AlertToken], sent: &BTreeSet<NoticeKey>) -> Vec<Digest> {
    team_digests(&DigestInput {
        today: day(TODAY),
        windows: &WINDOWS,
        tokens,
        new_findings: &[],
        reopened: &[],
        sent,
        reminders: &[],
    })
}

#[test]
fn a_token_enters_the_smallest_window_it_is_in_and_every_window_it_passed_is_recorded() {
    let platform = team(1, "Platform");
    let tokens = [
        token(1, "far", platform.clone(), 61),
        token(2, "sixty", platform.clone(), 60),
        token(3, "month", platform.clone(), 25),
        token(4, "week", platform.clone(), 7),
        token(5, "tomorrow", platform.clone(), 1),
    ];
    let found = digests(&tokens, &BTreeSet::new());
    assert_eq!(found.len(), 1);
    let digest = &found[0];
    assert_eq!(
        digest.audience,
        Audience::Team(TeamRef {
            id: 1,
            name: "Platform".to_owned()
        })
    );
    let listed: Vec<(&str, u32, i64)> = digest
        .entering
        .iter()
        .map(|e| (e.token.name.as_str(), e.window, e.days_left))
        .collect();
    assert_eq!(
        listed,
        [("tomorrow", 7, 1), ("week", 7, 7), ("month", 30, 25), ("sixty", 60, 60)]
    );
    // A token first seen inside the 7-day window is told once, and never again for 30 or 60.
    for days in [60, 30, 7] {
        assert!(digest.notices.contains(&NoticeKey::Window { token: 5, days }));
    }
    assert!(
        !digest
            .notices
            .iter()
            .any(|key| matches!(key, NoticeKey::Window { token: 1, .. }))
    );
    assert!(digest.expired.is_empty());
}

#[test]
fn each_notice_is_given_once_per_token_and_window() {
    let platform = team(1, "Platform");
    let tokens = [token(3, "month", platform.clone(), 25)];
    let first = digests(&tokens, &BTreeSet::new());
    let sent: BTreeSet<NoticeKey> = first[0].notices.iter().copied().collect();
    assert_eq!(
        sent,
        BTreeSet::from([
            NoticeKey::Window { token: 3, days: 30 },
            NoticeKey::Window { token: 3, days: 60 }
        ])
    );
    // The next day: nothing new, so no digest at all.
    assert!(digests(&tokens, &sent).is_empty());
    // Three weeks on it enters the 7-day window: told again, for that window alone.
    let later = [token(3, "month", platform, 6)];
    let again = digests(&later, &sent);
    assert_eq!(again[0].entering[0].window, 7);
    assert_eq!(again[0].notices, [NoticeKey::Window { token: 3, days: 7 }]);
}

#[test]
fn expired_tokens_are_told_once_and_only_while_recent() {
    let data = team(2, "Data");
    let tokens = [
        token(1, "today", data.clone(), 0),
        token(2, "last-week", data.clone(), -6),
        token(3, "long-ago", data.clone(), -30),
    ];
    let found = digests(&tokens, &BTreeSet::new());
    let names: Vec<&str> = found[0].expired.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["last-week", "today"]);
    let sent: BTreeSet<NoticeKey> = found[0].notices.iter().copied().collect();
    assert!(digests(&tokens, &sent).is_empty());
}

#[test]
fn nothing_new_means_no_digest() {
    assert!(digests(&[], &BTreeSet::new()).is_empty());
    assert!(digests(&[token(1, "far", team(1, "Platform"), 200)], &BTreeSet::new()).is_empty());
    assert!(organisation_digest(&[], day(TODAY)).is_none());
}

#[test]
fn findings_and_reopened_decisions_go_to_their_team_and_reopened_ones_once() {
    let platform = team(1, "Platform");
    let data = team(2, "Data");
    let new_findings = [finding(1, platform.clone(), None)];
    let reopened = [finding(2, data.clone(), Some(9)), finding(3, None, Some(10))];
    let input = |sent| DigestInput {
        today: day(TODAY),
        windows: &WINDOWS,
        tokens: &[],
        new_findings: &new_findings,
        reopened: &reopened,
        sent,
        reminders: &[],
    };
    let nothing = BTreeSet::new();
    let found = team_digests(&input(&nothing));
    let audiences: Vec<String> = found.iter().map(|d| d.audience.key()).collect();
    assert_eq!(audiences, ["team:1", "team:2", "organisation"]);
    assert_eq!(found[0].new_findings.len(), 1);
    assert_eq!(found[1].reopened[0].decision_id, Some(9));
    let sent = BTreeSet::from([
        NoticeKey::Reopened { decision: 9 },
        NoticeKey::Reopened { decision: 10 },
    ]);
    let again = team_digests(&input(&sent));
    assert_eq!(again.len(), 1, "only the new finding remains: {again:?}");
}

#[test]
fn the_organisation_digest_holds_everything_counted_per_team() {
    let platform = team(1, "Platform");
    let tokens = [
        token(1, "platform-deploy", platform.clone(), 5),
        token(2, "nobodys-bot", None, 20),
        token(3, "platform-old", platform.clone(), -1),
    ];
    let found = digests(&tokens, &BTreeSet::new());
    let all = organisation_digest(&found, day(TODAY)).expect("something to say");
    assert_eq!(all.entering.len(), 2);
    assert_eq!(all.expired.len(), 1);
    let rendered = all.render("https://tokens.example.com");
    assert_eq!(rendered.subject, "Token digest for the organisation, 2026-12-07");
    assert!(
        rendered
            .text
            .contains("- No team: 1 entering a window, 0 expired, 0 new findings, 0 reopened"),
        "{}",
        rendered.text
    );
    assert!(
        rendered
            .text
            .contains("- Platform: 1 entering a window, 1 expired, 0 new findings, 0 reopened"),
        "{}",
        rendered.text
    );
    assert!(rendered.text.contains("nobodys-bot (Project access token, acme/platform/api) expires in 20 days, on 2026-12-27 (30-day notice), no owner team"), "{}", rendered.text);
}

#[test]
fn a_team_digest_renders_as_plain_text_with_links() {
    let platform = team(1, "Platform");
    let tokens = [
        token(4, "deploy <bot>", platform.clone(), 1),
        token(5, "gone-by", platform.clone(), 0),
    ];
    let findings = [finding(1, platform, None)];
    let found = team_digests(&DigestInput {
        today: day(TODAY),
        windows: &WINDOWS,
        tokens: &tokens,
        new_findings: &findings,
        reopened: &[],
        sent: &BTreeSet::new(),
        reminders: &[],
    });
    let rendered = found[0].render("https://tokens.example.com");
    assert_eq!(rendered.subject, "Token digest for Platform, 2026-12-07");
    let expected = "Token digest for Platform, 2026-12-07\n\
        \nEntering a notice window:\n\
        - deploy <bot> (Project access token, acme/platform/api) expires tomorrow, on 2026-12-08 (7-day notice)\n  \
        https://tokens.example.com/tokens/4\n\
        \nExpired:\n\
        - gone-by (Project access token, acme/platform/api) expired on 2026-12-07\n  \
        https://tokens.example.com/tokens/5\n\
        \nNew findings:\n\
        - [critical] Administrator scope: finding-1 (acme/platform/api)\n  \
        https://tokens.example.com/tokens/101\n\
        \nThe review: https://tokens.example.com/review\n";
    assert_eq!(rendered.text, expected);
}

#[test]
fn only_claimed_notices_stay_in_a_digest() {
    let platform = team(1, "Platform");
    let tokens = [token(1, "a", platform.clone(), 5), token(2, "b", platform, 0)];
    let mut found = digests(&tokens, &BTreeSet::new());
    let claimed = BTreeSet::from([NoticeKey::Expired { token: 2 }]);
    found[0].retain_claimed(&claimed);
    assert!(found[0].entering.is_empty());
    assert_eq!(found[0].expired.len(), 1);
    assert_eq!(found[0].notices, [NoticeKey::Expired { token: 2 }]);
}

#[test]
fn a_long_section_is_cut_with_a_link_to_the_rest() {
    let platform = team(1, "Platform");
    let tokens: Vec<AlertToken> = (1..=60)
        .map(|id| token(id, &format!("bot-{id:02}"), platform.clone(), 20))
        .collect();
    let found = digests(&tokens, &BTreeSet::new());
    assert_eq!(found[0].entering.len(), 60);
    assert_eq!(found[0].notices.len(), 120, "every notice is recorded, listed or not");
    let text = found[0].render("https://tokens.example.com").text;
    assert_eq!(text.matches("expires in 20 days").count(), LISTED_PER_SECTION);
    assert!(
        text.contains("- …and 10 more: https://tokens.example.com/?team=1&status=active&sort=expires\n"),
        "{text}"
    );
}

#[test]
fn a_recertification_reminder_goes_in_its_teams_digest_and_the_organisations() {
    use crate::recertification::{CampaignProgress, CampaignScope, TeamProgress, reminders_due};
    let platform = team(1, "Platform").expect("a team");
    let campaign = CampaignProgress {
        campaign_id: 4,
        scope: CampaignScope::All,
        opened_on: day(TODAY),
        due_on: day(TODAY) + chrono::Days::new(21),
        closed: false,
        teams: vec![TeamProgress {
            team: platform.clone(),
            total: 12,
            answered: 5,
            flagged: 1,
        }],
    };
    let reminders = reminders_due(std::slice::from_ref(&campaign), day(TODAY));
    let sent = BTreeSet::new();
    let input = DigestInput {
        today: day(TODAY),
        windows: &WINDOWS,
        tokens: &[],
        new_findings: &[],
        reopened: &[],
        sent: &sent,
        reminders: &reminders,
    };
    let found = team_digests(&input);
    // Nothing else to say: the reminder alone makes the digest.
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].audience, Audience::Team(platform));
    let text = found[0].render("https://tokens.example.com").text;
    assert!(
        text.contains("\nRecertification:\n- Recertification #4 is opened today"),
        "{text}"
    );
    assert!(
        text.contains("Platform's tokens and service accounts: 5/12 answered, 7 left"),
        "{text}"
    );
    assert!(
        text.contains("\n  https://tokens.example.com/recertification/4/team/1\n"),
        "{text}"
    );
    let organisation = organisation_digest(&found, day(TODAY)).expect("the organisation's");
    assert_eq!(organisation.reminders.len(), 1);
    // Without reminders (a day that is none of the reminder days), nothing.
    assert!(
        team_digests(&DigestInput {
            reminders: &[],
            ..input
        })
        .is_empty()
    );
}
