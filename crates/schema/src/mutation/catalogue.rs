use async_graphql::{Context, InputObject, Object};
use chrono::NaiveDate;
use concord_auth::{Action, Target};
use concord_domain::alignment::Baseline;
use concord_domain::{
    CategoryCode, ExemptionGrant, Fee, MatterCode, MatterDraft, NationalItemDraft, RegionCode,
    ServedGroup, StandardCode, national_item_of,
};
use concord_persistence::mutate;

use super::{allow, gate};
use crate::alignment::BaselineExemption;
use crate::error::{ApiError, OrApiError, invalid_input, parse_arg, parse_each};
use crate::types::{Channel, Decimal, NationalItem, ServiceMatter};

/// A service matter of the catalogue.
#[derive(InputObject)]
pub struct SaveMatterInput {
    /// Matter code, e.g. `SI-PENSION-TRANSFER`.
    code: String,
    /// Chinese name.
    name_zh: String,
    /// English name.
    #[graphql(default)]
    name_en: String,
    /// Its category, e.g. `SOCIAL_INSURANCE`.
    category: String,
    /// The edition of the national item it implements.
    national_edition: Option<i32>,
    /// The number of the national item it implements.
    national_number: Option<i32>,
    /// The standards it follows; omit to keep them.
    standards: Option<Vec<String>>,
    /// The codes of the groups it serves (`servedGroups` query) where they
    /// differ from its national item's; omit (or null) to take the item's.
    served_groups: Option<Vec<String>>,
    /// The revision the caller last read; omit (or 0) when creating.
    expected_revision: Option<i32>,
}

/// An item of the national standard, with its five fields.
#[derive(InputObject)]
pub struct SaveNationalItemInput {
    /// The edition, e.g. 2023.
    edition: i32,
    /// The item's number within its edition.
    number: i32,
    /// Chinese name.
    name_zh: String,
    /// English name.
    #[graphql(default)]
    name_en: String,
    /// Its HR&SS category.
    category: String,
    /// The area of the national standard, e.g. 劳有所得.
    #[graphql(default)]
    area_zh: String,
    /// Who is served (服务对象), in the words of the official text.
    #[graphql(default)]
    served_group: String,
    /// The same as codes of the catalogue of groups (`servedGroups` query),
    /// none repeated.
    #[graphql(default)]
    served_groups: Vec<String>,
    /// What is provided (服务内容).
    #[graphql(default)]
    content: String,
    /// The baseline standard (服务标准).
    #[graphql(default)]
    baseline_standard: String,
    /// Who pays (支出责任).
    #[graphql(default)]
    funding_responsibility: String,
    /// The lead department (牵头负责单位).
    #[graphql(default)]
    lead_department: String,
    /// The baseline's longest allowed time limit, in working days.
    max_time_limit_days: Option<i32>,
    /// The baseline's highest allowed fee, in yuan, as a string with at
    /// most two decimals (`"20.00"`).
    max_fee: Option<Decimal>,
    /// The channels the baseline requires.
    #[graphql(default)]
    required_channels: Vec<Channel>,
    /// True when the text is not the official one.
    #[graphql(default)]
    illustrative: bool,
    /// The revision the caller last read; omit (or 0) when creating.
    expected_revision: Option<i32>,
}

/// Served-group codes read from `field`, each a code of the catalogue.
fn groups(field: &str, codes: &[String]) -> Result<Vec<ServedGroup>, ApiError> {
    codes
        .iter()
        .enumerate()
        .map(|(index, code)| {
            code.trim()
                .parse()
                .map_err(|error| ApiError::bad_input(format!("input.{field}[{index}]"), error))
        })
        .collect()
}

