//! A lead's pass over their team's items in a campaign: one form, a checkbox per row, and the
//! bulk actions (confirm the chosen, flag the chosen with one reason, confirm every unanswered
//! one: "select all" without JavaScript). Security sees the same table without the form's
//! buttons.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{CampaignHeading, Done, PRIMARY, ProgressBar, field_error};
use crate::{
    components::{ErrorPanel, PageTitle, RelativeDate, class},
    db::CampaignItem,
    domain::recertification::{Answer, REASON_MAX_CHARS},
    server::recertification::{TeamPass, get_team_pass},
};

#[component]
pub fn TeamPassPage() -> impl IntoView {
    let params = use_params_map();
    let ids = params.with_untracked(|p| {
        let number = |name: &str| p.get_str(name).and_then(|id| id.parse::<i64>().ok());
        number("id").zip(number("team"))
    });
    let pass = OnceResource::new(async move {
        match ids {
            Some((id, team)) => get_team_pass(id, team).await,
            None => Err(crate::error::AppError::NotFound("that campaign's team".to_owned())),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading the team's items…"</p> }>
            {move || Suspend::new(async move {
                match pass.await {
                    Ok(pass) => view! { <Pass pass /> }.into_any(),
                    Err(error) => view! { <PageTitle text="Recertification" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Pass(pass: TeamPass) -> impl IntoView {
    let TeamPass {
        summary,
        team,
        progress,
        items,
        read_only_because,
        today,
    } = pass;
    let id = summary.campaign.id;
    let may_answer = read_only_because.is_none();
    let unanswered = progress.unanswered();
    let action = format!("/recertification/{id}/team/{}/answers", team.id);
    view! {
        <CampaignHeading campaign=summary.campaign.clone() scope_text=summary.scope_text.clone() team=team.name.clone() />
        <div class="mt-3 flex max-w-xl flex-wrap items-center gap-3">
            <span id="team-answered" class="text-sm font-medium" data-answered=progress.answered.to_string() data-total=progress.total.to_string()>
                {format!("{} of {} answered", progress.answered, progress.total)}
            </span>
            <ProgressBar progress=progress.clone() />
            <span class="text-sm text-slate-700">"due "<RelativeDate date=summary.campaign.due_on today /></span>
        </div>
        <Done />
        {field_error("item")}
        {read_only_because.map(|why| view! {
            <p id="read-only" class="mt-4 rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-700" role="note">{format!("You cannot answer here: {why}.")}</p>
        })}
        <form id="answers" method="post" action=action class="mt-4" aria-label=format!("{}'s items", team.name)>
            {may_answer.then(|| view! { <p class="max-w-3xl text-sm text-slate-600">"Confirm what is still needed and has the right owner team and purpose; flag the rest with what is wrong (the review takes it up). Choose rows, then a button below; an answer can be changed until the campaign closes."</p> })}
            <div class="mt-3 rounded-xl bg-white shadow-sm">
                <table id="items" class="w-full text-sm">
                    <thead class="text-left text-xs uppercase tracking-wide text-slate-600">
                        <tr>
                            {may_answer.then(|| view! { <th scope="col" class="w-8 px-3 py-2"><span class="sr-only">"Choose"</span></th> })}
                            <th scope="col" class="px-3 py-2">"Token or account, and its purpose at opening"</th>
                            <th scope="col" class="px-3 py-2">"Answer"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {items.into_iter().map(|item| view! { <ItemRow item may_answer /> }).collect_view()}
                    </tbody>
                </table>
            </div>
            {may_answer.then(|| view! { <Actions unanswered /> })}
        </form>
    }
}

#[component]
fn ItemRow(item: CampaignItem, may_answer: bool) -> impl IntoView {
    let answer = item
        .answered
        .as_ref()
        .map_or("unanswered", |answered| answered.answer.as_str());
    view! {
        <tr class="border-t border-slate-100 align-top" data-item=item.name.clone() data-answer=answer>
            {may_answer.then(|| view! {
                <td class="px-3 py-3">
                    <input type="checkbox" name="item" value=item.id.to_string() class="h-5 w-5" aria-label=format!("Choose {}", item.name) />
                </td>
            })}
            <td class="min-w-0 px-3 py-3">
                <span class="block break-all font-mono font-semibold">{item.name.clone()}</span>
                <span class="text-xs text-slate-600">{item.kind.label()}</span>
                {(!item.path.is_empty()).then(|| view! { <span class="block break-all text-xs text-slate-600">{item.path.clone()}</span> })}
                <span class="mt-1 block break-words text-xs text-slate-700">
                    {item.purpose.clone().map_or_else(|| "No purpose recorded".to_owned(), |purpose| format!("Purpose: {purpose}"))}
                </span>
            </td>
            <td class="px-3 py-3"><Answered item=item.clone() /></td>
        </tr>
    }
}

/// An item's current answer: confirmed or flagged (with the reason, quoted), by whom and when.
#[component]
fn Answered(item: CampaignItem) -> impl IntoView {
    let Some(answered) = item.answered else {
        return view! { <span class="text-slate-600">"Not yet"</span> }.into_any();
    };
    let who = format!(" by {} on {}", answered.by, answered.at.date_naive());
    match answered.answer {
        Answer::Confirmed => view! {
            <span class="font-medium text-emerald-800">"Confirmed"</span>
            <span class="block text-xs text-slate-600">{who}</span>
        }
        .into_any(),
        Answer::Flagged { reason } => view! {
            <span class="font-medium text-amber-800">"Flagged"</span>
            <span class="block break-words text-xs text-slate-700">{format!("“{reason}”")}</span>
            <span class="block text-xs text-slate-600">{who}</span>
        }
        .into_any(),
    }
}

/// The bulk actions under the table.
#[component]
fn Actions(unanswered: u64) -> impl IntoView {
    let query = use_query_map();
    let reason = query.with_untracked(|q| q.get("reason")).unwrap_or_default();
    view! {
        <div class="mt-4 grid gap-4 rounded-xl bg-white p-4 shadow-sm sm:grid-cols-2">
            // The flag first: Enter in the reason's field sends the form's first button.
            <div>
                <label class=class::LABEL for="reason">"Reason for a flag (what is wrong: no longer needed, wrong owner, wrong purpose)"</label>
                <input id="reason" name="reason" type="text" maxlength=REASON_MAX_CHARS.to_string() value=reason class=class::WIDE_FIELD />
                {field_error("reason")}
                <button id="flag-selected" type="submit" name="action" value="flag" class="mt-2 w-full rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white">"Flag selected"</button>
            </div>
            <div class="flex flex-col gap-2">
                <button id="confirm-selected" type="submit" name="action" value="confirm" class=PRIMARY>"Confirm selected"</button>
                <button id="confirm-unanswered" type="submit" name="action" value="confirm_unanswered" class=class::SECONDARY disabled=unanswered == 0>
                    {if unanswered == 0 { "Nothing left unanswered".to_owned() } else { format!("Confirm all {unanswered} unanswered") }}
                </button>
            </div>
        </div>
    }
}
