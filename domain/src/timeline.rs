//! The expiry timeline: how many live tokens expire in each week (Monday to Sunday, as ISO weeks
//! run) of a range of weeks, stacked by owner team or by the severity of the token's most severe
//! open finding, and the "cliff" week that holds an unusual share of them (GitLab 16.0 gave every
//! token without an expiry the same date, a year after the upgrade).
//! Pure: the database counts tokens per team (or severity) and date, this folds them into weeks.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ParseError, QueryError, TeamRef, query::Params, review::Severity};

/// Weeks shown when the URL does not say.
pub const DEFAULT_WEEKS: u32 = 26;
/// The fewest and most weeks a timeline shows.
pub const MIN_WEEKS: u32 = 4;
pub const MAX_WEEKS: u32 = 52;
/// How far ahead a timeline may start, in weeks from today's (two years: the longest lifetime
/// GitLab allows an access token is 400 days, so nothing expires later unless the setting is
/// raised).
pub const MAX_AHEAD_WEEKS: u32 = 104;

/// A week is a cliff when it holds at least this share (in percent) of the timeline's expiries…
pub const CLIFF_SHARE_PERCENT: u64 = 25;
/// …and at least this many tokens (so four tokens in a quiet half-year are no cliff).
pub const CLIFF_MIN_TOKENS: u64 = 20;

/// The Monday of `date`'s week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// How many weeks the timeline shows: `weeks` in the URL, from [`MIN_WEEKS`] to [`MAX_WEEKS`],
/// [`DEFAULT_WEEKS`] when left out.
pub fn weeks_from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<u32, QueryError> {
    Params(get)
        .read(
            "weeks",
            |value| {
                value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (MIN_WEEKS..=MAX_WEEKS).contains(n))
            },
            |value| format!("{value:?} is not a number of weeks from {MIN_WEEKS} to {MAX_WEEKS}"),
        )
        .map(|weeks| weeks.unwrap_or(DEFAULT_WEEKS))
}

/// The dates a timeline of `weeks` weeks from today's counts: from tomorrow (a token expiring
/// today has expired) to the Sunday of the last week.
pub fn date_range(today: NaiveDate, weeks: u32) -> (NaiveDate, NaiveDate) {
    TimelineRange::current(today, weeks).dates(today)
}

/// The weeks a timeline shows: `weeks` weeks from the week of `first` (a Monday), as the URL
/// says (`from`, `weeks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineRange {
    /// The first week's Monday: today's week or a later one.
    pub first: NaiveDate,
    pub weeks: u32,
}

impl TimelineRange {
    /// `weeks` weeks from today's.
    pub fn current(today: NaiveDate, weeks: u32) -> TimelineRange {
        TimelineRange {
            first: week_start(today),
            weeks: weeks.clamp(1, MAX_WEEKS),
        }
    }

