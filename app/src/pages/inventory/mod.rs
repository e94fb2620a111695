//! The inventory: every token, filtered, sorted and paged on the server, the view in the URL.

pub mod token;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    components::{
        ErrorPanel, ExpiryDate, KindBadge, NoValue, PageTitle, RelativeDate, RenderedRows, ScrollBox, StatusBadge,
        class,
    },
    domain::{AccessLevel, ExpiryWindow, Scope, TeamRef, TokenKind, TokenStatus, TokenSummary},
    server::inventory::{TokenPage, TokenQuery, TokenSort, list_team_refs, list_tokens},
};

#[component]
pub fn InventoryPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| TokenQuery::from_params(|name| p.get_str(name))));
    let tokens = Resource::new(
        move || query.get(),
        |query| async move {
            match query {
                Ok(query) => list_tokens(query).await,
                Err(error) => Err(error.into()),
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
        // The filters come with the page: its teams are read with its tokens. A page that cannot
        // be shown still shows them, to mend the view.
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                let query = query.get_untracked().unwrap_or_default();
                match tokens.await {
                    Ok(mut page) => {
                        let teams = std::mem::take(&mut page.teams);
                        view! { <Filters query=query.clone() teams /> <TokenTable page query /> }.into_any()
                    }
                    Err(error) => {
                        let teams = list_team_refs().await.unwrap_or_default();
                        view! { <Filters query teams /> <ErrorPanel error /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The sort as hidden fields of the filter form, so filtering keeps it.
fn hidden_sort(query: &TokenQuery) -> impl IntoView + use<> {
    view! {
        {(query.sort != TokenSort::default()).then(|| view! { <input type="hidden" name="sort" value=query.sort.as_str() /> })}
        {query.descending.then(|| view! { <input type="hidden" name="dir" value="desc" /> })}
    }
}

/// Expiry dates from and to (inclusive; a week of the expiry timeline links here with both).
#[component]
fn ExpiresBetween(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> impl IntoView {
    let label = "flex flex-col gap-1 text-sm font-medium text-slate-700";
    let value = |date: Option<chrono::NaiveDate>| date.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <label class=label>"Expires from"<input type="date" name="expires_from" class=class::FIELD value=value(from) /></label>
        <label class=label>"Expires to"<input type="date" name="expires_to" class=class::FIELD value=value(to) /></label>
    }
}

/// The filter form: a GET form, so it works without JavaScript; with it, choosing a kind or an
/// expiry window applies it at once (`data-submit-on-change`, see `islands::Enhancements`).
#[component]
fn Filters(query: TokenQuery, teams: Vec<TeamRef>) -> impl IntoView {
    let field = class::FIELD;

    view! {
        <Form method="GET" action="/" attr:class="mt-6 grid grid-cols-2 items-end gap-3 rounded-xl bg-white p-4 shadow-sm sm:flex sm:flex-wrap" attr:role="search" attr:aria-label="Filter tokens">
            <label class="col-span-2 flex flex-col gap-1 text-sm font-medium text-slate-700 sm:min-w-64 sm:flex-1">
                "Search"
                <input type="search" name="q" class=field placeholder="Name, path, account or purpose" value=query.search.clone().unwrap_or_default() />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Kind"
                <select name="kind" class=field data-submit-on-change="">
                    <option value="" selected=query.kind.is_none()>"Any kind"</option>
                    {TokenKind::ALL
                        .into_iter()
                        .map(|kind| view! { <option value=kind.as_str() selected=query.kind == Some(kind)>{kind.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Expires"
                <select name="expiry" class=field data-submit-on-change="">
                    <option value="" selected=query.expiry.is_none()>"Any time"</option>
                    {ExpiryWindow::ALL
                        .into_iter()
                        .map(|window| view! { <option value=window.as_str() selected=query.expiry == Some(window)>{window.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <ExpiresBetween from=query.expires_from to=query.expires_to />
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
                <select name="scope" class=field>
                    <option value="" selected=query.scope.is_none()>"Any scope"</option>
                    {Scope::ALL
                        .into_iter()
                        .map(|scope| view! { <option value=scope.as_str() selected=query.scope == Some(scope)>{scope.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <fieldset class="col-span-2 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700 sm:flex-col">
                <label class="flex items-center gap-2"><input type="checkbox" name="no_owner" value="1" checked=query.no_owner />"No owner"</label>
                <label class="flex items-center gap-2"><input type="checkbox" name="no_purpose" value="1" checked=query.no_purpose />"No purpose"</label>
            </fieldset>
            {hidden_sort(&query)}
            <button type="submit" class="rounded-md bg-slate-800 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-slate-700">"Apply"</button>
            <a href="/" class="px-2 py-2 text-center text-sm text-slate-600 underline hover:text-slate-900 sm:text-left">"Clear"</a>
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
    let total = page.total_label();
    let sorting = query.clone();
    let rows = page
        .tokens
        .into_iter()
        .map(|token| view! { <TokenRow token today /> })
        .collect_view();

    // One table at every width. From `md` it is a table in a box that scrolls sideways, the
    // token's name staying in view; below, each row is a card with its own labels, and the
    // sortable column headers are a row of buttons above the cards.
    view! {
        <p class="mt-6 text-xs font-semibold uppercase tracking-wide text-slate-600 md:hidden" aria-hidden="true">"Sort by"</p>
        <ScrollBox label="Tokens" class="mt-2 md:mt-6 md:rounded-xl md:bg-white md:shadow-sm scroll-shadows">
            <table class="block w-full text-sm md:table md:min-w-full" data-testid="token-table">
                <thead class="block text-left text-xs font-semibold uppercase tracking-wide text-slate-600 md:table-header-group md:bg-slate-100">
                    <tr class="flex flex-wrap gap-2 md:table-row">
                        <SortHeader label="Kind" sort=TokenSort::Kind query=sorting.clone() />
                        <SortHeader label="Name" sort=TokenSort::Name query=sorting.clone() sticky=true />
                        <SortHeader label="Where" sort=TokenSort::Path query=sorting.clone() />
                        <SortHeader label="Owner" sort=TokenSort::Owner query=sorting.clone() />
                        <SortHeader label="Purpose" sort=TokenSort::Purpose query=sorting.clone() />
                        <th scope="col" class="hidden px-2.5 py-3 md:table-cell">"Scopes"</th>
                        <SortHeader label="Role" sort=TokenSort::Role query=sorting.clone() />
                        <SortHeader label="Expires" sort=TokenSort::Expires query=sorting.clone() />
                        <SortHeader label="Last used" sort=TokenSort::LastUsed query=sorting.clone() />
                        <th scope="col" class="hidden px-2.5 py-3 md:table-cell">"Status"</th>
                    </tr>
                </thead>
                <RenderedRows class="mt-4 block space-y-3 md:table-row-group md:space-y-0 md:divide-y md:divide-slate-100" rows />
            </table>
        </ScrollBox>
        <nav class="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm text-slate-600" aria-label="Pages">
            <p data-testid="token-count">
                {format!("Showing {first}–{last} of {total}")}
                {page.estimated.then(|| {
                    let exact = TokenQuery { exact_count: true, ..query.clone() };
                    view! {
                        " · "<a id="count-exactly" class="text-sky-700 underline" href=format!("/?{}", exact.to_query_string())>"Count exactly"</a>
                    }
                })}
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
                    view! { <a class=class::SECONDARY rel="prev" href=format!("/?{}", previous.to_query_string())>"Previous"</a> }
                })}
                <span class="px-2 py-1.5">{format!("Page {} of {page_count}", page.page)}</span>
                {(page.page < page_count).then(|| {
                    let next = TokenQuery { page: page.page + 1, ..query.clone() };
                    view! { <a class=class::SECONDARY rel="next" href=format!("/?{}", next.to_query_string())>"Next"</a> }
                })}
            </div>
        </nav>
    }
    .into_any()
}

/// A column header that sorts by its column; a second click reverses the order. Below `md` it is
/// a button-like link above the cards.
#[component]
fn SortHeader(
    label: &'static str,
    sort: TokenSort,
    query: TokenQuery,
    /// The name column stays in view when the table scrolls sideways.
    #[prop(optional)]
    sticky: bool,
) -> impl IntoView {
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
    let chip = if active {
        "border-slate-700 bg-slate-800 text-white md:bg-transparent md:text-slate-900"
    } else {
        "border-slate-300 bg-white"
    };
    let class = format!(
        "block rounded-full border {chip} md:table-cell md:rounded-none md:border-0 md:bg-slate-100 md:px-2.5 md:py-3 {}",
        if sticky {
            "sticky-edge md:sticky md:left-0 md:z-10"
        } else {
            ""
        }
    );
    view! {
        <th scope="col" class=class aria-sort=aria>
            <a class="block px-3 py-1.5 hover:text-slate-900 md:inline md:p-0" href=format!("/?{}", target.to_query_string())>{label}{arrow}</a>
        </th>
    }
}

/// A token as a card below `md` and a table row from it: `token-row`, `cell`, `cell-label`,
/// `name-cell` and `token-link` are in `style/base.css`, written once instead of on every row.
#[component]
fn TokenRow(token: TokenSummary, today: chrono::NaiveDate) -> impl IntoView {
    let status = token.status(today);
    let scopes = token.scopes.clone();
    let owner_name = token.owner_team.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let account = token.account_username.clone().unwrap_or_default();
    let account_title = account.clone();
    let deploy = token.kind == TokenKind::Deploy;
    view! {
        // On a card: the name, the kind and status badges, where it lives, then the rest in
        // labelled pairs (`order` only moves grid items: the table keeps its columns).
        <tr class="token-row" data-kind=token.kind.as_str()>
            <td class="cell order-2"><KindBadge kind=token.kind /></td>
            <td class="cell order-1 col-span-2 name-cell sticky-edge">
                <a class="token-link" href=format!("/tokens/{}", token.id)>{token.name}</a>
                <div class="max-w-48 truncate font-mono text-xs text-slate-600" title=account_title>{account}</div>
            </td>
            <td class="cell order-3 col-span-2 mb-1 md:mb-0">
                <span class="sr-only md:hidden">"Where: "</span>
                <span class="break-words font-mono text-xs text-slate-700">{path_with_breaks(&token.container_path)}</span>
            </td>
            <td class="cell order-4 text-slate-700" data-owner=owner_name>
                <span class="cell-label">"Owner"</span>
                {match token.owner_team {
                    Some(team) => Either::Left(view! {
                        <span>{team.name}</span>
                        {token.owner_inferred.then(|| view! { " "<span class="text-xs text-slate-500" title="Worked out from the group path (or its service account's team); nobody has confirmed it">"inferred"</span> })}
                    }),
                    None => Either::Right(view! { <span class="text-xs font-medium text-amber-700">"no owner"</span> }),
                }}
            </td>
            <td class="cell order-5 text-slate-700 md:max-w-48">
                <span class="cell-label">"Purpose"</span>
                {match token.purpose {
                    Some(purpose) => Either::Left(view! { <span class="line-clamp-2">{purpose}</span> }),
                    None => Either::Right(view! { <NoValue reason="not said yet" /> }),
                }}
            </td>
            <td class="cell order-6 text-slate-700">
                <span class="cell-label">"Scopes"</span>
                <ul class="text-xs leading-5">{scopes.into_iter().map(|scope| view! { <li>{scope}</li> }).collect_view()}</ul>
            </td>
            <td class="cell order-7 text-slate-700">
                <span class="cell-label">"Role"</span>
                {match token.access_level {
                    Some(level) => Either::Left(view! { <span>{level.label()}</span> }),
                    None if deploy => Either::Right(view! { <NoValue reason="deploy tokens have none" /> }),
                    None if token.kind == TokenKind::Personal => Either::Right(view! { <NoValue reason="its account's memberships" /> }),
                    None => Either::Right(view! { <NoValue reason="GitLab did not say" /> }),
                }}
            </td>
            <td class="cell order-8">
                <span class="cell-label">"Expires"</span>
                <ExpiryDate expires_on=token.expires_on today active=status == TokenStatus::Active />
            </td>
            <td class="cell order-9">
                <span class="cell-label">"Last used"</span>
                {match token.last_used_at {
                    Some(at) => EitherOf3::A(view! { <RelativeDate date=at.date_naive() today /> }),
                    None if deploy => EitherOf3::B(view! { <NoValue reason="GitLab does not say" /> }),
                    None => EitherOf3::C(view! { <span class="whitespace-nowrap text-slate-600">"never used"</span> }),
                }}
            </td>
            <td class="cell order-2 text-right md:text-left"><StatusBadge status /></td>
        </tr>
    }
}

/// A group path that may wrap after each `/` (a long path would otherwise widen its column).
fn path_with_breaks(path: &str) -> impl IntoView + use<> {
    if path.is_empty() {
        return Either::Left(view! { <span>"(instance)"</span> });
    }
    let last = path.split('/').count() - 1;
    Either::Right(
        path.split('/')
            .enumerate()
            .map(|(i, part)| {
                let part = part.to_owned();
                view! { {part}{(i < last).then(|| view! { "/"<wbr /> })} }
            })
            .collect_view(),
    )
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
