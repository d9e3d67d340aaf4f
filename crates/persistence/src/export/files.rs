//! Matters, standards, guides and procedures written in exactly the format
//! `concord import` reads (`docs/import.md`), so that exporting, importing
//! into a fresh node and exporting again gives the same bytes.
//!
//! Every field is written, in the order `docs/import.md` lists it; records
//! are sorted by key and links by code. A matter's links to standards are
//! written on the standards' side only (`matters`): a standard may be new in
//! the file, and a CSV matters file is imported before the standards file.

use std::collections::BTreeMap;

use concord_domain::{Channel, GuideStatus, ServedGroup, StandardLevel, StandardStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use crate::StoreError;
use crate::entity::{
    operating_procedure, service_guide, service_matter, standard, standard_matter,
};
use crate::import::{Format, ImportKind};

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The kinds to write; a CSV file holds exactly one.
    pub kinds: Vec<ImportKind>,
    /// Only this region's guides and procedures; matters and standards,
    /// the catalogue they refer to, are always whole.
    pub region: Option<String>,
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a CSV file holds one kind of record: say which with --kind")]
    CsvKinds,
    #[error(
        "{0}: a CSV list is `;`-separated, so an item that holds `;` cannot be written; export as JSON"
    )]
    Separator(String),
    #[error(
        "national items are not exported: they are the ministry's text, loaded from its files with `concord import`"
    )]
    NationalItems,
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Matter {
    code: String,
    name_zh: String,
    name_en: String,
    category: String,
    national_edition: Option<i32>,
    national_number: Option<i32>,
    /// `None` where the matter takes its national item's groups.
    served_groups: Option<Vec<ServedGroup>>,
    illustrative: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Standard {
    code: String,
    title_zh: String,
    title_en: String,
    level: StandardLevel,
    status: StandardStatus,
    issuing_region: Option<String>,
    issuing_zone: Option<String>,
    issued_on: Option<String>,
    effective_on: Option<String>,
    review_on: Option<String>,
    supersedes: Option<String>,
    note: String,
    matters: Vec<String>,
    illustrative: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Guide {
    region: String,
    matter: String,
    time_limit_days: i32,
    /// A string, so the amount is written exactly as stored (`12.50`).
    fee: String,
    materials: Vec<String>,
    channels: Vec<Channel>,
    legal_basis: String,
    guarantee_level: Option<String>,
    status: GuideStatus,
    illustrative: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    name: String,
    actor: String,
    time_limit_days: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Procedure {
    region: String,
    matter: String,
    steps: Vec<Step>,
    illustrative: bool,
}

/// The records of a JSON export; a kind not asked for is left out.
#[derive(Serialize, Default)]
struct Records {
    #[serde(skip_serializing_if = "Option::is_none")]
    matters: Option<Vec<Matter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    standards: Option<Vec<Standard>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guides: Option<Vec<Guide>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    procedures: Option<Vec<Procedure>>,
}

/// Writes the selection in `format`: the whole text of the file.
pub async fn export<C: ConnectionTrait>(
    conn: &C,
    selection: &Selection,
    format: Format,
) -> Result<String, ExportError> {
    if selection.kinds.contains(&ImportKind::NationalItems) {
        return Err(ExportError::NationalItems);
    }
    let records = read(conn, selection).await?;
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(&records)? + "\n"),
        Format::Csv => match selection.kinds.as_slice() {
            [kind] => csv_text(&records, *kind),
            _ => Err(ExportError::CsvKinds),
        },
    }
}

async fn read<C: ConnectionTrait>(conn: &C, selection: &Selection) -> Result<Records, StoreError> {
    let wants = |kind| selection.kinds.contains(&kind);
    let mut records = Records::default();
    if wants(ImportKind::Matters) {
        let mut rows = service_matter::Entity::find().all(conn).await?;
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        records.matters = Some(
            rows.into_iter()
                .map(|m| Matter {
                    code: m.code,
                    name_zh: m.name_zh,
                    name_en: m.name_en,
                    category: m.category_code,
                    national_edition: m.national_edition,
                    national_number: m.national_number,
                    served_groups: m.served_groups.map(|groups| groups.0),
                    illustrative: m.illustrative,
                })
                .collect(),
        );
    }
    if wants(ImportKind::Standards) {
        let mut links: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for link in standard_matter::Entity::find().all(conn).await? {
            links
                .entry(link.standard_code)
                .or_default()
                .push(link.matter_code);
        }
        let mut rows = standard::Entity::find().all(conn).await?;
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        records.standards = Some(
            rows.into_iter()
                .map(|s| {
                    let mut matters = links.remove(&s.code).unwrap_or_default();
                    matters.sort();
                    Standard {
                        code: s.code,
                        title_zh: s.title_zh,
                        title_en: s.title_en,
                        level: *s.level,
                        status: *s.status,
                        issuing_region: s.issuing_region,
                        issuing_zone: s.issuing_zone,
                        issued_on: s.issued_on.map(|d| d.format("%Y-%m-%d").to_string()),
                        effective_on: s.effective_on.map(|d| d.format("%Y-%m-%d").to_string()),
                        review_on: s.review_on.map(|d| d.format("%Y-%m-%d").to_string()),
                        supersedes: s.supersedes,
                        note: s.note,
                        matters,
                        illustrative: s.illustrative,
                    }
                })
                .collect(),
        );
    }
    if wants(ImportKind::Guides) {
        let mut select = service_guide::Entity::find();
        if let Some(region) = &selection.region {
            select = select.filter(service_guide::Column::RegionCode.eq(region.as_str()));
        }
        let mut rows = select.all(conn).await?;
        rows.sort_by(|a, b| {
            (&a.region_code, &a.matter_code).cmp(&(&b.region_code, &b.matter_code))
        });
        records.guides = Some(
            rows.into_iter()
                .map(|g| {
                    let fee = *g.fee_fen;
                    Ok(Guide {
                        region: g.region_code,
                        matter: g.matter_code,
                        time_limit_days: g.time_limit_days,
                        fee: fee.to_string(),
                        materials: g.materials.0,
                        channels: g.channels.0,
                        legal_basis: g.legal_basis,
                        guarantee_level: g.guarantee_level,
                        status: *g.status,
                        illustrative: g.illustrative,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        );
    }
    if wants(ImportKind::Procedures) {
        let mut select = operating_procedure::Entity::find();
        if let Some(region) = &selection.region {
            select = select.filter(operating_procedure::Column::RegionCode.eq(region.as_str()));
        }
        let mut rows = select.all(conn).await?;
        rows.sort_by(|a, b| {
            (&a.region_code, &a.matter_code).cmp(&(&b.region_code, &b.matter_code))
        });
        records.procedures = Some(
            rows.into_iter()
                .map(|p| Procedure {
                    region: p.region_code,
                    matter: p.matter_code,
                    steps: p
                        .steps
                        .0
                        .into_iter()
                        .map(|s| Step {
                            name: s.name,
                            actor: s.actor,
                            time_limit_days: s.time_limit_days,
                        })
                        .collect(),
                    illustrative: p.illustrative,
                })
                .collect(),
        );
    }
    Ok(records)
}

/// A `;`-separated CSV list, refusing an item that holds the separator.
fn list(items: &[String], record: &str) -> Result<String, ExportError> {
    if let Some(item) = items.iter().find(|item| item.contains(';')) {
        return Err(ExportError::Separator(format!("{record}: `{item}`")));
    }
    Ok(items.join(";"))
}

fn optional<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn csv_text(records: &Records, kind: ImportKind) -> Result<String, ExportError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    match kind {
        ImportKind::NationalItems => return Err(ExportError::NationalItems),
        ImportKind::Matters => {
            out.write_record([
                "code",
                "name_zh",
                "name_en",
                "category",
                "national_edition",
                "national_number",
                "served_groups",
                "illustrative",
            ])?;
            for m in records.matters.iter().flatten() {
                out.write_record([
                    m.code.clone(),
                    m.name_zh.clone(),
                    m.name_en.clone(),
                    m.category.clone(),
                    optional(&m.national_edition),
                    optional(&m.national_number),
                    m.served_groups
                        .iter()
                        .flatten()
                        .map(|group| group.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                    m.illustrative.to_string(),
                ])?;
            }
        }
        ImportKind::Standards => {
            out.write_record([
                "code",
                "title_zh",
                "title_en",
                "level",
                "status",
                "issuing_region",
                "issuing_zone",
                "issued_on",
                "effective_on",
                "review_on",
                "supersedes",
                "note",
                "matters",
                "illustrative",
            ])?;
            for s in records.standards.iter().flatten() {
                out.write_record([
                    s.code.clone(),
                    s.title_zh.clone(),
                    s.title_en.clone(),
                    s.level.to_string(),
                    s.status.to_string(),
                    optional(&s.issuing_region),
                    optional(&s.issuing_zone),
                    optional(&s.issued_on),
                    optional(&s.effective_on),
                    optional(&s.review_on),
                    optional(&s.supersedes),
                    s.note.clone(),
                    list(&s.matters, &format!("standard {}", s.code))?,
                    s.illustrative.to_string(),
                ])?;
            }
        }
        ImportKind::Guides => {
            out.write_record([
                "region",
                "matter",
                "time_limit_days",
                "fee",
                "materials",
                "channels",
                "legal_basis",
                "guarantee_level",
                "status",
                "illustrative",
            ])?;
            for g in records.guides.iter().flatten() {
                let record = format!("guide {}/{}", g.region, g.matter);
                out.write_record([
                    g.region.clone(),
                    g.matter.clone(),
                    g.time_limit_days.to_string(),
                    g.fee.clone(),
                    list(&g.materials, &record)?,
                    g.channels
                        .iter()
                        .map(|channel| channel.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                    g.legal_basis.clone(),
                    optional(&g.guarantee_level),
                    g.status.to_string(),
                    g.illustrative.to_string(),
                ])?;
            }
        }
        ImportKind::Procedures => {
            out.write_record([
                "region",
                "matter",
                "step",
                "name",
                "actor",
                "time_limit_days",
                "illustrative",
            ])?;
            for p in records.procedures.iter().flatten() {
                for (index, step) in p.steps.iter().enumerate() {
                    out.write_record([
                        p.region.clone(),
                        p.matter.clone(),
                        (index + 1).to_string(),
                        step.name.clone(),
                        step.actor.clone(),
                        step.time_limit_days.to_string(),
                        p.illustrative.to_string(),
                    ])?;
                }
            }
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))?;
    // Every field written is a Rust string, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_list_refuses_an_item_holding_the_separator() {
        let items = vec!["居民身份证".to_owned(), "劳动合同".to_owned()];
        assert_eq!(list(&items, "guide").unwrap(), "居民身份证;劳动合同");
        let bad = vec!["甲;乙".to_owned()];
        let error = list(&bad, "guide 330000/X").unwrap_err().to_string();
        assert!(error.contains("guide 330000/X: `甲;乙`"), "{error}");
    }
}