const NATIONAL: Target<'static> = Target {
    region: None,
    level: None,
    zone: None,
};

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Creates or updates a service matter. Needs NATIONAL_ADMIN.
    async fn save_matter(
        &self,
        ctx: &Context<'_>,
        input: SaveMatterInput,
    ) -> async_graphql::Result<ServiceMatter> {
        gate(ctx, Action::SaveMatter).or_api()?;
        let code: MatterCode = parse_arg("input.code", &input.code).or_api()?;
        let category: CategoryCode = parse_arg("input.category", &input.category).or_api()?;
        let standards: Option<Vec<StandardCode>> = input
            .standards
            .map(|codes| parse_each("input.standards", &codes))
            .transpose()
            .or_api()?;
        let served_groups = input
            .served_groups
            .map(|codes| groups("servedGroups", &codes))
            .transpose()
            .or_api()?;
        let national_item = national_item_of(input.national_edition, input.national_number)
            .map_err(|error| invalid_input("input.", vec![error]))
            .or_api()?;
        let record = MatterDraft {
            code,
            name_zh: input.name_zh,
            name_en: input.name_en,
            category,
            national_item,
            standards,
            served_groups,
            illustrative: false,
        }
        .validated()
        .map_err(|errors| invalid_input("input.", errors))
        .or_api()?;
        let permit = allow(ctx, Action::SaveMatter, &NATIONAL).or_api()?;
        let row = mutate::save_matter(&permit, record, input.expected_revision)
            .await
            .or_api()?;
        Ok(ServiceMatter::from(row))
    }

    /// Creates or updates an item of the national standard. Needs NATIONAL_ADMIN.
    async fn save_national_item(
        &self,
        ctx: &Context<'_>,
        input: SaveNationalItemInput,
    ) -> async_graphql::Result<NationalItem> {
        gate(ctx, Action::SaveNationalItem).or_api()?;
        let category: CategoryCode = parse_arg("input.category", &input.category).or_api()?;
        let max_fee = input
            .max_fee
            .map(Decimal::fee)
            .transpose()
            .map_err(|message| ApiError::bad_input("input.maxFee", message))
            .or_api()?;
        let record = NationalItemDraft {
            edition: input.edition,
            number: input.number,
            name_zh: input.name_zh,
            name_en: input.name_en,
            category,
            area_zh: input.area_zh,
            served_group: input.served_group,
            served_groups: groups("servedGroups", &input.served_groups).or_api()?,
            content: input.content,
            baseline_standard: input.baseline_standard,
            funding_responsibility: input.funding_responsibility,
            lead_department: input.lead_department,
            baseline: Baseline {
                max_time_limit_days: input.max_time_limit_days,
                max_fee_fen: max_fee.map(Fee::fen),
                required_channels: input
                    .required_channels
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
            illustrative: input.illustrative,
        }
        .validated()
        .map_err(|errors| invalid_input("input.", errors))
        .or_api()?;
        let permit = allow(ctx, Action::SaveNationalItem, &NATIONAL).or_api()?;
        let item = mutate::save_national_item(&permit, record, input.expected_revision)
            .await
            .or_api()?;
        Ok(NationalItem(item))
    }

    /// Lets one region publish one matter's guide below its national item's
    /// baseline from `validFrom` to `validUntil` (both included), for a
    /// stated reason. Needs NATIONAL_ADMIN, on the national hub.
    async fn grant_baseline_exemption(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The region exempted, e.g. `330000`.")] region: String,
        #[graphql(desc = "The matter whose guide may fall below the baseline.")] matter: String,
        #[graphql(desc = "Why the region may fall below the baseline.")] rationale: String,
        #[graphql(desc = "The first day the exemption covers.")] valid_from: NaiveDate,
        #[graphql(desc = "The last day the exemption covers.")] valid_until: NaiveDate,
    ) -> async_graphql::Result<BaselineExemption> {
        gate(ctx, Action::GrantBaselineExemption).or_api()?;
        let region: RegionCode = parse_arg("region", &region).or_api()?;
        let matter: MatterCode = parse_arg("matter", &matter).or_api()?;
        let permit = allow(ctx, Action::GrantBaselineExemption, &NATIONAL).or_api()?;
        let grant = ExemptionGrant {
            rationale,
            valid_from,
            valid_until,
        }
        .validated()
        .map_err(|errors| invalid_input("", errors))
        .or_api()?;
        let row = mutate::grant_exemption(&permit, &region, &matter, grant)
            .await
            .or_api()?;
        Ok(BaselineExemption::from(row))
    }

    /// Ends a baseline exemption: it covers nothing from now on, and the
    /// region's guide can no longer be published below the baseline on it.
    /// Needs NATIONAL_ADMIN, on the national hub.
    async fn revoke_baseline_exemption(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The exemption's id, `region/matter/validFrom`.")] id: String,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<BaselineExemption> {
        gate(ctx, Action::RevokeBaselineExemption).or_api()?;
        let malformed =
            || ApiError::bad_input("id", format!("`{id}` is not region/matter/validFrom"));
        let mut parts = id.splitn(3, '/');
        let (Some(region), Some(matter), Some(from)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed()).or_api();
        };
        let region: RegionCode = parse_arg("id", region).or_api()?;
        let matter: MatterCode = parse_arg("id", matter).or_api()?;
        let from: NaiveDate = from.parse().map_err(|_| malformed()).or_api()?;
        let permit = allow(ctx, Action::RevokeBaselineExemption, &NATIONAL).or_api()?;
        let row = mutate::revoke_exemption(&permit, (&region, &matter, from), expected_revision)
            .await
            .or_api()?;
        Ok(BaselineExemption::from(row))
    }
}
