//! The writes administrators make through the API. Each runs in one
//! transaction that also keeps the prior version of what it changes and
//! appends an audit entry, so a change, its history and its audit trail are
//! committed together or not at all.
//!
//! Who may make a change is decided before these are called (by `auth`'s
//! policy); these check what only storage knows: that rows exist, that the
//! caller saw the latest revision, that a status may move as asked.

use chrono::{DateTime, Utc};
use concord_domain::{
    EvaluationValues, GuideStatus, MatterCode, Origin, Period, RegionCode, StandardCode,
    StandardStatus, status_transition_allowed,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, QuerySelect, Select, Set, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    audit_entry, evaluation, national_item, operating_procedure, region, row_revision,
    service_guide, service_matter, standard,
};
use crate::footprint::{Footprint, Topic};
use crate::write::{self, GuideRecord, MatterRecord, Outcome, ProcedureRecord, StandardRecord};

/// Who makes a change, as the audit log records it: the policy's proof that
/// the caller may, which only `concord_auth::authorize` makes, so that no
/// write can skip the check.
pub type Actor = concord_auth::Authorized;

/// Why a change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MutationError {
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's `expectedRevision` is not the stored one.
    #[error("the row is at revision {current}, not the expected one; reload it and retry")]
    Conflict { current: i32 },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for MutationError {
    fn from(error: DbErr) -> Self {
        MutationError::Store(StoreError::Database(error))
    }
}

fn invalid(field: &str, message: impl Into<String>) -> MutationError {
    MutationError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Starts a write transaction. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a transaction that read first and wrote later could
/// otherwise fail to upgrade its lock when another writer got in between.
pub(crate) async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// What an audited change of `topic` commits: the topic, the audit log and
/// the change log.
pub(crate) fn touched(topic: Topic) -> Footprint {
    Footprint::of(&[topic, Topic::Audit, Topic::ChangeLog])
}

/// What an audited change of `topic` in one region commits.
fn touched_in(topic: Topic, region: &RegionCode) -> Footprint {
    let mut footprint = Footprint::of(&[Topic::Audit, Topic::ChangeLog]);
    footprint.add_region(topic, region.as_str());
    footprint
}

/// What a collaboration change commits: collaborative standards are
/// standards too, and an adoption can bring one into force.
pub(crate) fn touched_collaboration() -> Footprint {
    let mut footprint = touched(Topic::Collaboration);
    footprint.add(Topic::Standard);
    footprint
}

/// Reads a row for update: on PostgreSQL the row stays locked until the
/// transaction ends, so two writers cannot both pass the revision check.
pub(crate) fn for_update<E: EntityTrait>(select: Select<E>, backend: DbBackend) -> Select<E> {
    if backend == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}

/// The revision check: an existing row must be at `expected`; a new row
/// must be expected at no revision (absent or 0).
pub(crate) fn check_revision(
    stored: Option<i32>,
    expected: Option<i32>,
) -> Result<(), MutationError> {
    match (stored, expected) {
        (Some(current), Some(expected)) if current == expected => Ok(()),
        (Some(current), _) => Err(MutationError::Conflict { current }),
        (None, None | Some(0)) => Ok(()),
        (None, Some(_)) => Err(MutationError::Conflict { current: 0 }),
    }
}

/// What kind of row a history entry or an audit entry is about.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Guide,
    Procedure,
    Standard,
    Matter,
    NationalItem,
    Evaluation,
    CollaborativeStandard,
    Adoption,
    Elevation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Guide => "GUIDE",
            Kind::Procedure => "PROCEDURE",
            Kind::Standard => "STANDARD",
            Kind::Matter => "MATTER",
            Kind::NationalItem => "NATIONAL_ITEM",
            Kind::Evaluation => "EVALUATION",
            Kind::CollaborativeStandard => "COLLABORATIVE_STANDARD",
            Kind::Adoption => "ADOPTION",
            Kind::Elevation => "ELEVATION",
        }
    }

    /// The change-log kind of rows that replicate to peers.
    pub(crate) fn replica(self) -> Option<crate::changes::Replica> {
        use crate::changes::Replica;
        match self {
            Kind::Guide => Some(Replica::Guide),
            Kind::Procedure => Some(Replica::Procedure),
            Kind::Standard => Some(Replica::Standard),
            Kind::Matter => Some(Replica::Matter),
            Kind::NationalItem => Some(Replica::NationalItem),
            Kind::Evaluation => Some(Replica::Evaluation),
            Kind::CollaborativeStandard => Some(Replica::CollaborativeStandard),
            Kind::Adoption => Some(Replica::Adoption),
            Kind::Elevation => None,
        }
    }

    /// Whether every version of this kind of row is kept.
    fn keeps_history(self) -> bool {
        matches!(self, Kind::Guide | Kind::Standard | Kind::Procedure)
    }
}

