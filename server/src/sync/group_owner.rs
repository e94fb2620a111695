//! The group owner's way: walk each root group: its descendant groups and projects, then each
//! one's access tokens and deploy tokens, and the root's service accounts and their tokens.

use app::{
    db::SyncBatch,
    domain::{AccountKind, AccountRecord, ContainerKind, TokenKind, UnknownScope},
};
use futures_util::{StreamExt, stream};

use super::{
    SyncRun,
    client::{ApiGroup, ApiProject, ApiUser, ClientError},
    listings::{ServiceAccountTokens, Work},
    records::{Container, Usernames, group_record, project_record},
};

/// What the walk below the root groups found.
#[derive(Default)]
struct Found {
    groups: Vec<ApiGroup>,
    projects: Vec<ApiProject>,
    /// Each service account with its (top-level) group.
    service_accounts: Vec<(ApiUser, ApiGroup)>,
}

/// One root's three listings, as they came.
type RootListings = (
    ApiGroup,
    Result<Vec<ApiGroup>, ClientError>,
    Result<Vec<ApiProject>, ClientError>,
    Result<Vec<ApiUser>, ClientError>,
);

impl SyncRun<'_> {
    pub(super) async fn group_owner(&self) -> anyhow::Result<()> {
        let roots = self.roots().await?;
        let found = self.walk(roots).await;
        self.tally.counted("groups", found.groups.len());
        self.tally.counted("projects", found.projects.len());
        let accounts: Vec<AccountRecord> = found
            .service_accounts
            .iter()
            .map(|(user, root)| service_account_record(user, root))
            .collect();
        self.tally.counted("accounts", accounts.len());
        let usernames: Usernames = found
            .service_accounts
            .iter()
            .map(|(user, _)| (user.id, user.username.as_str()))
            .collect();
        self.send_batch(SyncBatch {
            accounts,
            groups: found.groups.iter().map(group_record).collect(),
            projects: found.projects.iter().cloned().map(project_record).collect(),
            tokens: Vec::new(),
        })
        .await;
        self.fetch(work(&found), &usernames).await;
        Ok(())
    }

    /// The configured root groups, or every top-level group the credential owns.
    async fn roots(&self) -> anyhow::Result<Vec<ApiGroup>> {
        if self.settings.root_groups.is_empty() {
            let path = "/groups?top_level_only=true&min_access_level=50&order_by=id&sort=asc";
            return Ok(self.client.all_pages::<ApiGroup>(path).await?);
        }
        let mut roots = Vec::new();
        for path in &self.settings.root_groups {
            let encoded = path.replace('/', "%2F");
            match self.client.get::<ApiGroup>(&format!("/groups/{encoded}")).await {
                Ok((group, _)) => roots.push(group),
                Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
                Err(error) => self.tally.discovery_failed(path, &error),
            }
        }
        Ok(roots)
    }

    /// Each root's descendant groups, projects and (top-level roots only) service accounts,
    /// side by side.
    async fn walk(&self, roots: Vec<ApiGroup>) -> Found {
        let listings: Vec<RootListings> = stream::iter(roots)
            .map(|root| self.list_root(root))
            .buffer_unordered(self.client.concurrency())
            .collect()
            .await;
        let mut found = Found::default();
        for (root, descendants, projects, accounts) in listings {
            match descendants {
                Ok(groups) => found.groups.extend(groups),
                Err(error) => self.tally.discovery_failed(&root.full_path, &error),
            }
            match projects {
                Ok(projects) => found.projects.extend(projects),
                Err(error) => self.tally.discovery_failed(&root.full_path, &error),
            }
            match accounts {
                Ok(accounts) => found
                    .service_accounts
                    .extend(accounts.into_iter().map(|a| (a, root.clone()))),
                Err(error) => self.tally.error(
                    format!("{} service accounts", root.full_path),
                    &error,
                    UnknownScope {
                        kind: Some(TokenKind::Personal),
                        container: Some((ContainerKind::Group, root.id)),
                    },
                ),
            }
            found.groups.push(root);
        }
        found.groups.sort_by_key(|g| g.id);
        found.groups.dedup_by_key(|g| g.id);
        found.projects.sort_by_key(|p| p.id);
        found.projects.dedup_by_key(|p| p.id);
        found
    }

    async fn list_root(&self, root: ApiGroup) -> RootListings {
        let id = root.id;
        let descendants_path = format!("/groups/{id}/descendant_groups?order_by=id&sort=asc");
        let projects_path = format!("/groups/{id}/projects?include_subgroups=true&order_by=id&sort=asc");
        let (descendants, projects, accounts) = tokio::join!(
            self.client.all_pages::<ApiGroup>(&descendants_path),
            self.client.all_pages::<ApiProject>(&projects_path),
            async {
                // Service accounts belong to top-level groups only.
                if root.parent_id.is_some() {
                    return Ok(Vec::new());
                }
                self.client
                    .all_pages::<ApiUser>(&format!("/groups/{id}/service_accounts"))
                    .await
            },
        );
        (root, descendants, projects, accounts)
    }
}

fn service_account_record(user: &ApiUser, root: &ApiGroup) -> AccountRecord {
    AccountRecord {
        gitlab_id: user.id,
        username: user.username.clone(),
        name: user.name.clone(),
        kind: AccountKind::ServiceAccount,
        container_kind: ContainerKind::Group,
        container_gitlab_id: Some(root.id),
        state: if user.state.is_empty() {
            "active".to_owned()
        } else {
            user.state.clone()
        },
    }
}

/// Every project's and group's access and deploy tokens (a group owner cannot tell from the
/// users which have access tokens), and each service account's tokens.
fn work(found: &Found) -> Vec<Work> {
    let containers = found
        .projects
        .iter()
        .map(Container::project)
        .chain(found.groups.iter().map(Container::group));
    let mut work = Vec::new();
    for container in containers {
        work.push(Work::Access(container.clone()));
        work.push(Work::Deploy(container));
    }
    for (user, root) in &found.service_accounts {
        work.push(Work::ServiceAccount(Box::new(ServiceAccountTokens {
            path: format!(
                "/groups/{}/service_accounts/{}/personal_access_tokens",
                root.id, user.id
            ),
            user_id: user.id,
            container: Container::group(root),
        })));
    }
    work
}
