//! What security (or a team's lead) decides about a finding, who may decide what, and when a
//! decision stops holding: an accepted risk whose date has passed, or a token whose scopes or
//! expiry changed since the decision. A rotation makes a new token (GitLab gives it a new id): its
//! findings are new and open, and the old token's end with it.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{FieldError, ParseError, Viewer, enums::all, ownership::looks_like_a_secret};

/// A decision about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum DecisionKind {
    /// Seen; someone is on it.
    Acknowledge,
    /// Accepted as it is until a date, for a reason.
    AcceptRisk,
    /// The owning team is asked to rotate it.
    AskRotate,
    /// The owning team is asked to revoke it.
    AskRevoke,
    /// The owning team is asked to narrow its scopes or role.
    AskNarrow,
    /// The owning team is asked to set its owner (and purpose).
    AskOwner,
    /// Done: the next sync shows whether it is.
    MarkFixed,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 7] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("decision", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Acknowledge => "Acknowledge",
            DecisionKind::AcceptRisk => "Accept the risk until…",
            DecisionKind::AskRotate => "Ask the team to rotate it",
            DecisionKind::AskRevoke => "Ask the team to revoke it",
            DecisionKind::AskNarrow => "Ask the team to narrow it",
            DecisionKind::AskOwner => "Ask the team to set its owner",
            DecisionKind::MarkFixed => "Mark fixed",
        }
    }

    /// The decision as made, for its record ("Risk accepted until 2027-01-31, by …").
    pub fn made(self) -> &'static str {
        match self {
            DecisionKind::Acknowledge => "Acknowledged",
            DecisionKind::AcceptRisk => "Risk accepted",
            DecisionKind::AskRotate => "Team asked to rotate it",
            DecisionKind::AskRevoke => "Team asked to revoke it",
            DecisionKind::AskNarrow => "Team asked to narrow it",
            DecisionKind::AskOwner => "Team asked to set its owner",
            DecisionKind::MarkFixed => "Marked fixed",
        }
    }
}

/// What of a token a decision was made on: when any of it changes, the decision reopens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    pub scopes: Vec<String>,
    pub expires_on: Option<NaiveDate>,
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub kind: DecisionKind,
    pub reason: Option<String>,
    /// An accepted risk's last day.
    pub until: Option<NaiveDate>,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The token as it was when decided (`None` for a service account's finding).
    pub token: Option<TokenState>,
}

/// Whether a decision still holds, or why it reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Holds,
    /// The accepted date has passed.
    AcceptanceEnded,
    /// The token's scopes or expiry changed since.
    TokenChanged,
}

impl Decision {
    /// Whether the decision still holds `today`, given the token as it is now.
    pub fn standing(&self, token: Option<&TokenState>, today: NaiveDate) -> Standing {
        if self.kind == DecisionKind::AcceptRisk && self.until.is_none_or(|until| until < today) {
            return Standing::AcceptanceEnded;
        }
        if self.token.as_ref() != token {
            return Standing::TokenChanged;
        }
        Standing::Holds
    }
}

/// A decision as a form or the API sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub decision: String,
    pub reason: String,
    /// `YYYY-MM-DD`, for an accepted risk.
    pub until: String,
}

/// A checked decision, ready to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDecision {
    pub kind: DecisionKind,
    pub reason: Option<String>,
    pub until: Option<NaiveDate>,
}

/// The longest reason.
pub const REASON_MAX_CHARS: usize = 1000;

