//! The Alerts page (`/review/alerts`, security): every team's channels (a webhook configured or
//! not, never its URL; the mail addresses), the latest digests sent with their outcome, those
//! waiting for a retry with their error and next attempt, and "Send today's digest now" (a plain
//! POST form, so it works without JavaScript). `TeamAlerts` shows one team's on My team.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{ErrorPanel, NoValue, PageTitle, ScrollBox},
    db::DeliveryRecord,
    domain::alerts::ChannelSummary,
    server::alerts::{AlertsView, alerts_overview, team_alerts},
};

#[component]
pub fn AlertsPage() -> impl IntoView {
    let overview = OnceResource::new(alerts_overview());
    let sent = use_query_map().with_untracked(|q| q.get_str("sent").and_then(|n| n.parse::<u32>().ok()));
    view! {
        <PageTitle text="Alerts" />
        <p class="text-sm"><a class="text-sky-700 underline" href="/review">"Security review"</a></p>
        <h1 class="mt-1 text-2xl font-semibold">"Alerts"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Each owner team gets a daily digest on its channels (the teams file's webhook_url and emails): tokens entering a notice window, tokens that expired, new findings and decisions that no longer hold, each notice once. Security gets the organisation's. A delivery that fails is tried again later."
        </p>
        {sent.map(|made| view! {
            <p id="alerts-sent" role="status" class="mt-4 rounded-md bg-emerald-50 px-4 py-2 text-sm text-emerald-900">
                {match made {
                    0 => "Nothing new to send: no digest was made.".to_owned(),
                    1 => "One digest was made and sent (see its outcome below).".to_owned(),
                    n => format!("{n} digests were made and sent (see their outcomes below)."),
                }}
            </p>
        })}
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading alerts…"</p> }>
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
fn Overview(overview: AlertsView) -> impl IntoView {
    let AlertsView {
        configured,
        channels,
        deliveries,
        notices,
        can_send,
    } = overview;
    let waiting: Vec<DeliveryRecord> = deliveries
        .iter()
        .filter(|d| d.state != "sent" && d.attempts > 0)
        .cloned()
        .collect();
    view! {
        <section class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="send-title">
            <h2 id="send-title" class="text-lg font-semibold">"Today's digest"</h2>
            {if !configured {
                view! { <p id="alerts-off" class="mt-2 text-sm text-slate-600">"Alerts are off: no team has a webhook_url or emails in the teams file, and there is no [security] channel (see the README)."</p> }.into_any()
            } else {
                view! {
                    <p class="mt-2 text-sm text-slate-600">{format!(
                        "Notices given: {} sent, {} waiting, {} failed, {} with no channel to go to.",
                        notices.sent, notices.pending, notices.failed, notices.undelivered
                    )}</p>
                    {can_send.then(|| view! {
                        <form method="post" action="/alerts/run" class="mt-3">
                            <button id="send-digest" type="submit" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Send today's digest now"</button>
                        </form>
                    })}
                }.into_any()
            }}
        </section>
        <ChannelTable channels />
        {(!waiting.is_empty()).then(|| view! {
            <h2 class="mt-8 text-lg font-semibold" id="waiting-title">"Not delivered yet"</h2>
            <DeliveryTable deliveries=waiting label="Deliveries not delivered yet" id="alert-waiting" />
        })}
        <h2 class="mt-8 text-lg font-semibold">"Latest deliveries"</h2>
        {if deliveries.is_empty() {
            view! { <p id="no-deliveries" class="mt-2 text-sm text-slate-600">"No digest has been sent yet."</p> }.into_any()
        } else {
            view! { <DeliveryTable deliveries label="Latest deliveries" id="alert-deliveries" /> }.into_any()
        }}
    }
}

/// What a channel summary says: "Webhook configured", the addresses, or none.
fn channel_words(summary: &ChannelSummary) -> Vec<String> {
    let mut words = Vec::new();
    if summary.webhook {
        words.push("Webhook configured".to_owned());
    }
    if !summary.emails.is_empty() {
        words.push(format!("Mail to {}", summary.emails.join(", ")));
    }
    words
}

#[component]
fn ChannelTable(channels: Vec<ChannelSummary>) -> impl IntoView {
    (!channels.is_empty()).then(|| view! {
        <h2 class="mt-8 text-lg font-semibold">"Channels"</h2>
        <ScrollBox label="Alert channels" class="mt-2 rounded-xl bg-white shadow-sm">
            <table id="alert-channels" class="w-full text-left text-sm">
                <thead class="bg-slate-100 text-slate-600">
                    <tr><th class="px-4 py-2">"Audience"</th><th class="px-4 py-2">"Channels"</th></tr>
                </thead>
                <tbody>
                    {channels.into_iter().map(|summary| {
                        let words = channel_words(&summary);
                        view! {
                            <tr class="border-t border-slate-100 align-top" data-channel-team=summary.team_id>
                                <td class="px-4 py-2 font-medium">{summary.name.clone()}</td>
                                <td class="px-4 py-2">
                                    {if words.is_empty() {
                                        view! { <span class="text-amber-800">"None: the review reports its tokens"</span> }.into_any()
                                    } else {
                                        view! { <ul>{words.into_iter().map(|w| view! { <li class="break-words">{w}</li> }).collect_view()}</ul> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </ScrollBox>
    })
}

#[component]
fn DeliveryTable(deliveries: Vec<DeliveryRecord>, label: &'static str, id: &'static str) -> impl IntoView {
    view! {
        <ScrollBox label class="mt-2 rounded-xl bg-white shadow-sm">
            <table id=id class="w-full text-left text-sm">
                <thead class="bg-slate-100 text-slate-600">
                    <tr>
                        <th class="px-4 py-2">"Digest"</th>
                        <th class="px-4 py-2">"Channel"</th>
                        <th class="px-4 py-2">"Outcome"</th>
                        <th class="px-4 py-2 text-right">"Attempts"</th>
                    </tr>
                </thead>
                <tbody>
                    {deliveries.into_iter().map(|d| view! { <DeliveryRow d /> }).collect_view()}
                </tbody>
            </table>
        </ScrollBox>
    }
}

#[component]
fn DeliveryRow(d: DeliveryRecord) -> impl IntoView {
    let colour = match d.state.as_str() {
        "sent" => "bg-emerald-100 text-emerald-800",
        "failed" => "bg-red-100 text-red-800",
        _ => "bg-amber-100 text-amber-800",
    };
    let when = match (&d.state[..], d.sent_at, d.next_attempt_at) {
        ("sent", Some(at), _) => format!("sent {}", at.format("%Y-%m-%d %H:%M UTC")),
        ("pending", _, Some(next)) => format!("next attempt {}", next.format("%Y-%m-%d %H:%M UTC")),
        ("failed", _, _) => "out of attempts".to_owned(),
        _ => String::new(),
    };
    view! {
        <tr class="border-t border-slate-100 align-top" data-delivery=d.id data-state=d.state.clone()>
            <td class="px-4 py-2">
                <span class="block font-medium">{d.subject.clone()}</span>
                <span class="text-xs text-slate-600">{format!("made {}", d.created_at.format("%Y-%m-%d %H:%M UTC"))}</span>
            </td>
            <td class="px-4 py-2">{d.channel.clone()}</td>
            <td class="px-4 py-2">
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {colour}")>{d.state.clone()}</span>
                <span class="ml-1 text-xs text-slate-600">{when}</span>
                {d.last_error.clone().map(|error| view! { <p class="mt-1 break-words text-xs text-red-800">{error}</p> })}
            </td>
            <td class="px-4 py-2 text-right tabular-nums">{d.attempts}</td>
        </tr>
    }
}

/// One team's channels and latest deliveries, on My team (its leads and security; nothing for
/// anyone else).
#[component]
pub fn TeamAlerts(team_id: i64) -> impl IntoView {
    let alerts = Resource::new(move || team_id, team_alerts);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match alerts.await {
                    Ok(alerts) if alerts.configured => {
                        let words = alerts.channels.as_ref().map(channel_words).unwrap_or_default();
                        view! {
                            <section class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="team-alerts-title">
                                <h2 id="team-alerts-title" class="text-lg font-semibold">"Alerts"</h2>
                                <p id="team-channels" class="mt-2 text-sm">
                                    {if words.is_empty() {
                                        "No alert channel: add a webhook_url or emails for the team in the teams file.".to_owned()
                                    } else {
                                        format!("The daily digest goes to: {}.", words.join("; "))
                                    }}
                                </p>
                                {if alerts.deliveries.is_empty() {
                                    view! { <p class="mt-2 text-sm text-slate-600"><NoValue reason="no digest sent yet" /></p> }.into_any()
                                } else {
                                    view! { <DeliveryTable deliveries=alerts.deliveries label="The team's latest deliveries" id="team-deliveries" /> }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}
