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
    /// The calendar feeds the person may subscribe to.
    pub calendars: Vec<CalendarFeed>,
}

/// A calendar feed of token expiries (served by the server's `calendar` module): what it holds
/// and its path on this site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarFeed {
    pub name: String,
    pub path: String,
}

/// The feeds `viewer` may read: every token's for security and admins, and each of their teams'.
pub fn calendar_feeds(viewer: &Viewer) -> Vec<CalendarFeed> {
    let all = viewer.is_security().then(|| CalendarFeed {
        name: "Every team".to_owned(),
        path: "/calendar/all.ics".to_owned(),
    });
    all.into_iter()
        .chain(viewer.teams.iter().map(|team| CalendarFeed {
            name: team.team_name.clone(),
            path: format!("/calendar/team/{}.ics", team.team_id),
        }))
        .collect()
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
        calendars: calendar_feeds(&viewer),
    })
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::{new_secret as new_api_key_secret, view as api_key_view};

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
