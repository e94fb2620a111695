//! The figures of the run under way, shared by the listings, the writer and whoever watches.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard},
};

use app::domain::{ContainerKind, SyncError, SyncProgress, TokenKind, UnknownScope};
use tokio::sync::watch;

use super::client::ClientError;

/// A listing that could hide anything: tokens, accounts, groups and projects alike.
pub(super) const EVERYTHING: UnknownScope = UnknownScope {
    kind: None,
    container: None,
};

pub(super) struct Tally {
    progress: Mutex<SyncProgress>,
    errors: Mutex<Vec<SyncError>>,
    unknown: Mutex<Vec<UnknownScope>>,
    /// (kind, container) listings that completed.
    listed: Mutex<HashSet<(TokenKind, ContainerKind, Option<i64>)>>,
    discovery_complete: Mutex<bool>,
    watcher: Option<watch::Sender<SyncProgress>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tally {
    pub(super) fn new(watcher: Option<watch::Sender<SyncProgress>>) -> Self {
        Tally {
            progress: Mutex::new(SyncProgress::default()),
            errors: Mutex::new(Vec::new()),
            unknown: Mutex::new(Vec::new()),
            listed: Mutex::new(HashSet::new()),
            discovery_complete: Mutex::new(true),
            watcher,
        }
    }

    pub(super) fn phase(&self, name: &str, done: u64, total: Option<u64>) {
        let mut progress = lock(&self.progress);
        let phase = progress.phases.entry(name.to_owned()).or_default();
        phase.done += done;
        if total.is_some() {
            phase.total = total;
        }
        if let Some(watcher) = &self.watcher {
            watcher.send_replace(progress.clone());
        }
    }

    /// A phase whose every item is known at once (groups, projects, accounts).
    pub(super) fn counted(&self, name: &str, count: usize) {
        self.phase(name, count as u64, Some(count as u64));
    }

    /// A listing that failed: the run is partial, and what it could have shown is not marked gone.
    pub(super) fn error(&self, scope: impl Into<String>, error: &ClientError, unknown: UnknownScope) {
        self.failed(scope, error);
        lock(&self.unknown).push(unknown);
    }

    /// A discovery listing (groups, projects, users) that failed: nothing structural is marked
    /// gone, and gone tokens only among the listings that completed.
    pub(super) fn discovery_failed(&self, scope: impl Into<String>, error: &ClientError) {
        self.error(scope, error, EVERYTHING);
        *lock(&self.discovery_complete) = false;
    }

    pub(super) fn discovery_complete(&self) -> bool {
        *lock(&self.discovery_complete)
    }

    /// A listing or write that failed and hides no token (a service account's memberships):
    /// the run is partial, but nothing is kept from being marked gone.
    pub(super) fn failed(&self, scope: impl Into<String>, error: &dyn std::fmt::Display) {
        let scope = scope.into();
        tracing::warn!(sync.scope = %scope, error.message = %error, "sync could not read or store a listing");
        lock(&self.errors).push(SyncError {
            scope,
            message: error.to_string(),
        });
    }

    pub(super) fn listed(&self, kind: TokenKind, container: ContainerKind, id: Option<i64>) {
        lock(&self.listed).insert((kind, container, id));
    }

    /// Tokens the writer stored, and how many of them were new or changed.
    pub(super) fn written(&self, seen: u64, created: u64, changed: u64) {
        let mut progress = lock(&self.progress);
        progress.tokens_seen += seen;
        progress.tokens_created += created;
        progress.tokens_changed += changed;
    }

    pub(super) fn gone(&self, gone: u64) {
        lock(&self.progress).tokens_gone = gone;
    }

    pub(super) fn unknown(&self) -> Vec<UnknownScope> {
        lock(&self.unknown).clone()
    }

    pub(super) fn listings(&self) -> HashSet<(TokenKind, ContainerKind, Option<i64>)> {
        lock(&self.listed).clone()
    }

    pub(super) fn error_count(&self) -> usize {
        lock(&self.errors).len()
    }

    pub(super) fn snapshot(&self) -> (SyncProgress, Vec<SyncError>) {
        (lock(&self.progress).clone(), lock(&self.errors).clone())
    }
}
