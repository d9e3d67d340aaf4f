use async_graphql::{Context, Value};
use concord_domain::catalogue;
use concord_persistence::queries::GuideParent;
use derive_more::From;

use super::{ServiceGuide, Standard, load_listed, load_one, named_object, owned_object};
use crate::direct::{Direct, DirectPage, Plain, named, plain_one};
use crate::error::OrApiError;
use crate::guide_pages::{GuidePageFilterInput, guides_of};
use crate::loader::{CategoryKey, ItemKey, StandardKey, StandardsOfMatter};

/// A service area of HR&SS, such as social insurance.
#[derive(Clone, From)]
pub struct Category(pub catalogue::Category);

named_object! {
    /// A service area of HR&SS, such as social insurance.
    impl Category {
        /// Category code, e.g. `SOCIAL_INSURANCE`.
        code;

        /// Chinese name, e.g. 社会保险.
        name_zh;

        /// English name, e.g. Social insurance.
        name_en;
    }
}

impl Plain for Category {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        named!(self.0, ctx.item.node.name.node.as_str())
    }
}

/// An edition of the National Basic Public Service Standards.
#[derive(From)]
pub struct NationalEdition(pub catalogue::NationalEdition);

owned_object! {
    /// An edition of the National Basic Public Service Standards.
    impl NationalEdition {
        /// The edition's year, e.g. 2021.
        async fn edition(&self) -> i32 {
            self.0.edition
        }

        /// The official Chinese title.
        async fn title_zh(&self) -> &str {
            &self.0.title_zh
        }

        /// How many items the edition has across all areas (80 in 2021, 81 in 2023).
        async fn item_count(&self) -> i32 {
            self.0.item_count
        }

        /// The issuing departments.
        async fn issued_by(&self) -> &str {
            &self.0.issued_by
        }

        /// Notes on the edition.
        async fn note(&self) -> &str {
            &self.0.note
        }

        /// The edition this one replaces.
        async fn supersedes(&self) -> Option<i32> {
            self.0.supersedes
        }
    }
}

/// A group of people or organisations a basic public service serves
/// (服务对象), from Concord's one catalogue of groups.
#[derive(Clone, Copy)]
pub struct ServedGroup(pub concord_domain::ServedGroup);

/// A group of people or organisations a basic public service serves
/// (服务对象), from Concord's one catalogue of groups.
#[async_graphql::Object]
impl ServedGroup {
    /// The group's code, e.g. `REGISTERED_UNEMPLOYED`: what import files and
    /// the `servedGroup` arguments use.
    async fn code(&self) -> &'static str {
        self.0.as_str()
    }

    /// Chinese name, e.g. 登记失业人员.
    async fn name_zh(&self) -> &'static str {
        self.0.name_zh()
    }

    /// English name, e.g. Registered unemployed people.
    async fn name_en(&self) -> &'static str {
        self.0.name_en()
    }
}

/// An item of the national standard. Its five fields are null where the
/// official text has not been loaded.
#[derive(From)]
pub struct NationalItem(pub catalogue::NationalItem);

owned_object! {
    /// An item of the national standard. Its five fields are null where the
    /// official text has not been loaded.
    impl NationalItem {
        /// The edition the item belongs to.
        async fn edition(&self) -> i32 {
            self.0.edition
        }

        /// The item's number within its edition.
        async fn number(&self) -> i32 {
            self.0.number
        }

        /// Chinese name.
        async fn name_zh(&self) -> &str {
            &self.0.name_zh
        }

        /// English name.
        async fn name_en(&self) -> &str {
            &self.0.name_en
        }

        /// The area of the national standard, e.g. 劳有所得.
        async fn area_zh(&self) -> &str {
            &self.0.area_zh
        }

        /// The HR&SS category of the item.
        async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Direct<Category>>> {
            Ok(load_one(ctx, CategoryKey(self.0.category.to_string())).await?.map(Direct))
        }

        /// Who is served (服务对象), in the words of the official text;
        /// `servedGroups` gives the same as groups of the catalogue.
        async fn served_group(&self) -> Option<&str> {
            self.0.served_group.as_deref()
        }

        /// The groups the item serves, from the catalogue of groups
        /// (`servedGroups` query); empty where none are listed.
        async fn served_groups(&self) -> Vec<ServedGroup> {
            self.0.served_groups.iter().copied().map(ServedGroup).collect()
        }

        /// What is provided (服务内容).
        async fn content(&self) -> Option<&str> {
            self.0.content.as_deref()
        }

        /// The baseline standard no locality may fall below (服务标准).
        async fn baseline_standard(&self) -> Option<&str> {
            self.0.baseline_standard.as_deref()
        }

        /// Who pays (支出责任).
        async fn funding_responsibility(&self) -> Option<&str> {
            self.0.funding_responsibility.as_deref()
        }

        /// The lead department (牵头负责单位).
        async fn lead_department(&self) -> Option<&str> {
            self.0.lead_department.as_deref()
        }

        /// The baseline's longest allowed time limit, in working days; null for none.
        async fn max_time_limit_days(&self) -> Option<i32> {
            self.0.baseline.max_time_limit_days
        }

        /// The baseline's highest allowed fee, in yuan; null for none.
        async fn max_fee(&self) -> async_graphql::Result<Option<super::Decimal>> {
            self.0.baseline.max_fee_fen.map(super::stored_fee).transpose().or_api()
        }

        /// The channels the baseline requires every guide to offer.
        async fn required_channels(&self) -> Vec<super::Channel> {
            self.0.baseline.required_channels.iter().copied().map(super::Channel::from).collect()
        }
    }
}

