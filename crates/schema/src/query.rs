//! The read API. Resolvers check their arguments, ask `persistence`, and map
//! the rows to API types.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object};
use concord_domain::{CategoryCode, MatterCode, RegionCode, StandardCode, ZoneCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{self, GuideFilter, MatterFilter, Page, StandardFilter};

use crate::alignment::{AlignmentQuery, CollaborationQuery, PolicyQuery};

use crate::context::{loader, reading, visibility};
use crate::direct::{Direct, DirectPage};
use crate::error::{ApiError, OrApiError, optional, parse_arg};
use crate::guide_pages::{self, guide_cursor_of};
use crate::loader::{
    GuideAhead, GuideLoadKey, ItemKey, MatterKey, RegionKey, StandardAhead, StandardKey, ZoneKey,
    visible_standard,
};
use crate::pagination::{ConnectionArgs, Paged, cost, encode};
use crate::reference::Reference;
use crate::sync::{SyncConflictQuery, SyncQuery};
use crate::types::load_one;
use crate::types::{
    Category, GuideStatus, NationalEdition, NationalItem, Region, ServedGroup, ServiceGuide,
    ServiceMatter, Standard, StandardLevel, StandardStatus, Zone,
};
use crate::zone_guides;
use crate::zone_parts::{ZoneSource, gather, source_of};
use concord_federation::Source;

mod records;

use records::RecordsQuery;

/// The root of every read.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    CatalogueQuery,
    EntityQuery,
    RecordsQuery,
    AlignmentQuery,
    PolicyQuery,
    CollaborationQuery,
    SyncQuery,
    SyncConflictQuery,
);

/// Narrows a list of service matters. Every given field must match.
#[derive(InputObject, Default)]
pub struct MatterFilterInput {
    /// Only matters of this category, e.g. `SOCIAL_INSURANCE`.
    category: Option<String>,
    /// Only matters that follow this standard, e.g. `GB/T 33531-2017`.
    standard: Option<String>,
    /// Only matters linked to an item of this edition of the national standard.
    national_edition: Option<i32>,
    /// Only matters linked to the national item with this number.
    national_number: Option<i32>,
    /// Text found in the Chinese or English name or the code, ignoring case.
    text: Option<String>,
}

/// Narrows a list of standards. Every given field must match.
#[derive(InputObject, Default)]
pub struct StandardFilterInput {
    /// Only standards of this level.
    level: Option<StandardLevel>,
    /// Only standards in this status.
    pub(crate) status: Option<StandardStatus>,
    /// Only standards issued by this region, e.g. `330000`.
    region: Option<String>,
    /// Only collaborative standards of this zone, e.g. `YRD`.
    zone: Option<String>,
    /// Only standards that govern a matter of this category.
    category: Option<String>,
    /// Only standards that govern this matter.
    matter: Option<String>,
    /// Text found in the Chinese or English title or the code, ignoring case.
    text: Option<String>,
    /// `true`: only standards whose review date has passed (as of today,
    /// UTC); `false`: only those not yet due or without a review date.
    due_for_review: Option<bool>,
}

/// Narrows a list of service guides. Every given field must match.
#[derive(InputObject, Default)]
pub struct GuideFilterInput {
    /// Only this region's guides, e.g. `330000`.
    region: Option<String>,
    /// Only the guides of this zone's members, e.g. `YRD`.
    zone: Option<String>,
    /// Only guides for this matter.
    matter: Option<String>,
    /// Only guides for matters of this category.
    category: Option<String>,
    /// Only guides in this status.
    pub(crate) status: Option<GuideStatus>,
}

impl GuideFilterInput {
    /// Whether the filter reads a zone's members.
    pub(crate) fn names_zone(&self) -> bool {
        self.zone.is_some()
    }
}

/// The reference tables, from the request's loader.
async fn reference(ctx: &Context<'_>) -> async_graphql::Result<Arc<Reference>> {
    loader(ctx)
        .or_api()?
        .loader()
        .reference()
        .await
        .map_err(ApiError::from)
        .or_api()
}

