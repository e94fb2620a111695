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
use tokio::sync::{mpsc, oneshot};

use super::{
    SyncRun,
    client::{ApiGroup, ApiProject, ApiUser, ClientError},
    listings::{ServiceAccountTokens, Work},
    records::{Container, Usernames, group_record, project_record, source_paths},
};

/// The groups, and the projects as the listings need them (not as GitLab described them: their
/// records went to the writer).
type Structure = (Vec<ApiGroup>, Vec<Container>);

/// The non-human users listing, read page by page (100 users each) into the sorting.
const USERS: &str = "/users?exclude_humans=true";

/// How many pages of users the listing may read ahead of their sorting, which first waits for
/// the groups and projects.
const USER_PAGES_AHEAD: usize = 1_000;

/// The bot users of the groups and projects sync reads, sorted out a page at a time as the
/// listing reads them: only what the listings after it need is kept, so a million bots are never
/// held at once.
struct Bots {
    project_ids: HashSet<i64>,
    group_paths: HashMap<i64, String>,
    /// Whether sync reads the whole instance (no root groups set): instance-wide accounts count.
    whole_instance: bool,
    /// Projects and groups with a bot user: only these hold access tokens.
    with_bots: HashSet<(ContainerKind, i64)>,
    /// Service accounts and where they belong.
    service_accounts: Vec<(i64, (ContainerKind, Option<i64>))>,
    /// The accounts' usernames by user id, for their tokens.
    usernames: Usernames,
    /// Bots whose username names no project or group: service accounts made with a username of
    /// their own, or GitLab's internal bots. Told apart once the listing ends (rare).
    unnamed: Vec<ApiUser>,
    /// How many accounts were sorted in.
    accounts: usize,
}

impl Bots {
    fn new(groups: &[ApiGroup], projects: &[Container], whole_instance: bool) -> Self {
        Bots {
            project_ids: projects.iter().filter_map(|p| p.id).collect(),
            group_paths: groups.iter().map(|g| (g.id, g.full_path.clone())).collect(),
            whole_instance,
            with_bots: HashSet::new(),
            service_accounts: Vec::new(),
            usernames: Usernames::default(),
            unnamed: Vec::new(),
            accounts: 0,
        }
    }

    /// One page of the users listing: the accounts of bots whose username tells where they
    /// belong (`project_<id>_bot_…`, `group_<id>_bot_…`, `service_account_…`); the others wait
    /// in `unnamed`.
    fn sort(&mut self, users: Vec<ApiUser>) -> Vec<AccountRecord> {
        let mut accounts = Vec::new();
        for user in users.into_iter().filter(|u| u.bot) {
            match AccountKind::from_username(&user.username) {
                Some((kind, container_id)) => accounts.extend(self.account(user, kind, container_id)),
                None => self.unnamed.push(user),
            }
        }
        accounts
    }

    /// The waiting bots that are service accounts (by user id: their group, or `None` for the
    /// instance's); the rest are not accounts sync keeps.
    fn sort_unnamed(&mut self, named: &HashMap<i64, Option<i64>>) -> Vec<AccountRecord> {
        std::mem::take(&mut self.unnamed)
            .into_iter()
            .filter_map(|user| {
                let group = *named.get(&user.id)?;
                self.account(user, AccountKind::ServiceAccount, group)
            })
            .collect()
    }

