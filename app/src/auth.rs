//! Who is asking, on the server: the one extractor every server function and API route uses,
//! from the session cookie or an API key (`Authorization: Bearer ti_…`), and the checks built on
//! it. Refusals are [`AppError::Unauthorized`] (401: nobody signed in) or [`AppError::Forbidden`]
//! (403: signed in, not allowed).

use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::{
    db::{GITLAB_STATE_ACTIVE, GITLAB_STATE_GONE, StoredApiKey},
    domain::{Role, Viewer},
    error::AppError,
    state::AppState,
};

/// Session keys.
pub const SESSION_USER_ID: &str = "user_id";
pub const SESSION_SIGNED_IN_AT: &str = "signed_in_at";
/// When the session was last renewed; saving it moves its idle expiry.
pub const SESSION_SEEN_AT: &str = "seen_at";

/// A session is renewed (written) at most this often (or a quarter of the idle timeout, if that
/// is shorter), and an API key's last use recorded at most this often: a page view is a read,
/// not a write.
const RENEW_EVERY_SECONDS: i64 = 300;

/// API keys read `ti_<prefix>_<secret>`; the prefix finds the key, the secret's hash proves it.
pub const API_KEY_PREFIX: &str = "ti_";

/// SHA-256 in hex. Sessions and API keys are long random secrets, so a fast hash is enough to keep
/// a copy of the database from being a copy of the credentials.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two hashes in constant time.
fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The person asking, or nobody.
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeViewer {
    type Rejection = AppError;

    /// Worked out once per request (the sign-in gate, then every server function a page calls
    /// read the same answer from the request's extensions).
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<MaybeViewer>() {
            return Ok(known.clone());
        }
        let viewer = identify(parts, state).await?;
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// Who is asking: an API key in `Authorization`, or the session's person (the session renewed at
/// most every few minutes).
async fn identify<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<MaybeViewer, AppError> {
    let Some(app) = parts.extensions.get::<AppState>().cloned() else {
        tracing::error!("the application state is missing from the request");
        return Err(AppError::Internal);
    };
    if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        // A credential that was presented and is wrong is refused, not ignored.
        let value = header.to_str().map_err(|_| AppError::Unauthorized)?;
        return viewer_from_api_key(&app, value).await.map(|v| MaybeViewer(Some(v)));
    }
    let Ok(session) = Session::from_request_parts(parts, state).await else {
        return Ok(MaybeViewer(None));
    };
    let user_id: Option<i64> = session.get(SESSION_USER_ID).await.map_err(session_error)?;
    let Some(user_id) = user_id else {
        return Ok(MaybeViewer(None));
    };
    let signed_in_at: Option<DateTime<Utc>> = session.get(SESSION_SIGNED_IN_AT).await.map_err(session_error)?;
    let too_old = signed_in_at.is_none_or(|at| Utc::now() - at > app.auth.absolute_timeout);
    if too_old {
        session.flush().await.map_err(session_error)?;
        return Ok(MaybeViewer(None));
    }
    let viewer = app.repo.viewer(user_id).await?;
    if viewer.is_none() {
        session.flush().await.map_err(session_error)?;
        return Ok(MaybeViewer(None));
    }
    let seen_at: Option<DateTime<Utc>> = session.get(SESSION_SEEN_AT).await.map_err(session_error)?;
    let now = Utc::now();
    let renew_every = (app.auth.idle_timeout.num_seconds() / 4).clamp(1, RENEW_EVERY_SECONDS);
    if seen_at.is_none_or(|at| (now - at).num_seconds() >= renew_every) {
        session.insert(SESSION_SEEN_AT, now).await.map_err(session_error)?;
    }
    Ok(MaybeViewer(viewer))
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(error.message = %error, "session store failed");
    AppError::Internal
}