/// Reads of regions and zones, the catalogue, standards, guides,
/// evaluations and the audit log.
#[derive(Default)]
pub struct CatalogueQuery;

/// Reads of regions and zones, the catalogue, standards, guides,
/// evaluations and the audit log.
#[Object]
impl CatalogueQuery {
    /// Every provincial-level division, by code.
    async fn regions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Direct<Region>>> {
        let reference = reference(ctx).await?;
        Ok(reference
            .regions()
            .map(|row| Direct(Region(row.clone())))
            .collect())
    }

    /// One region by its GB/T 2260 code, e.g. `330000`.
    pub(crate) async fn region(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Direct<Region>>> {
        let code: RegionCode = parse_arg("code", &code).or_api()?;
        let region: Option<Region> = load_one(ctx, RegionKey(code.into())).await?;
        Ok(region.map(Direct))
    }

    /// Every regional collaboration zone.
    async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Direct<Zone>>> {
        let reference = reference(ctx).await?;
        Ok(reference
            .zones()
            .map(|row| Direct(Zone(row.clone())))
            .collect())
    }

    /// One zone by its code, e.g. `YRD`.
    async fn zone(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Direct<Zone>>> {
        let code: ZoneCode = parse_arg("code", &code).or_api()?;
        let zone: Option<Zone> = load_one(ctx, ZoneKey(code.into())).await?;
        Ok(zone.map(Direct))
    }

    /// Every HR&SS service category.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let reference = reference(ctx).await?;
        Ok(reference
            .categories()
            .map(|row| Category(row.clone()))
            .collect())
    }

    /// The editions of the National Basic Public Service Standards.
    async fn national_editions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NationalEdition>> {
        let rows = queries::editions(reading(ctx, &Footprint::of(&[Topic::Reference])).or_api()?)
            .await
            .or_api()?;
        Ok(rows.into_iter().map(NationalEdition).collect())
    }

    /// The catalogue of served groups (服务对象) that national items and
    /// matters list, in a fixed order.
    async fn served_groups(&self) -> Vec<ServedGroup> {
        concord_domain::ServedGroup::ALL
            .iter()
            .copied()
            .map(ServedGroup)
            .collect()
    }

    /// The HR&SS items of the national standard, of one edition or of all.
    async fn national_items(
        &self,
        ctx: &Context<'_>,
        edition: Option<i32>,
    ) -> async_graphql::Result<Vec<NationalItem>> {
        let rows = queries::national_items(
            reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?,
            edition,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().map(NationalItem).collect())
    }

    /// One national item by edition and number.
    async fn national_item(
        &self,
        ctx: &Context<'_>,
        edition: i32,
        number: i32,
    ) -> async_graphql::Result<Option<NationalItem>> {
        let rows = queries::national_items_by_keys(
            reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?,
            &[(edition, number)],
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().next().map(NationalItem))
    }

    /// Service matters, filtered and paginated by code.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn matters(
        &self,
        ctx: &Context<'_>,
        filter: Option<MatterFilterInput>,
        #[graphql(desc = "How many matters to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<ServiceMatter>> {
        let filter = filter.unwrap_or_default();
        let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
        let filter = MatterFilter {
            category: optional::<CategoryCode, _>("filter.category", filter.category.as_ref())
                .or_api()?,
            standard: optional::<StandardCode, _>("filter.standard", filter.standard.as_ref())
                .or_api()?,
            national_edition: filter.national_edition,
            national_number: filter.national_number,
            text: filter.text,
        };
        let page = queries::matters(
            reading(ctx, &Footprint::of(&[Topic::Catalogue, Topic::Standard])).or_api()?,
            &filter,
            args.request(),
        )
        .await
        .or_api()?;
        Ok(args.connection(page, |matter| encode(&[matter.code.as_str()])))
    }

