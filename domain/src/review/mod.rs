//! The security review's findings: what is wrong with a token or a service account, by the
//! guidelines (quoted) or, where they are silent, by the organisation's policy (with the setting
//! that drives it), each with a severity, a date to fix it by, and the fix.
//!
//! Pure functions: a token (as the inventory knows it, with what people said about it), its
//! owner team's leads, the policy and `today` → findings. No clock, no I/O.

mod catch_all;
mod decisions;
mod drift;
mod query;
mod rules;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ParseError, RuleId, TokenSummary, WizardPolicy, enums::all};

pub use decisions::{
    Decision, DecisionForm, DecisionKind, REASON_MAX_CHARS, Standing, TokenState, ValidDecision, may_decide,
};
pub use drift::AccountHistory;
pub use query::{FINDINGS_PER_PAGE, FindingQuery, FindingState, SubjectKind};
pub use rules::{account_findings, flagged_at_recertification, token_findings};

/// How urgent a finding is: the queue shows the most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("severity", value)
    }

    /// How long a finding of this severity may wait, in days, when nothing else sets its date.
    pub fn days_to_fix(self) -> i64 {
        match self {
            Severity::Critical => 0,
            Severity::High => 7,
            Severity::Medium => 30,
            Severity::Low => 90,
        }
    }
}

/// What a finding is about, by a stable id (in URLs, the database and the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "kebab-case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum FindingRule {
    NoExpiry,
    LifetimeOverMaximum,
    ExpiredNotRevoked,
    Expiring,
    Unused,
    NeverUsed,
    AdminScope,
    WriteScopeForReading,
    ApiScopeForReading,
    HighRoleWithoutReason,
    DeployTokenSuffices,
    GroupTokenForOneProject,
    CatchAllAccount,
    NoOwnerTeam,
    NoPurpose,
    OrphanedTeam,
    AccountWithoutOwner,
    NameOffConvention,
    MadeOutsideRequests,
    DiffersFromRequest,
    TeamWithoutChannel,
    FlaggedAtRecertification,
}

/// What a finding rests on: a sentence of the guidelines, or the organisation's policy where they
/// are silent, with the setting that decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Guideline(RuleId),
    Policy { setting: &'static str },
}

impl Basis {
    /// The guidelines' sentence, quoted, or "Organisation policy (SETTING)".
    pub fn quote(self) -> String {
        match self {
            Basis::Guideline(rule) => format!("“{}” ({})", rule.quote(), rule.section()),
            Basis::Policy { setting } => format!("Organisation policy ({setting}); the guidelines say nothing on this"),
        }
    }
}

