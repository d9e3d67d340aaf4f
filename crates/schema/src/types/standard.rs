use async_graphql::{Context, Value};
use chrono::NaiveDate;
use concord_domain::StandardCode;
use concord_domain::standard;

use super::{
    FieldChange, Region, Revision, ServiceMatter, StandardLevel, StandardStatus, Zone, diff,
    kept_versions, load_listed, load_one, owned_object,
};
use crate::direct::{Direct, Owns, Plain, closed, plain_list, scalar, text};
use crate::error::OrApiError;
use crate::loader::{
    ElevatedTo, MatterKey, MattersOfStandard, RegionKey, StandardKey, SupersededBy, ZoneKey,
};

/// A standard at any level: national, industry, local, regional, group or internal.
pub struct Standard(pub standard::Standard, pub StandardRelations);

/// The relations of a standard that its page read ahead, because the
/// page's selection asked for them (see `RowLoader::standards_with`).
#[derive(Default)]
pub struct StandardRelations {
    /// `Some` when read ahead: the matters the standard governs, by code.
    pub matters: Option<Vec<ServiceMatter>>,
}

impl From<standard::Standard> for Standard {
    fn from(standard: standard::Standard) -> Self {
        Self(standard, StandardRelations::default())
    }
}

owned_object! {
    /// A standard at any level: national, industry, local, regional, group or internal.
    impl Standard {
        /// The standard's code, e.g. `GB/T 33531-2017` or `DB33/T 2030-2018`.
        async fn code(&self) -> &str {
            self.0.code.as_str()
        }

        /// Chinese title.
        async fn title_zh(&self) -> &str {
            &self.0.title_zh
        }

        /// English title; empty where none is known.
        async fn title_en(&self) -> &str {
            &self.0.title_en
        }

        /// Where the standard sits in the standard system.
        async fn level(&self) -> StandardLevel {
            self.0.level.into()
        }

        /// Draft, in force, superseded or withdrawn.
        async fn status(&self) -> StandardStatus {
            self.0.status.into()
        }

        /// The year in the code, when the code is dated.
        async fn year(&self) -> Option<i32> {
            year(&self.0.code)
        }

        /// The region that issued a local standard.
        async fn issuing_region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
            match &self.0.issuing_region {
                Some(code) => load_one(ctx, RegionKey(code.to_string())).await,
                None => Ok(None),
            }
        }

        /// The zone that issued a regional collaborative standard.
        async fn issuing_zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Zone>> {
            match &self.0.issuing_zone {
                Some(code) => load_one(ctx, ZoneKey(code.to_string())).await,
                None => Ok(None),
            }
        }

        /// When the standard was published.
        async fn issued_on(&self) -> Option<NaiveDate> {
            self.0.issued_on
        }

        /// When the standard came into force.
        async fn effective_on(&self) -> Option<NaiveDate> {
            self.0.effective_on
        }

        /// The standard this one replaces.
        async fn supersedes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
            match &self.0.supersedes {
                Some(code) => load_one(ctx, StandardKey(code.to_string())).await,
                None => Ok(None),
            }
        }

        /// The standards that replace this one.
        async fn superseded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Standard>> {
            let standards = load_one::<_, Vec<standard::Standard>>(ctx, SupersededBy(self.0.code.to_string())).await?;
            Ok(standards.unwrap_or_default().into_iter().map(Standard::from).collect())
        }

        /// When the standard is due for review: five years after it came
        /// into force unless set; a revision starts the five years again.
        async fn review_on(&self) -> Option<NaiveDate> {
            self.0.review_on
        }

        /// The local standard an accepted elevation raised this one from.
        async fn elevated_from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
            match &self.0.elevated_from {
                Some(code) => load_one(ctx, StandardKey(code.to_string())).await,
                None => Ok(None),
            }
        }

        /// The national or industry standards accepted elevations raised from this one.
        async fn elevated_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Standard>> {
            let standards = load_one::<_, Vec<standard::Standard>>(ctx, ElevatedTo(self.0.code.to_string())).await?;
            Ok(standards.unwrap_or_default().into_iter().map(Standard::from).collect())
        }

        /// The service matters the standard governs.
        async fn matters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Direct<ServiceMatter>>> {
            if let Some(matters) = &self.1.matters {
                return Ok(matters.iter().cloned().map(Direct).collect());
            }
            let matters: Vec<ServiceMatter> =
                load_listed(ctx, MattersOfStandard(self.0.code.to_string()), MatterKey).await?;
            Ok(matters.into_iter().map(Direct).collect())
        }

        /// Every kept version of the standard, oldest first, ending with the current one.
        async fn revisions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
            self.versions(ctx).await
        }

        /// The fields that differ between two revisions of the standard.
        async fn diff(&self, ctx: &Context<'_>, from: i32, to: i32) -> async_graphql::Result<Vec<FieldChange>> {
            diff(&self.versions(ctx).await?, from, to).or_api()
        }

        /// Notes: committee, citing standards, dates.
        async fn note(&self) -> &str {
            &self.0.note
        }
    }
}

/// The year in a standard's code, when the code is dated.
fn year(code: &StandardCode) -> Option<i32> {
    code.year().map(i32::from)
}

impl Plain for Standard {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        let standard = &self.0;
        let name = ctx.item.node.name.node.as_str();
        let date = |date: &Option<NaiveDate>| date.as_ref().map_or(Value::Null, scalar);
        Some(match name {
            "code" => text(standard.code.as_str()),
            "titleZh" => text(&standard.title_zh),
            "titleEn" => text(&standard.title_en),
            "level" => closed::<StandardLevel>(standard.level),
            "status" => closed::<StandardStatus>(standard.status),
            "year" => year(&standard.code).map_or(Value::Null, |year| scalar(&year)),
            "issuedOn" => date(&standard.issued_on),
            "effectiveOn" => date(&standard.effective_on),
            "reviewOn" => date(&standard.review_on),
            "note" => text(&standard.note),
            "matters" => plain_list(self.1.matters.as_ref()?, ctx)?,
            _ => return standard.provenance.owned().field(name),
        })
    }
}

impl Standard {
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
        let matters =
            load_one::<_, Vec<String>>(ctx, MattersOfStandard(self.0.code.to_string())).await?;
        kept_versions(
            ctx,
            concord_domain::RowKind::Standard,
            self.0.code.to_string(),
            &self.0.provenance,
            concord_persistence::mutate::standard_version(&self.0, &matters.unwrap_or_default()),
        )
        .await
    }
}
