//! Cross-reference checks: links a file lists on both sides, and codes a
//! record refers to that must be in the file or the database.

use std::collections::{BTreeSet, HashMap, HashSet};

use concord_domain::{MatterCode, StandardCode, validate_steps};
use sea_orm::ConnectionTrait;

use crate::StoreError;
use crate::queries::{self, Visibility};
use concord_domain::{MatterDraft, StandardDraft};

use super::parse::Parsed;
use super::positions::At;
use super::{Entry, ImportKind, Problem};

/// A file that lists both a matter's standards and a standard's matters must
/// say the same link on both sides, or applying it would depend on order.
pub(super) fn check_links(parsed: &mut Parsed) {
    let mut matter_lists: HashMap<&str, (HashSet<&str>, usize)> = HashMap::new();
    let mut standard_lists: HashMap<&str, (HashSet<&str>, usize)> = HashMap::new();
    for record in &parsed.records {
        match &record.entry {
            Entry::Matter(MatterDraft {
                code,
                standards: Some(list),
                ..
            }) => {
                let list = list.iter().map(StandardCode::as_str).collect();
                matter_lists.insert(code.as_str(), (list, record.places.record.line_number()));
            }
            Entry::Standard(StandardDraft {
                code,
                matters: Some(list),
                ..
            }) => {
                let list = list.iter().map(MatterCode::as_str).collect();
                standard_lists.insert(code.as_str(), (list, record.places.record.line_number()));
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for record in &parsed.records {
        let (field, own, list, other_lists, noun) = match &record.entry {
            Entry::Matter(MatterDraft {
                code,
                standards: Some(list),
                ..
            }) => (
                "standards",
                code.as_str(),
                list.iter().map(StandardCode::as_str).collect::<Vec<_>>(),
                &standard_lists,
                "standard",
            ),
            Entry::Standard(StandardDraft {
                code,
                matters: Some(list),
                ..
            }) => (
                "matters",
                code.as_str(),
                list.iter().map(MatterCode::as_str).collect(),
                &matter_lists,
                "matter",
            ),
            _ => continue,
        };
        for (index, other) in list.into_iter().enumerate() {
            if let Some((their_list, line)) = other_lists.get(other)
                && !their_list.contains(own)
            {
                problems.push(record.places.item(field, index).problem(format!(
                    "{noun} `{other}` (line {line}) does not list `{own}`: a file that lists links on both sides must agree"
                )));
            }
        }
    }
    parsed.problems.append(&mut problems);
}

/// Reports every code a record refers to that is neither in the file nor in
/// the database, a matter whose national item is in another category, and a
/// procedure that would outlast its stored guide (or a guide its stored
/// procedure). Returns the problems, and which of the standards the file
/// mentions are stored already.
pub(super) async fn check_references(
    conn: &impl ConnectionTrait,
    parsed: &Parsed,
) -> Result<(Vec<Problem>, HashSet<String>), StoreError> {
    use ImportKind::{Guides, Matters, NationalItems, Procedures, Standards};
    let declared = &parsed.declared;

    let mut regions = BTreeSet::new();
    let mut zones = BTreeSet::new();
    let mut categories = BTreeSet::new();
    let mut items = BTreeSet::new();
    let mut editions = BTreeSet::new();
    // The file's own items, with their categories, which the file's
    // matters are checked against before the stored ones.
    let mut file_items: HashMap<(i32, i32), &str> = HashMap::new();
    let mut matters = BTreeSet::new();
    let mut standards = BTreeSet::new();
    let mut guide_keys = BTreeSet::new();
    let mut procedure_keys = BTreeSet::new();
    for record in &parsed.records {
        match &record.entry {
            Entry::NationalItem(item) => {
                categories.insert(item.category.to_string());
                editions.insert(item.edition);
                file_items.insert((item.edition, item.number), item.category.as_str());
            }
            Entry::Matter(matter) => {
                categories.insert(matter.category.to_string());
                items.extend(matter.national_item);
                standards.extend(matter.standards.iter().flatten().map(ToString::to_string));
            }
            Entry::Standard(standard) => {
                standards.insert(standard.code.to_string());
                standards.extend(standard.supersedes.iter().map(ToString::to_string));
                matters.extend(standard.matters.iter().flatten().map(ToString::to_string));
                regions.extend(standard.issuing_region.iter().map(ToString::to_string));
                zones.extend(standard.issuing_zone.iter().map(ToString::to_string));
            }
            Entry::Guide(guide) => {
                regions.insert(guide.region.to_string());
                matters.insert(guide.matter.to_string());
                let key = (guide.region.to_string(), guide.matter.to_string());
                if !declared.has(Procedures, &key.0, &key.1) {
                    procedure_keys.insert(key);
                }
            }
            Entry::Procedure(procedure) => {
                regions.insert(procedure.region.to_string());
                matters.insert(procedure.matter.to_string());
                let key = (procedure.region.to_string(), procedure.matter.to_string());
                if !declared.has(Guides, &key.0, &key.1) {
                    guide_keys.insert(key);
                }
            }
        }
    }

    // A catalogue's codes number in the hundreds, well inside the databases'
    // limits on bound parameters, so each look-up is one statement.
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
    let keys = |set: &BTreeSet<(String, String)>| set.iter().cloned().collect::<Vec<_>>();
    let stored_regions: HashSet<String> = queries::region_rows_by_codes(conn, &list(&regions))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_zones: HashSet<String> = queries::zone_rows_by_codes(conn, &list(&zones))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_categories: HashSet<String> =
        queries::category_rows_by_codes(conn, &list(&categories))
            .await?
            .into_iter()
            .map(|row| row.code)
            .collect();
    let stored_items: HashMap<(i32, i32), String> =
        queries::national_item_rows_by_keys(conn, &items.into_iter().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|row| ((row.edition, row.number), row.category_code))
            .collect();
    let stored_editions: HashSet<i32> =
        queries::edition_rows_by_years(conn, &editions.into_iter().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|row| row.edition)
            .collect();
    let stored_matters: HashSet<String> = queries::matter_rows_by_codes(conn, &list(&matters))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_standards: HashSet<String> =
        queries::standard_rows_by_codes(conn, &list(&standards))
            .await?
            .into_iter()
            .map(|row| row.code)
            .collect();
    let stored_guides: HashMap<(String, String), i32> =
        queries::guide_rows_by_keys(conn, &keys(&guide_keys), &Visibility::All)
            .await?
            .into_iter()
            .map(|row| ((row.region_code, row.matter_code), row.time_limit_days))
            .collect();
    let stored_procedures: HashMap<(String, String), i32> =
        // A guide must fit its published procedure; a draft may not yet.
        queries::procedure_rows_by_keys(conn, &keys(&procedure_keys), &Visibility::Public)
            .await?
            .into_iter()
            .map(|row| {
                let total = row.steps.0.iter().map(|step| step.time_limit_days).sum();
                ((row.region_code, row.matter_code), total)
            })
            .collect();

    let matter_known =
        |code: &str| declared.has(Matters, code, "") || stored_matters.contains(code);
    let standard_known =
        |code: &str| declared.has(Standards, code, "") || stored_standards.contains(code);
    let mut problems = Vec::new();
    let mut report = |at: At, message: String| problems.push(at.problem(message));
    for record in &parsed.records {
        let places = &record.places;
        match &record.entry {
            Entry::NationalItem(item) => {
                if !stored_editions.contains(&item.edition) {
                    report(
                        places.field("edition"),
                        format!("edition {} is not in the database", item.edition),
                    );
                }
                if !stored_categories.contains(item.category.as_str()) {
                    report(
                        places.field("category"),
                        format!("category `{}` is not in the database", item.category),
                    );
                }
            }
            Entry::Matter(matter) => {
                if !stored_categories.contains(matter.category.as_str()) {
                    report(
                        places.field("category"),
                        format!("category `{}` is not in the database", matter.category),
                    );
                }
                if let Some((edition, number)) = matter.national_item {
                    let category = match file_items.get(&(edition, number)) {
                        Some(category) => Some(*category),
                        None => stored_items.get(&(edition, number)).map(String::as_str),
                    };
                    let declared_with_problems =
                        declared.has(NationalItems, &edition.to_string(), &number.to_string());
                    match category {
                        None if declared_with_problems => {}
                        None => report(
                            places.field("national_number"),
                            format!(
                                "national item {number} of the {edition} edition is neither in this file nor in the database"
                            ),
                        ),
                        Some(category) if category != matter.category.as_str() => report(
                            places.field("national_number"),
                            format!(
                                "national item {number} of the {edition} edition is in category {category}, not {}",
                                matter.category
                            ),
                        ),
                        Some(_) => {}
                    }
                }
                for (index, code) in matter.standards.iter().flatten().enumerate() {
                    if !standard_known(code.as_str()) {
                        report(
                            places.item("standards", index),
                            format!(
                                "standard `{code}` is neither in this file nor in the database"
                            ),
                        );
                    }
                }
            }
            Entry::Standard(standard) => {
                for (index, code) in standard.matters.iter().flatten().enumerate() {
                    if !matter_known(code.as_str()) {
                        report(
                            places.item("matters", index),
                            format!("matter `{code}` is neither in this file nor in the database"),
                        );
                    }
                }
                if let Some(code) = &standard.supersedes
                    && !standard_known(code.as_str())
                {
                    report(
                        places.field("supersedes"),
                        format!("standard `{code}` is neither in this file nor in the database"),
                    );
                }
                if let Some(region) = &standard.issuing_region
                    && !stored_regions.contains(region.as_str())
                {
                    report(
                        places.field("issuing_region"),
                        format!("region `{region}` is not in the database"),
                    );
                }
                if let Some(zone) = &standard.issuing_zone
                    && !stored_zones.contains(zone.as_str())
                {
                    report(
                        places.field("issuing_zone"),
                        format!("zone `{zone}` is not in the database"),
                    );
                }
            }
            Entry::Guide(guide) => {
                if !stored_regions.contains(guide.region.as_str()) {
                    report(
                        places.field("region"),
                        format!("region `{}` is not in the database", guide.region),
                    );
                }
                if !matter_known(guide.matter.as_str()) {
                    report(
                        places.field("matter"),
                        format!(
                            "matter `{}` is neither in this file nor in the database",
                            guide.matter
                        ),
                    );
                }
                let key = (guide.region.to_string(), guide.matter.to_string());
                let limit = guide.guide.time_limit_days;
                if let Some(total) = stored_procedures.get(&key)
                    && *total > limit
                {
                    report(
                        places.field("time_limit_days"),
                        format!(
                            "the stored operating procedure takes {total} working days, more than {limit}: import the procedure too, with steps that fit"
                        ),
                    );
                }
            }
            Entry::Procedure(procedure) => {
                if !stored_regions.contains(procedure.region.as_str()) {
                    report(
                        places.field("region"),
                        format!("region `{}` is not in the database", procedure.region),
                    );
                }
                if !matter_known(procedure.matter.as_str()) {
                    report(
                        places.field("matter"),
                        format!(
                            "matter `{}` is neither in this file nor in the database",
                            procedure.matter
                        ),
                    );
                }
                let key = (procedure.region.to_string(), procedure.matter.to_string());
                if let Some(limit) = stored_guides.get(&key)
                    && let Err(errors) = validate_steps(&procedure.steps, Some(*limit))
                {
                    for error in errors {
                        report(places.field("steps"), error.message);
                    }
                }
            }
        }
    }
    Ok((problems, stored_standards))
}
