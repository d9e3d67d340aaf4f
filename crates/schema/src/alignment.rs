//! Cross-regional comparison: a zone's alignment on a matter and its whole
//! matrix, baseline checks, collaborative standards and their compliance,
//! elevation proposals, coverage and equalization. The maths is
//! `concord_domain::alignment`; this module gathers the rows in a fixed
//! number of statements and maps the answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{Context, Enum, InputType, Object, SimpleObject, Value};
use chrono::NaiveDate;
use concord_domain::alignment::{
    self as maths, AlignmentScore, Baseline, GuideValues, Targets, baseline_violations,
    check_targets,
};
use concord_domain::{
    Channel as DomainChannel, Fee, MatterCode, Period, RegionCode, ServedGroup, StandardCode,
    ZoneCode,
};
use concord_persistence::entity::{
    adoption, baseline_exemption, collaborative_target, elevation_proposal, national_item,
    service_guide, service_matter,
};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::{baselines, queries};

use crate::context::reading;
use crate::direct::{Direct, Plain, optional_text, plain_list, plain_one, scalar, text};
use crate::error::{ApiError, OrApiError, parse_arg};
use crate::loader::{RegionKey, StandardKey, ZoneKey};
use crate::matrix::{Matrix, MemberGuides, Start, ZoneMatrices};
use crate::trend::{EqualizationTrend, TrendGranularity};
use crate::types::{
    Channel, Decimal, Decision, ElevationStatus, ElevationTarget, NationalItem, ProposalStatus,
    Region, ServiceGuide, ServiceMatter, Standard, Zone,
};

/// A stored channel list, read strictly: a value that is not a channel is
/// a storage fault, never a channel quietly left out.
fn stored_channels(stored: &[String]) -> Result<Vec<DomainChannel>, ApiError> {
    stored
        .iter()
        .map(|c| {
            c.parse::<DomainChannel>()
                .map_err(|e| ApiError::Internal(Box::new(e)))
        })
        .collect()
}

/// The values alignment compares, read from a stored guide (as publishing
/// reads them).
pub fn values(guide: &service_guide::Model) -> Result<GuideValues, ApiError> {
    Ok(baselines::guide_values(guide)?)
}

/// Required channels; a row without the column requires none.
fn channels(
    stored: Option<&concord_persistence::entity::TextList>,
) -> Result<Vec<DomainChannel>, ApiError> {
    stored.map_or(Ok(Vec::new()), |list| stored_channels(&list.0))
}

/// A collaborative standard's targets, read from storage.
pub fn targets(row: &collaborative_target::Model) -> Result<Targets, ApiError> {
    Ok(Targets {
        max_time_limit_days: row.max_time_limit_days,
        materials: row.materials.as_ref().map(|m| m.0.clone()),
        required_channels: channels(row.required_channels.as_ref())?,
    })
}

fn baseline(item: &national_item::Model) -> Result<Baseline, ApiError> {
    Ok(baselines::item_baseline(item)?)
}

/// Lowest, highest and median of a set of values.
#[derive(SimpleObject, Clone, Copy)]
pub struct Spread {
    /// The lowest value.
    min: f64,
    /// The highest value.
    max: f64,
    /// The median (the mean of the two middle values for an even count).
    median: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Self> {
        maths::spread(values).map(|s| Spread {
            min: s.min,
            max: s.max,
            median: s.median,
        })
    }
}

/// Lowest, highest and median of a set of fees, in yuan, exact.
#[derive(SimpleObject, Clone, Copy)]
pub struct FeeSpread {
    /// The lowest fee.
    min: Decimal,
    /// The highest fee.
    max: Decimal,
    /// The median fee; for an even count, halfway between the two middle
    /// fees, which may take a third decimal (`"12.505"`).
    median: Decimal,
}

impl FeeSpread {
    fn of(fees: &mut [Fee]) -> Option<Self> {
        fees.sort_unstable();
        let (&min, &max) = (fees.first()?, fees.last()?);
        let middle = fees.len() / 2;
        let median = if fees.len() % 2 == 1 {
            Decimal::from(fees[middle])
        } else {
            Decimal::midpoint(fees[middle - 1], fees[middle])
        };
        Some(FeeSpread {
            min: min.into(),
            max: max.into(),
            median,
        })
    }
}

/// A material that only some members ask for.
#[derive(SimpleObject)]
pub struct MaterialUse {
    /// The material.
    material: String,
    /// The members that ask for it.
    regions: Vec<String>,
}

/// The parts the alignment score is made of, each in [0, 1].
#[derive(SimpleObject, Clone, Copy)]
pub struct ScoreParts {
    /// Members with a published guide, as a share of all members.
    coverage: f64,
    /// 1 − (max − min) / max of the time limits.
    time_limit: f64,
    /// 1 − (max − min) / max of the fees.
    fee: f64,
    /// Materials every guide asks for, as a share of those any guide asks for.
    materials: f64,
    /// Channels every guide offers, as a share of those any guide offers.
    channels: f64,
}

