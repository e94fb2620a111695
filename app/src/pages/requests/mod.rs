//! Service-account requests: the lists (`/requests`), one request with its timeline and the
//! steps the person may take (`/requests/:id`), and the form (`/requests/new`, from the wizard's
//! answer or on its own; `/requests/:id/edit`). Plain forms: they work without JavaScript; a
//! refused form comes back with what was written and a message under each field.

mod form;
mod inbox;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

pub use form::{EditRequestPage, NewRequestPage};
pub use inbox::{InboxLink, InboxPage};

use crate::{
    components::{ErrorPanel, Fact, NoValue, PageTitle, RelativeDate, TextArea, class},
    db::{RequestSummary, StoredRequest},
    domain::requests::{RequestAction, RequestState},
    server::requests::{RequestLists, RequestView, get_request, list_requests},
};

#[component]
pub fn RequestsPage() -> impl IntoView {
    let query = use_query_map();
    let state = Memo::new(move |_| query.with(|q| q.get("state")));
    let lists = Resource::new(move || state.get(), list_requests);
    view! {
        <PageTitle text="Requests" />
        <div class="flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold">"Service-account requests"</h1>
            <a id="new-request" href="/requests/new" class="ml-auto rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Request a service account"</a>
        </div>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "A service account is for automation at group level or across projects that needs Maintainer; anything narrower takes a project or group access token or a deploy token (the wizard says which). A request goes to a lead of its owner team, then to security; once approved, the account is made and its first token handed over once."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading requests…"</p> }>
            {move || Suspend::new(async move {
                match lists.await {
                    Ok(lists) => view! { <Lists lists /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Lists(lists: RequestLists) -> impl IntoView {
    let others_title = if lists.is_security {
        "Every request"
    } else {
        "Your teams' requests"
    };
    view! {
        <RequestList id="waiting" title="Waiting for you" empty="Nothing waits for you." requests=lists.waiting />
        <RequestList id="mine" title="Your requests" empty="You have not asked for a service account." requests=lists.mine />
        {lists.is_security.then(|| view! { <StateFilter chosen=lists.state /> })}
        <RequestList id="others" title=others_title empty="No request here." requests=lists.others />
    }
}

#[component]
fn StateFilter(chosen: Option<RequestState>) -> impl IntoView {
    view! {
        <form method="get" action="/requests" class="mt-8 flex flex-wrap items-end gap-2" aria-label="Filter by state">
            <label class=class::LABEL>"State"
                <select name="state" class=format!("mt-1 block {}", class::FIELD)>
                    <option value="" selected=chosen.is_none()>"Any"</option>
                    {RequestState::ALL.into_iter().filter(|state| *state != RequestState::Draft).map(|state| view! {
                        <option value=state.as_str() selected=chosen == Some(state)>{state.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class=class::SECONDARY>"Apply"</button>
        </form>
    }
}

#[component]
fn RequestList(
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    requests: Vec<RequestSummary>,
) -> impl IntoView {
    let today = chrono::Utc::now().date_naive();
    view! {
        <section class="mt-8" aria-labelledby=format!("{id}-title")>
            <h2 id=format!("{id}-title") class="text-lg font-semibold">{title}</h2>
            {if requests.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul id=id class="mt-3 divide-y divide-slate-100 rounded-xl bg-white shadow-sm">
                        {requests.into_iter().map(|request| view! {
                            <li class="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3" data-request=request.id.to_string()>
                                <a class="break-all font-mono text-sm font-semibold text-sky-700 underline" href=format!("/requests/{}", request.id)>
                                    {if request.account_name.is_empty() { "(no name yet)".to_owned() } else { request.account_name.clone() }}
                                </a>
                                <StateBadge state=request.state />
                                <span class="text-sm text-slate-600">{request.owner_team.map_or("no team yet".to_owned(), |team| team.name)}</span>
                                <span class="text-sm text-slate-600">"by "{request.requester}</span>
                                <span class="ml-auto text-xs text-slate-500">"changed "<RelativeDate date=request.updated_at.date_naive() today /></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn StateBadge(state: RequestState) -> impl IntoView {
    let colour = match state {
        RequestState::Draft | RequestState::Withdrawn => "bg-slate-100 text-slate-700",
        RequestState::Submitted | RequestState::Endorsed => "bg-amber-100 text-amber-900",
        RequestState::Approved => "bg-sky-100 text-sky-900",
        RequestState::Rejected => "bg-red-100 text-red-800",
        RequestState::Fulfilled => "bg-emerald-100 text-emerald-800",
    };
    view! {
        <span class=format!("rounded-full px-2 py-0.5 text-xs font-semibold {colour}") data-state=state.as_str()>{state.label()}</span>
    }
}

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get_str("id").and_then(|id| id.parse::<i64>().ok())));
    let view = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_request(id).await,
                None => Err(crate::error::AppError::NotFound("that request".to_owned())),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading the request…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(view) => view! { <Request view /> }.into_any(),
                    Err(error) => view! { <PageTitle text="Request" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Request(view: RequestView) -> impl IntoView {
    let RequestView {
        request,
        steps,
        can_edit,
        narrower,
        gitlab_url,
        writes,
        can_make_token,
        today,
    } = view;
    let query = use_query_map();
    let done = query.with_untracked(|q| q.get("done"));
    let title = if request.body.account_name.is_empty() {
        "New service account".to_owned()
    } else {
        request.body.account_name.clone()
    };
    view! {
        <PageTitle text=title.clone() />
        <p class="text-sm"><a class="text-sky-700 underline" href="/requests">"Requests"</a>" / "{format!("#{}", request.id)}</p>
        <div class="mt-1 flex flex-wrap items-center gap-3">
            <h1 class="break-all text-2xl font-semibold">{title}</h1>
            <StateBadge state=request.state />
            {can_edit.then(|| view! {
                <a id="edit-request" class=class::SECONDARY href=format!("/requests/{}/edit", request.id)>
                    {if request.state == RequestState::Draft { "Finish the draft" } else { "Amend" }}
                </a>
            })}
        </div>
        {done.map(|done| view! { <p id="done" class="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status">{done}</p> })}
        {narrower.map(|(kind, link)| view! {
            <p id="narrower" class="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" role="note">
                {format!("For what this account needs, the wizard recommends a {kind} instead (the guidelines: a service account only “when project access tokens can't be used”). ")}
                <a class="underline" href=link>"See why in the wizard"</a>
            </p>
        })}
        {request.decision_reason.clone().filter(|_| request.state == RequestState::Rejected).map(|reason| view! {
            <p id="rejected-because" class="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" role="note">{format!("Rejected: {reason}")}</p>
        })}
        {request.fulfilment.error.clone().filter(|_| request.state == RequestState::Approved).map(|error| view! {
            <p id="fulfil-error" class="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" role="note">{format!("The last try to create it in GitLab stopped: {error}")}</p>
        })}
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <RequestFacts request=request.clone() today />
            <div class="min-w-0 space-y-6">
                {(!steps.is_empty()).then(|| view! { <Steps request=request.clone() steps writes /> })}
                {(request.state == RequestState::Approved && !writes).then(|| view! { <HowToCreate request=request.clone() gitlab_url /> })}
                {(request.state == RequestState::Fulfilled && request.fulfilment.key.is_some()).then(|| view! { <FirstToken request=request.clone() can_make_token today /> })}
                <Timeline request />
            </div>
        </div>
    }
}

#[component]
fn RequestFacts(request: StoredRequest, today: chrono::NaiveDate) -> impl IntoView {
    let body = request.body;
    let text = |value: String| {
        if value.is_empty() {
            view! { <NoValue reason="not said yet" /> }.into_any()
        } else {
            view! { <span>{value}</span> }.into_any()
        }
    };
    view! {
        <section class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6 lg:col-span-2" aria-labelledby="asked-title">
            <h2 id="asked-title" class="text-lg font-semibold">"What is asked"</h2>
            <dl class="mt-4 grid gap-4 sm:grid-cols-2">
                <Fact term="Owner team">{text(body.owner_team.as_ref().map_or(String::new(), |team| team.name.clone()))}</Fact>
                <Fact term="Requested by">{request.requester.username.clone()}" "<RelativeDate date=request.created_at.date_naive() today /></Fact>
                <Fact term="Purpose">{text(body.purpose.clone())}</Fact>
                <Fact term="Automation">{text(body.automation.clone())}</Fact>
                <Fact term="Runs on">{text(body.runs_on.clone())}</Fact>
                <Fact term="Secret kept in">{text(body.secret_location.clone())}</Fact>
                <Fact term="Scopes" class="font-mono text-sm">{text(body.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))}</Fact>
                <Fact term="First token's lifetime">{text(body.lifetime_days.map_or(String::new(), |days| format!("{days} days")))}</Fact>
                <Fact term="Memberships" class="break-all font-mono text-sm">
                    {if body.memberships.is_empty() { view! { <NoValue reason="not said yet" /> }.into_any() } else {
                        view! { <ul>{body.memberships.iter().map(|ask| view! { <li>{format!("{} {} as {}", ask.kind.as_str(), ask.path, ask.role.label())}</li> }).collect_view()}</ul> }.into_any()
                    }}
                </Fact>
                <Fact term="Reads confidential issues">{if body.confidential_issues { "Yes" } else { "No" }}</Fact>
            </dl>
            <dl class="mt-4">
                <Fact term="Why an access token will not do">{text(body.why_not_token.clone())}</Fact>
            </dl>
        </section>
    }
}

/// The first token of an account made through the API: its requester makes it (and alone sees
/// its secret, once); everyone else sees whether it was made.
#[component]
fn FirstToken(request: StoredRequest, can_make_token: bool, today: chrono::NaiveDate) -> impl IntoView {
    let made = request.fulfilment.token_created_at;
    let requester = request.requester.username.clone();
    view! {
        <section id="first-token" class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="first-token-title">
            <h2 id="first-token-title" class="text-lg font-semibold">"First token"</h2>
            {match made {
                Some(at) => view! {
                    <p class="mt-2 text-sm text-slate-700">"Made "<RelativeDate date=at.date_naive() today />{format!(" by {requester}, who saw its secret once. If it is lost, rotate the token in GitLab.")}</p>
                }.into_any(),
                None if can_make_token => view! {
                    <form method="post" action=format!("/requests/{}/token", request.id)>
                        <p class="mt-2 text-sm text-slate-700">{format!(
                            "The account exists in GitLab. Make its first token, with the approved scopes and lifetime: its secret is shown to you once, on the next page, and kept nowhere here. Have {} open to put it in.",
                            if request.body.secret_location.is_empty() { "your secret store".to_owned() } else { request.body.secret_location.clone() }
                        )}</p>
                        <button type="submit" id="make-token" class="mt-3 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Make the first token"</button>
                    </form>
                }.into_any(),
                None => view! {
                    <p class="mt-2 text-sm text-slate-700">{format!("The account exists in GitLab; {requester} makes its first token here, and alone sees its secret.")}</p>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Steps(request: StoredRequest, steps: Vec<RequestAction>, writes: bool) -> impl IntoView {
    let query = use_query_map();
    let error = query.with_untracked(|q| q.get("error_reason"));
    let label = move |action: RequestAction| match action {
        RequestAction::Endorse => "Endorse",
        RequestAction::Approve => "Approve",
        RequestAction::Reject => "Reject",
        RequestAction::Fulfil if writes => "Create it in GitLab",
        RequestAction::Fulfil => "Mark the account created",
        RequestAction::Withdraw => "Withdraw",
        _ => "",
    };
    let rejects = steps.contains(&RequestAction::Reject);
    view! {
        <form method="post" action=format!("/requests/{}/steps", request.id) class="rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="steps-title">
            <h2 id="steps-title" class="text-lg font-semibold">"Your step"</h2>
            <input type="hidden" name="version" value=request.version.to_string() />
            {rejects.then(|| view! {
                <label class=format!("mt-3 {}", class::LABEL)>"Reason (required to reject; the requester reads it)"
                    <TextArea name="reason" id="reason" class=class::WIDE_FIELD rows=3 maxlength=1000 value=String::new() />
                </label>
            })}
            {error.map(|message| view! { <p class="mt-1 text-sm text-red-700" id="error-reason" role="alert">{message}</p> })}
            <div class="mt-3 flex flex-wrap gap-2">
                {steps.into_iter().map(|action| {
                    let primary = matches!(action, RequestAction::Endorse | RequestAction::Approve | RequestAction::Fulfil);
                    let look = if primary { "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800" } else { "rounded-md border border-slate-300 bg-white px-4 py-2 text-sm hover:bg-slate-50" };
                    // Through the API, the account is made by its own route (the form's version goes along).
                    let formaction = (writes && action == RequestAction::Fulfil).then(|| format!("/requests/{}/fulfil", request.id));
                    view! { <button type="submit" name="action" value=action.as_str() id=format!("step-{}", action.as_str()) formaction=formaction class=look>{label(action)}</button> }
                }).collect_view()}
            </div>
        </form>
    }
}

/// How to make the approved account by hand (no write credential is configured here).
#[component]
fn HowToCreate(request: StoredRequest, gitlab_url: Option<String>) -> impl IntoView {
    let base = gitlab_url.unwrap_or_else(|| "https://gitlab.example.com".to_owned());
    let body = request.body;
    let top = body.memberships.first().map_or("<top-level-group>".to_owned(), |ask| {
        ask.path.split('/').next().unwrap_or_default().to_owned()
    });
    let scopes = body
        .scopes
        .iter()
        .map(|s| format!("\"{}\"", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let days = body.lifetime_days.unwrap_or(90);
    let commands = format!(
        "# the group's id: curl --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \"{base}/api/v4/groups/{top}\"\n\
         curl --request POST --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \"{base}/api/v4/groups/<group-id>/service_accounts\" --data \"name={name}&username={name}\"\n\
         # for each membership: POST /groups/<id>/members or /projects/<id>/members with user_id and access_level\n\
         curl --request POST --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" --header \"Content-Type: application/json\" \"{base}/api/v4/groups/<group-id>/service_accounts/<user-id>/personal_access_tokens\" --data '{{\"name\":\"{name}\",\"scopes\":[{scopes}],\"expires_at\":\"<today + {days} days>\"}}'",
        name = body.account_name,
    );
    view! {
        <section id="how-to-create" class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="create-title">
            <h2 id="create-title" class="text-lg font-semibold">"Make the account"</h2>
            <p class="mt-2 text-sm text-slate-700">
                {format!("As an Owner of the top-level group {top}: Settings › Service accounts › Add service account, named {}; add it to each group or project above with its role; then give it a personal access token with the scopes above, expiring in {days} days. Hand the token to the requester once, then mark the account created here.", body.account_name)}
            </p>
            <pre class="mt-3 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"><code>{commands}</code></pre>
        </section>
    }
}

#[component]
fn Timeline(request: StoredRequest) -> impl IntoView {
    let today = chrono::Utc::now().date_naive();
    view! {
        <section class="rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="timeline-title">
            <h2 id="timeline-title" class="text-lg font-semibold">"Timeline"</h2>
            <ol id="timeline" class="mt-3 space-y-2 text-sm">
                {request.events.into_iter().map(|event| view! {
                    <li data-action=event.action.as_str()>
                        <span class="font-medium">{event.by.unwrap_or_else(|| "sync".to_owned())}</span>" "{event.action.done()}" "
                        <span class="text-slate-500"><RelativeDate date=event.at.date_naive() today /></span>
                        {event.note.map(|note| view! { <span class="block text-slate-700">{format!("“{note}”")}</span> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}
