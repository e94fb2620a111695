//! One token: every field sync knows, where it lives (linked to GitLab), its history, and what
//! people say about it (owner team, purpose, automation, where its secret is kept, notes), with
//! the form to change that for those allowed (a plain form: it works without JavaScript; refused
//! values come back in the URL with a message next to each field), and, for security and its
//! owning team, the review's findings with every decision on them.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    components::{
        ErrorPanel, ExpiryDate, Fact, KindBadge, NoValue, PageTitle, RelativeDate, StatusBadge, TextArea, class,
    },
    domain::{ContainerKind, TokenKind, TokenStatus},
    error::AppError,
    pages::review::TokenFindings,
    server::{
        inventory::{TokenView, get_token},
        review::token_findings,
    },
};

#[component]
pub fn TokenDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get_str("id").and_then(|id| id.parse::<i64>().ok())));
    let token = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_token(id).await,
                None => Err(AppError::NotFound("that token".to_owned())),
            }
        },
    );
    let findings = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => token_findings(id).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading the token…"</p> }>
            {move || Suspend::new(async move {
                let found = findings.await;
                match token.await {
                    Ok(view) => {
                        let today = view.today;
                        view! {
                            <TokenDetail view />
                            {match found {
                                Ok(Some(findings)) => view! { <TokenFindings findings today /> }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <ErrorPanel error /> }.into_any(),
                            }}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <PageTitle text="Token" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn gitlab_link(base: &Option<String>, kind: TokenKind, container: ContainerKind, path: &str) -> Option<String> {
    let base = base.as_ref()?;
    if path.is_empty() {
        return None;
    }
    let settings = match (kind, container) {
        (TokenKind::Deploy, ContainerKind::Project) => "/-/settings/repository",
        (TokenKind::Deploy, ContainerKind::Group) => "/-/settings/repository",
        (TokenKind::ProjectAccess | TokenKind::GroupAccess, _) => "/-/settings/access_tokens",
        _ => "",
    };
    let prefix = if container == ContainerKind::Group {
        "/groups"
    } else {
        ""
    };
    Some(format!("{base}{prefix}/{path}{settings}"))
}

#[component]
fn TokenDetail(view: TokenView) -> impl IntoView {
    let TokenView {
        detail,
        history,
        teams,
        can_edit,
        today,
        gitlab_url,
    } = view;
    let summary = detail.summary.clone();
    let status = summary.status(today);
    view! {
        <PageTitle text=summary.name.clone() />
        <nav class="break-all text-sm text-slate-600" aria-label="Breadcrumb"><a class="underline hover:text-slate-900" href="/">"Inventory"</a>" / "<span aria-current="page">{summary.name.clone()}</span></nav>
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <h1 class="break-all text-2xl font-semibold">{summary.name.clone()}</h1>
            <KindBadge kind=summary.kind />
            <StatusBadge status />
        </div>
        {detail.description.clone().map(|d| view! { <p class="mt-1 text-slate-600">{d}</p> })}
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6 lg:col-span-2" aria-labelledby="facts">
                <h2 id="facts" class="text-lg font-semibold">"What GitLab says"</h2>
                <GitLabFacts detail=detail.clone() today gitlab_url />
            </section>
            <Ownership detail teams can_edit />
        </div>
        <History history today />
    }
    .into_any()
}

/// What sync read of the token, each empty value with the reason it is empty.
#[component]
fn GitLabFacts(
    detail: crate::domain::TokenDetail,
    today: chrono::NaiveDate,
    gitlab_url: Option<String>,
) -> impl IntoView {
    let summary = detail.summary;
    let status = summary.status(today);
    let link = gitlab_link(
        &gitlab_url,
        summary.kind,
        summary.container_kind,
        &summary.container_path,
    );
    let deploy = summary.kind == TokenKind::Deploy;
    view! {
        <dl class="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2">
            <Fact term="Where it lives" class="break-all font-mono text-sm">
                {match link {
                    Some(href) => view! { <a class="text-sky-700 hover:underline" href=href rel="external noopener">{summary.container_path.clone()}</a> }.into_any(),
                    None => view! { <span>{if summary.container_path.is_empty() { "(instance)".to_owned() } else { summary.container_path.clone() }}</span> }.into_any(),
                }}
            </Fact>
            <Fact term="Account" class="break-all font-mono text-sm">
                {match summary.account_username.clone() {
                    Some(account) => view! { <span>{account}</span> }.into_any(),
                    None => view! { <NoValue reason="GitLab did not say" /> }.into_any(),
                }}
            </Fact>
            <Fact term="Scopes">{summary.scopes.join(", ")}</Fact>
            <Fact term="Role">
                {match summary.access_level {
                    Some(level) => view! { <span>{level.label()}</span> }.into_any(),
                    None if deploy => view! { <NoValue reason="deploy tokens have no role" /> }.into_any(),
                    None if summary.kind == TokenKind::Personal => view! { <NoValue reason="a service account's token has the roles of its account's memberships" /> }.into_any(),
                    None => view! { <NoValue reason="GitLab did not say" /> }.into_any(),
                }}
            </Fact>
            <Fact term="Expires">
                <ExpiryDate expires_on=summary.expires_on today active=status == TokenStatus::Active />
            </Fact>
            <Fact term="Last used">
                {match summary.last_used_at {
                    Some(at) => view! { <RelativeDate date=at.date_naive() today /> }.into_any(),
                    None if deploy => view! { <NoValue reason="GitLab does not say when a deploy token was last used" /> }.into_any(),
                    None => view! { <span class="text-slate-600">"never used"</span> }.into_any(),
                }}
            </Fact>
            <Fact term="Created">
                {match summary.created_at {
                    Some(at) => view! { <RelativeDate date=at.date_naive() today /> }.into_any(),
                    None if deploy => view! { <NoValue reason="GitLab does not say when a deploy token was created" /> }.into_any(),
                    None => view! { <NoValue reason="GitLab did not say" /> }.into_any(),
                }}
            </Fact>
            <Fact term="GitLab id" class="font-mono text-sm">{summary.gitlab_id}</Fact>
            <Fact term="First seen by sync"><RelativeDate date=detail.first_seen_at.date_naive() today /></Fact>
            <Fact term="Last seen by sync"><RelativeDate date=detail.last_seen_at.date_naive() today /></Fact>
        </dl>
    }
}

#[component]
fn Ownership(detail: crate::domain::TokenDetail, teams: Vec<crate::domain::TeamRef>, can_edit: bool) -> impl IntoView {
    let saved = use_query_map().with_untracked(|q| q.get("saved").is_some());
    // A service account's token follows its account's team, when it has one; else the token's
    // group path decides.
    let inferred_from = if detail.inferred_from_account {
        "its service account"
    } else {
        "the group path"
    };
    let own = detail.ownership.clone();
    let summary = detail.summary.clone();
    view! {
        <section id="ownership" class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="ownership-title">
            <h2 id="ownership-title" class="text-lg font-semibold">"Who owns it, and why"</h2>
            {saved.then(|| view! { <p id="ownership-saved" class="mt-2 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status">"Saved."</p> })}
            <dl class="mt-4 space-y-3">
                <Fact term="Owner team" id="owner-team">
                    {match summary.owner_team.clone() {
                        Some(team) => view! {
                            <span>{team.name}</span>
                            {summary.owner_inferred.then(|| view! { <span class="ml-1 text-xs text-slate-600">{format!("(inferred from {inferred_from})")}</span> })}
                        }.into_any(),
                        None => view! { <span class="font-medium text-amber-700">"No owner"</span> }.into_any(),
                    }}
                </Fact>
                <Fact term="Purpose" class="break-words text-sm" id="purpose">{said(own.purpose.clone())}</Fact>
                <Fact term="Automation" class="break-words text-sm">{said(own.automation.clone())}</Fact>
                <Fact term="Secret kept in" class="break-words text-sm">{said(own.secret_location.clone())}</Fact>
                <Fact term="Notes" class="whitespace-pre-line break-words text-sm">{said(own.notes.clone())}</Fact>
            </dl>
            {own.updated_by.clone().map(|by| view! {
                <p class="mt-3 text-xs text-slate-600">{format!("Last changed by {by}{}", own.updated_at.map(|at| format!(" on {}", at.format("%Y-%m-%d"))).unwrap_or_default())}</p>
            })}
            {can_edit.then(|| view! { <OwnershipForm detail teams inferred_from /> })}
        </section>
    }
    .into_any()
}

/// The ownership form: a plain POST, so it works without JavaScript. After a refusal the page
/// comes back with what was submitted (`edit`) and a message under each refused field
/// (`error_<field>`).
#[component]
fn OwnershipForm(
    detail: crate::domain::TokenDetail,
    teams: Vec<crate::domain::TeamRef>,
    inferred_from: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let submitted = move |name: &str| query.with_untracked(|q| q.get(name));
    let editing = query.with_untracked(|q| q.get("edit").is_some());
    let own = detail.ownership;
    let value = move |name: &str, stored: Option<String>| {
        if editing {
            submitted(name).unwrap_or_default()
        } else {
            stored.unwrap_or_default()
        }
    };
    let chosen_team = if editing {
        submitted("owner_team").unwrap_or_default()
    } else {
        own.owner_team.as_ref().map(|t| t.id.to_string()).unwrap_or_default()
    };
    let inferred_label = match &detail.inferred_team {
        Some(team) => format!("{} (from {inferred_from})", team.name),
        None => "No team (no team owns the group path)".to_owned(),
    };
    let field = class::WIDE_FIELD;
    let message = move |name: &'static str| {
        query
            .with_untracked(|q| q.get(&format!("error_{name}")))
            .map(|m| view! { <p class="mt-1 text-sm text-red-700" id=format!("error-{name}") role="alert">{m}</p> })
    };
    view! {
        <form method="post" action=format!("/tokens/{}/ownership", detail.summary.id) class="mt-6 space-y-4 border-t border-slate-100 pt-4" aria-label="Edit ownership">
            <label class=class::LABEL>"Owner team"
                <select name="owner_team" class=field>
                    <option value="" selected=chosen_team.is_empty()>{inferred_label}</option>
                    {teams.into_iter().map(|team| {
                        let id = team.id.to_string();
                        let selected = id == chosen_team;
                        view! { <option value=id selected=selected>{team.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            {message("owner_team")}
            <label class=class::LABEL>"Purpose"
                <input name="purpose" class=field maxlength="300" placeholder="What it is for, in a sentence" value=value("purpose", own.purpose.clone()) />
            </label>
            {message("purpose")}
            <label class=class::LABEL>"Automation"
                <input name="automation" class=field maxlength="200" placeholder="The job, bot or pipeline that uses it" value=value("automation", own.automation.clone()) />
            </label>
            {message("automation")}
            <label class=class::LABEL>"Secret kept in"
                <input name="secret_location" class=field maxlength="200" placeholder="e.g. vault item ci/allure (never the secret)" value=value("secret_location", own.secret_location.clone()) />
            </label>
            {message("secret_location")}
            <label class=class::LABEL>"Notes"
                <TextArea name="notes" class=field rows=3 maxlength=2000 value=value("notes", own.notes.clone()) />
            </label>
            {message("notes")}
            <button id="save-ownership" type="submit" class="rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white hover:bg-sky-800">"Save"</button>
        </form>
    }
}

/// What a person wrote, or a dash saying nobody has yet.
fn said(text: Option<String>) -> impl IntoView {
    match text {
        Some(text) => view! { <span>{text}</span> }.into_any(),
        None => view! { <NoValue reason="not said yet" /> }.into_any(),
    }
}

#[component]
fn History(history: Vec<(chrono::DateTime<chrono::Utc>, String, String)>, today: chrono::NaiveDate) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="history-title">
            <h2 id="history-title" class="text-lg font-semibold">"History"</h2>
            {if history.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"Nothing has changed since sync first saw it."</p> }.into_any()
            } else {
                view! {
                    <ol id="history" class="mt-4 space-y-2 text-sm">
                        {history.into_iter().rev().map(|(at, event, detail)| {
                            let words = event.replace('_', " ");
                            let detail = event_detail(&detail);
                            view! {
                                <li class="flex flex-wrap gap-x-3 gap-y-1" data-event=event>
                                    <span class="w-28 shrink-0"><RelativeDate date=at.date_naive() today /></span>
                                    <span class="font-medium">{words}</span>
                                    <span class="min-w-0 break-all font-mono text-xs text-slate-600">{detail}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// An event's detail as people read it: a change `{"from": …, "to": …}` as "from → to" (an empty
/// value as "none", a list of scopes joined), nothing for `{}`, and anything else as stored.
fn event_detail(detail: &str) -> String {
    fn shown(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Null => "none".to_owned(),
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Array(items) if items.is_empty() => "none".to_owned(),
            serde_json::Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    }
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(fields)) if fields.is_empty() => String::new(),
        Ok(serde_json::Value::Object(fields)) => match (fields.get("from"), fields.get("to")) {
            (Some(from), Some(to)) if fields.len() == 2 => format!("{} → {}", shown(from), shown(to)),
            _ => detail.to_owned(),
        },
        _ => detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::event_detail;

    #[test]
    fn a_change_reads_from_then_to() {
        assert_eq!(event_detail(r#"{"from":null,"to":"2026-12-22"}"#), "none → 2026-12-22");
        assert_eq!(
            event_detail(r#"{"from":["api"],"to":["read_api","read_repository"]}"#),
            "api → read_api, read_repository"
        );
        assert_eq!(event_detail(r#"{"from":"acme/a","to":"acme/b"}"#), "acme/a → acme/b");
        assert_eq!(event_detail("{}"), "");
        assert_eq!(event_detail(r#"{"successor":12}"#), r#"{"successor":12}"#);
        assert_eq!(event_detail("not json"), "not json");
    }
}
