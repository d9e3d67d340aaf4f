//! The writes administrators make through the API. Each runs in one
//! transaction that also keeps the prior version of what it changes and
//! appends an audit entry, so a change, its history and its audit trail are
//! committed together or not at all.
//!
//! Who may make a change is decided before these are called (by `auth`'s
//! policy); these check what only storage knows: that rows exist, that the
//! caller saw the latest revision, that a status may move as asked.
//!
//! This file holds what every write shares (the transaction, revision
//! checks, history and audit); the writes themselves have a file per group:
//! `guides`, `standards`, `catalogue` (matters and national items),
//! `exemptions` (leave to publish below a national baseline),
//! `evaluations`, `collaboration` (zones' collaborative standards and
//! adoptions) and `elevation` (proposals to raise a standard's level).

use chrono::{DateTime, Utc};
use concord_domain::guide::{OperatingProcedure, ServiceGuide};
use concord_domain::standard::Standard;
use concord_domain::{AuditAction, RowKind};
use concord_domain::{MatterCode, RegionCode};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IntoActiveModel, PrimaryKeyTrait,
    QuerySelect, Select, Set, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    audit_entry, baseline_exemption, evaluation, national_item, operating_procedure, region,
    row_revision, service_guide, service_matter, standard,
};
use crate::footprint::{Footprint, Topic};
use crate::write::Bookkeeping;

mod catalogue;
mod collaboration;
mod elevation;
mod evaluations;
mod exemptions;
mod guides;
mod standards;

pub use catalogue::{save_matter, save_national_item};
pub use collaboration::{decide_adoption, propose_collaborative, withdraw_collaborative};
pub use elevation::{Elevated, decide_elevation, propose_elevation};
pub use evaluations::record_evaluation;
use exemptions::exemption_key;
pub use exemptions::{grant_exemption, revoke_exemption};
pub use guides::{publish_procedure, save_guide, save_procedure, set_guide_status};
pub(crate) use standards::{
    check_standard_references, force_standard_status, record_standard_change,
};
pub use standards::{create_standard, revise_standard, set_standard_status, supersede_standard};

/// Who makes a change, as the audit log records it: the policy's proof that
/// the caller may, which only `concord_auth::authorize` makes, so that no
/// write can skip the check.
pub type Actor = concord_auth::Authorized;

/// What a write through the API is made with: the database it commits to,
/// who makes it (the policy's proof) and the moment it is stamped with.
pub struct Permit<'a> {
    pub db: &'a DatabaseConnection,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

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
    /// Publishing a guide below its national item's baseline, without an
    /// exemption in force.
    #[error("{}", .0.describe())]
    BelowBaseline(concord_domain::BaselineViolation),
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

/// Commits `txn`, touching `footprint`, and returns `row` as the domain's
/// record `R`: converted before the commit, so that a row the domain
/// refuses fails the mutation and is never kept.
pub(crate) async fn commit_as<R, M>(
    txn: DatabaseTransaction,
    footprint: &Footprint,
    row: M,
) -> Result<R, MutationError>
where
    R: TryFrom<M, Error = StoreError>,
{
    let saved = R::try_from(row)?;
    crate::version::commit_touching(txn, footprint).await?;
    Ok(saved)
}

