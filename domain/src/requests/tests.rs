//! Every step and every refusal of the workflow, and the form's checks at their edges.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::*;
use crate::{AccessLevel, ContainerKind, NamingConvention, RecommendedKind, Role, TeamMembership, TeamRef, Viewer};

const PLATFORM: i64 = 1;
const DELIVERY: i64 = 2;

fn person(id: i64, roles: &[Role], teams: &[(i64, bool)]) -> Viewer {
    Viewer {
        id,
        gitlab_id: id,
        username: format!("user{id}"),
        name: format!("User {id}"),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        teams: teams
            .iter()
            .map(|(team_id, is_lead)| TeamMembership {
                team_id: *team_id,
                team_name: format!("team {team_id}"),
                is_lead: *is_lead,
            })
            .collect(),
        unread_notices: 0,
        read_only: false,
        api_key_id: None,
    }
}

/// Paula (1) of Platform asks; Pat (2) leads Platform; Dana (3) leads Delivery; Sam (4) and
/// Sasha (5) are security.
fn paula() -> Viewer {
    person(1, &[Role::Engineer], &[(PLATFORM, false)])
}
fn pat() -> Viewer {
    person(2, &[Role::TeamLead], &[(PLATFORM, true)])
}
fn dana() -> Viewer {
    person(3, &[Role::TeamLead], &[(DELIVERY, true)])
}
fn sam() -> Viewer {
    person(4, &[Role::Security], &[])
}
fn sasha() -> Viewer {
    person(5, &[Role::Security], &[])
}

/// A case: who, the state, who endorsed it, the step, and what it leads to (or a refusal's words).
type Step<T> = (fn() -> Viewer, RequestState, Option<i64>, RequestAction, T);

fn facts(state: RequestState, endorsed_by: Option<i64>) -> RequestFacts {
    RequestFacts {
        state,
        requester: 1,
        owner_team: PLATFORM,
        endorsed_by,
    }
}

#[test]
fn the_whole_path_and_each_step_by_whom() {
    use RequestAction::*;
    use RequestState::*;
    // (who, state, endorsed by, action, the state it leads to)
    let allowed: &[Step<RequestState>] = &[
        (paula, Draft, None, SaveDraft, Draft),
        (paula, Draft, None, Submit, Submitted),
        (paula, Draft, None, Withdraw, Withdrawn),
        (paula, Submitted, None, Amend, Submitted),
        (paula, Submitted, None, Withdraw, Withdrawn),
        (pat, Submitted, None, Endorse, Endorsed),
        (sam, Submitted, None, Endorse, Endorsed),
        (paula, Endorsed, Some(2), Amend, Submitted),
        (paula, Endorsed, Some(2), Withdraw, Withdrawn),
        (sam, Endorsed, Some(2), Approve, Approved),
        (sam, Submitted, None, Reject, Rejected),
        (sam, Endorsed, Some(2), Reject, Rejected),
        (sam, Approved, Some(2), Fulfil, Fulfilled),
        (paula, Fulfilled, Some(2), MakeToken, Fulfilled),
        (sasha, Endorsed, Some(4), Approve, Approved),
    ];
    for (who, state, endorsed_by, action, next) in allowed {
        let viewer = who();
        assert_eq!(
            may_act(&viewer, &facts(*state, *endorsed_by), *action),
            Ok(*next),
            "{} {action} on {state}",
            viewer.username
        );
    }
}

