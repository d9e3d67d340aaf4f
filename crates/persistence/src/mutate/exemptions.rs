//! Baseline exemptions: a NATIONAL_ADMIN's leave for one region to publish
//! one matter's guide below its national item's baseline, for a reason and
//! a dated period. They belong to the nation, replicate like national
//! items, and a revocation marks the row rather than deleting it, so that
//! it replicates too.

use chrono::NaiveDate;
use concord_domain::AuditAction;
use concord_domain::{Exemption, ExemptionGrant, MatterCode, Origin, RegionCode};
use sea_orm::{ActiveModelTrait, IntoActiveModel};

use crate::entity::baseline_exemption;
use crate::footprint::Topic;

use super::{
    MutationError, Permit, begin, check_revision, commit_as, invalid, record_change,
    require_region_and_matter, stored_for_update, touched, update_revised,
};

/// The key of a stored exemption (`concord_domain::exemption_key`).
pub(crate) fn exemption_key(row: &baseline_exemption::Model) -> String {
    concord_domain::exemption_key(&row.region_code, &row.matter_code, row.valid_from)
}

/// Grants an exemption for `region` and `matter`. One that starts the same
/// day and is still in force must be revoked first; a revoked one is
/// granted anew, as its next revision.
pub async fn grant_exemption(
    permit: &Permit<'_>,
    region: &RegionCode,
    matter: &MatterCode,
    grant: ExemptionGrant,
) -> Result<Exemption, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    require_region_and_matter(&txn, region, matter).await?;
    let stored = stored_for_update::<baseline_exemption::Entity>(
        &txn,
        (region.to_string(), matter.to_string(), grant.valid_from),
    )
    .await?;
    if let Some(stored) = &stored
        && stored.revoked_at.is_none()
    {
        return Err(invalid(
            "validFrom",
            format!(
                "an exemption {} is granted already; revoke it first",
                exemption_key(stored)
            ),
        ));
    }
    let row = baseline_exemption::Model {
        region_code: region.to_string(),
        matter_code: matter.to_string(),
        valid_from: grant.valid_from,
        valid_until: grant.valid_until,
        rationale: grant.rationale,
        granted_by: actor.subject().to_owned(),
        revoked_by: None,
        revoked_at: None,
        origin: Origin::National.as_str().to_owned(),
        revision: stored.as_ref().map_or(1, |s| s.revision + 1),
        created_at: stored.as_ref().map_or(now, |s| s.created_at),
        updated_at: now,
    };
    let active = row.clone().into_active_model().reset_all();
    if stored.is_some() {
        active.update(&txn).await?;
    } else {
        active.insert(&txn).await?;
    }
    record_change(
        &txn,
        actor,
        AuditAction::GrantBaselineExemption,
        stored.as_ref(),
        &row,
        now,
    )
    .await?;
    commit_as(txn, &touched(Topic::Catalogue), row).await
}

/// Revokes the exemption `region/matter/valid_from` at revision `expected`:
/// from now on it covers nothing.
pub async fn revoke_exemption(
    permit: &Permit<'_>,
    (region, matter, valid_from): (&RegionCode, &MatterCode, NaiveDate),
    expected: i32,
) -> Result<Exemption, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let stored = stored_for_update::<baseline_exemption::Entity>(
        &txn,
        (region.to_string(), matter.to_string(), valid_from),
    )
    .await?
    .ok_or_else(|| {
        MutationError::NotFound(format!("baseline exemption {region}/{matter}/{valid_from}"))
    })?;
    check_revision(Some(stored.revision), Some(expected))?;
    if stored.revoked_at.is_some() {
        return Err(invalid(
            "id",
            format!(
                "the exemption {} is revoked already",
                exemption_key(&stored)
            ),
        ));
    }
    let mut row = stored.clone();
    row.revoked_by = Some(actor.subject().to_owned());
    row.revoked_at = Some(now);
    let row = update_revised(&txn, row, now).await?;
    record_change(
        &txn,
        actor,
        AuditAction::RevokeBaselineExemption,
        Some(&stored),
        &row,
        now,
    )
    .await?;
    commit_as(txn, &touched(Topic::Catalogue), row).await
}