impl From<AlignmentScore> for ScoreParts {
    fn from(score: AlignmentScore) -> Self {
        ScoreParts {
            coverage: score.parts.coverage,
            time_limit: score.parts.time_limit,
            fee: score.parts.fee,
            materials: score.parts.materials,
            channels: score.parts.channels,
        }
    }
}

/// Whether a guide meets one target of a collaborative standard.
#[derive(SimpleObject, Clone)]
pub struct TargetCheck {
    /// `TIME_LIMIT`, `MATERIALS` or `CHANNELS`.
    target: String,
    /// True when the guide meets it.
    met: bool,
    /// What was compared.
    detail: String,
}

/// A member's compliance with a collaborative standard on one matter.
#[derive(SimpleObject, Clone)]
pub struct MemberCompliance {
    /// The member region.
    region: String,
    /// The matter.
    matter: String,
    /// False when the member has no published guide for the matter.
    has_guide: bool,
    /// True when the guide meets every target.
    compliant: bool,
    /// Each target, met or not.
    checks: Vec<TargetCheck>,
}

fn compliance_of(
    targets: &Targets,
    region: &str,
    matter: &str,
    guide: Option<&GuideValues>,
) -> MemberCompliance {
    match guide {
        None => MemberCompliance {
            region: region.to_owned(),
            matter: matter.to_owned(),
            has_guide: false,
            compliant: false,
            checks: Vec::new(),
        },
        Some(guide) => {
            let checks: Vec<TargetCheck> = check_targets(targets, guide)
                .into_iter()
                .map(|c| TargetCheck {
                    target: c.target.to_owned(),
                    met: c.met,
                    detail: c.detail,
                })
                .collect();
            MemberCompliance {
                region: region.to_owned(),
                matter: matter.to_owned(),
                has_guide: true,
                compliant: checks.iter().all(|c| c.met),
                checks,
            }
        }
    }
}

/// One member's side of an alignment.
pub struct AlignmentMember {
    region: String,
    guide: Option<service_guide::Model>,
}

/// One member's side of an alignment.
#[Object]
impl AlignmentMember {
    /// The member region.
    async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
        crate::types::load_one(ctx, RegionKey(self.region.clone())).await
    }

    /// Its published guide for the matter; null when it has none.
    async fn guide(&self) -> Option<Direct<ServiceGuide>> {
        self.guide
            .clone()
            .map(|row| Direct(ServiceGuide::from(row)))
    }
}

/// A zone's members side by side on one matter.
pub struct Alignment {
    zone: String,
    matter: service_matter::Model,
    members: Vec<String>,
    guides: Vec<service_guide::Model>,
    /// The guides as the alignment maths reads them, converted once.
    values: Vec<GuideValues>,
    collaborative: Option<collaborative_target::Model>,
}

/// A zone's members side by side on one matter.
#[Object]
impl Alignment {
    /// The zone.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Zone>> {
        crate::types::load_one(ctx, ZoneKey(self.zone.clone())).await
    }

    /// The matter.
    async fn matter(&self) -> ServiceMatter {
        ServiceMatter::from(self.matter.clone())
    }

    /// Every member, with its published guide or null.
    async fn members(&self) -> Vec<AlignmentMember> {
        self.members
            .iter()
            .map(|region| AlignmentMember {
                region: region.clone(),
                guide: self
                    .guides
                    .iter()
                    .find(|g| &g.region_code == region)
                    .cloned(),
            })
            .collect()
    }

    /// Members without a published guide for the matter.
    async fn missing(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Region>> {
        let missing: Vec<RegionKey> = self
            .members
            .iter()
            .filter(|m| !self.guides.iter().any(|g| &&g.region_code == m))
            .map(|m| RegionKey(m.clone()))
            .collect();
        crate::types::load_many(ctx, missing).await
    }

    /// The spread of the guides' time limits, in working days.
    async fn time_limit(&self) -> Option<Spread> {
        let values: Vec<f64> = self
            .guides
            .iter()
            .map(|g| f64::from(g.time_limit_days))
            .collect();
        Spread::of(&values)
    }

    /// The spread of the guides' fees, in yuan.
    async fn fee(&self) -> Option<FeeSpread> {
        let mut fees: Vec<Fee> = self.values.iter().map(|v| v.fee).collect();
        FeeSpread::of(&mut fees)
    }

    /// Materials every member's guide asks for.
    async fn common_materials(&self) -> Vec<String> {
        maths::compare_materials(&self.values).common
    }

    /// Materials only some members ask for, with which.
    async fn partial_materials(&self) -> Vec<MaterialUse> {
        maths::compare_materials(&self.values)
            .partial
            .into_iter()
            .map(|p| MaterialUse {
                material: p.material,
                regions: p.regions,
            })
            .collect()
    }

    /// The member whose guide is the best practice: shortest time limit,
    /// then fewest materials, then lowest fee.
    async fn best_practice(&self) -> Option<AlignmentMember> {
        let values = &self.values;
        let best = maths::best_practice(values)?;
        Some(AlignmentMember {
            region: best.region.clone(),
            guide: self
                .guides
                .iter()
                .find(|g| g.region_code == best.region)
                .cloned(),
        })
    }

    /// How aligned the members are, in [0, 1]; 1 when every member has a
    /// guide and all agree on time limit, fee, materials and channels.
    async fn score(&self) -> f64 {
        maths::alignment_score(self.members.len(), &self.values).score
    }

    /// The parts of the score.
    async fn score_parts(&self) -> ScoreParts {
        maths::alignment_score(self.members.len(), &self.values).into()
    }

    /// The zone's collaborative standard in force for this matter, if any.
    async fn collaborative_standard(&self) -> Option<CollaborativeStandard> {
        self.collaborative.clone().map(CollaborativeStandard)
    }

    /// Each member's compliance with that collaborative standard.
    async fn compliance(&self) -> async_graphql::Result<Vec<MemberCompliance>> {
        let Some(collaborative) = &self.collaborative else {
            return Ok(Vec::new());
        };
        let targets = targets(collaborative).or_api()?;
        let values = &self.values;
        Ok(self
            .members
            .iter()
            .map(|region| {
                compliance_of(
                    &targets,
                    region,
                    &self.matter.code,
                    values.iter().find(|v| &v.region == region),
                )
            })
            .collect())
    }
}

