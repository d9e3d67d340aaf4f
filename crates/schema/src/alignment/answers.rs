//! What an alignment read answers: a zone's members side by side on one
//! matter, their spreads and score, and the whole matrix of a zone.

use std::sync::Arc;

use async_graphql::{Context, InputType, Object, SimpleObject, Value};
use concord_domain::Fee;
use concord_domain::alignment::{
    self as maths, AlignmentScore, GuideValues, Targets, check_targets,
};
use concord_domain::catalogue;
use concord_domain::guide;
use concord_persistence::queries::Collaborative;

use crate::direct::{Direct, Plain, optional_text, plain_list, plain_one, scalar, text};
use crate::error::OrApiError;
use crate::loader::{RegionKey, ZoneKey};
use crate::matrix::Matrix;
use crate::types::{Channel, Decimal, Region, ServiceGuide, ServiceMatter, Zone, count};
use crate::zone_parts::{MemberPart, ZoneSource, local_parts};
use concord_federation::Source;

use super::CollaborativeStandard;

/// Lowest, highest and median of a set of values.
#[derive(SimpleObject, Clone, Copy)]
pub struct Spread {
    /// The lowest value.
    pub(super) min: f64,
    /// The highest value.
    pub(super) max: f64,
    /// The median (the mean of the two middle values for an even count).
    pub(super) median: f64,
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
    pub(super) min: Decimal,
    /// The highest fee.
    pub(super) max: Decimal,
    /// The median fee; for an even count, halfway between the two middle
    /// fees, which may take a third decimal (`"12.505"`).
    pub(super) median: Decimal,
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
    pub(super) material: String,
    /// The members that ask for it.
    pub(super) regions: Vec<String>,
}

/// The parts the alignment score is made of, each in [0, 1].
#[derive(SimpleObject, Clone, Copy)]
pub struct ScoreParts {
    /// Members with a published guide, as a share of all members.
    pub(super) coverage: f64,
    /// 1 − (max − min) / max of the time limits.
    pub(super) time_limit: f64,
    /// 1 − (max − min) / max of the fees.
    pub(super) fee: f64,
    /// Materials every guide asks for, as a share of those any guide asks for.
    pub(super) materials: f64,
    /// Channels every guide offers, as a share of those any guide offers.
    pub(super) channels: f64,
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
    pub(super) target: String,
    /// True when the guide meets it.
    pub(super) met: bool,
    /// What was compared.
    pub(super) detail: String,
}

/// A member's compliance with a collaborative standard on one matter.
#[derive(SimpleObject, Clone)]
pub struct MemberCompliance {
    /// The member region.
    pub(super) region: String,
    /// The matter.
    pub(super) matter: String,
    /// False when the member has no published guide for the matter.
    pub(super) has_guide: bool,
    /// True when the guide meets every target.
    pub(super) compliant: bool,
    /// Each target, met or not.
    pub(super) checks: Vec<TargetCheck>,
}

