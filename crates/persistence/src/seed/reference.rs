//! The reference facts in `data/reference/`: regions, zones, pilot provinces,
//! categories, the national standard's editions and real standard codes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::{Origin, RegionKind, StandardCode, StandardLevel, StandardStatus};
use sea_orm::{ConnectionTrait, Set};
use serde::Deserialize;

use super::{Seeding, first_revision, insert_missing};
use crate::StoreError;
use crate::entity::{
    category, national_edition, national_item, region, standard, zone, zone_member,
};
use crate::search::{self, Searched};

const REGIONS: &str = include_str!("../../../../data/reference/regions.csv");
const PILOTS: &str = include_str!("../../../../data/reference/pilot_provinces.csv");
const ZONES: &str = include_str!("../../../../data/reference/zones.csv");
const CATEGORIES: &str = include_str!("../../../../data/reference/categories.csv");
const EDITIONS: &str = include_str!("../../../../data/reference/national_editions.csv");
const ITEMS: &str = include_str!("../../../../data/reference/national_items_unverified.csv");
const STANDARDS: &str = include_str!("../../../../data/reference/standards.csv");

fn rows<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    text: &str,
) -> Result<Vec<T>, StoreError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|error| StoreError::Reference {
            file,
            message: error.to_string(),
        })
}

fn invalid(file: &'static str, message: impl ToString) -> StoreError {
    StoreError::Reference {
        file,
        message: message.to_string(),
    }
}

#[derive(Deserialize)]
struct RegionRow {
    code: String,
    name_zh: String,
    name_en: String,
    abbr_zh: String,
    abbr_pinyin: String,
    iso_3166_2: String,
    kind: String,
}

#[derive(Deserialize)]
struct PilotRow {
    code: String,
    pilot: String,
}

#[derive(Deserialize)]
struct ZoneRow {
    code: String,
    name_zh: String,
    name_en: String,
    members: String,
}

