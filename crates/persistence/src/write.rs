//! The writes that import (and the mutations) make: one upsert per kind of
//! record, each inside the caller's transaction.
//!
//! An upsert inserts a new row with revision 1, or updates an existing row
//! that differs and bumps its revision; a row that would not change is left
//! alone, so that applying the same data twice changes nothing and a
//! revision counts only real changes. Records hold validated values: the
//! caller checks them (codes parse as they are built; the rest through each
//! draft's `validated`, such as [`GuideDraft::validated`], and steps through
//! [`concord_domain::validate_steps`]) and checks that every code they refer
//! to exists.

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use concord_domain::{
    GuideDraft, GuideStatus, MatterCode, MatterDraft, NationalItemDraft, Origin, ProcedureStep,
    RegionCode, StandardDraft,
};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::StoreError;
use crate::entity::{
    ChannelList, GroupList, StepList, TextList, national_item, operating_procedure, service_guide,
    service_matter, standard,
};
use crate::search::{self, Searched};

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The row was new and was inserted with revision 1.
    Inserted,
    /// The row differed and was updated, its revision bumped by one.
    Updated,
    /// The row already held exactly this data.
    Unchanged,
}

/// A list of codes as stored: `None` for an empty list, so that "none
/// listed" has one form.
fn code_list<T: Clone, L>(items: &[T], list: impl FnOnce(Vec<T>) -> L) -> Option<L> {
    (!items.is_empty()).then(|| list(items.to_vec()))
}