    /// Reads `from` (a date: its week is the first; today's week when left out) and `weeks`
    /// ([`weeks_from_params`]). A week before today's, or more than [`MAX_AHEAD_WEEKS`] ahead,
    /// is refused.
    pub fn from_params<'a>(
        get: impl Fn(&str) -> Option<&'a str> + Copy,
        today: NaiveDate,
    ) -> Result<TimelineRange, QueryError> {
        let weeks = weeks_from_params(get)?;
        let Some(from) = Params(get).date("from")? else {
            return Ok(TimelineRange::current(today, weeks));
        };
        TimelineRange {
            first: week_start(from),
            weeks,
        }
        .check(today)
    }

    /// Held to its limits (a script can send any range to the server function): it starts on a
    /// Monday, from today's week to [`MAX_AHEAD_WEEKS`] ahead, and runs [`MIN_WEEKS`] to
    /// [`MAX_WEEKS`] weeks.
    pub fn check(self, today: NaiveDate) -> Result<TimelineRange, QueryError> {
        let now = week_start(today);
        let first = self.first;
        if !(MIN_WEEKS..=MAX_WEEKS).contains(&self.weeks) {
            return Err(QueryError::new(
                "weeks",
                format!(
                    "{} is not a number of weeks from {MIN_WEEKS} to {MAX_WEEKS}",
                    self.weeks
                ),
            ));
        }
        if week_start(first) != first {
            return Err(QueryError::new("from", format!("{first} is not a Monday")));
        }
        if first < now {
            return Err(QueryError::new(
                "from",
                format!(
                    "the week of {first} is in the past: the timeline shows tokens still to expire, from this week on"
                ),
            ));
        }
        if first > now + Days::new(7 * u64::from(MAX_AHEAD_WEEKS)) {
            return Err(QueryError::new(
                "from",
                format!("the week of {first} is more than {MAX_AHEAD_WEEKS} weeks ahead"),
            ));
        }
        Ok(self)
    }

    /// Whether it starts in today's week (the URL then leaves `from` out).
    pub fn is_current(self, today: NaiveDate) -> bool {
        self.first == week_start(today)
    }

    /// The dates it counts: from its first Monday (tomorrow, in today's week: a token expiring
    /// today has expired) to its last Sunday.
    pub fn dates(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let last = self.first + Days::new(7 * u64::from(self.weeks.max(1)) - 1);
        (self.first.max(today + Days::new(1)), last)
    }

    /// The same number of weeks just before (never before today's week); `None` in today's week.
    pub fn earlier(self, today: NaiveDate) -> Option<TimelineRange> {
        let now = week_start(today);
        (self.first > now).then(|| TimelineRange {
            first: (self.first - Days::new(7 * u64::from(self.weeks))).max(now),
            weeks: self.weeks,
        })
    }

    /// The same number of weeks just after; `None` past [`MAX_AHEAD_WEEKS`].
    pub fn later(self, today: NaiveDate) -> Option<TimelineRange> {
        let first = self.first + Days::new(7 * u64::from(self.weeks));
        (first <= week_start(today) + Days::new(7 * u64::from(MAX_AHEAD_WEEKS))).then_some(TimelineRange {
            first,
            weeks: self.weeks,
        })
    }

    /// Its URL parameters (`from` left out for today's week).
    pub fn to_params(self, today: NaiveDate) -> Vec<(&'static str, String)> {
        let mut params = Vec::with_capacity(2);
        if !self.is_current(today) {
            params.push(("from", self.first.to_string()));
        }
        params.push(("weeks", self.weeks.to_string()));
        params
    }
}

/// What the bars are stacked by (`stack` in the URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Stack {
    /// The token's owner team.
    #[default]
    Team,
    /// The severity of the token's most severe open finding.
    Severity,
}

impl Stack {
    pub const ALL: [Stack; 2] = crate::enums::all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("stacking", value)
    }

    /// As the picker names it.
    pub fn label(self) -> &'static str {
        match self {
            Stack::Team => "By team",
            Stack::Severity => "By severity",
        }
    }

    /// `stack` in the URL; by team when left out.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Stack, QueryError> {
        Params(get).parsed("stack").map(Option::unwrap_or_default)
    }
}

/// Live tokens of one owner team (`None`: no team) expiring on one date, with the severity of
/// their most severe open finding (`None`: none, or not asked for): a row of the database's
/// aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryCount {
    pub team_id: Option<i64>,
    pub severity: Option<Severity>,
    pub expires_on: NaiveDate,
    pub tokens: u64,
}

/// One stacked band of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Team(TeamRef),
    NoTeam,
    Severity(Severity),
    /// Tokens without an open finding.
    NoFinding,
}

