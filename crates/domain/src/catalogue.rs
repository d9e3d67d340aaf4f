//! The catalogue's reference records: service categories, and the editions
//! of the National Basic Public Service Standards with their items.

use crate::alignment::Baseline;
use crate::codes::{CategoryCode, MatterCode, StandardCode};
use crate::guide::check_time_limit;
use crate::national::{self, ServedGroup};
use crate::provenance::Provenance;
use crate::text::{
    LONG_TEXT_MAX, Names, ValidationError, distinct_channels, optional_text, repeats,
};

/// A service area of HR&SS, such as social insurance.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Its code, e.g. `SOCIAL_INSURANCE`.
    pub code: CategoryCode,
    /// Its Chinese name, e.g. 社会保险.
    pub name_zh: String,
    /// Its English name, e.g. Social insurance.
    pub name_en: String,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// An edition of the National Basic Public Service Standards.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalEdition {
    /// The edition's year, e.g. 2021.
    pub edition: i32,
    /// The official Chinese title.
    pub title_zh: String,
    /// How many items the edition has across all areas.
    pub item_count: i32,
    /// The issuing departments.
    pub issued_by: String,
    /// Notes on the edition.
    pub note: String,
    /// The year of the edition this one replaces.
    pub supersedes: Option<i32>,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// An item of the national standard. Its five texts from the official
/// standard are `None` where that text has not been loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalItem {
    /// The year of the edition it belongs to.
    pub edition: i32,
    /// Its number within its edition.
    pub number: i32,
    /// Its Chinese name.
    pub name_zh: String,
    /// Its English name.
    pub name_en: String,
    /// The HR&SS category it falls under.
    pub category: CategoryCode,
    /// The area of the national standard, e.g. 劳有所得.
    pub area_zh: String,
    /// Who is served (服务对象), in the words of the official text.
    pub served_group: Option<String>,
    /// The groups it serves, from the catalogue of groups; empty where
    /// none are listed.
    pub served_groups: Vec<ServedGroup>,
    /// What is provided (服务内容).
    pub content: Option<String>,
    /// The baseline standard no locality may fall below (服务标准), as text.
    pub baseline_standard: Option<String>,
    /// Who pays (支出责任).
    pub funding_responsibility: Option<String>,
    /// The lead department (牵头负责单位).
    pub lead_department: Option<String>,
    /// The baseline as rules a guide is checked against.
    pub baseline: Baseline,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// A service matter of the HR&SS matter list (事项清单): what a citizen
/// asks a region's bureau for, such as transferring a pension.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMatter {
    /// Its code, e.g. `SI-PENSION-TRANSFER`.
    pub code: MatterCode,
    /// Its Chinese name.
    pub name_zh: String,
    /// Its English name.
    pub name_en: String,
    /// The HR&SS category it falls under.
    pub category: CategoryCode,
    /// The national item it implements, as (edition, number).
    pub national_item: Option<(i32, i32)>,
    /// The groups it serves when they differ from its national item's;
    /// `None` means "as its item".
    pub served_groups: Option<Vec<ServedGroup>>,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// A service matter as it is written: saved by an administrator or loaded
/// from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterDraft {
    pub code: MatterCode,
    pub name_zh: String,
    pub name_en: String,
    pub category: CategoryCode,
    /// The national item the matter implements: edition and number
    /// ([`national_item_of`] reads them from two fields).
    pub national_item: Option<(i32, i32)>,
    /// The standards the matter follows. `Some` sets the matter's links to
    /// exactly these; `None` leaves the stored links alone.
    pub standards: Option<Vec<StandardCode>>,
    /// The groups the matter serves where they differ from its national
    /// item's; `None` takes the item's.
    pub served_groups: Option<Vec<ServedGroup>>,
    /// True when the matter is not an official one.
    pub illustrative: bool,
}

