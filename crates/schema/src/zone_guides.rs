//! Guide reads of a zone over its members' parts (`source: LIVE` or
//! `FRESHEST`): the page of `guides(filter: { zone })` and the guides that
//! `baselineViolations(zone)` checks.
//!
//! A member's part is what it publishes, so these reads hold published
//! guides only, and a live member's procedures are the ones its node sent
//! with its part. The page is filtered, ordered and cut as the database
//! does it for a `REPLICA` read: by region, then matter, after the cursor.

use async_graphql::Context;
use concord_domain::{GuideStatus, MatterCode, guide};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{self, GuideFilter, GuideKey, JoinedGuide, Page, PageRequest};

use crate::context::{loader, reading};
use crate::error::ApiError;
use crate::loader::GuideAhead;
use crate::types::{OperatingProcedure, ServiceGuide};
use crate::zone_parts::Gathered;

/// The present members' published guides that pass `filter`, ordered by
/// region, then matter.
async fn matching(
    ctx: &Context<'_>,
    gathered: &Gathered,
    filter: &GuideFilter,
) -> Result<Vec<guide::ServiceGuide>, ApiError> {
    if filter
        .status
        .as_deref()
        .is_some_and(|status| status != GuideStatus::Published.as_str())
    {
        return Ok(Vec::new());
    }
    let mut rows: Vec<guide::ServiceGuide> = gathered
        .present
        .iter()
        .filter(|member| filter.region.as_ref().is_none_or(|r| r == *member))
        .filter_map(|member| gathered.guides.get(member))
        .flat_map(|guides| guides.iter())
        .filter(|g| filter.matter.as_ref().is_none_or(|m| *m == g.matter))
        .cloned()
        .collect();
    if let Some(category) = &filter.category {
        let mut codes: Vec<String> = rows.iter().map(|g| g.matter.to_string()).collect();
        codes.sort_unstable();
        codes.dedup();
        let db = reading(ctx, &Footprint::of(&[Topic::Catalogue]))?;
        let in_category: Vec<MatterCode> = queries::matters_by_codes(db, &codes)
            .await?
            .into_iter()
            .filter(|m| m.category == *category)
            .map(|m| m.code)
            .collect();
        rows.retain(|g| in_category.contains(&g.matter));
    }
    rows.sort_by(|a, b| (&a.region, &a.matter).cmp(&(&b.region, &b.matter)));
    Ok(rows)
}

/// The page of the zone's guides over `gathered` that `request` asks for,
/// each with the relations its selection reads ahead.
pub async fn page(
    ctx: &Context<'_>,
    gathered: &Gathered,
    filter: &GuideFilter,
    request: PageRequest<GuideKey>,
) -> Result<Page<ServiceGuide>, ApiError> {
    let rows = matching(ctx, gathered, filter).await?;
    let total = if request.count { rows.len() as u64 } else { 0 };
    let start = request.after.as_ref().map_or(0, |(region, matter)| {
        rows.partition_point(|g| (g.region.as_str(), g.matter.as_str()) <= (region, matter))
    });
    let first = usize::try_from(request.first).unwrap_or(usize::MAX);
    let mut items: Vec<guide::ServiceGuide> =
        rows.into_iter().skip(start).take(first + 1).collect();
    let has_next = items.len() > first;
    items.truncate(first);
    Ok(Page {
        items: with_relations(ctx, gathered, items).await?,
        has_next,
        total,
    })
}

/// `rows` as guides with what their selection reads ahead: a live member's
/// procedure from its part, everything else as a local page reads it.
async fn with_relations(
    ctx: &Context<'_>,
    gathered: &Gathered,
    rows: Vec<guide::ServiceGuide>,
) -> Result<Vec<ServiceGuide>, ApiError> {
    let ahead = GuideAhead::of(ctx);
    let loader = loader(ctx)?.loader();
    let is_live = |g: &guide::ServiceGuide| gathered.procedures.contains_key(g.region.as_str());
    let order: Vec<bool> = rows.iter().map(is_live).collect();
    let (live, local): (Vec<_>, Vec<_>) = rows.into_iter().partition(is_live);
    let joined = |rows: Vec<guide::ServiceGuide>| rows.into_iter().map(JoinedGuide::from).collect();
    let mut local = loader.guides_with(joined(local), ahead).await?.into_iter();
    let live_ahead = GuideAhead {
        procedure: false,
        ..ahead
    };
    let mut live = loader
        .guides_with(joined(live), live_ahead)
        .await?
        .into_iter();
    let procedure_of = |guide: &ServiceGuide| {
        gathered
            .procedures
            .get(guide.0.region.as_str())
            .and_then(|procedures| procedures.get(guide.0.matter.as_str()))
            .cloned()
            .map(OperatingProcedure::from)
    };
    Ok(order
        .into_iter()
        .filter_map(|is_live| {
            if !is_live {
                return local.next();
            }
            let mut guide = live.next()?;
            if ahead.procedure {
                guide.1.procedure = Some(procedure_of(&guide));
            }
            Some(guide)
        })
        .collect())
}

/// The published guides of the present members, by matter, then region,
/// as the database lists them for checks that read them all.
pub fn all(gathered: &Gathered) -> Vec<guide::ServiceGuide> {
    let mut guides: Vec<guide::ServiceGuide> = gathered
        .present
        .iter()
        .filter_map(|member| gathered.guides.get(member))
        .flat_map(|guides| guides.iter().cloned())
        .collect();
    guides.sort_by(|a, b| (&a.matter, &a.region).cmp(&(&b.matter, &b.region)));
    guides
}
