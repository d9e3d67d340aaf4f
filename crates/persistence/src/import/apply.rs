//! Writing checked records through [`crate::write`] and counting what each
//! write did.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use concord_domain::{MatterCode, RegionCode};
use sea_orm::ConnectionTrait;

use crate::StoreError;
use crate::changes::Replica;
use crate::write::{self, MatterRecord, Outcome, StandardRecord};

use super::{Entry, ImportReport, Record};

/// Writes every record, in order, and counts what each write did.
pub(super) async fn apply(
    conn: &impl ConnectionTrait,
    records: &[Record],
    stored_standards: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<ImportReport, StoreError> {
    // The link table has foreign keys to both matters and standards, and
    // matters are written first, so a matter cannot link to a standard that
    // this same file creates. Such a link is written with the new standard
    // instead (`check_links` has made sure a standard that lists its
    // matters lists this one too).
    let new_standards: HashSet<&str> = records
        .iter()
        .filter_map(|record| match &record.entry {
            Entry::Standard(standard) if !stored_standards.contains(standard.code.as_str()) => {
                Some(standard.code.as_str())
            }
            _ => None,
        })
        .collect();
    let mut listed_by: HashMap<&str, Vec<MatterCode>> = HashMap::new();
    for record in records {
        if let Entry::Matter(matter) = &record.entry {
            for code in matter.standards.iter().flatten() {
                if new_standards.contains(code.as_str()) {
                    listed_by
                        .entry(code.as_str())
                        .or_default()
                        .push(matter.code.clone());
                }
            }
        }
    }

    let mut report = ImportReport::default();
    for record in records {
        let before = kept_version(conn, &record.entry).await?;
        let outcome = match &record.entry {
            Entry::NationalItem(item) => write::upsert_national_item(conn, item, now).await?,
            Entry::Matter(matter) => match &matter.standards {
                Some(list)
                    if list
                        .iter()
                        .any(|code| new_standards.contains(code.as_str())) =>
                {
                    let stored = list
                        .iter()
                        .filter(|code| !new_standards.contains(code.as_str()))
                        .cloned()
                        .collect();
                    let record = MatterRecord {
                        standards: Some(stored),
                        ..matter.clone()
                    };
                    write::upsert_matter(conn, &record, now).await?
                }
                _ => write::upsert_matter(conn, matter, now).await?,
            },
            Entry::Standard(standard) => {
                match (&standard.matters, listed_by.get(standard.code.as_str())) {
                    (None, Some(matters)) => {
                        let record = StandardRecord {
                            matters: Some(matters.clone()),
                            ..standard.clone()
                        };
                        write::upsert_standard(conn, &record, now).await?
                    }
                    _ => write::upsert_standard(conn, standard, now).await?,
                }
            }
            Entry::Guide(guide) => write::upsert_guide(conn, guide, now).await?,
            Entry::Procedure(procedure) => write::upsert_procedure(conn, procedure, now).await?,
        };
        if outcome != Outcome::Unchanged {
            // An imported revision keeps the version it replaced, as a
            // mutation's does.
            if let Some((kind, key, after)) = kept_version(conn, &record.entry).await? {
                let before = before.map(|(_, _, version)| version);
                crate::mutate::keep_versions(conn, kind, &key, before, after, IMPORTED_BY, now)
                    .await?;
            }
            // Imported rows replicate like any other change.
            let (kind, parts) = match &record.entry {
                Entry::NationalItem(i) => (
                    Replica::NationalItem,
                    vec![i.edition.to_string(), i.number.to_string()],
                ),
                Entry::Matter(m) => (Replica::Matter, vec![m.code.to_string()]),
                Entry::Standard(s) => (Replica::Standard, vec![s.code.to_string()]),
                Entry::Guide(g) => (
                    Replica::Guide,
                    vec![g.region.to_string(), g.matter.to_string()],
                ),
                Entry::Procedure(p) => (
                    Replica::Procedure,
                    vec![p.region.to_string(), p.matter.to_string()],
                ),
            };
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            crate::changes::log_current(conn, kind, &parts, now).await?;
        }
        report.counts_mut(record.entry.kind()).add(outcome);
    }
    Ok(report)
}

/// Who the history credits with an imported revision.
const IMPORTED_BY: &str = "concord import";

/// A history-keeping row of `entry` as stored now: its kind, its key, and
/// its revision with the content its history keeps. `None` for a matter
/// (matters keep no history) or a row not stored yet.
async fn kept_version(
    conn: &impl ConnectionTrait,
    entry: &Entry,
) -> Result<Option<(crate::mutate::Kind, String, (i32, serde_json::Value))>, StoreError> {
    use sea_orm::EntityTrait;

    use crate::entity::{national_item, operating_procedure, service_guide, standard};
    use crate::mutate::{self, Kind};
    let key = |region: &RegionCode, matter: &MatterCode| (region.to_string(), matter.to_string());
    Ok(match entry {
        Entry::Matter(_) => None,
        // An official item over an illustrative one keeps the illustrative
        // text in its history.
        Entry::NationalItem(item) => national_item::Entity::find_by_id((item.edition, item.number))
            .one(conn)
            .await?
            .map(|row| {
                let version = (row.revision, mutate::item_snapshot(&row));
                let key = format!("{}/{}", item.edition, item.number);
                (Kind::NationalItem, key, version)
            }),
        Entry::Guide(guide) => service_guide::Entity::find_by_id(key(&guide.region, &guide.matter))
            .one(conn)
            .await?
            .map(|row| {
                let version = (row.revision, mutate::guide_snapshot(&row));
                (
                    Kind::Guide,
                    format!("{}/{}", guide.region, guide.matter),
                    version,
                )
            }),
        Entry::Procedure(procedure) => {
            operating_procedure::Entity::find_by_id(key(&procedure.region, &procedure.matter))
                .one(conn)
                .await?
                .map(|row| {
                    let version = (row.revision, mutate::procedure_snapshot(&row));
                    let key = format!("{}/{}", procedure.region, procedure.matter);
                    (Kind::Procedure, key, version)
                })
        }
        Entry::Standard(record) => {
            match standard::Entity::find_by_id(record.code.as_str())
                .one(conn)
                .await?
            {
                Some(row) => {
                    let matters = mutate::matter_links(conn, record.code.as_str()).await?;
                    let version = (row.revision, mutate::standard_snapshot(&row, &matters));
                    Some((Kind::Standard, record.code.to_string(), version))
                }
                None => None,
            }
        }
    })
}