impl DecisionForm {
    /// Checks the form: a known decision; a reason of at most 1,000 characters that is not a
    /// secret (required to accept a risk); and for an accepted risk a date after today and at
    /// most `max_days` away (the longest lifetime a token may have).
    pub fn validate(&self, today: NaiveDate, max_days: u32) -> Result<ValidDecision, Vec<FieldError>> {
        let mut errors = Vec::new();
        let error = |field: &str, message: String| FieldError {
            field: field.to_owned(),
            message,
        };
        let kind = match self.decision.trim().parse::<DecisionKind>() {
            Ok(kind) => Some(kind),
            Err(e) => {
                errors.push(error("decision", e.to_string()));
                None
            }
        };
        let reason = self.reason.trim();
        if reason.chars().count() > REASON_MAX_CHARS {
            errors.push(error(
                "reason",
                format!("a reason is at most {REASON_MAX_CHARS} characters"),
            ));
        } else if looks_like_a_secret(reason) {
            errors.push(error(
                "reason",
                "this looks like a token's secret: never paste one here".to_owned(),
            ));
        }
        let accepting = kind == Some(DecisionKind::AcceptRisk);
        if accepting && reason.is_empty() {
            errors.push(error("reason", "say why the risk is accepted".to_owned()));
        }
        let until = if accepting {
            accepted_until(self.until.trim(), today, max_days).map_err(|message| errors.push(error("until", message)))
        } else {
            Ok(None)
        };
        match (kind, until) {
            (Some(kind), Ok(until)) if errors.is_empty() => Ok(ValidDecision {
                kind,
                reason: (!reason.is_empty()).then(|| reason.to_owned()),
                until,
            }),
            _ => Err(errors),
        }
    }
}

fn accepted_until(text: &str, today: NaiveDate, max_days: u32) -> Result<Option<NaiveDate>, String> {
    let latest = today + Days::new(u64::from(max_days));
    let date = text
        .parse::<NaiveDate>()
        .map_err(|_| format!("give the last day the risk is accepted, as YYYY-MM-DD (at the latest {latest})"))?;
    if date <= today {
        return Err(format!("the date must be after today ({today})"));
    }
    if date > latest {
        return Err(format!("at most {max_days} days away: {latest} at the latest"));
    }
    Ok(Some(date))
}

