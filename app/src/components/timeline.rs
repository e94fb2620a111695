//! The expiry timeline: live tokens expiring per week, stacked by owner team, as server-rendered
//! SVG (readable without JavaScript; each segment a link to the inventory filtered to that week
//! and team), a legend, the "cliff" callout, and the same figures as a table for screen readers.
//! Two drawings of the same chart, one shaped for a phone and one for wider screens, so its words
//! stay readable at both: `viewBox` and `width: 100%` scale each to its box.

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::{
    components::class,
    domain::{
        Band, Stack, TeamRef, Timeline, TimelineRange, TimelineWeek, TokenQuery, TokenStatus,
        query::query_string,
        review::Severity,
        timeline::{CLIFF_MIN_TOKENS, CLIFF_SHARE_PERCENT, MAX_WEEKS, MIN_WEEKS},
    },
};

/// The week ranges offered, in weeks.
pub const WEEK_CHOICES: [u32; 4] = [8, 13, 26, 52];

/// Each band's colour: the SVG fill and the legend's swatch (spelled out in full, as the
/// stylesheet is generated from the sources). Teams take them in turn (after ten, again from the
/// first); "No team" is grey.
const PALETTE: [(&str, &str); 10] = [
    ("fill-sky-600", "bg-sky-600"),
    ("fill-amber-500", "bg-amber-500"),
    ("fill-emerald-600", "bg-emerald-600"),
    ("fill-violet-600", "bg-violet-600"),
    ("fill-rose-500", "bg-rose-500"),
    ("fill-teal-400", "bg-teal-400"),
    ("fill-orange-700", "bg-orange-700"),
    ("fill-indigo-300", "bg-indigo-300"),
    ("fill-lime-600", "bg-lime-600"),
    ("fill-pink-700", "bg-pink-700"),
];
const GREY: (&str, &str) = ("fill-slate-400", "bg-slate-400");

fn colour(band: usize, of: &Band) -> (&'static str, &'static str) {
    match of {
        Band::Team(_) => PALETTE[band % PALETTE.len()],
        Band::NoTeam | Band::NoFinding => GREY,
        // Darkest and reddest for the most severe (colours the palette has already: the
        // stylesheet is at its budget).
        Band::Severity(Severity::Critical) => PALETTE[9],
        Band::Severity(Severity::High) => PALETTE[6],
        Band::Severity(Severity::Medium) => PALETTE[1],
        Band::Severity(Severity::Low) => PALETTE[7],
    }
}

/// The inventory's address for the live tokens expiring in `week`, of `team` (`Some(None)`: no
/// team; `None`: any team).
pub fn week_link(week: &TimelineWeek, team: Option<Option<&TeamRef>>) -> String {
    let query = TokenQuery {
        expires_from: Some(week.start),
        expires_to: Some(week.end),
        status: Some(TokenStatus::Active),
        team: team.flatten().map(|team| team.id),
        no_owner: matches!(team, Some(None)),
        page: 1,
        ..TokenQuery::default()
    };
    format!("/?{}", query.to_query_string())
}

/// The team a segment of `band` lists: on My team always that team, else the band's own (a
/// severity band lists every team's).
fn segment_team<'a>(band: &'a Band, team: Option<&'a TeamRef>) -> Option<Option<&'a TeamRef>> {
    team.map(Some).or_else(|| band.team())
}

fn short_date(date: NaiveDate) -> String {
    date.format("%-d %b").to_string()
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The URL parameters the timeline reads.
pub const TIMELINE_PARAMS: [&str; 3] = ["from", "weeks", "stack"];

/// The range (`from`, `weeks`) and stacking (`stack`) a page's URL asks for.
pub fn timeline_params<'a>(
    get: impl Fn(&str) -> Option<&'a str> + Copy,
    today: NaiveDate,
) -> Result<(TimelineRange, Stack), crate::domain::QueryError> {
    Ok((TimelineRange::from_params(get, today)?, Stack::from_params(get)?))
}

/// Where the timeline lives and what its links keep: the page's path and its other parameters
/// (the queue's filters on the Review page, the team on My team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePlace {
    pub path: &'static str,
    pub keep: Vec<(&'static str, String)>,
}

impl TimelinePlace {
    /// The page showing `range` stacked by `stack`.
    pub fn href(&self, today: NaiveDate, range: TimelineRange, stack: Stack) -> String {
        let mut pairs: Vec<(&str, String)> = self.keep.clone();
        pairs.extend(range.to_params(today));
        if stack != Stack::default() {
            pairs.push(("stack", stack.as_str().to_owned()));
        }
        let query = query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())));
        format!("{}?{query}", self.path)
    }
}

