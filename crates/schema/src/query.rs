//! The read API. Resolvers check their arguments, ask `persistence`, and map
//! the rows to API types.

use async_graphql::{Context, InputObject, Object};
use concord_domain::{CategoryCode, MatterCode, RegionCode, StandardCode, ZoneCode};
use concord_persistence::queries::{self, GuideFilter, MatterFilter, PageRequest, StandardFilter};

use crate::context::{db, visibility};
use crate::error::{ApiError, OrApiError, parse_arg};
use crate::loader::visible_standard;
use crate::pagination::{Paged, connection, cost, decode, encode, page_size};
use crate::types::{
    Category, GuideStatus, NationalEdition, NationalItem, Region, ServiceGuide, ServiceMatter,
    Standard, StandardLevel, StandardStatus, Zone,
};

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
    status: Option<StandardStatus>,
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
    status: Option<GuideStatus>,
}

fn optional<T, E>(field: &str, raw: Option<&String>) -> Result<Option<String>, ApiError>
where
    T: for<'a> TryFrom<&'a str, Error = E> + Into<String>,
    E: ToString,
{
    raw.map(|raw| parse_arg::<T, E>(field, raw).map(Into::into))
        .transpose()
}

fn single_cursor(after: Option<&String>) -> Result<Option<String>, ApiError> {
    after
        .map(|cursor| decode(cursor, 1).map(|mut parts| parts.remove(0)))
        .transpose()
}

/// The root of every read.
pub struct Query;

/// The root of every read: regions and zones, the catalogue, standards and guides.
#[Object]
impl Query {
    /// Every provincial-level division, by code.
    async fn regions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Region>> {
        let rows = queries::regions(db(ctx).or_api()?).await.or_api()?;
        Ok(rows.into_iter().map(Region).collect())
    }

    /// One region by its GB/T 2260 code, e.g. `330000`.
    async fn region(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Region>> {
        let code: RegionCode = parse_arg("code", &code).or_api()?;
        let rows = queries::regions_by_codes(db(ctx).or_api()?, &[code.into()])
            .await
            .or_api()?;
        Ok(rows.into_iter().next().map(Region))
    }

    /// Every regional collaboration zone.
    async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Zone>> {
        let rows = queries::zones(db(ctx).or_api()?).await.or_api()?;
        Ok(rows.into_iter().map(Zone).collect())
    }

    /// One zone by its code, e.g. `YRD`.
    async fn zone(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<Option<Zone>> {
        let code: ZoneCode = parse_arg("code", &code).or_api()?;
        let rows = queries::zones_by_codes(db(ctx).or_api()?, &[code.into()])
            .await
            .or_api()?;
        Ok(rows.into_iter().next().map(Zone))
    }

    /// Every HR&SS service category.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let rows = queries::categories(db(ctx).or_api()?).await.or_api()?;
        Ok(rows.into_iter().map(Category).collect())
    }

    /// The editions of the National Basic Public Service Standards.
    async fn national_editions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NationalEdition>> {
        let rows = queries::editions(db(ctx).or_api()?).await.or_api()?;
        Ok(rows.into_iter().map(NationalEdition).collect())
    }

    /// The HR&SS items of the national standard, of one edition or of all.
    async fn national_items(
        &self,
        ctx: &Context<'_>,
        edition: Option<i32>,
    ) -> async_graphql::Result<Vec<NationalItem>> {
        let rows = queries::national_items(db(ctx).or_api()?, edition)
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
        let rows = queries::national_items_by_keys(db(ctx).or_api()?, &[(edition, number)])
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
        let request = PageRequest {
            first: page_size(first).or_api()?,
            after: single_cursor(after.as_ref()).or_api()?,
        };
        let has_previous = request.after.is_some();
        let filter = MatterFilter {
            category: optional::<CategoryCode, _>("filter.category", filter.category.as_ref())
                .or_api()?,
            standard: optional::<StandardCode, _>("filter.standard", filter.standard.as_ref())
                .or_api()?,
            national_edition: filter.national_edition,
            national_number: filter.national_number,
            text: filter.text,
        };
        let page = queries::matters(db(ctx).or_api()?, &filter, request)
            .await
            .or_api()?;
        Ok(connection(page, has_previous, |row| encode(&[&row.code])))
    }

    /// One service matter by code.
    async fn matter(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<ServiceMatter>> {
        let code: MatterCode = parse_arg("code", &code).or_api()?;
        let rows = queries::matters_by_codes(db(ctx).or_api()?, &[code.into()])
            .await
            .or_api()?;
        Ok(rows.into_iter().next().map(ServiceMatter))
    }

    /// Standards, filtered and paginated by code. Drafts appear only to those who may edit them.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn standards(
        &self,
        ctx: &Context<'_>,
        filter: Option<StandardFilterInput>,
        #[graphql(desc = "How many standards to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<Standard>> {
        let filter = filter.unwrap_or_default();
        let request = PageRequest {
            first: page_size(first).or_api()?,
            after: single_cursor(after.as_ref()).or_api()?,
        };
        let has_previous = request.after.is_some();
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
        };
        let page = queries::standards(
            db(ctx).or_api()?,
            &filter,
            visibility(ctx).or_api()?,
            request,
        )
        .await
        .or_api()?;
        Ok(connection(page, has_previous, |row| encode(&[&row.code])))
    }

    /// One standard by code, e.g. `GB/T 33531-2017`.
    async fn standard(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Standard>> {
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let rows = queries::standards_by_codes(db(ctx).or_api()?, &[code.into()])
            .await
            .or_api()?;
        let visibility = visibility(ctx).or_api()?;
        Ok(rows
            .into_iter()
            .find(|row| visible_standard(visibility, row))
            .map(Standard))
    }

    /// A region's guide for a matter. Drafts appear only to those who may edit them.
    async fn guide(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
    ) -> async_graphql::Result<Option<ServiceGuide>> {
        let region: RegionCode = parse_arg("region", &region).or_api()?;
        let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
        let rows = queries::guides_by_keys(
            db(ctx).or_api()?,
            &[(region.into(), matter.into())],
            visibility(ctx).or_api()?,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().next().map(ServiceGuide))
    }

    /// Service guides, filtered and paginated by region then matter.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn guides(
        &self,
        ctx: &Context<'_>,
        filter: Option<GuideFilterInput>,
        #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<ServiceGuide>> {
        let filter = filter.unwrap_or_default();
        let request = PageRequest {
            first: page_size(first).or_api()?,
            after: after
                .as_ref()
                .map(|cursor| decode(cursor, 2).map(|mut parts| (parts.remove(0), parts.remove(0))))
                .transpose()
                .or_api()?,
        };
        let has_previous = request.after.is_some();
        let db = db(ctx).or_api()?;
        let regions = match optional::<ZoneCode, _>("filter.zone", filter.zone.as_ref()).or_api()? {
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
        let filter = GuideFilter {
            region: optional::<RegionCode, _>("filter.region", filter.region.as_ref()).or_api()?,
            regions,
            matter: optional::<MatterCode, _>("filter.matter", filter.matter.as_ref()).or_api()?,
            category: optional::<CategoryCode, _>("filter.category", filter.category.as_ref())
                .or_api()?,
            status: filter
                .status
                .map(|s| concord_domain::GuideStatus::from(s).as_str().to_owned()),
        };
        let page = queries::guides(db, &filter, visibility(ctx).or_api()?, request)
            .await
            .or_api()?;
        Ok(connection(page, has_previous, |row| {
            encode(&[&row.region_code, &row.matter_code])
        }))
    }
}
