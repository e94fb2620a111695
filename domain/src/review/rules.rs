//! The rules, one function each: a token (or account) and the policy → the finding, if any.

use chrono::{Days, NaiveDate};

use super::{Finding, FindingRule, RecertFlag, ReviewPolicy, Severity, Subject, TokenUnderReview};
use crate::{AccessLevel, ServiceAccount, TokenKind, TokenStatus, TokenSummary};

/// Every finding about one token, most severe first. A revoked or gone token has none: there is
/// nothing left to fix.
pub fn token_findings(reviewed: &TokenUnderReview, policy: &ReviewPolicy, today: NaiveDate) -> Vec<Finding> {
    let token = &reviewed.token;
    let status = token.status(today);
    if matches!(status, TokenStatus::Revoked | TokenStatus::Gone) {
        return Vec::new();
    }
    let found = |rule, severity: Severity, detail: String, fix: String| Finding {
        rule,
        severity,
        subject: Subject::Token(token.id),
        due_on: today + Days::new(severity.days_to_fix().unsigned_abs()),
        detail,
        fix,
    };
    let mut findings: Vec<Finding> = [
        expiry(token, policy, today),
        usage(token, policy, today).into_iter().collect(),
        scopes(reviewed).into_iter().collect(),
        role(reviewed).into_iter().collect(),
        kind(token).into_iter().collect(),
        group_for_one_project(reviewed).into_iter().collect(),
        ownership(reviewed),
        naming(token, policy).into_iter().collect(),
    ]
    .into_iter()
    .flatten()
    .map(|(rule, severity, detail, fix)| found(rule, severity, detail, fix))
    .collect();
    findings.extend(
        reviewed
            .recert_flag
            .as_ref()
            .map(|flag| flagged_at_recertification(Subject::Token(token.id), flag, today)),
    );
    // An expiring token is due by its expiry date, not later.
    for finding in &mut findings {
        if finding.rule == FindingRule::Expiring
            && let Some(expires_on) = token.expires_on
        {
            finding.due_on = finding.due_on.min(expires_on);
        }
    }
    findings.sort_by_key(|finding| (finding.severity, finding.due_on, finding.rule));
    findings
}

/// A finding before it is dated: rule, severity, what was found, the fix.
type Found = (FindingRule, Severity, String, String);

fn expiry(token: &TokenSummary, policy: &ReviewPolicy, today: NaiveDate) -> Vec<Found> {
    let Some(expires_on) = token.expires_on else {
        return vec![(
            FindingRule::NoExpiry,
            Severity::High,
            "It never expires: a leaked copy works for ever.".to_owned(),
            format!(
                "Rotate it with an expiry date at most {} days away, and give the new one to its automation.",
                policy.max_lifetime_days()
            ),
        )];
    };
    let mut found = Vec::new();
    if let Some(created) = token.created_at.map(|at| at.date_naive()) {
        let lifetime = (expires_on - created).num_days();
        if lifetime > i64::from(policy.max_lifetime_days()) {
            found.push((
                FindingRule::LifetimeOverMaximum,
                Severity::Medium,
                format!(
                    "It lives {lifetime} days ({created} to {expires_on}), more than the {} allowed.",
                    policy.max_lifetime_days()
                ),
                format!(
                    "Rotate it with an expiry at most {} days away.",
                    policy.max_lifetime_days()
                ),
            ));
        }
    }
    let days_left = (expires_on - today).num_days();
    if days_left <= 0 {
        found.push((
            FindingRule::ExpiredNotRevoked,
            Severity::Low,
            format!("It expired on {expires_on} and was never revoked."),
            "Revoke it, so nobody takes it for a live token; if its automation still needs access, create its successor.".to_owned(),
        ));
    } else if let Some(window) = notice_window(&policy.notice_days, days_left) {
        let severity = match window {
            0..=7 => Severity::High,
            8..=30 => Severity::Medium,
            _ => Severity::Low,
        };
        let when = if days_left == 1 {
            "tomorrow".to_owned()
        } else {
            format!("in {days_left} days")
        };
        found.push((
            FindingRule::Expiring,
            severity,
            format!("It expires {when} ({expires_on}), within the {window}-day notice."),
            "Rotate it before then (or let it expire, if its automation is gone), and update where its secret is kept."
                .to_owned(),
        ));
    }
    found
}