#[derive(Deserialize)]
struct CategoryRow {
    code: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct EditionRow {
    edition: i32,
    title_zh: String,
    items: i32,
    issued_by: String,
    note: String,
}

#[derive(Deserialize)]
struct ItemRow {
    category: String,
    area_zh: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct StandardRow {
    code: String,
    title_zh: String,
    title_en: String,
    level: String,
    note: String,
}

/// The national items named in the reference data, numbered in file order.
/// Their official numbers were not found, so the numbers are placeholders and
/// the rows are illustrative.
pub(super) fn national_items() -> Result<Vec<(i32, String, String)>, StoreError> {
    let items: Vec<ItemRow> = rows("national_items_unverified.csv", ITEMS)?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| Ok((item_number(index)?, item.name_zh, item.category)))
        .collect()
}

/// The number of the national item at `index` in file order, from 1; an
/// error rather than a wrapped number if the file ever outgrows the column.
fn item_number(index: usize) -> Result<i32, StoreError> {
    index
        .checked_add(1)
        .and_then(|number| i32::try_from(number).ok())
        .ok_or_else(|| {
            invalid(
                "national_items_unverified.csv",
                format!("item {index} is past the largest item number, {}", i32::MAX),
            )
        })
}

/// A date that follows `marker` in a free-text note, such as `in force 2024-09-20`.
fn date_after(note: &str, marker: &str) -> Option<NaiveDate> {
    let start = note.find(marker)? + marker.len();
    let text = note.get(start..start + 10)?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

pub(super) async fn load<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let reference = Seeding {
        origin: Origin::National.as_str(),
        illustrative: false,
        at: now,
    };
    let pilots: HashMap<String, String> = rows::<PilotRow>("pilot_provinces.csv", PILOTS)?
        .into_iter()
        .map(|row| (row.code, row.pilot))
        .collect();
    let mut regions = Vec::new();
    for row in rows::<RegionRow>("regions.csv", REGIONS)? {
        concord_domain::RegionCode::try_from(row.code.as_str())
            .map_err(|e| invalid("regions.csv", e))?;
        let kind = row
            .kind
            .parse::<RegionKind>()
            .map_err(|e| invalid("regions.csv", e))?;
        let pilot_note = pilots.get(&row.code).cloned();
        regions.push(first_revision!(
            region::ActiveModel {
                pilot: Set(pilot_note.is_some()),
                pilot_note: Set(pilot_note),
                code: Set(row.code),
                name_zh: Set(row.name_zh),
                name_en: Set(row.name_en),
                abbr_zh: Set(row.abbr_zh),
                abbr_pinyin: Set(row.abbr_pinyin),
                iso_3166_2: Set(row.iso_3166_2),
                kind: Set(kind.into()),
            },
            reference,
        ));
    }
    let mut inserted = insert_missing(conn, regions).await?;

    let mut zones = Vec::new();
    let mut members = Vec::new();
    for row in rows::<ZoneRow>("zones.csv", ZONES)? {
        concord_domain::ZoneCode::try_from(row.code.as_str())
            .map_err(|e| invalid("zones.csv", e))?;
        for member in row.members.split(';') {
            members.push(zone_member::ActiveModel {
                zone_code: Set(row.code.clone()),
                region_code: Set(member.trim().to_owned()),
            });
        }
        zones.push(first_revision!(
            zone::ActiveModel {
                code: Set(row.code),
                name_zh: Set(row.name_zh),
                name_en: Set(row.name_en),
            },
            reference,
        ));
    }
    inserted += insert_missing(conn, zones).await?;
    inserted += insert_missing(conn, members).await?;

    let categories = rows::<CategoryRow>("categories.csv", CATEGORIES)?
        .into_iter()
        .map(|row| {
            first_revision!(
                category::ActiveModel {
                    code: Set(row.code),
                    name_zh: Set(row.name_zh),
                    name_en: Set(row.name_en),
                },
                reference,
            )
        })
        .collect();
    inserted += insert_missing(conn, categories).await?;

    let editions: Vec<EditionRow> = rows("national_editions.csv", EDITIONS)?;
    let years: Vec<i32> = editions.iter().map(|e| e.edition).collect();
    let editions = editions
        .into_iter()
        .map(|row| {
            first_revision!(
                national_edition::ActiveModel {
                    supersedes: Set(years.iter().copied().filter(|y| *y < row.edition).max()),
                    edition: Set(row.edition),
                    title_zh: Set(row.title_zh),
                    item_count: Set(row.items),
                    issued_by: Set(row.issued_by),
                    note: Set(row.note),
                },
                reference,
            )
        })
        .collect();
    inserted += insert_missing(conn, editions).await?;

    let items: Vec<ItemRow> = rows("national_items_unverified.csv", ITEMS)?;
    let mut national_items = Vec::new();
    for year in &years {
        for (index, item) in items.iter().enumerate() {
            national_items.push(first_revision!(
                national_item::ActiveModel {
                    edition: Set(*year),
                    number: Set(item_number(index)?),
                    name_zh: Set(item.name_zh.clone()),
                    name_en: Set(item.name_en.clone()),
                    category_code: Set(item.category.clone()),
                    area_zh: Set(item.area_zh.clone()),
                    served_group: Set(String::new()),
                    served_groups: Set(None),
                    content: Set(String::new()),
                    baseline_standard: Set(String::new()),
                    funding_responsibility: Set(String::new()),
                    lead_department: Set(String::new()),
                    max_time_limit_days: Set(None),
                    max_fee_fen: Set(None),
                    required_channels: Set(None),
                },
                Seeding {
                    illustrative: true,
                    ..reference
                },
            ));
        }
    }
    inserted += insert_missing(conn, national_items).await?;

    let mut standards = Vec::new();
    for row in rows::<StandardRow>("standards.csv", STANDARDS)? {
        let code =
            StandardCode::try_from(row.code.as_str()).map_err(|e| invalid("standards.csv", e))?;
        let level: StandardLevel = row.level.parse().map_err(|e| invalid("standards.csv", e))?;
        if !code.fits_level(level) {
            return Err(invalid(
                "standards.csv",
                format!("`{code}` cannot be a {level} standard"),
            ));
        }
        let issuing_region = code.local_province();
        let origin = code.owner(level);
        let effective_on = date_after(&row.note, "in force ");
        standards.push(first_revision!(
            standard::ActiveModel {
                issued_on: Set(date_after(&row.note, "published ")),
                effective_on: Set(effective_on),
                review_on: Set(effective_on.and_then(concord_domain::default_review_on)),
                elevated_from: Set(None),
                code: Set(row.code),
                title_zh: Set(row.title_zh),
                title_en: Set(row.title_en),
                level: Set(level.into()),
                status: Set(StandardStatus::InForce.into()),
                issuing_region: Set(issuing_region.map(String::from)),
                issuing_zone: Set(None),
                supersedes: Set(None),
                note: Set(row.note),
            },
            Seeding {
                origin: origin.as_str(),
                ..reference
            },
        ));
    }
    let codes = super::codes(&standards, |s| &s.code);
    inserted += insert_missing(conn, standards).await?;
    search::reindex(conn, Searched::Standard, &codes).await?;
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_from_notes() {
        let note = "published 2024-08-28; in force 2024-09-20";
        assert_eq!(
            date_after(note, "in force "),
            NaiveDate::from_ymd_opt(2024, 9, 20)
        );
        assert_eq!(
            date_after(note, "published "),
            NaiveDate::from_ymd_opt(2024, 8, 28)
        );
        assert_eq!(date_after("cited by GB/T 33531-2017", "in force "), None);
    }

    #[test]
    fn every_reference_file_parses() {
        assert_eq!(rows::<RegionRow>("regions.csv", REGIONS).unwrap().len(), 33);
        assert_eq!(
            rows::<PilotRow>("pilot_provinces.csv", PILOTS)
                .unwrap()
                .len(),
            7
        );
        assert_eq!(rows::<ZoneRow>("zones.csv", ZONES).unwrap().len(), 4);
        assert_eq!(
            rows::<CategoryRow>("categories.csv", CATEGORIES)
                .unwrap()
                .len(),
            4
        );
        assert_eq!(national_items().unwrap().len(), 13);
        for row in rows::<StandardRow>("standards.csv", STANDARDS).unwrap() {
            assert!(
                StandardCode::try_from(row.code.as_str()).is_ok(),
                "{}",
                row.code
            );
        }
    }
}
