//! "My team": the team's tokens at a glance (counts by status and expiry window, each a link to
//! the inventory filtered that way) and what needs the lead's attention.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        ErrorPanel, ExpiryDate, ExpiryTimeline, KindBadge, NoValue, PageTitle, ScrollBox, TimelinePlace, class,
        timeline_params,
    },
    domain::{ExpiryWindow, TokenStatus, TokenSummary},
    error::AppError,
    pages::{recertification::TeamRecertifications, review::TeamFindings},
    server::{
        teams::{ServiceAccountsView, TeamSummary, team_overview},
        timeline::expiry_timeline,
    },
};

#[component]
pub fn MyTeamPage() -> impl IntoView {
    let query = use_query_map();
    let team = Memo::new(move |_| query.with(|q| q.get_str("team").and_then(|t| t.parse::<i64>().ok())));
    let overview = Resource::new(move || team.get(), team_overview);
    view! {
        <PageTitle text="My team" />
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading your team…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(summary) => view! { <Overview summary /> }.into_any(),
                    Err(error) => view! { <h1 class="text-2xl font-semibold">"My team"</h1><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(summary: TeamSummary) -> impl IntoView {
    let TeamSummary {
        team,
        my_teams,
        total,
        by_status,
        by_expiry,
        attention,
        today,
    } = summary;
    let Some(team) = team else {
        return view! {
            <h1 class="text-2xl font-semibold">"My team"</h1>
            <p id="no-team" class="mt-4 max-w-2xl text-slate-600">
                "You are not in a team: teams come from the teams configuration and from your GitLab groups. "
                <a class="text-sky-700 underline" href="/">"Browse the whole inventory"</a>"."
            </p>
        }
        .into_any();
    };
    let team_id = team.id;
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold" id="team-name">{team.name.clone()}</h1>
                <p class="mt-1 text-sm text-slate-600">{format!("{total} tokens owned by the team (set by a person, or inferred from its group paths).")}</p>
            </div>
            {(my_teams.len() > 1).then(|| view! {
                <nav class="flex flex-wrap gap-2 text-sm" aria-label="Your teams">
                    {my_teams.into_iter().map(|t| view! {
                        <a class=class::SECONDARY href=format!("/my-team?team={}", t.id)>{t.name}</a>
                    }).collect_view()}
                </nav>
            })}
        </div>
        <TeamRecertifications team_id />
        <TeamFindings team_id />
        <Counts team_id by_status by_expiry />
        <TeamTimeline team_id />
        <crate::pages::review::TeamAlerts team_id />
        <section class="mt-6 rounded-xl bg-white p-6 shadow-sm" aria-labelledby="attention-title">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="attention-title" class="text-lg font-semibold">"Needs your attention"</h2>
                <a class="text-sm text-sky-700 underline" href=format!("/?team={team_id}")>{format!("All {} tokens", team.name)}</a>
            </div>
            <Attention attention today />
        </section>
    }
    .into_any()
}

/// The team's expiry timeline over the weeks in the URL (`from`, `weeks`), stacked as it says
/// (`stack`).
#[component]
fn TeamTimeline(team_id: i64) -> impl IntoView {
    let params = use_query_map();
    let today = chrono::Utc::now().date_naive();
    let asked = params.with_untracked(|p| timeline_params(|name| p.get_str(name), today));
    let timeline = Resource::new(
        move || asked.clone(),
        move |asked| async move {
            match asked {
                Ok((range, stack)) => expiry_timeline(Some(team_id), range, stack).await,
                Err(error) => Err(error.into()),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the expiry timeline…"</p> }>
            {move || Suspend::new(async move {
                match timeline.await {
                    Ok(timeline) => {
                        let place = TimelinePlace { path: "/my-team", keep: vec![("team", team_id.to_string())] };
                        view! { <ExpiryTimeline timeline place team=Some(team_id) /> }.into_any()
                    }
                    // Another team's page: the rest of it is for everyone signed in.
                    Err(AppError::ForbiddenBecause(why)) => view! { <p id="timeline-not-shown" class="mt-6 text-sm text-slate-600">{format!("No expiry timeline: {why}.")}</p> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The team's tokens by status and by expiry window, each count a link to them in the inventory.
#[component]
fn Counts(team_id: i64, by_status: Vec<(TokenStatus, u64)>, by_expiry: Vec<(ExpiryWindow, u64)>) -> impl IntoView {
    let card = "rounded-xl bg-white p-4 shadow-sm hover:ring-2 hover:ring-sky-200";
    view! {
        <section class="mt-6" aria-label="By status">
            <div class="grid grid-cols-2 gap-3 sm:grid-cols-4">
                {by_status.into_iter().map(|(status, n)| view! {
                    <a class=card href=format!("/?team={team_id}&status={}", status.label()) data-count=status.label()>
                        <div class="text-2xl font-semibold">{n}</div>
                        <div class="text-sm capitalize text-slate-600">{status.label()}</div>
                    </a>
                }).collect_view()}
            </div>
        </section>
        <section class="mt-4" aria-label="By expiry">
            <div class="grid grid-cols-2 gap-3 sm:grid-cols-5">
                {by_expiry.into_iter().map(|(window, n)| view! {
                    <a class=card href=format!("/?team={team_id}&expiry={}", window.as_str()) data-window=window.as_str()>
                        <div class="text-2xl font-semibold">{n}</div>
                        <div class="text-sm text-slate-600">{window.label()}</div>
                    </a>
                }).collect_view()}
            </div>
        </section>
    }
}

/// The active tokens that need the team: each with the reasons.
#[component]
fn Attention(attention: Vec<(TokenSummary, Vec<String>)>, today: chrono::NaiveDate) -> impl IntoView {
    if attention.is_empty() {
        return view! { <p class="mt-2 text-sm text-slate-600">"Nothing: every active token has a purpose, a confirmed owner and more than 30 days to go."</p> }.into_any();
    }
    view! {
        <ul id="attention" class="mt-4 divide-y divide-slate-100">
            {attention.into_iter().map(|(token, reasons)| view! {
                <li class="flex flex-wrap items-center gap-3 py-2 text-sm">
                    <KindBadge kind=token.kind />
                    <a class="font-medium text-sky-700 underline hover:text-sky-900" href=format!("/tokens/{}", token.id)>{token.name.clone()}</a>
                    <span class="break-all font-mono text-xs text-slate-600">{token.container_path.clone()}</span>
                    <ExpiryDate expires_on=token.expires_on today active=true />
                    {reasons.into_iter().map(|r| view! { <span class="rounded-full bg-amber-100 px-2 py-0.5 text-xs text-amber-800">{r}</span> }).collect_view()}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Every team: its group paths, leads, token counts and health.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let teams = OnceResource::new(crate::server::teams::list_team_stats());
    view! {
        <PageTitle text="Teams" />
        <h1 class="text-2xl font-semibold">"Teams"</h1>
        <p class="mt-1 text-sm text-slate-600">"Each team owns the tokens under its GitLab group paths (unless a person says otherwise). Health counts the tokens still in GitLab."</p>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading teams…"</p> }>
            {move || Suspend::new(async move {
                match teams.await {
                    Ok(teams) if teams.is_empty() => view! { <p class="mt-6 text-slate-600">"No teams yet: configure them in the teams file (see the README)."</p> }.into_any(),
                    Ok(teams) => view! {
                        <ScrollBox label="Teams" class="mt-6 rounded-xl bg-white shadow-sm">
                        <table id="teams" class="w-full text-left text-sm">
                            <thead class="bg-slate-100 text-xs font-semibold uppercase tracking-wide text-slate-600">
                                <tr>
                                    <th scope="col" class="sticky left-0 z-10 bg-slate-100 px-4 py-3">"Team"</th>
                                    <th class="px-4 py-3">"Group paths"</th>
                                    <th class="px-4 py-3">"Leads"</th>
                                    <th class="px-4 py-3 text-right">"Tokens"</th>
                                    <th class="px-4 py-3 text-right">"Expired"</th>
                                    <th class="px-4 py-3 text-right">"Within 30 days"</th>
                                    <th class="px-4 py-3 text-right">"Never expire"</th>
                                    <th class="px-4 py-3 text-right">"No purpose"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {teams.into_iter().map(|t| {
                                    let id = t.id;
                                    let warn = |n: u64| if n > 0 { "px-4 py-3 text-right font-semibold text-amber-800" } else { "px-4 py-3 text-right text-slate-600" };
                                    view! {
                                        <tr data-team=t.name.clone()>
                                            <th scope="row" class="sticky left-0 z-10 bg-white px-4 py-3 font-medium"><a class="text-sky-700 underline hover:text-sky-900" href=format!("/my-team?team={id}")>{t.name.clone()}</a></th>
                                            <td class="px-4 py-3 font-mono text-xs">{t.group_paths.join(", ")}</td>
                                            <td class="px-4 py-3">
                                                {if t.leads.is_empty() {
                                                    view! { <NoValue reason="none known yet" /> }.into_any()
                                                } else {
                                                    view! { <span>{t.leads.join(", ")}</span> }.into_any()
                                                }}
                                            </td>
                                            <td class="px-4 py-3 text-right"><a class="underline" href=format!("/?team={id}")>{t.tokens}</a></td>
                                            <td class=warn(t.expired)><a href=format!("/?team={id}&expiry=expired")>{t.expired}</a></td>
                                            <td class=warn(t.expiring_30_days)><a href=format!("/?team={id}&expiry=30d")>{t.expiring_30_days}</a></td>
                                            <td class=warn(t.never_expiring)><a href=format!("/?team={id}&expiry=never")>{t.never_expiring}</a></td>
                                            <td class=warn(t.without_purpose)><a href=format!("/?team={id}&no_purpose=1")>{t.without_purpose}</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </ScrollBox>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Every service account: the group it belongs to, the team that owns it, what it can reach (its
/// group and project memberships, linked to GitLab, with the role) and its tokens with what they
/// can do (scopes and role).
#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    let accounts = OnceResource::new(crate::server::teams::list_service_accounts());
    // After a change of owner: `?saved=<username>`.
    let query = use_query_map();
    let saved = query.with_untracked(|q| q.get_str("saved").map(str::to_owned));
    view! {
        <PageTitle text="Service accounts" />
        <h1 class="text-2xl font-semibold">"Service accounts"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Service accounts are for automation at group level or across projects that needs more than a project or group access token, owned by a team (token guidelines: \"Use a specific service account token when project access tokens can't be used\")."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading service accounts…"</p> }>
            {move || {
                let saved = saved.clone();
                Suspend::new(async move {
                match accounts.await {
                    Ok(view) if view.accounts.is_empty() => view! { <p class="mt-6 text-slate-600">"No service accounts were found by sync."</p> }.into_any(),
                    Ok(ServiceAccountsView { accounts, today, gitlab_url, memberships_unread, editable, teams, made_outside }) => view! {
                        {memberships_unread.then(|| view! {
                            <p id="memberships-note" class="mt-4 max-w-3xl rounded-lg bg-amber-50 px-4 py-3 text-sm text-amber-800">
                                "What an account can reach is read with an administrator's credential (GitLab lists a user's memberships to administrators only). The last sync used a group owner's, so the memberships below may be missing or out of date."
                            </p>
                        })}
                        <div id="service-accounts" class="mt-6 space-y-4">
                            {accounts.into_iter().map(|account| {
                                let teams = editable.contains(&account.gitlab_id).then(|| teams.clone());
                                let saved = saved.as_deref() == Some(account.username.as_str());
                                let outside = made_outside.contains(&account.gitlab_id);
                                view! { <AccountCard account today gitlab_url=gitlab_url.clone() teams saved outside /> }
                            }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

#[component]
fn AccountCard(
    account: crate::domain::ServiceAccount,
    today: chrono::NaiveDate,
    gitlab_url: Option<String>,
    /// The teams to choose an owner from, when the viewer may change it.
    teams: Option<Vec<crate::domain::TeamRef>>,
    /// Its owner was just changed.
    saved: bool,
    /// The review found it made outside the request process.
    outside: bool,
) -> impl IntoView {
    let active = account
        .tokens
        .iter()
        .filter(|t| t.status(today) == crate::domain::TokenStatus::Active)
        .count();
    view! {
        <section class="rounded-xl bg-white p-5 shadow-sm" id=format!("account-{}", account.username) data-account=account.username.clone()>
            <div class="flex flex-wrap items-baseline gap-3">
                <h2 class="text-lg font-semibold">{account.name.clone()}</h2>
                <span class="break-all font-mono text-xs text-slate-600">{account.username.clone()}</span>
                <span class="text-sm text-slate-600">{account.group_path.clone().map(|p| format!("in {p}")).unwrap_or_else(|| "instance-wide".to_owned())}</span>
                <span class="text-sm" data-owner=account.owner.as_ref().map(|o| o.team.name.clone()).unwrap_or_default()>
                    {match account.owner.clone() {
                        Some(owner) => view! {
                            <span>"Owner: "<span class="font-medium">{owner.team.name}</span></span>
                            <span class="ml-1 text-xs text-slate-600" data-owner-source="">{format!("({})", owner.source.describe())}</span>
                        }.into_any(),
                        None => view! { <span class="font-medium text-amber-700">"No owner team"</span> }.into_any(),
                    }}
                </span>
                <span class="text-sm text-slate-600">{format!("{active} of {} tokens active", account.tokens.len())}</span>
                {saved.then(|| view! { <span class="rounded-full bg-emerald-50 px-2 text-xs font-medium text-emerald-700" role="status">"Owner saved"</span> })}
                {outside.then(|| view! {
                    <a class="rounded-full bg-amber-50 px-2 text-xs font-medium text-amber-800 underline" data-made-outside="" href="/review?rule=made-outside-requests">"Made outside the request process"</a>
                })}
            </div>
            {teams.map(|teams| view! { <OwnerForm account_id=account.gitlab_id owner=account.owner.clone() teams /> })}
            <CanReach memberships=account.memberships gitlab_url />
            <ul class="mt-3 divide-y divide-slate-100 text-sm">
                {account.tokens.into_iter().map(|token| {
                    let status = token.status(today);
                    view! {
                        <li class="flex flex-wrap items-center gap-3 py-2">
                            <a class="font-medium text-sky-700 underline hover:text-sky-900" href=format!("/tokens/{}", token.id)>{token.name.clone()}</a>
                            <span class="text-slate-600">{token.scopes.join(", ")}</span>
                            <span class="text-slate-600">{token.access_level.map(|l| l.label())}</span>
                            <ExpiryDate expires_on=token.expires_on today active=status == crate::domain::TokenStatus::Active />
                            <crate::components::StatusBadge status />
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// The form to change who owns a service account: a plain POST, so it works without JavaScript.
/// "Not set" takes back what a person said, and the inferred team (if any) applies again.
#[component]
fn OwnerForm(
    account_id: i64,
    owner: Option<crate::domain::AccountOwner>,
    teams: Vec<crate::domain::TeamRef>,
) -> impl IntoView {
    let set = owner
        .as_ref()
        .filter(|owner| !owner.source.is_inferred())
        .map(|owner| owner.team.id);
    let unset_label = match owner.as_ref().filter(|owner| owner.source.is_inferred()) {
        Some(owner) => format!("Not set (inferred: {})", owner.team.name),
        None if set.is_some() => "Not set (inferred again)".to_owned(),
        None => "Not set".to_owned(),
    };
    view! {
        <form method="post" action=format!("/service-accounts/{account_id}/owner") class="mt-3 flex flex-wrap items-center gap-2 text-sm" data-owner-form="">
            <label class="flex items-center gap-2 text-slate-700">
                "Owner team"
                <select name="owner_team" class=class::SMALL_FIELD>
                    <option value="" selected=set.is_none()>{unset_label}</option>
                    {teams.into_iter().map(|team| view! {
                        <option value=team.id.to_string() selected=set == Some(team.id)>{team.name}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class=format!("{} font-medium text-slate-800", class::SECONDARY)>"Save owner"</button>
        </form>
    }
}

/// What an account can reach: each group and project it is a member of, linked to GitLab when
/// its address is known, with the role.
#[component]
fn CanReach(memberships: Vec<crate::domain::AccountMembership>, gitlab_url: Option<String>) -> impl IntoView {
    view! {
        <div class="mt-3 flex flex-wrap items-baseline gap-x-3 gap-y-1 text-sm" data-can-reach="">
            <h3 class="text-xs font-semibold uppercase tracking-wide text-slate-600">"Can reach"</h3>
            {if memberships.is_empty() {
                view! { <NoValue reason="no group or project membership known" /> }.into_any()
            } else {
                view! {
                    <ul class="flex flex-wrap gap-2">
                        {memberships.into_iter().map(|membership| {
                            let kind = if membership.source_kind == crate::domain::ContainerKind::Group { "group" } else { "project" };
                            let role = membership.access_level.label();
                            let path = membership.source_path.clone();
                            let link = match &gitlab_url {
                                Some(base) => view! { <a class="break-all font-mono text-xs text-sky-700 underline" href=membership.web_url(base) rel="external noopener">{path.clone()}</a> }.into_any(),
                                None => view! { <span class="font-mono text-xs">{path.clone()}</span> }.into_any(),
                            };
                            view! {
                                <li class="flex min-w-0 flex-wrap items-center gap-1.5 rounded-md border border-slate-200 px-2 py-0.5" data-membership=path data-kind=kind data-role=role>
                                    <span class="text-xs text-slate-600">{kind}</span>
                                    {link}
                                    <span class="rounded-full bg-slate-100 px-2 text-xs text-slate-700">{role}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}