pub(super) fn compliance_of(
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
    pub(super) region: String,
    pub(super) guide: Option<guide::ServiceGuide>,
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
    pub(super) zone: String,
    pub(super) matter: catalogue::ServiceMatter,
    pub(super) members: Vec<String>,
    pub(super) guides: Vec<guide::ServiceGuide>,
    /// The guides as the alignment maths reads them, converted once.
    pub(super) values: Vec<GuideValues>,
    pub(super) collaborative: Option<Collaborative>,
    pub(super) source: Source,
    /// Each member's provenance when the parts were gathered for this
    /// answer; a `REPLICA` answer reads it only when asked.
    pub(super) parts: Option<Arc<Vec<MemberPart>>>,
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

    /// Every member present, with its published guide or null.
    async fn members(&self) -> Vec<AlignmentMember> {
        self.members
            .iter()
            .map(|region| AlignmentMember {
                region: region.clone(),
                guide: self.guides.iter().find(|g| g.region == *region).cloned(),
            })
            .collect()
    }

    /// Members without a published guide for the matter.
    async fn missing(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Region>> {
        let missing: Vec<RegionKey> = self
            .members
            .iter()
            .filter(|m| !self.guides.iter().any(|g| g.region == **m))
            .map(|m| RegionKey(m.clone()))
            .collect();
        crate::types::load_many(ctx, missing).await
    }

    /// The spread of the guides' time limits, in working days.
    async fn time_limit(&self) -> Option<Spread> {
        let values: Vec<f64> = self
            .guides
            .iter()
            .map(|g| f64::from(g.content.time_limit_days))
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
                .find(|g| g.region == best.region)
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

    /// Where the members' parts were read from, as asked (or the node's default).
    async fn source(&self) -> ZoneSource {
        self.source.into()
    }

    /// How many members' parts the answer holds; `members`, the spreads,
    /// the score and the best practice are over these only.
    async fn members_present(&self) -> i32 {
        count(self.members.len())
    }

    /// Every member of the zone, present or not, with where its part came
    /// from, the data version and time it reflects, and any error.
    async fn parts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MemberPart>> {
        if let Some(parts) = &self.parts {
            return Ok(parts.as_ref().clone());
        }
        local_parts(ctx, &self.members).await.or_api()
    }

    /// The zone's collaborative standard in force for this matter, if any.
    async fn collaborative_standard(&self) -> Option<CollaborativeStandard> {
        self.collaborative.clone().map(CollaborativeStandard)
    }

    /// Each member's compliance with that collaborative standard.
    async fn compliance(&self) -> Vec<MemberCompliance> {
        let Some(collaborative) = &self.collaborative else {
            return Vec::new();
        };
        let values = &self.values;
        self.members
            .iter()
            .map(|region| {
                compliance_of(
                    &collaborative.targets,
                    region,
                    self.matter.code.as_str(),
                    values.iter().find(|v| &v.region == region),
                )
            })
            .collect()
    }
}

/// One cell of a zone's alignment matrix: a member's guide for a matter.
#[derive(SimpleObject)]
pub struct AlignmentCell {
    /// The member region.
    pub(super) region: String,
    /// False when the member has no published guide for the matter.
    pub(super) has_guide: bool,
    /// The guide's time limit in working days.
    pub(super) time_limit_days: Option<i32>,
    /// The guide's fee in yuan.
    pub(super) fee: Option<Decimal>,
    /// How many materials the guide asks for.
    pub(super) material_count: Option<i32>,
    /// The guide's channels.
    pub(super) channels: Option<Vec<Channel>>,
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
    pub(super) matter: Direct<ServiceMatter>,
    /// The alignment score of the zone on this matter.
    pub(super) score: f64,
    /// The best-practice member, if any member has a guide.
    pub(super) best_practice: Option<String>,
    /// Every member's cell, in member order.
    pub(super) cells: Vec<AlignmentCell>,
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
pub struct ZoneAlignment {
    pub(super) matrix: Arc<Matrix>,
    pub(super) source: Source,
    /// Each member's provenance, when the parts were gathered for this
    /// answer; a `REPLICA` answer (perhaps a kept matrix) reads it only when asked.
    pub(super) parts: Option<Arc<Vec<MemberPart>>>,
}

impl Plain for ZoneAlignment {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "matters" => plain_list(&self.matrix.rows, ctx),
            "averageScore" => Some(scalar(&self.matrix.average_score)),
            "membersPresent" => Some(scalar(&count(self.matrix.members.len()))),
            _ => None,
        }
    }
}

/// A zone's whole alignment matrix: every matter by every member.
#[Object]
impl ZoneAlignment {
    /// The zone.
    async fn zone(&self) -> Zone {
        Zone(self.matrix.zone.clone())
    }

    /// The members whose part is in the answer, in column order.
    async fn members(&self) -> Vec<Region> {
        self.matrix.members.iter().cloned().map(Region).collect()
    }

    /// One row per matter of the catalogue, over the members present.
    async fn matters(&self) -> &[MatterAlignment] {
        &self.matrix.rows
    }

    /// The mean of the matters' scores.
    async fn average_score(&self) -> f64 {
        self.matrix.average_score
    }

    /// Where the members' parts were read from, as asked (or the node's default).
    async fn source(&self) -> ZoneSource {
        self.source.into()
    }

    /// How many members' parts the answer holds; scores and best practices
    /// are computed over these only.
    async fn members_present(&self) -> i32 {
        count(self.matrix.members.len())
    }

    /// Every member of the zone, present or not, with where its part came
    /// from, the data version and time it reflects, and any error.
    async fn parts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MemberPart>> {
        if let Some(parts) = &self.parts {
            return Ok(parts.as_ref().clone());
        }
        let members: Vec<String> = self
            .matrix
            .members
            .iter()
            .map(|m| m.code.to_string())
            .collect();
        local_parts(ctx, &members).await.or_api()
    }
}