/// The row of a national item as `record` describes it, owned by the nation,
/// at revision 1 (the caller keeps a stored row's bookkeeping).
pub(crate) fn national_item_row(
    record: &NationalItemDraft,
    now: DateTime<Utc>,
) -> national_item::Model {
    national_item::Model {
        edition: record.edition,
        number: record.number,
        name_zh: record.name_zh.clone(),
        name_en: record.name_en.clone(),
        category_code: record.category.to_string(),
        area_zh: record.area_zh.clone(),
        served_group: record.served_group.clone(),
        served_groups: code_list(&record.served_groups, GroupList),
        content: record.content.clone(),
        baseline_standard: record.baseline_standard.clone(),
        funding_responsibility: record.funding_responsibility.clone(),
        lead_department: record.lead_department.clone(),
        max_time_limit_days: record.baseline.max_time_limit_days,
        max_fee_fen: record.baseline.max_fee_fen,
        required_channels: code_list(&record.baseline.required_channels, ChannelList),
        origin: Origin::National.as_str().to_owned(),
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts or updates an item of the national standard. An official record
/// over an illustrative row replaces it: the row takes the record's
/// content and its `illustrative` flag.
pub async fn upsert_national_item(
    conn: &impl ConnectionTrait,
    record: &NationalItemDraft,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let stored = national_item::Entity::find_by_id((record.edition, record.number))
        .one(conn)
        .await?;
    save(conn, national_item_row(record, now), stored, false, now).await
}

/// A region's service guide for a matter.
#[derive(Debug, Clone, PartialEq)]
pub struct GuideRecord {
    pub region: RegionCode,
    pub matter: MatterCode,
    /// The guide's fields, as returned by [`GuideDraft::validated`].
    pub guide: GuideDraft,
    pub status: GuideStatus,
    pub illustrative: bool,
}

impl GuideRecord {
    /// A guide as an editor saves it through the API: a draft of real (not
    /// illustrative) content.
    pub fn draft(region: RegionCode, matter: MatterCode, guide: GuideDraft) -> Self {
        Self {
            region,
            matter,
            guide,
            status: GuideStatus::Draft,
            illustrative: false,
        }
    }
}

/// A region's operating procedure for a matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureRecord {
    pub region: RegionCode,
    pub matter: MatterCode,
    /// The steps in order, as returned by [`concord_domain::validate_steps`].
    pub steps: Vec<ProcedureStep>,
    /// DRAFT when saved through the API; an import's are PUBLISHED.
    pub status: GuideStatus,
    pub illustrative: bool,
}

impl ProcedureRecord {
    /// A procedure as an editor saves it through the API: a draft of real
    /// (not illustrative) steps.
    pub fn draft(region: RegionCode, matter: MatterCode, steps: Vec<ProcedureStep>) -> Self {
        Self {
            region,
            matter,
            steps,
            status: GuideStatus::Draft,
            illustrative: false,
        }
    }
}

/// The row of a matter as `record` describes it, owned by the nation, at
/// revision 1 (the caller keeps a stored row's bookkeeping).
pub(crate) fn matter_row(record: &MatterDraft, now: DateTime<Utc>) -> service_matter::Model {
    let (edition, number) = record.national_item.unzip();
    service_matter::Model {
        code: record.code.as_str().to_owned(),
        name_zh: record.name_zh.clone(),
        name_en: record.name_en.clone(),
        category_code: record.category.as_str().to_owned(),
        national_edition: edition,
        national_number: number,
        served_groups: record
            .served_groups
            .as_ref()
            .map(|groups| GroupList(groups.clone())),
        origin: Origin::National.as_str().to_owned(),
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts or updates a service matter, and its links to standards when the
/// record lists them. Matters belong to the nation.
///
/// Every listed standard must exist. A change of links alone counts as a
/// change of the matter: its revision is bumped.
pub async fn upsert_matter(
    conn: &impl ConnectionTrait,
    record: &MatterDraft,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let code = record.code.as_str();
    let stored = service_matter::Entity::find_by_id(code).one(conn).await?;
    let links = match &record.standards {
        Some(standards) => {
            let wanted = standards.iter().map(|s| s.as_str().to_owned()).collect();
            Some(LinkChange::plan(conn, Side::Matter, code, wanted).await?)
        }
        None => None,
    };
    let fresh = matter_row(record, now);
    let relinked = links.as_ref().is_some_and(|links| !links.is_empty());
    // The row first: the links' foreign key points at it.
    let outcome = save(conn, fresh, stored, relinked, now).await?;
    if let Some(links) = links {
        links.apply(conn).await?;
    }
    if outcome != Outcome::Unchanged {
        search::reindex(conn, Searched::Matter, &[code.to_owned()]).await?;
    }
    Ok(outcome)
}

/// Inserts or updates a standard, and its links to matters when the record
/// lists them.
///
/// A local standard belongs to the province of its `DB` code; every other
/// standard, including a zone's regional one, belongs to the nation. Every
/// listed matter must exist. A change of links alone counts as a change of
/// the standard: its revision is bumped.
pub async fn upsert_standard(
    conn: &impl ConnectionTrait,
    record: &StandardDraft,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let code = record.code.as_str();
    let stored = standard::Entity::find_by_id(code).one(conn).await?;
    let links = match &record.matters {
        Some(matters) => {
            let wanted = matters.iter().map(|m| m.as_str().to_owned()).collect();
            Some(LinkChange::plan(conn, Side::Standard, code, wanted).await?)
        }
        None => None,
    };
    let relinked = links.as_ref().is_some_and(|links| !links.is_empty());
    let fresh = standard_row(record, stored.as_ref(), relinked, now);
    let outcome = save(conn, fresh, stored, relinked, now).await?;
    if let Some(links) = links {
        links.apply(conn).await?;
    }
    if outcome != Outcome::Unchanged {
        search::reindex(conn, Searched::Standard, &[code.to_owned()]).await?;
    }
    Ok(outcome)
}

/// The row of a standard as `record` describes it, over `stored` when there
/// is one (whose elevation and review date it may keep), at revision 1 (the
/// caller keeps a stored row's bookkeeping). `relinked`: its links change.
pub(crate) fn standard_row(
    record: &StandardDraft,
    stored: Option<&standard::Model>,
    relinked: bool,
    now: DateTime<Utc>,
) -> standard::Model {
    let origin = record.code.owner(record.level);
    let fresh = standard::Model {
        code: record.code.as_str().to_owned(),
        title_zh: record.title_zh.clone(),
        title_en: record.title_en.clone(),
        level: record.level.into(),
        status: record.status.into(),
        issuing_region: record.issuing_region.clone().map(String::from),
        issuing_zone: record.issuing_zone.clone().map(String::from),
        issued_on: record.issued_on,
        effective_on: record.effective_on,
        supersedes: record.supersedes.clone().map(String::from),
        review_on: record.review_on,
        elevated_from: stored.and_then(|row| row.elevated_from.clone()),
        note: record.note.clone(),
        origin: origin.as_str().to_owned(),
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    };
    with_review_date(fresh, stored, record.review_on.is_some(), relinked)
}

/// `fresh` with its review date: the one set explicitly; else the stored
/// one while the standard does not change; else (a new standard, or a
/// revision) five years after it comes into force.
fn with_review_date(
    mut fresh: standard::Model,
    stored: Option<&standard::Model>,
    explicit: bool,
    relinked: bool,
) -> standard::Model {
    if explicit {
        return fresh;
    }
    if let Some(stored) = stored {
        fresh.review_on = stored.review_on;
        let mut same = fresh.clone();
        same.keep_bookkeeping(stored);
        if !relinked && same == *stored {
            return fresh;
        }
    }
    fresh.review_on = fresh
        .effective_on
        .and_then(concord_domain::default_review_on);
    fresh
}

/// The row of a region's guide as `record` describes it, over `stored` when
/// there is one (whose publication date it may keep), at `first_revision`
/// (the caller keeps a stored row's bookkeeping).
pub(crate) fn guide_row(
    record: &GuideRecord,
    stored: Option<&service_guide::Model>,
    first_revision: i32,
    now: DateTime<Utc>,
) -> service_guide::Model {
    let published_at = match (record.status, stored) {
        (GuideStatus::Draft, _) => None,
        (GuideStatus::Published, Some(stored)) if stored.status == GuideStatus::Published => {
            stored.published_at
        }
        (GuideStatus::Published, _) => Some(now),
    };
    let guide = &record.guide;
    let region = record.region.as_str().to_owned();
    service_guide::Model {
        region_code: region.clone(),
        matter_code: record.matter.as_str().to_owned(),
        time_limit_days: guide.time_limit_days,
        fee_fen: guide.fee.into(),
        materials: TextList(guide.materials.clone()),
        channels: ChannelList(guide.channels.clone()),
        legal_basis: guide.legal_basis.clone(),
        guarantee_level: guide.guarantee_level.clone(),
        status: record.status.into(),
        published_at,
        origin: region,
        revision: first_revision,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts or updates a region's service guide. The guide belongs to its
/// region.
///
/// `published_at` is set to `now` when the guide becomes published (on
/// insert, or on a change from draft), kept while it stays published, and
/// cleared when it goes back to draft.
pub async fn upsert_guide(
    conn: &impl ConnectionTrait,
    record: &GuideRecord,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let key = (
        record.region.as_str().to_owned(),
        record.matter.as_str().to_owned(),
    );
    let stored = service_guide::Entity::find_by_id(key.clone())
        .one(conn)
        .await?;
    // A replica deletes a guide its origin took back to a draft; the
    // revisions it had stay in the log. A guide written here again starts
    // after them, so that no revision names two versions.
    let first_revision = match &stored {
        Some(_) => 1,
        None => {
            let log_key = format!("{}/{}", key.0, key.1);
            let logged =
                crate::changes::last_logged(conn, RowKind::Guide, std::slice::from_ref(&log_key))
                    .await?;
            logged.get(&log_key).map_or(1, |last| last + 1)
        }
    };
    let fresh = guide_row(record, stored.as_ref(), first_revision, now);
    save(conn, fresh, stored, false, now).await
}

/// Inserts or updates a region's operating procedure. The procedure belongs
/// to its region.
pub async fn upsert_procedure(
    conn: &impl ConnectionTrait,
    record: &ProcedureRecord,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let key = (
        record.region.as_str().to_owned(),
        record.matter.as_str().to_owned(),
    );
    let stored = operating_procedure::Entity::find_by_id(key.clone())
        .one(conn)
        .await?;
    save(conn, procedure_row(record, now), stored, false, now).await
}

/// The row of a region's procedure as `record` describes it, at revision 1
/// (the caller keeps a stored row's bookkeeping).
pub(crate) fn procedure_row(
    record: &ProcedureRecord,
    now: DateTime<Utc>,
) -> operating_procedure::Model {
    let region = record.region.as_str().to_owned();
    operating_procedure::Model {
        region_code: region.clone(),
        matter_code: record.matter.as_str().to_owned(),
        steps: StepList(record.steps.clone()),
        status: record.status.into(),
        origin: region,
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    }
}

mod keep;
#[cfg(test)]
mod tests;

pub(crate) use keep::{Bookkeeping, decide, put};
use keep::{LinkChange, Side, save};
