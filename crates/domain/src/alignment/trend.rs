//! The equalization index over time: the periods a range is cut into, the
//! version of a value in force at a period's end, and which evaluations
//! fall in a period.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use crate::{Period, ValidationError};

/// The most periods one trend reports.
pub const MAX_TREND_PERIODS: usize = 120;

/// How long each period of a trend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Month,
    Quarter,
    Year,
}

impl Granularity {
    fn months(self) -> u32 {
        match self {
            Granularity::Month => 1,
            Granularity::Quarter => 3,
            Granularity::Year => 12,
        }
    }

    /// The first day of the period that holds `day`.
    fn start_of(self, day: NaiveDate) -> Option<NaiveDate> {
        let month = match self {
            Granularity::Month => day.month(),
            Granularity::Quarter => (day.month() - 1) / 3 * 3 + 1,
            Granularity::Year => 1,
        };
        NaiveDate::from_ymd_opt(day.year(), month, 1)
    }
}

/// One period of a trend: from `start` (inclusive) to `end` (exclusive),
/// named as evaluation periods are (`2025-07`, `2025-Q3`, `2025`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPeriod {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl TrendPeriod {
    /// The instant the period ends, at which values in force are read.
    pub fn end_instant(&self) -> DateTime<Utc> {
        self.end.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// Whether an evaluation of `period` falls in this one: its whole span
    /// lies inside (a month or a quarter in its year; not a year in one of
    /// its quarters).
    pub fn holds(&self, period: &Period) -> bool {
        period
            .span()
            .is_some_and(|(start, end)| self.start <= start && end <= self.end)
    }
}

/// The periods of `granularity` that cover `from` (inclusive) to `to`
/// (exclusive): the first holds `from`, the last holds the day before `to`.
/// `from` must be before `to`, and there may be at most
/// [`MAX_TREND_PERIODS`].
pub fn trend_periods(
    from: NaiveDate,
    to: NaiveDate,
    granularity: Granularity,
) -> Result<Vec<TrendPeriod>, ValidationError> {
    if from >= to {
        return Err(ValidationError::new("to", "`to` must be after `from`"));
    }
    let too_many = || {
        ValidationError::new(
            "to",
            format!(
                "a trend has at most {MAX_TREND_PERIODS} periods; narrow the range or take longer periods"
            ),
        )
    };
    let step = Months::new(granularity.months());
    let mut start = granularity.start_of(from).ok_or_else(too_many)?;
    let mut periods = Vec::new();
    while start < to {
        if periods.len() == MAX_TREND_PERIODS {
            return Err(too_many());
        }
        let end = start.checked_add_months(step).ok_or_else(too_many)?;
        let label = match granularity {
            Granularity::Month => format!("{}-{:02}", start.year(), start.month()),
            Granularity::Quarter => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            Granularity::Year => format!("{}", start.year()),
        };
        periods.push(TrendPeriod { label, start, end });
        start = end;
    }
    Ok(periods)
}

/// One version of a value: from when it stood, its revision, and the value
/// (`None` while the row was not published).
#[derive(Debug, Clone, PartialEq)]
pub struct Version<T> {
    pub since: DateTime<Utc>,
    pub revision: i32,
    pub value: Option<T>,
}

/// The value in force just before `instant`: the latest version that stood
/// before it (the higher revision when two stood from the same moment).
/// `None` when none had, or the one that had was not published.
pub fn in_force_at<T>(versions: &[Version<T>], instant: DateTime<Utc>) -> Option<&T> {
    versions
        .iter()
        .filter(|version| version.since < instant)
        .max_by_key(|version| (version.since, version.revision))
        .and_then(|version| version.value.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_cover_the_range() {
        let quarters =
            trend_periods(day(2024, 11, 5), day(2025, 10, 1), Granularity::Quarter).unwrap();
        let labels: Vec<&str> = quarters.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]);
        assert_eq!(quarters[0].start, day(2024, 10, 1));
        assert_eq!(quarters[3].end, day(2025, 10, 1));
        let months = trend_periods(day(2025, 1, 31), day(2025, 3, 2), Granularity::Month).unwrap();
        let labels: Vec<&str> = months.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["2025-01", "2025-02", "2025-03"]);
        let years = trend_periods(day(2020, 6, 1), day(2021, 1, 1), Granularity::Year).unwrap();
        assert_eq!(years.len(), 1);
        assert_eq!(years[0].label, "2020");
    }

    #[test]
    fn ranges_are_checked() {
        let today = day(2025, 1, 1);
        assert!(trend_periods(today, today, Granularity::Month).is_err());
        assert!(trend_periods(day(2025, 2, 1), today, Granularity::Month).is_err());
        assert!(trend_periods(day(2015, 1, 1), day(2025, 1, 1), Granularity::Month).is_ok());
        let error =
            trend_periods(day(2015, 1, 1), day(2025, 1, 2), Granularity::Month).unwrap_err();
        assert!(error.message.contains("120"), "{}", error.message);
    }

    #[test]
    fn evaluations_fall_in_the_periods_that_hold_them() {
        let q3 =
            &trend_periods(day(2025, 7, 1), day(2025, 10, 1), Granularity::Quarter).unwrap()[0];
        let period = |p: &str| Period::try_from(p).unwrap();
        assert!(q3.holds(&period("2025-Q3")));
        assert!(q3.holds(&period("2025-08")));
        assert!(!q3.holds(&period("2025-06")));
        assert!(!q3.holds(&period("2025")));
        assert!(!q3.holds(&period("2025-H2")));
    }

    #[test]
    fn the_version_in_force_is_the_latest_before_the_end() {
        let at = |m, d| day(2025, m, d).and_time(chrono::NaiveTime::MIN).and_utc();
        let versions = [
            Version {
                since: at(1, 15),
                revision: 1,
                value: Some(10),
            },
            Version {
                since: at(5, 20),
                revision: 2,
                value: None,
            },
            Version {
                since: at(5, 20),
                revision: 3,
                value: Some(12),
            },
            Version {
                since: at(8, 1),
                revision: 4,
                value: None,
            },
        ];
        assert_eq!(in_force_at(&versions, at(1, 15)), None);
        assert_eq!(in_force_at(&versions, at(4, 1)), Some(&10));
        assert_eq!(in_force_at(&versions, at(7, 1)), Some(&12));
        assert_eq!(
            in_force_at(&versions, at(10, 1)),
            None,
            "withdrawn to a draft"
        );
    }
}
