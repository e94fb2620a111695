//! The request form: new (filled in from the wizard's answer when it comes from there), a draft to
//! finish, or a sent request to amend.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    components::{ErrorPanel, PageTitle, TextArea, class},
    domain::requests::{RequestState, SERVICE_ACCOUNT_SCOPES},
    server::requests::{RequestFormView, get_request_form},
};

/// What the page's URL says: every pair (the wizard's answers, or the form sent back refused).
fn sent_pairs() -> Vec<(String, String)> {
    use_query_map().with_untracked(|query| {
        query
            .clone()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect()
    })
}

#[component]
pub fn NewRequestPage() -> impl IntoView {
    let sent = sent_pairs();
    let form = Resource::new(|| (), move |_| get_request_form(None, sent.clone()));
    view! { <FormPage form /> }
}

#[component]
pub fn EditRequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get_str("id").and_then(|id| id.parse::<i64>().ok()));
    let sent = sent_pairs();
    let form = Resource::new(
        || (),
        move |_| {
            let sent = sent.clone();
            async move {
                match id {
                    Some(id) => get_request_form(Some(id), sent).await,
                    None => Err(crate::error::AppError::NotFound("that request".to_owned())),
                }
            }
        },
    );
    view! { <FormPage form /> }
}

#[component]
fn FormPage(form: Resource<Result<RequestFormView, crate::error::AppError>>) -> impl IntoView {
    view! {
        <PageTitle text="Request a service account" />
        <p class="text-sm"><a class="text-sky-700 underline" href="/requests">"Requests"</a></p>
        <h1 class="mt-1 text-2xl font-semibold">"Request a service account"</h1>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(view) => view! { <RequestFormFields view /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RequestFormFields(view: RequestFormView) -> impl IntoView {
    let query = use_query_map();
    let message = move |name: &'static str| {
        query
            .with_untracked(|q| q.get(&format!("error_{name}")))
            .map(|m| view! { <p class="mt-1 text-sm text-red-700" id=format!("error-{name}") role="alert">{m}</p> })
    };
    let form = view.form.clone();
    let action = view
        .id
        .map_or("/requests/file".to_owned(), |id| format!("/requests/{id}/file"));
    let sent = view.state.is_some_and(|state| state != RequestState::Draft);
    let field = class::WIDE_FIELD;
    view! {
        {view.narrower.clone().map(|(kind, link)| view! {
            <p id="narrower" class="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" role="note">
                {format!("For what you describe, the wizard recommends a {kind}: the guidelines ask for a service account only “when project access tokens can't be used”. ")}
                <a class="underline" href=link>"See why in the wizard"</a>
                " If it still must be a service account, say why below."
            </p>
        })}
        <form method="post" action=action class="mt-6 grid gap-6 lg:grid-cols-2" aria-label="Service-account request">
            <section class="min-w-0 space-y-4 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="who-title">
                <h2 id="who-title" class="text-lg font-semibold">"The account"</h2>
                <div>
                    <label class=class::LABEL for="account_name">"Account name"</label>
                    <input name="account_name" id="account_name" class=field maxlength="255" value=form.account_name.clone() placeholder=view.naming.clone()
                        data-request=view.id.map(|id| id.to_string()) aria-describedby="account_name-live" />
                    // Filled in as the name is typed, with JavaScript (`islands::Enhancements`).
                    <p id="account_name-live" class="mt-1 text-sm" aria-live="polite"></p>
                </div>
                <p class="text-xs text-slate-500">{format!("The naming convention: {}", view.naming)}</p>
                {message("account_name")}
                <label class=class::LABEL>"Owner team"
                    <select name="owner_team" id="owner_team" class=field>
                        <option value="" selected=form.owner_team.is_empty()>"Choose your team"</option>
                        {view.teams.clone().into_iter().map(|team| {
                            let id = team.id.to_string();
                            let selected = id == form.owner_team;
                            view! { <option value=id selected=selected>{team.name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                {message("owner_team")}
                <TextField name="purpose" label="Purpose" value=form.purpose.clone() placeholder="What it does, in a sentence" />
                {message("purpose")}
                <TextField name="automation" label="The automation it serves" value=form.automation.clone() placeholder="A bot, a job, a pipeline" />
                {message("automation")}
                <TextField name="runs_on" label="Where it runs" value=form.runs_on.clone() placeholder="e.g. acme/tools CI, the ops cluster" />
                {message("runs_on")}
                <TextField name="secret_location" label="Where its secret will be kept" value=form.secret_location.clone() placeholder="e.g. vault item ci/release-bot (never the secret)" />
                {message("secret_location")}
            </section>
            <Access view=view.clone() message />
            <div class="flex flex-wrap gap-2 lg:col-span-2">
                {(!sent).then(|| view! {
                    <button id="save-draft" type="submit" name="send" value="" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm hover:bg-slate-50">"Save the draft"</button>
                })}
                <button id="send-request" type="submit" name="send" value="1" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">
                    {if sent { "Send the amendment (the lead endorses it again)" } else { "Send to the team's lead" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn TextField(name: &'static str, label: &'static str, value: String, placeholder: &'static str) -> impl IntoView {
    view! {
        <label class=class::LABEL>{label}
            <input name=name id=name class=class::WIDE_FIELD maxlength="1000" value=value placeholder=placeholder />
        </label>
    }
}

/// What it may reach and do: memberships, scopes, confidential issues, lifetime, and why an
/// access token will not do.
#[component]
fn Access<M, V>(view: RequestFormView, message: M) -> impl IntoView
where
    M: Fn(&'static str) -> Option<V> + Copy + Send + 'static,
    V: IntoView + 'static,
{
    let form = view.form;
    let field = class::WIDE_FIELD;
    view! {
        <section class="min-w-0 space-y-4 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="access-title">
            <h2 id="access-title" class="text-lg font-semibold">"What it may reach"</h2>
            <label class=class::LABEL>"Memberships: one per line, a group's or project's path and a role"
                <TextArea name="memberships" id="memberships" class=field rows=4 maxlength=4000 value=form.memberships.clone() />
            </label>
            <p class="text-xs text-slate-500">"e.g. acme/platform developer: roles are guest, planner, reporter, developer, maintainer."</p>
            {message("memberships")}
            <fieldset>
                <legend class=class::LABEL>"Scopes of its first token (the fewest that do the job)"</legend>
                <div class="mt-2 grid grid-cols-2 gap-2 text-sm">
                    {SERVICE_ACCOUNT_SCOPES.into_iter().map(|scope| {
                        let checked = form.scopes.iter().any(|s| s == scope.as_str());
                        view! {
                            <label class="flex items-center gap-2 font-mono">
                                <input type="checkbox" name="scopes" value=scope.as_str() checked=checked class="h-4 w-4 rounded border-slate-300" />
                                {scope.as_str()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            {message("scopes")}
            <label class="flex items-center gap-2 text-sm text-slate-700">
                <input type="checkbox" name="confidential_issues" value="yes" checked=form.confidential_issues == "yes" class="h-4 w-4 rounded border-slate-300" />
                "It reads confidential issues"
            </label>
            <label class=class::LABEL>{format!("First token's lifetime, in days (at most {})", view.max_lifetime_days)}
                <input name="lifetime_days" id="lifetime_days" type="number" min="1" max=view.max_lifetime_days.to_string() class=field value=form.lifetime_days.clone() />
            </label>
            {message("lifetime_days")}
            <label class=class::LABEL>"Why a project or group access token will not do"
                <TextArea name="why_not_token" id="why_not_token" class=field rows=3 maxlength=1000 value=form.why_not_token.clone() />
            </label>
            {message("why_not_token")}
        </section>
    }
}
