//! What the policy's measures answer: baseline violations and exemptions,
//! coverage and equalization.

use std::collections::HashSet;

use async_graphql::{Enum, SimpleObject};
use concord_domain::Exemption;
use concord_domain::catalogue::ServiceMatter;

use crate::types::{NationalItem, count};

use super::share;

/// A guide that breaks its national item's baseline.
#[derive(SimpleObject)]
pub struct BaselineViolation {
    /// The guide's region.
    pub(super) region: String,
    /// The guide's matter.
    pub(super) matter: String,
    /// The national item whose baseline is broken.
    pub(super) national_item: NationalItem,
    /// `TIME_LIMIT`, `FEE` or `CHANNEL`: the rule publishing names when it
    /// refuses a guide like this one.
    pub(super) rule: String,
    /// The baseline's figure the guide breaks: working days, yuan, or the
    /// channel required.
    pub(super) baseline: String,
    /// What is wrong, in a sentence.
    pub(super) message: String,
    /// The exemption in force today that lets the region publish the
    /// guide anyway; null when none does.
    pub(super) exemption: Option<BaselineExemption>,
}

/// Leave for one region to publish one matter's guide below its national
/// item's baseline, granted by a NATIONAL_ADMIN for a reason and a period.
#[derive(SimpleObject, Clone)]
pub struct BaselineExemption {
    /// `region/matter/validFrom`: what `revokeBaselineExemption` names.
    pub(super) id: String,
    /// The region exempted.
    pub(super) region: String,
    /// The matter whose guide may fall below the baseline.
    pub(super) matter: String,
    /// Why the exemption was granted.
    pub(super) rationale: String,
    /// The first day it covers.
    pub(super) valid_from: chrono::NaiveDate,
    /// The last day it covers.
    pub(super) valid_until: chrono::NaiveDate,
    /// Who granted it (the token's subject).
    pub(super) granted_by: String,
    /// Who revoked it, if anyone did.
    pub(super) revoked_by: Option<String>,
    /// When it was revoked; a revoked exemption covers nothing.
    pub(super) revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether it covers today: not revoked, and today within its period.
    pub(super) in_force: bool,
    /// Raised by each change; `revokeBaselineExemption` names the one it read.
    pub(super) revision: i32,
}

impl From<Exemption> for BaselineExemption {
    fn from(exemption: Exemption) -> Self {
        Self {
            id: exemption.key(),
            in_force: exemption.in_force(chrono::Utc::now().date_naive()),
            region: exemption.region.into(),
            matter: exemption.matter.into(),
            rationale: exemption.grant.rationale,
            valid_from: exemption.grant.valid_from,
            valid_until: exemption.grant.valid_until,
            granted_by: exemption.granted_by,
            revoked_by: exemption.revoked_by,
            revoked_at: exemption.revoked_at,
            revision: exemption.revision,
        }
    }
}

/// How much of the catalogue a region covers, or how many regions cover a matter.
#[derive(SimpleObject)]
pub struct Coverage {
    /// The region, for business coverage.
    pub(super) region: Option<String>,
    /// The matter, for region coverage.
    pub(super) matter: Option<String>,
    /// The served group whose matters were counted, when one was asked for.
    pub(super) served_group: Option<String>,
    /// Matters in the catalogue, or the group's (business coverage), or
    /// regions (region coverage, and a served group's coverage of every
    /// region).
    pub(super) total: i32,
    /// Those with a published guide and an operating procedure.
    pub(super) covered: i32,
    /// `covered / total`, in [0, 1].
    pub(super) share: f64,
    /// Matters the region has no published guide and procedure for.
    pub(super) missing_matters: Vec<String>,
    /// Matters the region has a published guide and procedure for.
    pub(super) covered_matters: Vec<String>,
    /// Regions without a published guide and procedure for the matter (or,
    /// for a served group alone, for some of the group's matters).
    pub(super) missing_regions: Vec<String>,
    /// For a served group alone: each region's business coverage of the
    /// group's matters, by region code.
    pub(super) regions: Vec<Coverage>,
}

/// The business coverage of `region` over `matters`: those it has a
/// published guide and a procedure for (keys of `published` and
/// `procedures`, region then matter).
pub(super) fn business_coverage(
    region: &str,
    matters: &[ServiceMatter],
    published: &HashSet<(String, String)>,
    procedures: &HashSet<(String, String)>,
) -> Coverage {
    let (covered, missing): (Vec<String>, Vec<String>) = matters
        .iter()
        .map(|m| m.code.to_string())
        .partition(|code| {
            let key = (region.to_owned(), code.clone());
            published.contains(&key) && procedures.contains(&key)
        });
    let total = count(matters.len());
    Coverage {
        region: Some(region.to_owned()),
        matter: None,
        served_group: None,
        total,
        covered: count(covered.len()),
        share: share(count(covered.len()), total),
        missing_matters: missing,
        covered_matters: covered,
        missing_regions: Vec::new(),
        regions: Vec::new(),
    }
}

/// Region coverage over `regions` regions, of which `missing` are not
/// covered.
pub(super) fn region_coverage(regions: usize, missing: Vec<String>) -> Coverage {
    let total = count(regions);
    let covered = total - count(missing.len());
    Coverage {
        region: None,
        matter: None,
        served_group: None,
        total,
        covered,
        share: share(covered, total),
        missing_matters: Vec::new(),
        covered_matters: Vec::new(),
        missing_regions: missing,
        regions: Vec::new(),
    }
}

/// What an equalization index measures.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum EqualizationMetric {
    /// Published guides' time limits, in working days.
    TimeLimit,
    /// Published guides' fees, in yuan (the values and mean are Floats:
    /// statistics, not amounts anyone pays).
    Fee,
    /// Evaluated satisfaction in a period.
    Satisfaction,
    /// Evaluated average days taken in a period.
    AverageDays,
}

/// One region's value in an equalization index.
#[derive(SimpleObject)]
pub struct RegionValue {
    /// The region.
    pub(super) region: String,
    /// Its value: the mean over its matters unless one matter was asked for.
    pub(super) value: f64,
}

/// How equal regions are on a metric: the coefficient of variation of their
/// values (standard deviation / mean); lower is more equal.
#[derive(SimpleObject)]
pub struct Equalization {
    /// The metric.
    pub(super) metric: EqualizationMetric,
    /// `NATION` or the zone's code.
    pub(super) scope: String,
    /// The period, for evaluated metrics.
    pub(super) period: Option<String>,
    /// The matter, when one was asked for.
    pub(super) matter: Option<String>,
    /// The served group, when one was asked for: only its matters count.
    pub(super) served_group: Option<String>,
    /// The coefficient of variation; null when no region has a value.
    pub(super) coefficient_of_variation: Option<f64>,
    /// The mean of the regions' values.
    pub(super) mean: Option<f64>,
    /// Each region's value.
    pub(super) values: Vec<RegionValue>,
}
