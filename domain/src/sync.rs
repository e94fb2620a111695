//! What sync records: the accounts, groups and projects it found, its runs and their progress,
//! and the changes it saw in tokens. Plain data shared by the sync engine and the Sync page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ContainerKind, ParseError, TokenKind};

/// A bot user (the account behind a project or group access token) or a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum AccountKind {
    ProjectBot,
    GroupBot,
    ServiceAccount,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("account kind", value)
    }

    /// What a username says about its account, as GitLab forms them: `project_{id}_bot_{hex}`,
    /// `group_{id}_bot_{hex}`, `service_account_…`; with the project or group it belongs to.
    /// `None` for people.
    pub fn from_username(username: &str) -> Option<(AccountKind, Option<i64>)> {
        let numbered = |rest: &str| -> Option<i64> {
            let (id, tail) = rest.split_once('_')?;
            tail.starts_with("bot").then_some(())?;
            id.parse().ok()
        };
        if let Some(rest) = username.strip_prefix("project_") {
            return numbered(rest).map(|id| (AccountKind::ProjectBot, Some(id)));
        }
        if let Some(rest) = username.strip_prefix("group_") {
            return numbered(rest).map(|id| (AccountKind::GroupBot, Some(id)));
        }
        if let Some(rest) = username.strip_prefix("service_account_group_") {
            let id = rest.split('_').next().and_then(|id| id.parse().ok());
            return Some((AccountKind::ServiceAccount, id));
        }
        username
            .starts_with("service_account_")
            .then_some((AccountKind::ServiceAccount, None))
    }
}

/// An account as sync found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub gitlab_id: i64,
    pub username: String,
    pub name: String,
    pub kind: AccountKind,
    pub container_kind: ContainerKind,
    pub container_gitlab_id: Option<i64>,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub gitlab_id: i64,
    pub full_path: String,
    pub parent_gitlab_id: Option<i64>,
    pub web_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub gitlab_id: i64,
    pub path_with_namespace: String,
    pub namespace_gitlab_id: Option<i64>,
    pub web_url: String,
    pub archived: bool,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum SyncTrigger {
    CommandLine,
    Schedule,
    Manual,
    Startup,
}

impl SyncTrigger {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("sync trigger", value)
    }
}

/// How a run ended (or that it still runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum SyncStatus {
    Running,
    /// Everything was read and written.
    Succeeded,
    /// Some containers failed; what was read is written, nothing in a failed container is marked
    /// gone.
    Partial,
    /// Nothing useful was read (GitLab unreachable, credential refused).
    Failed,
    /// Its process stopped without finishing (its lease ran out).
    Abandoned,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("sync status", value)
    }
}

/// A run's figures, by phase ("groups", "projects", "project tokens", …): how many of each
/// thing it has done and, when known, how many there are. A run that has just started is stored
/// as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncProgress {
    pub phases: BTreeMap<String, PhaseProgress>,
    pub tokens_seen: u64,
    pub tokens_created: u64,
    pub tokens_changed: u64,
    pub tokens_gone: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseProgress {
    pub done: u64,
    pub total: Option<u64>,
}

/// One error of a run: where, and what GitLab or the network said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncError {
    pub scope: String,
    pub message: String,
}

/// A run as the Sync page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: i64,
    pub trigger: SyncTrigger,
    pub strategy: Option<String>,
    pub status: SyncStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub requests: u64,
    pub progress: SyncProgress,
    pub errors: Vec<SyncError>,
}

/// A change sync saw in a token, kept in its history and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum TokenEventKind {
    Revoked,
    /// A new token that replaces a revoked one of the same account and name.
    Rotated,
    ExpiryChanged,
    ScopesChanged,
    Moved,
    Gone,
    /// Seen again after it was marked gone.
    Returned,
}

impl TokenEventKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("token event", value)
    }
}

/// Which tokens a failed listing leaves unknown: sync never marks these gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnknownScope {
    /// `None`: every kind.
    pub kind: Option<TokenKind>,
    /// `None`: every container.
    pub container: Option<(ContainerKind, i64)>,
}

impl UnknownScope {
    pub fn covers(&self, kind: TokenKind, container_kind: ContainerKind, container_id: Option<i64>) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self
                .container
                .is_none_or(|(ck, id)| ck == container_kind && container_id == Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_just_started_has_empty_figures() {
        assert_eq!(
            serde_json::from_str::<SyncProgress>("{}").ok(),
            Some(SyncProgress::default())
        );
    }

    #[test]
    fn usernames_tell_bots_and_service_accounts_apart() {
        let table = [
            ("project_42_bot_3f9a1c", Some((AccountKind::ProjectBot, Some(42)))),
            ("group_7_bot_0b12", Some((AccountKind::GroupBot, Some(7)))),
            ("project_42_bot", Some((AccountKind::ProjectBot, Some(42)))),
            (
                "service_account_group_9_release_bot",
                Some((AccountKind::ServiceAccount, Some(9))),
            ),
            ("service_account_mirror", Some((AccountKind::ServiceAccount, None))),
            ("project_x_bot_1", None),
            ("projectile", None),
            ("alice", None),
            ("group_7_admin", None),
        ];
        for (username, expected) in table {
            assert_eq!(AccountKind::from_username(username), expected, "{username}");
        }
    }

    #[test]
    fn unknown_scopes_cover_what_they_name() {
        let project = UnknownScope {
            kind: Some(TokenKind::Deploy),
            container: Some((ContainerKind::Project, 5)),
        };
        assert!(project.covers(TokenKind::Deploy, ContainerKind::Project, Some(5)));
        assert!(!project.covers(TokenKind::Deploy, ContainerKind::Project, Some(6)));
        assert!(!project.covers(TokenKind::ProjectAccess, ContainerKind::Project, Some(5)));
        assert!(!project.covers(TokenKind::Deploy, ContainerKind::Group, Some(5)));
        let everything = UnknownScope {
            kind: None,
            container: None,
        };
        assert!(everything.covers(TokenKind::Personal, ContainerKind::Instance, None));
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            SyncStatus::Running,
            SyncStatus::Succeeded,
            SyncStatus::Partial,
            SyncStatus::Failed,
            SyncStatus::Abandoned,
        ] {
            assert_eq!(status.as_str().parse::<SyncStatus>(), Ok(status));
        }
        assert!("done".parse::<SyncStatus>().is_err());
    }
}