    /// One service matter by code.
    async fn matter(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<ServiceMatter>> {
        let code: MatterCode = parse_arg("code", &code).or_api()?;
        let rows = queries::matters_by_codes(
            reading(ctx, &Footprint::of(&[Topic::Catalogue])).or_api()?,
            &[code.into()],
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().next().map(ServiceMatter::from))
    }

    /// Standards, filtered and paginated by code. Drafts appear only to those who may edit them.
    #[graphql(complexity = "cost(first, child_complexity)")]
    pub(crate) async fn standards(
        &self,
        ctx: &Context<'_>,
        filter: Option<StandardFilterInput>,
        #[graphql(desc = "How many standards to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<DirectPage<Standard>> {
        let filter = filter.unwrap_or_default();
        let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
        let filter = StandardFilter {
            level: filter
                .level
                .map(|l| concord_domain::StandardLevel::from(l).as_str().to_owned()),
            status: filter
                .status
                .map(|s| concord_domain::StandardStatus::from(s).as_str().to_owned()),
            region: optional::<RegionCode, _>("filter.region", filter.region.as_ref()).or_api()?,
            zone: optional::<ZoneCode, _>("filter.zone", filter.zone.as_ref()).or_api()?,
            category: optional::<CategoryCode, _>("filter.category", filter.category.as_ref())
                .or_api()?,
            matter: optional::<MatterCode, _>("filter.matter", filter.matter.as_ref()).or_api()?,
            text: filter.text,
            due_for_review: filter
                .due_for_review
                .map(|due| (due, chrono::Utc::now().date_naive())),
        };
        let page = queries::standards(
            reading(ctx, &Footprint::of(&[Topic::Standard, Topic::Catalogue])).or_api()?,
            &filter,
            visibility(ctx).or_api()?,
            args.request(),
        )
        .await
        .or_api()?;
        let items = loader(ctx)
            .or_api()?
            .loader()
            .standards_with(page.items, StandardAhead::of(ctx))
            .await
            .map_err(ApiError::from)
            .or_api()?;
        let page = Page {
            items,
            has_next: page.has_next,
            total: page.total,
        };
        Ok(args.direct_page(Arc::new(page), |standard| {
            encode(&[standard.0.code.as_str()])
        }))
    }

    /// One standard by code, e.g. `GB/T 33531-2017`.
    async fn standard(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Standard>> {
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let rows = queries::standards_by_codes(
            reading(ctx, &Footprint::of(&[Topic::Standard])).or_api()?,
            &[code.into()],
        )
        .await
        .or_api()?;
        let visibility = visibility(ctx).or_api()?;
        Ok(rows
            .into_iter()
            .find(|row| visible_standard(visibility, row))
            .map(Standard::from))
    }

    /// A region's guide for a matter. Drafts appear only to those who may edit them.
    pub(crate) async fn guide(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
    ) -> async_graphql::Result<Option<Direct<ServiceGuide>>> {
        let region: RegionCode = parse_arg("region", &region).or_api()?;
        let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
        let read = Footprint::default().in_regions(Topic::Guide, [region.as_str()]);
        let rows = queries::guides_by_keys(
            reading(ctx, &read).or_api()?,
            &[(region.into(), matter.into())],
            visibility(ctx).or_api()?,
        )
        .await
        .or_api()?;
        Ok(rows
            .into_iter()
            .next()
            .map(|row| Direct(ServiceGuide::from(row))))
    }

    /// Service guides, filtered and paginated by region then matter.
    #[graphql(complexity = "cost(first, child_complexity)")]
    pub(crate) async fn guides(
        &self,
        ctx: &Context<'_>,
        filter: Option<GuideFilterInput>,
        #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "With `filter.zone`: where the other members' guides come from; the node's `federation.source` (REPLICA unless configured) when omitted. LIVE and FRESHEST list published guides only, as each member publishes them; `zoneParts` in the same request says where each member's came from."
        )]
        source: Option<ZoneSource>,
    ) -> async_graphql::Result<DirectPage<ServiceGuide>> {
        let filter = filter.unwrap_or_default();
        if source.is_some() && filter.zone.is_none() {
            return Err(ApiError::bad_input(
                "source",
                "a source is for zone reads: give filter.zone too",
            ))
            .or_api();
        }
        let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
        let db = reading(ctx, &Footprint::of(&[Topic::Reference, Topic::Catalogue])).or_api()?;
        let zone = optional::<ZoneCode, _>("filter.zone", filter.zone.as_ref()).or_api()?;
        let regions = match zone {
            Some(zone) => Some(
                queries::members_of_zones(db, &[zone])
                    .await
                    .or_api()?
                    .into_iter()
                    .map(|m| m.region_code)
                    .collect(),
            ),
            None => None,
        };
        let region = optional::<RegionCode, _>("filter.region", filter.region.as_ref()).or_api()?;
        let filter = GuideFilter {
            region,
            regions,
            ..guide_pages::narrowed(
                filter.matter.as_ref(),
                filter.category.as_ref(),
                filter.status,
            )?
        };
        let read = match (&filter.region, &filter.regions) {
            (Some(region), _) => Footprint::default().in_regions(Topic::Guide, [region.as_str()]),
            (None, Some(members)) => {
                Footprint::default().in_regions(Topic::Guide, members.iter().map(String::as_str))
            }
            (None, None) => Footprint::of(&[Topic::Guide]),
        };
        if let Some(members) = &filter.regions {
            let source = source_of(ctx, source);
            if source != Source::Replica {
                let gathered = gather(ctx, members, source).await.or_api()?;
                let page = zone_guides::page(ctx, &gathered, &filter, args.request())
                    .await
                    .or_api()?;
                return Ok(args.direct_page(Arc::new(page), guide_cursor_of));
            }
        }
        let db = reading(ctx, &read).or_api()?;
        let ahead = GuideAhead::of(ctx);
        let page = queries::guides(
            db,
            &filter,
            visibility(ctx).or_api()?,
            args.request(),
            ahead.joins(),
        )
        .await
        .or_api()?;
        let items = loader(ctx)
            .or_api()?
            .loader()
            .guides_with(page.items, ahead)
            .await
            .map_err(ApiError::from)
            .or_api()?;
        let page = Page {
            items,
            has_next: page.has_next,
            total: page.total,
        };
        Ok(args.direct_page(Arc::new(page), guide_cursor_of))
    }
}

