//! The life cycle of a standard.

use chrono::{Months, NaiveDate};

use crate::text::{NOTE_MAX, Names, optional_text, repeats};
use crate::{MatterCode, Provenance, ValidationError};
use crate::{RegionCode, StandardCode, StandardLevel, StandardStatus, ZoneCode};

/// A standard at any level, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    /// Its code, e.g. `GB/T 33531-2017`.
    pub code: StandardCode,
    /// Its Chinese title.
    pub title_zh: String,
    /// Its English title; empty where none is known.
    pub title_en: String,
    /// Where it sits in the standard system.
    pub level: StandardLevel,
    /// Draft, in force, superseded or withdrawn.
    pub status: StandardStatus,
    /// The region that issued it, for a local standard.
    pub issuing_region: Option<RegionCode>,
    /// The zone that issued it, for a regional collaborative standard.
    pub issuing_zone: Option<ZoneCode>,
    /// When it was published.
    pub issued_on: Option<NaiveDate>,
    /// When it came into force.
    pub effective_on: Option<NaiveDate>,
    /// The standard it replaces.
    pub supersedes: Option<StandardCode>,
    /// When it is due for review.
    pub review_on: Option<NaiveDate>,
    /// The local standard an accepted elevation raised it from.
    pub elevated_from: Option<StandardCode>,
    /// Notes: committee, citing standards, dates.
    pub note: String,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// A standard as it is written: created or revised by an administrator,
/// proposed by a zone, or loaded from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardDraft {
    pub code: StandardCode,
    pub title_zh: String,
    pub title_en: String,
    /// A level the code fits ([`StandardCode::fits_level`]).
    pub level: StandardLevel,
    pub status: StandardStatus,
    /// The issuing region; a local standard's defaults to the province its
    /// code names.
    pub issuing_region: Option<RegionCode>,
    pub issuing_zone: Option<ZoneCode>,
    pub issued_on: Option<NaiveDate>,
    pub effective_on: Option<NaiveDate>,
    pub supersedes: Option<StandardCode>,
    /// When the standard is due for review, when set explicitly; else five
    /// years after `effective_on` ([`default_review_on`]), kept while the
    /// standard does not change.
    pub review_on: Option<NaiveDate>,
    pub note: String,
    /// The matters the standard governs. `Some` sets the standard's links to
    /// exactly these; `None` leaves the stored links alone.
    pub matters: Option<Vec<MatterCode>>,
    /// True when the standard is not an official one.
    pub illustrative: bool,
}

impl StandardDraft {
    /// A draft of a standard that names only its code, Chinese title and
    /// level: no English title, issuer, dates, note or matters yet, not
    /// illustrative.
    pub fn new(code: StandardCode, title_zh: String, level: StandardLevel) -> Self {
        Self {
            code,
            title_zh,
            title_en: String::new(),
            level,
            status: StandardStatus::Draft,
            issuing_region: None,
            issuing_zone: None,
            issued_on: None,
            effective_on: None,
            supersedes: None,
            review_on: None,
            note: String::new(),
            matters: None,
            illustrative: false,
        }
    }

