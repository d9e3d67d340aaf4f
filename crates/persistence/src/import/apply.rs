//! Writing checked records in bulk. Each kind's stored rows are read up
//! front; what each record does is worked out as [`crate::write`]'s upserts
//! would one at a time; then the rows, their links, their search grams, the
//! versions they replace and their change log entries are written in
//! statements that stay under the bind limit of either backend, however
//! many records there are.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use concord_domain::{
    GuideStatus, MatterCode, MatterDraft, NationalItemDraft, StandardDraft, StandardStatus,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Value, json};

use crate::changes::KEYS_PER_STATEMENT;
use crate::entity::{
    collaborative_standard, national_item, operating_procedure, service_guide, service_matter,
    standard,
};
use crate::mutate;
use crate::search::{self, Searched};
use crate::write::{self, GuideRecord, Outcome, ProcedureRecord};
use crate::{Progress, StoreError};

use super::{Entry, ImportKind, ImportReport, Record};

mod links;
mod trail;

use links::{Links, Side};
use trail::Trail;

/// Who the history credits with an imported revision.
const IMPORTED_BY: &str = "concord import";

/// Records turned into rows, written and reported at a time. Only one
/// chunk's rows and kept versions are held at once: a whole kind's, at ten
/// times scale 1, took gigabytes.
const RECORDS_PER_CHUNK: usize = 10_000;

/// Writes every record and counts what each did, as if each were upserted
/// in order. Each record is dropped once its row is written.
pub(super) async fn apply(
    conn: &impl ConnectionTrait,
    records: Vec<Record>,
    stored_standards: &HashSet<String>,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<ImportReport, StoreError> {
    let mut items = Vec::new();
    let mut matters = Vec::new();
    let mut standards = Vec::new();
    let mut guides = Vec::new();
    let mut procedures = Vec::new();
    // Where each value was written is needed no more.
    for record in records {
        match record.entry {
            Entry::NationalItem(item) => items.push(item),
            Entry::Matter(matter) => matters.push(matter),
            Entry::Standard(standard) => standards.push(standard),
            Entry::Guide(guide) => guides.push(guide),
            Entry::Procedure(procedure) => procedures.push(procedure),
        }
    }
    link_new_standards(&mut matters, &mut standards, stored_standards);

    let mut import = Import {
        conn,
        now,
        report: ImportReport::default(),
        trail: Trail::default(),
        done: 0,
        progress,
    };
    // In the order of the foreign keys: a matter refers to its national
    // item, a link to its matter and standard, a guide to its matter.
    import.national_items(items).await?;
    let mut links = Links::load(conn, &matters, &standards).await?;
    let matter_codes = import.matters(matters, &mut links).await?;
    let standard_codes = import.standards(standards, &mut links).await?;
    links.write(conn).await?;
    reindex(conn, Searched::Matter, &matter_codes).await?;
    reindex(conn, Searched::Standard, &standard_codes).await?;
    import.guides(guides).await?;
    import.procedures(procedures).await?;
    // Rows first (each chunk's history after them), then the log, in the
    // order a mutation takes them, so that an import cannot deadlock with
    // one on PostgreSQL.
    let Import { report, trail, .. } = import;
    trail.write_log(conn, now).await?;
    Ok(report)
}

/// Past this many changed rows of a kind, its search grams are cut afresh
/// in one statement rather than a chunk of keys at a time: on PostgreSQL
/// each chunk's delete scans a gram table that the chunks before it grew.
const REBUILD_GRAMS_PAST: usize = 2_000;

/// Cuts the search grams of the changed rows `keys` of a kind.
async fn reindex(
    conn: &impl ConnectionTrait,
    searched: Searched,
    keys: &[String],
) -> Result<(), StoreError> {
    if keys.len() > REBUILD_GRAMS_PAST {
        search::rebuild(conn, searched).await
    } else {
        search::reindex(conn, searched, keys).await
    }
}

/// The link table has foreign keys to both matters and standards, and
/// matters are written first, so a matter cannot link to a standard that
/// this same file creates. Such a link is written with the new standard
/// instead (`check_links` has made sure a standard that lists its matters
/// lists this one too).
fn link_new_standards(
    matters: &mut [MatterDraft],
    standards: &mut [StandardDraft],
    stored_standards: &HashSet<String>,
) {
    let new_standards: HashSet<String> = standards
        .iter()
        .map(|standard| standard.code.to_string())
        .filter(|code| !stored_standards.contains(code))
        .collect();
    let mut listed_by: HashMap<String, Vec<MatterCode>> = HashMap::new();
    for matter in matters.iter_mut() {
        let Some(list) = &mut matter.standards else {
            continue;
        };
        list.retain(|code| {
            let new = new_standards.contains(code.as_str());
            if new {
                listed_by
                    .entry(code.to_string())
                    .or_default()
                    .push(matter.code.clone());
            }
            !new
        });
    }
    for standard in standards.iter_mut() {
        if standard.matters.is_none() {
            standard.matters = listed_by.remove(standard.code.as_str());
        }
    }
}

/// An import under way: where it writes, what it has done so far, and the
/// history and log entries it owes.
struct Import<'a, C> {
    conn: &'a C,
    now: DateTime<Utc>,
    report: ImportReport,
    trail: Trail,
    /// Records written so far.
    done: u64,
    progress: &'a dyn Progress,
}

