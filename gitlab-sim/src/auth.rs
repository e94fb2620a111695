//! Who is asking: `PRIVATE-TOKEN` or `Authorization: Bearer` (a personal access token or an
//! OAuth access token), checked against the token's state and scopes, then rate limited per user.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{SimState, error::ApiError, model::Id};

/// The authenticated caller, put in the request's extensions for the handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Id,
    pub is_admin: bool,
    pub scopes: Vec<String>,
    /// The personal access token used, when it was one (for `/personal_access_tokens/self`).
    pub token_id: Option<Id>,
}

impl Caller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(token.trim().to_owned());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// What a set of scopes allows: `api` everything; `read_api` reads; `read_user` reads the user
/// endpoints only.
fn scope_allows(caller: &Caller, method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD);
    if caller.has_scope("api") {
        return true;
    }
    if read && caller.has_scope("read_api") {
        return true;
    }
    let user_endpoint = path == "/api/v4/user" || path.starts_with("/api/v4/users");
    read && user_endpoint && (caller.has_scope("read_user") || caller.has_scope("openid"))
}

pub async fn authenticate(State(state): State<SimState>, mut request: Request, next: Next) -> Response {
    let caller = {
        let Some(secret) = presented_token(request.headers()) else {
            return ApiError::Unauthorized.into_response();
        };
        let today = state.today();
        let world = state.world.read().unwrap_or_else(|e| e.into_inner());
        if let Some((token, user)) = world.token_by_secret(&secret) {
            if !token.active(today) || user.state != "active" {
                return ApiError::Unauthorized.into_response();
            }
            Caller {
                user_id: user.id,
                is_admin: user.is_admin,
                scopes: token.scopes.clone(),
                token_id: Some(token.id),
            }
        } else {
            match state.oauth.access_token(&secret) {
                Some((user_id, scopes)) => Caller {
                    user_id,
                    is_admin: world.users.get(&user_id).is_some_and(|u| u.is_admin),
                    scopes,
                    token_id: None,
                },
                None => return ApiError::Unauthorized.into_response(),
            }
        }
    };
    // The path as the client sent it, not as `nest` left it.
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|original| original.0.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    if !scope_allows(&caller, request.method(), &path) {
        return ApiError::InsufficientScope.into_response();
    }
    let decision = state.limiter.check(caller.user_id);
    if let Some(refusal) = decision.refusal() {
        return refusal;
    }
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    decision.annotate(response.headers_mut());
    response
}
