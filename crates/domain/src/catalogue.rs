//! The catalogue's reference records: service categories, and the editions
//! of the National Basic Public Service Standards with their items.

use crate::alignment::Baseline;
use crate::codes::{CategoryCode, MatterCode};
use crate::national::ServedGroup;
use crate::provenance::Provenance;

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