impl Band {
    /// As the legend names it.
    pub fn name(&self) -> String {
        match self {
            Band::Team(team) => team.name.clone(),
            Band::NoTeam => "No team".to_owned(),
            Band::Severity(severity) => {
                let name = severity.as_str();
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
            Band::NoFinding => "No open finding".to_owned(),
        }
    }

    /// The owner team its tokens have: `Some(Some(team))`, `Some(None)` for no team, `None` when
    /// the band is not a team's.
    pub fn team(&self) -> Option<Option<&TeamRef>> {
        match self {
            Band::Team(team) => Some(Some(team)),
            Band::NoTeam => Some(None),
            Band::Severity(_) | Band::NoFinding => None,
        }
    }
}

/// One week of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineWeek {
    /// Its Monday.
    pub start: NaiveDate,
    /// Its Sunday.
    pub end: NaiveDate,
    /// Tokens expiring per band, in [`Timeline::bands`]' order.
    pub counts: Vec<u64>,
}

impl TimelineWeek {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The week that holds an unusual share of the timeline's expiries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cliff {
    /// Its Monday.
    pub start: NaiveDate,
    pub tokens: u64,
    /// Its share of the timeline's expiries, in whole percent (rounded down).
    pub share_percent: u64,
}

/// Tokens expiring per week, stacked by owner team or by severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub today: NaiveDate,
    pub range: TimelineRange,
    pub stack: Stack,
    /// The stacked bands, bottom up. By team: teams by name, then "No team" when some token has
    /// none. By severity: the most severe first, then "No open finding". Only bands with a token
    /// in the range are listed.
    pub bands: Vec<Band>,
    pub weeks: Vec<TimelineWeek>,
    pub cliff: Option<Cliff>,
}

impl Timeline {
    /// Folds the per-date counts into the range's weeks, each count in its week and band;
    /// counts outside [`TimelineRange::dates`] are left out. `teams` names the team ids.
    pub fn build(
        today: NaiveDate,
        range: TimelineRange,
        stack: Stack,
        counts: &[ExpiryCount],
        teams: &[TeamRef],
    ) -> Timeline {
        let (from, to) = range.dates(today);
        let counts: Vec<&ExpiryCount> = counts
            .iter()
            .filter(|c| c.tokens > 0 && c.expires_on >= from && c.expires_on <= to)
            .collect();
        let bands = match stack {
            Stack::Team => team_bands(&counts, teams),
            Stack::Severity => severity_bands(&counts),
        };
        let mut timeline_weeks: Vec<TimelineWeek> = (0..u64::from(range.weeks.max(1)))
            .map(|n| TimelineWeek {
                start: range.first + Days::new(7 * n),
                end: range.first + Days::new(7 * n + 6),
                counts: vec![0; bands.len()],
            })
            .collect();
        for count in counts {
            let week = usize::try_from((count.expires_on - range.first).num_days() / 7).unwrap_or(0);
            let band = bands
                .iter()
                .position(|band| match band {
                    Band::Team(team) => count.team_id == Some(team.id),
                    Band::Severity(severity) => count.severity == Some(*severity),
                    Band::NoFinding => count.severity.is_none(),
                    Band::NoTeam => false,
                })
                // A team no longer known counts as no team (the last band).
                .unwrap_or(bands.len() - 1);
            timeline_weeks[week].counts[band] += count.tokens;
        }
        let cliff = cliff(&timeline_weeks);
        Timeline {
            today,
            range,
            stack,
            bands,
            weeks: timeline_weeks,
            cliff,
        }
    }

    /// Every token the timeline counts.
    pub fn total(&self) -> u64 {
        self.weeks.iter().map(TimelineWeek::total).sum()
    }

    /// The most tokens in one week (the chart's scale).
    pub fn busiest(&self) -> u64 {
        self.weeks.iter().map(TimelineWeek::total).max().unwrap_or(0)
    }
}

/// The team bands the counts fall in: known teams by name (an id no team has counts as no
/// team), then no team.
fn team_bands(counts: &[&ExpiryCount], teams: &[TeamRef]) -> Vec<Band> {
    let mut named: Vec<TeamRef> = teams
        .iter()
        .filter(|team| counts.iter().any(|c| c.team_id == Some(team.id)))
        .cloned()
        .collect();
    named.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let unnamed = counts
        .iter()
        .any(|c| c.team_id.is_none_or(|id| !teams.iter().any(|t| t.id == id)));
    let mut bands: Vec<Band> = named.into_iter().map(Band::Team).collect();
    if unnamed {
        bands.push(Band::NoTeam);
    }
    bands
}

