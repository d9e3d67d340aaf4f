//! Regions' evaluations of a matter for a period.

use concord_domain::AuditAction;
use concord_domain::{Evaluation, EvaluationValues, MatterCode, Period, RegionCode};

use crate::entity::evaluation;
use crate::footprint::Topic;

use super::{
    Change, MutationError, Permit, begin, check_revision, keep_and_audit,
    require_region_and_matter, stored_for_update, touched_in,
};

/// Records (or corrects) a region's evaluation of a matter for a period. A
/// correction must name the revision it corrects (`expected`); a first
/// record, none. Returns the evaluation as stored.
pub async fn record_evaluation(
    permit: &Permit<'_>,
    region: &RegionCode,
    matter: &MatterCode,
    period: &Period,
    values: EvaluationValues,
    expected: Option<i32>,
) -> Result<Evaluation, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    require_region_and_matter(&txn, region, matter).await?;
    let id = (region.to_string(), matter.to_string(), period.to_string());
    let stored = stored_for_update::<evaluation::Entity>(&txn, id).await?;
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
            // The region's, whoever first stored the row.
            owner: region.to_string(),
            ..Change::of(AuditAction::RecordEvaluation, stored.as_ref(), &row)
        },
        now,
    )
    .await?;
    // Read before the commit, so that a row the domain refuses is not kept.
    let recorded = Evaluation::try_from(row)?;
    crate::version::commit_touching(txn, &touched_in(Topic::Evaluation, region)).await?;
    Ok(recorded)
}