#[test]
fn every_refusal_says_why() {
    use RequestAction::*;
    use RequestState::*;
    let refused: &[Step<&str>] = &[
        (pat, Draft, None, Submit, "only its requester"),
        (sam, Submitted, None, Amend, "only its requester"),
        (sam, Submitted, None, Withdraw, "only its requester"),
        (
            dana,
            Submitted,
            None,
            Endorse,
            "only a lead of the request's owner team",
        ),
        (paula, Submitted, None, Endorse, "nobody endorses their own request"),
        (pat, Endorsed, Some(2), Approve, "only security approves"),
        (pat, Submitted, None, Reject, "only security rejects"),
        (paula, Approved, Some(2), Fulfil, "only security marks fulfilled"),
        (
            sam,
            Fulfilled,
            Some(2),
            MakeToken,
            "only its requester makes the first token",
        ),
        (
            pat,
            Fulfilled,
            Some(2),
            MakeToken,
            "only its requester makes the first token",
        ),
        (
            paula,
            Approved,
            Some(2),
            MakeToken,
            "to be created cannot be given its first token",
        ),
        (
            sam,
            Endorsed,
            Some(4),
            Approve,
            "who endorsed a request does not also approve it",
        ),
        // Out of order, or after a decision.
        (
            sam,
            Submitted,
            None,
            Approve,
            "waiting for the team lead cannot be approved",
        ),
        (
            paula,
            Approved,
            Some(2),
            Amend,
            "approved, to be created cannot be amended",
        ),
        (paula, Rejected, Some(2), Withdraw, "rejected cannot be withdrawn"),
        (paula, Fulfilled, Some(2), Amend, "cannot be amended"),
        (sam, Fulfilled, Some(2), Fulfil, "created cannot be marked fulfilled"),
        (pat, Draft, None, Endorse, "draft cannot be endorsed"),
        (paula, Submitted, None, SaveDraft, "cannot be saved as a draft"),
        (sam, Withdrawn, None, Reject, "withdrawn cannot be rejected"),
    ];
    for (who, state, endorsed_by, action, says) in refused {
        let viewer = who();
        let refusal = may_act(&viewer, &facts(*state, *endorsed_by), *action).expect_err("refused");
        assert!(
            refusal.message().contains(says),
            "{} {action} on {state}: {refusal}",
            viewer.username
        );
    }
    // Security asking for their own account is still asked for by a person: nobody decides on
    // their own request.
    let own = RequestFacts {
        requester: 4,
        ..facts(RequestState::Endorsed, Some(2))
    };
    assert!(
        may_act(&sam(), &own, Approve)
            .expect_err("own")
            .message()
            .contains("their own request")
    );
    // A read-only key does nothing, whoever holds it.
    let mut key = sam();
    key.read_only = true;
    assert!(may_act(&key, &facts(Endorsed, Some(2)), Approve).is_err());
}

#[test]
fn who_sees_a_request() {
    let submitted = facts(RequestState::Submitted, None);
    assert!(may_see(&paula(), &submitted));
    assert!(may_see(&pat(), &submitted));
    assert!(may_see(&sam(), &submitted));
    assert!(!may_see(&dana(), &submitted), "another team's");
    // A draft is its requester's only.
    let draft = facts(RequestState::Draft, None);
    assert!(may_see(&paula(), &draft));
    assert!(!may_see(&pat(), &draft));
    assert!(!may_see(&sam(), &draft));
}

fn teams() -> Vec<TeamRef> {
    vec![
        TeamRef {
            id: PLATFORM,
            name: "Platform".to_owned(),
        },
        TeamRef {
            id: DELIVERY,
            name: "Delivery".to_owned(),
        },
    ]
}

fn containers() -> Vec<(String, ContainerKind)> {
    vec![
        ("acme".to_owned(), ContainerKind::Group),
        ("acme/platform".to_owned(), ContainerKind::Group),
        ("acme/platform/api".to_owned(), ContainerKind::Group),
        ("acme/platform/api/gateway".to_owned(), ContainerKind::Project),
        ("acme/platform/web/storefront".to_owned(), ContainerKind::Project),
        ("acme/delivery/runner".to_owned(), ContainerKind::Project),
        ("tools/mirror".to_owned(), ContainerKind::Project),
    ]
}

fn complete_form() -> RequestForm {
    RequestForm {
        account_name: "platform-release-bot".to_owned(),
        owner_team: PLATFORM.to_string(),
        purpose: "posts release notes with restricted quick actions".to_owned(),
        automation: "the release pipeline".to_owned(),
        runs_on: "acme/platform/release-tools CI".to_owned(),
        memberships: "acme/platform/api/gateway maintainer\nacme/platform/web/storefront maintainer\n".to_owned(),
        scopes: vec!["api".to_owned()],
        confidential_issues: String::new(),
        why_not_token: "it needs Maintainer in projects of two groups".to_owned(),
        lifetime_days: "90".to_owned(),
        secret_location: "vault: platform/release-bot".to_owned(),
    }
}

fn check(form: &RequestForm, complete: bool) -> Result<ValidRequest, Vec<(String, String)>> {
    let naming = NamingConvention::default();
    let teams = teams();
    let containers = containers();
    let taken = vec!["platform-old-bot".to_owned()];
    let context = RequestContext {
        teams: &teams,
        requester_teams: &[PLATFORM],
        taken_names: &taken,
        naming: &naming,
        max_lifetime_days: 365,
        containers: &containers,
    };
    form.validate(&context, complete)
        .map_err(|errors| errors.into_iter().map(|e| (e.field, e.message)).collect())
}