/// Who may decide what about a finding of `team` (its owner team, if any): security anything; a
/// lead of that team anything but accepting a risk, unless `leads_may_accept_risk`; nobody else,
/// and nothing through a read-only key. `Err` says why not.
pub fn may_decide(
    viewer: &Viewer,
    team: Option<i64>,
    kind: DecisionKind,
    leads_may_accept_risk: bool,
) -> Result<(), &'static str> {
    if viewer.read_only {
        return Err("a read-only API key cannot decide");
    }
    if viewer.is_security() {
        return Ok(());
    }
    if !team.is_some_and(|team| viewer.leads(team)) {
        return Err("only security and the lead of the team that owns it decide about a finding");
    }
    if kind == DecisionKind::AcceptRisk && !leads_may_accept_risk {
        return Err("only security accepts a risk");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{Role, TeamMembership};

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn form(decision: &str, reason: &str, until: &str) -> DecisionForm {
        DecisionForm {
            decision: decision.to_owned(),
            reason: reason.to_owned(),
            until: until.to_owned(),
        }
    }

    fn fields(result: Result<ValidDecision, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn an_accepted_risk_needs_a_reason_and_a_date_within_the_maximum_lifetime() {
        let today = day("2026-12-02");
        let accepted = form("accept_risk", "the vendor fixes it in January", "2027-01-31").validate(today, 365);
        assert_eq!(
            accepted,
            Ok(ValidDecision {
                kind: DecisionKind::AcceptRisk,
                reason: Some("the vendor fixes it in January".to_owned()),
                until: Some(day("2027-01-31")),
            })
        );
        assert!(
            form("accept_risk", "ok", "2027-12-02").validate(today, 365).is_ok(),
            "exactly 365 days"
        );
        assert_eq!(
            fields(form("accept_risk", "ok", "2027-12-03").validate(today, 365)),
            ["until"]
        );
        assert_eq!(
            fields(form("accept_risk", "ok", "2026-12-02").validate(today, 365)),
            ["until"]
        );
        assert_eq!(
            fields(form("accept_risk", "ok", "next year").validate(today, 365)),
            ["until"]
        );
        assert_eq!(
            fields(form("accept_risk", " ", "2027-01-31").validate(today, 365)),
            ["reason"]
        );
        assert_eq!(fields(form("shrug", "", "").validate(today, 365)), ["decision"]);
        let pasted = format!("see glpat-{}", "x".repeat(20));
        assert_eq!(
            fields(form("acknowledge", &pasted, "").validate(today, 365)),
            ["reason"]
        );
        // Other decisions need no reason and ignore a date.
        assert_eq!(
            form("ask_rotate", "", "2030-01-01").validate(today, 365),
            Ok(ValidDecision {
                kind: DecisionKind::AskRotate,
                reason: None,
                until: None,
            })
        );
    }

    #[test]
    fn a_decision_reopens_when_the_acceptance_ends_or_the_token_changes() {
        let state = TokenState {
            scopes: vec!["api".to_owned()],
            expires_on: Some(day("2027-03-01")),
        };
        let decision = Decision {
            kind: DecisionKind::AcceptRisk,
            reason: Some("vendor".to_owned()),
            until: Some(day("2026-12-10")),
            by: "sam".to_owned(),
            at: "2026-12-01T10:00:00Z".parse().expect("a time"),
            token: Some(state.clone()),
        };
        assert_eq!(
            decision.standing(Some(&state), day("2026-12-10")),
            Standing::Holds,
            "its last day"
        );
        assert_eq!(
            decision.standing(Some(&state), day("2026-12-11")),
            Standing::AcceptanceEnded
        );
        let narrowed = TokenState {
            scopes: vec!["read_api".to_owned()],
            ..state.clone()
        };
        assert_eq!(
            decision.standing(Some(&narrowed), day("2026-12-05")),
            Standing::TokenChanged
        );
        let extended = TokenState {
            expires_on: Some(day("2027-06-01")),
            ..state.clone()
        };
        assert_eq!(
            decision.standing(Some(&extended), day("2026-12-05")),
            Standing::TokenChanged
        );
        let acknowledged = Decision {
            kind: DecisionKind::Acknowledge,
            until: None,
            ..decision
        };
        assert_eq!(acknowledged.standing(Some(&state), day("2030-01-01")), Standing::Holds);
        assert_eq!(
            acknowledged.standing(Some(&narrowed), day("2026-12-05")),
            Standing::TokenChanged
        );
    }

    fn viewer(roles: &[Role], leads: &[i64], read_only: bool) -> Viewer {
        Viewer {
            id: 1,
            gitlab_id: 1,
            username: "someone".to_owned(),
            name: "Someone".to_owned(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            teams: leads
                .iter()
                .map(|team| TeamMembership {
                    team_id: *team,
                    team_name: format!("team {team}"),
                    is_lead: true,
                })
                .collect(),
            unread_notices: 0,
            read_only,
            api_key_id: None,
        }
    }

    #[test]
    fn security_decides_leads_decide_for_their_team_engineers_do_not() {
        use DecisionKind::*;
        let security = viewer(&[Role::Security], &[], false);
        let lead = viewer(&[Role::TeamLead], &[4], false);
        let engineer = viewer(&[Role::Engineer], &[], false);
        assert_eq!(may_decide(&security, None, AcceptRisk, false), Ok(()));
        assert_eq!(may_decide(&lead, Some(4), AskRotate, false), Ok(()));
        assert!(may_decide(&lead, Some(4), AcceptRisk, false).is_err());
        assert_eq!(may_decide(&lead, Some(4), AcceptRisk, true), Ok(()));
        assert!(may_decide(&lead, Some(5), Acknowledge, true).is_err(), "another team's");
        assert!(may_decide(&lead, None, Acknowledge, true).is_err(), "no owner team");
        assert!(may_decide(&engineer, Some(4), Acknowledge, true).is_err());
        let read_only = viewer(&[Role::Security], &[], true);
        assert!(may_decide(&read_only, Some(4), Acknowledge, true).is_err());
    }
}