/// One cell of a zone's alignment matrix: a member's guide for a matter.
#[derive(SimpleObject)]
pub struct AlignmentCell {
    /// The member region.
    region: String,
    /// False when the member has no published guide for the matter.
    has_guide: bool,
    /// The guide's time limit in working days.
    time_limit_days: Option<i32>,
    /// The guide's fee in yuan.
    fee: Option<Decimal>,
    /// How many materials the guide asks for.
    material_count: Option<i32>,
    /// The guide's channels.
    channels: Option<Vec<Channel>>,
}

impl Plain for AlignmentCell {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        Some(match ctx.item.node.name.node.as_str() {
            "region" => text(&self.region),
            "hasGuide" => scalar(&self.has_guide),
            "timeLimitDays" => self.time_limit_days.as_ref().map_or(Value::Null, scalar),
            "fee" => self.fee.as_ref().map_or(Value::Null, scalar),
            "materialCount" => self.material_count.as_ref().map_or(Value::Null, scalar),
            "channels" => self.channels.as_ref().map_or(Value::Null, |channels| {
                Value::List(channels.iter().map(InputType::to_value).collect())
            }),
            _ => return None,
        })
    }
}

/// One row of a zone's alignment matrix.
#[derive(SimpleObject)]
pub struct MatterAlignment {
    /// The matter.
    matter: Direct<ServiceMatter>,
    /// The alignment score of the zone on this matter.
    score: f64,
    /// The best-practice member, if any member has a guide.
    best_practice: Option<String>,
    /// Every member's cell, in member order.
    cells: Vec<AlignmentCell>,
}

impl Plain for MatterAlignment {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "matter" => plain_one(&self.matter.0, ctx),
            "score" => Some(scalar(&self.score)),
            "bestPractice" => Some(optional_text(self.best_practice.as_deref())),
            "cells" => plain_list(&self.cells, ctx),
            _ => None,
        }
    }
}

/// A zone's whole alignment matrix: every matter by every member.
pub struct ZoneAlignment(Arc<Matrix>);

impl Plain for ZoneAlignment {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "matters" => plain_list(&self.0.rows, ctx),
            "averageScore" => Some(scalar(&self.0.average_score)),
            _ => None,
        }
    }
}

/// A zone's whole alignment matrix: every matter by every member.
#[Object]
impl ZoneAlignment {
    /// The zone.
    async fn zone(&self) -> Zone {
        Zone(self.0.zone.clone())
    }

    /// The members, in column order.
    async fn members(&self) -> Vec<Region> {
        self.0.members.iter().cloned().map(Region).collect()
    }

    /// One row per matter of the catalogue.
    async fn matters(&self) -> &[MatterAlignment] {
        &self.0.rows
    }

    /// The mean of the matters' scores.
    async fn average_score(&self) -> f64 {
        self.0.average_score
    }
}

/// A guide that breaks its national item's baseline.
#[derive(SimpleObject)]
pub struct BaselineViolation {
    /// The guide's region.
    region: String,
    /// The guide's matter.
    matter: String,
    /// The national item whose baseline is broken.
    national_item: NationalItem,
    /// `TIME_LIMIT`, `FEE` or `CHANNEL`: the rule publishing names when it
    /// refuses a guide like this one.
    rule: String,
    /// The baseline's figure the guide breaks: working days, yuan, or the
    /// channel required.
    baseline: String,
    /// What is wrong, in a sentence.
    message: String,
    /// The exemption in force today that lets the region publish the
    /// guide anyway; null when none does.
    exemption: Option<BaselineExemption>,
}

/// Leave for one region to publish one matter's guide below its national
/// item's baseline, granted by a NATIONAL_ADMIN for a reason and a period.
#[derive(SimpleObject, Clone)]
pub struct BaselineExemption {
    /// `region/matter/validFrom`: what `revokeBaselineExemption` names.
    id: String,
    /// The region exempted.
    region: String,
    /// The matter whose guide may fall below the baseline.
    matter: String,
    /// Why the exemption was granted.
    rationale: String,
    /// The first day it covers.
    valid_from: chrono::NaiveDate,
    /// The last day it covers.
    valid_until: chrono::NaiveDate,
    /// Who granted it (the token's subject).
    granted_by: String,
    /// Who revoked it, if anyone did.
    revoked_by: Option<String>,
    /// When it was revoked; a revoked exemption covers nothing.
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether it covers today: not revoked, and today within its period.
    in_force: bool,
    /// Raised by each change; `revokeBaselineExemption` names the one it read.
    revision: i32,
}

