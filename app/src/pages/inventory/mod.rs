//! The inventory: every token, filtered, sorted and paged on the server, the view in the URL.

pub mod token;

use leptos::prelude::*;
use leptos_router::{NavigateOptions, components::Form, hooks::use_navigate, hooks::use_query_map};

use crate::{
    components::{ErrorPanel, KindBadge, PageTitle, RelativeDate, StatusBadge},
    domain::{AccessLevel, ExpiryWindow, TeamRef, TokenKind, TokenStatus, TokenSummary},
    server::inventory::{TokenPage, TokenQuery, TokenSort, list_team_refs, list_tokens},
};

#[component]
pub fn InventoryPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| TokenQuery::from_params(|name| p.get_str(name))));
    let teams = OnceResource::new(list_team_refs());
    let tokens = Resource::new(
        move || query.get(),
        |query| async move {
            match query {
                Ok(query) => list_tokens(query).await,
                Err(error) => Err(error),
            }
        },
    );

    view! {
        <PageTitle text="Inventory" />
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">"Inventory"</h1>
                <p class="mt-1 text-sm text-slate-600">"Every GitLab access token, deploy token and service account token, with where it lives and when it expires."</p>
            </div>
        </div>
        <Suspense>
            {move || Suspend::new(async move {
                let teams = teams.await.unwrap_or_default();
                view! { <Filters query=query.get().unwrap_or_default() teams /> }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(page) => {
                        let query = query.get_untracked().unwrap_or_default();
                        view! { <TokenTable page query /> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The filter form: a GET form, so it works without JavaScript; hydrated, choosing a kind or an
/// expiry window applies it at once, without a full page load.
#[component]
fn Filters(query: TokenQuery, teams: Vec<TeamRef>) -> impl IntoView {
    let navigate = use_navigate();
    let apply = {
        let query = query.clone();
        move |change: &dyn Fn(&mut TokenQuery)| {
            let mut next = query.clone();
            change(&mut next);
            next.page = 1;
            navigate(&format!("/?{}", next.to_query_string()), NavigateOptions::default());
        }
    };
    let apply_kind = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            apply(&|q: &mut TokenQuery| q.kind = value.parse().ok());
        }
    };
    let apply_expiry = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        apply(&|q: &mut TokenQuery| q.expiry = value.parse().ok());
    };
    let field = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-1 focus:ring-sky-500";

    view! {
        <Form method="GET" action="/" attr:class="mt-6 flex flex-wrap items-end gap-3 rounded-xl bg-white p-4 shadow-sm" attr:role="search" attr:aria-label="Filter tokens">
            <label class="flex min-w-64 flex-1 flex-col gap-1 text-sm font-medium text-slate-700">
                "Search"
                <input type="search" name="q" class=field placeholder="Name, path, account or purpose" value=query.search.clone().unwrap_or_default() />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Kind"
                <select name="kind" class=field on:change=apply_kind>
                    <option value="" selected=query.kind.is_none()>"Any kind"</option>
                    {TokenKind::ALL
                        .into_iter()
                        .map(|kind| view! { <option value=kind.as_str() selected=query.kind == Some(kind)>{kind.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Expires"
                <select name="expiry" class=field on:change=apply_expiry>
                    <option value="" selected=query.expiry.is_none()>"Any time"</option>
                    {ExpiryWindow::ALL
                        .into_iter()
                        .map(|window| view! { <option value=window.as_str() selected=query.expiry == Some(window)>{window.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Team"
                <select name="team" class=field>
                    <option value="" selected=query.team.is_none()>"Any team"</option>
                    {teams
                        .into_iter()
                        .map(|team| view! { <option value=team.id.to_string() selected=query.team == Some(team.id)>{team.name}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Status"
                <select name="status" class=field>
                    <option value="" selected=query.status.is_none()>"Any status"</option>
                    {TokenStatus::ALL
                        .into_iter()
                        .map(|status| view! { <option value=status.label() selected=query.status == Some(status)>{status.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Role"
                <select name="role" class=field>
                    <option value="" selected=query.role.is_none()>"Any role"</option>
                    {AccessLevel::ALL
                        .into_iter()
                        .map(|level| view! { <option value=(level as i32).to_string() selected=query.role == Some(level)>{level.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Scope"
                <input name="scope" class=field size="12" placeholder="e.g. api" value=query.scope.clone().unwrap_or_default() />
            </label>
            <fieldset class="flex flex-col gap-1 text-sm text-slate-700">
                <label class="flex items-center gap-2"><input type="checkbox" name="no_owner" value="1" checked=query.no_owner />"No owner"</label>
                <label class="flex items-center gap-2"><input type="checkbox" name="no_purpose" value="1" checked=query.no_purpose />"No purpose"</label>
            </fieldset>
            {(query.sort != TokenSort::default()).then(|| view! { <input type="hidden" name="sort" value=query.sort.as_str() /> })}
            {query.descending.then(|| view! { <input type="hidden" name="dir" value="desc" /> })}
            <button type="submit" class="rounded-md bg-slate-800 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-slate-700">"Apply"</button>
            <a href="/" class="px-2 py-2 text-sm text-slate-600 underline hover:text-slate-900">"Clear"</a>
        </Form>
    }
}

#[component]
fn TokenTable(page: TokenPage, query: TokenQuery) -> impl IntoView {
    if page.total == 0 {
        let filtered = query
            != TokenQuery {
                page: query.page,
                sort: query.sort,
                descending: query.descending,
                ..TokenQuery::default()
            };
        return view! { <EmptyState filtered /> }.into_any();
    }
    let first = (u64::from(page.page) - 1) * u64::from(page.per_page) + 1;
    let last = first + page.tokens.len() as u64 - 1;
    let today = page.today;
    let page_count = page.page_count();

    view! {
        <div class="mt-6 overflow-x-auto rounded-xl bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="token-table">
                <thead class="bg-slate-100 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr>
                        <SortHeader label="Kind" sort=TokenSort::Kind query=query.clone() />
                        <SortHeader label="Name" sort=TokenSort::Name query=query.clone() />
                        <SortHeader label="Where" sort=TokenSort::Path query=query.clone() />
                        <SortHeader label="Owner" sort=TokenSort::Owner query=query.clone() />
                        <SortHeader label="Purpose" sort=TokenSort::Purpose query=query.clone() />
                        <th scope="col" class="px-4 py-3">"Scopes"</th>
                        <SortHeader label="Role" sort=TokenSort::Role query=query.clone() />
                        <SortHeader label="Expires" sort=TokenSort::Expires query=query.clone() />
                        <SortHeader label="Last used" sort=TokenSort::LastUsed query=query.clone() />
                        <th scope="col" class="px-4 py-3">"Status"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {page.tokens.into_iter().map(|token| view! { <TokenRow token today /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="mt-4 flex items-center justify-between text-sm text-slate-600" aria-label="Pages">
            <p data-testid="token-count">
                {format!("Showing {first}–{last} of {}", page.total)}
                {page.export.clone().map(|q| view! {
                    <span class="ml-4">"Export: "
                        <a id="export-csv" rel="external" class="text-sky-700 underline" href=format!("/api/v1/tokens/export.csv?{q}")>"CSV"</a>" · "
                        <a id="export-json" rel="external" class="text-sky-700 underline" href=format!("/api/v1/tokens/export.json?{q}")>"JSON"</a>
                    </span>
                })}
            </p>
            <div class="flex gap-2">
                {(page.page > 1).then(|| {
                    let previous = TokenQuery { page: page.page - 1, ..query.clone() };
                    view! { <a class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" rel="prev" href=format!("/?{}", previous.to_query_string())>"Previous"</a> }
                })}
                <span class="px-2 py-1.5">{format!("Page {} of {page_count}", page.page)}</span>
                {(page.page < page_count).then(|| {
                    let next = TokenQuery { page: page.page + 1, ..query.clone() };
                    view! { <a class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" rel="next" href=format!("/?{}", next.to_query_string())>"Next"</a> }
                })}
            </div>
        </nav>
    }
    .into_any()
}

/// A column header that sorts by its column; a second click reverses the order.
#[component]
fn SortHeader(label: &'static str, sort: TokenSort, query: TokenQuery) -> impl IntoView {
    let active = query.sort == sort;
    let target = TokenQuery {
        sort,
        descending: active && !query.descending,
        page: 1,
        ..query
    };
    let (arrow, aria) = match (active, target.descending) {
        (false, _) => ("", "none"),
        (true, true) => (" ↑", "ascending"),
        (true, false) => (" ↓", "descending"),
    };
    view! {
        <th scope="col" class="px-4 py-3" aria-sort=aria>
            <a class="hover:text-slate-900" href=format!("/?{}", target.to_query_string())>{label}{arrow}</a>
        </th>
    }
}

#[component]
fn TokenRow(token: TokenSummary, today: chrono::NaiveDate) -> impl IntoView {
    let status = token.status(today);
    let scopes = token.scopes.join(", ");
    let owner_name = token.owner_team.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let account = token.account_username.clone().unwrap_or_default();
    let account_title = account.clone();
    view! {
        <tr class="hover:bg-slate-50" data-kind=token.kind.as_str()>
            <td class="px-4 py-3"><KindBadge kind=token.kind /></td>
            <td class="px-4 py-3">
                <a class="font-medium text-slate-900 hover:text-sky-700 hover:underline" href=format!("/tokens/{}", token.id)>{token.name}</a>
                <div class="max-w-56 truncate font-mono text-xs text-slate-500" title=account_title>{account}</div>
            </td>
            <td class="px-4 py-3 font-mono text-xs text-slate-700">{if token.container_path.is_empty() { "(instance)".to_owned() } else { token.container_path }}</td>
            <td class="px-4 py-3 text-slate-700" data-owner=owner_name>
                {match token.owner_team {
                    Some(team) => view! {
                        <span>{team.name}</span>
                        {token.owner_inferred.then(|| view! { <span class="ml-1 text-xs text-slate-400" title="Worked out from the group path (or its service account's team); nobody has confirmed it">"inferred"</span> })}
                    }.into_any(),
                    None => view! { <span class="text-xs font-medium text-amber-700">"no owner"</span> }.into_any(),
                }}
            </td>
            <td class="max-w-64 px-4 py-3 text-slate-700">
                {match token.purpose {
                    Some(purpose) => view! { <span class="line-clamp-2">{purpose}</span> }.into_any(),
                    None => view! { <span class="text-xs text-slate-400">"not said"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3 text-slate-700">{scopes}</td>
            <td class="px-4 py-3 text-slate-700">{token.access_level.map(|level| level.label())}</td>
            <td class="px-4 py-3 whitespace-nowrap">
                {match token.expires_on {
                    Some(date) => view! { <RelativeDate date today urgent=status == crate::domain::TokenStatus::Active /> }.into_any(),
                    None => view! { <span class="font-medium text-red-700" title="This token never expires">"never"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3 whitespace-nowrap">
                {match token.last_used_at {
                    Some(at) => view! { <RelativeDate date=at.date_naive() today /> }.into_any(),
                    None => view! { <span class="text-slate-400">"never used"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3"><StatusBadge status /></td>
        </tr>
    }
}

#[component]
fn EmptyState(filtered: bool) -> impl IntoView {
    let (title, hint) = if filtered {
        ("No token matches these filters.", "Try fewer filters, or clear them.")
    } else {
        ("No tokens yet.", "Tokens appear here after the first sync from GitLab.")
    };
    view! {
        <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-10 text-center" data-testid="empty-state">
            <p class="text-lg font-medium text-slate-800">{title}</p>
            <p class="mt-1 text-sm text-slate-600">{hint}</p>
            {filtered.then(|| view! { <a href="/" class="mt-4 inline-block text-sm text-sky-700 underline">"Clear filters"</a> })}
        </div>
    }
}
