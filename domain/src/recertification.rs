//! Recertification campaigns: security opens one over a scope (everything, a team, a kind) with a
//! due date; it holds every live token and service account in scope that has an owner team, as
//! they were at opening; each team's lead confirms (still needed, owner and purpose right) or
//! flags each of their team's items; security closes it, and the answers are the auditors'
//! evidence. What a lead flags becomes a finding of the review
//! ([`crate::review::FindingRule::FlaggedAtRecertification`]).
//!
//! Pure: who may do what, the forms' checks, progress and the reminders' schedule, from plain
//! data and `today`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{FieldError, ParseError, TeamRef, TokenKind, Viewer, enums::all, review::Subject};

/// The longest a flag's reason may be, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// The furthest a due date may be, in days from the day a campaign opens.
pub const MAX_DAYS_TO_DUE: i64 = 365;

/// The most items one answer may cover.
pub const MAX_ITEMS_PER_ANSWER: usize = 1_000;

/// What an item is: a kind of token, or a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum ItemKind {
    ProjectAccess,
    GroupAccess,
    Deploy,
    Personal,
    ServiceAccount,
}

impl ItemKind {
    pub const ALL: [ItemKind; 5] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("kind of token or account", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemKind::ProjectAccess => TokenKind::ProjectAccess.label(),
            ItemKind::GroupAccess => TokenKind::GroupAccess.label(),
            ItemKind::Deploy => TokenKind::Deploy.label(),
            ItemKind::Personal => TokenKind::Personal.label(),
            ItemKind::ServiceAccount => "Service account",
        }
    }
}

impl From<TokenKind> for ItemKind {
    fn from(kind: TokenKind) -> Self {
        match kind {
            TokenKind::ProjectAccess => ItemKind::ProjectAccess,
            TokenKind::GroupAccess => ItemKind::GroupAccess,
            TokenKind::Deploy => ItemKind::Deploy,
            TokenKind::Personal => ItemKind::Personal,
        }
    }
}

/// What a campaign covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scope", content = "value")]
pub enum CampaignScope {
    All,
    /// One team's tokens and service accounts, by the team's id.
    Team(i64),
    /// One kind, every team's.
    Kind(ItemKind),
}

impl CampaignScope {
    /// How it is stored: `all`, `team` or `kind`, with the team's id or the kind.
    pub fn parts(self) -> (&'static str, Option<i64>, Option<ItemKind>) {
        match self {
            CampaignScope::All => ("all", None, None),
            CampaignScope::Team(id) => ("team", Some(id), None),
            CampaignScope::Kind(kind) => ("kind", None, Some(kind)),
        }
    }

    /// From its stored parts; `None` when they do not make a scope.
    pub fn from_parts(scope: &str, team: Option<i64>, kind: Option<&str>) -> Option<CampaignScope> {
        match (scope, team, kind) {
            ("all", None, None) => Some(CampaignScope::All),
            ("team", Some(team), None) => Some(CampaignScope::Team(team)),
            ("kind", None, Some(kind)) => kind.parse().ok().map(CampaignScope::Kind),
            _ => None,
        }
    }

    /// Whether `candidate` falls in it.
    pub fn includes(self, candidate: &Candidate) -> bool {
        match self {
            CampaignScope::All => true,
            CampaignScope::Team(id) => candidate.team.as_ref().is_some_and(|team| team.id == id),
            CampaignScope::Kind(kind) => candidate.kind == kind,
        }
    }

    /// In words: "every team's tokens and service accounts", "Platform's …", "every deploy token".
    pub fn describe(self, teams: &[TeamRef]) -> String {
        match self {
            CampaignScope::All => "every team's tokens and service accounts".to_owned(),
            CampaignScope::Team(id) => {
                let name = teams
                    .iter()
                    .find(|team| team.id == id)
                    .map_or_else(|| format!("team {id}"), |team| team.name.clone());
                format!("{name}'s tokens and service accounts")
            }
            CampaignScope::Kind(ItemKind::ServiceAccount) => "every team's service accounts".to_owned(),
            CampaignScope::Kind(kind) => format!("every team's {}s", kind.label().to_lowercase()),
        }
    }
}

/// A token or service account live at opening, as the campaign would hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub subject: Subject,
    pub kind: ItemKind,
    pub name: String,
    /// Where it lives: the token's group or project, the account's group (or empty).
    pub path: String,
    pub team: Option<TeamRef>,
    pub purpose: Option<String>,
}

/// The items a campaign over `scope` holds: the candidates in scope that have an owner team
/// (nobody could answer for the others: they are the review's "No owner team" findings), and
/// how many in scope were left out for having none.
pub fn select_items(scope: CampaignScope, candidates: Vec<Candidate>) -> (Vec<Candidate>, usize) {
    let (with_team, without): (Vec<Candidate>, Vec<Candidate>) = candidates
        .into_iter()
        .filter(|candidate| scope.includes(candidate))
        .partition(|candidate| candidate.team.is_some());
    (with_team, without.len())
}

