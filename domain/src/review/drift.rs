//! Drift from the request process. A service account that no request explains, made after the
//! process was turned on, was made outside it (the guidelines send people to request one). An
//! account made through a request whose tokens or memberships now go beyond what security
//! approved has drifted from it: more scopes, a higher role, another group, a longer life.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{Finding, FindingRule, Severity, Subject};
use crate::{ServiceAccount, requests::ValidRequest};

/// What the request process knows of a service account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountHistory {
    /// When sync first saw it.
    pub first_seen: Option<DateTime<Utc>>,
    /// From when every new service account should come through a request: the later of the
    /// first sync and `REQUESTS_REQUIRED_SINCE`. `None`: nothing was synced yet.
    pub requests_since: Option<DateTime<Utc>>,
    /// The approved (or fulfilled) request that asked for it, by id, with what it approved.
    pub request: Option<(i64, ValidRequest)>,
    /// A lead's standing flag on it from a recertification campaign.
    pub recert_flag: Option<super::RecertFlag>,
}

fn due(today: NaiveDate, severity: Severity) -> NaiveDate {
    today + Days::new(severity.days_to_fix().unsigned_abs())
}

/// An account first seen after the request process was on, that no request asked for.
pub fn made_outside(account: &ServiceAccount, history: &AccountHistory, today: NaiveDate) -> Option<Finding> {
    let (Some(first_seen), Some(since)) = (history.first_seen, history.requests_since) else {
        return None;
    };
    if history.request.is_some() || first_seen <= since {
        return None;
    }
    Some(Finding {
        rule: FindingRule::MadeOutsideRequests,
        severity: Severity::Medium,
        subject: Subject::Account(account.gitlab_id),
        due_on: due(today, Severity::Medium),
        detail: format!(
            "The service account {} appeared on {} and no request asked for it: it was made outside the request process.",
            account.username,
            first_seen.date_naive()
        ),
        fix: "Ask its maker to file a request for it (/requests/new) so its owner, purpose and reach are on record, or remove it."
            .to_owned(),
    })
}

/// What of the account goes beyond request `id`'s approval: each token's scopes and lifetime,
/// each membership's place and role.
pub fn differs_from_request(
    account: &ServiceAccount,
    (id, approved): (i64, &ValidRequest),
    default_lifetime_days: u32,
    today: NaiveDate,
) -> Option<Finding> {
    let mut differences = Vec::new();
    let days = approved.lifetime_days.unwrap_or(default_lifetime_days);
    for token in account
        .tokens
        .iter()
        .filter(|token| !token.revoked && token.gone_since.is_none())
    {
        let extra: Vec<&str> = token
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|scope| !approved.scopes.iter().any(|ok| ok.as_str() == *scope))
            .collect();
        if !extra.is_empty() {
            differences.push(format!(
                "token {} has {} beyond the approved scopes",
                token.name,
                extra.join(", ")
            ));
        }
        let latest = token
            .created_at
            .map(|made| made.date_naive() + Days::new(u64::from(days) + 1));
        match (token.expires_on, latest) {
            (None, _) => differences.push(format!("token {} never expires", token.name)),
            (Some(expires), Some(latest)) if expires > latest => differences.push(format!(
                "token {} lives until {expires}, longer than the approved {days} days",
                token.name
            )),
            _ => {}
        }
    }
    for member in &account.memberships {
        match approved.memberships.iter().find(|ask| ask.path == member.source_path) {
            None => differences.push(format!(
                "it is a member of {} ({}), which was not asked for",
                member.source_path,
                member.access_level.label()
            )),
            Some(ask) if member.access_level > ask.role => differences.push(format!(
                "it is {} of {}, approved as {}",
                member.access_level.label(),
                member.source_path,
                ask.role.label()
            )),
            Some(_) => {}
        }
    }
    if differences.is_empty() {
        return None;
    }
    Some(Finding {
        rule: FindingRule::DiffersFromRequest,
        severity: Severity::High,
        subject: Subject::Account(account.gitlab_id),
        due_on: due(today, Severity::High),
        detail: format!(
            "{} differs from what request #{id} approved: {}.",
            account.username,
            differences.join("; ")
        ),
        fix: format!(
            "Bring it back to what was approved (request #{id}), or have its requester amend the request through a new one."
        ),
    })
}