/// The smallest notice window that holds `days_left`.
fn notice_window(windows: &[u32], days_left: i64) -> Option<u32> {
    windows
        .iter()
        .copied()
        .filter(|window| days_left <= i64::from(*window))
        .min()
}

fn usage(token: &TokenSummary, policy: &ReviewPolicy, today: NaiveDate) -> Option<Found> {
    // GitLab does not say when a deploy token was last used.
    if token.kind == TokenKind::Deploy || token.status(today) != TokenStatus::Active {
        return None;
    }
    let limit = i64::from(policy.unused_days);
    match (token.last_used_at, token.created_at) {
        (Some(used), _) => {
            let idle = (today - used.date_naive()).num_days();
            (idle >= limit).then(|| {
                (
                    FindingRule::Unused,
                    Severity::Medium,
                    format!("Last used {idle} days ago ({}).", used.date_naive()),
                    "Ask its owner whether its automation still runs; revoke it if not.".to_owned(),
                )
            })
        }
        (None, Some(created)) => {
            let age = (today - created.date_naive()).num_days();
            (age >= limit).then(|| {
                (
                    FindingRule::NeverUsed,
                    Severity::Medium,
                    format!("Never used, {age} days after it was created."),
                    "Revoke it: nothing uses it.".to_owned(),
                )
            })
        }
        (None, None) => None,
    }
}

/// The words a purpose that only reads is written with, and those that say it changes something.
const READING: [&str; 8] = ["read", "pull", "clone", "fetch", "download", "list", "report", "scan"];
const WRITING: [&str; 14] = [
    "write", "push", "publish", "upload", "release", "create", "post", "comment", "label", "merge", "update", "delete",
    "tag", "trigger",
];

/// Whether the purpose people recorded says the token only reads.
pub(super) fn purpose_only_reads(purpose: Option<&str>) -> bool {
    let Some(purpose) = purpose.map(str::to_lowercase) else {
        return false;
    };
    let words: Vec<&str> = purpose.split(|c: char| !c.is_alphanumeric()).collect();
    let says = |stems: &[&str]| words.iter().any(|word| stems.iter().any(|stem| word.starts_with(stem)));
    says(&READING) && !says(&WRITING)
}

/// What says the token only reads, if anything does: the purpose people recorded, else GitLab's
/// description, else its name (`registry-pull`).
fn reading_evidence(reviewed: &TokenUnderReview) -> Option<&'static str> {
    let token = &reviewed.token;
    match (&token.purpose, &reviewed.description) {
        (Some(purpose), _) if !purpose.trim().is_empty() => {
            purpose_only_reads(Some(purpose)).then_some("Its recorded purpose")
        }
        (_, Some(description)) if !description.trim().is_empty() => {
            purpose_only_reads(Some(description)).then_some("Its description in GitLab")
        }
        _ => purpose_only_reads(Some(&token.name)).then_some("Its name"),
    }
}

fn scopes(reviewed: &TokenUnderReview) -> Option<Found> {
    let token = &reviewed.token;
    let has = |scope: &str| token.scopes.iter().any(|s| s == scope);
    if has("sudo") || has("admin_mode") {
        return Some((
            FindingRule::AdminScope,
            Severity::Critical,
            format!(
                "It has {}: it may act as any user, or as an administrator.",
                token.scopes.join(", ")
            ),
            "Revoke it and create one without sudo and admin_mode: automation does not need them.".to_owned(),
        ));
    }
    let says = reading_evidence(reviewed)?;
    let writes: Vec<&str> = token
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|scope| scope.starts_with("write_"))
        .collect();
    if token.kind == TokenKind::Deploy && !writes.is_empty() {
        return Some((
            FindingRule::WriteScopeForReading,
            Severity::High,
            format!("{says} says it only reads, and it has {}.", writes.join(", ")),
            "Replace it with a deploy token with the read_ scopes only.".to_owned(),
        ));
    }
    (token.kind != TokenKind::Deploy && has("api")).then(|| {
        (
            FindingRule::ApiScopeForReading,
            Severity::Medium,
            format!("{says} says it only reads, and it has api, which also writes."),
            "Rotate it with read_api (or read_repository) instead of api.".to_owned(),
        )
    })
}