/// The opening form as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignForm {
    /// `all`, `team` or `kind`.
    pub scope: String,
    /// The team's id, for `team`.
    pub team: String,
    /// The kind, for `kind`.
    pub kind: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// A campaign to open, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidCampaign {
    pub scope: CampaignScope,
    pub due_on: NaiveDate,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl CampaignForm {
    /// Checks the scope (a team that exists, a kind known) and the due date (after `today`, at
    /// most [`MAX_DAYS_TO_DUE`] days away).
    pub fn validate(&self, teams: &[TeamRef], today: NaiveDate) -> Result<ValidCampaign, Vec<FieldError>> {
        let mut errors = Vec::new();
        let scope = match self.scope.trim() {
            "all" | "" => Some(CampaignScope::All),
            "team" => {
                let team = self
                    .team
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|id| teams.iter().any(|t| t.id == *id));
                if team.is_none() {
                    errors.push(field("team", "choose one of the teams listed"));
                }
                team.map(CampaignScope::Team)
            }
            "kind" => {
                let kind = self.kind.trim().parse::<ItemKind>().ok();
                if kind.is_none() {
                    errors.push(field("kind", "choose one of the kinds listed"));
                }
                kind.map(CampaignScope::Kind)
            }
            _ => {
                errors.push(field("scope", "choose everything, a team or a kind"));
                None
            }
        };
        let due_on = match NaiveDate::parse_from_str(self.due_on.trim(), "%Y-%m-%d") {
            Ok(date) if date <= today => {
                errors.push(field("due_on", "the due date must be after today"));
                None
            }
            Ok(date) if (date - today).num_days() > MAX_DAYS_TO_DUE => {
                errors.push(field(
                    "due_on",
                    format!("the due date is at most {MAX_DAYS_TO_DUE} days away"),
                ));
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                errors.push(field("due_on", "give the due date as YYYY-MM-DD"));
                None
            }
        };
        match (scope, due_on) {
            (Some(scope), Some(due_on)) if errors.is_empty() => Ok(ValidCampaign { scope, due_on }),
            _ => Err(errors),
        }
    }
}

/// A lead's answer on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum Answer {
    /// Still needed; its owner team and purpose are right.
    Confirmed,
    /// Something is wrong with it, in the lead's words.
    Flagged { reason: String },
}

impl Answer {
    pub fn as_str(&self) -> &'static str {
        match self {
            Answer::Confirmed => "confirmed",
            Answer::Flagged { .. } => "flagged",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Answer::Confirmed => None,
            Answer::Flagged { reason } => Some(reason),
        }
    }

    /// From its stored parts; `None` when they do not make an answer.
    pub fn from_parts(answer: &str, reason: Option<String>) -> Option<Answer> {
        match (answer, reason) {
            ("confirmed", _) => Some(Answer::Confirmed),
            ("flagged", Some(reason)) => Some(Answer::Flagged { reason }),
            _ => None,
        }
    }
}

/// Checks an answer as sent: `confirm`, or `flag` with a reason (required, at most
/// [`REASON_MAX_CHARS`] characters, no control characters, not a token's secret).
pub fn answer_from_form(action: &str, reason: &str) -> Result<Answer, FieldError> {
    match action.trim() {
        "confirm" => Ok(Answer::Confirmed),
        "flag" => {
            let reason = reason.trim();
            if reason.is_empty() {
                Err(field("reason", "say what is wrong: a flag needs a reason"))
            } else if reason.chars().count() > REASON_MAX_CHARS {
                Err(field(
                    "reason",
                    format!("a reason is at most {REASON_MAX_CHARS} characters"),
                ))
            } else if reason.chars().any(char::is_control) {
                Err(field(
                    "reason",
                    "write the reason on one line, without control characters",
                ))
            } else if crate::ownership::looks_like_a_secret(reason) {
                Err(field(
                    "reason",
                    "this looks like a token's secret: never paste secrets here",
                ))
            } else {
                Ok(Answer::Flagged {
                    reason: reason.to_owned(),
                })
            }
        }
        _ => Err(field("action", "confirm or flag the items chosen")),
    }
}

/// An item's answer as recorded: what, by whom (username), when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answered {
    pub answer: Answer,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Why something is refused: not the person's to do (403), or not now (409: the campaign is
/// closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refused {
    NotAllowed(String),
    Closed(String),
}

impl Refused {
    pub fn message(&self) -> &str {
        match self {
            Refused::NotAllowed(message) | Refused::Closed(message) => message,
        }
    }
}

