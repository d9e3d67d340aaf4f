//! Regions and zones as the catalogue describes them: the places guides and
//! standards belong to, read once from storage and trusted after.

use crate::codes::{RegionCode, ZoneCode};
use crate::enums::RegionKind;
use crate::provenance::Provenance;

/// A provincial-level division of China (GB/T 2260).
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Its GB/T 2260 code, e.g. `330000`.
    pub code: RegionCode,
    /// Its Chinese name, e.g. 浙江省.
    pub name_zh: String,
    /// Its English name, e.g. Zhejiang.
    pub name_en: String,
    /// Its one-character abbreviation, e.g. 浙.
    pub abbr_zh: String,
    /// The pinyin of the abbreviation, e.g. Zhe.
    pub abbr_pinyin: String,
    /// Its ISO 3166-2 code, e.g. `CN-ZJ`.
    pub iso_3166_2: String,
    /// Province, municipality, autonomous region or SAR.
    pub kind: RegionKind,
    /// Whether it took part in the 2021–2022 HR&SS standardization pilot.
    pub pilot: bool,
    /// What the pilot was, when it took part.
    pub pilot_note: Option<String>,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

/// A regional collaboration zone, such as the Yangtze River Delta.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Its code, e.g. `YRD`.
    pub code: ZoneCode,
    /// Its Chinese name, e.g. 长三角.
    pub name_zh: String,
    /// Its English name, e.g. Yangtze River Delta.
    pub name_en: String,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}
