//! The listings of tokens (and of service accounts' memberships), fetched side by side.

use std::{collections::BTreeMap, sync::Arc};

use app::{
    db::SyncBatch,
    domain::{ContainerKind, TokenKind, TokenRecord},
};
use futures_util::{StreamExt, stream};

use super::{
    SyncRun,
    client::{ApiAccessToken, ApiDeployToken, ApiMembership},
    records::{Container, SourcePaths, Usernames, access_token_record, deploy_token_record, membership_records},
    writer::Write,
};

/// Where a service account's personal access tokens are listed, and its container.
#[derive(Debug, Clone)]
pub(super) struct ServiceAccountTokens {
    pub path: String,
    pub user_id: i64,
    pub container: Container,
}

/// One listing to fetch: a container's access or deploy tokens, or a service account's.
#[derive(Debug, Clone)]
pub(super) enum Work {
    Access(Container),
    Deploy(Container),
    /// A service account's personal access tokens (boxed: they are few, and a listing of each of
    /// 200,000 projects is the size of the largest kind).
    ServiceAccount(Box<ServiceAccountTokens>),
    /// A service account's memberships (administrators only), with the full paths of the groups
    /// and projects sync knows.
    Memberships {
        user_id: i64,
        username: String,
        paths: Arc<SourcePaths>,
    },
}

impl Work {
    fn phase(&self) -> &'static str {
        match self {
            Work::Access(c) if c.kind == ContainerKind::Project => "project access tokens",
            Work::Access(_) => "group access tokens",
            Work::Deploy(_) => "deploy tokens",
            Work::ServiceAccount(_) => "service account tokens",
            Work::Memberships { .. } => "service account memberships",
        }
    }
}

impl SyncRun<'_> {
    /// Fetches every listing in `work`, side by side, and sends what it finds to the writer.
    pub(super) async fn fetch(&self, work: Vec<Work>, usernames: &Usernames) {
        let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
        for item in &work {
            *totals.entry(item.phase()).or_default() += 1;
        }
        for (phase, total) in totals {
            self.tally.phase(phase, 0, Some(total));
        }
        stream::iter(work)
            .for_each_concurrent(self.client.concurrency(), |item| async move {
                let tokens = match &item {
                    Work::Access(container) => self.list_access(container, usernames).await,
                    Work::Deploy(container) => self.list_deploy(container).await,
                    Work::ServiceAccount(listing) => {
                        let ServiceAccountTokens {
                            path,
                            user_id,
                            container,
                        } = listing.as_ref();
                        self.list_service_account(path, *user_id, container, usernames).await
                    }
                    Work::Memberships {
                        user_id,
                        username,
                        paths,
                    } => {
                        self.list_memberships(*user_id, username, paths).await;
                        None
                    }
                };
                self.tally.phase(item.phase(), 1, None);
                if let Some(tokens) = tokens.filter(|t| !t.is_empty()) {
                    self.send_batch(SyncBatch {
                        tokens,
                        ..SyncBatch::default()
                    })
                    .await;
                }
            })
            .await;
    }

    /// A project's or group's access tokens; `None` when the listing failed.
    async fn list_access(&self, container: &Container, usernames: &Usernames) -> Option<Vec<TokenRecord>> {
        let kind = container.access_kind();
        let path = format!("{}/access_tokens", container.api_path());
        match self.client.all_pages::<ApiAccessToken>(&path).await {
            Ok(tokens) => {
                self.tally.listed(kind, container.kind, container.id);
                Some(
                    tokens
                        .into_iter()
                        .map(|t| access_token_record(t, kind, container, usernames))
                        .collect(),
                )
            }
            Err(error) => {
                self.tally.error(&*container.path, &error, container.unknown(kind));
                None
            }
        }
    }

    async fn list_deploy(&self, container: &Container) -> Option<Vec<TokenRecord>> {
        let path = format!("{}/deploy_tokens", container.api_path());
        match self.client.all_pages::<ApiDeployToken>(&path).await {
            Ok(tokens) => {
                self.tally.listed(TokenKind::Deploy, container.kind, container.id);
                Some(tokens.into_iter().map(|t| deploy_token_record(t, container)).collect())
            }
            Err(error) => {
                self.tally
                    .error(&*container.path, &error, container.unknown(TokenKind::Deploy));
                None
            }
        }
    }

    async fn list_service_account(
        &self,
        path: &str,
        user_id: i64,
        container: &Container,
        usernames: &Usernames,
    ) -> Option<Vec<TokenRecord>> {
        match self.client.all_pages::<ApiAccessToken>(path).await {
            Ok(tokens) => {
                self.tally.listed(TokenKind::Personal, container.kind, container.id);
                Some(
                    tokens
                        .into_iter()
                        .filter(|t| t.user_id.is_none_or(|u| u == user_id))
                        .map(|t| access_token_record(t, TokenKind::Personal, container, usernames))
                        .collect(),
                )
            }
            Err(error) => {
                let scope = usernames
                    .get(user_id)
                    .map_or_else(|| format!("user {user_id}"), str::to_owned);
                self.tally.error(scope, &error, container.unknown(TokenKind::Personal));
                None
            }
        }
    }

    /// Only a listing read to the end replaces what is stored; a failed one keeps it.
    async fn list_memberships(&self, user_id: i64, username: &str, paths: &SourcePaths) {
        match self
            .client
            .all_pages::<ApiMembership>(&format!("/users/{user_id}/memberships"))
            .await
        {
            Ok(found) => {
                let memberships = membership_records(&found, paths);
                self.send(Write::Memberships {
                    account_gitlab_id: user_id,
                    memberships,
                })
                .await;
            }
            Err(error) => self.tally.failed(format!("{username} memberships"), &error),
        }
    }
}
