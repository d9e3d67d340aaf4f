use async_graphql::{Context, InputObject, Object};
use chrono::NaiveDate;
use concord_auth::{Action, Target};
use concord_domain::alignment::Baseline;
use concord_domain::{
    CategoryCode, ExemptionGrant, Fee, MatterCode, Names, RegionCode, ServedGroup, StandardCode,
    ValidationError,
};
use concord_persistence::mutate::{self, NationalItemRecord};
use concord_persistence::write::MatterRecord;

use super::{allow, gate, names};
use crate::alignment::BaselineExemption;
use crate::error::{ApiError, OrApiError, invalid_input, parse_arg};
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

/// Served-group codes read from `field`, each checked against the
/// catalogue and none repeated; every bad one is added to `errors`.
fn groups(field: &str, codes: &[String], errors: &mut Vec<ValidationError>) -> Vec<ServedGroup> {
    let mut groups = Vec::with_capacity(codes.len());
    for (index, code) in codes.iter().enumerate() {
        match code.trim().parse::<ServedGroup>() {
            Ok(group) if groups.contains(&group) => errors.push(ValidationError::new(
                format!("{field}[{index}]"),
                format!("`{group}` is listed twice"),
            )),
            Ok(group) => groups.push(group),
            Err(error) => errors.push(ValidationError::new(
                format!("{field}[{index}]"),
                error.to_string(),
            )),
        }
    }
    groups
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
        let national_item = match (input.national_edition, input.national_number) {
            (Some(edition), Some(number)) => Some((edition, number)),
            (None, None) => None,
            _ => {
                return Err(ApiError::bad_input(
                    "input.nationalNumber",
                    "give both nationalEdition and nationalNumber, or neither",
                ))
                .or_api();
            }
        };
        let standards = input
            .standards
            .map(|codes| {
                codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| parse_arg::<StandardCode, _>(&format!("input.standards[{i}]"), c))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .or_api()?;
        let mut errors = Vec::new();
        let Names {
            zh: name_zh,
            en: name_en,
        } = names(
            Names::validated("name", &input.name_zh, &input.name_en),
            &mut errors,
        );
        let served_groups = input
            .served_groups
            .map(|codes| groups("servedGroups", &codes, &mut errors));
        if !errors.is_empty() {
            return Err(invalid_input("input.", errors)).or_api();
        }
        let permit = allow(ctx, Action::SaveMatter, &NATIONAL).or_api()?;
        let record = MatterRecord {
            code,
            name_zh,
            name_en,
            category,
            national_item,
            standards,
            served_groups,
            illustrative: false,
        };
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
        let mut errors = Vec::new();
        if !concord_domain::national::EDITIONS.contains(&input.edition) {
            errors.push(ValidationError::new(
                "edition",
                "must be a year between 2000 and 2100",
            ));
        }
        if !concord_domain::national::ITEM_NUMBERS.contains(&input.number) {
            errors.push(ValidationError::new("number", "must be between 1 and 999"));
        }
        let Names {
            zh: name_zh,
            en: name_en,
        } = names(
            Names::validated("name", &input.name_zh, &input.name_en),
            &mut errors,
        );
        if let Some(days) = input.max_time_limit_days
            && !(1..=concord_domain::guide::MAX_TIME_LIMIT_DAYS).contains(&days)
        {
            errors.push(ValidationError::new(
                "maxTimeLimitDays",
                "must be between 1 and 250 working days",
            ));
        }
        let max_fee = match input.max_fee.map(Decimal::fee).transpose() {
            Ok(fee) => fee,
            Err(message) => {
                errors.push(ValidationError::new("maxFee", message));
                None
            }
        };
        let mut required_channels: Vec<concord_domain::Channel> = input
            .required_channels
            .into_iter()
            .map(Into::into)
            .collect();
        required_channels.sort();
        required_channels.dedup();
        let served_groups = groups("servedGroups", &input.served_groups, &mut errors);
        if !errors.is_empty() {
            return Err(invalid_input("input.", errors)).or_api();
        }
        let permit = allow(ctx, Action::SaveNationalItem, &NATIONAL).or_api()?;
        let record = NationalItemRecord {
            edition: input.edition,
            number: input.number,
            name_zh,
            name_en,
            category,
            area_zh: input.area_zh.trim().to_owned(),
            served_group: input.served_group.trim().to_owned(),
            served_groups,
            content: input.content.trim().to_owned(),
            baseline_standard: input.baseline_standard.trim().to_owned(),
            funding_responsibility: input.funding_responsibility.trim().to_owned(),
            lead_department: input.lead_department.trim().to_owned(),
            baseline: Baseline {
                max_time_limit_days: input.max_time_limit_days,
                max_fee_fen: max_fee.map(Fee::fen),
                required_channels,
            },
            illustrative: input.illustrative,
        };
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