    /// Returns the draft with its texts trimmed and a local standard's
    /// issuing region filled in, or every rule it breaks.
    pub fn validated(mut self) -> Result<Self, Vec<ValidationError>> {
        if self.level == StandardLevel::Local && self.issuing_region.is_none() {
            self.issuing_region = self.code.local_province();
        }
        let mut errors = check_issuer(
            &self.code,
            self.level,
            self.issuing_region.as_ref(),
            self.issuing_zone.as_ref(),
        )
        .err()
        .unwrap_or_default();
        match Names::validated("title", &self.title_zh, &self.title_en) {
            Ok(titles) => (self.title_zh, self.title_en) = (titles.zh, titles.en),
            Err(mut found) => errors.append(&mut found),
        }
        match optional_text("note", &self.note, NOTE_MAX) {
            Ok(note) => self.note = note,
            Err(error) => errors.push(error),
        }
        if let (Some(issued), Some(effective)) = (self.issued_on, self.effective_on)
            && effective < issued
        {
            errors.push(ValidationError::new(
                "effectiveOn",
                format!(
                    "a standard cannot come into force ({effective}) before it is published ({issued})"
                ),
            ));
        }
        if let (Some(effective), Some(review)) = (self.effective_on, self.review_on)
            && review < effective
        {
            errors.push(ValidationError::new(
                "reviewOn",
                format!(
                    "a standard cannot be due for review ({review}) before it comes into force ({effective})"
                ),
            ));
        }
        if let Some(superseded) = &self.supersedes {
            errors.extend(check_supersession(&self.code, superseded).err());
        }
        if let Some(matters) = &self.matters {
            errors.extend(repeats("matters", matters));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Checks that a standard names another one as the standard it replaces.
pub fn check_supersession(
    code: &StandardCode,
    superseded: &StandardCode,
) -> Result<(), ValidationError> {
    if code == superseded {
        Err(ValidationError::new(
            "supersedes",
            "a standard cannot supersede itself",
        ))
    } else {
        Ok(())
    }
}

/// Whether a standard may move from `from` to `to`: a draft comes into
/// force; a standard in force is superseded or withdrawn; nothing else.
pub fn status_transition_allowed(from: StandardStatus, to: StandardStatus) -> bool {
    use StandardStatus::*;
    matches!(
        (from, to),
        (Draft, InForce) | (InForce, Superseded) | (InForce, Withdrawn)
    )
}

/// How long a standard stands before it is due for review, as is usual for
/// Chinese standards (GB/T 1.1 and the SAC's rules review a standard within
/// five years of it coming into force).
pub const REVIEW_AFTER_MONTHS: u32 = 60;

/// When a standard that comes into force on `effective_on` is due for
/// review by default: five years on (a 29 February comes due on 28
/// February). `None` only past the calendar's end.
pub fn default_review_on(effective_on: NaiveDate) -> Option<NaiveDate> {
    effective_on.checked_add_months(Months::new(REVIEW_AFTER_MONTHS))
}

/// Checks the code an administrator gives the standard an accepted
/// elevation creates: a code of the target `level` (national `GB/T …`,
/// industry a sector prefix such as `LD/T …`), not the local one's.
pub fn check_elevated_code(
    code: &StandardCode,
    level: StandardLevel,
    local: &StandardCode,
) -> Result<(), ValidationError> {
    if !matches!(level, StandardLevel::National | StandardLevel::Industry) {
        return Err(ValidationError::new(
            "code",
            format!("a standard is elevated to NATIONAL or INDUSTRY level, not {level}"),
        ));
    }
    if !code.fits_level(level) {
        let expected = match level {
            StandardLevel::National => "a national code such as `GB/T 33531-2017`",
            _ => "an industry code with a sector prefix such as `LD/T 01-2020`",
        };
        return Err(ValidationError::new(
            "code",
            format!("`{code}` cannot be the code of a {level} standard; give {expected}"),
        ));
    }
    if code == local {
        return Err(ValidationError::new(
            "code",
            "the elevated standard needs a code of its own",
        ));
    }
    Ok(())
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
    fn an_elevated_code_fits_the_target_level() {
        let code = |c: &str| StandardCode::try_from(c).unwrap();
        let local = code("DB33/T 2030-2018");
        assert!(
            check_elevated_code(&code("GB/T 45001-2026"), StandardLevel::National, &local).is_ok()
        );
        assert!(
            check_elevated_code(&code("LD/T 99-2026"), StandardLevel::Industry, &local).is_ok()
        );
        let wrong = check_elevated_code(&code("LD/T 99-2026"), StandardLevel::National, &local)
            .unwrap_err();
        assert_eq!(wrong.field, "code");
        assert!(wrong.message.contains("GB/T"), "{}", wrong.message);
        assert!(
            check_elevated_code(&code("GB/T 45001-2026"), StandardLevel::Industry, &local).is_err()
        );
        assert!(check_elevated_code(&local, StandardLevel::National, &local).is_err());
        assert!(
            check_elevated_code(&code("GB/T 45001-2026"), StandardLevel::Local, &local).is_err()
        );
    }

    #[test]
    fn review_falls_due_five_years_after_coming_into_force() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(default_review_on(day(2018, 7, 1)), Some(day(2023, 7, 1)));
        assert_eq!(default_review_on(day(2024, 2, 29)), Some(day(2029, 2, 28)));
    }

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

    fn draft(code: &str, level: StandardLevel) -> StandardDraft {
        let code = StandardCode::try_from(code).unwrap();
        StandardDraft::new(code, " 社会保障卡服务规范 ".into(), level)
    }

    #[test]
    fn a_local_draft_is_issued_by_its_codes_province_and_trimmed() {
        let valid = draft("DB33/T 2030-2018", StandardLevel::Local)
            .validated()
            .unwrap();
        assert_eq!(valid.issuing_region.unwrap().as_str(), "330000");
        assert_eq!(valid.title_zh, "社会保障卡服务规范");
    }

    #[test]
    fn a_draft_reports_every_rule_it_breaks() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let matter = |c: &str| MatterCode::try_from(c).unwrap();
        let broken = StandardDraft {
            title_zh: "  ".into(),
            title_en: "E".repeat(crate::NAME_MAX + 1),
            issued_on: day(2020, 5, 1),
            effective_on: day(2020, 4, 1),
            review_on: day(2020, 3, 1),
            supersedes: Some(StandardCode::try_from("GB/T 1-2020").unwrap()),
            note: "社保\0".into(),
            matters: Some(vec![matter("SI-CARD"), matter("SI-CARD")]),
            ..draft("GB/T 1-2020", StandardLevel::Local)
        };
        assert_eq!(
            crate::text::refused_fields(broken.validated()),
            [
                "level",
                "titleZh",
                "titleEn",
                "note",
                "effectiveOn",
                "reviewOn",
                "supersedes",
                "matters[1]"
            ]
        );
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