/// Security opens and closes campaigns (not with a read-only API key).
pub fn may_run(viewer: &Viewer) -> Result<(), Refused> {
    if viewer.read_only {
        return Err(Refused::NotAllowed("a read-only API key changes nothing".to_owned()));
    }
    if !viewer.is_security() {
        return Err(Refused::NotAllowed(
            "only security opens and closes recertification campaigns".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `viewer` may answer an item of team `team` in a campaign (`closed` or not). Only a
/// lead of the item's team answers: a recertification is the owner's word, so security (who
/// opens the campaign and reads the evidence) does not answer for a team it does not lead.
pub fn may_answer(viewer: &Viewer, team: i64, closed: bool) -> Result<(), Refused> {
    if viewer.read_only {
        return Err(Refused::NotAllowed("a read-only API key changes nothing".to_owned()));
    }
    if !viewer.leads(team) {
        return Err(Refused::NotAllowed(
            "only a lead of the item's team confirms or flags it".to_owned(),
        ));
    }
    if closed {
        return Err(Refused::Closed(
            "the campaign is closed: its answers are final".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `viewer` sees a campaign: security every team's progress and the evidence; a lead
/// their own teams' progress and items; nobody else.
pub fn may_see(viewer: &Viewer) -> bool {
    viewer.is_security() || viewer.teams.iter().any(|team| team.is_lead)
}

/// Whether `viewer` sees team `team`'s items and progress in a campaign.
pub fn may_see_team(viewer: &Viewer, team: i64) -> bool {
    viewer.is_security() || viewer.leads(team)
}

/// One team's progress in a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamProgress {
    pub team: TeamRef,
    pub total: u64,
    pub answered: u64,
    pub flagged: u64,
}

impl TeamProgress {
    pub fn unanswered(&self) -> u64 {
        self.total.saturating_sub(self.answered)
    }

    pub fn done(&self) -> bool {
        self.answered >= self.total
    }

    /// Answered, in whole percent (rounded down, so 100 means done).
    pub fn percent(&self) -> u64 {
        (self.answered * 100).checked_div(self.total).unwrap_or(100)
    }

    /// Not done after the due date of a campaign still open.
    pub fn overdue(&self, due_on: NaiveDate, closed: bool, today: NaiveDate) -> bool {
        !closed && !self.done() && today > due_on
    }
}

/// A campaign's progress, per team (by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignProgress {
    pub campaign_id: i64,
    pub scope: CampaignScope,
    pub opened_on: NaiveDate,
    pub due_on: NaiveDate,
    pub closed: bool,
    pub teams: Vec<TeamProgress>,
}

impl CampaignProgress {
    /// Every team's counts added up.
    pub fn overall(&self) -> TeamProgress {
        let sum = |f: fn(&TeamProgress) -> u64| self.teams.iter().map(f).sum();
        TeamProgress {
            team: TeamRef {
                id: 0,
                name: "All teams".to_owned(),
            },
            total: sum(|t| t.total),
            answered: sum(|t| t.answered),
            flagged: sum(|t| t.flagged),
        }
    }
}

/// A reminder to send a team today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub campaign_id: i64,
    pub team: TeamRef,
    /// The team's pass, a path on this server (`/recertification/{id}/team/{team}`).
    pub path: String,
    /// The reminder in plain text.
    pub text: String,
}

/// Days before the due date on which a team with items left is reminded (besides the day the
/// campaign opens, and every day once it is overdue).
pub const REMINDER_DAYS_BEFORE: [i64; 2] = [7, 1];

/// Which teams need a reminder `today`, and what it says: each team of an open campaign with
/// items left, on the day it opened, [`REMINDER_DAYS_BEFORE`] days before its due date, and every
/// day after it.
pub fn reminders_due(campaigns: &[CampaignProgress], today: NaiveDate) -> Vec<Reminder> {
    let mut due = Vec::new();
    for campaign in campaigns.iter().filter(|campaign| !campaign.closed) {
        let days_left = (campaign.due_on - today).num_days();
        let when = if today == campaign.opened_on {
            format!("opened today, due on {}", campaign.due_on)
        } else if REMINDER_DAYS_BEFORE.contains(&days_left) {
            let days = if days_left == 1 {
                "tomorrow".to_owned()
            } else {
                format!("in {days_left} days")
            };
            format!("due {days} ({})", campaign.due_on)
        } else if days_left < 0 {
            let plural = if days_left == -1 { "" } else { "s" };
            format!("overdue since {} ({} day{plural})", campaign.due_on, -days_left)
        } else {
            continue;
        };
        for team in campaign.teams.iter().filter(|team| !team.done()) {
            let path = format!("/recertification/{}/team/{}", campaign.campaign_id, team.team.id);
            due.push(Reminder {
                campaign_id: campaign.campaign_id,
                team: team.team.clone(),
                text: format!(
                    "Recertification #{} is {when}. {}'s tokens and service accounts: {}/{} answered, {} left. \
                     A lead confirms each that is still needed with the right owner and purpose, or flags it.",
                    campaign.campaign_id,
                    team.team.name,
                    team.answered,
                    team.total,
                    team.unanswered(),
                ),
                path,
            });
        }
    }
    due
}

#[cfg(test)]
mod tests;