/// The severity bands the counts fall in, the most severe first, then no open finding.
fn severity_bands(counts: &[&ExpiryCount]) -> Vec<Band> {
    let mut bands: Vec<Band> = Severity::ALL
        .into_iter()
        .filter(|severity| counts.iter().any(|c| c.severity == Some(*severity)))
        .map(Band::Severity)
        .collect();
    if counts.iter().any(|c| c.severity.is_none()) {
        bands.push(Band::NoFinding);
    }
    bands
}

/// The busiest week when it holds at least [`CLIFF_SHARE_PERCENT`] of all the weeks' expiries
/// and at least [`CLIFF_MIN_TOKENS`] tokens (the earliest of equals).
pub fn cliff(weeks: &[TimelineWeek]) -> Option<Cliff> {
    let total: u64 = weeks.iter().map(TimelineWeek::total).sum();
    let busiest = weeks.iter().rev().max_by_key(|week| week.total())?;
    let tokens = busiest.total();
    (tokens >= CLIFF_MIN_TOKENS && tokens * 100 >= total * CLIFF_SHARE_PERCENT).then(|| Cliff {
        start: busiest.start,
        tokens,
        share_percent: tokens * 100 / total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn count(team_id: Option<i64>, expires_on: &str, tokens: u64) -> ExpiryCount {
        ExpiryCount {
            team_id,
            severity: None,
            expires_on: date(expires_on),
            tokens,
        }
    }

    fn team(id: i64, name: &str) -> TeamRef {
        TeamRef {
            id,
            name: name.to_owned(),
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-02 is a Wednesday; 2026-12-07 a Monday; 2027-01-03 a Sunday.
        for (day, monday) in [
            ("2026-12-02", "2026-11-30"),
            ("2026-11-30", "2026-11-30"),
            ("2026-12-06", "2026-11-30"),
            ("2026-12-07", "2026-12-07"),
            ("2027-01-03", "2026-12-28"),
            ("2027-01-04", "2027-01-04"),
        ] {
            assert_eq!(week_start(date(day)), date(monday), "{day}");
        }
    }

    #[test]
    fn the_range_runs_from_tomorrow_to_the_last_sunday() {
        assert_eq!(
            date_range(date("2026-12-02"), 26),
            (date("2026-12-03"), date("2027-05-30"))
        );
        assert_eq!(
            date_range(date("2026-12-06"), 4),
            (date("2026-12-07"), date("2026-12-27"))
        );
    }

    #[test]
    fn counts_fall_in_their_week_at_the_boundaries() {
        let today = date("2026-12-02");
        let teams = [team(1, "Platform"), team(2, "Apps")];
        let counts = [
            count(Some(1), "2026-12-02", 5), // today: expired, left out
            count(Some(1), "2026-12-03", 1), // tomorrow: week 0
            count(Some(2), "2026-12-06", 2), // Sunday: week 0
            count(Some(1), "2026-12-07", 3), // Monday: week 1
            count(None, "2027-05-30", 4),    // the last Sunday: week 25
            count(Some(2), "2027-05-31", 6), // past the range
            count(Some(9), "2026-12-08", 7), // a team that no longer exists: no team
        ];
        let timeline = Timeline::build(today, TimelineRange::current(today, 26), Stack::Team, &counts, &teams);
        assert_eq!(timeline.weeks.len(), 26);
        assert_eq!(timeline.weeks[0].start, date("2026-11-30"));
        assert_eq!(timeline.weeks[25].end, date("2027-05-30"));
        // Bands: teams by name, then no team.
        assert_eq!(
            timeline.bands,
            vec![
                Band::Team(team(2, "Apps")),
                Band::Team(team(1, "Platform")),
                Band::NoTeam
            ]
        );
        assert_eq!(timeline.weeks[0].counts, vec![2, 1, 0]);
        assert_eq!(timeline.weeks[1].counts, vec![0, 3, 7]);
        assert_eq!(timeline.weeks[25].counts, vec![0, 0, 4]);
        assert_eq!(timeline.total(), 17);
        assert_eq!(timeline.busiest(), 10);
    }

    #[test]
    fn a_week_with_a_large_share_is_a_cliff() {
        let today = date("2026-12-02");
        let teams = [team(1, "Platform")];
        // GitLab 16.0: thousands on one date, a trickle elsewhere.
        let mut counts: Vec<ExpiryCount> = (0..25)
            .map(|n| ExpiryCount {
                team_id: Some(1),
                severity: None,
                expires_on: date("2026-12-03") + Days::new(7 * n),
                tokens: 3,
            })
            .collect();
        counts.push(count(None, "2027-03-10", 2000));
        let timeline = Timeline::build(today, TimelineRange::current(today, 26), Stack::Team, &counts, &teams);
        let cliff = timeline.cliff.expect("a cliff");
        assert_eq!(cliff.start, date("2027-03-08"));
        assert_eq!(cliff.tokens, 2003);
        assert_eq!(cliff.share_percent, 2003 * 100 / 2075);
    }

    #[test]
    fn the_cliff_rule_needs_both_the_share_and_the_count() {
        let today = date("2026-12-02");
        let weeks = |totals: &[u64]| -> Vec<TimelineWeek> {
            totals
                .iter()
                .enumerate()
                .map(|(n, &t)| TimelineWeek {
                    start: week_start(today) + Days::new(7 * n as u64),
                    end: week_start(today) + Days::new(7 * n as u64 + 6),
                    counts: vec![t],
                })
                .collect()
        };
        // Exactly 25% and 20 tokens: a cliff.
        assert_eq!(cliff(&weeks(&[20, 20, 20, 20])).map(|c| c.share_percent), Some(25));
        // 19 tokens, all of them: too few to be a cliff.
        assert_eq!(cliff(&weeks(&[19, 0, 0])), None);
        // 24% of many: spread out, no cliff.
        assert_eq!(cliff(&weeks(&[24, 19, 19, 19, 19])), None);
        // Nothing at all.
        assert_eq!(cliff(&weeks(&[0, 0])), None);
        assert_eq!(cliff(&[]), None);
        // Equal weeks: the earliest.
        assert_eq!(
            cliff(&weeks(&[0, 40, 40])).map(|c| c.start),
            Some(week_start(today) + Days::new(7))
        );
    }

    #[test]
    fn the_number_of_weeks_is_read_from_the_url_and_held_to_its_limits() {
        let read =
            |value: Option<&'static str>| weeks_from_params(move |name| (name == "weeks").then_some(value).flatten());
        assert_eq!(read(None), Ok(26));
        assert_eq!(read(Some("")), Ok(26));
        assert_eq!(read(Some("4")), Ok(4));
        assert_eq!(read(Some("52")), Ok(52));
        for bad in ["3", "53", "ten", "-1"] {
            let error = read(Some(bad)).expect_err(bad);
            assert_eq!(error.field, "weeks");
        }
        let today = date("2026-12-02");
        let timeline = Timeline::build(today, TimelineRange::current(today, 52), Stack::Team, &[], &[]);
        assert_eq!(timeline.weeks.len(), 52);
        assert_eq!((timeline.total(), timeline.cliff, timeline.bands.len()), (0, None, 0));
    }

    #[test]
    fn by_severity_the_most_severe_band_comes_first_and_tokens_without_findings_last() {
        let today = date("2026-12-02");
        let with = |severity: Option<Severity>, on: &str, tokens: u64| ExpiryCount {
            team_id: Some(1),
            severity,
            expires_on: date(on),
            tokens,
        };
        let counts = [
            with(None, "2026-12-03", 4),
            with(Some(Severity::Low), "2026-12-03", 1),
            with(Some(Severity::Critical), "2026-12-08", 2),
            with(Some(Severity::Critical), "2026-12-09", 3),
        ];
        let range = TimelineRange::current(today, 4);
        let timeline = Timeline::build(today, range, Stack::Severity, &counts, &[team(1, "Platform")]);
        assert_eq!(
            timeline.bands,
            vec![
                Band::Severity(Severity::Critical),
                Band::Severity(Severity::Low),
                Band::NoFinding
            ]
        );
        assert_eq!(timeline.weeks[0].counts, vec![0, 1, 4]);
        assert_eq!(timeline.weeks[1].counts, vec![5, 0, 0]);
        assert_eq!(
            timeline.bands.iter().map(Band::name).collect::<Vec<_>>(),
            ["Critical", "Low", "No open finding"]
        );
        assert_eq!(timeline.bands[0].team(), None);
    }

    #[test]
    fn a_later_range_is_read_from_the_url_and_steps_by_its_length() {
        let today = date("2026-12-02");
        let read = |from: Option<&'static str>, weeks: Option<&'static str>| {
            TimelineRange::from_params(
                move |name| match name {
                    "from" => from,
                    "weeks" => weeks,
                    _ => None,
                },
                today,
            )
        };
        // Left out: today's week.
        let current = read(None, None).expect("current");
        assert_eq!(current, TimelineRange::current(today, 26));
        assert!(current.is_current(today));
        assert_eq!(current.to_params(today), vec![("weeks", "26".to_owned())]);
        assert_eq!(current.earlier(today), None);
        // A Thursday in March: its week, from its Monday to the last Sunday, every day counted.
        let later = read(Some("2027-03-11"), Some("8")).expect("later");
        assert_eq!(later.first, date("2027-03-08"));
        assert_eq!(later.dates(today), (date("2027-03-08"), date("2027-05-02")));
        assert_eq!(
            later.to_params(today),
            vec![("from", "2027-03-08".to_owned()), ("weeks", "8".to_owned())]
        );
        assert_eq!(later.later(today).map(|r| r.first), Some(date("2027-05-03")));
        assert_eq!(later.earlier(today).map(|r| r.first), Some(date("2027-01-11")));
        // Never earlier than today's week.
        let soon = read(Some("2026-12-10"), Some("8")).expect("next week");
        assert_eq!(soon.earlier(today), Some(current_of(today, 8)));
        // The past and the far future are refused, by name.
        for (bad, why) in [
            ("2026-11-29", "in the past"),
            ("2029-01-01", "weeks ahead"),
            ("soon", "YYYY-MM-DD"),
        ] {
            let error = read(Some(bad), None).expect_err(bad);
            assert_eq!(error.field, "from");
            assert!(error.message.contains(why), "{bad}: {}", error.message);
        }
        // Counts in a later range fall in its weeks.
        let counts = [count(Some(1), "2027-03-08", 2), count(Some(1), "2027-03-07", 9)];
        let timeline = Timeline::build(today, later, Stack::Team, &counts, &[team(1, "Platform")]);
        assert_eq!(timeline.weeks[0].start, date("2027-03-08"));
        assert_eq!((timeline.weeks[0].counts.clone(), timeline.total()), (vec![2], 2));
    }

    fn current_of(today: NaiveDate, weeks: u32) -> TimelineRange {
        TimelineRange::current(today, weeks)
    }

    #[test]
    fn the_stacking_is_read_from_the_url() {
        let read =
            |value: Option<&'static str>| Stack::from_params(move |name| (name == "stack").then_some(value).flatten());
        assert_eq!(read(None), Ok(Stack::Team));
        assert_eq!(read(Some("severity")), Ok(Stack::Severity));
        assert_eq!(read(Some("colour")).expect_err("unknown").field, "stack");
    }
}
