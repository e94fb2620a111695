//! The server's shared state, handed to axum handlers by `FromRef` and to server functions as
//! context (`expect_context::<AppState>()`); it is also in every request's extensions, where the
//! [`crate::auth::MaybeViewer`] extractor finds it.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::db::Repo;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub repo: Repo,
    pub auth: Arc<AuthPolicy>,
    /// The sync scheduler of this replica; `None` when sync is not configured.
    pub sync: Option<Arc<dyn SyncControl>>,
    /// GitLab's web address, for links to where tokens live.
    pub gitlab_url: Option<String>,
    /// What the wizard recommends: lifetimes, the naming convention, GitLab's address.
    pub wizard: Arc<crate::domain::WizardPolicy>,
    /// What the review finds, and who may accept a risk.
    pub review: Arc<crate::domain::review::ReviewPolicy>,
    /// GitLab's API with the write credential that makes approved service accounts; `None` when
    /// none is configured (the request page then shows how to make the account by hand).
    pub gitlab_writes: Option<Arc<dyn GitLabWrites>>,
    /// Team alerts (digests on the teams' channels); `None` when no channel is configured.
    pub alerts: Option<Arc<dyn AlertControl>>,
}

/// Why a write to GitLab's API did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The answer was lost (a timeout, a 5xx, a dropped connection, a 429): the change may or may
    /// not have been made, so it is looked up before it is tried again.
    Unknown(String),
    /// GitLab refused it (a 4xx), with what it said.
    Refused { status: u16, message: String },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Unknown(why) => write!(f, "GitLab did not answer ({why})"),
            WriteError::Refused { status, message } => write!(f, "GitLab refused it ({status}): {message}"),
        }
    }
}

/// A token's secret, as GitLab answered it on creation: shown to one person once, never stored
/// nor logged (its `Debug` does not show it).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(pub String);

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(…)")
    }
}

/// A personal access token GitLab just made (or rotated), with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedToken {
    pub id: i64,
    pub secret: TokenSecret,
    pub expires_on: Option<chrono::NaiveDate>,
}

/// The token a fulfilment asks GitLab for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub description: String,
    pub scopes: Vec<crate::domain::Scope>,
    pub expires_on: chrono::NaiveDate,
}

/// The few writes (and the lookups they need) that make an approved service account in GitLab.
/// The server implements it over GitLab's REST API with the write credential; each call is one
/// attempt, and reads retry on their own.
#[async_trait::async_trait]
pub trait GitLabWrites: Send + Sync {
    /// A group's id, by its full path.
    async fn group_id(&self, path: &str) -> Result<i64, WriteError>;
    /// A user's id, by username (`None`: no such user).
    async fn find_user(&self, username: &str) -> Result<Option<i64>, WriteError>;
    /// `POST /groups/:id/service_accounts`: the new account's user id.
    async fn create_service_account(&self, group: i64, name: &str, username: &str) -> Result<i64, WriteError>;
    /// `POST /groups|projects/:path/members`; a member already there counts as added.
    async fn add_member(
        &self,
        kind: crate::domain::ContainerKind,
        path: &str,
        user: i64,
        role: crate::domain::AccessLevel,
    ) -> Result<(), WriteError>;
    /// The active personal access tokens of a group's service account: (id, name).
    async fn active_tokens(&self, group: i64, user: i64) -> Result<Vec<(i64, String)>, WriteError>;
    async fn create_token(&self, group: i64, user: i64, token: &NewToken) -> Result<CreatedToken, WriteError>;
    /// Rotates a token: a new one (with its secret) takes its place; the old one is revoked.
    async fn rotate_token(
        &self,
        group: i64,
        user: i64,
        token: i64,
        expires_on: chrono::NaiveDate,
    ) -> Result<CreatedToken, WriteError>;
}

/// What pages may ask of the sync scheduler.
pub trait SyncControl: Send + Sync {
    /// Asks for a run as soon as the one under way (if any) has ended.
    fn run_now(&self);
    /// The figures of the run this replica has under way.
    fn live_progress(&self) -> Option<crate::domain::SyncProgress>;
}

/// What pages may ask of team alerts.
pub trait AlertControl: Send + Sync {
    /// Every team's channels and security's (whether a webhook is configured, never its URL).
    fn channels(&self) -> Vec<crate::domain::alerts::ChannelSummary>;
    /// Makes and sends the digests of what is new now, as `by` asked (the audit log names them):
    /// how many digests were made.
    fn send_now(
        &self,
        by: &str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<usize, String>> + Send + '_>>;
}

/// The sign-in rules the server functions need.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: chrono::Duration,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::Duration,
    /// An API key works only while its owner signed in this recently: it acts with the roles and
    /// teams of that sign-in.
    pub api_key_sign_in_max_age: chrono::Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            absolute_timeout: chrono::Duration::hours(12),
            idle_timeout: chrono::Duration::hours(8),
            api_key_sign_in_max_age: chrono::Duration::days(30),
        }
    }
}
