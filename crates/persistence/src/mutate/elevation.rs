//! Elevation proposals: a LOCAL or REGIONAL standard proposed for a wider
//! level, and the decision that creates the elevated standard. Each change
//! is one transaction with its audit entry, as in [`crate::mutate`].

use chrono::{DateTime, Utc};
use concord_domain::workflow::{
    ElevationDecision, ElevationStatus, ElevationTarget, next_elevation_status,
};
use concord_domain::{AuditAction, RowKind, StandardDraft};
use concord_domain::{
    MatterCode, Origin, StandardCode, StandardLevel, StandardStatus, check_elevated_code,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::entity::{elevation_proposal, standard};
use crate::write;

use super::{
    Actor, Change, MutationError, Permit, begin, commit_collaboration, record_standard_change,
    stored_for_update, update_revised,
};

fn elevation_snapshot(row: &elevation_proposal::Model) -> Value {
    json!({
        "standard": row.standard_code,
        "number": row.number,
        "targetLevel": row.target_level,
        "rationale": row.rationale,
        "status": row.status,
        "elevatedCode": row.elevated_code,
        "keepLocal": row.keep_local,
    })
}

/// A proposal's key in the change log and the audit log.
fn elevation_key(row: &elevation_proposal::Model) -> String {
    format!("{}/{}", row.standard_code, row.number)
}

/// What an accepted elevation creates: the standard's code at the target
/// level, and whether the local standard stays in force beside it.
#[derive(Debug, Clone)]
pub struct Elevated {
    pub code: StandardCode,
    pub keep_local: bool,
}

/// Proposes raising a LOCAL or REGIONAL standard to `target` level.
pub async fn propose_elevation(
    permit: &Permit<'_>,
    code: &StandardCode,
    target: StandardLevel,
    rationale: String,
) -> Result<elevation_proposal::Model, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let standard = standard::Entity::find_by_id(code.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {code}")))?;
    let level = *standard.level;
    if !matches!(level, StandardLevel::Local | StandardLevel::Regional) {
        return Err(MutationError::Invalid {
            field: "standard".into(),
            message: format!(
                "{code} is a {level} standard; only LOCAL and REGIONAL standards are elevated"
            ),
        });
    }
    let Some(target) = ElevationTarget::ALL
        .iter()
        .copied()
        .find(|elevated| elevated.level() == target)
    else {
        return Err(MutationError::Invalid {
            field: "targetLevel".into(),
            message: "a standard is elevated to NATIONAL or INDUSTRY level".into(),
        });
    };
    if standard.status == StandardStatus::Withdrawn || standard.status == StandardStatus::Superseded
    {
        return Err(MutationError::Invalid {
            field: "standard".into(),
            message: format!("{code} is {}", standard.status),
        });
    }
    let open = elevation_proposal::Entity::find()
        .filter(elevation_proposal::Column::StandardCode.eq(code.as_str()))
        .filter(elevation_proposal::Column::Status.is_in([
            ElevationStatus::Proposed.as_str(),
            ElevationStatus::UnderReview.as_str(),
        ]))
        .one(&txn)
        .await?;
    if let Some(open) = open {
        return Err(MutationError::Conflict {
            current: open.revision,
        });
    }
    // Only the standard's own node proposes its elevation, so its code and
    // this number name the proposal alike on every node.
    let earlier = elevation_proposal::Entity::find()
        .filter(elevation_proposal::Column::StandardCode.eq(code.as_str()))
        .count(&txn)
        .await?;
    let row = elevation_proposal::ActiveModel {
        id: sea_orm::NotSet,
        standard_code: Set(code.to_string()),
        number: Set(i32::try_from(earlier).unwrap_or(i32::MAX - 1) + 1),
        elevated_code: Set(None),
        keep_local: Set(false),
        target_level: Set(target.into()),
        rationale: Set(rationale),
        status: Set(ElevationStatus::Proposed.into()),
        proposed_by: Set(actor.subject().to_owned()),
        decided_by: Set(None),
        decided_at: Set(None),
        // A proposal is addressed to the national administration, which
        // alone decides it: its versions are the hub's, so a decision made
        // there reaches the proposing province as a newer version rather
        // than as a conflict that the province's node would win. (A row
        // created on another node may still arrive at its origin.)
        origin: Set(Origin::National.as_str().to_owned()),
        revision: Set(1),
        illustrative: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    commit_collaboration(
        txn,
        actor,
        Change {
            action: AuditAction::ProposeElevation,
            kind: RowKind::Elevation,
            key: elevation_key(&row),
            // Audited as the standard's, so that its province reads it.
            owner: standard.origin.clone(),
            before: None,
            after: (row.revision, elevation_snapshot(&row)),
        },
        now,
    )
    .await?;
    Ok(row)
}

/// Moves an elevation proposal, at the revision the caller last read
/// (`expected`): to review, then to acceptance or decline. An acceptance
/// (`elevated`, required then and only then) creates a DRAFT standard at
/// the target level, raised from the local one and governing its matters;
/// when that comes into force the local one is superseded by it, unless
/// the decision keeps it (see `set_standard_status`).
pub async fn decide_elevation(
    permit: &Permit<'_>,
    id: i64,
    decision: ElevationDecision,
    elevated: Option<Elevated>,
    expected: i32,
) -> Result<elevation_proposal::Model, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    let stored = stored_for_update::<elevation_proposal::Entity>(&txn, id)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("elevation proposal {id}")))?;
    crate::mutate::check_revision(Some(stored.revision), Some(expected))?;
    let proposer = standard::Entity::find_by_id(stored.standard_code.as_str())
        .one(&txn)
        .await?
        .map_or_else(|| stored.origin.clone(), |local| local.origin);
    let next =
        next_elevation_status(*stored.status, decision).map_err(|e| MutationError::Invalid {
            field: e.field,
            message: e.message,
        })?;
    let mut row = stored.clone();
    row.status = next.into();
    if matches!(next, ElevationStatus::Accepted | ElevationStatus::Declined) {
        row.decided_by = Some(actor.subject().to_owned());
        row.decided_at = Some(now);
    }
    match (next, elevated) {
        (ElevationStatus::Accepted, Some(elevated)) => {
            create_elevated(&txn, actor, &stored, &elevated, now).await?;
            row.elevated_code = Some(elevated.code.to_string());
            row.keep_local = elevated.keep_local;
        }
        (ElevationStatus::Accepted, None) => {
            return Err(MutationError::Invalid {
                field: "code".into(),
                message: "an acceptance needs the code of the standard it creates".into(),
            });
        }
        (_, Some(_)) => {
            return Err(MutationError::Invalid {
                field: "code".into(),
                message: "only an acceptance creates a standard; give no code".into(),
            });
        }
        (_, None) => {}
    }
    let row = update_revised(&txn, row, now).await?;
    commit_collaboration(
        txn,
        actor,
        Change {
            action: AuditAction::DecideElevation,
            kind: RowKind::Elevation,
            key: elevation_key(&row),
            owner: proposer,
            before: Some((stored.revision, elevation_snapshot(&stored))),
            after: (row.revision, elevation_snapshot(&row)),
        },
        now,
    )
    .await?;
    Ok(row)
}

