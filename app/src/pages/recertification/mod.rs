//! Recertification: the campaigns (`/recertification`, with security's opening form), one
//! campaign's progress per team (`/recertification/:id`, with closing and the evidence), and a
//! lead's pass over their team's items (`/recertification/:id/team/:team`). Plain forms posting to
//! `server/src/recertification.rs`: they work without JavaScript.

mod pass;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

pub use pass::TeamPassPage;

use crate::{
    components::{ErrorPanel, PageTitle, RelativeDate, ScrollBox, class},
    db::Campaign,
    domain::{
        TeamRef,
        recertification::{CampaignProgress, ItemKind, TeamProgress},
    },
    server::recertification::{
        CampaignList, CampaignSummary, CampaignView, get_campaign, list_campaigns, team_recertifications,
    },
};

/// The primary button of a form.
pub(crate) const PRIMARY: &str = "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800";

/// What happened, from the form's answer (`?done=`).
#[component]
pub(crate) fn Done() -> impl IntoView {
    let done = use_query_map().with_untracked(|q| q.get("done"));
    done.map(|done| {
        view! { <p id="done" class="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status">{done}</p> }
    })
}

/// A refused field's message (`?error_<field>=`), under its field.
pub(crate) fn field_error(name: &'static str) -> Option<impl IntoView> {
    let message = use_query_map().with_untracked(|q| q.get(&format!("error_{name}")));
    message.map(|message| view! { <p id=format!("error-{name}") class="mt-1 text-sm text-red-700">{message}</p> })
}

/// Answered out of total as a bar (SVG drawn with attributes: the Content-Security-Policy allows
/// no inline style), named for screen readers, with the numbers beside it.
#[component]
pub(crate) fn ProgressBar(progress: TeamProgress) -> impl IntoView {
    let percent = progress.percent();
    let flagged = (progress.flagged * 100).checked_div(progress.total).unwrap_or(0);
    let label = format!(
        "{} of {} answered ({percent}%), {} flagged",
        progress.answered, progress.total, progress.flagged
    );
    let colour = if progress.done() {
        "fill-emerald-600"
    } else {
        "fill-sky-600"
    };
    view! {
        <span class="flex items-center gap-2" data-percent=percent.to_string()>
            <svg class="shrink-0 rounded-full" width="120" height="10" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" aria-label=label>
                <rect width="100" height="4" class="fill-slate-200"></rect>
                <rect width=percent.to_string() height="4" class=colour></rect>
                <rect x=percent.saturating_sub(flagged).to_string() width=flagged.to_string() height="4" class="fill-amber-500"></rect>
            </svg>
            <span class="whitespace-nowrap text-sm tabular-nums text-slate-700" aria-hidden="true">{format!("{percent}%")}</span>
        </span>
    }
}

/// Open, done, overdue or closed, in words and colour.
#[component]
pub(crate) fn CampaignState(progress: CampaignProgress, today: chrono::NaiveDate) -> impl IntoView {
    let overall = progress.overall();
    let (text, colour) = if progress.closed {
        ("Closed", "bg-slate-100 text-slate-700")
    } else if overall.overdue(progress.due_on, false, today) {
        ("Overdue", "bg-red-100 text-red-800")
    } else if overall.done() {
        ("All answered", "bg-emerald-100 text-emerald-800")
    } else {
        ("Open", "bg-sky-100 text-sky-900")
    };
    view! { <span class=format!("whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-semibold {colour}") data-campaign-state=text>{text}</span> }
}

