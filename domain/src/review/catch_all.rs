//! The guidelines' single-bot lesson: a service account whose tokens serve several automations or
//! several teams is the old `@gitlab-bot`, and each of its tokens gets a plan to move it to a
//! token of its own, chosen by the wizard's own logic from what the token is used for.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};

use super::{Finding, FindingRule, ReviewPolicy, Severity, Subject};
use crate::wizard::{Needs, PURPOSE_MAX_CHARS, Reach, choose_kind};
use crate::{ContainerKind, Scope, ServiceAccount, TokenStatus, TokenSummary};

/// How many automations make an account a catch-all: a team's account for two jobs of one
/// automation (triage ops' scheduled and reactive runs) is what the guidelines ask for.
pub const CATCH_ALL_AUTOMATIONS: usize = 3;

/// The catch-all finding about a service account, if its live tokens serve
/// [`CATCH_ALL_AUTOMATIONS`] automations or more (by the purpose people recorded, or else by name:
/// a rotated token keeps its name) or two owner teams or more.
pub(super) fn catch_all(account: &ServiceAccount, policy: &ReviewPolicy, today: NaiveDate) -> Option<Finding> {
    let live: Vec<&TokenSummary> = account
        .tokens
        .iter()
        .filter(|token| token.status(today) == TokenStatus::Active)
        .collect();
    let automations: BTreeSet<String> = live.iter().map(|token| automation(token)).collect();
    let teams: BTreeSet<&str> = live
        .iter()
        .filter_map(|token| token.owner_team.as_ref().map(|team| team.name.as_str()))
        .collect();
    if automations.len() < CATCH_ALL_AUTOMATIONS && teams.len() < 2 {
        return None;
    }
    let serves = if teams.len() >= 2 {
        format!(
            "{} automations of {} teams ({})",
            automations.len(),
            teams.len(),
            teams.into_iter().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!("{} automations", automations.len())
    };
    let (reach, path) = reach(account);
    let names: Vec<&str> = live.iter().map(|token| token.name.as_str()).collect();
    let shared = shared_words(&names);
    let plan: Vec<String> = live
        .iter()
        .map(|token| format!("• {}", migration(account, token, (reach, path), shared, policy)))
        .collect();
    let assumed = if path.is_none() {
        " GitLab does not say where a token is used: this plan assumes each works in one project; one that \
         works across groups needs a service account of its team."
    } else {
        ""
    };
    Some(Finding {
        rule: FindingRule::CatchAllAccount,
        severity: Severity::Medium,
        subject: Subject::Account(account.gitlab_id),
        due_on: today + Days::new(Severity::Medium.days_to_fix().unsigned_abs()),
        detail: format!(
            "The service account {} has {} live tokens serving {serves}: one leak means rotating them all, \
             and whoever holds its credentials can make more.",
            account.username,
            live.len()
        ),
        fix: format!(
            "Give each automation a token of its own, then revoke the account's tokens one by one.{assumed}\n{}",
            plan.join("\n")
        ),
    })
}

/// What a token serves: its purpose as people recorded it, or else its name.
fn automation(token: &TokenSummary) -> String {
    token
        .purpose
        .as_deref()
        .map(str::trim)
        .filter(|purpose| !purpose.is_empty())
        .unwrap_or(&token.name)
        .to_lowercase()
}

/// One token's way out, in a sentence: the kind the wizard chooses for what its scopes reach
/// (where the account's memberships tell), with the scopes, role and name it would give. A
/// service account never comes out (the reach is at most one group, and Maintainer-level actions
/// are not assumed): the plan's first sentence says when one is needed.
fn migration(
    account: &ServiceAccount,
    token: &TokenSummary,
    (reach, path): (Reach, Option<&str>),
    shared: &str,
    policy: &ReviewPolicy,
) -> String {
    // Maintainer-level actions and confidential issues are not assumed (least privilege: the
    // owner adds them if needed).
    let needs = Needs::from_scopes(token.scopes.iter().map(String::as_str), reach, false, false, false);
    let kind = choose_kind(&needs);
    let team = token
        .owner_team
        .as_ref()
        .or(account.owner.as_ref().map(|owner| &owner.team))
        .map(|team| team.name.as_str());
    let purpose = purpose(shared, token);
    let name = policy.token.naming.render(team, &purpose, path.map(last_segment));
    let scopes: Vec<&str> = kind.scopes(&needs).into_iter().map(Scope::as_str).collect();
    let role = kind
        .role(&needs)
        .map_or(String::new(), |role| format!(", {}", role.label()));
    let place = path.map_or(String::new(), |path| format!(" on {path}"));
    format!(
        "{}: a {}{place} with {}{role}, named {name}.",
        token.name,
        kind.label(),
        scopes.join(", ")
    )
}

/// Where the account's tokens work, as its memberships tell: that project or group when it is a
/// member of only one; else one project is assumed (and no path given).
fn reach(account: &ServiceAccount) -> (Reach, Option<&str>) {
    match account.memberships.as_slice() {
        [only] if only.source_kind == ContainerKind::Project => (Reach::OneProject, Some(&only.source_path)),
        [only] => (Reach::OneGroup, Some(&only.source_path)),
        _ => (Reach::OneProject, None),
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The new token's purpose, for its name: the purpose people recorded, or the token's name
/// without the words every live token of the account starts with (`gitlab-bot-triage` beside
/// `gitlab-bot-release` → `triage`), or its whole name when nothing is left.
fn purpose(shared: &str, token: &TokenSummary) -> String {
    if let Some(purpose) = token.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        return purpose.chars().take(PURPOSE_MAX_CHARS).collect();
    }
    let rest = token
        .name
        .strip_prefix(shared)
        .map(|rest| rest.trim_start_matches(['-', '_']))
        .filter(|rest| !shared.is_empty() && !rest.is_empty())
        .unwrap_or(&token.name);
    rest.chars().take(PURPOSE_MAX_CHARS).collect()
}

/// The leading words (split at `-` and `_`) all the names share, with their separators.
fn shared_words<'a>(names: &[&'a str]) -> &'a str {
    let Some(first) = names.first() else {
        return "";
    };
    let mut end = 0;
    for (at, _) in first.match_indices(['-', '_']).chain([(first.len(), "")]) {
        let words = &first[..at];
        if names.iter().all(|name| {
            name.strip_prefix(words)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_']))
        }) {
            end = at;
        } else {
            break;
        }
    }
    &first[..end]
}