/// One change to record: the row before and after, with their revisions.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub kind: Kind,
    pub key: String,
    pub owner: String,
    pub before: Option<(i32, Value)>,
    pub after: (i32, Value),
}

/// Keeps the versions (the prior one too, when it was never kept, as for
/// seeded rows) and appends the audit entry, in the caller's transaction.
pub(crate) async fn keep_and_audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    if change.kind.keeps_history() {
        keep_versions(
            txn,
            change.kind,
            &change.key,
            change.before.clone(),
            change.after.clone(),
            actor.subject(),
            now,
        )
        .await?;
    }
    if let Some(replica) = change.kind.replica() {
        let parts = crate::changes::split_key(replica, &change.key)?;
        crate::changes::log_current(txn, replica, &parts, now).await?;
    }
    audit(txn, actor, change, now).await
}

/// Appends the audit entry of `change`, in the caller's transaction.
pub(crate) async fn audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    audit_entry::ActiveModel {
        id: sea_orm::NotSet,
        at: Set(now),
        subject: Set(actor.subject().to_owned()),
        role: Set(actor.role().as_str().to_owned()),
        actor_region: Set(actor.region().map(ToString::to_string)),
        actor_zone: Set(actor.zone().map(ToString::to_string)),
        action: Set(change.action.to_owned()),
        target_kind: Set(change.kind.as_str().to_owned()),
        target_key: Set(change.key),
        target_region: Set(change.owner),
        before: Set(change.before.map(|(_, snapshot)| snapshot)),
        after: Set(Some(change.after.1)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Keeps the version a row had before a change, unless it is kept already,
/// and the version the change made, credited to `changed_by`: what every
/// path that changes a history-keeping row (a mutation, an import, a sync
/// page) leaves, so that `revisions` and `diff` work however the row changed.
pub(crate) async fn keep_versions<C: ConnectionTrait>(
    conn: &C,
    kind: Kind,
    key: &str,
    before: Option<(i32, Value)>,
    after: (i32, Value),
    changed_by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut versions = Vec::new();
    if let Some((revision, snapshot)) = before {
        let kept =
            row_revision::Entity::find_by_id((kind.as_str().to_owned(), key.to_owned(), revision))
                .one(conn)
                .await?;
        if kept.is_none() {
            versions.push((revision, snapshot, None));
        }
    }
    versions.push((after.0, after.1, Some(changed_by.to_owned())));
    for (revision, snapshot, changed_by) in versions {
        row_revision::ActiveModel {
            kind: Set(kind.as_str().to_owned()),
            row_key: Set(key.to_owned()),
            revision: Set(revision),
            snapshot: Set(snapshot),
            changed_by: Set(changed_by),
            changed_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// The content of a guide, as its history and the audit log keep it.
pub fn guide_snapshot(row: &service_guide::Model) -> Value {
    json!({
        "timeLimitDays": row.time_limit_days,
        "feeFen": row.fee_fen,
        "materials": row.materials.0,
        "channels": row.channels.0,
        "legalBasis": row.legal_basis,
        "guaranteeLevel": row.guarantee_level,
        "status": row.status,
    })
}

/// The content of a standard, as its history and the audit log keep it.
pub fn standard_snapshot(row: &standard::Model, matters: &[String]) -> Value {
    json!({
        "titleZh": row.title_zh,
        "titleEn": row.title_en,
        "level": row.level,
        "status": row.status,
        "issuingRegion": row.issuing_region,
        "issuingZone": row.issuing_zone,
        "issuedOn": row.issued_on,
        "effectiveOn": row.effective_on,
        "supersedes": row.supersedes,
        "note": row.note,
        "matters": matters,
    })
}

/// What a kept version of a procedure holds: its steps.
pub fn procedure_snapshot(row: &operating_procedure::Model) -> Value {
    json!({ "steps": row.steps.0 })
}

fn matter_snapshot(row: &service_matter::Model) -> Value {
    json!({
        "nameZh": row.name_zh,
        "nameEn": row.name_en,
        "category": row.category_code,
        "nationalEdition": row.national_edition,
        "nationalNumber": row.national_number,
    })
}

fn item_snapshot(row: &national_item::Model) -> Value {
    json!({
        "nameZh": row.name_zh,
        "nameEn": row.name_en,
        "category": row.category_code,
        "areaZh": row.area_zh,
        "servedGroup": row.served_group,
        "content": row.content,
        "baselineStandard": row.baseline_standard,
        "fundingResponsibility": row.funding_responsibility,
        "leadDepartment": row.lead_department,
        "maxTimeLimitDays": row.max_time_limit_days,
        "maxFeeFen": row.max_fee_fen,
        "requiredChannels": row.required_channels.as_ref().map(|c| &c.0),
    })
}

fn evaluation_snapshot(row: &evaluation::Model) -> Value {
    json!({
        "satisfaction": row.satisfaction,
        "casesHandled": row.cases_handled,
        "averageDays": row.average_days,
    })
}

pub(crate) async fn matter_links<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Vec<String>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    Ok(crate::entity::standard_matter::Entity::find()
        .filter(crate::entity::standard_matter::Column::StandardCode.eq(code))
        .order_by_asc(crate::entity::standard_matter::Column::MatterCode)
        .all(conn)
        .await?
        .into_iter()
        .map(|link| link.matter_code)
        .collect())
}

async fn require_region_and_matter(
    txn: &DatabaseTransaction,
    region: &RegionCode,
    matter: &MatterCode,
) -> Result<(), MutationError> {
    if region::Entity::find_by_id(region.as_str())
        .one(txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!("region {region}")));
    }
    if service_matter::Entity::find_by_id(matter.as_str())
        .one(txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!("matter {matter}")));
    }
    Ok(())
}

