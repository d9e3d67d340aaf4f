//! Evaluations of how well a region serves a matter over a period.

use std::fmt;

use chrono::{Months, NaiveDate};

use crate::ValidationError;
use crate::codes::{MatterCode, RegionCode};

/// A reporting period: a year (`2025`), a half (`2025-H1`), a quarter
/// (`2025-Q3`) or a month (`2025-07`). Periods of one kind sort in time order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period(String);

impl Period {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The days the period covers: from its first (inclusive) to the first
    /// after it (exclusive).
    pub fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        let year: i32 = self.0.get(..4)?.parse().ok()?;
        let (month, months) = match self.0.get(4..).unwrap_or_default() {
            "" => (1, 12),
            "-H1" => (1, 6),
            "-H2" => (7, 6),
            rest => match rest.strip_prefix("-Q") {
                Some(quarter) => (quarter.parse::<u32>().ok()? * 3 - 2, 3),
                None => (rest.strip_prefix('-')?.parse().ok()?, 1),
            },
        };
        let start = NaiveDate::from_ymd_opt(year, month, 1)?;
        Some((start, start.checked_add_months(Months::new(months))?))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for Period {
    type Error = ValidationError;
    fn try_from(raw: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "period",
                format!(
                    "`{raw}` is not a period such as `2025`, `2025-H1`, `2025-Q3` or `2025-07`"
                ),
            )
        };
        let (year, rest) = raw.split_at_checked(4).ok_or_else(bad)?;
        let year_ok = year.bytes().all(|b| b.is_ascii_digit())
            && year
                .parse::<u16>()
                .is_ok_and(|y| (2000..=2100).contains(&y));
        if !year_ok {
            return Err(bad());
        }
        let valid = match rest.strip_prefix('-') {
            None if rest.is_empty() => true,
            None => false,
            Some(part) => matches!(
                part.as_bytes(),
                [b'H', b'1' | b'2']
                    | [b'Q', b'1'..=b'4']
                    | [b'0', b'1'..=b'9']
                    | [b'1', b'0'..=b'2']
            ),
        };
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(bad())
        }
    }
}

/// The measured values of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationValues {
    /// Satisfaction score, 0 to 100.
    pub satisfaction: f64,
    pub cases_handled: i64,
    /// Average working days taken per case.
    pub average_days: f64,
}

impl EvaluationValues {
    /// Returns the values, or every rule they break.
    pub fn validated(self) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        if !(0.0..=100.0).contains(&self.satisfaction) {
            errors.push(ValidationError::new(
                "satisfaction",
                "must be between 0 and 100",
            ));
        }
        if self.cases_handled < 0 {
            errors.push(ValidationError::new("casesHandled", "must not be negative"));
        }
        if !(0.0..=1000.0).contains(&self.average_days) {
            errors.push(ValidationError::new(
                "averageDays",
                "must be between 0 and 1000 days",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// How well a region served a matter over one period, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The evaluated region.
    pub region: RegionCode,
    /// The evaluated matter.
    pub matter: MatterCode,
    /// The period the values cover.
    pub period: Period,
    /// What was measured.
    pub values: EvaluationValues,
    /// Starts at 1 and grows by one with each correction.
    pub revision: i32,
    /// Whether this is illustrative sample data, not an official figure.
    pub illustrative: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::refused_fields;

    #[test]
    fn periods() {
        for good in ["2025", "2025-H1", "2025-Q4", "2025-01", "2025-12"] {
            assert!(Period::try_from(good).is_ok(), "{good}");
        }
        for bad in [
            "25", "2025-Q5", "2025-13", "2025-00", "2025-H3", "1999", "2025Q1", "2025-",
        ] {
            assert!(Period::try_from(bad).is_err(), "{bad}");
        }
        assert!(Period::try_from("2025-Q1").unwrap() < Period::try_from("2025-Q2").unwrap());
    }

    #[test]
    fn period_spans() {
        let span = |p: &str| {
            let (start, end) = Period::try_from(p).unwrap().span().unwrap();
            (start.to_string(), end.to_string())
        };
        assert_eq!(span("2025"), ("2025-01-01".into(), "2026-01-01".into()));
        assert_eq!(span("2025-H2"), ("2025-07-01".into(), "2026-01-01".into()));
        assert_eq!(span("2025-Q2"), ("2025-04-01".into(), "2025-07-01".into()));
        assert_eq!(span("2025-12"), ("2025-12-01".into(), "2026-01-01".into()));
    }

    #[test]
    fn evaluation_values() {
        let ok = EvaluationValues {
            satisfaction: 92.5,
            cases_handled: 10,
            average_days: 3.5,
        };
        assert!(ok.validated().is_ok());
        let bad = EvaluationValues {
            satisfaction: 101.0,
            cases_handled: -1,
            average_days: f64::NAN,
        };
        let fields = refused_fields(bad.validated());
        assert_eq!(fields, ["satisfaction", "casesHandled", "averageDays"]);
    }
}