fn role(reviewed: &TokenUnderReview) -> Option<Found> {
    let token = &reviewed.token;
    let access_token = matches!(token.kind, TokenKind::ProjectAccess | TokenKind::GroupAccess);
    let high = matches!(token.access_level, Some(AccessLevel::Maintainer | AccessLevel::Owner));
    let reason = reviewed.notes.as_deref().is_some_and(|notes| !notes.trim().is_empty());
    (access_token && high && !reason).then(|| {
        let level = token.access_level.map_or("", |level| level.label());
        (
            FindingRule::HighRoleWithoutReason,
            Severity::Medium,
            format!("It has the {level} role, and nobody recorded why."),
            "Write in its notes why it needs that role, or rotate it with Developer (or lower).".to_owned(),
        )
    })
}

/// The scopes a deploy token can carry: the repository and the registries.
const DEPLOY_SCOPES: [&str; 6] = [
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
];

/// A project or group access token whose scopes a deploy token has too: it only reaches the
/// repository and the registries, so a deploy token (no bot user, no role, no API) would do.
fn kind(token: &TokenSummary) -> Option<Found> {
    let access = matches!(token.kind, TokenKind::ProjectAccess | TokenKind::GroupAccess);
    let only_deploy_scopes =
        !token.scopes.is_empty() && token.scopes.iter().all(|scope| DEPLOY_SCOPES.contains(&scope.as_str()));
    (access && only_deploy_scopes).then(|| {
        let container = if token.kind == TokenKind::GroupAccess {
            "group"
        } else {
            "project"
        };
        (
            FindingRule::DeployTokenSuffices,
            Severity::Low,
            format!(
                "It only reaches the repository and registries ({}): a deploy token does that.",
                token.scopes.join(", ")
            ),
            format!(
                "Replace it with a {container} deploy token with the same scopes when it is next rotated: no bot user, no role, no API."
            ),
        )
    })
}

/// A group access token whose group (with its subgroups) holds a single live project: it can only
/// work in that project (or on the group itself), where a project access token is enough.
fn group_for_one_project(reviewed: &TokenUnderReview) -> Option<Found> {
    let token = &reviewed.token;
    let deploy_token_suffices = kind(token).is_some();
    (token.kind == TokenKind::GroupAccess && reviewed.group_projects == Some(1) && !deploy_token_suffices).then(|| {
        (
            FindingRule::GroupTokenForOneProject,
            Severity::Low,
            format!(
                "Its group, {}, holds a single project: it reaches no other.",
                token.container_path
            ),
            "Replace it with a project access token on that project (same scopes, same role) when it is next \
             rotated, unless it works on the group itself (epics, group labels, group settings)."
                .to_owned(),
        )
    })
}

