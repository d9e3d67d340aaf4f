//! A guide against a collaborative standard's targets.

use super::{GuideValues, missing_channels};
use crate::Channel;
use crate::guide::check_time_limit;
use crate::text::{NAME_MAX, ValidationError, distinct_channels, repeats, required_text};

/// A collaborative standard's targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    /// Longest time limit a member's guide may state, in working days.
    pub max_time_limit_days: Option<i32>,
    /// The unified materials list: a guide may ask for nothing outside it.
    pub materials: Option<Vec<String>>,
    /// Channels every member's guide must offer.
    pub required_channels: Vec<Channel>,
}

impl Targets {
    /// Returns the targets with their materials trimmed and their channels
    /// in order, or every rule they break: at least one target is set.
    pub fn validated(mut self) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        if let Some(days) = self.max_time_limit_days {
            errors.extend(check_time_limit("maxTimeLimitDays", days).err());
        }
        if let Some(materials) = &mut self.materials {
            for (index, material) in materials.iter_mut().enumerate() {
                match required_text(&format!("materials[{index}]"), material, NAME_MAX) {
                    Ok(trimmed) => *material = trimmed,
                    Err(error) => errors.push(error),
                }
            }
            errors.extend(repeats("materials", materials));
        }
        match distinct_channels("requiredChannels", &self.required_channels) {
            Ok(channels) => self.required_channels = channels,
            Err(error) => errors.push(error),
        }
        if self.max_time_limit_days.is_none()
            && self.materials.is_none()
            && self.required_channels.is_empty()
        {
            errors.push(ValidationError::new(
                "maxTimeLimitDays",
                "set at least one target: maxTimeLimitDays, materials or requiredChannels",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Whether a guide meets one target, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    /// `TIME_LIMIT`, `MATERIALS` or `CHANNELS`.
    pub target: &'static str,
    /// Whether the guide meets the target.
    pub met: bool,
    /// A sentence with the values compared, naming what is extra or missing.
    pub detail: String,
}

/// Checks one guide against targets: time limit ≤ max; asks for no material
/// outside the unified list (detail names the extra ones); offers every
/// required channel (detail names the missing ones). Only targets that are
/// set are checked, in the order time limit, materials, channels.
pub fn check_targets(targets: &Targets, guide: &GuideValues) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    if let Some(limit) = targets.max_time_limit_days {
        let actual = guide.time_limit_days;
        let met = actual <= limit;
        let verdict = if met { "is within" } else { "exceeds" };
        checks.push(TargetCheck {
            target: "TIME_LIMIT",
            met,
            detail: format!("time limit {actual} working days {verdict} the target of {limit}"),
        });
    }
    if let Some(unified) = &targets.materials {
        let mut extra: Vec<&str> = Vec::new();
        for material in &guide.materials {
            if !unified.contains(material) && !extra.contains(&material.as_str()) {
                extra.push(material);
            }
        }
        checks.push(TargetCheck {
            target: "MATERIALS",
            met: extra.is_empty(),
            detail: if extra.is_empty() {
                "asks only for materials on the unified list".to_owned()
            } else {
                format!(
                    "asks for materials outside the unified list: {}",
                    extra.join(", ")
                )
            },
        });
    }
    if !targets.required_channels.is_empty() {
        let missing = missing_channels(&targets.required_channels, &guide.channels);
        checks.push(TargetCheck {
            target: "CHANNELS",
            met: missing.is_empty(),
            detail: if missing.is_empty() {
                "offers every required channel".to_owned()
            } else {
                let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
                format!("does not offer required channels: {}", names.join(", "))
            },
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel::{Counter, CrossProvince, Online};
    use crate::alignment::testing::*;

    #[test]
    fn no_targets_check_nothing() {
        assert_eq!(check_targets(&Targets::default(), &plain("310000")), []);
    }

    #[test]
    fn a_guide_meeting_every_target() {
        let targets = Targets {
            max_time_limit_days: Some(10),
            materials: Some(vec!["A".into(), "B".into()]),
            required_channels: vec![Counter],
        };
        assert_eq!(
            check_targets(
                &targets,
                &guide("310000", 10, 0, &["A"], &[Counter, Online])
            ),
            [
                TargetCheck {
                    target: "TIME_LIMIT",
                    met: true,
                    detail: "time limit 10 working days is within the target of 10".into(),
                },
                TargetCheck {
                    target: "MATERIALS",
                    met: true,
                    detail: "asks only for materials on the unified list".into(),
                },
                TargetCheck {
                    target: "CHANNELS",
                    met: true,
                    detail: "offers every required channel".into(),
                },
            ]
        );
    }

    #[test]
    fn a_guide_missing_every_target_names_what_is_wrong() {
        let targets = Targets {
            max_time_limit_days: Some(10),
            materials: Some(vec!["A".into()]),
            required_channels: vec![CrossProvince, Online, Counter],
        };
        let checks = check_targets(
            &targets,
            &guide("310000", 11, 0, &["C", "A", "B", "C"], &[Counter]),
        );
        assert_eq!(
            checks,
            [
                TargetCheck {
                    target: "TIME_LIMIT",
                    met: false,
                    detail: "time limit 11 working days exceeds the target of 10".into(),
                },
                TargetCheck {
                    target: "MATERIALS",
                    met: false,
                    detail: "asks for materials outside the unified list: C, B".into(),
                },
                TargetCheck {
                    target: "CHANNELS",
                    met: false,
                    detail: "does not offer required channels: ONLINE, CROSS_PROVINCE".into(),
                },
            ]
        );
    }

    #[test]
    fn only_set_targets_are_checked() {
        let targets = Targets {
            materials: Some(vec![]),
            ..Targets::default()
        };
        let checks = check_targets(&targets, &plain("310000"));
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].target, "MATERIALS");
        assert!(!checks[0].met);
    }
}