/// The timeline with its pickers (weeks shown, earlier and later, a start date, stacking) and
/// its table. On the Review page (`team` left out) each segment links to its team's tokens that
/// week; on My team the chart is one team's, and `team` says which.
#[component]
pub fn ExpiryTimeline(timeline: Timeline, place: TimelinePlace, team: Option<i64>) -> impl IntoView {
    let total = timeline.total();
    let team_ref = team.and_then(|id| {
        timeline.bands.iter().find_map(|band| match band {
            Band::Team(t) if t.id == id => Some(t.clone()),
            _ => None,
        })
    });
    let team_ref = team_ref.or_else(|| {
        team.map(|id| TeamRef {
            id,
            name: String::new(),
        })
    });
    let title = title(&timeline);
    view! {
        <section id="expiry-timeline" class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="timeline-title">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="timeline-title" class="text-lg font-semibold">{title}</h2>
                <RangePicker timeline=timeline.clone() place=place.clone() />
            </div>
            <Steps timeline=timeline.clone() place=place.clone() />
            <p class="mt-1 text-sm text-slate-600" data-testid="timeline-total">
                {format!("{total} live tokens (not revoked, not gone, not yet expired) expire in these weeks, Monday to Sunday. Each bar links to them in the inventory.")}
            </p>
            {timeline.cliff.map(|cliff| {
                let week = timeline.weeks.iter().find(|w| w.start == cliff.start).cloned();
                let href = week.map(|week| week_link(&week, team_ref.as_ref().map(Some)));
                view! {
                    <div id="timeline-cliff" class="mt-3 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" role="note">
                        <p class="font-semibold">{format!("Cliff: {} tokens ({}% of these weeks' expiries) expire in the week of {}.", cliff.tokens, cliff.share_percent, long_date(cliff.start))}</p>
                        <p class="mt-1">{format!("A week is called a cliff when it holds at least {CLIFF_SHARE_PERCENT}% of the expiries shown and at least {CLIFF_MIN_TOKENS} tokens: renewing them all at once is a risk (GitLab 16.0 gave every access token without an expiry date one a year after the upgrade). ")}
                            {href.map(|href| view! { <a class="font-medium underline" href=href>"List them"</a> })}
                        </p>
                    </div>
                }
            })}
            {if total == 0 {
                view! { <p id="timeline-empty" class="mt-4 text-sm text-slate-600">"No live token expires in these weeks."</p> }.into_any()
            } else {
                view! {
                    <Legend bands=timeline.bands.clone() stack=timeline.stack />
                    <div class="mt-3 sm:hidden"><Chart timeline=timeline.clone() layout=Layout::PHONE team=team_ref.clone() /></div>
                    <div class="mt-3 hidden sm:block"><Chart timeline=timeline.clone() layout=Layout::WIDE team=team_ref.clone() /></div>
                    <TimelineTable timeline team=team_ref />
                }.into_any()
            }}
        </section>
    }
}

/// "Tokens expiring in the next 26 weeks", or from a later week "… from 1 March 2027 to 30 May 2027".
fn title(timeline: &Timeline) -> String {
    let weeks = timeline.weeks.len();
    match (
        timeline.range.is_current(timeline.today),
        timeline.weeks.first(),
        timeline.weeks.last(),
    ) {
        (false, Some(first), Some(last)) => format!(
            "Tokens expiring in {weeks} weeks from {} to {}",
            long_date(first.start),
            long_date(last.end)
        ),
        _ => format!("Tokens expiring in the next {weeks} weeks"),
    }
}

/// The week ranges and stackings to choose from, as links (the choice lives in the URL).
#[component]
fn RangePicker(timeline: Timeline, place: TimelinePlace) -> impl IntoView {
    let (today, range, stack) = (timeline.today, timeline.range, timeline.stack);
    let pill = |current: bool| {
        let look = if current {
            "border-sky-600 bg-sky-50 text-sky-900"
        } else {
            "border-slate-300 bg-white hover:bg-slate-50"
        };
        format!("rounded-full border px-3 py-1 {look}")
    };
    let weeks = WEEK_CHOICES.into_iter().map(|n| {
        let current = n == range.weeks;
        let href = place.href(today, TimelineRange { weeks: n, ..range }, stack);
        view! { <a class=pill(current) href=href aria-current=current.then_some("page") data-weeks=n.to_string()>{format!("{n} weeks")}</a> }
    }).collect_view();
    let stacks = Stack::ALL.into_iter().map(|choice| {
        let current = choice == stack;
        let href = place.href(today, range, choice);
        view! { <a class=pill(current) href=href aria-current=current.then_some("page") data-stack=choice.as_str()>{choice.label()}</a> }
    }).collect_view();
    view! {
        <div class="flex flex-wrap gap-3 text-sm">
            <nav class="flex flex-wrap gap-1" aria-label="Weeks shown" id="timeline-range">{weeks}</nav>
            <nav class="flex flex-wrap gap-1" aria-label="Stacked" id="timeline-stack">{stacks}</nav>
        </div>
    }
}

