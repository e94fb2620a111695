//! GitLab's OAuth2 provider: authorization code with PKCE (S256 or plain) and `state`, a small
//! sign-in page listing the world's people, `/oauth/token` (authorization code and refresh token),
//! `/oauth/revoke`, `/oauth/token/info` and `/oauth/userinfo`, failing as GitLab fails.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    Form, Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{SimState, model::*};

/// Authorization codes live ten minutes, access tokens two hours, as on GitLab.
const CODE_LIFETIME: Duration = Duration::from_secs(600);
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

struct Code {
    client_id: String,
    redirect_uri: String,
    user_id: Id,
    scopes: Vec<String>,
    challenge: Option<(String, String)>,
    issued: Instant,
    /// Tokens issued for it, revoked if the code is used again.
    used_for: Option<String>,
}

struct Grant {
    user_id: Id,
    client_id: String,
    scopes: Vec<String>,
    issued: Instant,
    issued_at: i64,
    refresh_token: String,
}

#[derive(Default)]
pub struct OAuthState {
    codes: Mutex<HashMap<String, Code>>,
    /// Access token → grant.
    grants: Mutex<HashMap<String, Grant>>,
    /// Refresh token → access token.
    refresh: Mutex<HashMap<String, String>>,
}

fn random(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

impl OAuthState {
    /// The user and scopes of a live OAuth access token.
    pub fn access_token(&self, token: &str) -> Option<(Id, Vec<String>)> {
        let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        let grant = grants.get(token)?;
        (grant.issued.elapsed() < ACCESS_TOKEN_LIFETIME).then(|| (grant.user_id, grant.scopes.clone()))
    }

    fn issue(&self, user_id: Id, client_id: &str, scopes: Vec<String>) -> (String, Grant) {
        let access = random(64);
        let refresh = random(64);
        let grant = Grant {
            user_id,
            client_id: client_id.to_owned(),
            scopes,
            issued: Instant::now(),
            issued_at: chrono::Utc::now().timestamp(),
            refresh_token: refresh.clone(),
        };
        self.refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(refresh, access.clone());
        (access, grant)
    }

    fn revoke_access(&self, access: &str) {
        if let Some(grant) = self.grants.lock().unwrap_or_else(|e| e.into_inner()).remove(access) {
            self.refresh
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&grant.refresh_token);
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// On the sign-in form: who signs in, and `approve` or `deny`.
    user_id: Option<Id>,
    decision: Option<String>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>An error has occurred</title></head><body>\
         <h1>An error has occurred</h1><p>{}</p></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{separator}{query}")).into_response()
}

/// Checks the request; an unknown client or redirect URI gets an error page (never a redirect),
/// the rest are redirected back with `error` and `state`.
fn check_authorize(state: &SimState, params: &AuthorizeParams) -> Result<(String, Vec<String>), Box<Response>> {
    let world = state.world.read().unwrap_or_else(|e| e.into_inner());
    let Some(app) = params
        .client_id
        .as_deref()
        .and_then(|id| world.oauth_apps.iter().find(|app| app.client_id == id))
    else {
        return Err(Box::new(error_page(
            StatusCode::UNAUTHORIZED,
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )));
    };
    let Some(redirect_uri) = params
        .redirect_uri
        .clone()
        .filter(|uri| app.redirect_uris.contains(uri))
    else {
        return Err(Box::new(error_page(
            StatusCode::BAD_REQUEST,
            "The redirect URI included is not valid.",
        )));
    };
    let back = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = params.state.as_deref() {
            pairs.push(("state", s));
        }
        redirect_with(&redirect_uri, &pairs)
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(Box::new(back(
            "unsupported_response_type",
            "The authorization server does not support this response type.",
        )));
    }
    let scopes: Vec<String> = params
        .scope
        .as_deref()
        .unwrap_or("read_user")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.iter().any(|s| !app.scopes.contains(s)) {
        return Err(Box::new(back(
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        )));
    }
    match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) | (Some(_), None | Some("S256") | Some("plain")) => {}
        _ => {
            return Err(Box::new(back(
                "invalid_request",
                "Code challenge method must be plain or S256.",
            )));
        }
    }
    Ok((redirect_uri, scopes))
}

