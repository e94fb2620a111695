//! The token wizard: short steps, the answers in the URL (each step is a GET form carrying the
//! earlier answers, so it works without JavaScript and a link resumes it), a progress list, a
//! back link, and a summary card with the recommendation. With JavaScript, a change to the
//! summary's answers applies at once (`islands::Enhancements` submits the form); the decision
//! runs on the server, so the guidelines' texts never reach the browser.

use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    components::{
        ErrorPanel, PageTitle, RelativeDate,
        class::{FIELD, SECONDARY, SMALL_FIELD},
    },
    domain::{
        Field, NextStep, Question, Reach, Recommendation, Resource, Usage, WizardAnswers, WizardError, YesNo,
        recommend_token_kind,
    },
    server::wizard::{WizardContext, load_wizard},
};

const PRIMARY: &str = "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800";

/// What the URL asks for: the answers, values that could not be read, and the step asked for
/// (`step`, from a back or change link) or just answered (`from`, from a step's form).
#[derive(Debug, Clone, PartialEq)]
struct WizardUrl {
    answers: WizardAnswers,
    unreadable: Vec<WizardError>,
    step: Option<Question>,
    from: Option<Question>,
}

impl WizardUrl {
    fn read(get: impl Fn(&str) -> Option<String>) -> Self {
        let values: Vec<(String, Option<String>)> = ["step", "from"]
            .into_iter()
            .chain(Resource::ALL.map(Resource::as_str))
            .chain(Field::ALL.map(Field::as_str))
            .map(|name| (name.to_owned(), get(name)))
            .collect();
        let lookup = |name: &str| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, value)| value.as_deref())
        };
        let (answers, unreadable) = WizardAnswers::from_query(lookup);
        let question = |name: &str| lookup(name).and_then(|value| value.parse::<Question>().ok());
        WizardUrl {
            answers,
            unreadable,
            step: question("step"),
            from: question("from"),
        }
    }
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq)]
enum Screen {
    /// A step, with the messages for its fields; `status` is the HTTP status to answer with.
    Step {
        question: Question,
        errors: Vec<WizardError>,
        status: http::StatusCode,
    },
    Summary(Box<Recommendation>),
    /// The wizard's settings are wrong: the server's fault.
    Broken(String),
}

/// Decides the screen: a value that cannot be read sends back to its step (400; values for a
/// step these answers skip are ignored); a step just answered moves to the next one, or stays
/// with a message when its answer is missing or wrong (422); a link to a step shows it;
/// otherwise the first unanswered step, or the summary.
fn screen(url: &WizardUrl, settings: &WizardContext) -> Screen {
    let answers = &url.answers;
    let steps = answers.steps();
    let on = |question: Question| move |error: &WizardError| error.field().map(Field::question) == Some(question);
    let unreadable: Vec<&WizardError> = url
        .unreadable
        .iter()
        .filter(|error| error.field().is_none_or(|field| steps.contains(&field.question())))
        .collect();
    if let Some(error) = unreadable.first() {
        let question = error.field().map_or(Question::Touches, Field::question);
        return Screen::Step {
            question,
            errors: unreadable.into_iter().filter(|e| on(question)(e)).cloned().collect(),
            status: http::StatusCode::BAD_REQUEST,
        };
    }
    if let Some(step) = url.step.filter(|step| steps.contains(step)) {
        return Screen::Step {
            question: step,
            errors: Vec::new(),
            status: http::StatusCode::OK,
        };
    }
    let outcome = recommend_token_kind(answers, &settings.policy, settings.today);
    if let Err(WizardError::Policy { message }) = &outcome {
        return Screen::Broken(message.clone());
    }
    let invalid = answers.invalid_fields();
    if let Some(from) = url.from.filter(|from| steps.contains(from)) {
        let errors: Vec<WizardError> = answers
            .unanswered(from)
            .map(|field| WizardError::Missing { field })
            .into_iter()
            .chain(invalid.iter().filter(|e| on(from)(e)).cloned())
            .collect();
        if !errors.is_empty() {
            return Screen::Step {
                question: from,
                errors,
                status: http::StatusCode::UNPROCESSABLE_ENTITY,
            };
        }
        let after = steps.iter().skip_while(|step| **step != from).nth(1).copied();
        if let Some(next) = after {
            return Screen::Step {
                question: next,
                errors: Vec::new(),
                status: http::StatusCode::OK,
            };
        }
    }
    match outcome {
        Ok(recommendation) => Screen::Summary(Box::new(recommendation)),
        Err(error) => {
            let question = error.field().map_or(Question::Touches, Field::question);
            let errors: Vec<WizardError> = match error {
                WizardError::Invalid { .. } => {
                    let here: Vec<WizardError> = invalid.iter().filter(|e| on(question)(e)).cloned().collect();
                    if here.is_empty() { vec![error] } else { here }
                }
                _ => Vec::new(),
            };
            let status = if errors.is_empty() {
                http::StatusCode::OK
            } else {
                http::StatusCode::UNPROCESSABLE_ENTITY
            };
            Screen::Step {
                question,
                errors,
                status,
            }
        }
    }
}

