//! `token-inventory sync`: one run with a progress bar, and a summary table at the end.

use std::time::Duration;

use app::{
    db::Repo,
    domain::{SyncProgress, SyncStatus, SyncTrigger},
};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::{SyncOutcome, SyncSettings};

/// Runs a sync from the command line; an error when it did not succeed (the exit code says so).
pub async fn run(repo: Repo, settings: &SyncSettings, quiet: bool) -> anyhow::Result<SyncOutcome> {
    let (sender, mut receiver) = watch::channel(SyncProgress::default());
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let watcher = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while receiver.changed().await.is_ok() {
                let progress = receiver.borrow_and_update().clone();
                bar.set_message(describe(&progress));
            }
        })
    };
    let outcome = super::run(repo, settings, SyncTrigger::CommandLine, Some(sender)).await;
    bar.finish_and_clear();
    watcher.abort();
    let outcome = outcome?;
    println!("{}", summary(&outcome));
    match outcome.status {
        SyncStatus::Succeeded => Ok(outcome),
        status => anyhow::bail!(
            "sync run {} ended {status} with {} errors",
            outcome.run_id,
            outcome.errors.len()
        ),
    }
}

fn describe(progress: &SyncProgress) -> String {
    progress
        .phases
        .iter()
        .map(|(phase, p)| match p.total {
            Some(total) => format!("{phase} {}/{total}", p.done),
            None => format!("{phase} {}", p.done),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The table printed at the end of a run.
pub fn summary(outcome: &SyncOutcome) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["sync run", &outcome.run_id.to_string()]);
    let progress = &outcome.progress;
    let seconds = outcome.elapsed.as_secs_f64();
    let rows: Vec<(String, String)> = vec![
        ("status".into(), outcome.status.to_string()),
        (
            "strategy".into(),
            outcome.strategy.map(|s| s.as_str()).unwrap_or("-").to_owned(),
        ),
        ("time".into(), format!("{seconds:.1} s")),
        ("requests".into(), outcome.requests.to_string()),
        ("tokens seen".into(), progress.tokens_seen.to_string()),
        ("new".into(), progress.tokens_created.to_string()),
        ("changed".into(), progress.tokens_changed.to_string()),
        ("gone".into(), progress.tokens_gone.to_string()),
        (
            "tokens per second".into(),
            if seconds > 0.0 {
                format!("{:.0}", progress.tokens_seen as f64 / seconds)
            } else {
                "-".into()
            },
        ),
    ];
    for (name, value) in rows {
        table.add_row([name, value]);
    }
    for (phase, p) in &progress.phases {
        table.add_row([phase.clone(), p.done.to_string()]);
    }
    let mut text = table.to_string();
    for error in &outcome.errors {
        text.push_str(&format!("\nerror: {}: {}", error.scope, error.message));
    }
    text
}
