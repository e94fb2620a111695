//! Sync: reads every token and service account from GitLab and writes them to the database.
//!
//! Two strategies, picked by what the credential may do (`GET /user`'s `is_admin`):
//! - **administrator**: discovers every group (offset pages fetched side by side), project and
//!   non-human user (keyset) instance-wide. Bot usernames (`project_<id>_bot_…`,
//!   `group_<id>_bot_…`) say which projects and groups have access tokens, so only those are
//!   asked for them (with their access levels, which `/personal_access_tokens` lacks); service
//!   accounts' tokens come from `/personal_access_tokens?user_id=`, and what they can reach from
//!   `/users/:id/memberships`. Deploy tokens are asked of every project and group: GitLab's
//!   instance-wide `/deploy_tokens` does not say where a token lives.
//! - **group owner**: walks each root group (configured, or every top-level group the
//!   credential owns): its descendant groups and projects, then each one's access tokens and
//!   deploy tokens, and the root's service accounts and their tokens. GitLab lists a user's
//!   memberships to administrators only, so this way leaves the stored memberships as they are.
//!
//! Writes go through one writer task in batches (one transaction each); an account's
//! memberships, once its listing was read to the end, replace the stored ones in a transaction of
//! their own. Tokens not seen are marked gone at the end, and only where every listing that could
//! have shown them succeeded.
//!
//! Either way, each person holding a usable API key of the product's own is looked up
//! (`GET /users/:id`) and their account's state stored: a key stops working once its owner is
//! blocked, deactivated, banned or deleted in GitLab. An answer that does not come changes
//! nothing.

mod administrator;
pub mod cli;
pub mod client;
mod group_owner;
mod key_owners;
mod listings;
mod records;
mod run;
pub mod schedule;
mod tally;
mod writer;

use std::time::Duration;

use app::domain::{SyncError, SyncProgress, SyncStatus};
use secrecy::SecretString;

use self::client::ClientOptions;
use self::run::SyncRun;
pub use self::run::run;

/// Which way to read GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyChoice {
    /// Administrator when the credential is one, group owner otherwise.
    Auto,
    Administrator,
    GroupOwner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Administrator,
    GroupOwner,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Administrator => "administrator",
            Strategy::GroupOwner => "group_owner",
        }
    }
}

/// What a sync needs. The token is a secret: never logged, never stored.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub gitlab_url: String,
    pub token: SecretString,
    /// Full paths of the groups to read; empty: the whole instance (administrator) or every
    /// top-level group the credential owns.
    pub root_groups: Vec<String>,
    pub strategy: StrategyChoice,
    pub client: ClientOptions,
    /// How long a run holds the lease without renewing it; a run whose process died is taken
    /// over after this.
    pub lease_ttl: Duration,
    /// Tokens per database transaction.
    pub batch_size: usize,
    /// The policy the review's findings are worked out by, after each run.
    pub review: domain::review::ReviewPolicy,
}

impl SyncSettings {
    pub fn new(gitlab_url: impl Into<String>, token: SecretString) -> Self {
        SyncSettings {
            gitlab_url: gitlab_url.into(),
            token,
            root_groups: Vec::new(),
            strategy: StrategyChoice::Auto,
            client: ClientOptions::default(),
            lease_ttl: Duration::from_secs(120),
            batch_size: 2_000,
            review: domain::review::ReviewPolicy::default(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub run_id: i64,
    pub status: SyncStatus,
    pub strategy: Option<Strategy>,
    pub requests: u64,
    pub progress: SyncProgress,
    pub errors: Vec<SyncError>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncStartError {
    #[error("another sync is running")]
    AlreadyRunning,
    #[error(transparent)]
    Database(#[from] db::DbError),
}
