use async_graphql::{Context, Value};
use concord_domain::geo;
use derive_more::From;

use concord_persistence::queries::GuideParent;

use super::{RegionKind, ServiceGuide, load_listed, named_object};
use crate::direct::{Direct, DirectPage, Plain, closed, named, optional_text, scalar, text};
use crate::guide_pages::{GuidePageFilterInput, guides_of};
use crate::loader::{MembersOfZone, RegionKey, ZoneKey, ZonesOfRegion};

/// A provincial-level division of China (GB/T 2260).
#[derive(From)]
pub struct Region(pub geo::Region);

named_object! {
    /// A provincial-level division of China (GB/T 2260).
    impl Region {
        /// GB/T 2260 code, e.g. `330000`.
        code;

        /// Chinese name, e.g. 浙江省.
        name_zh;

        /// English name, e.g. Zhejiang.
        name_en;

        /// One-character abbreviation, e.g. 浙.
        async fn abbreviation(&self) -> &str {
            &self.0.abbr_zh
        }

        /// Pinyin of the abbreviation, e.g. Zhe.
        async fn abbreviation_pinyin(&self) -> &str {
            &self.0.abbr_pinyin
        }

        /// ISO 3166-2 code, e.g. `CN-ZJ`.
        async fn iso_code(&self) -> &str {
            &self.0.iso_3166_2
        }

        /// Province, municipality, autonomous region or SAR.
        async fn kind(&self) -> RegionKind {
            self.0.kind.into()
        }

        /// True for the provinces of the 2021–2022 HR&SS standardization pilot.
        async fn pilot(&self) -> bool {
            self.0.pilot
        }

        /// What the pilot was, when the region took part.
        async fn pilot_note(&self) -> Option<&str> {
            self.0.pilot_note.as_deref()
        }

        /// The collaboration zones this region belongs to.
        async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Direct<Zone>>> {
            let zones: Vec<Zone> =
                load_listed(ctx, ZonesOfRegion(self.0.code.to_string()), ZoneKey).await?;
            Ok(zones.into_iter().map(Direct).collect())
        }

        /// This region's guides, by matter code. Drafts appear only to those who may edit them.
        #[graphql(complexity = "crate::pagination::nested_cost(first)")]
        async fn guides(
            &self,
            ctx: &Context<'_>,
            filter: Option<GuidePageFilterInput>,
            #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")]
            first: Option<i32>,
            #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        ) -> async_graphql::Result<DirectPage<ServiceGuide>> {
            guides_of(ctx, GuideParent::Region, self.0.code.as_str(), filter, first, after).await
        }
    }
}

impl Plain for Region {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        let region = &self.0;
        let name = ctx.item.node.name.node.as_str();
        Some(match name {
            "abbreviation" => text(&region.abbr_zh),
            "abbreviationPinyin" => text(&region.abbr_pinyin),
            "isoCode" => text(&region.iso_3166_2),
            "kind" => closed::<RegionKind>(region.kind),
            "pilot" => scalar(&region.pilot),
            "pilotNote" => optional_text(region.pilot_note.as_deref()),
            _ => return named!(region, name),
        })
    }
}

/// A regional collaboration zone, such as the Yangtze River Delta.
#[derive(From)]
pub struct Zone(pub geo::Zone);

named_object! {
    /// A regional collaboration zone, such as the Yangtze River Delta.
    impl Zone {
        /// Zone code: `JJJ`, `YRD`, `GBA` or `CCEC`.
        code;

        /// Chinese name, e.g. 长三角.
        name_zh;

        /// English name, e.g. Yangtze River Delta.
        name_en;

        /// The member regions, by code.
        async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Direct<Region>>> {
            let members: Vec<Region> =
                load_listed(ctx, MembersOfZone(self.0.code.to_string()), RegionKey).await?;
            Ok(members.into_iter().map(Direct).collect())
        }

        /// The guides of this zone's members, by region then matter code.
        #[graphql(complexity = "crate::pagination::nested_cost(first)")]
        async fn guides(
            &self,
            ctx: &Context<'_>,
            filter: Option<GuidePageFilterInput>,
            #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")]
            first: Option<i32>,
            #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        ) -> async_graphql::Result<DirectPage<ServiceGuide>> {
            guides_of(ctx, GuideParent::Zone, self.0.code.as_str(), filter, first, after).await
        }
    }
}

impl Plain for Zone {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        named!(self.0, ctx.item.node.name.node.as_str())
    }
}