impl<C: ConnectionTrait> Import<'_, C> {
    /// Counts what a record did.
    fn count(&mut self, kind: ImportKind, outcome: Outcome) {
        self.report.counts_mut(kind).add(outcome);
    }

    /// Writes the changed rows of a chunk of `records` records, then the
    /// versions they keep, and reports progress.
    async fn write<E>(&mut self, rows: Vec<E::Model>, records: usize) -> Result<(), StoreError>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        crate::changes::upsert::<E, C>(self.conn, rows).await?;
        self.trail.write_history(self.conn).await?;
        self.done += records as u64;
        self.progress.advanced(self.done);
        Ok(())
    }

    async fn national_items(&mut self, items: Vec<NationalItemDraft>) -> Result<(), StoreError> {
        let editions: BTreeSet<i32> = items.iter().map(|item| item.edition).collect();
        let stored: HashMap<(i32, i32), national_item::Model> =
            stored_rows::<national_item::Entity, _, _>(
                self.conn,
                national_item::Column::Edition,
                editions,
            )
            .await?
            .into_iter()
            .map(|row| ((row.edition, row.number), row))
            .collect();
        for chunk in chunks(items) {
            let mut rows = Vec::new();
            for item in &chunk {
                let before = stored.get(&(item.edition, item.number));
                let fresh = write::national_item_row(item, self.now);
                let (outcome, row) = write::decide(fresh, before, false, self.now);
                self.count(ImportKind::NationalItems, outcome);
                if outcome == Outcome::Unchanged {
                    continue;
                }
                let key = format!("{}/{}", item.edition, item.number);
                self.trail.keep(
                    RowKind::NationalItem,
                    &key,
                    before.map(|row| (row.revision, mutate::item_snapshot(row))),
                    (row.revision, mutate::item_snapshot(&row)),
                    self.now,
                );
                let record = json!({ "row": to_json(&row)? });
                self.trail.log(
                    RowKind::NationalItem,
                    key,
                    &row.origin,
                    row.revision,
                    Some(record),
                )?;
                rows.push(row);
            }
            self.write::<national_item::Entity>(rows, chunk.len())
                .await?;
        }
        Ok(())
    }

    /// Writes the matters; returns the codes of those that changed.
    async fn matters(
        &mut self,
        matters: Vec<MatterDraft>,
        links: &mut Links,
    ) -> Result<Vec<String>, StoreError> {
        let codes = matters.iter().map(|matter| matter.code.to_string());
        let stored: HashMap<String, service_matter::Model> =
            stored_rows::<service_matter::Entity, _, _>(
                self.conn,
                service_matter::Column::Code,
                codes,
            )
            .await?
            .into_iter()
            .map(|row| (row.code.clone(), row))
            .collect();
        let mut changed = Vec::new();
        for chunk in chunks(matters) {
            let mut rows = Vec::new();
            for matter in &chunk {
                let code = matter.code.as_str();
                let relinked = matter.standards.as_ref().is_some_and(|list| {
                    let wanted = list.iter().map(ToString::to_string).collect();
                    links.set(Side::Matter, code, wanted)
                });
                let fresh = write::matter_row(matter, self.now);
                let (outcome, row) = write::decide(fresh, stored.get(code), relinked, self.now);
                self.count(ImportKind::Matters, outcome);
                if outcome == Outcome::Unchanged {
                    continue;
                }
                // Matters keep no history; the log records the links as they
                // are once the matter is written, before any standard's.
                let record = json!({
                    "row": to_json(&row)?,
                    "standards": links.of(Side::Matter, code),
                });
                self.trail.log(
                    RowKind::Matter,
                    code.to_owned(),
                    &row.origin,
                    row.revision,
                    Some(record),
                )?;
                rows.push(row);
            }
            changed.extend(rows.iter().map(|row| row.code.clone()));
            self.write::<service_matter::Entity>(rows, chunk.len())
                .await?;
        }
        Ok(changed)
    }

    /// Writes the standards; returns the codes of those that changed.
    async fn standards(
        &mut self,
        standards: Vec<StandardDraft>,
        links: &mut Links,
    ) -> Result<Vec<String>, StoreError> {
        let codes = standards.iter().map(|standard| standard.code.to_string());
        let stored: HashMap<String, standard::Model> =
            stored_rows::<standard::Entity, _, _>(self.conn, standard::Column::Code, codes)
                .await?
                .into_iter()
                .map(|row| (row.code.clone(), row))
                .collect();
        let mut written = Vec::new();
        for chunk in chunks(standards) {
            let mut changed = Vec::new();
            for record in &chunk {
                let code = record.code.as_str();
                let before = stored.get(code);
                let linked_before = links.of(Side::Standard, code);
                let relinked = record.matters.as_ref().is_some_and(|list| {
                    let wanted = list.iter().map(ToString::to_string).collect();
                    links.set(Side::Standard, code, wanted)
                });
                let fresh = write::standard_row(record, before, relinked, self.now);
                let (outcome, row) = write::decide(fresh, before, relinked, self.now);
                self.count(ImportKind::Standards, outcome);
                if outcome == Outcome::Unchanged {
                    continue;
                }
                let matters = links.of(Side::Standard, code);
                self.trail.keep(
                    RowKind::Standard,
                    code,
                    before
                        .map(|row| (row.revision, mutate::standard_snapshot(row, &linked_before))),
                    (row.revision, mutate::standard_snapshot(&row, &matters)),
                    self.now,
                );
                changed.push((row, matters));
            }
            // A zone's proposed collaborative standard is public while a draft.
            let drafts = changed
                .iter()
                .filter(|(row, _)| row.status == StandardStatus::Draft)
                .map(|(row, _)| row.code.clone());
            let proposed: HashSet<String> = stored_rows::<collaborative_standard::Entity, _, _>(
                self.conn,
                collaborative_standard::Column::StandardCode,
                drafts,
            )
            .await?
            .into_iter()
            .map(|target| target.standard_code)
            .collect();
            let mut rows = Vec::with_capacity(changed.len());
            for (row, matters) in changed {
                let published = row.status != StandardStatus::Draft || proposed.contains(&row.code);
                let record = published
                    .then(|| {
                        Ok::<_, StoreError>(json!({ "row": to_json(&row)?, "matters": matters }))
                    })
                    .transpose()?;
                self.trail.log(
                    RowKind::Standard,
                    row.code.clone(),
                    &row.origin,
                    row.revision,
                    record,
                )?;
                rows.push(row);
            }
            written.extend(rows.iter().map(|row| row.code.clone()));
            self.write::<standard::Entity>(rows, chunk.len()).await?;
        }
        Ok(written)
    }

    async fn guides(&mut self, guides: Vec<GuideRecord>) -> Result<(), StoreError> {
        let regions: BTreeSet<String> = guides.iter().map(|g| g.region.to_string()).collect();
        let stored: HashMap<(String, String), service_guide::Model> =
            stored_rows::<service_guide::Entity, _, _>(
                self.conn,
                service_guide::Column::RegionCode,
                regions,
            )
            .await?
            .into_iter()
            .map(|row| ((row.region_code.clone(), row.matter_code.clone()), row))
            .collect();
        // A replica deletes a guide its origin took back to a draft; the
        // revisions it had stay in the log. A guide written here again
        // starts after them, so that no revision names two versions.
        let new: Vec<String> = guides
            .iter()
            .map(|guide| (guide.region.to_string(), guide.matter.to_string()))
            .filter(|key| !stored.contains_key(key))
            .map(|(region, matter)| format!("{region}/{matter}"))
            .collect();
        let logged = crate::changes::last_logged(self.conn, RowKind::Guide, &new).await?;
        for chunk in chunks(guides) {
            let mut rows = Vec::new();
            for guide in &chunk {
                let key = (guide.region.to_string(), guide.matter.to_string());
                let log_key = format!("{}/{}", key.0, key.1);
                let before = stored.get(&key);
                let first_revision = logged.get(&log_key).map_or(1, |last| last + 1);
                let fresh = write::guide_row(guide, before, first_revision, self.now);
                let (outcome, row) = write::decide(fresh, before, false, self.now);
                self.count(ImportKind::Guides, outcome);
                if outcome == Outcome::Unchanged {
                    continue;
                }
                self.trail.keep(
                    RowKind::Guide,
                    &log_key,
                    before.map(|row| (row.revision, mutate::guide_snapshot(row))),
                    (row.revision, mutate::guide_snapshot(&row)),
                    self.now,
                );
                let record = (row.status == GuideStatus::Published)
                    .then(|| to_json(&row).map(|row| json!({ "row": row })))
                    .transpose()?;
                self.trail
                    .log(RowKind::Guide, log_key, &row.origin, row.revision, record)?;
                rows.push(row);
            }
            self.write::<service_guide::Entity>(rows, chunk.len())
                .await?;
        }
        Ok(())
    }

    async fn procedures(&mut self, procedures: Vec<ProcedureRecord>) -> Result<(), StoreError> {
        let regions: BTreeSet<String> = procedures.iter().map(|p| p.region.to_string()).collect();
        let stored: HashMap<(String, String), operating_procedure::Model> =
            stored_rows::<operating_procedure::Entity, _, _>(
                self.conn,
                operating_procedure::Column::RegionCode,
                regions,
            )
            .await?
            .into_iter()
            .map(|row| ((row.region_code.clone(), row.matter_code.clone()), row))
            .collect();
        for chunk in chunks(procedures) {
            let mut rows = Vec::new();
            for procedure in &chunk {
                let key = (procedure.region.to_string(), procedure.matter.to_string());
                let before = stored.get(&key);
                let fresh = write::procedure_row(procedure, self.now);
                let (outcome, row) = write::decide(fresh, before, false, self.now);
                self.count(ImportKind::Procedures, outcome);
                if outcome == Outcome::Unchanged {
                    continue;
                }
                let log_key = format!("{}/{}", key.0, key.1);
                self.trail.keep(
                    RowKind::Procedure,
                    &log_key,
                    before.map(|row| (row.revision, mutate::procedure_snapshot(row))),
                    (row.revision, mutate::procedure_snapshot(&row)),
                    self.now,
                );
                // A draft procedure goes out as a retraction, as a draft guide does.
                let record = (row.status == GuideStatus::Published)
                    .then(|| to_json(&row).map(|row| json!({ "row": row })))
                    .transpose()?;
                self.trail.log(
                    RowKind::Procedure,
                    log_key,
                    &row.origin,
                    row.revision,
                    record,
                )?;
                rows.push(row);
            }
            self.write::<operating_procedure::Entity>(rows, chunk.len())
                .await?;
        }
        Ok(())
    }
}

/// `records` a chunk at a time, each chunk taken out of them when it is
/// reached, so that a written chunk's records are dropped with it.
fn chunks<T>(records: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut records = records.into_iter();
    std::iter::from_fn(move || {
        let chunk: Vec<T> = records.by_ref().take(RECORDS_PER_CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// The stored rows of `E` whose `column` is one of `values`, read a chunk
/// of values at a time.
async fn stored_rows<E, C, V>(
    conn: &C,
    column: E::Column,
    values: impl IntoIterator<Item = V>,
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    V: Into<sea_orm::Value>,
{
    let values: Vec<sea_orm::Value> = values.into_iter().map(Into::into).collect();
    let mut rows = Vec::new();
    for chunk in values.chunks(KEYS_PER_STATEMENT * 4) {
        rows.extend(
            E::find()
                .filter(column.is_in(chunk.iter().cloned()))
                .all(conn)
                .await?,
        );
    }
    Ok(rows)
}