/// The wizard's address for these answers, at `step` when given.
pub(crate) fn wizard_href(answers: &WizardAnswers, step: Option<Question>) -> String {
    let mut pairs = answers.to_query_pairs();
    if let Some(step) = step {
        pairs.push(("step", step.as_str().to_owned()));
    }
    if pairs.is_empty() {
        "/wizard".to_owned()
    } else {
        format!(
            "/wizard?{}",
            crate::query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())))
        )
    }
}

#[component]
pub fn WizardPage() -> impl IntoView {
    let params = use_query_map();
    let url = Memo::new(move |_| params.with(|p| WizardUrl::read(|name| p.get(name))));
    let settings = OnceResource::new(load_wizard());

    view! {
        <PageTitle text="Token wizard" />
        <h1 class="text-2xl font-semibold">"Which token should I create?"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600">
            "A few questions about your automation, and the kind of token the token guidelines call for, with its minimal scopes, an expiry and a name. "
            "Every answer is in the address, so you can go back, share the link or resume later."
        </p>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <Wizard url settings /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Wizard(url: Memo<WizardUrl>, settings: WizardContext) -> impl IntoView {
    let settings = StoredValue::new(settings);
    move || {
        let url = url.get();
        let shown = settings.with_value(|settings| screen(&url, settings));
        #[cfg(feature = "ssr")]
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let status = match &shown {
                Screen::Step { status, .. } => *status,
                Screen::Summary(_) => http::StatusCode::OK,
                Screen::Broken(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
            };
            response.set_status(status);
        }
        let answers = url.answers;
        match shown {
            Screen::Step { question, errors, .. } => {
                let (teams, my_team) = settings.with_value(|s| (s.teams.clone(), s.my_team.clone()));
                view! {
                    <Progress answers=answers.clone() current=Some(question) />
                    <StepForm question answers errors teams my_team />
                }
                .into_any()
            }
            Screen::Summary(recommendation) => view! {
                <Progress answers=answers.clone() current=None />
                <Summary recommendation=*recommendation answers today=settings.with_value(|s| s.today) />
            }
            .into_any(),
            Screen::Broken(message) => {
                view! { <ErrorPanel error=crate::error::AppError::Internal /> <p class="sr-only">{message}</p> }
                    .into_any()
            }
        }
    }
}

/// The steps as a numbered list: the current one marked, the others links to themselves.
#[component]
fn Progress(answers: WizardAnswers, current: Option<Question>) -> impl IntoView {
    let steps = answers.steps();
    let total = steps.len() + 1;
    let position = current
        .and_then(|q| steps.iter().position(|s| *s == q))
        .map_or(total, |i| i + 1);
    let percent = position * 100 / total;
    view! {
        <nav class="mt-6" aria-label="Wizard steps">
            <p class="text-sm font-medium text-slate-700" data-testid="wizard-progress">
                {format!("Step {position} of {total}")}
            </p>
            // An SVG bar, not a `style` attribute: the Content-Security-Policy allows no inline styles.
            <svg class="mt-2 block h-2 w-full max-w-3xl" aria-hidden="true">
                <rect width="100%" height="100%" rx="4" class="fill-slate-200"></rect>
                <rect width=format!("{percent}%") height="100%" rx="4" class="fill-sky-600"></rect>
            </svg>
            <ol class="mt-2 flex max-w-3xl flex-wrap items-center gap-x-4 text-xs text-slate-600">
                {steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| {
                        let label = format!("{}. {}", i + 1, step_name(*step));
                        if Some(*step) == current {
                            view! { <li class="inline-flex min-h-6 items-center font-semibold text-sky-800" aria-current="step">{label}</li> }.into_any()
                        } else {
                            let href = wizard_href(&answers, Some(*step));
                            view! { <li><a class="inline-flex min-h-6 items-center underline hover:text-slate-900" href=href>{label}</a></li> }.into_any()
                        }
                    })
                    .collect_view()}
                {if current.is_none() {
                    view! { <li class="inline-flex min-h-6 items-center font-semibold text-sky-800" aria-current="step">{format!("{total}. Recommendation")}</li> }.into_any()
                } else {
                    view! { <li class="inline-flex min-h-6 items-center">{format!("{total}. Recommendation")}</li> }.into_any()
                }}
            </ol>
        </nav>
    }
    .into_any()
}

fn step_name(question: Question) -> &'static str {
    match question {
        Question::Touches => "What it touches",
        Question::Reach => "Where",
        Question::MaintainerActions => "Maintainer actions",
        Question::ConfidentialIssues => "Confidential issues",
        Question::Temporary => "How long",
        Question::Details => "Name and owner",
    }
}

