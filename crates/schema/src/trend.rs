//! The equalization index over time: for each period of a range, the
//! index as `equalization` computes it now, from the guides' versions in
//! force at the period's end or the evaluations of the period. The
//! history and the evaluations are read once for the whole range.

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, SimpleObject};
use chrono::NaiveDate;
use concord_domain::alignment::coefficient_of_variation;
use concord_domain::alignment::trend::{self, Granularity, TrendPeriod, in_force_at};
use concord_domain::{MatterCode, Period, ZoneCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;

use crate::alignment::{EqualizationMetric, equalized_regions, mean};
use crate::context::reading;
use crate::error::{ApiError, parse_optional};
use crate::types::count;

/// How long each period of a trend is.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum TrendGranularity {
    /// Calendar months, e.g. `2025-07`.
    Month,
    /// Calendar quarters, e.g. `2025-Q3`.
    Quarter,
    /// Calendar years, e.g. `2025`.
    Year,
}

impl From<TrendGranularity> for Granularity {
    fn from(value: TrendGranularity) -> Self {
        match value {
            TrendGranularity::Month => Granularity::Month,
            TrendGranularity::Quarter => Granularity::Quarter,
            TrendGranularity::Year => Granularity::Year,
        }
    }
}

/// The equalization index of one period.
#[derive(SimpleObject)]
pub struct EqualizationPoint {
    /// The period, named as evaluation periods are: `2025-07`, `2025-Q3`, `2025`.
    period: String,
    /// Its first day.
    start: NaiveDate,
    /// The first day after it; guide values are those in force at its start.
    end: NaiveDate,
    /// The coefficient of variation of the regions' values; null when no
    /// region has a value in the period (never a zero for no data).
    coefficient_of_variation: Option<f64>,
    /// The mean of the regions' values; null without data.
    mean: Option<f64>,
    /// How many regions have a value in the period.
    regions: i32,
    /// True when no region has a value in the period.
    no_data: bool,
    /// Why there is no data, when there is none.
    reason: Option<String>,
}

/// How equal regions are on a metric, period by period.
#[derive(SimpleObject)]
pub struct EqualizationTrend {
    /// The metric.
    metric: EqualizationMetric,
    /// `NATION` or the zone's code.
    scope: String,
    /// The matter, when one was asked for.
    matter: Option<String>,
    /// The periods, oldest first.
    points: Vec<EqualizationPoint>,
}

fn point(
    period: &TrendPeriod,
    per_region: &BTreeMap<String, Vec<f64>>,
    why: &str,
) -> EqualizationPoint {
    let values: Vec<f64> = per_region.values().filter_map(|v| mean(v)).collect();
    let no_data = values.is_empty();
    EqualizationPoint {
        period: period.label.clone(),
        start: period.start,
        end: period.end,
        coefficient_of_variation: coefficient_of_variation(&values),
        mean: mean(&values),
        regions: count(values.len()),
        no_data,
        reason: no_data.then(|| why.to_owned()),
    }
}

/// See `AlignmentQuery::equalization_trend`.
pub(crate) async fn equalization_trend(
    ctx: &Context<'_>,
    metric: EqualizationMetric,
    zone: Option<String>,
    matter: Option<String>,
    (from, to): (NaiveDate, NaiveDate),
    granularity: TrendGranularity,
) -> Result<EqualizationTrend, ApiError> {
    let periods = trend::trend_periods(from, to, granularity.into())
        .map_err(|e| ApiError::bad_input(&e.field, e.message))?;
    let zone = parse_optional::<ZoneCode, _>("zone", zone.as_deref())?;
    let matter = parse_optional::<MatterCode, _>("matter", matter.as_deref())?;
    let db = reading(ctx, &Footprint::of(&[Topic::Reference]))?;
    let regions = equalized_regions(ctx, db, zone.as_ref(), metric).await?;
    let matter_code = matter.as_ref().map(MatterCode::as_str);
    let points = match metric {
        EqualizationMetric::TimeLimit | EqualizationMetric::Fee => {
            let until = periods.last().map(TrendPeriod::end_instant);
            let versions = match until {
                Some(until) => queries::guide_versions(db, &regions, matter_code, until).await?,
                None => Default::default(),
            };
            periods
                .iter()
                .map(|period| {
                    let mut per_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
                    for ((region, _), history) in &versions {
                        if let Some((days, fen)) = in_force_at(history, period.end_instant()) {
                            let value = match metric {
                                EqualizationMetric::TimeLimit => f64::from(*days),
                                _ => *fen as f64 / 100.0,
                            };
                            per_region.entry(region.clone()).or_default().push(value);
                        }
                    }
                    point(
                        period,
                        &per_region,
                        "no published guide was in force at the period's end",
                    )
                })
                .collect()
        }
        EqualizationMetric::Satisfaction | EqualizationMetric::AverageDays => {
            let evaluations = queries::evaluations_of(db, &regions, matter_code).await?;
            periods
                .iter()
                .map(|period| {
                    let mut per_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
                    for row in &evaluations {
                        let held = Period::try_from(row.period.as_str())
                            .is_ok_and(|evaluated| period.holds(&evaluated));
                        if held {
                            let value = if metric == EqualizationMetric::Satisfaction {
                                row.satisfaction
                            } else {
                                row.average_days
                            };
                            per_region
                                .entry(row.region_code.clone())
                                .or_default()
                                .push(value);
                        }
                    }
                    point(period, &per_region, "no evaluation falls in the period")
                })
                .collect()
        }
    };
    Ok(EqualizationTrend {
        metric,
        scope: zone.map_or_else(|| "NATION".to_owned(), |z| z.to_string()),
        matter: matter.map(|m| m.to_string()),
        points,
    })
}
