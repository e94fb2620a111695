//! Service-account requests: what an engineer asks for (the form, checked), and the path it takes:
//! draft → submitted → endorsed by a lead of the owner team → approved or rejected by security →
//! fulfilled (or withdrawn before a decision). Who may take each step is decided here, from the
//! request's facts and the person: pure, no I/O, no clock.

mod form;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ParseError, Viewer, enums::all};

pub use form::{
    ACCOUNT_NAME_MAX_CHARS, MembershipAsk, RequestContext, RequestForm, SERVICE_ACCOUNT_SCOPES, TEXT_MAX_CHARS,
    ValidRequest,
};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum RequestState {
    /// Saved, not yet sent: only its requester sees it.
    Draft,
    /// Sent: waits for a lead of its owner team.
    Submitted,
    /// A lead of the owner team vouched for it: waits for security.
    Endorsed,
    /// Security approved it: waits for the account to be made.
    Approved,
    Rejected,
    /// The account exists (made through the API here, or seen by sync).
    Fulfilled,
    Withdrawn,
}

impl RequestState {
    pub const ALL: [RequestState; 7] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("request state", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestState::Draft => "Draft",
            RequestState::Submitted => "Waiting for the team lead",
            RequestState::Endorsed => "Waiting for security",
            RequestState::Approved => "Approved, to be created",
            RequestState::Rejected => "Rejected",
            RequestState::Fulfilled => "Created",
            RequestState::Withdrawn => "Withdrawn",
        }
    }

    /// No step follows.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            RequestState::Rejected | RequestState::Fulfilled | RequestState::Withdrawn
        )
    }

    /// The step its form takes: a draft is saved, anything later amended.
    pub fn edit_action(self) -> RequestAction {
        if self == RequestState::Draft {
            RequestAction::SaveDraft
        } else {
            RequestAction::Amend
        }
    }

    /// Security has decided (approved or rejected): the requester can no longer change it.
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            RequestState::Approved | RequestState::Rejected | RequestState::Fulfilled
        )
    }
}

/// A step someone takes on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum RequestAction {
    /// Saves a draft's changes.
    SaveDraft,
    Submit,
    /// Changes a sent request before security decides; after an endorsement it needs one again.
    Amend,
    Withdraw,
    Endorse,
    Approve,
    /// Needs a reason, shown to the requester.
    Reject,
    /// The account was made.
    Fulfil,
    /// Its requester made the account's first token through the API here (its secret shown to
    /// them once, never stored).
    MakeToken,
}

impl RequestAction {
    pub const ALL: [RequestAction; 9] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("request action", value)
    }

    /// The step as the timeline tells it.
    pub fn done(self) -> &'static str {
        match self {
            RequestAction::SaveDraft => "saved the draft",
            RequestAction::Submit => "submitted it",
            RequestAction::Amend => "amended it",
            RequestAction::Withdraw => "withdrew it",
            RequestAction::Endorse => "endorsed it",
            RequestAction::Approve => "approved it",
            RequestAction::Reject => "rejected it",
            RequestAction::Fulfil => "created the account",
            RequestAction::MakeToken => "made the first token (its secret shown to the requester once)",
        }
    }
}

/// What of a request decides who may act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    pub state: RequestState,
    /// The requester's user id.
    pub requester: i64,
    pub owner_team: i64,
    /// Who endorsed it (the user id), while the endorsement stands.
    pub endorsed_by: Option<i64>,
}

/// Why a step is refused, in a sentence for the person: not theirs to take, or not now (the
/// request is not where that step starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refused {
    NotAllowed(String),
    OutOfOrder(String),
}

impl Refused {
    fn new(message: impl Into<String>) -> Refused {
        Refused::NotAllowed(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Refused::NotAllowed(message) | Refused::OutOfOrder(message) => message,
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// Whether `viewer` may take `action` on the request, and the state it leads to.
///
/// - The requester saves, submits, amends and withdraws, before security decides; an amendment
///   of an endorsed request sends it back to the lead.
/// - A lead of the owner team (or security) endorses a submitted request, never their own.
/// - Security approves an endorsed request, never their own nor one they endorsed (two people
///   look at every account); security rejects a submitted or endorsed one, never their own.
/// - Security marks an approved request fulfilled; then its requester makes the first token.
/// - A read-only API key does nothing.
pub fn may_act(viewer: &Viewer, facts: &RequestFacts, action: RequestAction) -> Result<RequestState, Refused> {
    use RequestAction::*;
    use RequestState::*;
    if viewer.read_only {
        return Err(Refused::new("a read-only API key cannot change requests"));
    }
    let own = viewer.id == facts.requester;
    let next = match (action, facts.state) {
        (SaveDraft, Draft) => Draft,
        (Submit, Draft) | (Amend, Submitted | Endorsed) => Submitted,
        (Withdraw, Draft | Submitted | Endorsed) => Withdrawn,
        (Endorse, Submitted) => Endorsed,
        (Approve, Endorsed) => Approved,
        (Reject, Submitted | Endorsed) => Rejected,
        (Fulfil, Approved) => Fulfilled,
        (MakeToken, Fulfilled) => Fulfilled,
        (_, state) => {
            return Err(Refused::OutOfOrder(format!(
                "a request that is {} cannot be {}",
                state.label().to_lowercase(),
                past(action)
            )));
        }
    };
    match action {
        SaveDraft | Submit | Amend | Withdraw if !own => Err(Refused::new("only its requester changes a request")),
        MakeToken if !own => Err(Refused::new(
            "only its requester makes the first token: its secret is shown to them alone",
        )),
        Endorse if own => Err(Refused::new("nobody endorses their own request")),
        Endorse if !(viewer.leads(facts.owner_team) || viewer.is_security()) => Err(Refused::new(
            "only a lead of the request's owner team (or security) endorses it",
        )),
        Approve | Reject | Fulfil if !viewer.is_security() => Err(Refused::new(format!(
            "only security {} a request",
            match action {
                Approve => "approves",
                Reject => "rejects",
                _ => "marks fulfilled",
            }
        ))),
        Approve | Reject if own => Err(Refused::new("nobody decides on their own request")),
        Approve if facts.endorsed_by == Some(viewer.id) => Err(Refused::new(
            "the person who endorsed a request does not also approve it: two people look at every account",
        )),
        _ => Ok(next),
    }
}

fn past(action: RequestAction) -> &'static str {
    match action {
        RequestAction::SaveDraft => "saved as a draft",
        RequestAction::Submit => "submitted",
        RequestAction::Amend => "amended",
        RequestAction::Withdraw => "withdrawn",
        RequestAction::Endorse => "endorsed",
        RequestAction::Approve => "approved",
        RequestAction::Reject => "rejected",
        RequestAction::Fulfil => "marked fulfilled",
        RequestAction::MakeToken => "given its first token",
    }
}

/// Whether `viewer` may see the request: its requester, the owner team's members, security.
pub fn may_see(viewer: &Viewer, facts: &RequestFacts) -> bool {
    viewer.id == facts.requester
        || (facts.state != RequestState::Draft
            && (viewer.is_security() || viewer.teams.iter().any(|team| team.team_id == facts.owner_team)))
}
