//! The signed-in person: who they are (for the header) and their API keys for the product's own
//! JSON API. A key is shown once, when it is created; the database keeps only its prefix and the
//! SHA-256 of its secret. Keys expire (at most a year, as the token guidelines ask of every token)
//! and are read-only or read-write. Only a signed-in person makes keys: a key that could make keys
//! would renew itself forever without its owner. A key may revoke itself, never its owner's other
//! keys.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth;
use crate::{domain::Viewer, error::AppError};

/// The longest an API key may live, in days: the guidelines' "always set an expiration date",
/// with GitLab's own maximum lifetime for tokens.
pub const API_KEY_MAX_DAYS: i64 = 365;

/// Why a request made with an API key cannot make one.
pub const KEYS_CANNOT_CREATE_KEYS: &str = "API keys cannot create API keys; sign in to create one";

/// An API key as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub read_write: bool,
    pub created_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub last_used_on: Option<NaiveDate>,
    pub revoked: bool,
    pub expired: bool,
}

/// What the API keys page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKeyView>,
    pub today: NaiveDate,
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

/// Who is signed in, or nobody. The one server function open to anyone: it tells nothing but
/// the caller's own identity.
#[server]
pub async fn current_user() -> Result<Option<Viewer>, AppError> {
    auth::viewer().await
}

/// The caller's API keys, newest first.
#[server]
pub async fn list_api_keys() -> Result<ApiKeyList, AppError> {
    let viewer = auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let keys = state.repo.list_api_keys(viewer.id).await?;
    Ok(ApiKeyList {
        keys: keys.into_iter().map(|key| ssr::view(key, today)).collect(),
        today,
    })
}

/// Creates an API key for `viewer` (from the account page's form, which shows the secret once on
/// the page it answers with). `expires_in_days` is 1 to 365. Refused (403) to a request made with
/// an API key, whatever its scope: keys are made by a signed-in person.
#[cfg(feature = "ssr")]
pub async fn create_key_for(
    repo: &crate::db::Repo,
    viewer: &Viewer,
    name: &str,
    read_write: bool,
    expires_in_days: &str,
) -> Result<CreatedApiKey, AppError> {
    if viewer.via_api_key() {
        return Err(AppError::ForbiddenBecause(KEYS_CANNOT_CREATE_KEYS.to_owned()));
    }
    auth::require_write(viewer)?;
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(AppError::invalid("name", "give the key a name that says what uses it"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid("name", "a name is at most 100 characters"));
    }
    let days: i64 = expires_in_days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=API_KEY_MAX_DAYS).contains(d))
        .ok_or_else(|| AppError::invalid("expires_in_days", format!("choose 1 to {API_KEY_MAX_DAYS} days")))?;
    let now = chrono::Utc::now();
    let (prefix, secret) = ssr::new_secret();
    let created = repo
        .create_api_key(
            &crate::db::NewApiKey {
                user_id: viewer.id,
                name,
                prefix: prefix.clone(),
                secret_hash: auth::secret_hash(&secret),
                scope: if read_write {
                    crate::db::ApiKeyScope::ReadWrite
                } else {
                    crate::db::ApiKeyScope::Read
                },
                expires_on: now.date_naive() + chrono::Duration::days(days),
            },
            now,
        )
        .await?;
    tracing::info!(user.id = viewer.id, api_key.prefix = %prefix, "API key created");
    Ok(CreatedApiKey {
        key: ssr::view(created, now.date_naive()),
        secret: format!("{}{prefix}_{secret}", auth::API_KEY_PREFIX),
    })
}

/// Revokes one of `viewer`'s own keys. A request made with an API key may revoke that key only,
/// even a read-only one (ending a leaked key is always allowed to whoever holds it); the owner's
/// other keys need them signed in.
#[cfg(feature = "ssr")]
pub async fn revoke_key_for(repo: &crate::db::Repo, viewer: &Viewer, id: i64) -> Result<(), AppError> {
    if viewer.api_key_id.is_some_and(|own| own != id) {
        return Err(AppError::ForbiddenBecause(
            "an API key can revoke only itself; sign in to revoke your other keys".to_owned(),
        ));
    }
    if repo.revoke_api_key(viewer.id, id, chrono::Utc::now()).await? {
        tracing::info!(user.id = viewer.id, api_key.id = id, "API key revoked");
        Ok(())
    } else {
        Err(AppError::NotFound(format!("an active API key {id} of yours")))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use chrono::NaiveDate;
    use rand::{Rng, distr::Alphanumeric};

    use super::ApiKeyView;
    use crate::db::{ApiKey, ApiKeyScope};

    /// A prefix (8 characters, to find the key) and a secret (40 characters, about 238 bits).
    pub fn new_secret() -> (String, String) {
        let mut rng = rand::rng();
        let mut take = |n: usize| -> String { (&mut rng).sample_iter(&Alphanumeric).take(n).map(char::from).collect() };
        (take(8).to_lowercase(), take(40))
    }

    pub fn view(key: ApiKey, today: NaiveDate) -> ApiKeyView {
        ApiKeyView {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            read_write: key.scope == ApiKeyScope::ReadWrite,
            created_on: key.created_at.date_naive(),
            expired: key.expires_on <= today,
            expires_on: key.expires_on,
            last_used_on: key.last_used_at.map(|at| at.date_naive()),
            revoked: key.revoked_at.is_some(),
        }
    }
}