/// `GET /oauth/authorize`: the sign-in and consent page.
pub async fn authorize_page(State(state): State<SimState>, Query(params): Query<AuthorizeParams>) -> Response {
    if let Err(refusal) = check_authorize(&state, &params) {
        return *refusal;
    }
    let world = state.world.read().unwrap_or_else(|e| e.into_inner());
    let hidden: String = [
        ("client_id", params.client_id.as_deref()),
        ("redirect_uri", params.redirect_uri.as_deref()),
        ("response_type", params.response_type.as_deref()),
        ("state", params.state.as_deref()),
        ("scope", params.scope.as_deref()),
        ("code_challenge", params.code_challenge.as_deref()),
        ("code_challenge_method", params.code_challenge_method.as_deref()),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.map(|v| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(v)))
    })
    .collect();
    let people: String = world
        .users
        .values()
        .filter(|u| !u.kind.is_bot() && u.state == "active")
        .take(200)
        .map(|u| {
            format!(
                "<li><form method=\"post\" action=\"/oauth/authorize\">{hidden}\
                 <input type=\"hidden\" name=\"user_id\" value=\"{}\">\
                 <button name=\"decision\" value=\"approve\">Sign in as {} ({})</button></form></li>",
                u.id,
                escape(&u.name),
                escape(&u.username)
            )
        })
        .collect();
    let body = format!(
        "<!DOCTYPE html><html><head><title>Sign in · gitlab-sim</title></head><body>\
         <h1>Sign in to gitlab-sim</h1><p>Choose who signs in; the application asks for: {}.</p>\
         <ul id=\"people\">{people}</ul>\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}<button name=\"decision\" value=\"deny\">Deny</button></form>\
         </body></html>",
        escape(params.scope.as_deref().unwrap_or("read_user"))
    );
    Html(body).into_response()
}

/// `POST /oauth/authorize`: the person chose to sign in (or denied); back to the client.
pub async fn authorize_decision(State(state): State<SimState>, Form(params): Form<AuthorizeParams>) -> Response {
    let (redirect_uri, scopes) = match check_authorize(&state, &params) {
        Ok(checked) => checked,
        Err(refusal) => return *refusal,
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if params.decision.as_deref() != Some("approve") {
        pairs.push(("error", "access_denied".to_owned()));
        pairs.push((
            "error_description",
            "The resource owner or authorization server denied the request.".to_owned(),
        ));
    } else {
        let user_ok = {
            let world = state.world.read().unwrap_or_else(|e| e.into_inner());
            params
                .user_id
                .and_then(|id| world.users.get(&id))
                .is_some_and(|u| !u.kind.is_bot())
        };
        let Some(user_id) = params.user_id.filter(|_| user_ok) else {
            return error_page(StatusCode::BAD_REQUEST, "Choose a person to sign in as.");
        };
        let code = random(64);
        let challenge = params.code_challenge.clone().map(|c| {
            (
                c,
                params
                    .code_challenge_method
                    .clone()
                    .unwrap_or_else(|| "plain".to_owned()),
            )
        });
        state.oauth.codes.lock().unwrap_or_else(|e| e.into_inner()).insert(
            code.clone(),
            Code {
                client_id: params.client_id.clone().unwrap_or_default(),
                redirect_uri: redirect_uri.clone(),
                user_id,
                scopes,
                challenge,
                issued: Instant::now(),
                used_for: None,
            },
        );
        pairs.push(("code", code));
    }
    if let Some(s) = params.state.clone() {
        pairs.push(("state", s));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(&redirect_uri, &pairs)
}

#[derive(Debug, Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    token: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

fn invalid_grant() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

/// The client's id and secret from the form or from HTTP Basic authentication.
fn client_credentials(headers: &HeaderMap, params: &TokenParams) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    Some((params.client_id.clone()?, params.client_secret.clone()?))
}

fn authenticate_client(state: &SimState, headers: &HeaderMap, params: &TokenParams) -> Option<String> {
    let (id, secret) = client_credentials(headers, params)?;
    let world = state.world.read().unwrap_or_else(|e| e.into_inner());
    world
        .oauth_apps
        .iter()
        .any(|app| app.client_id == id && app.client_secret == secret)
        .then_some(id)
}

fn token_response(access: &str, grant: &Grant) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
            "refresh_token": grant.refresh_token,
            "scope": grant.scopes.join(" "),
            "created_at": grant.issued_at,
        })),
    )
        .into_response()
}

/// `POST /oauth/token`.
pub async fn token(State(state): State<SimState>, headers: HeaderMap, Form(params): Form<TokenParams>) -> Response {
    let Some(client_id) = authenticate_client(&state, &headers, &params) else {
        return invalid_client();
    };
    match params.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(&state, &client_id, &params),
        Some("refresh_token") => refresh(&state, &client_id, &params),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ),
    }
}