impl MatterDraft {
    /// Returns the draft with its names trimmed, or every rule it breaks.
    pub fn validated(mut self) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        match Names::validated("name", &self.name_zh, &self.name_en) {
            Ok(names) => (self.name_zh, self.name_en) = (names.zh, names.en),
            Err(mut found) => errors.append(&mut found),
        }
        if let Some(standards) = &self.standards {
            errors.extend(repeats("standards", standards));
        }
        if let Some(groups) = &self.served_groups {
            errors.extend(repeats("servedGroups", groups));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// The national item a matter names with two fields, its edition and its
/// number: both or neither.
pub fn national_item_of(
    edition: Option<i32>,
    number: Option<i32>,
) -> Result<Option<(i32, i32)>, ValidationError> {
    match (edition, number) {
        (Some(edition), Some(number)) => Ok(Some((edition, number))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ValidationError::new(
            "nationalNumber",
            "is required with the national edition: give both or neither",
        )),
        (None, Some(_)) => Err(ValidationError::new(
            "nationalEdition",
            "is required with the national number: give both or neither",
        )),
    }
}

/// An item of the national standard as it is written, with its five texts
/// and its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalItemDraft {
    /// Within [`national::EDITIONS`].
    pub edition: i32,
    /// Within [`national::ITEM_NUMBERS`].
    pub number: i32,
    pub name_zh: String,
    pub name_en: String,
    pub category: CategoryCode,
    pub area_zh: String,
    /// The official wording of who is served (服务对象).
    pub served_group: String,
    /// The same, as groups of the catalogue, without repeats.
    pub served_groups: Vec<ServedGroup>,
    pub content: String,
    pub baseline_standard: String,
    pub funding_responsibility: String,
    pub lead_department: String,
    /// Its required channels are kept in their canonical order.
    pub baseline: Baseline,
    /// True when the text is not the official one.
    pub illustrative: bool,
}

impl NationalItemDraft {
    /// Returns the draft with its texts trimmed and its required channels
    /// in order, or every rule it breaks.
    pub fn validated(mut self) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let numbers = [
            ("edition", self.edition, national::EDITIONS),
            ("number", self.number, national::ITEM_NUMBERS),
        ];
        for (field, value, range) in numbers {
            if !range.contains(&value) {
                errors.push(ValidationError::new(
                    field,
                    format!("must be between {} and {}", range.start(), range.end()),
                ));
            }
        }
        match Names::validated("name", &self.name_zh, &self.name_en) {
            Ok(names) => (self.name_zh, self.name_en) = (names.zh, names.en),
            Err(mut found) => errors.append(&mut found),
        }
        for (field, text) in [
            ("areaZh", &mut self.area_zh),
            ("servedGroup", &mut self.served_group),
            ("content", &mut self.content),
            ("baselineStandard", &mut self.baseline_standard),
            ("fundingResponsibility", &mut self.funding_responsibility),
            ("leadDepartment", &mut self.lead_department),
        ] {
            match optional_text(field, text, LONG_TEXT_MAX) {
                Ok(trimmed) => *text = trimmed,
                Err(error) => errors.push(error),
            }
        }
        errors.extend(repeats("servedGroups", &self.served_groups));
        if let Some(days) = self.baseline.max_time_limit_days {
            errors.extend(check_time_limit("maxTimeLimitDays", days).err());
        }
        match distinct_channels("requiredChannels", &self.baseline.required_channels) {
            Ok(channels) => self.baseline.required_channels = channels,
            Err(error) => errors.push(error),
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;
    use crate::text::refused_fields;

    fn item() -> NationalItemDraft {
        NationalItemDraft {
            edition: 2023,
            number: 33,
            name_zh: " 社会保障卡服务 ".into(),
            name_en: String::new(),
            category: CategoryCode::try_from("SOCIAL_INSURANCE").unwrap(),
            area_zh: " 劳有所得 ".into(),
            served_group: String::new(),
            served_groups: vec![],
            content: String::new(),
            baseline_standard: String::new(),
            funding_responsibility: String::new(),
            lead_department: String::new(),
            baseline: Baseline {
                max_time_limit_days: Some(20),
                max_fee_fen: None,
                required_channels: vec![Channel::Online, Channel::Counter],
            },
            illustrative: false,
        }
    }

    #[test]
    fn a_national_item_is_trimmed_and_its_channels_ordered() {
        let valid = item().validated().unwrap();
        assert_eq!(
            (valid.name_zh.as_str(), valid.area_zh.as_str()),
            ("社会保障卡服务", "劳有所得")
        );
        assert_eq!(
            valid.baseline.required_channels,
            [Channel::Counter, Channel::Online]
        );
    }

    #[test]
    fn a_national_item_reports_every_rule_it_breaks() {
        let mut broken = item();
        broken.edition = 1999;
        broken.number = 0;
        broken.content = "字".repeat(LONG_TEXT_MAX + 1);
        broken.lead_department = "人社\0".into();
        broken.served_groups = vec![ServedGroup::Workers, ServedGroup::Workers];
        broken.baseline.max_time_limit_days = Some(crate::guide::MAX_TIME_LIMIT_DAYS + 1);
        broken.baseline.required_channels =
            vec![Channel::Online, Channel::Counter, Channel::Online];
        assert_eq!(
            refused_fields(broken.validated()),
            [
                "edition",
                "number",
                "content",
                "leadDepartment",
                "servedGroups[1]",
                "maxTimeLimitDays",
                "requiredChannels"
            ]
        );
    }

    #[test]
    fn a_matter_lists_each_standard_and_group_once() {
        let standard = |c: &str| StandardCode::try_from(c).unwrap();
        let draft = MatterDraft {
            code: MatterCode::try_from("SI-CARD").unwrap(),
            name_zh: "社保卡申领".into(),
            name_en: "x".repeat(crate::NAME_MAX + 1),
            category: CategoryCode::try_from("SOCIAL_INSURANCE").unwrap(),
            national_item: None,
            standards: Some(vec![standard("GB/T 1-2020"), standard("GB/T 1-2020")]),
            served_groups: Some(vec![ServedGroup::Workers, ServedGroup::Workers]),
            illustrative: false,
        };
        assert_eq!(
            refused_fields(draft.validated()),
            ["nameEn", "standards[1]", "servedGroups[1]"]
        );
    }

    #[test]
    fn a_national_item_is_named_by_both_its_fields_or_neither() {
        assert_eq!(national_item_of(Some(2023), Some(3)), Ok(Some((2023, 3))));
        assert_eq!(national_item_of(None, None), Ok(None));
        assert_eq!(
            national_item_of(Some(2023), None).unwrap_err().field,
            "nationalNumber"
        );
        assert_eq!(
            national_item_of(None, Some(3)).unwrap_err().field,
            "nationalEdition"
        );
    }
}
