//! Test data: the records the tests store, with defaults and chained setters. One file for every
//! test binary: db's tests reach it as `support::builders`, the server's through `common`.
//!
//! ```ignore
//! let token = TokenBuilder::project(7, "gateway-bot", "acme/platform/api")
//!     .scopes(&["api"])
//!     .expires_on(day("2026-12-01"))
//!     .build();
//! ```

#![allow(dead_code, reason = "each test binary uses a part of it")]

use chrono::{DateTime, NaiveDate, Utc};
use domain::{AccessLevel, AccountKind, AccountRecord, ContainerKind, GroupRecord, TokenKind, TokenRecord};

/// A `TokenRecord` under construction; `build` returns it.
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenBuilder(TokenRecord);

impl TokenBuilder {
    /// An active project access token `name` in project #1 at `path`, with `read_api`: no bot
    /// account, no access level, no dates.
    pub fn project(gitlab_id: i64, name: &str, path: &str) -> Self {
        Self(TokenRecord {
            kind: TokenKind::ProjectAccess,
            gitlab_id,
            name: name.to_owned(),
            description: None,
            container_kind: ContainerKind::Project,
            container_gitlab_id: Some(1),
            container_path: path.to_owned(),
            account_gitlab_id: None,
            account_username: None,
            scopes: vec!["read_api".to_owned()],
            access_level: None,
            created_at: None,
            expires_on: None,
            last_used_at: None,
            revoked: false,
            active: true,
        })
    }

    /// An active token of `kind` as a sync stores it: in a group (group access tokens) or a
    /// project with the id `gitlab_id * 10` at `path`, its bot account `gitlab_id + 1000`
    /// (`project_{gitlab_id}_bot_ab12`), `read_api` at Reporter, created on 2026-01-01.
    pub fn synced(kind: TokenKind, gitlab_id: i64, name: &str, path: &str) -> Self {
        let container_kind = if kind == TokenKind::GroupAccess {
            ContainerKind::Group
        } else {
            ContainerKind::Project
        };
        Self::project(gitlab_id, name, path)
            .kind(kind)
            .container(container_kind, gitlab_id * 10)
            .account(gitlab_id + 1000, &format!("project_{gitlab_id}_bot_ab12"))
            .access_level(Some(AccessLevel::Reporter))
            .created_at("2026-01-01T00:00:00Z".parse().expect("time"))
    }

    /// The kind alone: the container stays as it was.
    pub fn kind(mut self, kind: TokenKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// The group or project the token is in, by kind and GitLab id (the path stays).
    pub fn container(mut self, kind: ContainerKind, gitlab_id: i64) -> Self {
        self.0.container_kind = kind;
        self.0.container_gitlab_id = Some(gitlab_id);
        self
    }

    /// The account the token acts as, by GitLab id and username.
    pub fn account(mut self, gitlab_id: i64, username: &str) -> Self {
        self.0.account_gitlab_id = Some(gitlab_id);
        self.account_username(username)
    }

    /// The account's username alone.
    pub fn account_username(mut self, username: &str) -> Self {
        self.0.account_username = Some(username.to_owned());
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.0.scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        self
    }

    pub fn access_level(mut self, level: Option<AccessLevel>) -> Self {
        self.0.access_level = level;
        self
    }

    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.0.created_at = Some(at);
        self
    }

    /// A day, or `None` for a token that never expires.
    pub fn expires_on(mut self, day: impl Into<Option<NaiveDate>>) -> Self {
        self.0.expires_on = day.into();
        self
    }

    pub fn last_used_at(mut self, at: DateTime<Utc>) -> Self {
        self.0.last_used_at = Some(at);
        self
    }

    pub fn revoked(mut self) -> Self {
        self.0.revoked = true;
        self
    }

    pub fn build(self) -> TokenRecord {
        self.0
    }
}

/// An active service account `username` (its name the same) of the group `group`.
pub fn service_account(gitlab_id: i64, username: &str, group: i64) -> AccountRecord {
    AccountRecord {
        gitlab_id,
        username: username.to_owned(),
        name: username.to_owned(),
        kind: AccountKind::ServiceAccount,
        container_kind: ContainerKind::Group,
        container_gitlab_id: Some(group),
        state: "active".to_owned(),
    }
}

/// A top-level group at `full_path` on gitlab.example.com.
pub fn top_level_group(gitlab_id: i64, full_path: &str) -> GroupRecord {
    GroupRecord {
        gitlab_id,
        full_path: full_path.to_owned(),
        parent_gitlab_id: None,
        web_url: format!("https://gitlab.example.com/groups/{full_path}"),
    }
}