#[test]
fn a_complete_request_is_checked_whole() {
    let valid = check(&complete_form(), true).expect("valid");
    assert_eq!(valid.owner_team.as_ref().map(|team| team.id), Some(PLATFORM));
    assert_eq!(valid.memberships.len(), 2);
    assert_eq!(valid.memberships[0].kind, ContainerKind::Project);
    assert_eq!(valid.memberships[0].role, AccessLevel::Maintainer);
    assert_eq!(valid.lifetime_days, Some(90));
    // Maintainer in projects of one group's tree: a group access token cannot do Maintainer
    // actions at group level, so a service account it is.
    assert_eq!(valid.narrower_kind(30), None);
    // The form again, from what was checked.
    assert_eq!(check(&valid.to_form(), true), Ok(valid));
}

#[test]
fn each_field_at_its_edges() {
    type Case = (&'static str, fn(&mut RequestForm), &'static str, &'static str);
    let cases: &[Case] = &[
        ("no name", |f| f.account_name.clear(), "account_name", "required"),
        (
            "a name off the convention",
            |f| f.account_name = "Release Bot".to_owned(),
            "account_name",
            "naming convention",
        ),
        (
            "another team's name",
            |f| f.account_name = "delivery-release-bot".to_owned(),
            "account_name",
            "naming convention",
        ),
        (
            "a taken name",
            |f| f.account_name = "Platform-Old-Bot".to_owned(),
            "account_name",
            "naming convention",
        ),
        (
            "a taken name, in lower case",
            |f| f.account_name = "platform-old-bot".to_owned(),
            "account_name",
            "is taken",
        ),
        (
            "no team",
            |f| f.owner_team.clear(),
            "owner_team",
            "owned by a specific team",
        ),
        (
            "a team they are not in",
            |f| f.owner_team = DELIVERY.to_string(),
            "owner_team",
            "you are not in Delivery",
        ),
        (
            "no such team",
            |f| f.owner_team = "99".to_owned(),
            "owner_team",
            "no such team",
        ),
        (
            "no membership",
            |f| f.memberships = "\n  \n".to_owned(),
            "memberships",
            "required",
        ),
        (
            "a membership without a role",
            |f| f.memberships = "acme/platform".to_owned(),
            "memberships",
            "line 1: a path and a role",
        ),
        (
            "an unknown role",
            |f| f.memberships = "acme/platform boss".to_owned(),
            "memberships",
            "\"boss\" is not a role",
        ),
        (
            "Owner",
            |f| f.memberships = "acme/platform owner".to_owned(),
            "memberships",
            "Maintainer at most",
        ),
        (
            "a path twice",
            |f| f.memberships = "acme/platform developer\nacme/platform reporter".to_owned(),
            "memberships",
            "line 2: acme/platform is listed twice",
        ),
        (
            "an unknown path",
            |f| f.memberships = "acme/nowhere developer".to_owned(),
            "memberships",
            "no group or project the inventory knows",
        ),
        (
            "a URL",
            |f| f.memberships = "https://gitlab.com/acme developer".to_owned(),
            "memberships",
            "not the URL",
        ),
        ("no scope", |f| f.scopes.clear(), "scopes", "required"),
        (
            "sudo",
            |f| f.scopes = vec!["api".to_owned(), "sudo".to_owned()],
            "scopes",
            "sudo is not given",
        ),
        (
            "a word that is no scope",
            |f| f.scopes = vec!["everything".to_owned()],
            "scopes",
            "is not a scope",
        ),
        (
            "no reason",
            |f| f.why_not_token = "  ".to_owned(),
            "why_not_token",
            "required",
        ),
        ("no lifetime", |f| f.lifetime_days.clear(), "lifetime_days", "required"),
        (
            "0 days",
            |f| f.lifetime_days = "0".to_owned(),
            "lifetime_days",
            "from 1 to 365",
        ),
        (
            "366 days",
            |f| f.lifetime_days = "366".to_owned(),
            "lifetime_days",
            "from 1 to 365",
        ),
        (
            "a secret for a place",
            |f| f.secret_location = "glpat-abcdefghijklmnopqrst".to_owned(),
            "secret_location",
            "never paste secrets",
        ),
        ("too long", |f| f.purpose = "x".repeat(1001), "purpose", "at most 1000"),
    ];
    for (case, change, field, says) in cases {
        let mut form = complete_form();
        change(&mut form);
        let errors = check(&form, true).expect_err(case);
        assert!(
            errors.iter().any(|(f, message)| f == field && message.contains(says)),
            "{case}: {errors:?}"
        );
    }
    // 365 days is the edge, inside.
    let mut form = complete_form();
    form.lifetime_days = "365".to_owned();
    assert!(check(&form, true).is_ok());
}

#[test]
fn a_draft_may_be_partly_filled_in_but_not_wrong() {
    let draft = RequestForm {
        account_name: "platform-release-bot".to_owned(),
        owner_team: PLATFORM.to_string(),
        ..RequestForm::default()
    };
    let valid = check(&draft, false).expect("a draft");
    assert!(valid.memberships.is_empty() && valid.lifetime_days.is_none());
    assert!(check(&draft, true).is_err(), "not complete enough to send");
    let wrong = RequestForm {
        lifetime_days: "forever".to_owned(),
        ..draft
    };
    assert!(check(&wrong, false).is_err(), "what is there is checked");
}

#[test]
fn the_wizard_says_when_a_narrower_kind_would_do() {
    // (memberships, scopes, confidential issues, the kind the wizard recommends instead)
    let cases: &[(&str, &[&str], bool, Option<RecommendedKind>)] = &[
        (
            "acme/platform/api/gateway developer",
            &["api"],
            false,
            Some(RecommendedKind::ProjectAccessToken),
        ),
        (
            "acme/platform/api/gateway reporter",
            &["read_repository"],
            false,
            Some(RecommendedKind::ProjectDeployToken),
        ),
        (
            "acme/platform developer",
            &["read_api"],
            false,
            Some(RecommendedKind::GroupAccessToken),
        ),
        // Two projects in one group's tree: that group's access token.
        (
            "acme/platform/api/gateway developer\nacme/platform/web/storefront developer",
            &["api"],
            false,
            Some(RecommendedKind::GroupAccessToken),
        ),
        // Confidential issues: no access token will do.
        ("acme/platform/api/gateway reporter", &["read_api"], true, None),
        // Two teams' projects still share `acme`: its group access token.
        (
            "acme/platform/api/gateway developer\nacme/delivery/runner developer",
            &["api"],
            false,
            Some(RecommendedKind::GroupAccessToken),
        ),
        // Two top-level groups: nothing narrower than a service account.
        (
            "acme/platform/api/gateway developer\ntools/mirror developer",
            &["api"],
            false,
            None,
        ),
    ];
    for (memberships, scopes, confidential, expected) in cases {
        let mut form = complete_form();
        form.memberships = (*memberships).to_owned();
        form.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        form.confidential_issues = if *confidential { "yes".to_owned() } else { String::new() };
        let valid = check(&form, true).expect("valid");
        assert_eq!(
            valid.narrower_kind(30).map(|(kind, _)| kind),
            *expected,
            "{memberships} {scopes:?}"
        );
    }
}

#[test]
fn the_form_fills_in_from_the_wizards_answer() {
    let answers = crate::WizardAnswers {
        api: crate::Usage::Writes,
        reach: Some(crate::Reach::SeveralGroups),
        maintainer_actions: Some(crate::YesNo::Yes),
        confidential_issues: Some(crate::YesNo::No),
        temporary: Some(crate::YesNo::No),
        path: "acme".to_owned(),
        owner_team: "platform".to_owned(),
        purpose: "release notes".to_owned(),
        ..crate::WizardAnswers::default()
    };
    let today: NaiveDate = "2026-12-02".parse().expect("a date");
    let recommendation =
        crate::recommend_token_kind(&answers, &crate::WizardPolicy::default(), today).expect("a recommendation");
    let crate::NextStep::RequestServiceAccount(request) = recommendation.next_step else {
        panic!("a service account");
    };
    let form = RequestForm::from_wizard(&request, &teams(), today);
    assert_eq!(form.owner_team, PLATFORM.to_string());
    assert_eq!(form.account_name, request.account_name);
    assert_eq!(form.scopes, ["api"]);
    assert_eq!(form.lifetime_days, "90");
    assert_eq!(
        form.memberships, "acme maintainer",
        "the placeholder for the other groups is left out"
    );
}

#[test]
fn a_step_out_of_order_is_told_apart_from_one_not_allowed() {
    let approved = facts(RequestState::Approved, Some(2));
    assert!(matches!(
        may_act(&sam(), &approved, RequestAction::Approve),
        Err(Refused::OutOfOrder(_))
    ));
    let endorsed = facts(RequestState::Endorsed, Some(2));
    assert!(matches!(
        may_act(&pat(), &endorsed, RequestAction::Approve),
        Err(Refused::NotAllowed(_))
    ));
}