/// Ends a collaboration change: keeps its versions, logs and audits it
/// ([`keep_and_audit`]), and commits the transaction as touching
/// collaboration ([`touched_collaboration`]).
pub(crate) async fn commit_collaboration(
    txn: DatabaseTransaction,
    actor: &Actor,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    keep_and_audit(&txn, actor, change, now).await?;
    crate::version::commit_touching(txn, &touched_collaboration()).await?;
    Ok(())
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

/// Writes `row`, changed from the stored row it was read as, back as the
/// next revision, changed at `now`; returns it as written.
pub(crate) async fn update_revised<A, M>(
    txn: &DatabaseTransaction,
    mut row: M,
    now: DateTime<Utc>,
) -> Result<M, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    M: IntoActiveModel<A> + Bookkeeping + Clone,
{
    row.bump(now);
    row.clone()
        .into_active_model()
        .reset_all()
        .update(txn)
        .await?;
    Ok(row)
}

/// The stored row of `E` keyed `id`, read for update (see [`for_update`]).
pub(crate) async fn stored_for_update<E: EntityTrait>(
    txn: &DatabaseTransaction,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
) -> Result<Option<E::Model>, DbErr> {
    for_update(E::find_by_id(id), txn.get_database_backend())
        .one(txn)
        .await
}

/// Refuses with [`MutationError::NotFound`] of `what` unless a row of `E`
/// is keyed `id`: the rows a change refers to must exist.
pub(crate) async fn require<E: EntityTrait>(
    txn: &DatabaseTransaction,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    what: impl FnOnce() -> String,
) -> Result<(), MutationError> {
    match E::find_by_id(id).one(txn).await? {
        Some(_) => Ok(()),
        None => Err(MutationError::NotFound(what())),
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

/// One change to record: the row before and after, with their revisions.
pub(crate) struct Change {
    pub action: AuditAction,
    pub kind: RowKind,
    pub key: String,
    pub owner: String,
    pub before: Option<(i32, Value)>,
    pub after: (i32, Value),
}

/// A row whose changes are audited (and kept, for the kinds that keep
/// history): what its audit entries and kept versions say of it.
pub(crate) trait Audited {
    const KIND: RowKind;
    /// The row's key in the audit log, its history and the change log.
    fn key(&self) -> String;
    /// The region code of the authority the row belongs to.
    fn owner(&self) -> String;
    fn revision(&self) -> i32;
    /// The row's content, as its history and the audit log keep it.
    fn snapshot(&self) -> Value;
}

macro_rules! audited {
    ($($model:ty: $kind:ident, |$row:ident| $key:expr, $snapshot:expr;)+) => {$(
        impl Audited for $model {
            const KIND: RowKind = RowKind::$kind;

            fn key(&self) -> String {
                let $row = self;
                $key
            }

            fn owner(&self) -> String {
                self.origin.clone()
            }

            fn revision(&self) -> i32 {
                self.revision
            }

            fn snapshot(&self) -> Value {
                $snapshot(self)
            }
        }
    )+};
}

audited! {
    service_guide::Model: Guide,
        |row| format!("{}/{}", row.region_code, row.matter_code), guide_snapshot;
    operating_procedure::Model: Procedure,
        |row| format!("{}/{}", row.region_code, row.matter_code), procedure_snapshot;
    baseline_exemption::Model: Exemption, |row| exemption_key(row), exemption_snapshot;
    service_matter::Model: Matter, |row| row.code.clone(), matter_snapshot;
    national_item::Model: NationalItem,
        |row| format!("{}/{}", row.edition, row.number), item_snapshot;
    evaluation::Model: Evaluation,
        |row| format!("{}/{}/{}", row.region_code, row.matter_code, row.period),
        evaluation_snapshot;
}

/// A standard with the matters it governs, which its versions keep too.
impl Audited for (standard::Model, Vec<String>) {
    const KIND: RowKind = RowKind::Standard;

    fn key(&self) -> String {
        self.0.code.clone()
    }

    fn owner(&self) -> String {
        self.0.origin.clone()
    }

    fn revision(&self) -> i32 {
        self.0.revision
    }

    fn snapshot(&self) -> Value {
        standard_snapshot(&self.0, &self.1)
    }
}

impl Change {
    /// `action`'s change of a row from `before` (None for a new row) to
    /// `after`.
    pub(crate) fn of<M: Audited>(action: AuditAction, before: Option<&M>, after: &M) -> Self {
        Change {
            action,
            kind: M::KIND,
            key: after.key(),
            owner: after.owner(),
            before: before.map(|row| (row.revision(), row.snapshot())),
            after: (after.revision(), after.snapshot()),
        }
    }
}

/// Keeps the versions of `action`'s change of a row from `before` to
/// `after`, and appends its audit entry (see [`keep_and_audit`]).
pub(crate) async fn record_change<M: Audited>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: AuditAction,
    before: Option<&M>,
    after: &M,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    keep_and_audit(txn, actor, Change::of(action, before, after), now).await
}

/// Keeps the versions (the prior one too, when it was never kept, as for
/// seeded rows) and appends the audit entry, in the caller's transaction.
pub(crate) async fn keep_and_audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    change: Change,
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
    let parts = crate::changes::split_key(change.kind, &change.key)?;
    crate::changes::log_current(txn, change.kind, &parts, now).await?;
    audit(txn, actor, change, now).await
}

/// Appends the audit entry of `change`, in the caller's transaction.
pub(crate) async fn audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    audit_entry::ActiveModel {
        id: sea_orm::NotSet,
        at: Set(now),
        subject: Set(actor.subject().to_owned()),
        role: Set(actor.role().as_str().to_owned()),
        actor_region: Set(actor.region().map(ToString::to_string)),
        actor_zone: Set(actor.zone().map(ToString::to_string)),
        action: Set(change.action.as_str().to_owned()),
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
    kind: RowKind,
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
pub(crate) fn guide_snapshot(row: &service_guide::Model) -> Value {
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
pub(crate) fn standard_snapshot(row: &standard::Model, matters: &[String]) -> Value {
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
        "reviewOn": row.review_on,
        "elevatedFrom": row.elevated_from,
        "note": row.note,
        "matters": matters,
    })
}

/// What a kept version of a procedure holds: its steps.
pub(crate) fn procedure_snapshot(row: &operating_procedure::Model) -> Value {
    json!({ "steps": row.steps.0, "status": row.status })
}

/// The content of the current version of a guide, as its kept versions
/// hold theirs.
pub fn guide_version(guide: &ServiceGuide) -> Value {
    guide_snapshot(&service_guide::Model::from(guide))
}

/// The content of the current version of a standard that governs
/// `matters`, as its kept versions hold theirs.
pub fn standard_version(standard: &Standard, matters: &[String]) -> Value {
    standard_snapshot(&standard::Model::from(standard), matters)
}

/// The content of the current version of a procedure, as its kept
/// versions hold theirs.
pub fn procedure_version(procedure: &OperatingProcedure) -> Value {
    procedure_snapshot(&operating_procedure::Model::from(procedure))
}

/// What a kept version of a baseline exemption holds.
pub fn exemption_snapshot(row: &baseline_exemption::Model) -> Value {
    json!({
        "validUntil": row.valid_until,
        "rationale": row.rationale,
        "grantedBy": row.granted_by,
        "revokedBy": row.revoked_by,
        "revokedAt": row.revoked_at,
    })
}

fn matter_snapshot(row: &service_matter::Model) -> Value {
    json!({
        "nameZh": row.name_zh,
        "nameEn": row.name_en,
        "category": row.category_code,
        "nationalEdition": row.national_edition,
        "nationalNumber": row.national_number,
        "servedGroups": row.served_groups.as_ref().map(|g| &g.0),
    })
}

/// What a kept version of a national item holds: its fields, baseline and
/// whether it is illustrative, so that an official row's history shows the
/// illustrative one it replaced.
pub(crate) fn item_snapshot(row: &national_item::Model) -> Value {
    json!({
        "nameZh": row.name_zh,
        "nameEn": row.name_en,
        "category": row.category_code,
        "areaZh": row.area_zh,
        "servedGroup": row.served_group,
        "servedGroups": row.served_groups.as_ref().map(|g| &g.0),
        "content": row.content,
        "baselineStandard": row.baseline_standard,
        "fundingResponsibility": row.funding_responsibility,
        "leadDepartment": row.lead_department,
        "maxTimeLimitDays": row.max_time_limit_days,
        "maxFeeFen": row.max_fee_fen,
        "requiredChannels": row.required_channels.as_ref().map(|c| &c.0),
        "illustrative": row.illustrative,
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
    require::<region::Entity>(txn, region.as_str(), || format!("region {region}")).await?;
    require::<service_matter::Entity>(txn, matter.as_str(), || format!("matter {matter}")).await
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
