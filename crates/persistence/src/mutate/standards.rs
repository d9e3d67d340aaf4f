//! Standards: creating, revising, moving their status and superseding one
//! with another, each with the prior version kept and an audit entry.

use chrono::{DateTime, Utc};
use concord_domain::AuditAction;
use concord_domain::standard::Standard;
use concord_domain::workflow::ElevationStatus;
use concord_domain::{
    StandardCode, StandardDraft, StandardStatus, check_supersession, status_transition_allowed,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter};

use crate::StoreError;
use crate::entity::{elevation_proposal, region, service_matter, standard};
use crate::footprint::Topic;
use crate::write::{self, Outcome};

use super::{
    Actor, MutationError, Permit, begin, check_revision, commit_as, for_update, invalid,
    matter_links, record_change, require, touched, update_revised,
};

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

/// Creates a standard as a draft; its code must be new.
pub async fn create_standard(
    permit: &Permit<'_>,
    record: StandardDraft,
) -> Result<Standard, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
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
    record_change(&txn, actor, AuditAction::CreateStandard, None, &after, now).await?;
    commit_as(txn, &touched(Topic::Standard), after.0).await
}

pub(crate) async fn check_standard_references(
    txn: &DatabaseTransaction,
    record: &StandardDraft,
) -> Result<(), MutationError> {
    for matter in record.matters.iter().flatten() {
        require::<service_matter::Entity>(txn, matter.as_str(), || format!("matter {matter}"))
            .await?;
    }
    if let Some(region) = &record.issuing_region {
        require::<region::Entity>(txn, region.as_str(), || format!("region {region}")).await?;
    }
    if let Some(zone) = &record.issuing_zone {
        require::<crate::entity::zone::Entity>(txn, zone.as_str(), || format!("zone {zone}"))
            .await?;
    }
    Ok(())
}

/// Revises a standard's content; its code, level, issuer and status stay.
pub async fn revise_standard(
    permit: &Permit<'_>,
    mut record: StandardDraft,
    expected: i32,
) -> Result<Standard, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    let before = load_standard(&txn, Some(backend), &record.code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {}", record.code)))?;
    check_revision(Some(before.0.revision), Some(expected))?;
    check_standard_references(&txn, &record).await?;
    record.status = *before.0.status;
    record.supersedes = before
        .0
        .supersedes
        .as_deref()
        .map(StandardCode::try_from)
        .transpose()
        .map_err(|error| {
            StoreError::Corrupt(format!("standard {}: supersedes {error}", record.code))
        })?;
    let outcome = write::upsert_standard(&txn, &record, now).await?;
    let after = load_standard(&txn, Some(backend), &record.code)
        .await?
        .ok_or_else(|| MutationError::NotFound("standard".into()))?;
    if outcome != Outcome::Unchanged {
        record_change(
            &txn,
            actor,
            AuditAction::ReviseStandard,
            Some(&before),
            &after,
            now,
        )
        .await?;
    }
    commit_as(txn, &touched(Topic::Standard), after.0).await
}

/// Moves a standard along its life cycle: DRAFT → IN_FORCE → SUPERSEDED or
/// WITHDRAWN. A standard an accepted elevation created supersedes its local
/// standard as it comes into force, unless the decision kept that one.
pub async fn set_standard_status(
    permit: &Permit<'_>,
    code: &StandardCode,
    status: StandardStatus,
    expected: i32,
) -> Result<Standard, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let backend = db.get_database_backend();
    let before = load_standard(&txn, Some(backend), code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    check_revision(Some(before.0.revision), Some(expected))?;
    let from = *before.0.status;
    if !status_transition_allowed(from, status) {
        return Err(invalid(
            "status",
            format!(
                "a {from} standard cannot become {status}; allowed: DRAFT → IN_FORCE → SUPERSEDED or WITHDRAWN"
            ),
        ));
    }
    let replaced = match status {
        StandardStatus::InForce => elevated_replaces(&txn, backend, &before.0).await?,
        _ => None,
    };
    let supersedes = replaced.as_ref().map(|local| Some(local.0.code.clone()));
    let after = change_status(&txn, &before, status, supersedes, now).await?;
    record_change(
        &txn,
        actor,
        AuditAction::SetStandardStatus,
        Some(&before),
        &after,
        now,
    )
    .await?;
    if let Some(local) = replaced {
        let local_after =
            change_status(&txn, &local, StandardStatus::Superseded, None, now).await?;
        record_change(
            &txn,
            actor,
            AuditAction::SupersedeStandard,
            Some(&local),
            &local_after,
            now,
        )
        .await?;
    }
    commit_as(txn, &touched(Topic::Standard), after.0).await
}