/// Earlier and later ranges of as many weeks, and a form to start at any week (a GET form: works
/// without JavaScript; the page's other parameters ride along hidden).
#[component]
fn Steps(timeline: Timeline, place: TimelinePlace) -> impl IntoView {
    let (today, range, stack) = (timeline.today, timeline.range, timeline.stack);
    let earlier = range.earlier(today).map(|r| place.href(today, r, stack));
    let later = range.later(today).map(|r| place.href(today, r, stack));
    let now = (!range.is_current(today)).then(|| place.href(today, TimelineRange::current(today, range.weeks), stack));
    let mut hidden = place.keep.clone();
    if stack != Stack::default() {
        hidden.push(("stack", stack.as_str().to_owned()));
    }
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-x-4 gap-y-2 text-sm" id="timeline-steps">
            <nav class="flex gap-3" aria-label="Other weeks">
                {earlier.map(|href| view! { <a class="text-sky-700 underline" href=href rel="prev">"← Earlier weeks"</a> })}
                {now.map(|href| view! { <a class="text-sky-700 underline" href=href>"From this week"</a> })}
                {later.map(|href| view! { <a class="text-sky-700 underline" href=href rel="next">"Later weeks →"</a> })}
            </nav>
            <form method="get" action=place.path class="flex flex-wrap items-end gap-2" id="timeline-from">
                {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                <label class="flex flex-col text-xs font-medium text-slate-700">"From the week of"
                    <input type="date" name="from" class=class::SMALL_FIELD value=range.first.to_string() min=crate::domain::timeline::week_start(today).to_string() />
                </label>
                <label class="flex flex-col text-xs font-medium text-slate-700">"Weeks"
                    <input type="number" name="weeks" class=format!("{} w-28", class::SMALL_FIELD) value=range.weeks.to_string() min=MIN_WEEKS.to_string() max=MAX_WEEKS.to_string() />
                </label>
                <button type="submit" class=class::SECONDARY>"Show"</button>
            </form>
        </div>
    }
}

