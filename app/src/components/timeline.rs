//! The expiry timeline: live tokens expiring per week, stacked by owner team, as server-rendered
//! SVG (readable without JavaScript; each segment a link to the inventory filtered to that week
//! and team), a legend, the "cliff" callout, and the same figures as a table for screen readers.
//! Two drawings of the same chart, one shaped for a phone and one for wider screens, so its words
//! stay readable at both: `viewBox` and `width: 100%` scale each to its box.

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::domain::{
    TeamRef, Timeline, TimelineWeek, TokenQuery, TokenStatus,
    timeline::{CLIFF_MIN_TOKENS, CLIFF_SHARE_PERCENT},
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
const NO_TEAM: (&str, &str) = ("fill-slate-400", "bg-slate-400");

fn colour(band: usize, team: Option<&TeamRef>) -> (&'static str, &'static str) {
    match team {
        Some(_) => PALETTE[band % PALETTE.len()],
        None => NO_TEAM,
    }
}

fn band_name(team: Option<&TeamRef>) -> String {
    team.map_or_else(|| "No team".to_owned(), |team| team.name.clone())
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

fn short_date(date: NaiveDate) -> String {
    date.format("%-d %b").to_string()
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The timeline, its range picker (`choices`: each number of weeks with its link) and its table.
/// On the Review page (`team` left out) each segment links to its team's tokens that week; on My
/// team the chart is one team's, and `team` says which.
#[component]
pub fn ExpiryTimeline(timeline: Timeline, choices: Vec<(u32, String)>, team: Option<i64>) -> impl IntoView {
    let weeks = timeline.weeks.len();
    let total = timeline.total();
    let team_ref = team.and_then(|id| timeline.bands.iter().flatten().find(|t| t.id == id).cloned());
    view! {
        <section id="expiry-timeline" class="mt-6 rounded-xl bg-white p-4 shadow-sm sm:p-6" aria-labelledby="timeline-title">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="timeline-title" class="text-lg font-semibold">{format!("Tokens expiring in the next {weeks} weeks")}</h2>
                <RangePicker weeks choices />
            </div>
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
                    <Legend bands=timeline.bands.clone() />
                    <div class="mt-3 sm:hidden"><Chart timeline=timeline.clone() layout=Layout::PHONE team=team_ref.clone() /></div>
                    <div class="mt-3 hidden sm:block"><Chart timeline=timeline.clone() layout=Layout::WIDE team=team_ref.clone() /></div>
                    <TimelineTable timeline team=team_ref />
                }.into_any()
            }}
        </section>
    }
}

/// The week ranges to choose from, as links (the range lives in the URL).
#[component]
fn RangePicker(weeks: usize, choices: Vec<(u32, String)>) -> impl IntoView {
    view! {
        <nav class="flex flex-wrap gap-1 text-sm" aria-label="Weeks shown" id="timeline-range">
            {choices.into_iter().map(|(n, href)| {
                let current = n as usize == weeks;
                let look = if current { "border-sky-600 bg-sky-50 text-sky-900" } else { "border-slate-300 bg-white hover:bg-slate-50" };
                view! {
                    <a class=format!("rounded-full border px-3 py-1 {look}") href=href aria-current=current.then_some("page") data-weeks=n.to_string()>
                        {format!("{n} weeks")}
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

/// Which colour is which team.
#[component]
fn Legend(bands: Vec<Option<TeamRef>>) -> impl IntoView {
    view! {
        <ul class="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700" aria-label="Teams" id="timeline-legend">
            {bands.iter().enumerate().map(|(n, team)| {
                let swatch = colour(n, team.as_ref()).1;
                view! {
                    <li class="flex items-center gap-1.5">
                        <span class=format!("inline-block h-3 w-3 rounded-sm {swatch}") aria-hidden="true"></span>
                        {band_name(team.as_ref())}
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
    bands: Vec<Option<TeamRef>>,
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
            let name = band_name(band.as_ref());
            let label = format!(
                "{name}: {count} expiring {} to {}",
                short_date(self.week.start),
                short_date(self.week.end)
            );
            let href = week_link(&self.week, Some(self.team.as_ref().or(band.as_ref())));
            let fill = colour(n, band.as_ref()).0;
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
                    <caption class="sr-only">"Live tokens expiring per week and team"</caption>
                    <thead class="bg-slate-100 text-xs font-semibold uppercase tracking-wide text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2">"Week"</th>
                            {bands.iter().map(|band| view! { <th scope="col" class="px-3 py-2 text-right">{band_name(band.as_ref())}</th> }).collect_view()}
                            <th scope="col" class="px-3 py-2 text-right">"All"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {timeline.weeks.into_iter().map(|week| {
                            let cells = bands.iter().zip(week.counts.clone()).map(|(band, count)| {
                                let href = week_link(&week, Some(team.as_ref().or(band.as_ref())));
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
