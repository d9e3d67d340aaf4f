//! Zones' collaborative standards and their members' adoptions. Each
//! change is one transaction with its audit entry, as in [`crate::mutate`].
//! Elevation proposals are in `elevation.rs`.

use chrono::{DateTime, Utc};
use concord_domain::alignment::Targets;
use concord_domain::workflow::{Decision, ProposalStatus, check_decision, proposal_status};
use concord_domain::{AuditAction, RowKind};
use concord_domain::{Origin, RegionCode, StandardCode, StandardDraft, StandardStatus, ZoneCode};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::entity::{
    ChannelList, TextList, adoption, collaborative_standard, standard, zone_member,
};
use crate::queries::Collaborative;
use crate::write;

use super::{
    Actor, Change, MutationError, Permit, begin, commit_as, commit_collaboration, keep_and_audit,
    record_standard_change, stored_for_update, update_revised,
};

fn targets_snapshot(row: &collaborative_standard::Model, adoptions: &[adoption::Model]) -> Value {
    json!({
        "status": row.status,
        "maxTimeLimitDays": row.max_time_limit_days,
        "materials": row.materials.as_ref().map(|m| &m.0),
        "requiredChannels": row.required_channels.as_ref().map(|c| &c.0),
        "adoptions": adoptions
            .iter()
            .map(|a| json!({ "region": a.region_code, "decision": a.decision, "reason": a.reason }))
            .collect::<Vec<_>>(),
    })
}

fn list(values: Option<Vec<String>>) -> Option<TextList> {
    values.map(TextList)
}

/// Proposes a zone's collaborative standard: a REGIONAL standard of the zone
/// (a draft until every member adopts it), its targets, and a PENDING
/// adoption for each member.
pub async fn propose_collaborative(
    permit: &Permit<'_>,
    record: StandardDraft,
    zone: &ZoneCode,
    targets: &Targets,
) -> Result<Collaborative, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let members: Vec<String> = zone_member::Entity::find()
        .filter(zone_member::Column::ZoneCode.eq(zone.as_str()))
        .order_by_asc(zone_member::Column::RegionCode)
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.region_code)
        .collect();
    if members.is_empty() {
        return Err(MutationError::NotFound(format!("zone {zone}")));
    }
    if let Some(existing) = standard::Entity::find_by_id(record.code.as_str())
        .one(&txn)
        .await?
    {
        return Err(MutationError::Conflict {
            current: existing.revision,
        });
    }
    crate::mutate::check_standard_references(&txn, &record).await?;
    write::upsert_standard(&txn, &record, now).await?;
    let national = Origin::National.as_str().to_owned();
    let target = collaborative_standard::Model {
        standard_code: record.code.to_string(),
        zone_code: zone.to_string(),
        status: ProposalStatus::Proposed.into(),
        max_time_limit_days: targets.max_time_limit_days,
        materials: list(targets.materials.clone()),
        required_channels: (!targets.required_channels.is_empty())
            .then(|| ChannelList(targets.required_channels.clone())),
        origin: national.clone(),
        revision: 1,
        illustrative: record.illustrative,
        created_at: now,
        updated_at: now,
    };
    collaborative_standard::Entity::insert(target.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    let mut adoptions = Vec::new();
    for region in &members {
        let row = adoption::Model {
            standard_code: record.code.to_string(),
            region_code: region.clone(),
            decision: Decision::Pending.into(),
            reason: None,
            decided_by: None,
            decided_at: None,
            origin: region.clone(),
            revision: 1,
            illustrative: record.illustrative,
            created_at: now,
            updated_at: now,
        };
        adoption::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        adoptions.push(row);
    }
    record_standard_change(
        &txn,
        actor,
        AuditAction::ProposeCollaborativeStandard,
        None,
        &record.code,
        now,
    )
    .await?;
    keep_and_audit(
        &txn,
        actor,
        Change {
            action: AuditAction::ProposeCollaborativeStandard,
            kind: RowKind::CollaborativeStandard,
            key: record.code.to_string(),
            owner: national,
            before: None,
            after: (1, targets_snapshot(&target, &adoptions)),
        },
        now,
    )
    .await?;
    // Logged after the standard and its targets, which they refer to.
    for region in &members {
        crate::changes::log_current(
            &txn,
            RowKind::Adoption,
            &[record.code.as_str(), region.as_str()],
            now,
        )
        .await?;
    }
    commit_as(txn, &crate::mutate::touched_collaboration(), target).await
}

async fn load_proposal(
    txn: &sea_orm::DatabaseTransaction,
    code: &StandardCode,
) -> Result<(collaborative_standard::Model, Vec<adoption::Model>), MutationError> {
    let target = stored_for_update::<collaborative_standard::Entity>(txn, code.as_str())
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("collaborative standard {code}")))?;
    let adoptions = adoption::Entity::find()
        .filter(adoption::Column::StandardCode.eq(code.as_str()))
        .order_by_asc(adoption::Column::RegionCode)
        .all(txn)
        .await?;
    Ok((target, adoptions))
}