impl FindingRule {
    pub const ALL: [FindingRule; 22] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("finding rule", value)
    }

    /// The rule in a few words, as the queue lists it.
    pub fn label(self) -> &'static str {
        match self {
            FindingRule::NoExpiry => "No expiry date",
            FindingRule::LifetimeOverMaximum => "Lives longer than allowed",
            FindingRule::ExpiredNotRevoked => "Expired, not revoked",
            FindingRule::Expiring => "Expiring soon",
            FindingRule::Unused => "Not used for a long time",
            FindingRule::NeverUsed => "Never used",
            FindingRule::AdminScope => "Administrator scope",
            FindingRule::WriteScopeForReading => "Writes, but its purpose only reads",
            FindingRule::ApiScopeForReading => "Full API access, but its purpose only reads",
            FindingRule::HighRoleWithoutReason => "Maintainer or Owner role without a reason",
            FindingRule::DeployTokenSuffices => "A deploy token would do",
            FindingRule::GroupTokenForOneProject => "A project access token would do",
            FindingRule::CatchAllAccount => "One account for many automations",
            FindingRule::NoOwnerTeam => "No owner team",
            FindingRule::NoPurpose => "No purpose",
            FindingRule::OrphanedTeam => "Owner team has no lead",
            FindingRule::AccountWithoutOwner => "Service account without an owner team",
            FindingRule::NameOffConvention => "Name off the naming convention",
            FindingRule::MadeOutsideRequests => "Made outside the request process",
            FindingRule::DiffersFromRequest => "Differs from its approved request",
            FindingRule::TeamWithoutChannel => "Owner team has no alert channel",
            FindingRule::FlaggedAtRecertification => "Flagged at recertification",
        }
    }

    /// What the rule rests on.
    pub fn basis(self) -> Basis {
        match self {
            FindingRule::NoExpiry => Basis::Guideline(RuleId::AlwaysExpire),
            FindingRule::LifetimeOverMaximum => Basis::Policy {
                setting: "TOKEN_MAX_LIFETIME_DAYS",
            },
            FindingRule::ExpiredNotRevoked => Basis::Policy {
                setting: "expired tokens are revoked",
            },
            FindingRule::Expiring => Basis::Policy {
                setting: "REVIEW_NOTICE_DAYS",
            },
            FindingRule::Unused | FindingRule::NeverUsed => Basis::Policy {
                setting: "REVIEW_UNUSED_DAYS",
            },
            FindingRule::AdminScope | FindingRule::WriteScopeForReading | FindingRule::ApiScopeForReading => {
                Basis::Guideline(RuleId::MinimumScopes)
            }
            FindingRule::HighRoleWithoutReason => Basis::Guideline(RuleId::LeastPrivilege),
            FindingRule::DeployTokenSuffices => Basis::Guideline(RuleId::ProjectDeployTokenSufficient),
            FindingRule::GroupTokenForOneProject => Basis::Guideline(RuleId::ProjectAccessTokenSufficient),
            FindingRule::CatchAllAccount => Basis::Guideline(RuleId::ReuseDisruptsRotation),
            FindingRule::NoOwnerTeam | FindingRule::NoPurpose | FindingRule::OrphanedTeam => Basis::Policy {
                setting: "every token has an owner team with a lead, and a purpose",
            },
            FindingRule::AccountWithoutOwner => Basis::Guideline(RuleId::ServiceAccount),
            FindingRule::NameOffConvention => Basis::Guideline(RuleId::SuitableName),
            FindingRule::MadeOutsideRequests => Basis::Guideline(RuleId::ServiceAccount),
            FindingRule::DiffersFromRequest => Basis::Guideline(RuleId::LeastPrivilege),
            FindingRule::TeamWithoutChannel => Basis::Policy {
                setting: "teams file: webhook_url or emails",
            },
            FindingRule::FlaggedAtRecertification => Basis::Policy {
                setting: "owner teams recertify their tokens and service accounts",
            },
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A token, by the inventory's id.
    Token(i64),
    /// A service account, by its GitLab id.
    Account(i64),
}

/// One thing wrong, what to do about it, and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: FindingRule,
    pub severity: Severity,
    pub subject: Subject,
    /// The date to fix it by (for an expiring token: its expiry date).
    pub due_on: NaiveDate,
    /// What was found, about this token or account.
    pub detail: String,
    /// What to do.
    pub fix: String,
}

/// The review's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewPolicy {
    /// The wizard's policy: the longest lifetime allowed (`TOKEN_MAX_LIFETIME_DAYS`), the naming
    /// convention names are checked against, and what the catch-all account's migration plan
    /// recommends.
    pub token: WizardPolicy,
    /// Days before expiry at which a token is reported, largest first: GitLab's own mails come
    /// 60, 30 and 7 days before.
    pub notice_days: Vec<u32>,
    /// A token not used for this many days (or never, this long after it was created) is reported.
    pub unused_days: u32,
    /// Team leads may accept a risk for their team's findings (otherwise only security may).
    pub leads_may_accept_risk: bool,
    /// From this day every new service account should come through a request (`None`: from
    /// the first sync).
    pub requests_since: Option<NaiveDate>,
}

impl ReviewPolicy {
    /// The longest lifetime allowed, in days.
    pub fn max_lifetime_days(&self) -> u32 {
        self.token.max_lifetime_days
    }
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            token: WizardPolicy::default(),
            notice_days: vec![60, 30, 7],
            unused_days: 90,
            leads_may_accept_risk: false,
            requests_since: None,
        }
    }
}

/// A token as the review reads it: the inventory's summary, the notes people wrote (where a
/// reason for a high role is recorded), its description in GitLab, how many leads its owner team has (`None`: no owner
/// team, or not known), whether its owner team has an alert channel (`None`: no owner team, or
/// alerts are not configured) and, for a group access token, how many live projects its group holds
/// with its subgroups' (`None`: not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUnderReview {
    pub token: TokenSummary,
    pub notes: Option<String>,
    pub description: Option<String>,
    pub owner_team_leads: Option<usize>,
    pub group_projects: Option<usize>,
    pub owner_team_has_channel: Option<bool>,
    /// A lead's standing flag from a recertification campaign, if any.
    pub recert_flag: Option<RecertFlag>,
}

/// A lead's flag on a token or service account at a recertification campaign that still stands:
/// the latest answer on it (no later campaign confirmed it), and nobody changed what is said of
/// its owner and purpose since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecertFlag {
    pub campaign_id: i64,
    pub reason: String,
    /// The lead's username.
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
}