fn guide_key(region: &RegionCode, matter: &MatterCode) -> String {
    format!("{region}/{matter}")
}

/// Creates or updates a region's guide for a matter, as a draft.
pub async fn save_guide(
    db: &DatabaseConnection,
    actor: &Actor,
    record: GuideRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<service_guide::Model, MutationError> {
    let txn = begin(db).await?;
    require_region_and_matter(&txn, &record.region, &record.matter).await?;
    let id = (record.region.to_string(), record.matter.to_string());
    let stored = for_update(
        service_guide::Entity::find_by_id(id.clone()),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let procedure = operating_procedure::Entity::find_by_id(id.clone())
        .one(&txn)
        .await?;
    if let Some(procedure) = procedure {
        let total: i32 = procedure.steps.0.iter().map(|s| s.time_limit_days).sum();
        if total > record.guide.time_limit_days {
            return Err(invalid(
                "timeLimitDays",
                format!(
                    "the guide's procedure takes {total} working days; shorten it first or allow at least that"
                ),
            ));
        }
    }
    let outcome = write::upsert_guide(&txn, &record, now).await?;
    let after = service_guide::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("guide".into()))?;
    if outcome != Outcome::Unchanged {
        let action = if stored.is_some() {
            "UPDATE_GUIDE"
        } else {
            "CREATE_GUIDE"
        };
        record_guide(&txn, actor, action, stored.as_ref(), &after, now).await?;
    }
    crate::version::commit_touching(txn, &touched_in(Topic::Guide, &record.region)).await?;
    Ok(after)
}

async fn record_guide(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: Option<&service_guide::Model>,
    after: &service_guide::Model,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let region = RegionCode::try_from(after.region_code.as_str())
        .map_err(|e| invalid("region", e.to_string()))?;
    let matter = MatterCode::try_from(after.matter_code.as_str())
        .map_err(|e| invalid("matter", e.to_string()))?;
    keep_and_audit(
        txn,
        actor,
        Change {
            action,
            kind: Kind::Guide,
            key: guide_key(&region, &matter),
            owner: after.origin.clone(),
            before: before.map(|b| (b.revision, guide_snapshot(b))),
            after: (after.revision, guide_snapshot(after)),
        },
        now,
    )
    .await
}

/// Publishes a guide or takes it back to draft.
pub async fn set_guide_status(
    db: &DatabaseConnection,
    actor: &Actor,
    region: &RegionCode,
    matter: &MatterCode,
    status: GuideStatus,
    expected: i32,
    now: DateTime<Utc>,
) -> Result<service_guide::Model, MutationError> {
    let txn = begin(db).await?;
    let id = (region.to_string(), matter.to_string());
    let stored = for_update(
        service_guide::Entity::find_by_id(id.clone()),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?
    .ok_or_else(|| MutationError::NotFound(format!("guide of {region} for {matter}")))?;
    check_revision(Some(stored.revision), Some(expected))?;
    if stored.status == status.as_str() {
        // Nothing changed, so the version stays.
        txn.commit().await?;
        return Ok(stored);
    }
    let mut row = stored.clone();
    row.status = status.as_str().to_owned();
    row.published_at = (status == GuideStatus::Published).then_some(now);
    row.revision += 1;
    row.updated_at = now;
    row.clone()
        .into_active_model()
        .reset_all()
        .update(&txn)
        .await?;
    let action = match status {
        GuideStatus::Published => "PUBLISH_GUIDE",
        GuideStatus::Draft => "UNPUBLISH_GUIDE",
    };
    record_guide(&txn, actor, action, Some(&stored), &row, now).await?;
    crate::version::commit_touching(txn, &touched_in(Topic::Guide, region)).await?;
    Ok(row)
}

/// Replaces the steps of a guide's operating procedure.
pub async fn save_procedure(
    db: &DatabaseConnection,
    actor: &Actor,
    record: ProcedureRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<operating_procedure::Model, MutationError> {
    let txn = begin(db).await?;
    let id = (record.region.to_string(), record.matter.to_string());
    let guide = service_guide::Entity::find_by_id(id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| {
            MutationError::NotFound(format!("guide of {} for {}", record.region, record.matter))
        })?;
    concord_domain::validate_steps(&record.steps, Some(guide.time_limit_days)).map_err(
        |errors| {
            let first = &errors[0];
            invalid(&first.field, first.message.clone())
        },
    )?;
    let stored = for_update(
        operating_procedure::Entity::find_by_id(id.clone()),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let outcome = write::upsert_procedure(&txn, &record, now).await?;
    let after = operating_procedure::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("procedure".into()))?;
    if outcome != Outcome::Unchanged {
        keep_and_audit(
            &txn,
            actor,
            Change {
                action: "SAVE_PROCEDURE",
                kind: Kind::Procedure,
                key: guide_key(&record.region, &record.matter),
                owner: after.origin.clone(),
                before: stored.as_ref().map(|s| (s.revision, procedure_snapshot(s))),
                after: (after.revision, procedure_snapshot(&after)),
            },
            now,
        )
        .await?;
    }
    crate::version::commit_touching(txn, &touched_in(Topic::Procedure, &record.region)).await?;
    Ok(after)
}

/// Loads a standard with its matters, locking it when `lock` names the
/// backend of a writer that will change it.
async fn load_standard(
    txn: &DatabaseTransaction,
    lock: Option<DbBackend>,
    code: &StandardCode,
) -> Result<Option<(standard::Model, Vec<String>)>, MutationError> {
    let select = standard::Entity::find_by_id(code.as_str());
    let select = match lock {
        Some(backend) => for_update(select, backend),
        None => select,
    };
    let Some(row) = select.one(txn).await? else {
        return Ok(None);
    };
    let matters = matter_links(txn, code.as_str()).await?;
    Ok(Some((row, matters)))
}

async fn record_standard(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: Option<&(standard::Model, Vec<String>)>,
    after: &(standard::Model, Vec<String>),
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    keep_and_audit(
        txn,
        actor,
        Change {
            action,
            kind: Kind::Standard,
            key: after.0.code.clone(),
            owner: after.0.origin.clone(),
            before: before.map(|(row, matters)| (row.revision, standard_snapshot(row, matters))),
            after: (after.0.revision, standard_snapshot(&after.0, &after.1)),
        },
        now,
    )
    .await
}

/// Creates a standard as a draft; its code must be new.
pub async fn create_standard(
    db: &DatabaseConnection,
    actor: &Actor,
    record: StandardRecord,
    now: DateTime<Utc>,
) -> Result<standard::Model, MutationError> {
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    if let Some((existing, _)) = load_standard(&txn, Some(backend), &record.code).await? {
        return Err(MutationError::Conflict {
            current: existing.revision,
        });
    }
    check_standard_references(&txn, &record).await?;
    write::upsert_standard(&txn, &record, now).await?;
    let after = load_standard(&txn, Some(backend), &record.code)
        .await?
        .ok_or_else(|| MutationError::NotFound("standard".into()))?;
    record_standard(&txn, actor, "CREATE_STANDARD", None, &after, now).await?;
    crate::version::commit_touching(txn, &touched(Topic::Standard)).await?;
    Ok(after.0)
}

pub(crate) async fn check_standard_references(
    txn: &DatabaseTransaction,
    record: &StandardRecord,
) -> Result<(), MutationError> {
    if let Some(matters) = &record.matters {
        for matter in matters {
            if service_matter::Entity::find_by_id(matter.as_str())
                .one(txn)
                .await?
                .is_none()
            {
                return Err(MutationError::NotFound(format!("matter {matter}")));
            }
        }
    }
    if let Some(region) = &record.issuing_region
        && region::Entity::find_by_id(region.as_str())
            .one(txn)
            .await?
            .is_none()
    {
        return Err(MutationError::NotFound(format!("region {region}")));
    }
    if let Some(zone) = &record.issuing_zone
        && crate::entity::zone::Entity::find_by_id(zone.as_str())
            .one(txn)
            .await?
            .is_none()
    {
        return Err(MutationError::NotFound(format!("zone {zone}")));
    }
    Ok(())
}

/// Revises a standard's content; its code, level, issuer and status stay.
pub async fn revise_standard(
    db: &DatabaseConnection,
    actor: &Actor,
    mut record: StandardRecord,
    expected: i32,
    now: DateTime<Utc>,
) -> Result<standard::Model, MutationError> {
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    let before = load_standard(&txn, Some(backend), &record.code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {}", record.code)))?;
    check_revision(Some(before.0.revision), Some(expected))?;
    check_standard_references(&txn, &record).await?;
    record.status = parse_status(&before.0.status)?;
    record.supersedes = before
        .0
        .supersedes
        .as_deref()
        .and_then(|code| StandardCode::try_from(code).ok());
    let outcome = write::upsert_standard(&txn, &record, now).await?;
    let after = load_standard(&txn, Some(backend), &record.code)
        .await?
        .ok_or_else(|| MutationError::NotFound("standard".into()))?;
    if outcome != Outcome::Unchanged {
        record_standard(&txn, actor, "REVISE_STANDARD", Some(&before), &after, now).await?;
    }
    crate::version::commit_touching(txn, &touched(Topic::Standard)).await?;
    Ok(after.0)
}

fn parse_status(text: &str) -> Result<StandardStatus, MutationError> {
    text.parse()
        .map_err(|error: concord_domain::ParseEnumError| {
            MutationError::Store(StoreError::Corrupt(error.to_string()))
        })
}

/// Moves a standard along its life cycle: DRAFT → IN_FORCE → SUPERSEDED or WITHDRAWN.
pub async fn set_standard_status(
    db: &DatabaseConnection,
    actor: &Actor,
    code: &StandardCode,
    status: StandardStatus,
    expected: i32,
    now: DateTime<Utc>,
) -> Result<standard::Model, MutationError> {
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    let before = load_standard(&txn, Some(backend), code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    check_revision(Some(before.0.revision), Some(expected))?;
    let from = parse_status(&before.0.status)?;
    if !status_transition_allowed(from, status) {
        return Err(invalid(
            "status",
            format!(
                "a {from} standard cannot become {status}; allowed: DRAFT → IN_FORCE → SUPERSEDED or WITHDRAWN"
            ),
        ));
    }
    let after = change_status(&txn, &before, status, None, now).await?;
    record_standard(
        &txn,
        actor,
        "SET_STANDARD_STATUS",
        Some(&before),
        &after,
        now,
    )
    .await?;
    crate::version::commit_touching(txn, &touched(Topic::Standard)).await?;
    Ok(after.0)
}

async fn change_status(
    txn: &DatabaseTransaction,
    before: &(standard::Model, Vec<String>),
    status: StandardStatus,
    supersedes: Option<Option<String>>,
    now: DateTime<Utc>,
) -> Result<(standard::Model, Vec<String>), MutationError> {
    let mut row = before.0.clone();
    row.status = status.as_str().to_owned();
    if let Some(supersedes) = supersedes {
        row.supersedes = supersedes;
    }
    row.revision += 1;
    row.updated_at = now;
    row.clone()
        .into_active_model()
        .reset_all()
        .update(txn)
        .await?;
    Ok((row, before.1.clone()))
}

/// Records the standard `code` as it now is, after `action` created it
/// (`before` None) or changed it.
pub(crate) async fn record_standard_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: Option<&(standard::Model, Vec<String>)>,
    code: &StandardCode,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let after = load_standard(txn, None, code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    record_standard(txn, actor, action, before, &after, now).await
}

/// Sets a standard's status as a workflow decides it (a collaborative
/// standard comes into force when its members adopt it, or is withdrawn
/// while proposed), keeping its history.
pub(crate) async fn force_standard_status(
    txn: &DatabaseTransaction,
    actor: &Actor,
    code: &StandardCode,
    status: StandardStatus,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let before = load_standard(txn, None, code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    let after = change_status(txn, &before, status, None, now).await?;
    record_standard(
        txn,
        actor,
        "SET_STANDARD_STATUS",
        Some(&before),
        &after,
        now,
    )
    .await
}

/// Records that `new` replaces `old`: the old standard becomes SUPERSEDED and
/// the new one names it. Both must be in force (the new one may be a draft
/// about to come into force) and distinct, and at the revisions the caller
/// last read (`expected`: old's, then new's).
pub async fn supersede_standard(
    db: &DatabaseConnection,
    actor: &Actor,
    old: &StandardCode,
    new: &StandardCode,
    expected: (i32, i32),
    now: DateTime<Utc>,
) -> Result<(standard::Model, standard::Model), MutationError> {
    if old == new {
        return Err(invalid("new", "a standard cannot supersede itself"));
    }
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    let old_row = load_standard(&txn, Some(backend), old)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {old}")))?;
    let new_row = load_standard(&txn, Some(backend), new)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {new}")))?;
    check_revision(Some(old_row.0.revision), Some(expected.0))?;
    check_revision(Some(new_row.0.revision), Some(expected.1))?;
    if parse_status(&old_row.0.status)? != StandardStatus::InForce {
        return Err(invalid(
            "old",
            format!("{old} is {}, not IN_FORCE", old_row.0.status),
        ));
    }
    if parse_status(&new_row.0.status)? == StandardStatus::Superseded
        || parse_status(&new_row.0.status)? == StandardStatus::Withdrawn
    {
        return Err(invalid("new", format!("{new} is {}", new_row.0.status)));
    }
    let old_after = change_status(&txn, &old_row, StandardStatus::Superseded, None, now).await?;
    let new_status = parse_status(&new_row.0.status)?;
    let new_after =
        change_status(&txn, &new_row, new_status, Some(Some(old.to_string())), now).await?;
    record_standard(
        &txn,
        actor,
        "SUPERSEDE_STANDARD",
        Some(&old_row),
        &old_after,
        now,
    )
    .await?;
    record_standard(
        &txn,
        actor,
        "SUPERSEDE_STANDARD",
        Some(&new_row),
        &new_after,
        now,
    )
    .await?;
    crate::version::commit_touching(txn, &touched(Topic::Standard)).await?;
    Ok((old_after.0, new_after.0))
}

/// Creates or updates a service matter of the catalogue.
pub async fn save_matter(
    db: &DatabaseConnection,
    actor: &Actor,
    record: MatterRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<service_matter::Model, MutationError> {
    let txn = begin(db).await?;
    if crate::entity::category::Entity::find_by_id(record.category.as_str())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "category {}",
            record.category
        )));
    }
    if let Some((edition, number)) = record.national_item
        && national_item::Entity::find_by_id((edition, number))
            .one(&txn)
            .await?
            .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "national item {edition}/{number}"
        )));
    }
    if let Some(standards) = &record.standards {
        for code in standards {
            if standard::Entity::find_by_id(code.as_str())
                .one(&txn)
                .await?
                .is_none()
            {
                return Err(MutationError::NotFound(format!("standard {code}")));
            }
        }
    }
    let stored = for_update(
        service_matter::Entity::find_by_id(record.code.as_str()),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let outcome = write::upsert_matter(&txn, &record, now).await?;
    let after = service_matter::Entity::find_by_id(record.code.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("matter".into()))?;
    if outcome != Outcome::Unchanged {
        keep_and_audit(
            &txn,
            actor,
            Change {
                action: if stored.is_some() {
                    "UPDATE_MATTER"
                } else {
                    "CREATE_MATTER"
                },
                kind: Kind::Matter,
                key: after.code.clone(),
                owner: after.origin.clone(),
                before: stored.as_ref().map(|s| (s.revision, matter_snapshot(s))),
                after: (after.revision, matter_snapshot(&after)),
            },
            now,
        )
        .await?;
    }
    crate::version::commit_touching(txn, &touched(Topic::Catalogue)).await?;
    Ok(after)
}

