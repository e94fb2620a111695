//! The writes that make an approved service account, over GitLab's REST API with the write
//! credential (`FULFIL_GITLAB_TOKEN`): a group's service account, its memberships, its first
//! token. Reads (a group's id, a user by name, an account's tokens) retry like sync's; each write
//! is one attempt, its failure told apart as "answer lost" or "refused" for the command in
//! `app::commands::fulfil` to look up and go on.

use std::sync::Arc;

use app::{
    domain::{AccessLevel, ContainerKind},
    state::{CreatedToken, GitLabWrites, NewToken, TokenSecret, WriteError},
};
use reqwest::Method;
use serde::Deserialize;

use crate::sync::client::{ClientError, ClientOptions, GitLabClient, SendFailed};

pub struct RestWrites {
    client: Arc<GitLabClient>,
}

impl RestWrites {
    pub fn new(gitlab_url: &str, token: secrecy::SecretString, timeout: std::time::Duration) -> anyhow::Result<Self> {
        let options = ClientOptions {
            attempts: 4,
            timeout,
            concurrency: 4,
            ..ClientOptions::default()
        };
        Ok(RestWrites {
            client: GitLabClient::new(gitlab_url, token, options)?,
        })
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value, WriteError> {
        self.client
            .send(Method::POST, path, &body)
            .await
            .map(|(_, value)| value)
            .map_err(write_error)
    }
}

fn write_error(failed: SendFailed) -> WriteError {
    match failed {
        SendFailed::Lost(why) => WriteError::Unknown(why),
        SendFailed::Refused(status, message) => WriteError::Refused {
            status: status.as_u16(),
            message,
        },
    }
}

fn read_error(error: ClientError) -> WriteError {
    match error {
        ClientError::Refused { path, status } => WriteError::Refused {
            status: status.as_u16(),
            message: format!("{path}: {status}"),
        },
        ClientError::Unauthorized => WriteError::Refused {
            status: 401,
            message: "the write credential (FULFIL_GITLAB_TOKEN) was refused".to_owned(),
        },
        other => WriteError::Unknown(other.to_string()),
    }
}

/// A path segment as GitLab takes a group's or project's full path for its id.
fn encoded(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

#[derive(Deserialize)]
struct Token {
    id: i64,
    name: String,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    expires_at: Option<chrono::NaiveDate>,
}

fn created(value: serde_json::Value) -> Result<CreatedToken, WriteError> {
    let token: Token = serde_json::from_value(value).map_err(|error| WriteError::Refused {
        status: 200,
        message: format!("GitLab's answer is not a token: {error}"),
    })?;
    let secret = token.token.ok_or_else(|| WriteError::Refused {
        status: 200,
        message: "GitLab's answer has no token secret".to_owned(),
    })?;
    Ok(CreatedToken {
        id: token.id,
        secret: TokenSecret(secret),
        expires_on: token.expires_at,
    })
}

fn id_of(value: serde_json::Value) -> Result<i64, WriteError> {
    serde_json::from_value::<Id>(value)
        .map(|found| found.id)
        .map_err(|error| WriteError::Refused {
            status: 200,
            message: format!("GitLab's answer has no id: {error}"),
        })
}

#[async_trait::async_trait]
impl GitLabWrites for RestWrites {
    async fn group_id(&self, path: &str) -> Result<i64, WriteError> {
        let (group, _) = self
            .client
            .get::<Id>(&format!("/groups/{}", encoded(path)))
            .await
            .map_err(read_error)?;
        Ok(group.id)
    }

    async fn find_user(&self, username: &str) -> Result<Option<i64>, WriteError> {
        let (users, _) = self
            .client
            .get::<Vec<Id>>(&format!("/users?username={}", encoded(username)))
            .await
            .map_err(read_error)?;
        Ok(users.first().map(|user| user.id))
    }

    async fn create_service_account(&self, group: i64, name: &str, username: &str) -> Result<i64, WriteError> {
        let value = self
            .post(
                &format!("/groups/{group}/service_accounts"),
                serde_json::json!({"name": name, "username": username}),
            )
            .await?;
        id_of(value)
    }

    async fn add_member(
        &self,
        kind: ContainerKind,
        path: &str,
        user: i64,
        role: AccessLevel,
    ) -> Result<(), WriteError> {
        let container = match kind {
            ContainerKind::Project => "projects",
            _ => "groups",
        };
        let answer = self
            .post(
                &format!("/{container}/{}/members", encoded(path)),
                serde_json::json!({"user_id": user, "access_level": i32::from(role)}),
            )
            .await;
        match answer {
            // Added by an earlier try whose answer was lost.
            Err(WriteError::Refused { status: 409, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn active_tokens(&self, group: i64, user: i64) -> Result<Vec<(i64, String)>, WriteError> {
        let tokens: Vec<Token> = self
            .client
            .all_pages(&format!(
                "/groups/{group}/service_accounts/{user}/personal_access_tokens?state=active"
            ))
            .await
            .map_err(read_error)?;
        Ok(tokens
            .into_iter()
            .filter(|token| token.active != Some(false))
            .map(|token| (token.id, token.name))
            .collect())
    }

    async fn create_token(&self, group: i64, user: i64, token: &NewToken) -> Result<CreatedToken, WriteError> {
        let scopes: Vec<&str> = token.scopes.iter().map(|scope| scope.as_str()).collect();
        let value = self
            .post(
                &format!("/groups/{group}/service_accounts/{user}/personal_access_tokens"),
                serde_json::json!({
                    "name": token.name,
                    "description": token.description,
                    "scopes": scopes,
                    "expires_at": token.expires_on.to_string(),
                }),
            )
            .await?;
        created(value)
    }

    async fn rotate_token(
        &self,
        group: i64,
        user: i64,
        token: i64,
        expires_on: chrono::NaiveDate,
    ) -> Result<CreatedToken, WriteError> {
        let value = self
            .post(
                &format!("/groups/{group}/service_accounts/{user}/personal_access_tokens/{token}/rotate"),
                serde_json::json!({"expires_at": expires_on.to_string()}),
            )
            .await?;
        created(value)
    }
}
