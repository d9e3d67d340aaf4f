//! The policy's measures across regions: baselines and their exemptions,
//! coverage of the catalogue and of served groups, and equalization, now
//! and over time.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_graphql::{Context, Object};
use chrono::NaiveDate;
use concord_domain::alignment::{self as maths, baseline_violations};
use concord_domain::{MatterCode, Period, RegionCode, ZoneCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::guide_key;
use concord_persistence::{baselines, queries};

use crate::context::reading;
use crate::error::{ApiError, OrApiError, parse_arg, parse_optional};
use crate::trend::{EqualizationTrend, TrendGranularity};
use crate::types::NationalItem;
use crate::zone_guides;
use crate::zone_parts::{ZoneSource, gather, source_of};
use concord_federation::Source;

use super::measures::{
    BaselineExemption, BaselineViolation, Coverage, Equalization, EqualizationMetric, RegionValue,
    business_coverage, region_coverage,
};
use super::{
    equalized_regions, guides_of, mean, procedures_of, region_codes, served_group_arg, zone_members,
};

#[derive(Default)]
pub struct PolicyQuery;

/// Reads of the policy's measures: baseline violations and exemptions,
/// coverage and equalization.
#[Object]
impl PolicyQuery {
    /// Published guides that break their national item's baseline: a time
    /// limit or fee above it, or a channel it requires missing. Of one
    /// region, of a zone's members, or of every region. Publishing such a
    /// guide is refused, so these arrived otherwise: by import or sync, or
    /// published before the baseline changed. A guide an exemption covers
    /// is still listed, with the exemption.
    pub(crate) async fn baseline_violations(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        zone: Option<String>,
        #[graphql(
            desc = "With `zone`: where the other members' guides come from; the node's `federation.source` (REPLICA unless configured) when omitted. `zoneParts` in the same request says where each member's came from."
        )]
        source: Option<ZoneSource>,
    ) -> async_graphql::Result<Vec<BaselineViolation>> {
        if source.is_some() && zone.is_none() {
            return Err(ApiError::bad_input(
                "source",
                "a source is for zone reads: give zone too",
            ))
            .or_api();
        }
        let source = match zone {
            Some(_) => source_of(ctx, source),
            None => Source::Replica,
        };
        let db = reading(ctx, &Footprint::of(&[Topic::Reference, Topic::Catalogue])).or_api()?;
        let mut regions: Vec<String> = match zone.as_deref() {
            Some(zone) => zone_members(ctx, &parse_arg("zone", zone).or_api()?)
                .await
                .or_api()?,
            None => region_codes(db).await.or_api()?,
        };
        if let Some(region) = region.as_deref() {
            let region: RegionCode = parse_arg("region", region).or_api()?;
            regions.retain(|r| r == region.as_str());
        }
        let guides = if source == Source::Replica {
            let db = reading(ctx, &guides_of(&[], &regions)).or_api()?;
            queries::published_guides(db, &regions, None)
                .await
                .or_api()?
        } else {
            zone_guides::all(&gather(ctx, &regions, source).await.or_api()?)
        };
        let db = reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?;
        let matters = queries::all_matters(db).await.or_api()?;
        let keys: Vec<(i32, i32)> = matters
            .iter()
            .filter_map(|m| m.national_item)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let items = queries::national_items_by_keys(db, &keys).await.or_api()?;
        let today = chrono::Utc::now().date_naive();
        let exemptions: HashMap<(String, String), BaselineExemption> =
            baselines::exemptions(db, Some(&regions), None)
                .await
                .or_api()?
                .into_iter()
                .filter(|exemption| exemption.in_force(today))
                .map(|exemption| {
                    (
                        guide_key(&exemption.region, &exemption.matter),
                        BaselineExemption::from(exemption),
                    )
                })
                .collect();
        let mut out = Vec::new();
        for guide in &guides {
            let Some(matter) = matters.iter().find(|m| m.code == guide.matter) else {
                continue;
            };
            let Some(item) = items
                .iter()
                .find(|i| Some((i.edition, i.number)) == matter.national_item)
            else {
                continue;
            };
            for violation in baseline_violations(&item.baseline, &guide.values()) {
                out.push(BaselineViolation {
                    region: guide.region.to_string(),
                    matter: guide.matter.to_string(),
                    national_item: NationalItem(item.clone()),
                    rule: violation.rule().to_owned(),
                    baseline: violation.baseline(),
                    message: violation.describe(),
                    exemption: exemptions
                        .get(&guide_key(&guide.region, &guide.matter))
                        .cloned(),
                });
            }
        }
        Ok(out)
    }

    /// Baseline exemptions, revoked ones included, by region, matter and
    /// first day: of one region and/or one matter, or all of them.
    async fn baseline_exemptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this region's, e.g. `330000`.")] region: Option<String>,
        #[graphql(desc = "Only this matter's.")] matter: Option<String>,
        #[graphql(default = false, desc = "Only the exemptions in force today.")] in_force: bool,
    ) -> async_graphql::Result<Vec<BaselineExemption>> {
        let region = region
            .as_deref()
            .map(|r| parse_arg::<RegionCode, _>("region", r).map(|r| vec![r.to_string()]))
            .transpose()
            .or_api()?;
        let matter = parse_optional::<MatterCode, _>("matter", matter.as_deref()).or_api()?;
        let db = reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?;
        let rows = baselines::exemptions(
            db,
            region.as_deref(),
            matter.as_ref().map(MatterCode::as_str),
        )
        .await
        .or_api()?;
        Ok(rows
            .into_iter()
            .map(BaselineExemption::from)
            .filter(|exemption| !in_force || exemption.in_force)
            .collect())
    }

    /// Business coverage of a region (the share of catalogue matters it has a
    /// published guide and procedure for), or region coverage of a matter
    /// (the share of regions that have one). Give exactly one of `region`
    /// and `matter`; or `servedGroup`, alone for every region's coverage of
    /// the group's matters (in `regions`), or with `region` for that
    /// region's.
    pub(crate) async fn coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A region's code, for its business coverage.")] region: Option<String>,
        #[graphql(desc = "A matter's code, for its region coverage.")] matter: Option<String>,
        #[graphql(
            desc = "A served group's code (`servedGroups` query): only the matters that serve it."
        )]
        served_group: Option<String>,
    ) -> async_graphql::Result<Coverage> {
        let group = served_group_arg(served_group.as_deref()).or_api()?;
        match (region, matter, group) {
            (Some(region), None, group) => {
                let region: RegionCode = parse_arg("region", &region).or_api()?;
                let db = reading(
                    ctx,
                    &guides_of(&[Topic::Catalogue], &[region.to_string()])
                        .in_regions(Topic::Procedure, [region.as_str()]),
                )
                .or_api()?;
                let regions = [region.to_string()];
                let procedures = procedures_of(db, Some(&regions), None).await?;
                let matters = match group {
                    Some(group) => queries::matters_serving(db, group).await.or_api()?,
                    None => queries::all_matters(db).await.or_api()?,
                };
                let guides = queries::published_guides(db, &regions, None)
                    .await
                    .or_api()?;
                let published = guides
                    .into_iter()
                    .map(|g| guide_key(&g.region, &g.matter))
                    .collect();
                let mut coverage =
                    business_coverage(region.as_str(), &matters, &published, &procedures);
                coverage.served_group = group.map(|g| g.as_str().to_owned());
                Ok(coverage)
            }
            (None, Some(matter), None) => {
                let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
                let db = reading(
                    ctx,
                    &Footprint::of(&[Topic::Reference, Topic::Guide, Topic::Procedure]),
                )
                .or_api()?;
                let covered_keys = procedures_of(db, None, Some(matter.as_str())).await?;
                let regions = region_codes(db).await.or_api()?;
                let guides = queries::published_guides(db, &regions, Some(&[matter.to_string()]))
                    .await
                    .or_api()?;
                let published: HashSet<&str> = guides.iter().map(|g| g.region.as_str()).collect();
                let missing: Vec<String> = regions
                    .iter()
                    .filter(|r| {
                        !(published.contains(r.as_str())
                            && covered_keys.contains(&((*r).clone(), matter.to_string())))
                    })
                    .cloned()
                    .collect();
                Ok(Coverage {
                    matter: Some(matter.to_string()),
                    ..region_coverage(regions.len(), missing)
                })
            }
            (None, None, Some(group)) => {
                let db = reading(
                    ctx,
                    &Footprint::of(&[
                        Topic::Reference,
                        Topic::Catalogue,
                        Topic::Guide,
                        Topic::Procedure,
                    ]),
                )
                .or_api()?;
                let regions = region_codes(db).await.or_api()?;
                let matters = queries::matters_serving(db, group).await.or_api()?;
                let codes: Vec<String> = matters.iter().map(|m| m.code.to_string()).collect();
                let published = if codes.is_empty() {
                    HashSet::new()
                } else {
                    queries::published_guides(db, &regions, Some(&codes))
                        .await
                        .or_api()?
                        .into_iter()
                        .map(|g| guide_key(&g.region, &g.matter))
                        .collect()
                };
                let procedures = procedures_of(db, None, None).await?;
                let per_region: Vec<Coverage> = regions
                    .iter()
                    .map(|region| {
                        let mut coverage =
                            business_coverage(region, &matters, &published, &procedures);
                        coverage.served_group = Some(group.as_str().to_owned());
                        coverage
                    })
                    .collect();
                let missing: Vec<String> = per_region
                    .iter()
                    .filter(|c| c.covered < c.total)
                    .filter_map(|c| c.region.clone())
                    .collect();
                Ok(Coverage {
                    served_group: Some(group.as_str().to_owned()),
                    regions: per_region,
                    ..region_coverage(regions.len(), missing)
                })
            }
            _ => Err(ApiError::bad_input(
                "region",
                "give exactly one of region or matter, or a servedGroup alone or with a region",
            ))
            .or_api(),
        }
    }

    /// The equalization index period by period, from `from` (inclusive) to
    /// `to` (exclusive), at most 120 periods. TIME_LIMIT and FEE take each
    /// guide's published version in force at a period's end (from its
    /// revision history); SATISFACTION and AVERAGE_DAYS take the
    /// evaluations whose period falls in it (a month or quarter in its
    /// quarter or year). A period without data says so (`noData`) and has
    /// no index.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn equalization_trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the index measures.")] metric: EqualizationMetric,
        #[graphql(desc = "A zone's code; the nation when omitted.")] zone: Option<String>,
        #[graphql(desc = "One matter only; else each region's mean over its matters.")]
        matter: Option<String>,
        #[graphql(desc = "The first day of the range; its period is the first.")] from: NaiveDate,
        #[graphql(desc = "The day after the range; it must be after `from`.")] to: NaiveDate,
        #[graphql(desc = "How long each period is.")] granularity: TrendGranularity,
    ) -> async_graphql::Result<EqualizationTrend> {
        crate::trend::equalization_trend(ctx, metric, zone, matter, (from, to), granularity)
            .await
            .or_api()
    }

    /// How equal regions are on a metric, over a zone's members or the
    /// nation: each region's value and their coefficient of variation.
    /// SATISFACTION and AVERAGE_DAYS come from evaluations and need a period.
    pub(crate) async fn equalization(
        &self,
        ctx: &Context<'_>,
        metric: EqualizationMetric,
        #[graphql(desc = "A zone's code; the nation when omitted.")] zone: Option<String>,
        #[graphql(desc = "The evaluation period, e.g. `2025-Q3`.")] period: Option<String>,
        #[graphql(desc = "One matter only; else each region's mean over its matters.")]
        matter: Option<String>,
        #[graphql(
            desc = "A served group's code (`servedGroups` query): only the matters that serve it."
        )]
        served_group: Option<String>,
    ) -> async_graphql::Result<Equalization> {
        let group = served_group_arg(served_group.as_deref()).or_api()?;
        let db = reading(ctx, &Footprint::of(&[Topic::Reference])).or_api()?;
        let zone = parse_optional::<ZoneCode, _>("zone", zone.as_deref()).or_api()?;
        let matter = parse_optional::<MatterCode, _>("matter", matter.as_deref()).or_api()?;
        let regions = equalized_regions(ctx, db, zone.as_ref(), metric)
            .await
            .or_api()?;
        // The matters a served group restricts the index to (with `matter`,
        // that one if it serves the group, else none).
        let only: Option<Vec<String>> = match group {
            Some(group) => {
                let db = reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?;
                let serving = queries::matters_serving(db, group).await.or_api()?;
                Some(
                    serving
                        .into_iter()
                        .map(|m| m.code)
                        .filter(|code| matter.as_ref().is_none_or(|m| m == code))
                        .map(String::from)
                        .collect(),
                )
            }
            None => matter.as_ref().map(|m| vec![m.to_string()]),
        };
        let mut per_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let period = match metric {
            EqualizationMetric::TimeLimit | EqualizationMetric::Fee => {
                for guide in queries::published_guides(db, &regions, only.as_deref())
                    .await
                    .or_api()?
                {
                    let value = match metric {
                        EqualizationMetric::TimeLimit => f64::from(guide.content.time_limit_days),
                        // The index works on means, which a fee's exact
                        // `Decimal` cannot hold (a third of 0.10 yuan); like
                        // every metric's, they are statistics, so Floats.
                        _ => guide.content.fee.fen() as f64 / 100.0,
                    };
                    per_region
                        .entry(guide.region.to_string())
                        .or_default()
                        .push(value);
                }
                None
            }
            EqualizationMetric::Satisfaction | EqualizationMetric::AverageDays => {
                let period = period
                    .as_deref()
                    .ok_or_else(|| {
                        ApiError::bad_input(
                            "period",
                            "an evaluated metric needs a period, e.g. `2025-Q3`",
                        )
                    })
                    .and_then(|p| {
                        Period::try_from(p).map_err(|e| ApiError::bad_input("period", e.message))
                    })
                    .or_api()?;
                let rows = queries::evaluations_in_period(
                    db,
                    Some(&regions),
                    period.as_str(),
                    matter.as_ref().map(|m| m.as_str()),
                )
                .await
                .or_api()?;
                let serving = |code: &str| {
                    only.as_ref()
                        .is_none_or(|codes| codes.iter().any(|c| c == code))
                };
                for row in rows.into_iter().filter(|row| serving(&row.matter_code)) {
                    let value = if metric == EqualizationMetric::Satisfaction {
                        row.satisfaction
                    } else {
                        row.average_days
                    };
                    per_region.entry(row.region_code).or_default().push(value);
                }
                Some(period.to_string())
            }
        };
        let values: Vec<RegionValue> = per_region
            .into_iter()
            .filter_map(|(region, values)| mean(&values).map(|value| RegionValue { region, value }))
            .collect();
        let numbers: Vec<f64> = values.iter().map(|v| v.value).collect();
        Ok(Equalization {
            metric,
            scope: zone.map_or_else(|| "NATION".to_owned(), |z| z.to_string()),
            period,
            matter: matter.map(|m| m.to_string()),
            served_group: group.map(|g| g.as_str().to_owned()),
            coefficient_of_variation: maths::coefficient_of_variation(&numbers),
            mean: mean(&numbers),
            values,
        })
    }
}