impl From<baseline_exemption::Model> for BaselineExemption {
    fn from(row: baseline_exemption::Model) -> Self {
        Self {
            id: concord_persistence::mutate::exemption_key(&row),
            in_force: baselines::in_force(&row, chrono::Utc::now().date_naive()),
            region: row.region_code,
            matter: row.matter_code,
            rationale: row.rationale,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            granted_by: row.granted_by,
            revoked_by: row.revoked_by,
            revoked_at: row.revoked_at,
            revision: row.revision,
        }
    }
}

/// Where a member stands on a collaborative standard.
#[derive(SimpleObject)]
pub struct Adoption {
    /// The member region.
    region: String,
    /// Pending until the member answers.
    decision: Decision,
    /// Why it rejected.
    reason: Option<String>,
    /// Who decided (the token's subject).
    decided_by: Option<String>,
    /// When it decided.
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Raised by each decision; `decideAdoption` names the one it read.
    revision: i32,
}

impl TryFrom<adoption::Model> for Adoption {
    type Error = ApiError;

    fn try_from(row: adoption::Model) -> Result<Self, ApiError> {
        Ok(Adoption {
            region: row.region_code,
            decision: Decision::parse_stored(&row.decision)?,
            reason: row.reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            revision: row.revision,
        })
    }
}

/// A zone's collaborative standard: a REGIONAL standard with targets that
/// its members adopt. It comes into force when every member has adopted it.
pub struct CollaborativeStandard(pub collaborative_target::Model);

/// A zone's collaborative standard: a REGIONAL standard with targets that
/// its members adopt. It comes into force when every member has adopted it.
#[Object]
impl CollaborativeStandard {
    /// The REGIONAL standard's code.
    async fn code(&self) -> &str {
        &self.0.standard_code
    }

    /// The standard itself, with its titles, matters and revisions.
    async fn standard(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
        crate::types::load_one(ctx, StandardKey(self.0.standard_code.clone())).await
    }

    /// The zone.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Zone>> {
        crate::types::load_one(ctx, ZoneKey(self.0.zone_code.clone())).await
    }

    /// Proposed, in force or withdrawn.
    async fn status(&self) -> async_graphql::Result<ProposalStatus> {
        ProposalStatus::parse_stored(&self.0.status).or_api()
    }

    /// The longest time limit a member's guide may state.
    async fn max_time_limit_days(&self) -> Option<i32> {
        self.0.max_time_limit_days
    }

    /// The unified materials list: a member's guide may ask for nothing else.
    async fn materials(&self) -> Option<&[String]> {
        self.0.materials.as_ref().map(|m| m.0.as_slice())
    }

    /// The channels every member must offer.
    async fn required_channels(&self) -> async_graphql::Result<Vec<Channel>> {
        Ok(channels(self.0.required_channels.as_ref())
            .or_api()?
            .into_iter()
            .map(Channel::from)
            .collect())
    }

    /// Each member's decision.
    async fn adoptions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Adoption>> {
        let rows = crate::types::load_one::<_, Vec<adoption::Model>>(
            ctx,
            crate::loader::AdoptionsOf(self.0.standard_code.clone()),
        )
        .await?;
        // A standard nobody has answered yet has no adoption rows.
        rows.unwrap_or_default()
            .into_iter()
            .map(Adoption::try_from)
            .collect::<Result<_, _>>()
            .or_api()
    }

    /// The revision of the proposal's status and targets.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// True when this is illustrative sample data.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
}

/// A proposal to raise a local or regional standard to a national or industry one.
pub struct ElevationProposal(pub elevation_proposal::Model);

/// A proposal to raise a local or regional standard to a national or industry one.
#[Object]
impl ElevationProposal {
    /// This node's number for the proposal, which `decideElevation` takes.
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// The standard proposed for elevation.
    async fn standard(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
        crate::types::load_one(ctx, StandardKey(self.0.standard_code.clone())).await
    }

    /// Its place among its standard's proposals, from 1; with the
    /// standard's code it names the proposal on every node.
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// The standard its acceptance created, at the target level.
    async fn elevated_standard(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Standard>> {
        match &self.0.elevated_code {
            Some(code) => crate::types::load_one(ctx, StandardKey(code.clone())).await,
            None => Ok(None),
        }
    }

    /// Whether the local standard stays in force beside the elevated one.
    async fn keep_local(&self) -> bool {
        self.0.keep_local
    }

    /// The level the standard would be raised to.
    async fn target_level(&self) -> async_graphql::Result<ElevationTarget> {
        ElevationTarget::parse_stored(&self.0.target_level).or_api()
    }

    /// Why it should be elevated.
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }

    /// Where the proposal stands.
    async fn status(&self) -> async_graphql::Result<ElevationStatus> {
        ElevationStatus::parse_stored(&self.0.status).or_api()
    }