/// Creates the DRAFT standard an accepted elevation of `proposal` makes:
/// `elevated.code` at the target level, with the local standard's titles
/// and matters, raised from it.
async fn create_elevated(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    proposal: &elevation_proposal::Model,
    elevated: &Elevated,
    now: DateTime<Utc>,
) -> Result<(), MutationError> {
    let corrupt = |e: &dyn std::fmt::Display| {
        MutationError::Store(crate::StoreError::Corrupt(format!(
            "elevation proposal {}: {e}",
            elevation_key(proposal)
        )))
    };
    let level = proposal.target_level.level();
    let local_code =
        StandardCode::try_from(proposal.standard_code.as_str()).map_err(|e| corrupt(&e))?;
    check_elevated_code(&elevated.code, level, &local_code).map_err(|e| {
        MutationError::Invalid {
            field: e.field,
            message: e.message,
        }
    })?;
    if standard::Entity::find_by_id(elevated.code.as_str())
        .one(txn)
        .await?
        .is_some()
    {
        return Err(MutationError::Invalid {
            field: "code".into(),
            message: format!("a standard {} exists already", elevated.code),
        });
    }
    let local = standard::Entity::find_by_id(local_code.as_str())
        .one(txn)
        .await?
        .ok_or_else(|| MutationError::NotFound(format!("standard {local_code}")))?;
    let matters = crate::mutate::matter_links(txn, local_code.as_str())
        .await?
        .iter()
        .map(|m| MatterCode::try_from(m.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(&e))?;
    let record = StandardDraft {
        title_en: local.title_en.clone(),
        note: format!("elevated from {local_code}"),
        matters: Some(matters),
        illustrative: local.illustrative,
        ..StandardDraft::new(elevated.code.clone(), local.title_zh.clone(), level)
    };
    write::upsert_standard(txn, &record, now).await?;
    standard::Entity::update_many()
        .col_expr(
            standard::Column::ElevatedFrom,
            sea_orm::sea_query::Expr::value(local_code.as_str()),
        )
        .filter(standard::Column::Code.eq(elevated.code.as_str()))
        .exec(txn)
        .await?;
    record_standard_change(
        txn,
        actor,
        AuditAction::ElevateStandard,
        None,
        &elevated.code,
        now,
    )
    .await
}
