//! The one writer task: what the listings find goes to the database through it, in batches of
//! one transaction each.

use std::sync::Arc;

use app::{
    db::{Repo, SyncBatch},
    domain::AccountMembership,
};
use chrono::{DateTime, Utc};
use tokio::{sync::mpsc, task::JoinHandle};

use super::{client::GitLabClient, tally::Tally};

/// What the listings hand the writer task.
#[derive(Debug)]
pub(super) enum Write {
    /// Tokens, accounts, groups and projects, written in batches.
    Batch(SyncBatch),
    /// One account's memberships, read to the end: they replace the stored ones at once.
    Memberships {
        account_gitlab_id: i64,
        memberships: Vec<AccountMembership>,
    },
}

/// Where and when the writer writes.
pub(super) struct Writer {
    pub repo: Repo,
    pub tally: Arc<Tally>,
    pub run_id: i64,
    pub seen_at: DateTime<Utc>,
    /// Tokens, accounts and projects per transaction.
    pub batch_size: usize,
}

impl Writer {
    /// Starts the writer. It ends when every sender is dropped, after the last batch; one that
    /// fails stops the run at once (the client refuses further requests): the listings would
    /// only read GitLab for nothing.
    pub fn spawn(self, client: Arc<GitLabClient>) -> (mpsc::Sender<Write>, JoinHandle<Result<(), db::DbError>>) {
        let (batches, receiver) = mpsc::channel::<Write>(64);
        let task = tokio::spawn(async move {
            let mut receiver = receiver;
            let written = self.write_all(&mut receiver).await;
            // The reason first, then the channel closes: a listing that finds it closed stops
            // the run with this reason already set (the first reason given is the run's).
            if let Err(error) = &written {
                client.stop(format!("writing to the database failed: {error}"));
            }
            drop(receiver);
            written
        });
        (batches, task)
    }

    async fn write_all(&self, receiver: &mut mpsc::Receiver<Write>) -> Result<(), db::DbError> {
        let mut pending = SyncBatch::default();
        while let Some(write) = receiver.recv().await {
            match write {
                Write::Batch(batch) => {
                    pending.tokens.extend(batch.tokens);
                    pending.accounts.extend(batch.accounts);
                    pending.groups.extend(batch.groups);
                    pending.projects.extend(batch.projects);
                    if pending.tokens.len() + pending.accounts.len() + pending.projects.len() >= self.batch_size.max(1)
                    {
                        self.flush(&mut pending).await?;
                    }
                }
                Write::Memberships {
                    account_gitlab_id,
                    memberships,
                } => self.replace_memberships(account_gitlab_id, &memberships).await,
            }
        }
        self.flush(&mut pending).await
    }

    async fn flush(&self, pending: &mut SyncBatch) -> Result<(), db::DbError> {
        if pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(pending);
        let counts = self.repo.write_sync_batch(self.run_id, &batch, self.seen_at).await?;
        self.tally
            .written(batch.tokens.len() as u64, counts.created, counts.changed);
        Ok(())
    }

    /// One account's memberships that cannot be stored keep the old ones and do not stop the
    /// writer.
    async fn replace_memberships(&self, account_gitlab_id: i64, memberships: &[AccountMembership]) {
        if let Err(error) = self
            .repo
            .replace_account_memberships(account_gitlab_id, memberships, self.seen_at)
            .await
        {
            self.tally
                .failed(format!("user {account_gitlab_id} memberships"), &error);
        }
    }
}
