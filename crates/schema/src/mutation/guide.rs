use async_graphql::{Context, InputObject, Object};
use concord_auth::Action;
use concord_domain::{
    EvaluationValues, GuideDraft, GuideStatus, MatterCode, Period, ProcedureStep, RegionCode,
};
use concord_persistence::mutate;
use concord_persistence::write::{GuideRecord, ProcedureRecord};

use super::{Permit, allow, gate, regional};
use crate::error::{ApiError, OrApiError, invalid_input, parse_arg};
use crate::types::{Channel, Decimal, Evaluation, OperatingProcedure, ServiceGuide};

/// A region's guide for a matter, saved as a draft.
#[derive(InputObject)]
pub struct SaveGuideInput {
    /// The region whose guide this is, e.g. `330000`.
    region: String,
    /// The matter the guide is for.
    matter: String,
    /// The promised time limit in working days (1 to 250).
    time_limit_days: i32,
    /// The fee in yuan, as a string with at most two decimals (`"12.50"`);
    /// `"0"` when free.
    fee: Decimal,
    /// The materials an applicant must provide, in order.
    materials: Vec<String>,
    /// Where the matter can be handled; at least one.
    channels: Vec<Channel>,
    /// The laws and regulations the guide rests on.
    #[graphql(default)]
    legal_basis: String,
    /// The guarantee level, for matters that pay a benefit.
    guarantee_level: Option<String>,
    /// The revision the caller last read; omit (or 0) when creating.
    expected_revision: Option<i32>,
}

/// One step of an operating procedure.
#[derive(InputObject)]
pub struct ProcedureStepInput {
    /// What is done, e.g. 受理.
    name: String,
    /// Who does it, e.g. 窗口工作人员.
    actor: String,
    /// The step's time limit in working days.
    time_limit_days: i32,
}

/// The ordered steps of a guide's operating procedure.
#[derive(InputObject)]
pub struct SaveProcedureInput {
    /// The guide's region.
    region: String,
    /// The guide's matter.
    matter: String,
    /// The steps, in order. A draft may take longer than the guide allows;
    /// publishing it needs their time limits to add up to no more than the
    /// guide's.
    steps: Vec<ProcedureStepInput>,
    /// The revision the caller last read; omit (or 0) when creating.
    expected_revision: Option<i32>,
}

fn guide_target(
    region: &str,
    matter: &str,
    prefix: &str,
) -> Result<(RegionCode, MatterCode), ApiError> {
    Ok((
        parse_arg(&format!("{prefix}region"), region)?,
        parse_arg(&format!("{prefix}matter"), matter)?,
    ))
}

/// The guide of `region` and `matter` (arguments named with `prefix`), and
/// the permit for `action` on it: a guide is its region's row. A caller who
/// may never do `action` is refused before the arguments are read.
fn guide_permit<'a>(
    ctx: &Context<'a>,
    action: Action,
    region: &str,
    matter: &str,
    prefix: &str,
) -> async_graphql::Result<(RegionCode, MatterCode, Permit<'a>)> {
    gate(ctx, action).or_api()?;
    let (region, matter) = guide_target(region, matter, prefix).or_api()?;
    let permit = allow(ctx, action, &regional(&region)).or_api()?;
    Ok((region, matter, permit))
}

#[derive(Default)]
pub struct GuideMutation;

#[Object]
impl GuideMutation {
    /// Creates or updates a region's guide for a matter, as a draft. Needs
    /// PROVINCE_ADMIN of the region or NATIONAL_ADMIN.
    async fn save_guide(
        &self,
        ctx: &Context<'_>,
        input: SaveGuideInput,
    ) -> async_graphql::Result<ServiceGuide> {
        let (region, matter, permit) = guide_permit(
            ctx,
            Action::SaveGuide,
            &input.region,
            &input.matter,
            "input.",
        )?;
        let fee = input
            .fee
            .fee()
            .map_err(|e| ApiError::bad_input("input.fee", e))
            .or_api()?;
        let guide = GuideDraft {
            time_limit_days: input.time_limit_days,
            fee,
            materials: input.materials,
            channels: input.channels.into_iter().map(Into::into).collect(),
            legal_basis: input.legal_basis,
            guarantee_level: input.guarantee_level,
        }
        .validated()
        .map_err(|errors| invalid_input("input.", errors))
        .or_api()?;
        let record = GuideRecord::draft(region, matter, guide);
        let row = mutate::save_guide(&permit, record, input.expected_revision)
            .await
            .or_api()?;
        Ok(ServiceGuide::from(row))
    }

