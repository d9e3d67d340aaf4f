//! Guides as a nested connection of a region, a zone or a matter, loaded
//! for every parent on a level with one statement.

use std::sync::Arc;

use async_graphql::{Context, InputObject};
use concord_domain::{CategoryCode, MatterCode};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{GuideFilter, GuideParent, Page};

use crate::context::reading;
use crate::direct::DirectPage;
use crate::error::{OrApiError, optional};
use crate::loader::{GuideAhead, GuidesOf, MembersOfZone};
use crate::pagination::{ConnectionArgs, encode};
use crate::types::{GuideStatus, ServiceGuide, load_one};

/// How to narrow a region's, zone's or matter's guides.
#[derive(InputObject, Default)]
pub struct GuidePageFilterInput {
    /// Only guides for this matter.
    matter: Option<String>,
    /// Only guides for matters of this category.
    category: Option<String>,
    /// Only guides in this status.
    status: Option<GuideStatus>,
}

/// The matter, category and status a guide page is narrowed to, checked
/// as the `filter` argument's fields: what every page of guides, nested or
/// top-level, filters by.
pub fn narrowed(
    matter: Option<&String>,
    category: Option<&String>,
    status: Option<GuideStatus>,
) -> async_graphql::Result<GuideFilter> {
    Ok(GuideFilter {
        matter: optional::<MatterCode, _>("filter.matter", matter).or_api()?,
        category: optional::<CategoryCode, _>("filter.category", category).or_api()?,
        status: status.map(|s| concord_domain::GuideStatus::from(s).as_str().to_owned()),
        ..GuideFilter::default()
    })
}

/// A guide's cursor: its region, then its matter.
pub fn guide_cursor_of(guide: &ServiceGuide) -> String {
    encode(&[guide.0.region.as_str(), guide.0.matter.as_str()])
}

/// The page of `code`'s guides that the field's arguments ask for.
pub async fn guides_of(
    ctx: &Context<'_>,
    parent: GuideParent,
    code: &str,
    filter: Option<GuidePageFilterInput>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<DirectPage<ServiceGuide>> {
    let filter = filter.unwrap_or_default();
    let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
    let filter = narrowed(
        filter.matter.as_ref(),
        filter.category.as_ref(),
        filter.status,
    )?;
    if parent == GuideParent::Zone {
        // A zone's page changes with its members' guides and no others.
        let members = load_one::<_, Vec<String>>(ctx, MembersOfZone(code.to_owned()))
            .await?
            .unwrap_or_default();
        reading(
            ctx,
            &Footprint::default().in_regions(Topic::Guide, members.iter().map(String::as_str)),
        )
        .or_api()?;
    }
    let key = GuidesOf {
        parent,
        code: code.to_owned(),
        page: Arc::new((filter, args.request(), GuideAhead::of(ctx))),
    };
    let page = load_one::<_, Arc<Page<_>>>(ctx, key)
        .await?
        .unwrap_or_else(|| {
            Arc::new(Page {
                items: Vec::new(),
                has_next: false,
                total: 0,
            })
        });
    Ok(args.direct_page(page, guide_cursor_of))
}
