//! The signed-in person's API keys for the product's JSON API: the list, a form to create one
//! (answered by a page that shows the secret once) and revoke buttons. Plain forms: they work with
//! JavaScript off. Below them, how to subscribe to the calendar feeds of token expiries, which
//! take the same keys.

use leptos::prelude::*;

use crate::{
    components::{ErrorPanel, PageTitle, RelativeDate, ScrollBox, class},
    server::account::{API_KEY_MAX_DAYS, ApiKeyView, CalendarFeed, list_api_keys},
};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_api_keys());
    let field = class::FIELD;
    view! {
        <PageTitle text="API keys" />
        <h1 class="text-2xl font-semibold">"API keys"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "Keys for scripts that read (or change) the inventory through its JSON API. Following the token guidelines, "
            "every key expires, and a key that only reads should be read-only. A key is shown once, when you create it."
        </p>
        <form method="post" action="/account/api-keys" class="mt-6 flex flex-wrap items-end gap-3 rounded-xl bg-white p-4 shadow-sm" aria-label="New API key">
            <label class="flex w-full flex-col gap-1 text-sm font-medium text-slate-700 sm:w-auto sm:min-w-64 sm:flex-1">
                "Name"
                <input name="name" required maxlength="100" placeholder="e.g. weekly expiry report" class=field />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Expires in (days)"
                <input name="expires_in_days" type="number" min="1" max=API_KEY_MAX_DAYS.to_string() value="90" required class=field />
            </label>
            <label class="flex items-center gap-2 pb-2 text-sm text-slate-700">
                <input type="checkbox" name="read_write" value="on" class="h-4 w-4 rounded border-slate-300" />
                "Can make changes"
            </label>
            <button type="submit" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Create key"</button>
        </form>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(list) if list.keys.is_empty() => view! {
                        <p id="no-api-keys" class="mt-6 text-slate-600">"You have no API keys."</p>
                    }.into_any(),
                    Ok(list) => {
                        let today = list.today;
                        view! {
                            <ScrollBox label="Your API keys" class="mt-6 rounded-xl bg-white shadow-sm">
                            <table id="api-keys" class="w-full text-left text-sm">
                                <thead class="bg-slate-100 text-slate-600">
                                    <tr>
                                        <th class="px-4 py-2">"Name"</th>
                                        <th class="px-4 py-2">"Key"</th>
                                        <th class="px-4 py-2">"Access"</th>
                                        <th class="px-4 py-2">"Expires"</th>
                                        <th class="px-4 py-2">"Last used"</th>
                                        <th class="px-4 py-2"><span class="sr-only">"Revoke"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.keys.into_iter().map(|key| view! { <KeyRow key today /> }).collect_view()}
                                </tbody>
                            </table>
                            </ScrollBox>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                keys.await.ok().map(|list| view! { <CalendarFeeds feeds=list.calendars /> })
            })}
        </Suspense>
    }
}

/// How to subscribe to the calendar feeds of token expiries: the addresses, and which key.
#[component]
fn CalendarFeeds(feeds: Vec<CalendarFeed>) -> impl IntoView {
    let list = if feeds.is_empty() {
        view! { <p class="mt-3 text-sm text-slate-600">"You belong to no team yet, so there is no feed for you."</p> }
            .into_any()
    } else {
        view! {
            <ul id="calendar-feeds" class="mt-3 space-y-1 text-sm">
                {feeds.into_iter().map(|feed| view! {
                    <li>
                        <span class="font-medium">{feed.name}</span>": "
                        <code class="break-all font-mono text-xs text-slate-700">{format!("{}?key=ti_…", feed.path)}</code>
                    </li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <section aria-labelledby="calendar-heading" class="mt-8 max-w-3xl rounded-xl bg-white p-4 shadow-sm">
            <h2 id="calendar-heading" class="text-lg font-semibold">"Calendar"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Subscribe in your calendar app to see when tokens expire: one all-day event per live token on its expiry "
                "date, linking to its page here, with a reminder a week before. Create a read-only key above and add it "
                "to this site's address below in place of "<code class="font-mono text-xs">"ti_…"</code>" (calendar apps "
                "cannot send a header; scripts may send "<code class="font-mono text-xs">"Authorization: Bearer"</code>
                " instead). Whoever has the address can read the feed: keep it as you keep the key, and revoke the key to "
                "end the subscription."
            </p>
            {list}
        </section>
    }
}

#[component]
fn KeyRow(key: ApiKeyView, today: chrono::NaiveDate) -> impl IntoView {
    let state = if key.revoked {
        Some("revoked")
    } else if key.expired {
        Some("expired")
    } else {
        None
    };
    let revoke_url = format!("/account/api-keys/{}/revoke", key.id);
    view! {
        <tr class="border-t border-slate-100" data-api-key=key.prefix.clone()>
            <td class="px-4 py-2 font-medium">{key.name}</td>
            <td class="px-4 py-2 font-mono text-xs text-slate-600">{format!("ti_{}_…", key.prefix)}</td>
            <td class="px-4 py-2">{if key.read_write { "read and write" } else { "read only" }}</td>
            <td class="px-4 py-2"><RelativeDate date=key.expires_on today urgent=true /></td>
            <td class="px-4 py-2">
                {match key.last_used_on {
                    Some(date) => view! { <RelativeDate date today /> }.into_any(),
                    None => view! { <span class="text-slate-600">"never"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-2 text-right">
                {match state {
                    Some(state) => view! { <span class="text-slate-600">{state}</span> }.into_any(),
                    None => view! {
                        <form method="post" action=revoke_url>
                            <button type="submit" class="rounded-md border border-red-300 px-3 py-1 text-sm text-red-700 hover:bg-red-50">"Revoke"</button>
                        </form>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}
