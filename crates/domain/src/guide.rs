//! Service guides (服务指南) and operating procedures (操作规程): what a
//! locality publishes for each matter, and the rules an entry must satisfy.

use chrono::{DateTime, Utc};

use crate::text::{NAME_MAX, NOTE_MAX, distinct_channels, optional_text, required_text};
use crate::{
    Channel, Fee, GuideStatus, GuideValues, MatterCode, Provenance, RegionCode, ValidationError,
};

/// Longest time limit a guide may state: a year of working days.
pub const MAX_TIME_LIMIT_DAYS: i32 = 250;
/// Most materials a guide may ask for.
pub const MAX_MATERIALS: usize = 30;
/// Most steps an operating procedure may have.
pub const MAX_STEPS: usize = 30;

/// Checks a time limit a guide states, or a baseline or target caps one at:
/// at least a working day, at most [`MAX_TIME_LIMIT_DAYS`].
pub fn check_time_limit(field: &str, days: i32) -> Result<(), ValidationError> {
    if (1..=MAX_TIME_LIMIT_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be between 1 and {MAX_TIME_LIMIT_DAYS} working days"),
        ))
    }
}

/// A region's service guide (服务指南) for one matter, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceGuide {
    /// The region that publishes it; with the matter, its key.
    pub region: RegionCode,
    /// The matter it is for.
    pub matter: MatterCode,
    /// What it says: time limit, fee, materials, channels, legal basis
    /// and guarantee level, as they were validated when it was saved.
    pub content: GuideDraft,
    /// Draft or published.
    pub status: GuideStatus,
    /// When it was last published.
    pub published_at: Option<DateTime<Utc>>,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// A region's operating procedure (操作规程) for one matter, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatingProcedure {
    /// The region that publishes it; with the matter, its key.
    pub region: RegionCode,
    /// The matter it is for.
    pub matter: MatterCode,
    /// Its steps, in order.
    pub steps: Vec<ProcedureStep>,
    /// Draft or published, as a guide.
    pub status: GuideStatus,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

impl ServiceGuide {
    /// The values alignment compares and a baseline checks.
    pub fn values(&self) -> GuideValues {
        GuideValues::from_draft(&self.region, &self.content)
    }
}

impl OperatingProcedure {
    /// The steps' time limits added up, in working days.
    pub fn total_time_limit_days(&self) -> i32 {
        self.steps.iter().map(|step| step.time_limit_days).sum()
    }
}

/// The fields of a service guide, before they are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct GuideDraft {
    pub time_limit_days: i32,
    pub fee: Fee,
    pub materials: Vec<String>,
    pub channels: Vec<Channel>,
    pub legal_basis: String,
    pub guarantee_level: Option<String>,
}

impl GuideDraft {
    /// Returns the draft with its texts trimmed, or every rule it breaks.
    pub fn validated(self) -> Result<Self, Vec<ValidationError>> {
        let mut errors: Vec<ValidationError> =
            check_time_limit("timeLimitDays", self.time_limit_days)
                .err()
                .into_iter()
                .collect();
        let mut materials = Vec::with_capacity(self.materials.len());
        if self.materials.len() > MAX_MATERIALS {
            errors.push(ValidationError::new(
                "materials",
                format!("at most {MAX_MATERIALS} materials"),
            ));
        }
        for (index, material) in self.materials.iter().enumerate() {
            match required_text(&format!("materials[{index}]"), material, NAME_MAX) {
                Ok(text) if materials.contains(&text) => errors.push(ValidationError::new(
                    format!("materials[{index}]"),
                    format!("`{text}` is listed twice"),
                )),
                Ok(text) => materials.push(text),
                Err(error) => errors.push(error),
            }
        }
        if self.channels.is_empty() {
            errors.push(ValidationError::new(
                "channels",
                "at least one channel is required",
            ));
        }
        let channels = distinct_channels("channels", &self.channels).unwrap_or_else(|error| {
            errors.push(error);
            Vec::new()
        });
        let legal_basis = match optional_text("legalBasis", &self.legal_basis, NOTE_MAX) {
            Ok(legal_basis) => legal_basis,
            Err(error) => {
                errors.push(error);
                String::new()
            }
        };
        let guarantee_level = match self.guarantee_level.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(level) => match required_text("guaranteeLevel", level, NAME_MAX) {
                Ok(level) => Some(level),
                Err(error) => {
                    errors.push(error);
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Self {
                materials,
                channels,
                legal_basis,
                guarantee_level,
                ..self
            })
        } else {
            Err(errors)
        }
    }
}

/// One step of an operating procedure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcedureStep {
    pub name: String,
    pub actor: String,
    pub time_limit_days: i32,
}