    /// Publishes a guide, making it visible to everyone. Refused with
    /// BAD_USER_INPUT (`extensions.rule` and `extensions.baseline` name the
    /// rule broken and the baseline's figure) when the guide falls below its
    /// national item's baseline, unless an exemption for its region and
    /// matter is in force today.
    async fn publish_guide(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<ServiceGuide> {
        set_status(
            ctx,
            &region,
            &matter,
            GuideStatus::Published,
            expected_revision,
        )
        .await
    }

    /// Takes a published guide back to draft.
    async fn unpublish_guide(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<ServiceGuide> {
        set_status(ctx, &region, &matter, GuideStatus::Draft, expected_revision).await
    }

    /// Replaces the steps of a guide's operating procedure, as a draft that
    /// only those who may read the region's drafts see until it is
    /// published.
    async fn save_procedure(
        &self,
        ctx: &Context<'_>,
        input: SaveProcedureInput,
    ) -> async_graphql::Result<OperatingProcedure> {
        let (region, matter, permit) = guide_permit(
            ctx,
            Action::SaveProcedure,
            &input.region,
            &input.matter,
            "input.",
        )?;
        let steps: Vec<ProcedureStep> = input
            .steps
            .into_iter()
            .map(|s| ProcedureStep {
                name: s.name,
                actor: s.actor,
                time_limit_days: s.time_limit_days,
            })
            .collect();
        let steps = concord_domain::validate_steps(&steps, None)
            .map_err(|errors| invalid_input("input.", errors))
            .or_api()?;
        let record = ProcedureRecord::draft(region, matter, steps);
        let row = mutate::save_procedure(&permit, record, input.expected_revision)
            .await
            .or_api()?;
        Ok(OperatingProcedure::from(row))
    }

    /// Publishes a guide's operating procedure, making it visible to
    /// everyone. Refused with BAD_USER_INPUT while the guide is a draft, or
    /// when the steps' time limits add up to more working days than the
    /// guide's time limit.
    async fn publish_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The guide's region, e.g. `330000`.")] region: String,
        #[graphql(desc = "The guide's matter.")] matter: String,
        #[graphql(desc = "The procedure's revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<OperatingProcedure> {
        let (region, matter, permit) =
            guide_permit(ctx, Action::PublishProcedure, &region, &matter, "")?;
        let row = mutate::publish_procedure(&permit, &region, &matter, expected_revision)
            .await
            .or_api()?;
        Ok(OperatingProcedure::from(row))
    }

    /// Records, or corrects, a region's evaluation of a matter for a period
    /// (`2025`, `2025-H1`, `2025-Q3` or `2025-07`).
    #[allow(clippy::too_many_arguments)]
    async fn record_evaluation(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
        period: String,
        #[graphql(desc = "Satisfaction, 0 to 100.")] satisfaction: f64,
        #[graphql(desc = "Cases handled in the period.")] cases_handled: i64,
        #[graphql(desc = "Average working days taken per case.")] average_days: f64,
        #[graphql(
            desc = "The revision of the record it corrects, as last read; left out for a first record."
        )]
        expected_revision: Option<i32>,
    ) -> async_graphql::Result<Evaluation> {
        gate(ctx, Action::RecordEvaluation).or_api()?;
        let (region, matter) = guide_target(&region, &matter, "").or_api()?;
        let period = Period::try_from(period.as_str())
            .map_err(|e| ApiError::bad_input("period", e.message))
            .or_api()?;
        let permit = allow(ctx, Action::RecordEvaluation, &regional(&region)).or_api()?;
        let values = EvaluationValues {
            satisfaction,
            cases_handled,
            average_days,
        }
        .validated()
        .map_err(|errors| invalid_input("", errors))
        .or_api()?;
        let evaluation = mutate::record_evaluation(
            &permit,
            &region,
            &matter,
            &period,
            values,
            expected_revision,
        )
        .await
        .or_api()?;
        Ok(Evaluation(evaluation))
    }
}

/// Publishes a guide (`Published`) or takes it back to draft (`Draft`).
async fn set_status(
    ctx: &Context<'_>,
    region: &str,
    matter: &str,
    status: GuideStatus,
    expected: i32,
) -> async_graphql::Result<ServiceGuide> {
    let action = match status {
        GuideStatus::Published => Action::PublishGuide,
        GuideStatus::Draft => Action::UnpublishGuide,
    };
    let (region, matter, permit) = guide_permit(ctx, action, region, matter, "")?;
    let row = mutate::set_guide_status(&permit, &region, &matter, status, expected)
        .await
        .or_api()?;
    Ok(ServiceGuide::from(row))
}
