//! The writes that import (and the mutations) make: one upsert per kind of
//! record, each inside the caller's transaction.
//!
//! An upsert inserts a new row with revision 1, or updates an existing row
//! that differs and bumps its revision; a row that would not change is left
//! alone, so that applying the same data twice changes nothing and a
//! revision counts only real changes. Records hold validated values: the
//! caller checks them (codes parse as they are built; guide fields through
//! [`GuideDraft::validated`], steps through [`concord_domain::validate_steps`])
//! and checks that every code they refer to exists.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::alignment::Baseline;
use concord_domain::{
    CategoryCode, GuideDraft, GuideStatus, MatterCode, Origin, ProcedureStep, RegionCode,
    ServedGroup, StandardCode, StandardLevel, StandardStatus, ZoneCode,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use crate::StoreError;
use crate::entity::{
    StepList, TextList, national_item, operating_procedure, service_guide, service_matter,
    standard, standard_matter,
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

/// A service matter of the matter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterRecord {
    pub code: MatterCode,
    pub name_zh: String,
    pub name_en: String,
    pub category: CategoryCode,
    /// The national item the matter implements: edition and number.
    pub national_item: Option<(i32, i32)>,
    /// The standards the matter follows. `Some` sets the matter's links to
    /// exactly these; `None` leaves the stored links alone.
    pub standards: Option<Vec<StandardCode>>,
    /// The groups the matter serves where they differ from its national
    /// item's; `None` takes the item's.
    pub served_groups: Option<Vec<ServedGroup>>,
    pub illustrative: bool,
}

/// An item of the national standard, with its five fields and its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalItemRecord {
    /// Within [`concord_domain::national::EDITIONS`].
    pub edition: i32,
    /// Within [`concord_domain::national::ITEM_NUMBERS`].
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
    pub baseline: Baseline,
    pub illustrative: bool,
}

/// A list of codes as stored: `None` for an empty list, so that "none
/// listed" has one form.
fn code_list<T: ToString>(items: &[T]) -> Option<TextList> {
    (!items.is_empty()).then(|| TextList(items.iter().map(ToString::to_string).collect()))
}

/// The row of a national item as `record` describes it, owned by the nation,
/// at revision 1 (the caller keeps a stored row's bookkeeping).
pub(crate) fn national_item_row(
    record: &NationalItemRecord,
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
        served_groups: code_list(&record.served_groups),
        content: record.content.clone(),
        baseline_standard: record.baseline_standard.clone(),
        funding_responsibility: record.funding_responsibility.clone(),
        lead_department: record.lead_department.clone(),
        max_time_limit_days: record.baseline.max_time_limit_days,
        max_fee_fen: record.baseline.max_fee_fen,
        required_channels: code_list(&record.baseline.required_channels),
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
    record: &NationalItemRecord,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let stored = national_item::Entity::find_by_id((record.edition, record.number))
        .one(conn)
        .await?;
    save(conn, national_item_row(record, now), stored, false, now).await
}

/// A standard of any level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecord {
    pub code: StandardCode,
    pub title_zh: String,
    pub title_en: String,
    /// A level the code fits ([`StandardCode::fits_level`]).
    pub level: StandardLevel,
    pub status: StandardStatus,
    pub issuing_region: Option<RegionCode>,
    pub issuing_zone: Option<ZoneCode>,
    pub issued_on: Option<NaiveDate>,
    pub effective_on: Option<NaiveDate>,
    pub supersedes: Option<StandardCode>,
    /// When the standard is due for review, when set explicitly; else five
    /// years after `effective_on` ([`concord_domain::default_review_on`]),
    /// kept while the standard does not change.
    pub review_on: Option<NaiveDate>,
    pub note: String,
    /// The matters the standard governs. `Some` sets the standard's links to
    /// exactly these; `None` leaves the stored links alone.
    pub matters: Option<Vec<MatterCode>>,
    pub illustrative: bool,
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