async fn viewer_from_api_key(app: &AppState, header: &str) -> Result<Viewer, AppError> {
    let presented = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .and_then(|key| key.strip_prefix(API_KEY_PREFIX))
        .ok_or(AppError::Unauthorized)?;
    let (prefix, secret) = presented.split_once('_').ok_or(AppError::Unauthorized)?;
    let stored = app.repo.find_api_key(prefix).await?.ok_or(AppError::Unauthorized)?;
    let now = Utc::now();
    let usable = stored.key.revoked_at.is_none() && stored.key.expires_on > now.date_naive();
    if !same_hash(&secret_hash(secret), &stored.secret_hash) || !usable {
        return Err(AppError::Unauthorized);
    }
    if let Some(refusal) = owner_refusal(&stored, now, app.auth.api_key_sign_in_max_age) {
        tracing::info!(user.id = stored.user_id, api_key.prefix = %prefix, reason = %refusal, "API key refused");
        return Err(refusal);
    }
    // The roles and teams of the owner's last sign-in (`users`, `user_teams`), read with the key.
    let mut viewer = stored.owner;
    viewer.read_only = stored.key.scope == crate::db::ApiKeyScope::Read;
    viewer.api_key_id = Some(stored.key.id);
    if stored
        .key
        .last_used_at
        .is_none_or(|at| (now - at).num_seconds() >= RENEW_EVERY_SECONDS)
    {
        app.repo.touch_api_key(stored.key.id, now).await?;
    }
    Ok(viewer)
}

/// Why a genuine, unexpired, unrevoked key may not be used, if it may not: its owner's account is
/// known to be anything but active in GitLab (blocked, deactivated, banned, deleted: what sync
/// last read), or its owner has not signed in within `max_age`, so the roles it would act with may
/// be out of date. Signing in again renews both.
fn owner_refusal(stored: &StoredApiKey, now: DateTime<Utc>, max_age: chrono::Duration) -> Option<AppError> {
    match stored.owner_gitlab_state.as_deref() {
        None | Some(GITLAB_STATE_ACTIVE) => {}
        Some(GITLAB_STATE_GONE) => {
            return Some(AppError::UnauthorizedBecause(
                "the owner of this API key no longer exists in GitLab; the key no longer works".to_owned(),
            ));
        }
        Some(state) => {
            return Some(AppError::UnauthorizedBecause(format!(
                "the owner of this API key is {state} in GitLab; the key no longer works"
            )));
        }
    }
    (now - stored.owner_signed_in_at > max_age).then(|| {
        AppError::UnauthorizedBecause(format!(
            "the owner of this API key last signed in to Token Inventory more than {} days ago; sign in \
             again to renew your roles and this key",
            max_age.num_days()
        ))
    })
}

/// The person asking, or `None`; for server functions.
pub async fn viewer() -> Result<Option<Viewer>, AppError> {
    let MaybeViewer(viewer) = leptos_axum::extract::<MaybeViewer>()
        .await
        .map_err(|error| match error {
            leptos::server_fn::error::ServerFnErrorErr::ServerError(message) => {
                serde_json::from_str::<AppError>(&message).unwrap_or(AppError::Unauthorized)
            }
            _ => AppError::Unauthorized,
        })?;
    Ok(viewer)
}

/// The person asking; 401 when nobody signed in.
pub async fn require_viewer() -> Result<Viewer, AppError> {
    viewer().await?.ok_or(AppError::Unauthorized)
}

/// The person asking, when they hold `role` (security and admin count as every role below
/// them); 403 otherwise.
pub async fn require_role(role: Role) -> Result<Viewer, AppError> {
    let viewer = require_viewer().await?;
    if allows(&viewer, role) {
        Ok(viewer)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether `viewer` acts with `role`.
pub fn allows(viewer: &Viewer, role: Role) -> bool {
    viewer.acts_as(role)
}

/// Refuses changes made with a read-only API key.
pub fn require_write(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.read_only {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_whole() {
        let hash = secret_hash("abc");
        assert!(same_hash(&hash, &secret_hash("abc")));
        assert!(!same_hash(&hash, &secret_hash("abd")));
        assert!(!same_hash(&hash, &hash[..10]));
        assert_eq!(hash.len(), 64);
    }
}