/// Checks an ordered list of steps: at least one, each named with an actor,
/// and their time limits adding up to no more than the guide's.
pub fn validate_steps(
    steps: &[ProcedureStep],
    guide_time_limit_days: Option<i32>,
) -> Result<Vec<ProcedureStep>, Vec<ValidationError>> {
    let mut errors = Vec::new();
    if steps.is_empty() {
        errors.push(ValidationError::new(
            "steps",
            "at least one step is required",
        ));
    }
    if steps.len() > MAX_STEPS {
        errors.push(ValidationError::new(
            "steps",
            format!("at most {MAX_STEPS} steps"),
        ));
    }
    let mut clean = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let name = required_text(&format!("steps[{index}].name"), &step.name, NAME_MAX);
        let actor = required_text(&format!("steps[{index}].actor"), &step.actor, NAME_MAX);
        if !(0..=MAX_TIME_LIMIT_DAYS).contains(&step.time_limit_days) {
            errors.push(ValidationError::new(
                format!("steps[{index}].timeLimitDays"),
                format!("must be between 0 and {MAX_TIME_LIMIT_DAYS} working days"),
            ));
        }
        match (name, actor) {
            (Ok(name), Ok(actor)) => clean.push(ProcedureStep {
                name,
                actor,
                time_limit_days: step.time_limit_days,
            }),
            (name, actor) => errors.extend(name.err().into_iter().chain(actor.err())),
        }
    }
    // Summed only once every step is in range: unchecked, a few steps near
    // `i32::MAX` overflow the sum.
    if let Some(limit) = guide_time_limit_days
        && errors.is_empty()
    {
        let total: i32 = steps.iter().map(|s| s.time_limit_days).sum();
        if total > limit {
            errors.push(ValidationError::new(
                "steps",
                format!("the steps take {total} working days, more than the guide's {limit}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::refused_fields;

    fn draft() -> GuideDraft {
        GuideDraft {
            time_limit_days: 10,
            fee: Fee::FREE,
            materials: vec![" 身份证 ".into(), "申请表".into()],
            channels: vec![Channel::Online, Channel::Counter],
            legal_basis: "《社会保险法》".into(),
            guarantee_level: Some("  ".into()),
        }
    }

    #[test]
    fn a_valid_draft_is_normalised() {
        let clean = draft().validated().unwrap();
        assert_eq!(clean.materials, vec!["身份证", "申请表"]);
        assert_eq!(clean.channels, vec![Channel::Counter, Channel::Online]);
        assert_eq!(clean.guarantee_level, None);
    }

    #[test]
    fn every_broken_rule_is_named() {
        let broken = GuideDraft {
            time_limit_days: 0,
            materials: vec!["身份证".into(), "".into(), "身份证".into()],
            channels: vec![],
            ..draft()
        };
        let fields = refused_fields(broken.validated());
        assert_eq!(
            fields,
            ["timeLimitDays", "materials[1]", "materials[2]", "channels"]
        );
    }

    #[test]
    fn duplicate_channels_are_refused() {
        let twice = GuideDraft {
            channels: vec![Channel::Online, Channel::Online],
            ..draft()
        };
        assert_eq!(twice.validated().unwrap_err()[0].field, "channels");
    }

    #[test]
    fn steps_must_fit_the_guide() {
        let step = |days| ProcedureStep {
            name: "受理".into(),
            actor: "窗口".into(),
            time_limit_days: days,
        };
        assert!(validate_steps(&[step(1), step(2)], Some(3)).is_ok());
        let over = validate_steps(&[step(2), step(2)], Some(3)).unwrap_err();
        assert!(over[0].message.contains("4 working days"));
        assert_eq!(validate_steps(&[], None).unwrap_err()[0].field, "steps");
        let unnamed = ProcedureStep {
            name: " ".into(),
            ..step(1)
        };
        assert_eq!(
            validate_steps(&[unnamed], None).unwrap_err()[0].field,
            "steps[0].name"
        );
    }

    /// Found by fuzzing the import: the time limits were summed before they
    /// were checked, and two steps near `i32::MAX` overflowed the sum.
    #[test]
    fn steps_out_of_range_are_refused_without_overflow() {
        let step = |days| ProcedureStep {
            name: "受理".into(),
            actor: "窗口".into(),
            time_limit_days: days,
        };
        for limit in [None, Some(MAX_TIME_LIMIT_DAYS)] {
            let errors =
                validate_steps(&[step(i32::MAX), step(1), step(i32::MAX)], limit).unwrap_err();
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["steps[0].timeLimitDays", "steps[2].timeLimitDays"]);
        }
    }
}