    /// Who proposed it.
    async fn proposed_by(&self) -> &str {
        &self.0.proposed_by
    }

    /// Who accepted or declined it.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    /// When it was proposed.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }

    /// Grows by one with each step.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// True when this is illustrative sample data.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
}

/// How much of the catalogue a region covers, or how many regions cover a matter.
#[derive(SimpleObject)]
pub struct Coverage {
    /// The region, for business coverage.
    region: Option<String>,
    /// The matter, for region coverage.
    matter: Option<String>,
    /// The served group whose matters were counted, when one was asked for.
    served_group: Option<String>,
    /// Matters in the catalogue, or the group's (business coverage), or
    /// regions (region coverage, and a served group's coverage of every
    /// region).
    total: i32,
    /// Those with a published guide and an operating procedure.
    covered: i32,
    /// `covered / total`, in [0, 1].
    share: f64,
    /// Matters the region has no published guide and procedure for.
    missing_matters: Vec<String>,
    /// Matters the region has a published guide and procedure for.
    covered_matters: Vec<String>,
    /// Regions without a published guide and procedure for the matter (or,
    /// for a served group alone, for some of the group's matters).
    missing_regions: Vec<String>,
    /// For a served group alone: each region's business coverage of the
    /// group's matters, by region code.
    regions: Vec<Coverage>,
}