/// The fields of a national item, as saved by NATIONAL_ADMIN.
#[derive(Debug, Clone)]
pub struct NationalItemRecord {
    pub edition: i32,
    pub number: i32,
    pub name_zh: String,
    pub name_en: String,
    pub category: concord_domain::CategoryCode,
    pub area_zh: String,
    pub served_group: String,
    pub content: String,
    pub baseline_standard: String,
    pub funding_responsibility: String,
    pub lead_department: String,
    pub baseline: concord_domain::alignment::Baseline,
    pub illustrative: bool,
}

/// Creates or updates an item of the national standard.
pub async fn save_national_item(
    db: &DatabaseConnection,
    actor: &Actor,
    record: NationalItemRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<national_item::Model, MutationError> {
    let txn = begin(db).await?;
    if crate::entity::national_edition::Entity::find_by_id(record.edition)
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "edition {}",
            record.edition
        )));
    }
    if crate::entity::category::Entity::find_by_id(record.category.as_str())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "category {}",
            record.category
        )));
    }
    let id = (record.edition, record.number);
    let stored = for_update(
        national_item::Entity::find_by_id(id),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let row = national_item::Model {
        edition: record.edition,
        number: record.number,
        name_zh: record.name_zh,
        name_en: record.name_en,
        category_code: record.category.to_string(),
        area_zh: record.area_zh,
        served_group: record.served_group,
        content: record.content,
        baseline_standard: record.baseline_standard,
        funding_responsibility: record.funding_responsibility,
        lead_department: record.lead_department,
        max_time_limit_days: record.baseline.max_time_limit_days,
        max_fee_fen: record.baseline.max_fee_fen,
        required_channels: (!record.baseline.required_channels.is_empty()).then(|| {
            crate::entity::TextList(
                record
                    .baseline
                    .required_channels
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            )
        }),
        origin: Origin::National.as_str().to_owned(),
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    };
    let row = crate::write::put(&txn, stored.as_ref(), row, now).await?;
    keep_and_audit(
        &txn,
        actor,
        Change {
            action: if stored.is_some() {
                "UPDATE_NATIONAL_ITEM"
            } else {
                "CREATE_NATIONAL_ITEM"
            },
            kind: Kind::NationalItem,
            key: format!("{}/{}", row.edition, row.number),
            owner: row.origin.clone(),
            before: stored.as_ref().map(|s| (s.revision, item_snapshot(s))),
            after: (row.revision, item_snapshot(&row)),
        },
        now,
    )
    .await?;
    crate::version::commit_touching(txn, &touched(Topic::Catalogue)).await?;
    Ok(row)
}