/// Which colour is which team or severity.
#[component]
fn Legend(bands: Vec<Band>, stack: Stack) -> impl IntoView {
    let name = match stack {
        Stack::Team => "Teams",
        Stack::Severity => "Most severe open finding",
    };
    view! {
        <ul class="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" aria-label=name id="timeline-legend">
            {bands.iter().enumerate().map(|(n, band)| {
                let swatch = colour(n, band).1;
                view! {
                    <li class="flex items-center gap-1.5">
                        <span class=format!("inline-block h-3 w-3 rounded-sm {swatch}") aria-hidden="true"></span>
                        {band.name()}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The shape of one drawing: its `viewBox`, margins, type size and how often a week is named.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    width: f64,
    height: f64,
    left: f64,
    bottom: f64,
    font: f64,
    /// The most week names on the axis.
    labels: usize,
}

impl Layout {
    const PHONE: Layout = Layout {
        width: 360.0,
        height: 240.0,
        left: 30.0,
        bottom: 24.0,
        font: 12.0,
        labels: 5,
    };
    const WIDE: Layout = Layout {
        width: 960.0,
        height: 300.0,
        left: 40.0,
        bottom: 26.0,
        font: 13.0,
        labels: 13,
    };
    const TOP: f64 = 10.0;
    const RIGHT: f64 = 6.0;

    fn plot_height(self) -> f64 {
        self.height - Self::TOP - self.bottom
    }
}

/// One drawing of the chart: a gridline and scale, a stacked bar per week (each segment a link
/// named for screen readers and pointers alike), and week names along the bottom.
#[component]
fn Chart(timeline: Timeline, layout: Layout, team: Option<TeamRef>) -> impl IntoView {
    let busiest = timeline.busiest().max(1) as f64;
    let slot = (layout.width - layout.left - Layout::RIGHT) / timeline.weeks.len().max(1) as f64;
    let every = timeline.weeks.len().div_ceil(layout.labels).max(1);
    let base = Layout::TOP + layout.plot_height();
    let font = format!("{}", layout.font);
    let weeks = timeline.weeks.clone();
    view! {
        <svg viewBox=format!("0 0 {} {}", layout.width, layout.height) width="100%" class="block h-auto w-full" role="group" aria-label="Tokens expiring per week">
            <g class="fill-slate-600" font-size=font.clone() aria-hidden="true">
                <text x=format!("{}", layout.left - 4.0) y=format!("{}", Layout::TOP + layout.font * 0.8) text-anchor="end">{timeline.busiest()}</text>
                <text x=format!("{}", layout.left - 4.0) y=format!("{base}") text-anchor="end">"0"</text>
            </g>
            <line x1=format!("{}", layout.left) x2=format!("{}", layout.width - Layout::RIGHT) y1=format!("{}", Layout::TOP) y2=format!("{}", Layout::TOP) class="stroke-slate-200" stroke-dasharray="4 4"></line>
            <line x1=format!("{}", layout.left) x2=format!("{}", layout.width - Layout::RIGHT) y1=format!("{base}") y2=format!("{base}") class="stroke-slate-400"></line>
            {weeks.iter().enumerate().map(|(n, week)| {
                let x = layout.left + slot * n as f64;
                let bar = Bar { week: week.clone(), bands: timeline.bands.clone(), x: x + slot * 0.15, width: slot * 0.7, base, scale: layout.plot_height() / busiest, team: team.clone() };
                let label = (n % every == 0).then(|| view! {
                    <text x=format!("{:.1}", x + slot / 2.0) y=format!("{}", layout.height - 6.0) text-anchor="middle" font-size=font.clone() class="fill-slate-600" aria-hidden="true">{short_date(week.start)}</text>
                });
                view! { {bar.segments()} {label} }
            }).collect_view()}
        </svg>
    }
}

/// One week's stacked bar, bottom up in the bands' order.
struct Bar {
    week: TimelineWeek,
    bands: Vec<Band>,
    x: f64,
    width: f64,
    base: f64,
    scale: f64,
    /// My team's chart: every segment is that team's.
    team: Option<TeamRef>,
}

impl Bar {
    fn segments(self) -> impl IntoView + use<> {
        let mut top = self.base;
        let mut segments = Vec::new();
        for (n, (band, &count)) in self.bands.iter().zip(&self.week.counts).enumerate() {
            if count == 0 {
                continue;
            }
            let height = (count as f64 * self.scale).max(1.0);
            top -= height;
            let name = band.name();
            let label = format!(
                "{name}: {count} expiring {} to {}",
                short_date(self.week.start),
                short_date(self.week.end)
            );
            let href = week_link(&self.week, segment_team(band, self.team.as_ref()));
            let fill = colour(n, band).0;
            segments.push(view! {
                <a href=href aria-label=label.clone() data-week=self.week.start.to_string() data-band=name>
                    <rect x=format!("{:.1}", self.x) y=format!("{top:.1}") width=format!("{:.1}", self.width) height=format!("{height:.1}") class=format!("{fill} hover:opacity-80")>
                    </rect>
                </a>
            });
        }
        segments
    }
}

/// The chart's figures as a table, for screen readers and for anyone who wants the numbers: a
/// row per week, a column per band, each count a link.
#[component]
fn TimelineTable(timeline: Timeline, team: Option<TeamRef>) -> impl IntoView {
    let bands = timeline.bands.clone();
    view! {
        <details class="mt-3 text-sm" id="timeline-table">
            <summary class="cursor-pointer text-sky-700 underline">"The figures as a table"</summary>
            <div role="region" aria-label="Tokens expiring per week, as a table" tabindex="0" class="relative mt-2 overflow-x-auto">
                <table class="w-full text-left">
                    <caption class="sr-only">{match timeline.stack { Stack::Team => "Live tokens expiring per week and team", Stack::Severity => "Live tokens expiring per week, by their most severe open finding" }}</caption>
                    <thead class="bg-slate-100 text-xs font-semibold uppercase tracking-wide text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2">"Week"</th>
                            {bands.iter().map(|band| view! { <th scope="col" class="px-3 py-2 text-right">{band.name()}</th> }).collect_view()}
                            <th scope="col" class="px-3 py-2 text-right">"All"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {timeline.weeks.into_iter().map(|week| {
                            let cells = bands.iter().zip(week.counts.clone()).map(|(band, count)| {
                                let href = week_link(&week, segment_team(band, team.as_ref()));
                                view! { <td class="px-3 py-1.5 text-right">{(count > 0).then(|| view! { <a class="underline" href=href>{count}</a> })}{(count == 0).then_some("0")}</td> }
                            }).collect_view();
                            let all = week_link(&week, team.as_ref().map(Some));
                            view! {
                                <tr>
                                    <th scope="row" class="whitespace-nowrap px-3 py-1.5 font-medium">{format!("{} – {}", short_date(week.start), short_date(week.end))}</th>
                                    {cells}
                                    <td class="px-3 py-1.5 text-right font-semibold"><a class="underline" href=all>{week.total()}</a></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
}