/// The row of a matter as `record` describes it, owned by the nation, at
/// revision 1 (the caller keeps a stored row's bookkeeping).
pub(crate) fn matter_row(record: &MatterRecord, now: DateTime<Utc>) -> service_matter::Model {
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
            .map(|groups| TextList(groups.iter().map(ToString::to_string).collect())),
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
    record: &MatterRecord,
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
    record: &StandardRecord,
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
    record: &StandardRecord,
    stored: Option<&standard::Model>,
    relinked: bool,
    now: DateTime<Utc>,
) -> standard::Model {
    let origin = match record.level {
        StandardLevel::Local => record
            .code
            .local_province()
            .map_or(Origin::National, Origin::Region),
        _ => Origin::National,
    };
    let fresh = standard::Model {
        code: record.code.as_str().to_owned(),
        title_zh: record.title_zh.clone(),
        title_en: record.title_en.clone(),
        level: record.level.as_str().to_owned(),
        status: record.status.as_str().to_owned(),
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
    let published = GuideStatus::Published.as_str();
    let published_at = match (record.status, stored) {
        (GuideStatus::Draft, _) => None,
        (GuideStatus::Published, Some(stored)) if stored.status == published => stored.published_at,
        (GuideStatus::Published, _) => Some(now),
    };
    let guide = &record.guide;
    let region = record.region.as_str().to_owned();
    service_guide::Model {
        region_code: region.clone(),
        matter_code: record.matter.as_str().to_owned(),
        time_limit_days: guide.time_limit_days,
        fee_fen: guide.fee.fen(),
        materials: TextList(guide.materials.clone()),
        channels: TextList(
            guide
                .channels
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
        ),
        legal_basis: guide.legal_basis.clone(),
        guarantee_level: guide.guarantee_level.clone(),
        status: record.status.as_str().to_owned(),
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
            let logged = crate::changes::last_logged(
                conn,
                crate::changes::Replica::Guide,
                std::slice::from_ref(&log_key),
            )
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
        status: record.status.as_str().to_owned(),
        origin: region,
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    }
}

/// The columns that record a row's history rather than its content.
pub(crate) trait Bookkeeping {
    /// Takes `stored`'s origin, revision and timestamps, so that comparing
    /// with `stored` compares content only.
    fn keep_bookkeeping(&mut self, stored: &Self);
    /// Marks the row as changed at `now`.
    fn bump(&mut self, now: DateTime<Utc>);
}

macro_rules! bookkeeping {
    ($($model:path),+) => {$(
        impl Bookkeeping for $model {
            fn keep_bookkeeping(&mut self, stored: &Self) {
                self.origin.clone_from(&stored.origin);
                self.revision = stored.revision;
                self.created_at = stored.created_at;
                self.updated_at = stored.updated_at;
            }

            fn bump(&mut self, now: DateTime<Utc>) {
                self.revision += 1;
                self.updated_at = now;
            }
        }
    )+};
}

bookkeeping!(
    service_matter::Model,
    standard::Model,
    service_guide::Model,
    operating_procedure::Model,
    national_item::Model,
    crate::entity::evaluation::Model
);

/// Stores `row`: inserted with its own revision when nothing is stored,
/// else over the stored row, keeping its origin and creation time and
/// taking the next revision. Returns the row as stored.
pub(crate) async fn put<C, A, M>(
    conn: &C,
    stored: Option<&M>,
    mut row: M,
    now: DateTime<Utc>,
) -> Result<M, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    M: IntoActiveModel<A> + Bookkeeping + Clone,
{
    match stored {
        Some(stored) => {
            row.keep_bookkeeping(stored);
            row.bump(now);
            row.clone()
                .into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
        }
        None => {
            <A::Entity as EntityTrait>::insert(row.clone().into_active_model())
                .exec_without_returning(conn)
                .await?;
        }
    }
    Ok(row)
}

/// What storing `fresh` over `stored` does, and the row it leaves: `fresh`
/// when nothing is stored; else `fresh` over the stored row, keeping its
/// origin and creation time and taking the next revision, when its content
/// differs or `other_changes` says something tied to it (its links)
/// changed. An unchanged row is not to be written.
pub(crate) fn decide<M: Bookkeeping + PartialEq>(
    mut fresh: M,
    stored: Option<&M>,
    other_changes: bool,
    now: DateTime<Utc>,
) -> (Outcome, M) {
    let Some(stored) = stored else {
        return (Outcome::Inserted, fresh);
    };
    fresh.keep_bookkeeping(stored);
    if fresh == *stored && !other_changes {
        return (Outcome::Unchanged, fresh);
    }
    fresh.bump(now);
    (Outcome::Updated, fresh)
}

/// Inserts `fresh` when nothing is stored, or updates the stored row when
/// [`decide`] says so.
async fn save<C, A, M>(
    conn: &C,
    fresh: M,
    stored: Option<M>,
    other_changes: bool,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    M: IntoActiveModel<A> + Bookkeeping + PartialEq + Clone,
{
    let (outcome, row) = decide(fresh, stored.as_ref(), other_changes, now);
    match outcome {
        Outcome::Unchanged => {}
        Outcome::Inserted => {
            <A::Entity as EntityTrait>::insert(row.into_active_model())
                .exec_without_returning(conn)
                .await?;
        }
        Outcome::Updated => {
            row.into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
        }
    }
    Ok(outcome)
}

/// Which side of `standard_matter` owns a list of links.
#[derive(Debug, Clone, Copy)]
enum Side {
    Matter,
    Standard,
}

/// The links to add and remove so that one matter's (or standard's) links
/// are exactly a wanted set.
struct LinkChange {
    side: Side,
    code: String,
    add: Vec<String>,
    remove: Vec<String>,
}

impl LinkChange {
    async fn plan(
        conn: &impl ConnectionTrait,
        side: Side,
        code: &str,
        wanted: BTreeSet<String>,
    ) -> Result<Self, StoreError> {
        let (own, _) = Self::columns(side);
        let stored: BTreeSet<String> = standard_matter::Entity::find()
            .filter(own.eq(code))
            .all(conn)
            .await?
            .into_iter()
            .map(|link| match side {
                Side::Matter => link.standard_code,
                Side::Standard => link.matter_code,
            })
            .collect();
        Ok(Self {
            side,
            code: code.to_owned(),
            add: wanted.difference(&stored).cloned().collect(),
            remove: stored.difference(&wanted).cloned().collect(),
        })
    }

    /// The column naming the owner of the links, and the one naming the
    /// other end.
    fn columns(side: Side) -> (standard_matter::Column, standard_matter::Column) {
        match side {
            Side::Matter => (
                standard_matter::Column::MatterCode,
                standard_matter::Column::StandardCode,
            ),
            Side::Standard => (
                standard_matter::Column::StandardCode,
                standard_matter::Column::MatterCode,
            ),
        }
    }

    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    async fn apply(self, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
        let (own, other) = Self::columns(self.side);
        if !self.remove.is_empty() {
            standard_matter::Entity::delete_many()
                .filter(own.eq(self.code.as_str()))
                .filter(other.is_in(self.remove))
                .exec(conn)
                .await?;
        }
        let links: Vec<standard_matter::ActiveModel> = self
            .add
            .into_iter()
            .map(|other| {
                let (standard_code, matter_code) = match self.side {
                    Side::Matter => (other, self.code.clone()),
                    Side::Standard => (self.code.clone(), other),
                };
                standard_matter::Model {
                    standard_code,
                    matter_code,
                }
                .into_active_model()
                .reset_all()
            })
            .collect();
        standard_matter::Entity::insert_many(links)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use concord_domain::{Channel, Fee};
    use sea_orm::DatabaseConnection;

    use super::*;

    async fn database() -> DatabaseConnection {
        let (db, _) = crate::connect(&crate::ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        crate::migrate(&db).await.unwrap();
        crate::seed::seed(&db).await.unwrap();
        db
    }

    fn matter(code: &str) -> MatterRecord {
        MatterRecord {
            code: MatterCode::try_from(code).unwrap(),
            name_zh: "测试事项".into(),
            name_en: "Test matter".into(),
            category: CategoryCode::try_from("EMPLOYMENT").unwrap(),
            national_item: None,
            standards: None,
            served_groups: None,
            illustrative: false,
        }
    }

    fn guide(status: GuideStatus) -> GuideRecord {
        GuideRecord {
            region: RegionCode::try_from("330000").unwrap(),
            matter: MatterCode::try_from("TEST-MATTER").unwrap(),
            guide: GuideDraft {
                time_limit_days: 5,
                fee: Fee::FREE,
                materials: vec!["居民身份证".into()],
                channels: vec![Channel::Counter],
                legal_basis: String::new(),
                guarantee_level: None,
            },
            status,
            illustrative: false,
        }
    }

    async fn links_of(db: &DatabaseConnection, matter: &str) -> Vec<String> {
        let mut links: Vec<String> = standard_matter::Entity::find()
            .filter(standard_matter::Column::MatterCode.eq(matter))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|link| link.standard_code)
            .collect();
        links.sort();
        links
    }

    #[tokio::test]
    async fn an_upsert_inserts_then_updates_only_on_change() {
        let db = database().await;
        let t0 = Utc::now();
        let t1 = t0 + Duration::seconds(1);
        let record = matter("TEST-MATTER");
        assert_eq!(
            upsert_matter(&db, &record, t0).await.unwrap(),
            Outcome::Inserted
        );
        assert_eq!(
            upsert_matter(&db, &record, t1).await.unwrap(),
            Outcome::Unchanged
        );
        let renamed = MatterRecord {
            name_en: "Renamed".into(),
            ..record
        };
        assert_eq!(
            upsert_matter(&db, &renamed, t1).await.unwrap(),
            Outcome::Updated
        );
        let row = service_matter::Entity::find_by_id("TEST-MATTER")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.revision, row.name_en.as_str()), (2, "Renamed"));
        assert_eq!((row.created_at, row.updated_at), (t0, t1));
        assert_eq!(row.origin, Origin::NATIONAL_CODE);
    }

    #[tokio::test]
    async fn links_are_replaced_only_when_listed() {
        let db = database().await;
        let now = Utc::now();
        let standard = |code: &str| StandardCode::try_from(code).unwrap();
        let listed = MatterRecord {
            standards: Some(vec![standard("GB/T 33527"), standard("GB/T 33531-2017")]),
            ..matter("TEST-MATTER")
        };
        upsert_matter(&db, &listed, now).await.unwrap();
        assert_eq!(
            links_of(&db, "TEST-MATTER").await,
            ["GB/T 33527", "GB/T 33531-2017"]
        );

        // Without a list the links stay; with a different one they follow it
        // and the matter's revision counts the change.
        let unlisted = matter("TEST-MATTER");
        assert_eq!(
            upsert_matter(&db, &unlisted, now).await.unwrap(),
            Outcome::Unchanged
        );
        let fewer = MatterRecord {
            standards: Some(vec![standard("GB/T 33531-2017")]),
            ..matter("TEST-MATTER")
        };
        assert_eq!(
            upsert_matter(&db, &fewer, now).await.unwrap(),
            Outcome::Updated
        );
        assert_eq!(links_of(&db, "TEST-MATTER").await, ["GB/T 33531-2017"]);

        // The standard's side sets the standard's links, whatever the matter listed.
        let record = StandardRecord {
            code: standard("GB/T 33527"),
            title_zh: "公共就业服务总则".into(),
            title_en: "Public employment service - general principles".into(),
            level: StandardLevel::National,
            status: StandardStatus::InForce,
            issuing_region: None,
            issuing_zone: None,
            issued_on: None,
            effective_on: None,
            supersedes: None,
            review_on: None,
            note: "cited by GB/T 33531-2017; committee SAC/TC292".into(),
            matters: Some(vec![MatterCode::try_from("TEST-MATTER").unwrap()]),
            illustrative: false,
        };
        assert_eq!(
            upsert_standard(&db, &record, now).await.unwrap(),
            Outcome::Updated
        );
        assert_eq!(
            links_of(&db, "TEST-MATTER").await,
            ["GB/T 33527", "GB/T 33531-2017"]
        );
        let row = standard::Entity::find_by_id("GB/T 33527")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.revision, 2);
        assert_eq!(row.origin, Origin::NATIONAL_CODE);
    }

    #[tokio::test]
    async fn a_local_standard_belongs_to_its_province() {
        let db = database().await;
        let record = StandardRecord {
            code: StandardCode::try_from("DB5108/T 99-2025").unwrap(),
            title_zh: "测试".into(),
            title_en: String::new(),
            level: StandardLevel::Local,
            status: StandardStatus::Draft,
            issuing_region: Some(RegionCode::try_from("510000").unwrap()),
            issuing_zone: None,
            issued_on: None,
            effective_on: None,
            supersedes: None,
            review_on: None,
            note: String::new(),
            matters: None,
            illustrative: false,
        };
        upsert_standard(&db, &record, Utc::now()).await.unwrap();
        let row = standard::Entity::find_by_id("DB5108/T 99-2025")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.origin, "510000");
    }

    #[tokio::test]
    async fn publishing_a_guide_stamps_it() {
        let db = database().await;
        let t0 = Utc::now();
        let t1 = t0 + Duration::seconds(1);
        let t2 = t1 + Duration::seconds(1);
        upsert_matter(&db, &matter("TEST-MATTER"), t0)
            .await
            .unwrap();
        let key = ("330000".to_owned(), "TEST-MATTER".to_owned());
        let stored = async || {
            service_guide::Entity::find_by_id(key.clone())
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        };

        upsert_guide(&db, &guide(GuideStatus::Draft), t0)
            .await
            .unwrap();
        let draft = stored().await;
        assert_eq!(
            (draft.published_at, draft.origin.as_str()),
            (None, "330000")
        );

        upsert_guide(&db, &guide(GuideStatus::Published), t1)
            .await
            .unwrap();
        assert_eq!(stored().await.published_at, Some(t1));

        // An edit of a published guide keeps the date it was published.
        let mut edited = guide(GuideStatus::Published);
        edited.guide.time_limit_days = 4;
        assert_eq!(
            upsert_guide(&db, &edited, t2).await.unwrap(),
            Outcome::Updated
        );
        let row = stored().await;
        assert_eq!((row.published_at, row.revision), (Some(t1), 3));
    }

    #[tokio::test]
    async fn a_procedure_is_compared_step_by_step() {
        let db = database().await;
        let now = Utc::now();
        upsert_matter(&db, &matter("TEST-MATTER"), now)
            .await
            .unwrap();
        let step = |days| ProcedureStep {
            name: "受理".into(),
            actor: "窗口".into(),
            time_limit_days: days,
        };
        let record = ProcedureRecord {
            region: RegionCode::try_from("330000").unwrap(),
            matter: MatterCode::try_from("TEST-MATTER").unwrap(),
            steps: vec![step(1), step(2)],
            status: GuideStatus::Published,
            illustrative: false,
        };
        assert_eq!(
            upsert_procedure(&db, &record, now).await.unwrap(),
            Outcome::Inserted
        );
        assert_eq!(
            upsert_procedure(&db, &record, now).await.unwrap(),
            Outcome::Unchanged
        );
        let changed = ProcedureRecord {
            steps: vec![step(1), step(1)],
            ..record
        };
        assert_eq!(
            upsert_procedure(&db, &changed, now).await.unwrap(),
            Outcome::Updated
        );
    }
}
