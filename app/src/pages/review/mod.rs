//! The security review (`/review`): the findings the policy makes of every token and service
//! account, most severe first, filtered in the URL like the inventory; counts per rule at the top;
//! and, for those who may, one form that records a decision on the findings picked (or on all that
//! the view lists). Plain forms: a GET form for the view, a POST for decisions.

mod alerts;

pub use alerts::{AlertsPage, TeamAlerts};

use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    components::{
        ErrorPanel, ExpiryTimeline, PageTitle, RelativeDate, TIMELINE_PARAMS, TimelinePlace, class, timeline_params,
    },
    db::{FindingHistory, StoredFinding},
    domain::{
        TeamRef,
        review::{DecisionKind, FindingQuery, FindingRule, FindingState, Severity, Subject, SubjectKind},
    },
    server::{
        review::{ReviewPage, list_findings},
        timeline::expiry_timeline,
    },
};

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| FindingQuery::from_params(|name| p.get_str(name))));
    let page = Resource::new(
        move || query.get(),
        |query| async move {
            match query {
                Ok(query) => list_findings(query).await,
                Err(error) => Err(error.into()),
            }
        },
    );
    view! {
        <PageTitle text="Review" />
        <h1 class="text-2xl font-semibold">"Security review"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "What the token guidelines and the organisation's policy find wrong with each token and service account, worked out after every sync. Each finding says what it rests on and what to do; a decision is kept with who made it, when and why, and reopens when an accepted date passes or the token changes."
        </p>
        <ReviewTimeline />
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading findings…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let query = query.get_untracked().unwrap_or_default();
                        view! { <Queue page query /> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The expiry timeline of the teams the viewer sees here, over the weeks in the URL (`from`,
/// `weeks`) stacked as it says (`stack`); its links keep the queue's view.
#[component]
fn ReviewTimeline() -> impl IntoView {
    let params = use_query_map();
    let today = chrono::Utc::now().date_naive();
    let asked = Memo::new(move |_| params.with(|p| timeline_params(|name| p.get_str(name), today)));
    let timeline = Resource::new(
        move || asked.get(),
        |asked| async move {
            match asked {
                Ok((range, stack)) => expiry_timeline(None, range, stack).await,
                Err(error) => Err(error.into()),
            }
        },
    );
    let place = move || TimelinePlace {
        path: "/review",
        keep: params.with_untracked(|p| {
            FindingQuery::from_params(|name| p.get_str(name))
                .unwrap_or_default()
                .pairs()
        }),
    };
    view! {
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the expiry timeline…"</p> }>
            {move || Suspend::new(async move {
                match timeline.await {
                    Ok(timeline) => view! { <ExpiryTimeline timeline place=place() team=None /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Queue(page: ReviewPage, query: FindingQuery) -> impl IntoView {
    let url = use_query_map();
    let decided = url.with_untracked(|q| q.get("decided"));
    view! {
        {page.is_security.then(|| view! {
            <p class="mt-6 text-sm"><a id="alerts-link" class="text-sky-700 underline" href="/review/alerts">"Alerts: the teams' channels and the digests sent"</a></p>
        })}
        <RuleCounts by_rule=page.by_rule.clone() query=query.clone() />
        <Filters query=query.clone() teams=page.teams.clone() />
        {decided.map(|n| view! {
            <p id="decided" class="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status">{format!("Decision recorded on {n} finding(s).")}</p>
        })}
        {if page.findings.is_empty() {
            view! { <p id="no-findings" class="mt-6 rounded-xl bg-white p-6 text-slate-600 shadow-sm">"No finding in this view."</p> }.into_any()
        } else {
            view! { <Decisions page query /> }.into_any()
        }}
    }
}

const CHIP: &str = "rounded-full border px-3 py-1 text-sm";
const CHIP_IDLE: &str = "border-slate-300 bg-white hover:bg-slate-50";
const CHIP_CURRENT: &str = "border-sky-600 bg-sky-50 text-sky-900";

/// How many findings each rule has under the other filters, each a link to them.
#[component]
fn RuleCounts(by_rule: Vec<(FindingRule, u64)>, query: FindingQuery) -> impl IntoView {
    view! {
        <nav class="mt-6 flex flex-wrap gap-2" aria-label="Findings by rule" id="rule-counts">
            {query.rule.map(|_| {
                let href = FindingQuery { rule: None, page: 1, ..query.clone() }.to_query_string();
                view! { <a class=format!("{CHIP} {CHIP_IDLE}") href=format!("/review?{href}")>"Every rule"</a> }
            })}
            {by_rule.into_iter().map(|(rule, n)| {
                let href = FindingQuery { rule: Some(rule), page: 1, ..query.clone() }.to_query_string();
                let current = query.rule == Some(rule);
                view! {
                    <a class=format!("{CHIP} {}", if current { CHIP_CURRENT } else { CHIP_IDLE })
                        href=format!("/review?{href}") aria-current=current.then_some("page") data-rule=rule.as_str()>
                        {rule.label()}" "<span class="font-semibold">{n}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

/// The view's filters: a GET form (with JavaScript, a choice applies at once).
#[component]
fn Filters(query: FindingQuery, teams: Vec<TeamRef>) -> impl IntoView {
    // The timeline's range and stacking stay as they are when the findings are filtered.
    let timeline: Vec<(&str, String)> = use_query_map().with_untracked(|q| {
        TIMELINE_PARAMS
            .into_iter()
            .filter_map(|name| q.get(name).map(|value| (name, value)))
            .collect()
    });
    let field = format!("{} max-w-full", class::FIELD);
    let label = "flex min-w-0 max-w-full flex-col gap-1 text-sm font-medium text-slate-700";
    view! {
        <Form method="GET" action="/review" attr:class="mt-4 flex flex-wrap items-end gap-3 rounded-xl bg-white p-4 shadow-sm" attr:role="search" attr:aria-label="Filter findings" attr:data-submit-on-change="">
            <label class=label>"Team"
                <select name="team" class=field.clone()>
                    <option value="" selected=query.team.is_none()>"Any team"</option>
                    {teams.into_iter().map(|team| view! { <option value=team.id.to_string() selected=query.team == Some(team.id)>{team.name}</option> }).collect_view()}
                </select>
            </label>
            <label class=label>"Rule"
                <select name="rule" class=field.clone()>
                    <option value="" selected=query.rule.is_none()>"Any rule"</option>
                    {FindingRule::ALL.into_iter().map(|rule| view! { <option value=rule.as_str() selected=query.rule == Some(rule)>{rule.label()}</option> }).collect_view()}
                </select>
            </label>
            <label class=label>"Kind"
                <select name="kind" class=field.clone()>
                    <option value="" selected=query.kind.is_none()>"Any kind"</option>
                    {SubjectKind::all().map(|kind| view! { <option value=kind.as_str() selected=query.kind == Some(kind)>{kind.label()}</option> }).collect_view()}
                </select>
            </label>
            <label class=label>"Severity"
                <select name="severity" class=field.clone()>
                    <option value="" selected=query.severity.is_none()>"Any severity"</option>
                    {Severity::ALL.into_iter().map(|severity| view! { <option value=severity.as_str() selected=query.severity == Some(severity)>{severity.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label class=label>"Showing"
                <select name="state" class=field>
                    {FindingState::ALL.into_iter().map(|state| view! { <option value=state.as_str() selected=query.state == state>{state.label()}</option> }).collect_view()}
                </select>
            </label>
            {timeline.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
            <button type="submit" class="rounded-md bg-slate-800 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-slate-700">"Apply"</button>
            <a href="/review" class="px-2 py-2 text-sm text-slate-600 underline hover:text-slate-900">"Clear"</a>
        </Form>
    }
}

/// The findings, each with a box to pick it, and the decision for the ones picked.
#[component]
fn Decisions(page: ReviewPage, query: FindingQuery) -> impl IntoView {
    let can_decide = page.can_decide;
    let today = page.today;
    let first = (u64::from(page.page) - 1) * u64::from(page.per_page) + 1;
    let last = first + page.findings.len() as u64 - 1;
    view! {
        <form id="queue" method="post" action="/review/decisions" class="mt-6" aria-label="Findings">
            {hidden_view(&query)}
            <ul class="space-y-3" id="findings">
                {page.findings.into_iter().map(|finding| view! { <FindingCard finding today can_decide /> }).collect_view()}
            </ul>
            <Pager page=page.page last_page=page.total.div_ceil(u64::from(page.per_page)) query=query.clone() />
            <p class="mt-2 text-sm text-slate-600" data-testid="finding-count">{format!("Showing {first}–{last} of {}", page.total)}</p>
            {can_decide.then(|| view! { <DecisionControls total=page.total can_accept=page.can_accept latest_until=page.latest_until today /> })}
        </form>
    }
}

/// The view (but its page), as hidden fields of the decision form: the server goes back to it.
fn hidden_view(query: &FindingQuery) -> impl IntoView + use<> {
    query
        .pairs()
        .into_iter()
        .filter(|(name, _)| *name != "page")
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "rounded-full bg-red-700 px-2 py-0.5 text-xs font-semibold text-white",
        Severity::High => "rounded-full bg-red-100 px-2 py-0.5 text-xs font-semibold text-red-800",
        Severity::Medium => "rounded-full bg-amber-100 px-2 py-0.5 text-xs font-semibold text-amber-900",
        Severity::Low => "rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-700",
    }
}

#[component]
fn FindingCard(finding: StoredFinding, today: chrono::NaiveDate, can_decide: bool) -> impl IntoView {
    let rule = finding.finding.rule;
    let severity = finding.finding.severity;
    let subject = match finding.finding.subject {
        Subject::Token(id) => format!("/tokens/{id}"),
        Subject::Account(_) => format!("/service-accounts#account-{}", finding.subject_name),
    };
    let checkbox_id = format!("finding-{}", finding.id);
    view! {
        <li class="rounded-xl bg-white p-4 shadow-sm" data-finding=finding.id.to_string() data-rule=rule.as_str()>
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                {can_decide.then(|| view! {
                    <input type="checkbox" name="finding" value=finding.id.to_string() id=checkbox_id.clone() class="h-4 w-4 rounded border-slate-300" />
                })}
                <span class=severity_class(severity)>{severity.as_str()}</span>
                <label for=checkbox_id class="font-semibold">{rule.label()}</label>
                <a class="break-all font-mono text-sm text-sky-700 underline" href=subject>{finding.subject_name.clone()}</a>
                <span class="break-all font-mono text-xs text-slate-600">{finding.subject_path.clone()}</span>
                <span class="text-xs text-slate-600">{finding.team.as_ref().map_or("no owner team".to_owned(), |team| team.name.clone())}</span>
                <span class="ml-auto text-sm text-slate-700">"Due "<RelativeDate date=finding.finding.due_on today urgent=finding.finding.due_on <= today /></span>
            </div>
            <p class="mt-2 text-sm text-slate-800">{finding.finding.detail.clone()}</p>
            <FixText fix=finding.finding.fix.clone() />
            <p class="mt-1 text-xs italic text-slate-600">{rule.basis().quote()}</p>
            {finding.decision.clone().map(|decision| view! { <DecisionNote decision latest=true holds=finding.decided /> })}
        </li>
    }
}

/// A decision, and (for the `latest`) whether it still holds.
#[component]
fn DecisionNote(decision: crate::domain::review::Decision, latest: bool, holds: bool) -> impl IntoView {
    let until = decision
        .until
        .map(|until| format!(" until {until}"))
        .unwrap_or_default();
    let state = if latest && !holds {
        " (no longer holds: reopened)"
    } else {
        ""
    };
    view! {
        <p class="mt-2 rounded-md bg-slate-50 px-3 py-2 text-xs text-slate-700" data-decision=decision.kind.as_str()>
            {format!("{}{until}, by {} on {}{state}", decision.kind.made(), decision.by, decision.at.format("%Y-%m-%d"))}
            {decision.reason.map(|reason| view! { <span class="block">{format!("Why: {reason}")}</span> })}
        </p>
    }
}

#[component]
fn Pager(page: u32, last_page: u64, query: FindingQuery) -> impl IntoView {
    let link = move |to: u32| {
        format!(
            "/review?{}",
            FindingQuery {
                page: to,
                ..query.clone()
            }
            .to_query_string()
        )
    };
    view! {
        <nav class="mt-4 flex flex-wrap items-center gap-2 text-sm text-slate-600" aria-label="Pages">
            {(page > 1).then(|| view! { <a class=class::SECONDARY rel="prev" href=link(page - 1)>"Previous"</a> })}
            <span class="px-2 py-1.5">{format!("Page {page} of {}", last_page.max(1))}</span>
            {(u64::from(page) < last_page).then(|| view! { <a class=class::SECONDARY rel="next" href=link(page + 1)>"Next"</a> })}
        </nav>
    }
}

/// The decision for the findings picked, or for every one the view lists. After a refusal, what
/// was written comes back with a message under each refused field.
#[component]
fn DecisionControls(
    total: u64,
    can_accept: bool,
    latest_until: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> impl IntoView {
    let url = use_query_map();
    let said = move |name: &str| url.with_untracked(|q| q.get(name)).unwrap_or_default();
    let error = move |name: &'static str| {
        url.with_untracked(|q| q.get(&format!("error_{name}")))
            .map(|m| view! { <p class="mt-1 text-sm text-red-700" id=format!("error-{name}") role="alert">{m}</p> })
    };
    let chosen = said("decision");
    let field = class::FIELD;
    let label = "flex flex-col gap-1 text-sm font-medium text-slate-700";
    view! {
        <fieldset class="mt-6 rounded-xl bg-white p-4 shadow-sm" aria-labelledby="decide-title">
            <legend id="decide-title" class="px-1 text-lg font-semibold">"Decide"</legend>
            {error("finding")}
            <div class="mt-2 flex flex-wrap items-end gap-3">
                <label class=label>"Decision"
                    <select name="decision" class=field id="decision">
                        {DecisionKind::ALL.into_iter().filter(|kind| can_accept || *kind != DecisionKind::AcceptRisk).map(|kind| {
                            view! { <option value=kind.as_str() selected=chosen == kind.as_str()>{kind.label()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class=format!("{label} min-w-64 flex-1")>"Why"
                    <input name="reason" id="reason" class=field maxlength="1000" value=said("reason") placeholder="Required to accept a risk" />
                </label>
                <label class=label>"Accepted until"
                    <input name="until" id="until" type="date" class=field min=(today + chrono::Days::new(1)).to_string() max=latest_until.to_string() value=said("until") />
                </label>
            </div>
            {error("decision")}{error("reason")}{error("until")}
            <label class="mt-3 flex items-center gap-2 text-sm text-slate-700">
                <input type="checkbox" name="all" value="1" id="all-in-view" class="h-4 w-4 rounded border-slate-300" />
                {format!("All {total} findings this view lists, not only those picked")}
            </label>
            <button id="record-decision" type="submit" class="mt-3 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Record the decision"</button>
        </fieldset>
    }
}

/// A token's findings on its page: standing ones first, each with its fix and every decision.
#[component]
pub fn TokenFindings(findings: Vec<FindingHistory>, today: chrono::NaiveDate) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="findings-title" id="token-findings">
            <h2 id="findings-title" class="text-lg font-semibold">"Security review"</h2>
            {if findings.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"Nothing found: the policy has nothing against this token."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 divide-y divide-slate-100">
                        {findings.into_iter().map(|history| view! { <TokenFinding history today /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn TokenFinding(history: FindingHistory, today: chrono::NaiveDate) -> impl IntoView {
    let finding = history.finding;
    let state = match (finding.resolved_at, finding.decided) {
        (Some(at), _) => format!("resolved on {}", at.format("%Y-%m-%d")),
        (None, true) => "decided".to_owned(),
        (None, false) => "open".to_owned(),
    };
    let holds = finding.decided;
    let last = history.decisions.len().saturating_sub(1);
    view! {
        <li class="py-3" data-rule=finding.finding.rule.as_str()>
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span class=severity_class(finding.finding.severity)>{finding.finding.severity.as_str()}</span>
                <span class="font-semibold">{finding.finding.rule.label()}</span>
                <span class="text-xs text-slate-600" data-state=state.clone()>{state.clone()}</span>
                <span class="ml-auto text-sm text-slate-700">"Due "<RelativeDate date=finding.finding.due_on today /></span>
            </div>
            <p class="mt-1 text-sm text-slate-800">{finding.finding.detail.clone()}</p>
            <FixText fix=finding.finding.fix.clone() />
            {history.decisions.into_iter().enumerate().map(|(at, decision)| {
                view! { <DecisionNote decision latest=at == last holds /> }
            }).collect_view()}
        </li>
    }
}

/// My team's open findings, first on its page: the most urgent few, and a link to them all in
/// the queue.
#[component]
pub fn TeamFindings(team_id: i64) -> impl IntoView {
    let query = FindingQuery {
        team: Some(team_id),
        page: 1,
        ..FindingQuery::default()
    };
    let page = OnceResource::new(list_findings(query.clone()));
    let href = format!("/review?{}", query.to_query_string());
    view! {
        <Suspense>
            {move || {
                let href = href.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <OpenFindings page href /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn OpenFindings(page: ReviewPage, href: String) -> impl IntoView {
    let today = page.today;
    view! {
        <section class="mt-6 rounded-xl bg-white p-6 shadow-sm" aria-labelledby="team-findings-title" id="team-findings">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="team-findings-title" class="text-lg font-semibold">"Open review findings"</h2>
                <a class="text-sm text-sky-700 underline" href=href>{format!("All {} in the review", page.total)}</a>
            </div>
            {if page.findings.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"None: the review finds nothing open against the team's tokens."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 divide-y divide-slate-100">
                        {page.findings.into_iter().take(5).map(|finding| view! {
                            <li class="flex flex-wrap items-center gap-x-3 gap-y-1 py-2 text-sm" data-rule=finding.finding.rule.as_str()>
                                <span class=severity_class(finding.finding.severity)>{finding.finding.severity.as_str()}</span>
                                <span class="font-medium">{finding.finding.rule.label()}</span>
                                <span class="break-all font-mono text-xs text-slate-600">{finding.subject_name.clone()}</span>
                                <span class="ml-auto text-slate-700">"Due "<RelativeDate date=finding.finding.due_on today /></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// What to do about a finding; a migration plan's lines stay lines.
#[component]
fn FixText(fix: String) -> impl IntoView {
    view! {
        <p class="mt-1 whitespace-pre-line text-sm text-slate-700"><span class="font-medium">"Fix: "</span>{fix}</p>
    }
}
