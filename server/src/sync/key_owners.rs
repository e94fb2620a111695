//! The state in GitLab of each person holding a usable API key of the product's own: a key stops
//! working once its owner is blocked, deactivated, banned or deleted in GitLab.

use futures_util::{StreamExt, stream};

use super::{
    SyncRun,
    client::{ApiUser, ClientError},
};

/// The progress phase of the API key owners' look-ups.
const OWNERS_PHASE: &str = "API key owners";

impl SyncRun<'_> {
    /// Each owner's state (`GET /users/:id`, which an administrator's and a group owner's
    /// credential both may read): GitLab's `state`, or gone on a 404. A look-up that fails is in
    /// the run's errors and left out, so the stored state stays.
    pub(super) async fn key_owner_states(&self, owners: Vec<(i64, String)>) -> Vec<(i64, String)> {
        if owners.is_empty() {
            return Vec::new();
        }
        self.tally.phase(OWNERS_PHASE, 0, Some(owners.len() as u64));
        stream::iter(owners)
            .map(|(id, username)| async move {
                let state = self.key_owner_state(id, &username).await;
                self.tally.phase(OWNERS_PHASE, 1, None);
                state.map(|state| (id, state))
            })
            .buffer_unordered(self.client.concurrency())
            .filter_map(std::future::ready)
            .collect()
            .await
    }

    async fn key_owner_state(&self, id: i64, username: &str) -> Option<String> {
        match self.client.get::<ApiUser>(&format!("/users/{id}")).await {
            Ok((user, _)) if !user.state.is_empty() => Some(user.state),
            Ok(_) => {
                self.tally.failed(
                    format!("{username} (account state)"),
                    &"GitLab did not say the account's state",
                );
                None
            }
            Err(ClientError::Refused { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => {
                Some(db::GITLAB_STATE_GONE.to_owned())
            }
            Err(error) => {
                self.tally.failed(format!("{username} (account state)"), &error);
                None
            }
        }
    }
}