fn ownership(reviewed: &TokenUnderReview) -> Vec<Found> {
    let token = &reviewed.token;
    let mut found = Vec::new();
    match (&token.owner_team, reviewed.owner_team_leads) {
        (None, _) => found.push((
            FindingRule::NoOwnerTeam,
            Severity::High,
            "No team owns it: nobody is asked when it expires or leaks.".to_owned(),
            "Set its owner team on its page (a team lead or security).".to_owned(),
        )),
        (Some(team), Some(0)) => found.push((
            FindingRule::OrphanedTeam,
            Severity::Medium,
            format!("Its owner team, {}, has no lead to act on it.", team.name),
            "Name a lead for the team in the teams file, or move the token to a team that has one.".to_owned(),
        )),
        _ => {}
    }
    if let (Some(team), Some(false)) = (&token.owner_team, reviewed.owner_team_has_channel) {
        found.push((
            FindingRule::TeamWithoutChannel,
            Severity::Low,
            format!(
                "Its owner team, {}, has no alert channel: nobody is told when it expires.",
                team.name
            ),
            "Give the team a webhook_url or emails in the teams file.".to_owned(),
        ));
    }
    if token.purpose.as_deref().is_none_or(|purpose| purpose.trim().is_empty()) {
        found.push((
            FindingRule::NoPurpose,
            Severity::Low,
            "Nobody has said what it is for.".to_owned(),
            "Write its purpose on its page, in a sentence.".to_owned(),
        ));
    }
    found
}

fn naming(token: &TokenSummary, policy: &ReviewPolicy) -> Option<Found> {
    let team = token.owner_team.as_ref().map(|team| team.name.as_str());
    let why = policy.token.naming.check(&token.name, team).err()?;
    Some((
        FindingRule::NameOffConvention,
        Severity::Low,
        format!("Its name, {:?}, is off the convention: {why}.", token.name),
        format!(
            "Name its successor after the convention ({}) when it is next rotated.",
            policy.token.naming.as_str()
        ),
    ))
}

/// The findings about one service account: an owner team is the guidelines' condition, and one
/// account for many automations is the single-bot lesson.
/// The request process adds its drift: an account no request explains, or one beyond its approval.
pub fn account_findings(
    account: &ServiceAccount,
    history: &super::AccountHistory,
    policy: &ReviewPolicy,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = super::catch_all::catch_all(account, policy, today)
        .into_iter()
        .collect();
    findings.extend(super::drift::made_outside(account, history, today));
    if let Some((id, approved)) = &history.request {
        findings.extend(super::drift::differs_from_request(
            account,
            (*id, approved),
            policy.token.default_lifetime_days,
            today,
        ));
    }
    if account.owner.is_none() {
        findings.push(without_owner(account, today));
    }
    if let Some(flag) = &history.recert_flag {
        findings.push(flagged_at_recertification(
            Subject::Account(account.gitlab_id),
            flag,
            today,
        ));
    }
    findings.sort_by_key(|finding| (finding.severity, finding.due_on, finding.rule));
    findings
}

fn without_owner(account: &ServiceAccount, today: NaiveDate) -> Finding {
    Finding {
        rule: FindingRule::AccountWithoutOwner,
        severity: Severity::High,
        subject: Subject::Account(account.gitlab_id),
        due_on: today + Days::new(Severity::High.days_to_fix().unsigned_abs()),
        detail: format!("No team owns the service account {}.", account.username),
        fix: "Set its owner team on the Service accounts page (security, or the lead of the team that should own it)."
            .to_owned(),
    }
}

/// What a lead flagged at a recertification campaign: their reason, quoted (pages escape it like
/// any text), for the owner team to act on.
pub fn flagged_at_recertification(subject: Subject, flag: &RecertFlag, today: NaiveDate) -> Finding {
    let what = match subject {
        Subject::Token(_) => "this token",
        Subject::Account(_) => "this service account",
    };
    Finding {
        rule: FindingRule::FlaggedAtRecertification,
        severity: Severity::Medium,
        subject,
        due_on: today + Days::new(Severity::Medium.days_to_fix().unsigned_abs()),
        detail: format!(
            "{} flagged {what} at recertification #{} on {}: “{}”",
            flag.by,
            flag.campaign_id,
            flag.at.date_naive(),
            flag.reason
        ),
        fix: "Act on the lead's reason: revoke it if it is no longer needed, or set its owner team and purpose \
              right on its page (that answers the flag); a later campaign's confirmation answers it too."
            .to_owned(),
    }
}
