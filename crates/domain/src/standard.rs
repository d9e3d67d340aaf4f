//! The life cycle of a standard.

use crate::ValidationError;
use crate::{RegionCode, StandardCode, StandardLevel, StandardStatus, ZoneCode};

/// Whether a standard may move from `from` to `to`: a draft comes into
/// force; a standard in force is superseded or withdrawn; nothing else.
pub fn status_transition_allowed(from: StandardStatus, to: StandardStatus) -> bool {
    use StandardStatus::*;
    matches!(
        (from, to),
        (Draft, InForce) | (InForce, Superseded) | (InForce, Withdrawn)
    )
}

/// Checks that a standard's code, level and issuer agree: the code's prefix
/// fits the level; a local standard is issued by the province its `DB` code
/// names; only a regional standard has an issuing zone, and it must have one.
pub fn check_issuer(
    code: &StandardCode,
    level: StandardLevel,
    issuing_region: Option<&RegionCode>,
    issuing_zone: Option<&ZoneCode>,
) -> Result<(), Vec<ValidationError>> {
    let mut errors = Vec::new();
    if !code.fits_level(level) {
        errors.push(ValidationError::new(
            "level",
            format!(
                "`{code}` cannot be the code of a {level} standard (national standards are GB, industry ones a sector prefix such as LD, local and regional ones DB.., group ones T/.., internal ones Q/..)"
            ),
        ));
    }
    if level == StandardLevel::Local {
        match (code.local_province(), issuing_region) {
            (Some(province), Some(region)) if region.province() != province => {
                errors.push(ValidationError::new(
                    "issuingRegion",
                    format!("`{code}` is a standard of {province}, not of {region}"),
                ));
            }
            _ => {}
        }
    }
    match (level, issuing_zone) {
        (StandardLevel::Regional, None) => errors.push(ValidationError::new(
            "issuingZone",
            "a regional standard needs the zone that issues it",
        )),
        (StandardLevel::Regional, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(ValidationError::new(
            "issuingZone",
            "only a regional standard has an issuing zone",
        )),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_agree_with_code_and_level() {
        let code = |c: &str| StandardCode::try_from(c).unwrap();
        let zj = RegionCode::try_from("330000").unwrap();
        let js = RegionCode::try_from("320000").unwrap();
        let yrd = ZoneCode::try_from("YRD").unwrap();
        assert!(
            check_issuer(
                &code("DB33/T 2030-2018"),
                StandardLevel::Local,
                Some(&zj),
                None
            )
            .is_ok()
        );
        let wrong = check_issuer(
            &code("DB33/T 2030-2018"),
            StandardLevel::Local,
            Some(&js),
            None,
        )
        .unwrap_err();
        assert_eq!(wrong[0].field, "issuingRegion");
        let national = check_issuer(
            &code("DB33/T 2030-2018"),
            StandardLevel::National,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(national[0].field, "level");
        assert!(
            check_issuer(
                &code("DB31/T 310001-2020"),
                StandardLevel::Regional,
                None,
                Some(&yrd)
            )
            .is_ok()
        );
        let zoneless = check_issuer(
            &code("DB31/T 310001-2020"),
            StandardLevel::Regional,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(zoneless[0].field, "issuingZone");
        let zoned = check_issuer(
            &code("GB/T 1-2020"),
            StandardLevel::National,
            None,
            Some(&yrd),
        )
        .unwrap_err();
        assert_eq!(zoned[0].field, "issuingZone");
    }

    #[test]
    fn only_forward_transitions_are_legal() {
        let mut legal = Vec::new();
        for from in StandardStatus::ALL {
            for to in StandardStatus::ALL {
                if status_transition_allowed(*from, *to) {
                    legal.push((from.as_str(), to.as_str()));
                }
            }
        }
        assert_eq!(
            legal,
            [
                ("DRAFT", "IN_FORCE"),
                ("IN_FORCE", "SUPERSEDED"),
                ("IN_FORCE", "WITHDRAWN")
            ]
        );
    }
}