/// Sets the proposal's status and its standard's status together.
async fn move_proposal(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    target: &collaborative_standard::Model,
    to: ProposalStatus,
    standard_status: StandardStatus,
    now: DateTime<Utc>,
) -> Result<collaborative_standard::Model, MutationError> {
    let mut row = target.clone();
    row.status = to.into();
    let row = update_revised(txn, row, now).await?;
    let code = StandardCode::try_from(row.standard_code.as_str())
        .map_err(|e| MutationError::Store(crate::StoreError::Corrupt(e.to_string())))?;
    crate::mutate::force_standard_status(txn, actor, &code, standard_status, now).await?;
    Ok(row)
}

/// Records a member's decision, on the member's adoption at the revision
/// the caller last read (`expected`). When every member has adopted, the
/// collaborative standard comes into force, and its standard with it.
pub async fn decide_adoption(
    permit: &Permit<'_>,
    code: &StandardCode,
    region: &RegionCode,
    decision: Decision,
    reason: Option<String>,
    expected: i32,
) -> Result<Collaborative, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let (target, adoptions) = load_proposal(&txn, code).await?;
    let status = *target.status;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    check_decision(status, decision, reason.as_deref()).map_err(|e| MutationError::Invalid {
        field: e.field,
        message: e.message,
    })?;
    let Some(mine) = adoptions.iter().find(|a| a.region_code == region.as_str()) else {
        return Err(MutationError::Invalid {
            field: "region".into(),
            message: format!("{region} is not a member of zone {}", target.zone_code),
        });
    };
    crate::mutate::check_revision(Some(mine.revision), Some(expected))?;
    let mut updated = mine.clone();
    updated.decision = decision.into();
    updated.reason = if decision == Decision::Rejected {
        reason
    } else {
        None
    };
    updated.decided_by = Some(actor.subject().to_owned());
    updated.decided_at = Some(now);
    let updated = update_revised(&txn, updated, now).await?;
    let after: Vec<adoption::Model> = adoptions
        .iter()
        .map(|a| {
            if a.region_code == updated.region_code {
                updated.clone()
            } else {
                a.clone()
            }
        })
        .collect();
    let decisions: Vec<Decision> = after.iter().map(|a| *a.decision).collect();
    let mut target_after = target.clone();
    if proposal_status(&decisions) == ProposalStatus::InForce {
        target_after = move_proposal(
            &txn,
            actor,
            &target,
            ProposalStatus::InForce,
            StandardStatus::InForce,
            now,
        )
        .await?;
    }
    let saved = Collaborative::try_from(target_after.clone())?;
    commit_collaboration(
        txn,
        actor,
        Change {
            action: match decision {
                Decision::Adopted => AuditAction::AdoptCollaborativeStandard,
                _ => AuditAction::RejectCollaborativeStandard,
            },
            kind: RowKind::Adoption,
            key: format!("{code}/{region}"),
            owner: region.to_string(),
            before: Some((target.revision, targets_snapshot(&target, &adoptions))),
            after: (
                target_after.revision,
                targets_snapshot(&target_after, &after),
            ),
        },
        now,
    )
    .await?;
    Ok(saved)
}

/// Withdraws a proposal that has not come into force, at the revision the
/// caller last read (`expected`).
pub async fn withdraw_collaborative(
    permit: &Permit<'_>,
    code: &StandardCode,
    expected: i32,
) -> Result<Collaborative, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let (target, adoptions) = load_proposal(&txn, code).await?;
    crate::mutate::check_revision(Some(target.revision), Some(expected))?;
    if target.status != ProposalStatus::Proposed {
        return Err(MutationError::Invalid {
            field: "proposal".into(),
            message: format!(
                "{code} is {}; only a PROPOSED one can be withdrawn",
                target.status
            ),
        });
    }
    let after = move_proposal(
        &txn,
        actor,
        &target,
        ProposalStatus::Withdrawn,
        StandardStatus::Withdrawn,
        now,
    )
    .await?;
    let saved = Collaborative::try_from(after.clone())?;
    commit_collaboration(
        txn,
        actor,
        Change {
            action: AuditAction::WithdrawCollaborativeStandard,
            kind: RowKind::CollaborativeStandard,
            key: code.to_string(),
            owner: target.origin.clone(),
            before: Some((target.revision, targets_snapshot(&target, &adoptions))),
            after: (after.revision, targets_snapshot(&after, &adoptions)),
        },
        now,
    )
    .await?;
    Ok(saved)
}