/// Records (or corrects) a region's evaluation of a matter for a period. A
/// correction must name the revision it corrects (`expected`); a first
/// record, none.
#[allow(clippy::too_many_arguments)]
pub async fn record_evaluation(
    db: &DatabaseConnection,
    actor: &Actor,
    region: &RegionCode,
    matter: &MatterCode,
    period: &Period,
    values: EvaluationValues,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<evaluation::Model, MutationError> {
    let txn = begin(db).await?;
    require_region_and_matter(&txn, region, matter).await?;
    let id = (region.to_string(), matter.to_string(), period.to_string());
    let stored = for_update(
        evaluation::Entity::find_by_id(id),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let row = evaluation::Model {
        region_code: region.to_string(),
        matter_code: matter.to_string(),
        period: period.to_string(),
        satisfaction: values.satisfaction,
        cases_handled: values.cases_handled,
        average_days: values.average_days,
        origin: region.to_string(),
        revision: 1,
        illustrative: false,
        created_at: now,
        updated_at: now,
    };
    let row = crate::write::put(&txn, stored.as_ref(), row, now).await?;
    keep_and_audit(
        &txn,
        actor,
        Change {
            action: "RECORD_EVALUATION",
            kind: Kind::Evaluation,
            key: format!("{region}/{matter}/{period}"),
            owner: region.to_string(),
            before: stored
                .as_ref()
                .map(|s| (s.revision, evaluation_snapshot(s))),
            after: (row.revision, evaluation_snapshot(&row)),
        },
        now,
    )
    .await?;
    crate::version::commit_touching(txn, &touched_in(Topic::Evaluation, region)).await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_checks() {
        assert!(check_revision(Some(3), Some(3)).is_ok());
        assert!(matches!(
            check_revision(Some(3), Some(2)),
            Err(MutationError::Conflict { current: 3 })
        ));
        assert!(matches!(
            check_revision(Some(3), None),
            Err(MutationError::Conflict { current: 3 })
        ));
        assert!(check_revision(None, None).is_ok());
        assert!(check_revision(None, Some(0)).is_ok());
        assert!(matches!(
            check_revision(None, Some(1)),
            Err(MutationError::Conflict { current: 0 })
        ));
    }
}
