//! GitLab as the OAuth2 provider: authorization code with PKCE (S256) and `state`, the code
//! exchanged with an HTTP client that does not follow redirects, then who signed in from
//! `/api/v4/user` and their groups from `/oauth/userinfo`. The GitLab access token is used for
//! those two calls and then revoked: the product keeps no GitLab credential of the person.

use app::{
    db::UserProfile,
    domain::{AccessLevel, GroupMembership},
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RevocationUrl, Scope, TokenResponse, TokenUrl,
    basic::{BasicClient, BasicTokenType},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// The scopes sign-in asks for: who the person is and their groups, nothing else.
pub const SCOPES: [&str; 2] = ["openid", "read_user"];

/// What sign-in needs from the configuration.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub gitlab_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// `<public URL>/auth/callback`.
    pub redirect_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("GitLab refused the sign-in code: it may have expired or been used already. Please sign in again.")]
    CodeRefused,
    #[error("GitLab could not be reached to finish the sign-in; please try again in a moment.")]
    Unreachable,
    #[error("GitLab's answer about who signed in could not be read.")]
    BadProfile,
}

/// The OAuth client and the HTTP client it uses.
#[derive(Clone)]
pub struct GitLabOAuth {
    client: Client,
    http: reqwest::Client,
    gitlab_url: String,
}

/// A sign-in under way: what the callback must see again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub verifier: String,
    /// Where to go afterwards (a path of this site).
    pub next: String,
}

impl GitLabOAuth {
    pub fn new(settings: &OAuthSettings) -> anyhow::Result<Self> {
        let base = settings.gitlab_url.trim_end_matches('/');
        let client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(settings.client_secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{base}/oauth/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{base}/oauth/token"))?)
            .set_revocation_url(RevocationUrl::new(format!("{base}/oauth/revoke"))?)
            .set_redirect_uri(RedirectUrl::new(settings.redirect_url.clone())?);
        // No redirects: a token endpoint that redirects is not one to send a code to.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()?;
        Ok(GitLabOAuth {
            client,
            http,
            gitlab_url: base.to_owned(),
        })
    }

    /// The URL to send the person to, and what to remember until they come back.
    pub fn authorize(&self, next: String) -> (String, PendingSignIn) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        (
            url.to_string(),
            PendingSignIn {
                state: state.secret().clone(),
                verifier: verifier.secret().clone(),
                next,
            },
        )
    }

    /// Exchanges the code, reads who signed in and their groups, and revokes the access token.
    pub async fn finish(
        &self,
        code: String,
        pending: &PendingSignIn,
    ) -> Result<(UserProfile, Vec<GroupMembership>), SignInError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                oauth2::RequestTokenError::ServerResponse(_) => SignInError::CodeRefused,
                other => {
                    tracing::warn!(error.message = %other, "sign-in: the code exchange failed");
                    SignInError::Unreachable
                }
            })?;
        debug_assert_eq!(token.token_type(), &BasicTokenType::Bearer);
        let access = token.access_token().secret().clone();
        let result = self.profile(&access).await;
        // Best effort: the person's GitLab token is of no further use to us.
        let revoke = self.client.revoke_token(token.access_token().into());
        if let Ok(request) = revoke {
            let _ = request.request_async(&self.http).await;
        }
        result
    }

    async fn profile(&self, access: &str) -> Result<(UserProfile, Vec<GroupMembership>), SignInError> {
        let get = |path: &str| {
            self.http
                .get(format!("{}{path}", self.gitlab_url))
                .bearer_auth(access)
                .send()
        };
        let (user, info) = tokio::join!(get("/api/v4/user"), get("/oauth/userinfo"));
        let read =
            async |response: Result<reqwest::Response, reqwest::Error>| -> Result<serde_json::Value, SignInError> {
                let response = response.map_err(|_| SignInError::Unreachable)?;
                if !response.status().is_success() {
                    tracing::warn!(
                        http.status = response.status().as_u16(),
                        "sign-in: GitLab refused the profile request"
                    );
                    return Err(SignInError::BadProfile);
                }
                response.json().await.map_err(|_| SignInError::BadProfile)
            };
        let user: ApiUser = serde_json::from_value(read(user).await?).map_err(|_| SignInError::BadProfile)?;
        let info: UserInfo = serde_json::from_value(read(info).await?).map_err(|_| SignInError::BadProfile)?;
        if info.sub != user.id.to_string() {
            return Err(SignInError::BadProfile);
        }
        let memberships = info.memberships();
        let profile = UserProfile {
            gitlab_id: user.id,
            username: user.username,
            name: user.name,
            email: user.email.or(info.email).filter(|e| !e.is_empty()),
        };
        Ok((profile, memberships))
    }
}

#[derive(Deserialize)]
struct ApiUser {
    id: i64,
    username: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
}

/// OpenID Connect claims GitLab gives with `openid`: every group the person belongs to, and per
/// role the groups where they hold it directly.
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default, rename = "https://gitlab.org/claims/groups/owner")]
    owner: Vec<String>,
    #[serde(default, rename = "https://gitlab.org/claims/groups/maintainer")]
    maintainer: Vec<String>,
    #[serde(default, rename = "https://gitlab.org/claims/groups/developer")]
    developer: Vec<String>,
}

impl UserInfo {
    fn memberships(&self) -> Vec<GroupMembership> {
        let level = |path: &String| {
            if self.owner.contains(path) {
                Some(AccessLevel::Owner)
            } else if self.maintainer.contains(path) {
                Some(AccessLevel::Maintainer)
            } else if self.developer.contains(path) {
                Some(AccessLevel::Developer)
            } else {
                None
            }
        };
        let mut paths: Vec<&String> = self
            .groups
            .iter()
            .chain(&self.owner)
            .chain(&self.maintainer)
            .chain(&self.developer)
            .collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .map(|path| GroupMembership {
                path: path.clone(),
                access_level: level(path),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_claims_become_memberships_with_their_roles() {
        let info: UserInfo = serde_json::from_value(serde_json::json!({
            "sub": "7",
            "groups": ["acme", "acme/platform", "acme/platform/api"],
            "https://gitlab.org/claims/groups/maintainer": ["acme/platform"],
            "https://gitlab.org/claims/groups/owner": ["tools"],
        }))
        .expect("claims");
        let memberships = info.memberships();
        let find = |p: &str| memberships.iter().find(|m| m.path == p).map(|m| m.access_level);
        assert_eq!(find("acme/platform"), Some(Some(AccessLevel::Maintainer)));
        assert_eq!(find("acme"), Some(None));
        assert_eq!(find("tools"), Some(Some(AccessLevel::Owner)));
        assert_eq!(memberships.len(), 4);
    }
}
