//! Cross-regional comparison. The maths is `concord_domain::alignment`;
//! these modules gather the rows in a fixed number of statements and map
//! the answers. Here: a zone's alignment on a matter, its whole matrix and
//! compliance with collaborative standards, and the reads they share;
//! `answers` holds what those reads return. `policy` reads the policy's
//! measures (baselines, coverage, equalization) into the types of
//! `measures`; `collaboration` reads collaborative standards and elevation
//! proposals.

mod answers;
mod collaboration;
mod measures;
mod policy;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{Context, Object};
use concord_domain::alignment::{self as maths, GuideValues};
use concord_domain::catalogue;
use concord_domain::guide::ServiceGuide;
use concord_domain::{MatterCode, ServedGroup, StandardCode, ZoneCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::Collaborative;
use concord_persistence::queries::guide_key;
use concord_persistence::{DatabaseConnection, queries};

use crate::context::{loader, reading};
use crate::direct::Direct;
use crate::error::{ApiError, OrApiError, parse_arg};
use crate::matrix::{Matrix, MemberGuides, Start, ZoneMatrices};
use crate::types::{Channel, ServiceMatter, count};
use crate::zone_parts::{MemberPart, ZoneSource, ask, gather, local_parts, source_of};
use concord_federation::Source;

use answers::compliance_of;
pub use answers::{Alignment, AlignmentCell, MatterAlignment, MemberCompliance, ZoneAlignment};
pub use collaboration::{CollaborationQuery, CollaborativeStandard, ElevationProposal};
pub use measures::{
    BaselineExemption, BaselineViolation, Coverage, Equalization, EqualizationMetric,
};
pub use policy::PolicyQuery;

/// What reading `topics` and the published guides of `regions` records.
fn guides_of(topics: &[Topic], regions: &[String]) -> Footprint {
    Footprint::of(topics).in_regions(Topic::Guide, regions.iter().map(String::as_str))
}

/// One row of a zone's matrix: each member's guide for `matter`, in member
/// order, with the zone's score and best practice on it.
pub(crate) fn matter_row(
    matter: catalogue::ServiceMatter,
    members: &[String],
    values: &HashMap<String, MemberGuides>,
) -> MatterAlignment {
    let guides: Vec<GuideValues> = members
        .iter()
        .filter_map(|member| values.get(member)?.get(matter.code.as_str()).cloned())
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
                material_count: Some(count(g.materials.len())),
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
    // Memberships are reference data, kept in memory between commits.
    reading(ctx, &Footprint::of(&[Topic::Reference]))?;
    let reference = loader(ctx)?.loader().reference().await?;
    let members = reference.members(zone.as_str());
    if members.is_empty() {
        return Err(ApiError::NotFound(format!("zone {zone}")));
    }
    Ok(members.to_vec())
}

/// Every region's code.
async fn region_codes(db: &DatabaseConnection) -> Result<Vec<String>, ApiError> {
    Ok(queries::regions(db)
        .await?
        .into_iter()
        .map(|r| r.code.into())
        .collect())
}

/// The regions an equalization index compares (a zone's members, or every
/// region), with the metric's rows in them recorded as read.
pub(crate) async fn equalized_regions(
    ctx: &Context<'_>,
    db: &DatabaseConnection,
    zone: Option<&ZoneCode>,
    metric: EqualizationMetric,
) -> Result<Vec<String>, ApiError> {
    let regions: Vec<String> = match zone {
        Some(zone) => zone_members(ctx, zone).await?,
        None => region_codes(db).await?,
    };
    let read = match metric {
        EqualizationMetric::TimeLimit | EqualizationMetric::Fee => Topic::Guide,
        EqualizationMetric::Satisfaction | EqualizationMetric::AverageDays => Topic::Evaluation,
    };
    reading(
        ctx,
        &Footprint::default().in_regions(read, regions.iter().map(String::as_str)),
    )?;
    Ok(regions)
}

/// The collaborative standards in force in a zone, by the matters they govern.
async fn in_force_by_matter(
    ctx: &Context<'_>,
    zone: &ZoneCode,
) -> Result<HashMap<String, Collaborative>, ApiError> {
    let db = reading(
        ctx,
        &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
    )?;
    let targets = queries::collaborative_standards(
        db,
        Some(zone.as_str()),
        Some(concord_domain::ProposalStatus::InForce),
    )
    .await?;
    let codes: Vec<String> = targets.iter().map(|t| t.standard.to_string()).collect();
    let links = if codes.is_empty() {
        Vec::new()
    } else {
        queries::standard_links(db, &codes, &[]).await?
    };
    let mut by_matter = HashMap::new();
    for link in links {
        if let Some(target) = targets
            .iter()
            .find(|t| t.standard.as_str() == link.standard_code)
        {
            by_matter.insert(link.matter_code, target.clone());
        }
    }
    Ok(by_matter)
}

/// The compliance of every member with a collaborative standard, on every matter it governs.
async fn compliance(
    ctx: &Context<'_>,
    target: &Collaborative,
) -> Result<Vec<MemberCompliance>, ApiError> {
    let members = zone_members(ctx, &target.zone).await?;
    let db = reading(ctx, &guides_of(&[Topic::Standard], &members))?;
    let matters: Vec<String> = queries::standard_links(db, &[target.standard.to_string()], &[])
        .await?
        .into_iter()
        .map(|l| l.matter_code)
        .collect();
    let guides: HashMap<(String, String), GuideValues> =
        queries::published_guides(db, &members, Some(&matters))
            .await?
            .into_iter()
            .map(|g| (guide_key(&g.region, &g.matter), g.values()))
            .collect();
    let mut out = Vec::new();
    for matter in &matters {
        for region in &members {
            let guide = guides.get(&(region.clone(), matter.clone()));
            out.push(compliance_of(&target.targets, region, matter, guide));
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

/// A zone's matrix over `members` (those present, in order), whose guide
/// values are `values`.
fn build_matrix(
    zone: concord_domain::geo::Zone,
    mut regions: Vec<concord_domain::geo::Region>,
    matters: Vec<catalogue::ServiceMatter>,
    members: &[String],
    values: &HashMap<String, MemberGuides>,
) -> Matrix {
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    let rows: Vec<MatterAlignment> = matters
        .into_iter()
        .map(|matter| matter_row(matter, members, values))
        .collect();
    let scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
    Matrix {
        zone,
        members: regions,
        rows,
        average_score: mean(&scores).unwrap_or(0.0),
    }
}

/// A zone's matrix over the parts `source` gathers: scores and best
/// practices over the members present, and each member's provenance. A
/// matrix built from the same parts at the same local data version is
/// reused, so a read whose peers all answer "unchanged" reads nothing here.
async fn live_matrix(
    ctx: &Context<'_>,
    zone: &ZoneCode,
    source: Source,
) -> Result<Direct<ZoneAlignment>, ApiError> {
    let members = zone_members(ctx, zone).await?;
    let asked = ask(ctx, &members, source).await;
    let kept = ctx.data_opt::<Arc<ZoneMatrices>>();
    let ingredients = asked.ingredients();
    if let (Some(kept), Some(ingredients)) = (kept, &ingredients)
        && let Some((matrix, times)) = kept.live(zone.as_str(), source, ingredients)
    {
        let parts = asked.parts(ctx, &times).await?;
        return Ok(Direct(ZoneAlignment {
            matrix,
            source,
            parts: Some(Arc::new(parts)),
        }));
    }
    let gathered = asked.gather(ctx).await?;
    let db = reading(ctx, &Footprint::of(&[Topic::Reference, Topic::Catalogue]))?;
    let zone_row = zone_by_code(db, zone).await?;
    let regions = queries::regions_by_codes(db, &gathered.present).await?;
    let matters = queries::all_matters(db).await?;
    let matrix = Arc::new(build_matrix(
        zone_row,
        regions,
        matters,
        &gathered.present,
        &gathered.values,
    ));
    if let (Some(kept), Some(ingredients)) = (kept, ingredients) {
        kept.keep_live(
            zone.as_str(),
            source,
            ingredients,
            Arc::clone(&matrix),
            Arc::new(gathered.times),
        );
    }
    Ok(Direct(ZoneAlignment {
        matrix,
        source,
        parts: Some(Arc::new(gathered.parts)),
    }))
}

/// The zone `zone`; not found when there is none.
async fn zone_by_code(
    db: &DatabaseConnection,
    zone: &ZoneCode,
) -> Result<concord_domain::geo::Zone, ApiError> {
    queries::zones_by_codes(db, &[zone.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("zone {zone}")))
}

/// The matter `matter`'s row; not found when there is none.
async fn matter_by_code(
    db: &DatabaseConnection,
    matter: &MatterCode,
) -> Result<catalogue::ServiceMatter, ApiError> {
    queries::matters_by_codes(db, &[matter.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("matter {matter}")))
}

/// A zone's alignment on one matter over the parts `source` gathers.
async fn live_alignment(
    ctx: &Context<'_>,
    zone: &ZoneCode,
    matter: &MatterCode,
    source: Source,
) -> Result<Alignment, ApiError> {
    let members = zone_members(ctx, zone).await?;
    let gathered = gather(ctx, &members, source).await?;
    let db = reading(ctx, &Footprint::of(&[Topic::Catalogue]))?;
    let matter_row = matter_by_code(db, matter).await?;
    let guides: Vec<ServiceGuide> = gathered
        .present
        .iter()
        .filter_map(|member| {
            gathered
                .guides
                .get(member)?
                .iter()
                .find(|g| g.matter == *matter)
                .cloned()
        })
        .collect();
    let collaborative = in_force_by_matter(ctx, zone).await?.remove(matter.as_str());
    Ok(Alignment {
        zone: zone.to_string(),
        matter: matter_row,
        members: gathered.present,
        values: guides.iter().map(ServiceGuide::values).collect(),
        guides,
        collaborative,
        source,
        parts: Some(Arc::new(gathered.parts)),
    })
}

/// The root of every alignment read.
#[derive(Default)]
pub struct AlignmentQuery;

/// Reads that compare a zone's members: alignment on a matter, the zone's
/// matrix, and compliance with collaborative standards.
#[Object]
impl AlignmentQuery {
    /// A zone's members side by side on one matter.
    pub(crate) async fn alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
        matter: String,
        #[graphql(
            desc = "Where the other members' parts come from; the node's `federation.source` (REPLICA unless configured) when omitted."
        )]
        source: Option<ZoneSource>,
    ) -> async_graphql::Result<Alignment> {
        let zone: ZoneCode = parse_arg("zone", &zone).or_api()?;
        let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
        let source = source_of(ctx, source);
        if source != Source::Replica {
            return live_alignment(ctx, &zone, &matter, source).await.or_api();
        }
        let members = zone_members(ctx, &zone).await.or_api()?;
        let db = reading(ctx, &guides_of(&[Topic::Catalogue], &members)).or_api()?;
        let matter_row = matter_by_code(db, &matter).await.or_api()?;
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
            values: guides.iter().map(ServiceGuide::values).collect(),
            guides,
            collaborative,
            source,
            parts: None,
        })
    }

    /// A zone's whole alignment matrix: every matter by every member, with
    /// each matter's score. Runs a fixed number of statements, and with
    /// `LIVE` or `FRESHEST` one conditional call to each member's node, all
    /// at once.
    pub(crate) async fn zone_alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
        #[graphql(
            desc = "Where the other members' parts come from; the node's `federation.source` (REPLICA unless configured) when omitted."
        )]
        source: Option<ZoneSource>,
    ) -> async_graphql::Result<Direct<ZoneAlignment>> {
        let zone: ZoneCode = parse_arg("zone", &zone).or_api()?;
        let source = source_of(ctx, source);
        if source != Source::Replica {
            return live_matrix(ctx, &zone, source).await.or_api();
        }
        let replica = |matrix| {
            Direct(ZoneAlignment {
                matrix,
                source,
                parts: None,
            })
        };
        let kept = ctx.data_opt::<Arc<ZoneMatrices>>();
        if let Some(matrix) = kept.and_then(|kept| kept.get(zone.as_str())) {
            let members: Vec<String> = matrix.members.iter().map(|m| m.code.to_string()).collect();
            reading(
                ctx,
                &guides_of(&[Topic::Reference, Topic::Catalogue], &members),
            )
            .or_api()?;
            return Ok(replica(matrix));
        }
        let members = zone_members(ctx, &zone).await.or_api()?;
        let db = reading(
            ctx,
            &guides_of(&[Topic::Reference, Topic::Catalogue], &members),
        )
        .or_api()?;
        let (epoch, mut values) = match kept.map(|kept| kept.start(zone.as_str(), &members)) {
            Some(Start::Kept(matrix)) => return Ok(replica(matrix)),
            Some(Start::Build { epoch, values }) => (Some(epoch), values),
            None => (None, HashMap::new()),
        };
        let zone_row = zone_by_code(db, &zone).await.or_api()?;
        let regions = queries::regions_by_codes(db, &members).await.or_api()?;
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
                if let Some(member) = loaded.get_mut(guide.region.as_str()) {
                    member.insert(guide.matter.to_string(), guide.values());
                }
            }
            values.extend(
                loaded
                    .into_iter()
                    .map(|(member, guides)| (member, Arc::new(guides))),
            );
        }
        let matrix = Arc::new(build_matrix(zone_row, regions, matters, &members, &values));
        if let (Some(kept), Some(epoch)) = (kept, epoch) {
            kept.store(zone.as_str(), epoch, values, Arc::clone(&matrix));
        }
        Ok(replica(matrix))
    }

    /// Each member's part of a zone as this request reads it: where it came
    /// from, the data version and time it reflects, the latency of the live
    /// call and any error. A request asks each peer once, so asked beside
    /// `guides(filter: { zone })` or `baselineViolations(zone)` with the
    /// same source, it describes the very parts those read.
    async fn zone_parts(
        &self,
        ctx: &Context<'_>,
        zone: String,
        #[graphql(
            desc = "Where the other members' parts come from; the node's `federation.source` (REPLICA unless configured) when omitted."
        )]
        source: Option<ZoneSource>,
    ) -> async_graphql::Result<Vec<MemberPart>> {
        let zone: ZoneCode = parse_arg("zone", &zone).or_api()?;
        let source = source_of(ctx, source);
        let members = zone_members(ctx, &zone).await.or_api()?;
        if source == Source::Replica {
            return local_parts(ctx, &members).await.or_api();
        }
        Ok(gather(ctx, &members, source).await.or_api()?.parts)
    }

    /// Per member and matter, whether its published guide meets each target
    /// of a collaborative standard.
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        proposal: String,
    ) -> async_graphql::Result<Vec<MemberCompliance>> {
        let code: StandardCode = parse_arg("proposal", &proposal).or_api()?;
        let target = collaboration::collaborative(ctx, &code)
            .await
            .or_api()?
            .ok_or_else(|| ApiError::NotFound(format!("collaborative standard {code}")))
            .or_api()?;
        compliance(ctx, &target).await.or_api()
    }
}