#[component]
pub fn RecertificationPage() -> impl IntoView {
    let list = OnceResource::new(list_campaigns());
    view! {
        <PageTitle text="Recertification" />
        <h1 class="text-2xl font-semibold">"Recertification"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Security opens a campaign over a scope with a due date; each team's lead confirms every token and service account of the team that is still needed with the right owner and purpose, or flags it. A flag becomes a finding of the review; the answers are the auditors' evidence."
        </p>
        <Done />
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading campaigns…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <Campaigns list /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Campaigns(list: CampaignList) -> impl IntoView {
    let CampaignList {
        campaigns,
        is_security,
        teams,
        today,
    } = list;
    view! {
        {is_security.then(|| view! { <OpenForm teams today /> })}
        <section class="mt-8" aria-labelledby="campaigns-title">
            <h2 id="campaigns-title" class="text-lg font-semibold">"Campaigns"</h2>
            {if campaigns.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No campaign yet."</p> }.into_any()
            } else {
                view! {
                    <ul id="campaigns" class="mt-3 divide-y divide-slate-100 rounded-xl bg-white shadow-sm">
                        {campaigns.into_iter().map(|summary| view! { <CampaignRow summary today /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn CampaignRow(summary: CampaignSummary, today: chrono::NaiveDate) -> impl IntoView {
    let CampaignSummary {
        campaign,
        scope_text,
        progress,
    } = summary;
    let overall = progress.overall();
    view! {
        <li class="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3" data-campaign=campaign.id.to_string()>
            <span class="min-w-0 flex-1">
                <a class="font-semibold text-sky-700 underline" href=format!("/recertification/{}", campaign.id)>{format!("Recertification #{}", campaign.id)}</a>
                <span class="block text-sm text-slate-600">{scope_text}</span>
            </span>
            <span class="flex flex-wrap items-center gap-2 text-sm text-slate-700">
                <CampaignState progress=progress.clone() today />
                "due "<RelativeDate date=campaign.due_on today />
            </span>
            <ProgressBar progress=overall />
        </li>
    }
}

/// Security's form: a scope (everything, a team, a kind) and a due date.
#[component]
fn OpenForm(teams: Vec<TeamRef>, today: chrono::NaiveDate) -> impl IntoView {
    let query = use_query_map();
    let chosen = query
        .with_untracked(|q| q.get("scope"))
        .unwrap_or_else(|| "all".to_owned());
    let due = query
        .with_untracked(|q| q.get("due_on"))
        .unwrap_or_else(|| (today + chrono::Days::new(30)).to_string());
    let option = move |value: String, label: String| {
        let selected = value == chosen;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <form id="open-campaign" method="post" action="/recertification/open" class="mt-6 rounded-xl bg-white p-4 shadow-sm" aria-labelledby="open-title">
            <h2 id="open-title" class="text-lg font-semibold">"Open a campaign"</h2>
            <p class="mt-1 text-sm text-slate-600">"It holds every live token and service account in scope that has an owner team, as they are today."</p>
            <div class="mt-4 grid max-w-3xl gap-4 sm:grid-cols-2">
                <label class=class::LABEL>"Scope"
                    <select id="scope" name="scope" class=class::WIDE_FIELD>
                        {option.clone()("all".to_owned(), "Every team's tokens and service accounts".to_owned())}
                        <optgroup label="A team">
                            {teams.into_iter().map(|team| option.clone()(format!("team:{}", team.id), team.name)).collect_view()}
                        </optgroup>
                        <optgroup label="A kind, every team's">
                            {ItemKind::ALL.into_iter().map(|kind| option.clone()(format!("kind:{}", kind.as_str()), format!("{}s", kind.label()))).collect_view()}
                        </optgroup>
                    </select>
                    {field_error("scope")}
                </label>
                <label class=class::LABEL>"Due on"
                    <input id="due_on" name="due_on" type="date" value=due min=(today + chrono::Days::new(1)).to_string() class=class::WIDE_FIELD required />
                    {field_error("due_on")}
                </label>
            </div>
            <button id="open-campaign-submit" type="submit" class=format!("mt-4 {PRIMARY}")>"Open the campaign"</button>
        </form>
    }
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get_str("id").and_then(|id| id.parse::<i64>().ok()));
    let view = OnceResource::new(async move {
        match id {
            Some(id) => get_campaign(id).await,
            None => Err(crate::error::AppError::NotFound("that campaign".to_owned())),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading the campaign…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(view) => view! { <CampaignDetail view /> }.into_any(),
                    Err(error) => view! { <PageTitle text="Recertification" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The campaign's heading, scope and dates.
#[component]
pub(crate) fn CampaignHeading(
    campaign: Campaign,
    scope_text: String,
    #[prop(optional)] team: Option<String>,
) -> impl IntoView {
    let title = format!("Recertification #{}", campaign.id);
    let heading = team
        .as_ref()
        .map_or_else(|| title.clone(), |team| format!("{team}: {title}"));
    let crumb = team.map(|team| {
        view! { " / "<a class="text-sky-700 underline" href=format!("/recertification/{}", campaign.id)>{title.clone()}</a>" / "{team} }
    });
    view! {
        <PageTitle text=heading.clone() />
        <p class="text-sm"><a class="text-sky-700 underline" href="/recertification">"Recertification"</a>{crumb}</p>
        <h1 class="mt-1 break-words text-2xl font-semibold">{heading}</h1>
        <p class="mt-1 text-sm text-slate-600">
            {format!("{scope_text}; due on {}; opened by {} on {}", campaign.due_on, campaign.opened_by, campaign.opened_at.date_naive())}
            {campaign.closed_at.map(|at| format!("; closed by {} on {}", campaign.closed_by.clone().unwrap_or_default(), at.date_naive()))}
            "."
        </p>
    }
}

#[component]
fn CampaignDetail(view: CampaignView) -> impl IntoView {
    let CampaignView {
        summary,
        is_security,
        led,
        today,
    } = view;
    let CampaignSummary {
        campaign,
        scope_text,
        progress,
    } = summary;
    let id = campaign.id;
    let closed = campaign.is_closed();
    view! {
        <CampaignHeading campaign=campaign.clone() scope_text />
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <CampaignState progress=progress.clone() today />
            {is_security.then(|| view! {
                <a id="evidence-csv" class=class::SECONDARY href=format!("/recertification/{id}/evidence.csv")>"Evidence (CSV)"</a>
                <a id="evidence-json" class=class::SECONDARY href=format!("/recertification/{id}/evidence.json")>"Evidence (JSON)"</a>
            })}
            {(is_security && !closed).then(|| view! {
                <form method="post" action=format!("/recertification/{id}/close")>
                    <button id="close-campaign" type="submit" class=class::SECONDARY>"Close the campaign"</button>
                </form>
            })}
        </div>
        <Done />
        <TeamTable progress led is_security today />
    }
}

#[component]
fn TeamTable(progress: CampaignProgress, led: Vec<i64>, is_security: bool, today: chrono::NaiveDate) -> impl IntoView {
    if progress.teams.is_empty() {
        return view! { <p id="no-teams" class="mt-6 text-sm text-slate-600">"None of your teams' tokens or service accounts is in this campaign."</p> }.into_any();
    }
    let id = progress.campaign_id;
    let overall = is_security.then(|| progress.overall());
    let rows = progress.teams.clone().into_iter().map(|team| {
        let team_id = team.team.id;
        let overdue = team.overdue(progress.due_on, progress.closed, today);
        let state = if team.done() {
            "Done".to_owned()
        } else if overdue {
            format!("Overdue, {} left", team.unanswered())
        } else {
            format!("{} left", team.unanswered())
        };
        let link = if led.contains(&team_id) && !progress.closed { "Your pass" } else { "Items" };
        view! {
            <tr class="border-t border-slate-100" data-team=team.team.name.clone()>
                <th scope="row" class="px-4 py-2 text-left font-medium">{team.team.name.clone()}</th>
                <td class="px-4 py-2 tabular-nums" data-answered=team.answered.to_string()>{format!("{} of {}", team.answered, team.total)}</td>
                <td class="px-4 py-2 tabular-nums">{team.flagged.to_string()}</td>
                <td class="px-4 py-2"><ProgressBar progress=team.clone() /></td>
                <td class=if overdue { "px-4 py-2 font-medium text-red-700" } else { "px-4 py-2 text-slate-700" }>{state}</td>
                <td class="px-4 py-2">
                    {(is_security || led.contains(&team_id)).then(|| view! {
                        <a class="text-sky-700 underline" href=format!("/recertification/{id}/team/{team_id}")>{link}</a>
                    })}
                </td>
            </tr>
        }
    }).collect_view();
    view! {
        <section class="mt-6 rounded-xl bg-white p-4 shadow-sm" aria-labelledby="progress-title">
            <h2 id="progress-title" class="text-lg font-semibold">"Progress per team"</h2>
            <ScrollBox label="Progress per team" class="mt-3">
                <table id="team-progress" class="w-full text-sm">
                    <thead class="text-left text-xs uppercase tracking-wide text-slate-600">
                        <tr>
                            <th scope="col" class="px-4 py-2">"Team"</th>
                            <th scope="col" class="px-4 py-2">"Answered"</th>
                            <th scope="col" class="px-4 py-2">"Flagged"</th>
                            <th scope="col" class="px-4 py-2">"Progress"</th>
                            <th scope="col" class="px-4 py-2">"State"</th>
                            <th scope="col" class="px-4 py-2"><span class="sr-only">"Items"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                    {overall.map(|overall| view! {
                        <tfoot class="border-t border-slate-200 font-semibold">
                            <tr>
                                <th scope="row" class="px-4 py-2 text-left">"All teams"</th>
                                <td class="px-4 py-2 tabular-nums">{format!("{} of {}", overall.answered, overall.total)}</td>
                                <td class="px-4 py-2 tabular-nums">{overall.flagged.to_string()}</td>
                                <td class="px-4 py-2"><ProgressBar progress=overall.clone() /></td>
                                <td class="px-4 py-2"></td>
                                <td class="px-4 py-2"></td>
                            </tr>
                        </tfoot>
                    })}
                </table>
            </ScrollBox>
        </section>
    }
    .into_any()
}

/// My team's notice of the open campaigns holding the team's items: "Recertification #3 due on
/// …: 5 of 12 answered", linked to the team's pass. Nothing when there is none.
#[component]
pub fn TeamRecertifications(team_id: i64) -> impl IntoView {
    let open = OnceResource::new(team_recertifications(team_id));
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let open = open.await.unwrap_or_default();
                (!open.is_empty()).then(|| view! {
                    <ul id="team-recertifications" class="mt-4 space-y-2" aria-label="Open recertification campaigns">
                        {open.into_iter().map(|(campaign, progress)| {
                            let tone = if progress.done() { "bg-emerald-50 text-emerald-800" } else { "bg-amber-50 text-amber-900" };
                            view! {
                                <li class=format!("rounded-md px-3 py-2 text-sm {tone}")>
                                    <a class="font-medium underline" href=format!("/recertification/{}/team/{team_id}", campaign.id)>
                                        {format!("Recertification #{} due on {}", campaign.id, campaign.due_on)}
                                    </a>
                                    {format!(": {} of {} answered.", progress.answered, progress.total)}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            })}
        </Suspense>
    }
}