/// A message next to a field.
#[component]
fn FieldError(errors: Vec<WizardError>, field: Field) -> impl IntoView {
    errors
        .into_iter()
        .filter(|error| error.field() == Some(field))
        .map(|error| {
            view! {
                <p class="mt-1 text-sm font-medium text-red-700" role="alert" data-error-for=field.as_str()>
                    {error.message()}
                </p>
            }
        })
        .collect_view()
}

/// One step: a GET form with the other answers hidden, this step's inputs, Back and Next.
#[component]
fn StepForm(
    question: Question,
    answers: WizardAnswers,
    errors: Vec<WizardError>,
    teams: Vec<String>,
    my_team: Option<String>,
) -> impl IntoView {
    let steps = answers.steps();
    let back = steps
        .iter()
        .position(|s| *s == question)
        .and_then(|i| i.checked_sub(1))
        .map(|i| wizard_href(&answers, Some(steps[i])));
    let carried = answers.without(question).to_query_pairs();
    let inputs = match question {
        Question::Touches => view! { <TouchesInputs answers=answers.clone() errors=errors.clone() /> }.into_any(),
        Question::Reach => view! { <ReachInputs chosen=answers.reach errors=errors.clone() /> }.into_any(),
        Question::MaintainerActions => {
            view! { <YesNoInputs field=Field::MaintainerActions chosen=answers.maintainer_actions errors=errors.clone() /> }
                .into_any()
        }
        Question::ConfidentialIssues => {
            view! { <YesNoInputs field=Field::ConfidentialIssues chosen=answers.confidential_issues errors=errors.clone() /> }
                .into_any()
        }
        Question::Temporary => {
            view! { <YesNoInputs field=Field::Temporary chosen=answers.temporary errors=errors.clone() /> }.into_any()
        }
        Question::Details => {
            view! { <DetailsInputs answers=answers.clone() errors=errors.clone() teams my_team /> }.into_any()
        }
    };
    view! {
        <Form method="GET" action="/wizard" attr:class="mt-6 max-w-3xl rounded-xl bg-white p-4 shadow-sm sm:p-6" attr:data-step=question.as_str()>
            <fieldset>
                <legend class="text-lg font-semibold text-slate-900">{question.label()}</legend>
                <p class="mt-1 text-sm text-slate-600">{question.help()}</p>
                <div class="mt-4">{inputs}</div>
            </fieldset>
            {carried
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <div class="mt-6 flex items-center gap-4">
                {back.map(|href| view! { <a href=href class="text-sm text-slate-600 underline hover:text-slate-900" data-testid="wizard-back">"Back"</a> })}
                // The button names the step it answers: a browser sends the submitter's value.
                <button type="submit" name="from" value=question.as_str() class=PRIMARY data-testid="wizard-next">"Next"</button>
                <a href="/wizard" class="ml-auto text-sm text-slate-500 underline hover:text-slate-800">"Start over"</a>
            </div>
        </Form>
    }
    .into_any()
}

#[component]
fn TouchesInputs(answers: WizardAnswers, errors: Vec<WizardError>) -> impl IntoView {
    view! {
        // A grid of radio buttons from `md`; below, each part of GitLab with its choices under it,
        // each choice labelled.
        <table class="block w-full text-left text-sm md:table">
            <thead class="hidden text-xs uppercase tracking-wide text-slate-600 md:table-header-group">
                <tr>
                    <th class="py-2 pr-4"><span class="sr-only">"Part of GitLab"</span></th>
                    {Usage::ALL.into_iter().map(|usage| view! { <th class="px-3 py-2 text-center">{usage.label()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody class="block divide-y divide-slate-100 md:table-row-group">
                {Resource::ALL
                    .into_iter()
                    .map(|resource| {
                        let chosen = answers.usage(resource);
                        view! {
                            <tr class="block py-3 md:table-row md:py-0">
                                <th scope="row" class="block pb-2 font-medium text-slate-800 md:table-cell md:py-3 md:pr-4">
                                    {resource.label()}
                                    <span class="block text-xs font-normal text-slate-600">{resource.help()}</span>
                                </th>
                                {Usage::ALL
                                    .into_iter()
                                    .map(|usage| view! {
                                        <td class="inline-block pr-4 md:table-cell md:px-3 md:py-3 md:text-center">
                                            <label class="inline-flex cursor-pointer items-center gap-2 py-1">
                                                <input
                                                    type="radio"
                                                    name=resource.as_str()
                                                    value=usage.as_str()
                                                    checked=chosen == usage
                                                    aria-label=format!("{}: {}", resource.label(), usage.label())
                                                    class="h-4 w-4"
                                                />
                                                <span class="md:hidden" aria-hidden="true">{usage.label()}</span>
                                            </label>
                                        </td>
                                    })
                                    .collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <FieldError errors field=Field::Touches />
    }
    .into_any()
}

#[component]
fn ReachInputs(chosen: Option<Reach>, errors: Vec<WizardError>) -> impl IntoView {
    view! {
        <div class="flex flex-col gap-2">
            {Reach::ALL
                .into_iter()
                .map(|reach| view! {
                    <label class="flex items-center gap-3 rounded-md border border-slate-200 px-3 py-2 text-sm hover:bg-slate-50">
                        <input type="radio" name="reach" value=reach.as_str() checked=chosen == Some(reach) class="h-4 w-4" />
                        {reach.label()}
                    </label>
                })
                .collect_view()}
        </div>
        <FieldError errors field=Field::Reach />
    }
}

#[component]
fn YesNoInputs(field: Field, chosen: Option<YesNo>, errors: Vec<WizardError>) -> impl IntoView {
    view! {
        <div class="flex gap-3">
            {YesNo::ALL
                .into_iter()
                .map(|answer| view! {
                    <label class="flex items-center gap-3 rounded-md border border-slate-200 px-4 py-2 text-sm hover:bg-slate-50">
                        <input type="radio" name=field.as_str() value=answer.as_str() checked=chosen == Some(answer) class="h-4 w-4" />
                        {answer.label()}
                    </label>
                })
                .collect_view()}
        </div>
        <FieldError errors field />
    }
}

#[component]
fn DetailsInputs(
    answers: WizardAnswers,
    errors: Vec<WizardError>,
    teams: Vec<String>,
    my_team: Option<String>,
) -> impl IntoView {
    let service_account = answers.kind() == Some(crate::domain::RecommendedKind::ServiceAccount);
    let purpose = shown(&answers.purpose);
    let team = if answers.owner_team.is_empty() {
        my_team.unwrap_or_default()
    } else {
        shown(&answers.owner_team)
    };
    let path = shown(&answers.path);
    view! {
        <div class="flex flex-col gap-4">
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Purpose"
                <input name="purpose" required maxlength=crate::domain::wizard::PURPOSE_MAX_CHARS.to_string() placeholder="e.g. allure reports" value=purpose class=FIELD />
                <span class="text-xs font-normal text-slate-500">"A few words; it becomes the token's name, which is also its bot user's name."</span>
                <FieldError errors=errors.clone() field=Field::Purpose />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                {if service_account { "Owner team" } else { "Owner team (optional)" }}
                <input name="owner_team" list="wizard-teams" required=service_account maxlength=crate::domain::wizard::OWNER_TEAM_MAX_CHARS.to_string() value=team class=FIELD />
                <datalist id="wizard-teams">
                    {teams.into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
                </datalist>
                <FieldError errors=errors.clone() field=Field::OwnerTeam />
            </label>
            <label class="flex flex-col gap-1 text-sm font-medium text-slate-700">
                "Project or group path (optional)"
                <input name="path" placeholder="e.g. acme/platform/api" value=path class=FIELD />
                <span class="text-xs font-normal text-slate-500">"For the links and commands; for several groups, the top-level group it mostly works in."</span>
                <FieldError errors field=Field::Path />
            </label>
        </div>
    }
    .into_any()
}

/// A text answer as a form shows it again: blank when it looks like a token's secret (the
/// answers refuse it, and the page never repeats it).
fn shown(value: &str) -> String {
    if crate::domain::ownership::looks_like_a_secret(value) {
        String::new()
    } else {
        value.to_owned()
    }
}

/// The recommendation, the answers it came from (editable: live when hydrated, with an Update
/// button without JavaScript), and how to get the token.
#[component]
fn Summary(recommendation: Recommendation, answers: WizardAnswers, today: chrono::NaiveDate) -> impl IntoView {
    let kind = recommendation.kind;
    let heading = match &recommendation.next_step {
        NextStep::CreateToken(_) => format!("Create a {}", kind.label()),
        NextStep::RequestServiceAccount(_) => "Ask for a service account".to_owned(),
    };
    view! {
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class="min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6 lg:col-span-2" data-testid="recommendation" data-kind=kind.as_str()>
                <p class="text-xs font-semibold uppercase tracking-wide text-sky-700">"Recommendation"</p>
                <h2 class="mt-1 text-xl font-semibold text-slate-900" data-testid="recommended-kind">{heading}</h2>
                <RecommendedToken recommendation=recommendation.clone() today />
                <NextStepView step=recommendation.next_step.clone() />
                <Reasons recommendation />
            </section>
            <AnswersPanel answers />
        </div>
    }
    .into_any()
}

/// What to create: name, role, scopes and expiry.
#[component]
fn RecommendedToken(recommendation: Recommendation, today: chrono::NaiveDate) -> impl IntoView {
    view! {
        <dl class="mt-4 grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
            <div>
                <dt class="text-slate-500">"Name"</dt>
                <dd class="break-all font-mono text-slate-900" data-testid="recommended-name">{recommendation.name.clone()}</dd>
            </div>
            <div>
                <dt class="text-slate-500">"Role"</dt>
                <dd class="text-slate-900" data-testid="recommended-role">
                    {recommendation.role.map_or("None: deploy tokens have no role", |role| role.label())}
                </dd>
            </div>
            <div class="sm:col-span-2">
                <dt class="text-slate-500">"Scopes"</dt>
                <dd class="mt-1 flex flex-wrap gap-2" data-testid="recommended-scopes">
                    {recommendation
                        .scopes
                        .iter()
                        .map(|scope| view! {
                            <span class="rounded bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-800" title=scope.label()>{scope.as_str()}</span>
                        })
                        .collect_view()}
                </dd>
            </div>
            <div class="sm:col-span-2">
                <dt class="text-slate-500">"Expires"</dt>
                <dd class="text-slate-900" data-testid="recommended-expiry">
                    {recommendation.expires_on.format("%Y-%m-%d").to_string()}" ("
                    <RelativeDate date=recommendation.expires_on today />
                    {format!(", {} days)", recommendation.lifetime_days)}
                </dd>
            </div>
        </dl>
    }
}

/// Why: the guidelines' sentences the recommendation follows, the assumptions where they are
/// silent, and the kinds considered and not chosen.
#[component]
fn Reasons(recommendation: Recommendation) -> impl IntoView {
    view! {
        <h3 class="mt-6 text-sm font-semibold text-slate-900">"Why: the token guidelines"</h3>
        <ul class="mt-2 flex flex-col gap-3" data-testid="recommendation-rules">
            {recommendation
                .rules
                .iter()
                .map(|rule| view! {
                    <li>
                        <blockquote class="border-l-4 border-sky-200 pl-3 text-sm italic text-slate-700">{format!("“{}”", rule.quote)}</blockquote>
                        <p class="mt-1 pl-4 text-xs text-slate-500">{format!("— {}", rule.section)}</p>
                    </li>
                })
                .collect_view()}
        </ul>
        {(!recommendation.assumptions.is_empty()).then(|| view! {
            <h3 class="mt-6 text-sm font-semibold text-slate-900">"Where the guidelines are silent"</h3>
            <ul class="mt-2 list-disc pl-5 text-sm text-slate-700">
                {recommendation.assumptions.iter().map(|a| view! { <li>{a.explanation.clone()}</li> }).collect_view()}
            </ul>
        })}
        <h3 class="mt-6 text-sm font-semibold text-slate-900">"Considered and not chosen"</h3>
        <ul class="mt-2 flex flex-col gap-2 text-sm" data-testid="recommendation-alternatives">
            {recommendation
                .alternatives
                .iter()
                .map(|alternative| view! {
                    <li>
                        <span class="font-medium text-slate-800">{alternative.label.clone()}": "</span>
                        <span class="text-slate-600">{alternative.why_not.clone()}</span>
                    </li>
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn NextStepView(step: NextStep) -> impl IntoView {
    let pre = "mt-1 overflow-x-auto whitespace-pre-wrap break-all rounded-md bg-slate-900 p-3 font-mono text-xs text-slate-100";
    match step {
        NextStep::CreateToken(creation) => view! {
            <section class="mt-6 rounded-lg border border-sky-100 bg-sky-50 p-4" data-testid="next-step">
                <h3 class="text-sm font-semibold text-slate-900">"Next: create it"</h3>
                <p class="mt-1 break-words text-sm text-slate-700">{creation.instructions.clone()}</p>
                <p class="mt-2 text-sm">
                    <a class="break-all text-sky-700 underline" href=creation.settings_url.clone() rel="noopener" target="_blank">{creation.settings_url.clone()}</a>
                </p>
                <p class="mt-3 text-xs font-medium text-slate-600">"With curl (your own token in $GITLAB_TOKEN)"</p>
                <pre class=pre data-testid="next-step-curl">{creation.curl.clone()}</pre>
                <p class="mt-3 text-xs font-medium text-slate-600">"With glab"</p>
                <pre class=pre data-testid="next-step-glab">{creation.glab.clone()}</pre>
            </section>
        }
        .into_any(),
        NextStep::RequestServiceAccount(request) => view! {
            <section class="mt-6 rounded-lg border border-amber-200 bg-amber-50 p-4" data-testid="next-step">
                <h3 class="text-sm font-semibold text-slate-900">"Next: ask for it"</h3>
                <p class="mt-1 break-words text-sm text-slate-700">{request.ask.clone()}</p>
                <p class="mt-1 break-words text-sm text-slate-700">{request.instructions.clone()}</p>
                <dl class="mt-3 grid grid-cols-1 gap-2 text-sm sm:grid-cols-2">
                    <div><dt class="text-slate-500">"Account name"</dt><dd class="break-all font-mono">{request.account_name.clone()}</dd></div>
                    <div><dt class="text-slate-500">"Owner team"</dt><dd>{request.owner_team.clone()}</dd></div>
                    <div class="sm:col-span-2"><dt class="text-slate-500">"Memberships"</dt><dd class="break-all font-mono text-xs">{request.memberships.join(", ")}</dd></div>
                </dl>
                <p class="mt-3 flex flex-wrap items-center gap-3 text-sm">
                    <a id="request-it" class="rounded-md bg-sky-700 px-4 py-2 font-semibold text-white hover:bg-sky-800" href=request_link(&request.answers)>"Request it: the form, filled in"</a>
                    <a class="text-sky-700 underline" href=request.guideline_url.clone() rel="noopener" target="_blank">"How the guidelines say to request one"</a>
                </p>
            </section>
        }
        .into_any(),
    }
}

/// The request form, filled in from these answers.
fn request_link(answers: &WizardAnswers) -> String {
    format!("/requests/new?{}", answers.to_query_string())
}

/// The answers, each changeable. A GET form with an Update button; with JavaScript, a change
/// submits it at once.
#[component]
fn AnswersPanel(answers: WizardAnswers) -> impl IntoView {
    let choice = |name: &'static str,
                  label: &'static str,
                  chosen: Option<&'static str>,
                  options: Vec<(&'static str, &'static str)>| {
        view! {
            <label class="flex flex-wrap items-center justify-between gap-x-3 gap-y-1 text-sm text-slate-700">
                {label}
                <select name=name class=format!("{SMALL_FIELD} max-w-full")>
                    {options
                        .into_iter()
                        .map(|(value, text)| view! { <option value=value selected=chosen == Some(value)>{text}</option> })
                        .collect_view()}
                </select>
            </label>
        }
    };
    let usage_options: Vec<(&'static str, &'static str)> = Usage::ALL.map(|u| (u.as_str(), u.label())).to_vec();
    let yes_no: Vec<(&'static str, &'static str)> = YesNo::ALL.map(|a| (a.as_str(), a.label())).to_vec();
    let text = |name: &'static str, label: &'static str, value: String| {
        view! {
            <label class="flex flex-col gap-1 text-sm text-slate-700">
                {label}
                <input name=name value=value class=SMALL_FIELD />
            </label>
        }
    };
    let again = wizard_href(&answers, Some(Question::Touches));
    let usages = Resource::ALL
        .into_iter()
        .map(|resource| {
            choice(
                resource.as_str(),
                resource.label(),
                Some(answers.usage(resource).as_str()),
                usage_options.clone(),
            )
        })
        .collect_view();
    view! {
        <aside class="h-fit min-w-0 rounded-xl bg-white p-4 shadow-sm sm:p-6">
            <h2 class="text-sm font-semibold text-slate-900">"Your answers"</h2>
            <p class="mt-1 text-xs text-slate-500">"Change one and the recommendation follows."</p>
            <Form method="GET" action="/wizard" attr:class="mt-4 flex flex-col gap-3" attr:data-testid="wizard-answers" attr:data-submit-on-change="">
                {usages}
                {choice("reach", "Where", answers.reach.map(Reach::as_str), Reach::ALL.map(|r| (r.as_str(), r.label())).to_vec())}
                {choice("maintainer_actions", "Maintainer actions", answers.maintainer_actions.map(YesNo::as_str), yes_no.clone())}
                {answers.api.is_used().then(|| choice("confidential_issues", "Confidential issues", answers.confidential_issues.map(YesNo::as_str), yes_no.clone()))}
                {choice("temporary", "Temporary", answers.temporary.map(YesNo::as_str), yes_no.clone())}
                {text("purpose", "Purpose", shown(&answers.purpose))}
                {text("owner_team", "Owner team", shown(&answers.owner_team))}
                {text("path", "Path", shown(&answers.path))}
                <button type="submit" class=format!("mt-2 {SECONDARY} text-sm font-medium text-slate-800")>"Update"</button>
            </Form>
            <p class="mt-4 text-xs text-slate-500">
                <a class="underline" href=again>"Walk through the steps again"</a>
                " · "
                <a class="underline" href="/wizard">"Start over"</a>
            </p>
        </aside>
    }
    .into_any()
}
