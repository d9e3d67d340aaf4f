//! What was done and how it went: the audit log and the evaluations of
//! regions' services.

use async_graphql::{Context, InputObject, Object};
use concord_domain::{MatterCode, RegionCode, ZoneCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;

use crate::context::reading;
use crate::error::{ApiError, OrApiError, optional};
use crate::pagination::{ConnectionArgs, Paged, cost, encode};
use crate::types::{AuditAction, AuditEntry, Evaluation, RowKind};

/// Narrows the audit log. Every given field must match.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    /// Only changes to rows this region owns (`100000` for national rows).
    region: Option<String>,
    /// Only this action, e.g. `PUBLISH_GUIDE`.
    action: Option<AuditAction>,
    /// Only this kind of row, e.g. `GUIDE` or `STANDARD`.
    target_kind: Option<RowKind>,
    /// Only this row, e.g. `330000/SI-PENSION-TRANSFER`.
    target_key: Option<String>,
    /// Only changes by this token subject.
    subject: Option<String>,
}

/// Narrows a list of evaluations. Every given field must match.
#[derive(InputObject, Default)]
pub struct EvaluationFilterInput {
    /// Only this region's evaluations.
    region: Option<String>,
    /// Only the evaluations of this zone's members.
    zone: Option<String>,
    /// Only evaluations of this matter.
    matter: Option<String>,
    /// Only this period, e.g. `2025-Q3`.
    period: Option<String>,
}

/// The audit log and evaluations.
#[derive(Default)]
pub struct RecordsQuery;

#[Object]
impl RecordsQuery {
    /// The audit log, newest first. NATIONAL_ADMIN reads every entry;
    /// PROVINCE_ADMIN the entries about its own region's rows.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
        #[graphql(desc = "How many entries to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<AuditEntry>> {
        let scope = crate::context::scope(ctx).or_api()?;
        let filter = filter.unwrap_or_default();
        let own = match concord_auth::audit_scope(&scope.principal)
            .map_err(ApiError::from)
            .or_api()?
        {
            concord_auth::AuditScope::All => None,
            concord_auth::AuditScope::Region(own) => Some(own),
        };
        let region =
            crate::context::own_region_only(own.as_ref(), filter.region, "reads the audit entries")
                .or_api()?;
        let args = ConnectionArgs::<i64>::new(ctx, first, after.as_deref()).or_api()?;
        let filter = queries::AuditFilter {
            target_region: region,
            action: filter.action.map(Into::into),
            target_kind: filter.target_kind.map(Into::into),
            target_key: filter.target_key,
            subject: filter.subject,
        };
        let page = queries::audit_log(
            reading(ctx, &Footprint::of(&[Topic::Audit])).or_api()?,
            &filter,
            args.request(),
        )
        .await
        .or_api()?;
        Ok(args.connection(page, |entry| encode(&[&entry.id.to_string()])))
    }

    /// Evaluations of regions' services, by region, matter and period.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn evaluations(
        &self,
        ctx: &Context<'_>,
        filter: Option<EvaluationFilterInput>,
        #[graphql(desc = "How many evaluations to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<Evaluation>> {
        let filter = filter.unwrap_or_default();
        let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
        let db = reading(ctx, &Footprint::of(&[Topic::Reference])).or_api()?;
        let mut regions = optional::<RegionCode, _>("filter.region", filter.region.as_ref())
            .or_api()?
            .map(|region| vec![region]);
        if let Some(zone) = optional::<ZoneCode, _>("filter.zone", filter.zone.as_ref()).or_api()? {
            let members: Vec<String> = queries::members_of_zones(db, &[zone])
                .await
                .or_api()?
                .into_iter()
                .map(|m| m.region_code)
                .collect();
            regions = Some(match regions {
                Some(only) => only.into_iter().filter(|r| members.contains(r)).collect(),
                None => members,
            });
        }
        let period = filter
            .period
            .as_deref()
            .map(|p| {
                concord_domain::Period::try_from(p)
                    .map(|p| p.to_string())
                    .map_err(|e| ApiError::bad_input("filter.period", e.message))
            })
            .transpose()
            .or_api()?;
        let filter = queries::EvaluationFilter {
            regions,
            matter: optional::<MatterCode, _>("filter.matter", filter.matter.as_ref()).or_api()?,
            period,
        };
        let read = match &filter.regions {
            Some(regions) => Footprint::default()
                .in_regions(Topic::Evaluation, regions.iter().map(String::as_str)),
            None => Footprint::of(&[Topic::Evaluation]),
        };
        let page = queries::evaluations(reading(ctx, &read).or_api()?, &filter, args.request())
            .await
            .or_api()?;
        Ok(args.connection(page, |evaluation| {
            encode(&[
                evaluation.region.as_str(),
                evaluation.matter.as_str(),
                evaluation.period.as_str(),
            ])
        }))
    }
}
