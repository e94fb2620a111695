//! Expiry in days, windows and words ("in 12 days").

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ParseError, enums::all};

/// The expiry windows people filter and count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum ExpiryWindow {
    /// Already expired.
    Expired,
    /// Expires within the next 7 days.
    #[strum(serialize = "7d")]
    Days7,
    /// Within the next 30 days.
    #[strum(serialize = "30d")]
    Days30,
    /// Within the next 90 days.
    #[strum(serialize = "90d")]
    Days90,
    /// Never expires.
    Never,
}

impl ExpiryWindow {
    pub const ALL: [ExpiryWindow; 5] = all(Self::VARIANTS);

    /// Its identifier in URLs ("7d"); serde spells it otherwise ("days7").
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("expiry window", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            ExpiryWindow::Expired => "Expired",
            ExpiryWindow::Days7 => "Within 7 days",
            ExpiryWindow::Days30 => "Within 30 days",
            ExpiryWindow::Days90 => "Within 90 days",
            ExpiryWindow::Never => "Never expires",
        }
    }

    /// The range of expiry dates this window covers, as `(after, on_or_before)` bounds;
    /// `None` for [`ExpiryWindow::Never`], which is "no expiry date" rather than a range.
    /// Tokens expire at 00:00 UTC on their date, so a date of today is already expired.
    pub fn date_bounds(self, today: NaiveDate) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
        let days = |n: u64| today.checked_add_days(chrono::Days::new(n));
        match self {
            ExpiryWindow::Expired => Some((None, Some(today))),
            ExpiryWindow::Days7 => Some((Some(today), days(7))),
            ExpiryWindow::Days30 => Some((Some(today), days(30))),
            ExpiryWindow::Days90 => Some((Some(today), days(90))),
            ExpiryWindow::Never => None,
        }
    }
}

/// A date relative to today, in words: "today", "tomorrow", "in 12 days", "3 days ago",
/// "in 4 months", "2 years ago".
pub fn relative_day(date: NaiveDate, today: NaiveDate) -> String {
    let days = (date - today).num_days();
    let magnitude = days.unsigned_abs();
    let amount = if magnitude < 45 {
        plural(magnitude, "day")
    } else if magnitude < 365 {
        plural((magnitude + 15) / 30, "month")
    } else {
        plural((magnitude + 182) / 365, "year")
    };
    match days {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        -1 => "yesterday".to_owned(),
        d if d > 0 => format!("in {amount}"),
        _ => format!("{amount} ago"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn relative_days_read_like_people_speak() {
        let today = day("2026-11-25");
        let table = [
            ("2026-11-25", "today"),
            ("2026-11-26", "tomorrow"),
            ("2026-11-24", "yesterday"),
            ("2026-12-07", "in 12 days"),
            ("2026-11-22", "3 days ago"),
            ("2027-01-08", "in 44 days"),
            ("2027-01-09", "in 2 months"),
            ("2027-04-25", "in 5 months"),
            ("2027-11-25", "in 1 year"),
            ("2024-11-25", "2 years ago"),
        ];
        for (date, words) in table {
            assert_eq!(relative_day(day(date), today), words, "{date}");
        }
    }

    #[test]
    fn windows_parse_from_their_url_form_and_bound_dates() {
        let today = day("2026-11-25");
        assert!("8d".parse::<ExpiryWindow>().is_err());
        assert_eq!(serde_json::to_value(ExpiryWindow::Days7).ok(), Some("days7".into()));
        assert_eq!(ExpiryWindow::Expired.date_bounds(today), Some((None, Some(today))));
        assert_eq!(
            ExpiryWindow::Days7.date_bounds(today),
            Some((Some(today), Some(day("2026-12-02"))))
        );
        assert_eq!(ExpiryWindow::Never.date_bounds(today), None);
    }
}
