//! The expiry timeline: how many live tokens expire in each week (Monday to Sunday, as ISO weeks
//! run) of the weeks ahead, per owner team, and the "cliff" week that holds an unusual share of
//! them (GitLab 16.0 gave every token without an expiry the same date, a year after the upgrade).
//! Pure: the database counts tokens per team and date, this folds them into weeks.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{QueryError, TeamRef, query::Params};

/// Weeks shown when the URL does not say.
pub const DEFAULT_WEEKS: u32 = 26;
/// The fewest and most weeks a timeline shows.
pub const MIN_WEEKS: u32 = 4;
pub const MAX_WEEKS: u32 = 52;

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

/// The dates a timeline of `weeks` weeks counts, as of `today`: from tomorrow (a token expiring
/// today has expired) to the Sunday of the last week, the first week being today's.
pub fn date_range(today: NaiveDate, weeks: u32) -> (NaiveDate, NaiveDate) {
    let last = week_start(today) + Days::new(7 * u64::from(weeks.max(1)) - 1);
    (today + Days::new(1), last)
}

/// Live tokens of one owner team (`None`: no team) expiring on one date: a row of the
/// database's aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryCount {
    pub team_id: Option<i64>,
    pub expires_on: NaiveDate,
    pub tokens: u64,
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

/// Tokens expiring per week, stacked by owner team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub today: NaiveDate,
    /// The stacked bands: teams by name, then "No team" (`None`) when some token has none. Only
    /// bands with a token in the range are listed.
    pub bands: Vec<Option<TeamRef>>,
    pub weeks: Vec<TimelineWeek>,
    pub cliff: Option<Cliff>,
}

impl Timeline {
    /// Folds the per-date counts into `weeks` weeks from today's, each count in its week and
    /// band; counts outside [`date_range`] are left out. `teams` names the team ids.
    pub fn build(today: NaiveDate, weeks: u32, counts: &[ExpiryCount], teams: &[TeamRef]) -> Timeline {
        let (from, to) = date_range(today, weeks);
        let counts: Vec<&ExpiryCount> = counts
            .iter()
            .filter(|c| c.tokens > 0 && c.expires_on >= from && c.expires_on <= to)
            .collect();
        let bands = bands(&counts, teams);
        let first = week_start(today);
        let mut timeline_weeks: Vec<TimelineWeek> = (0..u64::from(weeks.max(1)))
            .map(|n| TimelineWeek {
                start: first + Days::new(7 * n),
                end: first + Days::new(7 * n + 6),
                counts: vec![0; bands.len()],
            })
            .collect();
        for count in counts {
            let week = usize::try_from((count.expires_on - first).num_days() / 7).unwrap_or(0);
            // A team no longer known counts as no team (the last band).
            let band = bands
                .iter()
                .position(|band| band.as_ref().is_some_and(|t| Some(t.id) == count.team_id))
                .unwrap_or(bands.len() - 1);
            timeline_weeks[week].counts[band] += count.tokens;
        }
        let cliff = cliff(&timeline_weeks);
        Timeline {
            today,
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

/// The bands the counts fall in: known teams by name (an id no team has counts as no team),
/// then no team.
fn bands(counts: &[&ExpiryCount], teams: &[TeamRef]) -> Vec<Option<TeamRef>> {
    let mut named: Vec<TeamRef> = teams
        .iter()
        .filter(|team| counts.iter().any(|c| c.team_id == Some(team.id)))
        .cloned()
        .collect();
    named.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let unnamed = counts
        .iter()
        .any(|c| c.team_id.is_none_or(|id| !teams.iter().any(|t| t.id == id)));
    let mut bands: Vec<Option<TeamRef>> = named.into_iter().map(Some).collect();
    if unnamed {
        bands.push(None);
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
        let timeline = Timeline::build(today, 26, &counts, &teams);
        assert_eq!(timeline.weeks.len(), 26);
        assert_eq!(timeline.weeks[0].start, date("2026-11-30"));
        assert_eq!(timeline.weeks[25].end, date("2027-05-30"));
        // Bands: teams by name, then no team.
        assert_eq!(
            timeline.bands,
            vec![Some(team(2, "Apps")), Some(team(1, "Platform")), None]
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
                expires_on: date("2026-12-03") + Days::new(7 * n),
                tokens: 3,
            })
            .collect();
        counts.push(count(None, "2027-03-10", 2000));
        let timeline = Timeline::build(today, 26, &counts, &teams);
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
        let timeline = Timeline::build(date("2026-12-02"), 52, &[], &[]);
        assert_eq!(timeline.weeks.len(), 52);
        assert_eq!((timeline.total(), timeline.cliff, timeline.bands.len()), (0, None, 0));
    }
}