    /// The account of one bot, when it belongs to what sync reads.
    fn account(&mut self, user: ApiUser, kind: AccountKind, container_id: Option<i64>) -> Option<AccountRecord> {
        let container = match (kind, container_id) {
            (AccountKind::ProjectBot, Some(id)) => (ContainerKind::Project, Some(id)),
            (AccountKind::GroupBot, Some(id)) | (AccountKind::ServiceAccount, Some(id)) => {
                (ContainerKind::Group, Some(id))
            }
            _ => (ContainerKind::Instance, None),
        };
        let in_scope = match container {
            (ContainerKind::Project, Some(id)) => self.project_ids.contains(&id),
            (ContainerKind::Group, Some(id)) => self.group_paths.contains_key(&id),
            _ => self.whole_instance,
        };
        if !in_scope {
            return None;
        }
        if let (ContainerKind::Project | ContainerKind::Group, Some(id)) = container
            && kind != AccountKind::ServiceAccount
        {
            self.with_bots.insert((container.0, id));
        }
        if kind == AccountKind::ServiceAccount {
            self.service_accounts.push((user.id, container));
        }
        self.usernames.insert(user.id, &user.username);
        self.accounts += 1;
        Some(AccountRecord {
            gitlab_id: user.id,
            username: user.username,
            name: user.name,
            kind,
            container_kind: container.0,
            container_gitlab_id: container.1,
            state: user.state,
        })
    }
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
        let containers: Vec<Container> = projects.iter().map(Container::project).collect();
        // The records go to the writer a batch at a time, each project's description moved into
        // its record: a million tokens' projects are not held twice.
        self.send_batch(SyncBatch {
            groups: groups.iter().map(group_record).collect(),
            ..SyncBatch::default()
        })
        .await;
        let mut records = projects.into_iter().map(project_record);
        loop {
            let batch: Vec<_> = records.by_ref().take(self.settings.batch_size.max(1)).collect();
            if batch.is_empty() {
                break;
            }
            self.send_batch(SyncBatch {
                projects: batch,
                ..SyncBatch::default()
            })
            .await;
        }
        // The listing's buffer (every project's fields but the strings moved out: about 30 MB at
        // a million tokens) goes now, not after the deploy tokens' listings.
        drop(records);
        let work: Vec<Work> = containers
            .iter()
            .cloned()
            .chain(groups.iter().map(Container::group))
            .map(Work::Deploy)
            .collect();
        // The access branch waits for the structure; it only stops waiting when it returned early
        // (a refused credential), and then nothing needs it.
        if structure.send((groups, containers)).is_err() {
            tracing::debug!("the access listings ended before the structure was read");
        }
        self.fetch(work, &Usernames::default()).await;
    }

    /// Lists the bot users, then the access tokens of the projects and groups that have a bot,
    /// and the service accounts' tokens and memberships.
    async fn access_branch(&self, structure: oneshot::Receiver<Structure>) -> anyhow::Result<()> {
        let (sorted, users_listed) = self.sort_bots(structure).await;
        let users_complete = match users_listed {
            Ok(()) => true,
            Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
            Err(error) => {
                self.tally.discovery_failed("users", &error);
                false
            }
        };
        let Some((groups, projects, mut bots)) = sorted else {
            return Ok(());
        };
        if !bots.unnamed.is_empty() {
            let named = self.service_accounts_named_freely(&groups).await;
            let accounts = bots.sort_unnamed(&named);
            self.send_accounts(accounts).await;
        }
        self.tally.counted("accounts", bots.accounts);

        // Which projects and groups hold no access token is only known from every bot user.
        let mut work = self.access_work(users_complete.then_some(&bots.with_bots), &groups, &projects);
        // What service accounts can reach needs every group's and project's path; when
        // discovery failed, the memberships stored stay as they are.
        let paths = self
            .tally
            .discovery_complete()
            .then(|| Arc::new(source_paths(&groups, &projects)));
        for (user_id, (kind, id)) in std::mem::take(&mut bots.service_accounts) {
            let path = match id.and_then(|id| bots.group_paths.get(&id)) {
                Some(path) => Arc::from(path.as_str()),
                None if kind == ContainerKind::Instance => Arc::from(""),
                None => continue,
            };
            work.push(Work::ServiceAccount(Box::new(ServiceAccountTokens {
                path: format!("/personal_access_tokens?user_id={user_id}"),
                user_id,
                container: Container { kind, id, path },
            })));
            if let Some(paths) = &paths {
                work.push(Work::Memberships {
                    user_id,
                    username: bots
                        .usernames
                        .get(user_id)
                        .map_or_else(|| format!("user {user_id}"), str::to_owned),
                    paths: paths.clone(),
                });
            }
        }
        drop((groups, projects));
        bots.usernames.shrink_to_fit();
        self.fetch(work, &bots.usernames).await;
        Ok(())
    }

    /// Reads the users listing while it sorts its pages, once the structure is known, and writes
    /// the accounts as they are sorted. The structure and the bots sorted, unless the deploy branch
    /// ended without handing the structure over; and how the listing ended.
    async fn sort_bots(
        &self,
        structure: oneshot::Receiver<Structure>,
    ) -> (Option<(Vec<ApiGroup>, Vec<Container>, Bots)>, Result<(), ClientError>) {
        let (pages, mut received) = mpsc::channel::<Vec<ApiUser>>(USER_PAGES_AHEAD);
        // The listing ends early (and `Ok`) when the sorting stopped reading.
        let listing = async move {
            let mut users = self.client.keyset(USERS);
            while let Some(page) = users.next_page::<ApiUser>().await? {
                if pages.send(page).await.is_err() {
                    break;
                }
            }
            Ok(())
        };
        let sorting = async move {
            let (groups, projects) = structure.await.ok()?;
            let mut bots = Bots::new(&groups, &projects, self.settings.root_groups.is_empty());
            while let Some(page) = received.recv().await {
                let accounts = bots.sort(page);
                self.send_accounts(accounts).await;
            }
            Some((groups, projects, bots))
        };
        let (listed, sorted) = tokio::join!(listing, sorting);
        (sorted, listed)
    }

    async fn send_accounts(&self, accounts: Vec<AccountRecord>) {
        if !accounts.is_empty() {
            self.send_batch(SyncBatch {
                accounts,
                ..SyncBatch::default()
            })
            .await;
        }
    }

    /// Service accounts made with a username of their own (`POST …/service_accounts` takes one),
    /// which the username does not tell from GitLab's internal bots: looked up in the instance's
    /// and each top-level group's service accounts, only when such a bot exists. By user id: the
    /// group, or `None` for the instance's. A listing that fails leaves its accounts out (they
    /// are not made gone: nothing is, when discovery failed).
    async fn service_accounts_named_freely(&self, groups: &[ApiGroup]) -> HashMap<i64, Option<i64>> {
        let mut named = HashMap::new();
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

    /// The access-token listings to make: only of projects and groups with a bot user. Without
    /// one, GitLab holds no access token there, and sync knows every one stored is gone. When
    /// the users listing failed (`with_bots` is `None`), every project and group is listed.
    fn access_work(
        &self,
        with_bots: Option<&HashSet<(ContainerKind, i64)>>,
        groups: &[ApiGroup],
        projects: &[Container],
    ) -> Vec<Work> {
        let containers = projects.iter().cloned().chain(groups.iter().map(Container::group));
        let mut work = Vec::new();
        for container in containers {
            let id = container.id.unwrap_or_default();
            if with_bots.is_none_or(|with_bots| with_bots.contains(&(container.kind, id))) {
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