/// Writes the federation entity resolvers, each of which loads one row by its key.
/// `#[Object]` reads only the methods written out in its impl block, so a macro, not a
/// helper, is what lets each resolver be stated once as its name, key fields and loader key;
/// `, none if invalid` answers null without loading when the key cannot name a row.
macro_rules! entity_resolvers {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($field:ident: $ty:ty),+) -> $entity:ty =
            $key:expr $(, none if $invalid:expr)?;
    )*) => {
        /// The federation entity resolvers: not fields of `Query`, but what the gateway's
        /// `_entities` lookups reach.
        #[derive(Default)]
        pub struct EntityQuery;

        #[Object]
        impl EntityQuery {
            $(
                $(#[doc = $doc])*
                #[graphql(entity)]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    $($field: $ty),+
                ) -> async_graphql::Result<Option<$entity>> {
                    $(if $invalid {
                        return Ok(None);
                    })?
                    load_one(ctx, $key).await
                }
            )*
        }
    };
}

entity_resolvers! {
    /// Resolves a Region entity for a federation gateway.
    fn find_region_by_code(code: String) -> Region =
        RegionKey(code), none if RegionCode::try_from(code.as_str()).is_err();
    /// Resolves a Zone entity for a federation gateway.
    fn find_zone_by_code(code: String) -> Zone = ZoneKey(code);
    /// Resolves a Standard entity for a federation gateway; drafts only for those who may see them.
    fn find_standard_by_code(code: String) -> Standard = StandardKey(code);
    /// Resolves a ServiceMatter entity for a federation gateway.
    fn find_service_matter_by_code(code: String) -> ServiceMatter = MatterKey(code);
    /// Resolves a NationalItem entity for a federation gateway.
    fn find_national_item_by_edition_and_number(edition: i32, number: i32) -> NationalItem =
        ItemKey(edition, number);
    /// Resolves a ServiceGuide entity for a federation gateway; drafts only for those who may see them.
    fn find_service_guide_by_region_code_and_matter_code(
        region_code: String,
        matter_code: String
    ) -> ServiceGuide = GuideLoadKey((region_code, matter_code));
}
