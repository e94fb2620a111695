//! What a GitLab token is, in the product's words.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::enums::all;

/// A value from outside (a URL, a form, the database) that is not one the domain knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, value: &str) -> Self {
        Self {
            what,
            value: value.to_owned(),
        }
    }
}

/// The kinds of token the inventory tracks.
///
/// Project and group access tokens are, in GitLab, personal access tokens of a bot user created
/// for them; `Personal` is a personal access token of a service account (or of a bot whose
/// project or group access token could not be told apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum TokenKind {
    ProjectAccess,
    GroupAccess,
    Deploy,
    Personal,
}

impl TokenKind {
    pub const ALL: [TokenKind; 4] = all(Self::VARIANTS);

    /// The stable identifier used in URLs, the API and the database.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("token kind", value)
    }

    /// How people call it.
    pub fn label(self) -> &'static str {
        match self {
            TokenKind::ProjectAccess => "Project access token",
            TokenKind::GroupAccess => "Group access token",
            TokenKind::Deploy => "Deploy token",
            TokenKind::Personal => "Service account token",
        }
    }
}

/// Where a token lives in GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum ContainerKind {
    Project,
    Group,
    Instance,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("container kind", value)
    }
}

/// GitLab's roles, by their numeric access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, VariantArray)]
#[serde(try_from = "i32", into = "i32")]
pub enum AccessLevel {
    Guest = 10,
    Planner = 15,
    Reporter = 20,
    Developer = 30,
    Maintainer = 40,
    Owner = 50,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 6] = all(Self::VARIANTS);

    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::Guest => "Guest",
            AccessLevel::Planner => "Planner",
            AccessLevel::Reporter => "Reporter",
            AccessLevel::Developer => "Developer",
            AccessLevel::Maintainer => "Maintainer",
            AccessLevel::Owner => "Owner",
        }
    }
}

impl TryFrom<i32> for AccessLevel {
    type Error = ParseError;

    fn try_from(value: i32) -> Result<Self, Self::Error> {
        AccessLevel::ALL
            .into_iter()
            .find(|level| *level as i32 == value)
            .ok_or_else(|| ParseError::new("access level", &value.to_string()))
    }
}

impl From<AccessLevel> for i32 {
    fn from(level: AccessLevel) -> Self {
        level as i32
    }
}

/// A token's state as people see it, derived from what GitLab says and what sync saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
    /// GitLab no longer returns it.
    Gone,
}

impl TokenStatus {
    /// Gone beats revoked beats expired: each says more about what happened than the next.
    /// GitLab tokens expire at 00:00 UTC on their expiry date, so a token whose date is today
    /// has already expired.
    pub fn derive(gone: bool, revoked: bool, expires_on: Option<NaiveDate>, today: NaiveDate) -> Self {
        if gone {
            TokenStatus::Gone
        } else if revoked {
            TokenStatus::Revoked
        } else if expires_on.is_some_and(|date| date <= today) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    pub const ALL: [TokenStatus; 4] = all(Self::VARIANTS);

    /// Its identifier, in URLs and the database; also how the inventory shows it.
    pub fn label(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("token status", value)
    }
}

/// A team, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

/// A token as GitLab describes it, the shape sync writes (and fixtures load). Never the secret:
/// there is no field for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub gitlab_id: i64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub container_kind: ContainerKind,
    #[serde(default)]
    pub container_gitlab_id: Option<i64>,
    /// The group's or project's full path; empty for instance-wide tokens.
    pub container_path: String,
    #[serde(default)]
    pub account_gitlab_id: Option<i64>,
    #[serde(default)]
    pub account_username: Option<String>,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub access_level: Option<AccessLevel>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A token as the inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: i64,
    pub kind: TokenKind,
    pub gitlab_id: i64,
    pub name: String,
    pub container_kind: ContainerKind,
    pub container_path: String,
    pub account_username: Option<String>,
    pub scopes: Vec<String>,
    pub access_level: Option<AccessLevel>,
    pub created_at: Option<DateTime<Utc>>,
    pub expires_on: Option<NaiveDate>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub gone_since: Option<DateTime<Utc>>,
    /// The team a person set, or else the team owning the token's group path.
    #[serde(default)]
    pub owner_team: Option<TeamRef>,
    /// The owner team was worked out from the group path; nobody has confirmed it.
    #[serde(default)]
    pub owner_inferred: bool,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// Everything the inventory knows about one token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDetail {
    pub summary: TokenSummary,
    pub description: Option<String>,
    pub container_gitlab_id: Option<i64>,
    pub account_gitlab_id: Option<i64>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The team inferred for it (its group path's, or its service account's), whatever a person set.
    pub inferred_team: Option<TeamRef>,
    /// The inferred team is its service account's (set or inferred there), not its group path's.
    pub inferred_from_account: bool,
    pub ownership: crate::Ownership,
}

impl TokenSummary {
    pub fn status(&self, today: NaiveDate) -> TokenStatus {
        TokenStatus::derive(self.gone_since.is_some(), self.revoked, self.expires_on, today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn access_levels_are_gitlabs_numbers() {
        let table = [
            (10, "Guest"),
            (15, "Planner"),
            (20, "Reporter"),
            (30, "Developer"),
            (40, "Maintainer"),
            (50, "Owner"),
        ];
        for (number, label) in table {
            let level = AccessLevel::try_from(number).expect("known level");
            assert_eq!(level.label(), label);
            assert_eq!(i32::from(level), number);
        }
        assert!(AccessLevel::try_from(35).is_err());
        assert!(AccessLevel::Maintainer > AccessLevel::Developer);
    }

    #[test]
    fn status_prefers_gone_then_revoked_then_expired() {
        let today = day("2026-11-25");
        let table = [
            (false, false, None, TokenStatus::Active),
            (false, false, Some("2026-11-26"), TokenStatus::Active),
            (false, false, Some("2026-11-25"), TokenStatus::Expired),
            (false, false, Some("2026-01-01"), TokenStatus::Expired),
            (false, true, Some("2026-01-01"), TokenStatus::Revoked),
            (false, true, None, TokenStatus::Revoked),
            (true, true, Some("2026-01-01"), TokenStatus::Gone),
            (true, false, None, TokenStatus::Gone),
        ];
        for (gone, revoked, expires, expected) in table {
            let status = TokenStatus::derive(gone, revoked, expires.map(day), today);
            assert_eq!(status, expected, "gone={gone} revoked={revoked} expires={expires:?}");
        }
    }
}
