//! What the app tells a person about requests (their inbox): a link with the unread count in the
//! header, and the list (`/inbox`), unread first, with a form to mark them all read.

use leptos::prelude::*;

use crate::{
    components::{ErrorPanel, PageTitle, RelativeDate, class},
    server::requests::{list_notices, unread_notices},
};

/// The inbox's link in the header, with the unread count when there are any.
#[component]
pub fn InboxLink() -> impl IntoView {
    let unread = OnceResource::new(unread_notices());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match unread.await {
                    Ok(Some(count)) => {
                        let label = if count == 0 { "Inbox".to_owned() } else { format!("Inbox, {count} unread") };
                        view! {
                            <a id="inbox-link" href="/inbox" aria-label=label class="relative rounded-md p-1.5 text-sm text-slate-100 hover:bg-slate-700 hover:text-white">
                                <svg class="h-5 w-5" viewBox="0 0 20 20" aria-hidden="true">
                                    <path d="M3 11l2-7h10l2 7v5H3zM3 11h4l1 2h4l1-2h4" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"></path>
                                </svg>
                                {(count > 0).then(|| view! {
                                    <span id="unread-count" class="absolute -right-1 -top-1 rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-slate-900">{count.to_string()}</span>
                                })}
                            </a>
                        }
                        .into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let notices = OnceResource::new(list_notices());
    let today = chrono::Utc::now().date_naive();
    view! {
        <PageTitle text="Inbox" />
        <div class="flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">"Inbox"</h1>
            <form method="post" action="/inbox/read" class="ml-auto">
                <button id="mark-all-read" type="submit" class=class::SECONDARY>"Mark all read"</button>
            </form>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match notices.await {
                    Ok(notices) if notices.is_empty() => view! { <p class="mt-6 text-slate-600">"Nothing here yet: steps on your requests, and requests that wait for you, show here."</p> }.into_any(),
                    Ok(notices) => view! {
                        <ul id="notices" class="mt-6 divide-y divide-slate-100 rounded-xl bg-white shadow-sm">
                            {notices.into_iter().map(|notice| {
                                let weight = if notice.read { "text-slate-600" } else { "font-semibold text-slate-900" };
                                let href = notice.request_id.map_or("/requests".to_owned(), |id| format!("/requests/{id}"));
                                view! {
                                    <li class="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3" data-read=notice.read.to_string()>
                                        <a class=format!("text-sm underline decoration-slate-300 {weight}") href=href>{notice.text}</a>
                                        <span class="ml-auto text-xs text-slate-500"><RelativeDate date=notice.at.date_naive() today /></span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
