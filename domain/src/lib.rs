//! The rules of the domain: token kinds, scopes, access levels, expiry, people and teams, the
//! inventory's query, and the wizard. Pure functions over plain data: no I/O, no clock (`today`
//! is passed in), no Leptos, no sqlx; `db` and `app` build on it.

pub mod alerts;
mod enums;
pub mod expiry;
pub mod ownership;
pub mod people;
pub mod query;
pub mod recertification;
pub mod requests;
pub mod review;
pub mod scope;
pub mod sync;
pub mod timeline;
pub mod token;
pub mod wizard;

pub use expiry::{ExpiryWindow, relative_day};
pub use ownership::{FieldError, Ownership, OwnershipEdit, ValidOwnership};
pub use people::{
    AccountMembership, AccountOwner, GroupMembership, OwnerSource, Role, RolePolicy, ServiceAccount, TeamMembership,
    TeamRule, TeamStats, Viewer, infer_account_team,
};
pub use query::{
    MAX_PER_PAGE, MAX_SEARCH_CHARS, PER_PAGE, QueryError, TokenPage, TokenQuery, TokenSort, query_string, thousands,
};
pub use scope::Scope;
pub use sync::{
    AccountKind, AccountRecord, GroupRecord, PhaseProgress, ProjectRecord, SyncError, SyncProgress, SyncRun,
    SyncStatus, SyncTrigger, TokenEventKind, UnknownScope,
};
pub use timeline::{Band, Cliff, ExpiryCount, Stack, Timeline, TimelineRange, TimelineWeek};
pub use token::{
    AccessLevel, ContainerKind, ParseError, TeamRef, TokenDetail, TokenKind, TokenRecord, TokenStatus, TokenSummary,
};
pub use wizard::{
    Alternative, Assumption, AssumptionId, Field, GuidelineRule, Misfit, NamingConvention, NamingConventionError,
    Needs, NextStep, Question, Reach, Recommendation, RecommendedKind, Resource, RuleId, ServiceAccountRequest,
    TokenCreation, Usage, WizardAnswers, WizardError, WizardPolicy, YesNo, fits, recommend_token_kind,
};