/// The business coverage of `region` over `matters`: those it has a
/// published guide and a procedure for (keys of `published` and
/// `procedures`, region then matter).
fn business_coverage(
    region: &str,
    matters: &[service_matter::Model],
    published: &HashSet<(String, String)>,
    procedures: &HashSet<(String, String)>,
) -> Coverage {
    let (covered, missing): (Vec<String>, Vec<String>) =
        matters.iter().map(|m| m.code.clone()).partition(|code| {
            let key = (region.to_owned(), code.clone());
            published.contains(&key) && procedures.contains(&key)
        });
    let total = matters.len() as i32;
    Coverage {
        region: Some(region.to_owned()),
        matter: None,
        served_group: None,
        total,
        covered: covered.len() as i32,
        share: share(covered.len() as i32, total),
        missing_matters: missing,
        covered_matters: covered,
        missing_regions: Vec::new(),
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
    region: String,
    /// Its value: the mean over its matters unless one matter was asked for.
    value: f64,
}

/// How equal regions are on a metric: the coefficient of variation of their
/// values (standard deviation / mean); lower is more equal.
#[derive(SimpleObject)]
pub struct Equalization {
    /// The metric.
    metric: EqualizationMetric,
    /// `NATION` or the zone's code.
    scope: String,
    /// The period, for evaluated metrics.
    period: Option<String>,
    /// The matter, when one was asked for.
    matter: Option<String>,
    /// The served group, when one was asked for: only its matters count.
    served_group: Option<String>,
    /// The coefficient of variation; null when no region has a value.
    coefficient_of_variation: Option<f64>,
    /// The mean of the regions' values.
    mean: Option<f64>,
    /// Each region's value.
    values: Vec<RegionValue>,
}

/// What reading `topics` and the published guides of `regions` records.
fn guides_of(topics: &[Topic], regions: &[String]) -> Footprint {
    Footprint::of(topics).in_regions(Topic::Guide, regions.iter().map(String::as_str))
}

/// One row of a zone's matrix: each member's guide for `matter`, in member
/// order, with the zone's score and best practice on it.
pub(crate) fn matter_row(
    matter: service_matter::Model,
    members: &[String],
    values: &HashMap<String, MemberGuides>,
) -> MatterAlignment {
    let guides: Vec<GuideValues> = members
        .iter()
        .filter_map(|member| values.get(member)?.get(&matter.code).cloned())
        .collect();
    let score = maths::alignment_score(members.len(), &guides).score;
    let best_practice = maths::best_practice(&guides).map(|g| g.region.clone());
    let cells = members
        .iter()
        .map(|region| match guides.iter().find(|g| &g.region == region) {
            Some(g) => AlignmentCell {
                region: region.clone(),
                has_guide: true,
                time_limit_days: Some(g.time_limit_days),
                fee: Some(g.fee.into()),
                material_count: Some(g.materials.len() as i32),
                channels: Some(g.channels.iter().copied().map(Channel::from).collect()),
            },
            None => AlignmentCell {
                region: region.clone(),
                has_guide: false,
                time_limit_days: None,
                fee: None,
                material_count: None,
                channels: None,
            },
        })
        .collect();
    MatterAlignment {
        matter: Direct(ServiceMatter::from(matter)),
        score,
        best_practice,
        cells,
    }
}

pub(crate) async fn zone_members(
    ctx: &Context<'_>,
    zone: &ZoneCode,
) -> Result<Vec<String>, ApiError> {
    let members: Vec<String> = queries::members_of_zones(
        reading(ctx, &Footprint::of(&[Topic::Reference]))?,
        &[zone.to_string()],
    )
    .await?
    .into_iter()
    .map(|m| m.region_code)
    .collect();
    if members.is_empty() {
        return Err(ApiError::NotFound(format!("zone {zone}")));
    }
    Ok(members)
}

/// The collaborative standards in force in a zone, by the matters they govern.
async fn in_force_by_matter(
    ctx: &Context<'_>,
    zone: &ZoneCode,
) -> Result<HashMap<String, collaborative_target::Model>, ApiError> {
    let db = reading(
        ctx,
        &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
    )?;
    let targets = queries::collaborative_targets(db, Some(zone.as_str()), Some("IN_FORCE")).await?;
    let codes: Vec<String> = targets.iter().map(|t| t.standard_code.clone()).collect();
    let links = if codes.is_empty() {
        Vec::new()
    } else {
        queries::standard_links(db, &codes, &[]).await?
    };
    let mut by_matter = HashMap::new();
    for link in links {
        if let Some(target) = targets
            .iter()
            .find(|t| t.standard_code == link.standard_code)
        {
            by_matter.insert(link.matter_code, target.clone());
        }
    }
    Ok(by_matter)
}

/// The compliance of every member with a collaborative standard, on every matter it governs.
async fn compliance(
    ctx: &Context<'_>,
    target: &collaborative_target::Model,
) -> Result<Vec<MemberCompliance>, ApiError> {
    let zone = ZoneCode::try_from(target.zone_code.as_str())
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let members = zone_members(ctx, &zone).await?;
    let db = reading(ctx, &guides_of(&[Topic::Standard], &members))?;
    let matters: Vec<String> =
        queries::standard_links(db, std::slice::from_ref(&target.standard_code), &[])
            .await?
            .into_iter()
            .map(|l| l.matter_code)
            .collect();
    let guides: HashMap<(String, String), GuideValues> =
        queries::published_guides(db, &members, Some(&matters))
            .await?
            .into_iter()
            .map(|g| Ok(((g.region_code.clone(), g.matter_code.clone()), values(&g)?)))
            .collect::<Result<_, ApiError>>()?;
    let targets = targets(target)?;
    let mut out = Vec::new();
    for matter in &matters {
        for region in &members {
            let guide = guides.get(&(region.clone(), matter.clone()));
            out.push(compliance_of(&targets, region, matter, guide));
        }
    }
    Ok(out)
}

/// The keys of the procedures a coverage question needs, and no more.
async fn procedures_of(
    db: &concord_persistence::DatabaseConnection,
    regions: Option<&[String]>,
    matter: Option<&str>,
) -> async_graphql::Result<HashSet<(String, String)>> {
    Ok(queries::procedure_keys(db, regions, matter)
        .await
        .or_api()?
        .into_iter()
        .collect())
}

/// A `servedGroup` argument: a code of the catalogue of groups.
fn served_group_arg(raw: Option<&str>) -> Result<Option<ServedGroup>, ApiError> {
    raw.map(|g| {
        g.parse::<ServedGroup>()
            .map_err(|e| ApiError::bad_input("servedGroup", e))
    })
    .transpose()
}

fn share(covered: i32, total: i32) -> f64 {
    if total == 0 {
        0.0
    } else {
        f64::from(covered) / f64::from(total)
    }
}

pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The root of every alignment read.
#[derive(Default)]
pub struct AlignmentQuery;

/// Reads that compare regions: alignment, baselines, collaborative
/// standards, elevation, coverage and equalization.
#[Object]
impl AlignmentQuery {
    /// A zone's members side by side on one matter.
    pub(crate) async fn alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
        matter: String,
    ) -> async_graphql::Result<Alignment> {
        let zone: ZoneCode = parse_arg("zone", &zone).or_api()?;
        let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
        let members = zone_members(ctx, &zone).await.or_api()?;
        let db = reading(ctx, &guides_of(&[Topic::Catalogue], &members)).or_api()?;
        let matter_row = queries::matters_by_codes(db, &[matter.to_string()])
            .await
            .or_api()?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::NotFound(format!("matter {matter}")))
            .or_api()?;
        let guides = queries::published_guides(db, &members, Some(&[matter.to_string()]))
            .await
            .or_api()?;
        let collaborative = in_force_by_matter(ctx, &zone)
            .await
            .or_api()?
            .remove(matter.as_str());
        Ok(Alignment {
            zone: zone.to_string(),
            matter: matter_row,
            members,
            values: guides
                .iter()
                .map(values)
                .collect::<Result<_, _>>()
                .or_api()?,
            guides,
            collaborative,
        })
    }

    /// A zone's whole alignment matrix: every matter by every member, with
    /// each matter's score. Runs a fixed number of statements.
    pub(crate) async fn zone_alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
    ) -> async_graphql::Result<Direct<ZoneAlignment>> {
        let zone: ZoneCode = parse_arg("zone", &zone).or_api()?;
        let kept = ctx.data_opt::<Arc<ZoneMatrices>>();
        if let Some(matrix) = kept.and_then(|kept| kept.get(zone.as_str())) {
            let members: Vec<String> = matrix.members.iter().map(|m| m.code.clone()).collect();
            reading(
                ctx,
                &guides_of(&[Topic::Reference, Topic::Catalogue], &members),
            )
            .or_api()?;
            return Ok(Direct(ZoneAlignment(matrix)));
        }
        let members = zone_members(ctx, &zone).await.or_api()?;
        let db = reading(
            ctx,
            &guides_of(&[Topic::Reference, Topic::Catalogue], &members),
        )
        .or_api()?;
        let (epoch, mut values) = match kept.map(|kept| kept.start(zone.as_str(), &members)) {
            Some(Start::Kept(matrix)) => return Ok(Direct(ZoneAlignment(matrix))),
            Some(Start::Build { epoch, values }) => (Some(epoch), values),
            None => (None, HashMap::new()),
        };
        let zone_row = queries::zones_by_codes(db, &[zone.to_string()])
            .await
            .or_api()?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::NotFound(format!("zone {zone}")))
            .or_api()?;
        let mut regions = queries::regions_by_codes(db, &members).await.or_api()?;
        regions.sort_by(|a, b| a.code.cmp(&b.code));
        let matters = queries::all_matters(db).await.or_api()?;
        let missing: Vec<String> = members
            .iter()
            .filter(|member| !values.contains_key(*member))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let mut loaded: HashMap<String, HashMap<String, GuideValues>> = missing
                .iter()
                .map(|member| (member.clone(), HashMap::new()))
                .collect();
            for guide in queries::published_guides(db, &missing, None)
                .await
                .or_api()?
            {
                if let Some(member) = loaded.get_mut(&guide.region_code) {
                    member.insert(guide.matter_code.clone(), self::values(&guide).or_api()?);
                }
            }
            values.extend(
                loaded
                    .into_iter()
                    .map(|(member, guides)| (member, Arc::new(guides))),
            );
        }
        let rows: Vec<MatterAlignment> = matters
            .into_iter()
            .map(|matter| matter_row(matter, &members, &values))
            .collect();
        let scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
        let matrix = Arc::new(Matrix {
            zone: zone_row,
            members: regions,
            rows,
            average_score: mean(&scores).unwrap_or(0.0),
        });
        if let (Some(kept), Some(epoch)) = (kept, epoch) {
            kept.store(zone.as_str(), epoch, values, Arc::clone(&matrix));
        }
        Ok(Direct(ZoneAlignment(matrix)))
    }

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
    ) -> async_graphql::Result<Vec<BaselineViolation>> {
        let db = reading(ctx, &Footprint::of(&[Topic::Reference, Topic::Catalogue])).or_api()?;
        let mut regions: Vec<String> = match zone.as_deref() {
            Some(zone) => zone_members(ctx, &parse_arg("zone", zone).or_api()?)
                .await
                .or_api()?,
            None => queries::regions(db)
                .await
                .or_api()?
                .into_iter()
                .map(|r| r.code)
                .collect(),
        };
        if let Some(region) = region.as_deref() {
            let region: RegionCode = parse_arg("region", region).or_api()?;
            regions.retain(|r| r == region.as_str());
        }
        let db = reading(ctx, &guides_of(&[], &regions)).or_api()?;
        let guides = queries::published_guides(db, &regions, None)
            .await
            .or_api()?;
        let matters = queries::all_matters(db).await.or_api()?;
        let keys: Vec<(i32, i32)> = matters
            .iter()
            .filter_map(|m| m.national_edition.zip(m.national_number))
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
                .filter(|row| baselines::in_force(row, today))
                .map(|row| {
                    (
                        (row.region_code.clone(), row.matter_code.clone()),
                        BaselineExemption::from(row),
                    )
                })
                .collect();
        let mut out = Vec::new();
        for guide in &guides {
            let Some(matter) = matters.iter().find(|m| m.code == guide.matter_code) else {
                continue;
            };
            let Some(item) = items.iter().find(|i| {
                Some(i.edition) == matter.national_edition
                    && Some(i.number) == matter.national_number
            }) else {
                continue;
            };
            let baseline = baseline(item).or_api()?;
            for violation in baseline_violations(&baseline, &values(guide).or_api()?) {
                out.push(BaselineViolation {
                    region: guide.region_code.clone(),
                    matter: guide.matter_code.clone(),
                    national_item: NationalItem(item.clone()),
                    rule: violation.rule().to_owned(),
                    baseline: violation.baseline(),
                    message: violation.describe(),
                    exemption: exemptions
                        .get(&(guide.region_code.clone(), guide.matter_code.clone()))
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
        let matter = matter
            .as_deref()
            .map(|m| parse_arg::<MatterCode, _>("matter", m))
            .transpose()
            .or_api()?;
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

    /// The collaborative standards of a zone (or of every zone), optionally
    /// in one status.
    async fn collaborative_standards(
        &self,
        ctx: &Context<'_>,
        zone: Option<String>,
        status: Option<ProposalStatus>,
    ) -> async_graphql::Result<Vec<CollaborativeStandard>> {
        let zone = zone
            .as_deref()
            .map(|z| parse_arg::<ZoneCode, _>("zone", z))
            .transpose()
            .or_api()?;
        let status = status.map(|s| concord_domain::ProposalStatus::from(s).as_str());
        let rows = queries::collaborative_targets(
            reading(
                ctx,
                &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
            )
            .or_api()?,
            zone.as_ref().map(|z| z.as_str()),
            status,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().map(CollaborativeStandard).collect())
    }

    /// One collaborative standard by its code.
    async fn collaborative_standard(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<CollaborativeStandard>> {
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let rows = queries::collaborative_targets_by_codes(
            reading(
                ctx,
                &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
            )
            .or_api()?,
            &[code.to_string()],
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().next().map(CollaborativeStandard))
    }

    /// Per member and matter, whether its published guide meets each target
    /// of a collaborative standard.
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        proposal: String,
    ) -> async_graphql::Result<Vec<MemberCompliance>> {
        let code: StandardCode = parse_arg("proposal", &proposal).or_api()?;
        let target = queries::collaborative_targets_by_codes(
            reading(
                ctx,
                &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
            )
            .or_api()?,
            &[code.to_string()],
        )
        .await
        .or_api()?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("collaborative standard {code}")))
        .or_api()?;
        compliance(ctx, &target).await.or_api()
    }

    /// Elevation proposals, newest first, optionally of one standard or in one status.
    async fn elevations(
        &self,
        ctx: &Context<'_>,
        standard: Option<String>,
        status: Option<ElevationStatus>,
    ) -> async_graphql::Result<Vec<ElevationProposal>> {
        let standard = standard
            .as_deref()
            .map(|s| parse_arg::<StandardCode, _>("standard", s))
            .transpose()
            .or_api()?;
        let status = status.map(|s| concord_domain::ElevationStatus::from(s).as_str());
        let rows = queries::elevations(
            reading(ctx, &Footprint::of(&[Topic::Collaboration])).or_api()?,
            standard.as_ref().map(|s| s.as_str()),
            status,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().map(ElevationProposal).collect())
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
                    .map(|g| (g.region_code, g.matter_code))
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
                let regions: Vec<String> = queries::regions(db)
                    .await
                    .or_api()?
                    .into_iter()
                    .map(|r| r.code)
                    .collect();
                let guides = queries::published_guides(db, &regions, Some(&[matter.to_string()]))
                    .await
                    .or_api()?;
                let published: HashSet<&str> =
                    guides.iter().map(|g| g.region_code.as_str()).collect();
                let missing: Vec<String> = regions
                    .iter()
                    .filter(|r| {
                        !(published.contains(r.as_str())
                            && covered_keys.contains(&((*r).clone(), matter.to_string())))
                    })
                    .cloned()
                    .collect();
                let total = regions.len() as i32;
                let covered = total - missing.len() as i32;
                Ok(Coverage {
                    region: None,
                    matter: Some(matter.to_string()),
                    served_group: None,
                    total,
                    covered,
                    share: share(covered, total),
                    missing_matters: Vec::new(),
                    covered_matters: Vec::new(),
                    missing_regions: missing,
                    regions: Vec::new(),
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
                let regions: Vec<String> = queries::regions(db)
                    .await
                    .or_api()?
                    .into_iter()
                    .map(|r| r.code)
                    .collect();
                let matters = queries::matters_serving(db, group).await.or_api()?;
                let codes: Vec<String> = matters.iter().map(|m| m.code.clone()).collect();
                let published = if codes.is_empty() {
                    HashSet::new()
                } else {
                    queries::published_guides(db, &regions, Some(&codes))
                        .await
                        .or_api()?
                        .into_iter()
                        .map(|g| (g.region_code, g.matter_code))
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
                let total = regions.len() as i32;
                let covered = total - missing.len() as i32;
                Ok(Coverage {
                    region: None,
                    matter: None,
                    served_group: Some(group.as_str().to_owned()),
                    total,
                    covered,
                    share: share(covered, total),
                    missing_matters: Vec::new(),
                    covered_matters: Vec::new(),
                    missing_regions: missing,
                    regions: per_region,
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
        let zone = zone
            .as_deref()
            .map(|z| parse_arg::<ZoneCode, _>("zone", z))
            .transpose()
            .or_api()?;
        let matter = matter
            .as_deref()
            .map(|m| parse_arg::<MatterCode, _>("matter", m))
            .transpose()
            .or_api()?;
        let regions: Vec<String> = match &zone {
            Some(zone) => zone_members(ctx, zone).await.or_api()?,
            None => queries::regions(db)
                .await
                .or_api()?
                .into_iter()
                .map(|r| r.code)
                .collect(),
        };
        let read = match metric {
            EqualizationMetric::TimeLimit | EqualizationMetric::Fee => Topic::Guide,
            EqualizationMetric::Satisfaction | EqualizationMetric::AverageDays => Topic::Evaluation,
        };
        reading(
            ctx,
            &Footprint::default().in_regions(read, regions.iter().map(String::as_str)),
        )
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
                        .filter(|code| matter.as_ref().is_none_or(|m| m.as_str() == code))
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
                        EqualizationMetric::TimeLimit => f64::from(guide.time_limit_days),
                        // The index works on means, which a fee's exact
                        // `Decimal` cannot hold (a third of 0.10 yuan); like
                        // every metric's, they are statistics, so Floats.
                        _ => guide.fee_fen as f64 / 100.0,
                    };
                    per_region.entry(guide.region_code).or_default().push(value);
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
