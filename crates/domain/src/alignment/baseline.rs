//! A guide against its national item's baseline (底线标准).

use super::{GuideValues, missing_channels};
use crate::{Channel, Fee};

/// A national item's baseline (底线标准) as data: None / empty means no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// Longest time limit a guide may state, in working days.
    pub max_time_limit_days: Option<i32>,
    /// Highest fee a guide may charge, in fen.
    pub max_fee_fen: Option<i64>,
    /// Channels every guide must offer.
    pub required_channels: Vec<Channel>,
}

/// A way in which a guide falls short of its national item's baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineViolation {
    /// The guide's time limit is longer than the baseline allows.
    TimeLimitExceeded { limit: i32, actual: i32 },
    /// The guide's fee (in fen) is higher than the baseline allows.
    FeeExceeded { limit: i64, actual: i64 },
    /// The guide does not offer a channel the baseline requires.
    MissingChannel(Channel),
}

impl BaselineViolation {
    /// The rule broken: `TIME_LIMIT`, `FEE` or `CHANNEL`.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::TimeLimitExceeded { .. } => "TIME_LIMIT",
            Self::FeeExceeded { .. } => "FEE",
            Self::MissingChannel(_) => "CHANNEL",
        }
    }

    /// The guide field that breaks the rule.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TimeLimitExceeded { .. } => "timeLimitDays",
            Self::FeeExceeded { .. } => "fee",
            Self::MissingChannel(_) => "channels",
        }
    }

    /// The baseline's figure that the guide breaks, as a client reads it:
    /// working days, yuan with two decimals, or the channel required.
    pub fn baseline(&self) -> String {
        match self {
            Self::TimeLimitExceeded { limit, .. } => limit.to_string(),
            Self::FeeExceeded { limit, .. } => yuan(*limit),
            Self::MissingChannel(channel) => channel.as_str().to_owned(),
        }
    }

    /// A sentence saying what is wrong, with the numbers.
    pub fn describe(&self) -> String {
        match self {
            Self::TimeLimitExceeded { limit, actual } => {
                format!("time limit {actual} working days exceeds the baseline's {limit}")
            }
            Self::FeeExceeded { limit, actual } => format!(
                "fee {} yuan exceeds the baseline's {} yuan",
                yuan(*actual),
                yuan(*limit)
            ),
            Self::MissingChannel(channel) => {
                format!("the {channel} channel the baseline requires is not offered")
            }
        }
    }
}

/// An amount in fen as yuan with two decimals, or in fen if it is not a valid fee.
fn yuan(fen: i64) -> String {
    Fee::from_fen(fen).map_or_else(|_| format!("{fen} fen"), |fee| fee.to_string())
}

/// Every way `guide` breaks `baseline`: time limit, then fee, then each
/// missing required channel in channel order.
pub fn baseline_violations(baseline: &Baseline, guide: &GuideValues) -> Vec<BaselineViolation> {
    let mut violations = Vec::new();
    if let Some(limit) = baseline.max_time_limit_days
        && guide.time_limit_days > limit
    {
        violations.push(BaselineViolation::TimeLimitExceeded {
            limit,
            actual: guide.time_limit_days,
        });
    }
    if let Some(limit) = baseline.max_fee_fen
        && guide.fee.fen() > limit
    {
        violations.push(BaselineViolation::FeeExceeded {
            limit,
            actual: guide.fee.fen(),
        });
    }
    violations.extend(
        missing_channels(&baseline.required_channels, &guide.channels)
            .into_iter()
            .map(BaselineViolation::MissingChannel),
    );
    violations
}

/// Why a guide may not be published: the first rule of `baseline` it
/// breaks, unless an exemption for its region and matter is in force
/// (`exempted`). The same rules as [`baseline_violations`], so what the
/// report lists and what publishing refuses never differ.
pub fn publication_refusal(
    baseline: &Baseline,
    guide: &GuideValues,
    exempted: bool,
) -> Option<BaselineViolation> {
    if exempted {
        return None;
    }
    baseline_violations(baseline, guide).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel::{Counter, Mobile, Online};
    use crate::alignment::testing::*;

    #[test]
    fn a_guide_within_the_baseline_breaks_nothing() {
        let baseline = Baseline {
            max_time_limit_days: Some(15),
            max_fee_fen: Some(0),
            required_channels: vec![Online],
        };
        let ok = guide("310000", 15, 0, &["A"], &[Counter, Online]);
        assert_eq!(baseline_violations(&baseline, &ok), []);
        assert_eq!(
            baseline_violations(&Baseline::default(), &guide("310000", 250, 9900, &[], &[])),
            []
        );
    }

    #[test]
    fn every_broken_baseline_rule_is_reported() {
        let baseline = Baseline {
            max_time_limit_days: Some(15),
            max_fee_fen: Some(2000),
            required_channels: vec![Mobile, Online, Mobile],
        };
        let bad = guide("310000", 20, 3050, &["A"], &[Counter]);
        let violations = baseline_violations(&baseline, &bad);
        assert_eq!(
            violations,
            [
                BaselineViolation::TimeLimitExceeded {
                    limit: 15,
                    actual: 20
                },
                BaselineViolation::FeeExceeded {
                    limit: 2000,
                    actual: 3050
                },
                BaselineViolation::MissingChannel(Online),
                BaselineViolation::MissingChannel(Mobile),
            ]
        );
        let rules: Vec<&str> = violations.iter().map(BaselineViolation::rule).collect();
        assert_eq!(rules, ["TIME_LIMIT", "FEE", "CHANNEL", "CHANNEL"]);
        let figures: Vec<(&str, String)> = violations
            .iter()
            .map(|v| (v.field(), v.baseline()))
            .collect();
        assert_eq!(
            figures,
            [
                ("timeLimitDays", "15".to_owned()),
                ("fee", "20.00".to_owned()),
                ("channels", "ONLINE".to_owned()),
                ("channels", "MOBILE".to_owned()),
            ]
        );
        let sentences: Vec<String> = violations.iter().map(BaselineViolation::describe).collect();
        assert_eq!(
            sentences,
            [
                "time limit 20 working days exceeds the baseline's 15",
                "fee 30.50 yuan exceeds the baseline's 20.00 yuan",
                "the ONLINE channel the baseline requires is not offered",
                "the MOBILE channel the baseline requires is not offered",
            ]
        );
    }

    #[test]
    fn publishing_is_refused_for_the_first_broken_rule_unless_exempted() {
        let baseline = Baseline {
            max_time_limit_days: Some(15),
            max_fee_fen: Some(0),
            required_channels: vec![Online],
        };
        let slow_and_costly = guide("310000", 20, 500, &["A"], &[Online]);
        assert_eq!(
            publication_refusal(&baseline, &slow_and_costly, false),
            Some(BaselineViolation::TimeLimitExceeded {
                limit: 15,
                actual: 20
            })
        );
        assert_eq!(publication_refusal(&baseline, &slow_and_costly, true), None);
        let fine = guide("310000", 15, 0, &["A"], &[Online]);
        assert_eq!(publication_refusal(&baseline, &fine, false), None);
    }
}