fn exchange_code(state: &SimState, client_id: &str, params: &TokenParams) -> Response {
    let Some(code_value) = params.code.as_deref() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
        );
    };
    let mut codes = state.oauth.codes.lock().unwrap_or_else(|e| e.into_inner());
    let Some(code) = codes.get_mut(code_value) else {
        return invalid_grant();
    };
    // A code used twice revokes what it was exchanged for.
    if let Some(access) = code.used_for.take() {
        state.oauth.revoke_access(&access);
        codes.remove(code_value);
        return invalid_grant();
    }
    let verified = match (&code.challenge, params.code_verifier.as_deref()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((challenge, method)), Some(verifier)) => {
            let derived = if method == "S256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            &derived == challenge
        }
    };
    if code.client_id != client_id
        || params.redirect_uri.as_deref() != Some(code.redirect_uri.as_str())
        || code.issued.elapsed() > CODE_LIFETIME
        || !verified
    {
        return invalid_grant();
    }
    let (access, grant) = state.oauth.issue(code.user_id, client_id, code.scopes.clone());
    code.used_for = Some(access.clone());
    let response = token_response(&access, &grant);
    state
        .oauth
        .grants
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(access, grant);
    response
}

/// A refresh gives a new pair and invalidates the old one.
fn refresh(state: &SimState, client_id: &str, params: &TokenParams) -> Response {
    let Some(refresh_token) = params.refresh_token.as_deref() else {
        return invalid_grant();
    };
    let Some(old_access) = state
        .oauth
        .refresh
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(refresh_token)
    else {
        return invalid_grant();
    };
    let old = state
        .oauth
        .grants
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&old_access);
    let Some(old) = old.filter(|g| g.client_id == client_id) else {
        return invalid_grant();
    };
    let (access, grant) = state.oauth.issue(old.user_id, client_id, old.scopes);
    let response = token_response(&access, &grant);
    state
        .oauth
        .grants
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(access, grant);
    response
}

/// `POST /oauth/revoke`: always 200, as RFC 7009 asks.
pub async fn revoke(State(state): State<SimState>, headers: HeaderMap, Form(params): Form<TokenParams>) -> Response {
    if authenticate_client(&state, &headers, &params).is_none() {
        return invalid_client();
    }
    if let Some(token) = params.token.as_deref() {
        let access = state
            .oauth
            .refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned();
        state.oauth.revoke_access(access.as_deref().unwrap_or(token));
    }
    Json(json!({})).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn unauthorized_oauth() -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "The access token is invalid")
}

/// `GET /oauth/token/info`.
pub async fn token_info(State(state): State<SimState>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthorized_oauth();
    };
    let grants = state.oauth.grants.lock().unwrap_or_else(|e| e.into_inner());
    match grants
        .get(&token)
        .filter(|g| g.issued.elapsed() < ACCESS_TOKEN_LIFETIME)
    {
        Some(grant) => {
            let left = ACCESS_TOKEN_LIFETIME.saturating_sub(grant.issued.elapsed()).as_secs();
            Json(json!({
                "resource_owner_id": grant.user_id,
                "scope": grant.scopes,
                "scopes": grant.scopes,
                "expires_in": left,
                "expires_in_seconds": left,
                "application": {"uid": grant.client_id},
                "created_at": grant.issued_at,
            }))
            .into_response()
        }
        None => unauthorized_oauth(),
    }
}

/// `GET /oauth/userinfo`: OpenID Connect claims of the signed-in person.
pub async fn userinfo(State(state): State<SimState>, headers: HeaderMap) -> Response {
    let Some((user_id, scopes)) = bearer(&headers).and_then(|t| state.oauth.access_token(&t)) else {
        return unauthorized_oauth();
    };
    if !scopes.iter().any(|s| s == "openid") {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The request requires the openid scope.",
        );
    }
    let world = state.world.read().unwrap_or_else(|e| e.into_inner());
    let Some(user) = world.users.get(&user_id) else {
        return unauthorized_oauth();
    };
    let groups: Vec<&str> = world
        .groups
        .values()
        .filter(|g| world.group_access(user_id, g.id).is_some())
        .map(|g| g.full_path.as_str())
        .collect();
    let groups_direct: Vec<&str> = world
        .groups
        .values()
        .filter(|g| world.members.contains_key(&(Source::Group(g.id), user_id)))
        .map(|g| g.full_path.as_str())
        .collect();
    // GitLab adds, per role, the groups the person is a direct member of with exactly that role.
    let direct_with = |level: u8| -> Vec<&str> {
        world
            .groups
            .values()
            .filter(|g| world.members.get(&(Source::Group(g.id), user_id)) == Some(&level))
            .map(|g| g.full_path.as_str())
            .collect()
    };
    Json(json!({
        "https://gitlab.org/claims/groups/owner": direct_with(50),
        "https://gitlab.org/claims/groups/maintainer": direct_with(40),
        "https://gitlab.org/claims/groups/developer": direct_with(30),
        "sub": user.id.to_string(),
        "sub_legacy": user.id.to_string(),
        "name": user.name,
        "nickname": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": true,
        "profile": format!("http://gitlab.example.com/{}", user.username),
        "picture": null,
        "groups": groups,
        "groups_direct": groups_direct,
    }))
    .into_response()
}