/// A service matter of the HR&SS matter list (事项清单), with its category
/// when that was read ahead (`Some`).
#[derive(Clone)]
pub struct ServiceMatter(pub catalogue::ServiceMatter, pub Option<Option<Category>>);

impl From<catalogue::ServiceMatter> for ServiceMatter {
    fn from(matter: catalogue::ServiceMatter) -> Self {
        Self(matter, None)
    }
}

owned_object! {
    /// A service matter of the HR&SS matter list (事项清单).
    impl ServiceMatter {
        /// Every region's guide for this matter, by region code.
        #[graphql(complexity = "crate::pagination::nested_cost(first)")]
        async fn guides(
            &self,
            ctx: &Context<'_>,
            filter: Option<GuidePageFilterInput>,
            #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")]
            first: Option<i32>,
            #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        ) -> async_graphql::Result<DirectPage<ServiceGuide>> {
            guides_of(ctx, GuideParent::Matter, self.0.code.as_str(), filter, first, after).await
        }

        /// Matter code, e.g. `SI-PENSION-TRANSFER`.
        async fn code(&self) -> &str {
            self.0.code.as_str()
        }

        /// Chinese name.
        async fn name_zh(&self) -> &str {
            &self.0.name_zh
        }

        /// English name.
        async fn name_en(&self) -> &str {
            &self.0.name_en
        }

        /// The HR&SS category of the matter.
        async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Direct<Category>>> {
            if let Some(category) = &self.1 {
                return Ok(category.clone().map(Direct));
            }
            Ok(load_one(ctx, CategoryKey(self.0.category.to_string())).await?.map(Direct))
        }

        /// The national item the matter implements.
        async fn national_item(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NationalItem>> {
            match self.0.national_item {
                Some((edition, number)) => load_one(ctx, ItemKey(edition, number)).await,
                None => Ok(None),
            }
        }

        /// The groups the matter serves: its own where it sets them, else its
        /// national item's (see `servedGroupsInherited`).
        async fn served_groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ServedGroup>> {
            let item = match (&self.0.served_groups, self.0.national_item) {
                (None, Some((edition, number))) => {
                    load_one::<_, catalogue::NationalItem>(ctx, ItemKey(edition, number)).await?
                }
                _ => None,
            };
            let own = self.0.served_groups.as_deref();
            let inherited = item.as_ref().map_or(&[][..], |item| item.served_groups.as_slice());
            let groups = concord_domain::served_groups(own, Some(inherited));
            Ok(groups.iter().copied().map(ServedGroup).collect())
        }

        /// True when the matter takes its served groups from its national
        /// item; false when it sets its own.
        async fn served_groups_inherited(&self) -> bool {
            self.0.served_groups.is_none()
        }

        /// The standards the matter follows.
        async fn standards(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Standard>> {
            load_listed(ctx, StandardsOfMatter(self.0.code.to_string()), StandardKey).await
        }
    }
}

impl Plain for ServiceMatter {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        match (ctx.item.node.name.node.as_str(), &self.1) {
            ("category", Some(None)) => Some(Value::Null),
            ("category", Some(Some(category))) => plain_one(category, ctx),
            (name, _) => named!(self.0, name),
        }
    }
}
