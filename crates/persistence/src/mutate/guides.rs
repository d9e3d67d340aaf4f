//! Service guides and their operating procedures: saving either as a
//! draft, and publishing it. A guide is published only when it meets its
//! national item's baseline or an exemption for its region and matter is
//! in force; a procedure only when its guide is published and its steps
//! fit the guide's time limit.

use chrono::{DateTime, Utc};
use concord_domain::AuditAction;
use concord_domain::guide::{OperatingProcedure, ServiceGuide};
use concord_domain::{GuideStatus, MatterCode, RegionCode, publication_refusal};
use sea_orm::{DatabaseTransaction, EntityTrait};

use crate::baselines;
use crate::entity::{operating_procedure, service_guide};
use crate::footprint::Topic;
use crate::write::{self, GuideRecord, Outcome, ProcedureRecord};

use super::{
    MutationError, Permit, begin, check_revision, commit_as, invalid, record_change, require,
    require_region_and_matter, stored_for_update, touched_in, update_revised,
};

/// Creates or updates a region's guide for a matter, as a draft.
pub async fn save_guide(
    permit: &Permit<'_>,
    record: GuideRecord,
    expected: Option<i32>,
) -> Result<ServiceGuide, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    require_region_and_matter(&txn, &record.region, &record.matter).await?;
    let id = (record.region.to_string(), record.matter.to_string());
    let stored = stored_for_update::<service_guide::Entity>(&txn, id.clone()).await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let procedure = operating_procedure::Entity::find_by_id(id.clone())
        .one(&txn)
        .await?;
    // A published procedure always fits its guide; a draft may not yet.
    if let Some(procedure) = procedure.filter(|p| p.status == GuideStatus::Published) {
        let total: i32 = procedure.steps.0.iter().map(|s| s.time_limit_days).sum();
        if total > record.guide.time_limit_days {
            return Err(invalid(
                "timeLimitDays",
                format!(
                    "the guide's published procedure takes {total} working days; shorten it first or allow at least that"
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
            AuditAction::UpdateGuide
        } else {
            AuditAction::CreateGuide
        };
        record_change(&txn, actor, action, stored.as_ref(), &after, now).await?;
    }
    commit_as(txn, &touched_in(Topic::Guide, &record.region), after).await
}

/// Publishes a guide or takes it back to draft.
pub async fn set_guide_status(
    permit: &Permit<'_>,
    region: &RegionCode,
    matter: &MatterCode,
    status: GuideStatus,
    expected: i32,
) -> Result<ServiceGuide, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let id = (region.to_string(), matter.to_string());
    let stored = stored_for_update::<service_guide::Entity>(&txn, id.clone())
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("guide of {region} for {matter}")))?;
    check_revision(Some(stored.revision), Some(expected))?;
    if stored.status == status {
        // Nothing changed, so the version stays.
        let saved = ServiceGuide::try_from(stored)?;
        txn.commit().await?;
        return Ok(saved);
    }
    if status == GuideStatus::Published {
        check_baseline(&txn, &stored, now).await?;
    }
    let mut row = stored.clone();
    row.status = status.into();
    row.published_at = (status == GuideStatus::Published).then_some(now);
    let row = update_revised(&txn, row, now).await?;
    let action = match status {
        GuideStatus::Published => AuditAction::PublishGuide,
        GuideStatus::Draft => AuditAction::UnpublishGuide,
    };
    record_change(&txn, actor, action, Some(&stored), &row, now).await?;
    commit_as(txn, &touched_in(Topic::Guide, region), row).await
}

/// Refuses to publish `guide` when it breaks its national item's baseline
/// and no exemption for its region and matter is in force today.
async fn check_baseline(
    txn: &DatabaseTransaction,
    guide: &service_guide::Model,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let Some(baseline) = baselines::baseline_of_matter(txn, &guide.matter_code).await? else {
        return Ok(());
    };
    let values = ServiceGuide::try_from(guide.clone())?.values();
    let exempted = baselines::exemption_covering(
        txn,
        &guide.region_code,
        &guide.matter_code,
        now.date_naive(),
    )
    .await?
    .is_some();
    match publication_refusal(&baseline, &values, exempted) {
        Some(violation) => Err(MutationError::BelowBaseline(violation)),
        None => Ok(()),
    }
}

/// Replaces the steps of a guide's operating procedure, as a draft.
pub async fn save_procedure(
    permit: &Permit<'_>,
    record: ProcedureRecord,
    expected: Option<i32>,
) -> Result<OperatingProcedure, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let id = (record.region.to_string(), record.matter.to_string());
    require::<service_guide::Entity>(&txn, id.clone(), || {
        format!("guide of {} for {}", record.region, record.matter)
    })
    .await?;
    let stored = stored_for_update::<operating_procedure::Entity>(&txn, id.clone()).await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let outcome = write::upsert_procedure(&txn, &record, now).await?;
    let after = operating_procedure::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("procedure".into()))?;
    if outcome != Outcome::Unchanged {
        record_change(
            &txn,
            actor,
            AuditAction::SaveProcedure,
            stored.as_ref(),
            &after,
            now,
        )
        .await?;
    }
    commit_as(txn, &touched_in(Topic::Procedure, &record.region), after).await
}

/// Publishes a guide's operating procedure. The guide must be published,
/// and the steps' time limits, added up, may not exceed the guide's.
pub async fn publish_procedure(
    permit: &Permit<'_>,
    region: &RegionCode,
    matter: &MatterCode,
    expected: i32,
) -> Result<OperatingProcedure, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let id = (region.to_string(), matter.to_string());
    let stored = stored_for_update::<operating_procedure::Entity>(&txn, id.clone())
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("procedure of {region} for {matter}")))?;
    check_revision(Some(stored.revision), Some(expected))?;
    if stored.status == GuideStatus::Published {
        // Nothing changed, so the version stays.
        let saved = OperatingProcedure::try_from(stored)?;
        txn.commit().await?;
        return Ok(saved);
    }
    let guide = service_guide::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("guide of {region} for {matter}")))?;
    if guide.status != GuideStatus::Published {
        return Err(invalid(
            "matter",
            format!("the guide of {region} for {matter} is a draft; publish it first"),
        ));
    }
    concord_domain::validate_steps(&stored.steps.0, Some(guide.time_limit_days)).map_err(
        |errors| {
            let first = &errors[0];
            invalid(&first.field, first.message.clone())
        },
    )?;
    let mut row = stored.clone();
    row.status = GuideStatus::Published.into();
    let row = update_revised(&txn, row, now).await?;
    record_change(
        &txn,
        actor,
        AuditAction::PublishProcedure,
        Some(&stored),
        &row,
        now,
    )
    .await?;
    commit_as(txn, &touched_in(Topic::Procedure, region), row).await
}