/// The local standard that `elevated` supersedes as it comes into force:
/// the one an accepted elevation raised it from, unless that decision
/// kept the local standard, or it is no longer in force.
async fn elevated_replaces(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    elevated: &standard::Model,
) -> Result<Option<(standard::Model, Vec<String>)>, MutationError> {
    let Some(local) = &elevated.elevated_from else {
        return Ok(None);
    };
    let kept = elevation_proposal::Entity::find()
        .filter(elevation_proposal::Column::StandardCode.eq(local.as_str()))
        .filter(elevation_proposal::Column::ElevatedCode.eq(elevated.code.as_str()))
        .filter(elevation_proposal::Column::Status.eq(ElevationStatus::Accepted.as_str()))
        .one(txn)
        .await?
        .is_none_or(|proposal| proposal.keep_local);
    if kept {
        return Ok(None);
    }
    let Ok(code) = StandardCode::try_from(local.as_str()) else {
        return Err(MutationError::Store(StoreError::Corrupt(format!(
            "standard {}: elevated from `{local}`",
            elevated.code
        ))));
    };
    let Some(local) = load_standard(txn, Some(backend), &code).await? else {
        return Ok(None);
    };
    Ok((*local.0.status == StandardStatus::InForce).then_some(local))
}

async fn change_status(
    txn: &DatabaseTransaction,
    before: &(standard::Model, Vec<String>),
    status: StandardStatus,
    supersedes: Option<Option<String>>,
    now: DateTime<Utc>,
) -> Result<(standard::Model, Vec<String>), MutationError> {
    let mut row = before.0.clone();
    row.status = status.into();
    if let Some(supersedes) = supersedes {
        row.supersedes = supersedes;
    }
    let row = update_revised(txn, row, now).await?;
    Ok((row, before.1.clone()))
}

/// Records the standard `code` as it now is, after `action` created it
/// (`before` None) or changed it.
pub(crate) async fn record_standard_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: AuditAction,
    before: Option<&(standard::Model, Vec<String>)>,
    code: &StandardCode,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let after = load_standard(txn, None, code)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    record_change(txn, actor, action, before, &after, now).await
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
    record_change(
        txn,
        actor,
        AuditAction::SetStandardStatus,
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
    permit: &Permit<'_>,
    old: &StandardCode,
    new: &StandardCode,
    expected: (i32, i32),
) -> Result<(Standard, Standard), MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    check_supersession(new, old).map_err(|error| invalid("new", error.message))?;
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
    if *old_row.0.status != StandardStatus::InForce {
        return Err(invalid(
            "old",
            format!("{old} is {}, not IN_FORCE", old_row.0.status),
        ));
    }
    if *new_row.0.status == StandardStatus::Superseded
        || *new_row.0.status == StandardStatus::Withdrawn
    {
        return Err(invalid("new", format!("{new} is {}", new_row.0.status)));
    }
    let old_after = change_status(&txn, &old_row, StandardStatus::Superseded, None, now).await?;
    let new_status = *new_row.0.status;
    let new_after =
        change_status(&txn, &new_row, new_status, Some(Some(old.to_string())), now).await?;
    record_change(
        &txn,
        actor,
        AuditAction::SupersedeStandard,
        Some(&old_row),
        &old_after,
        now,
    )
    .await?;
    record_change(
        &txn,
        actor,
        AuditAction::SupersedeStandard,
        Some(&new_row),
        &new_after,
        now,
    )
    .await?;
    let saved = (
        Standard::try_from(old_after.0)?,
        Standard::try_from(new_after.0)?,
    );
    crate::version::commit_touching(txn, &touched(Topic::Standard)).await?;
    Ok(saved)
}
