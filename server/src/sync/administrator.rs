//! The administrator's way: instance-wide discovery, then only the listings it cannot avoid.
//!
//! Two branches overlap: as soon as groups and projects are known their deploy tokens are asked
//! for, while the (sequential, keyset) listing of bot users goes on; the access-token and service
//! account listings follow once the users are known. The client keeps requests in flight at
//! `concurrency` across both.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use app::{
    db::SyncBatch,
    domain::{AccountKind, AccountRecord, ContainerKind},
};
use tokio::sync::oneshot;

use super::{
    SyncRun,
    client::{ApiGroup, ApiProject, ApiUser, ClientError},
    listings::Work,
    records::{Container, group_record, project_record, source_paths},
};

type Structure = (Vec<ApiGroup>, Vec<ApiProject>);

/// The bot users in the groups sync reads, sorted out.
#[derive(Default)]
struct Bots {
    accounts: Vec<AccountRecord>,
    /// Projects and groups with a bot user: only these hold access tokens.
    with_bots: HashSet<(ContainerKind, i64)>,
    /// Service accounts and where they belong.
    service_accounts: Vec<(i64, (ContainerKind, Option<i64>))>,
}

impl SyncRun<'_> {
    pub(super) async fn administrator(&self) -> anyhow::Result<()> {
        let (structure_sender, structure) = oneshot::channel::<Structure>();
        let ((), access) = tokio::join!(self.deploy_branch(structure_sender), self.access_branch(structure));
        access
    }

    /// Discovers groups and projects, hands them to the access branch, and lists their deploy
    /// tokens.
    async fn deploy_branch(&self, structure: oneshot::Sender<Structure>) {
        let roots = &self.settings.root_groups;
        let (groups, projects) = tokio::join!(
            self.client
                .all_pages::<ApiGroup>("/groups?all_available=true&order_by=id&sort=asc"),
            self.client.all_keyset::<ApiProject>("/projects"),
        );
        let groups: Vec<ApiGroup> = groups
            .unwrap_or_else(|error| {
                self.tally.discovery_failed("groups", &error);
                Vec::new()
            })
            .into_iter()
            .filter(|g| path_in_roots(&g.full_path, roots))
            .collect();
        let projects: Vec<ApiProject> = projects
            .unwrap_or_else(|error| {
                self.tally.discovery_failed("projects", &error);
                Vec::new()
            })
            .into_iter()
            .filter(|p| path_in_roots(&p.path_with_namespace, roots))
            .collect();
        self.tally.counted("groups", groups.len());
        self.tally.counted("projects", projects.len());
        self.send_batch(SyncBatch {
            groups: groups.iter().map(group_record).collect(),
            projects: projects.iter().map(project_record).collect(),
            ..SyncBatch::default()
        })
        .await;
        let work: Vec<Work> = projects
            .iter()
            .map(|p| Work::Deploy(Container::project(p)))
            .chain(groups.iter().map(|g| Work::Deploy(Container::group(g))))
            .collect();
        // The access branch waits for the structure; it only stops waiting when it returned early
        // (a refused credential), and then nothing needs it.
        if structure.send((groups, projects)).is_err() {
            tracing::debug!("the access listings ended before the structure was read");
        }
        self.fetch(work, &HashMap::new()).await;
    }

    /// Lists the bot users, then the access tokens of the projects and groups that have a bot,
    /// and the service accounts' tokens and memberships.
    async fn access_branch(&self, structure: oneshot::Receiver<Structure>) -> anyhow::Result<()> {
        let users = match self.client.all_keyset::<ApiUser>("/users?exclude_humans=true").await {
            Ok(users) => users,
            Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
            Err(error) => {
                self.tally.discovery_failed("users", &error);
                Vec::new()
            }
        };
        let Ok((groups, projects)) = structure.await else {
            return Ok(());
        };
        let group_paths: HashMap<i64, String> = groups.iter().map(|g| (g.id, g.full_path.clone())).collect();
        let project_ids: HashSet<i64> = projects.iter().map(|p| p.id).collect();
        let named = self.service_accounts_named_freely(&users, &groups).await;
        let bots = self.bots(&users, &project_ids, &group_paths, &named);
        self.tally.counted("accounts", bots.accounts.len());
        let usernames: HashMap<i64, String> = users.iter().map(|u| (u.id, u.username.clone())).collect();
        self.send_batch(SyncBatch {
            accounts: bots.accounts,
            ..SyncBatch::default()
        })
        .await;

        let mut work = self.access_work(&bots.with_bots, &groups, &projects);
        // What service accounts can reach needs every group's and project's path; when
        // discovery failed, the memberships stored stay as they are.
        let paths = self
            .tally
            .discovery_complete()
            .then(|| Arc::new(source_paths(&groups, &projects)));
        for (user_id, (kind, id)) in bots.service_accounts {
            let path = match id.and_then(|id| group_paths.get(&id)) {
                Some(path) => path.clone(),
                None if kind == ContainerKind::Instance => String::new(),
                None => continue,
            };
            work.push(Work::ServiceAccount {
                path: format!("/personal_access_tokens?user_id={user_id}"),
                user_id,
                container: Container { kind, id, path },
            });
            if let Some(paths) = &paths {
                work.push(Work::Memberships {
                    user_id,
                    username: usernames
                        .get(&user_id)
                        .cloned()
                        .unwrap_or_else(|| format!("user {user_id}")),
                    paths: paths.clone(),
                });
            }
        }
        self.fetch(work, &usernames).await;
        Ok(())
    }

    /// Service accounts made with a username of their own (`POST …/service_accounts` takes one),
    /// which the username does not tell from GitLab's internal bots: looked up in the instance's
    /// and each top-level group's service accounts, only when such a bot exists. By user id: the
    /// group, or `None` for the instance's. A listing that fails leaves its accounts out (they
    /// are not made gone: nothing is, when discovery failed).
    async fn service_accounts_named_freely(&self, users: &[ApiUser], groups: &[ApiGroup]) -> HashMap<i64, Option<i64>> {
        let mut named = HashMap::new();
        if !users
            .iter()
            .any(|u| u.bot && AccountKind::from_username(&u.username).is_none())
        {
            return named;
        }
        let listings = std::iter::once((None, "/service_accounts".to_owned())).chain(
            groups
                .iter()
                .filter(|g| g.parent_id.is_none())
                .map(|g| (Some(g.id), format!("/groups/{}/service_accounts", g.id))),
        );
        for (group, path) in listings {
            match self.client.all_pages::<ApiUser>(&path).await {
                Ok(accounts) => named.extend(accounts.into_iter().map(|account| (account.id, group))),
                Err(error) => self.tally.discovery_failed("service accounts", &error),
            }
        }
        named
    }

    /// The bot users of the projects and groups sync reads (every one when it reads the whole
    /// instance), by their usernames (`project_<id>_bot_…`, `group_<id>_bot_…`).
    fn bots(
        &self,
        users: &[ApiUser],
        project_ids: &HashSet<i64>,
        group_paths: &HashMap<i64, String>,
        named: &HashMap<i64, Option<i64>>,
    ) -> Bots {
        let mut bots = Bots::default();
        for user in users.iter().filter(|u| u.bot) {
            let found = AccountKind::from_username(&user.username)
                .or_else(|| named.get(&user.id).map(|group| (AccountKind::ServiceAccount, *group)));
            let Some((kind, container_id)) = found else {
                continue;
            };
            let container = match (kind, container_id) {
                (AccountKind::ProjectBot, Some(id)) => (ContainerKind::Project, Some(id)),
                (AccountKind::GroupBot, Some(id)) | (AccountKind::ServiceAccount, Some(id)) => {
                    (ContainerKind::Group, Some(id))
                }
                _ => (ContainerKind::Instance, None),
            };
            let in_scope = match container {
                (ContainerKind::Project, Some(id)) => project_ids.contains(&id),
                (ContainerKind::Group, Some(id)) => group_paths.contains_key(&id),
                _ => self.settings.root_groups.is_empty(),
            };
            if !in_scope {
                continue;
            }
            if let (ContainerKind::Project | ContainerKind::Group, Some(id)) = container
                && kind != AccountKind::ServiceAccount
            {
                bots.with_bots.insert((container.0, id));
            }
            if kind == AccountKind::ServiceAccount {
                bots.service_accounts.push((user.id, container));
            }
            bots.accounts.push(AccountRecord {
                gitlab_id: user.id,
                username: user.username.clone(),
                name: user.name.clone(),
                kind,
                container_kind: container.0,
                container_gitlab_id: container.1,
                state: user.state.clone(),
            });
        }
        bots
    }

    /// The access-token listings to make: only of projects and groups with a bot user. Without
    /// one, GitLab holds no access token there, and sync knows every one stored is gone.
    fn access_work(
        &self,
        with_bots: &HashSet<(ContainerKind, i64)>,
        groups: &[ApiGroup],
        projects: &[ApiProject],
    ) -> Vec<Work> {
        let containers = projects
            .iter()
            .map(Container::project)
            .chain(groups.iter().map(Container::group));
        let mut work = Vec::new();
        for container in containers {
            let id = container.id.unwrap_or_default();
            if with_bots.contains(&(container.kind, id)) {
                work.push(Work::Access(container));
            } else {
                self.tally.listed(container.access_kind(), container.kind, container.id);
            }
        }
        work
    }
}

fn path_in_roots(path: &str, roots: &[String]) -> bool {
    roots.is_empty()
        || roots
            .iter()
            .any(|root| path == root || path.starts_with(&format!("{root}/")))
}

#[cfg(test)]
mod tests {
    use super::path_in_roots;

    #[test]
    fn a_path_is_in_a_root_when_it_is_the_root_or_below_it() {
        let roots = ["acme/platform".to_owned()];
        assert!(path_in_roots("acme/platform", &roots));
        assert!(path_in_roots("acme/platform/api", &roots));
        assert!(!path_in_roots("acme/platform-legacy", &roots));
        assert!(!path_in_roots("acme", &roots));
        assert!(path_in_roots("anything", &[]));
    }
}
