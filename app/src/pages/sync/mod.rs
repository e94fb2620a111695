//! The Sync page: the recent runs with their figures and errors, the run under way with its
//! progress by phase, and "Sync now" for security (an island). With JavaScript the page loads
//! itself again every two seconds while a run is under way; without, reloading shows the latest
//! figures.

use leptos::prelude::*;

use crate::{
    components::{ErrorPanel, NoValue, PageTitle, ScrollBox},
    domain::{SyncProgress, SyncRun, SyncStatus},
    islands::SyncNow,
    server::sync::{SyncOverview, list_sync_runs},
};

#[component]
pub fn SyncPage() -> impl IntoView {
    let overview = OnceResource::new(list_sync_runs());
    view! {
        <PageTitle text="Sync" />
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">"Sync"</h1>
                <p class="mt-1 text-sm text-slate-600">"Every run that read GitLab into the inventory, newest first."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading runs…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: SyncOverview) -> impl IntoView {
    let SyncOverview {
        runs,
        live,
        configured,
        can_start,
    } = overview;
    // While a run is under way the page looks again every two seconds (with JavaScript).
    let running = live.is_some() || runs.first().is_some_and(|run| run.status == SyncStatus::Running);
    view! {
        <div class="mt-6 flex flex-wrap items-center gap-4 rounded-xl bg-white p-4 shadow-sm" data-refresh-seconds=running.then_some("2")>
            {if !can_start {
                view! { <p id="sync-for-security" class="text-sm text-slate-600">"The server syncs on its schedule; security and admins can also start a run."</p> }.into_any()
            } else if !configured {
                view! { <p id="sync-not-configured" class="text-sm text-slate-600">"This server is not set up to sync: set SYNC_GITLAB_URL and a read_api token (see the README)."</p> }.into_any()
            } else {
                view! { <SyncNow /> }.into_any()
            }}
            {live.map(|progress| view! { <LiveProgress progress /> })}
        </div>
        {if runs.is_empty() {
            view! { <p id="no-sync-runs" class="mt-6 text-slate-600">"No sync has run yet."</p> }.into_any()
        } else {
            view! { <RunTable runs /> }.into_any()
        }}
    }
}

#[component]
fn LiveProgress(progress: SyncProgress) -> impl IntoView {
    view! {
        <div id="sync-live" class="flex flex-wrap gap-3 text-sm text-slate-700" aria-live="polite">
            <span class="font-medium text-sky-800">"Syncing…"</span>
            {progress
                .phases
                .into_iter()
                .map(|(phase, p)| {
                    let figure = match p.total {
                        Some(total) => format!("{phase}: {}/{total}", p.done),
                        None => format!("{phase}: {}", p.done),
                    };
                    view! { <span class="rounded-full bg-slate-100 px-2 py-0.5">{figure}</span> }
                })
                .collect_view()}
            <span>{format!("{} tokens read", progress.tokens_seen)}</span>
        </div>
    }
}

#[component]
fn RunTable(runs: Vec<SyncRun>) -> impl IntoView {
    view! {
        <ScrollBox label="Sync runs" class="mt-6 rounded-xl bg-white shadow-sm">
        <table id="sync-runs" class="w-full text-left text-sm">
            <thead class="bg-slate-100 text-slate-600">
                <tr>
                    <th class="px-4 py-2">"Started"</th>
                    <th class="px-4 py-2">"Trigger"</th>
                    <th class="px-4 py-2">"Strategy"</th>
                    <th class="px-4 py-2">"Status"</th>
                    <th class="px-4 py-2 text-right">"Requests"</th>
                    <th class="px-4 py-2 text-right">"Tokens read"</th>
                    <th class="px-4 py-2 text-right">"New"</th>
                    <th class="px-4 py-2 text-right">"Changed"</th>
                    <th class="px-4 py-2 text-right">"Gone"</th>
                    <th class="px-4 py-2 text-right">"Took"</th>
                </tr>
            </thead>
            <tbody>
                {runs.into_iter().map(|run| view! { <RunRow run /> }).collect_view()}
            </tbody>
        </table>
        </ScrollBox>
    }
    .into_any()
}

#[component]
fn RunRow(run: SyncRun) -> impl IntoView {
    let colour = match run.status {
        SyncStatus::Succeeded => "bg-emerald-100 text-emerald-800",
        SyncStatus::Running => "bg-sky-100 text-sky-800",
        SyncStatus::Partial => "bg-amber-100 text-amber-800",
        SyncStatus::Failed | SyncStatus::Abandoned => "bg-red-100 text-red-800",
    };
    let took = run
        .finished_at
        .map(|end| format!("{:.1} s", (end - run.started_at).num_milliseconds() as f64 / 1000.0))
        .unwrap_or_else(|| "…".to_owned());
    let started = run.started_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let errors = run.errors.clone();
    let p = run.progress;
    view! {
        <tr class="border-t border-slate-100 align-top" data-run=run.id data-status=run.status.to_string()>
            <td class="px-4 py-2 whitespace-nowrap">{started}</td>
            <td class="px-4 py-2">{run.trigger.as_str().replace('_', " ")}</td>
            <td class="px-4 py-2">
                {match run.strategy {
                    Some(strategy) => view! { <span>{strategy.replace('_', " ")}</span> }.into_any(),
                    None => view! { <NoValue reason="not chosen yet" /> }.into_any(),
                }}
            </td>
            <td class="px-4 py-2">
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {colour}")>{run.status.to_string()}</span>
                {(!errors.is_empty()).then(|| view! {
                    <details class="mt-1 text-xs text-slate-600">
                        <summary>{format!("{} errors", errors.len())}</summary>
                        <ul class="mt-1 list-disc pl-4">
                            {errors.into_iter().take(20).map(|e| view! { <li>{format!("{}: {}", e.scope, e.message)}</li> }).collect_view()}
                        </ul>
                    </details>
                })}
            </td>
            <td class="px-4 py-2 text-right tabular-nums">{run.requests}</td>
            <td class="px-4 py-2 text-right tabular-nums">{p.tokens_seen}</td>
            <td class="px-4 py-2 text-right tabular-nums">{p.tokens_created}</td>
            <td class="px-4 py-2 text-right tabular-nums">{p.tokens_changed}</td>
            <td class="px-4 py-2 text-right tabular-nums">{p.tokens_gone}</td>
            <td class="px-4 py-2 text-right tabular-nums">{took}</td>
        </tr>
    }
    .into_any()
}
