use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use concord_auth::{Action, Target};
use concord_domain::standard;
use concord_domain::{
    MatterCode, Origin, RegionCode, StandardCode, StandardDraft, StandardLevel as Level, ZoneCode,
};
use concord_persistence::mutate::{self, Permit};
use concord_persistence::queries;

use super::{allow, gate, unseen};
use crate::context::{db, visibility};
use crate::error::{ApiError, OrApiError, invalid_input, parse_arg, parse_each, parse_optional};
use crate::types::{Standard, StandardLevel, StandardStatus};

/// A new standard, created as a draft.
#[derive(InputObject)]
pub struct CreateStandardInput {
    /// The standard's code, e.g. `DB33/T 2030-2018`.
    code: String,
    /// Chinese title.
    title_zh: String,
    /// English title.
    #[graphql(default)]
    title_en: String,
    /// The level; it must fit the code's prefix.
    level: StandardLevel,
    /// The issuing region of a local standard; defaults to the province its code names.
    issuing_region: Option<String>,
    /// The issuing zone of a regional collaborative standard.
    issuing_zone: Option<String>,
    /// When it was published.
    issued_on: Option<NaiveDate>,
    /// When it comes into force.
    effective_on: Option<NaiveDate>,
    /// When it is due for review; five years after `effectiveOn` when omitted.
    review_on: Option<NaiveDate>,
    /// Notes.
    #[graphql(default)]
    note: String,
    /// The matters it governs.
    matters: Option<Vec<String>>,
}

/// New content for a standard; its code, level, issuer and status stay.
#[derive(InputObject)]
pub struct ReviseStandardInput {
    /// Chinese title.
    title_zh: String,
    /// English title.
    #[graphql(default)]
    title_en: String,
    /// When it was published.
    issued_on: Option<NaiveDate>,
    /// When it comes into force.
    effective_on: Option<NaiveDate>,
    /// When it is due for review. Omitted, it stays while nothing else
    /// changes, and a revision sets it to five years after `effectiveOn`.
    review_on: Option<NaiveDate>,
    /// Notes.
    #[graphql(default)]
    note: String,
    /// The matters it governs; omit to keep them.
    matters: Option<Vec<String>>,
}

/// The two standards a supersession changed.
#[derive(SimpleObject)]
pub struct Supersession {
    /// The old standard, now SUPERSEDED.
    superseded: Standard,
    /// The new standard, which names the old one in `supersedes`.
    replacement: Standard,
}

fn matters(raw: Option<Vec<String>>) -> Result<Option<Vec<MatterCode>>, ApiError> {
    raw.map(|codes| parse_each("input.matters", &codes))
        .transpose()
}

/// Who owns a stored standard, for the policy.
pub(super) struct Owner {
    region: Option<RegionCode>,
    level: Level,
    zone: Option<ZoneCode>,
}

impl Owner {
    /// The owner of a stored standard: the region of its origin, none for
    /// the nation's.
    pub(super) fn of(standard: &standard::Standard) -> Self {
        let region = match &standard.provenance.origin {
            Origin::National => None,
            Origin::Region(code) => Some(code.clone()),
        };
        Self {
            region,
            level: standard.level,
            zone: standard.issuing_zone.clone(),
        }
    }

    pub(super) fn target(&self) -> Target<'_> {
        Target {
            region: self.region.as_ref(),
            level: Some(self.level),
            zone: self.zone.as_ref(),
        }
    }
}

/// The standard `code` as stored, if the caller may see it (see [`unseen`]).
pub(super) async fn stored(
    ctx: &Context<'_>,
    code: &StandardCode,
) -> Result<standard::Standard, ApiError> {
    let row = queries::standards_by_codes(db(ctx)?, &[code.to_string()])
        .await?
        .into_iter()
        .next();
    match row {
        Some(row) if crate::loader::visible_standard(visibility(ctx)?, &row) => Ok(row),
        _ => Err(unseen(ctx, format!("standard {code}"))),
    }
}

/// The permit to do `action` to the standard `code`, which the caller
/// must be able to see, as its owner allows.
pub(super) async fn allow_stored<'a>(
    ctx: &Context<'a>,
    action: Action,
    code: &StandardCode,
) -> Result<Permit<'a>, ApiError> {
    let row = stored(ctx, code).await?;
    allow(ctx, action, &Owner::of(&row).target())
}

#[derive(Default)]
pub struct StandardMutation;

#[Object]
impl StandardMutation {
    /// Creates a standard as a draft. PROVINCE_ADMIN creates its region's
    /// local standards, ZONE_COORDINATOR its zone's regional ones,
    /// NATIONAL_ADMIN any.
    async fn create_standard(
        &self,
        ctx: &Context<'_>,
        input: CreateStandardInput,
    ) -> async_graphql::Result<Standard> {
        gate(ctx, Action::CreateStandard).or_api()?;
        let code: StandardCode = parse_arg("input.code", &input.code).or_api()?;
        let level: Level = input.level.into();
        let issuing_zone: Option<ZoneCode> =
            parse_optional("input.issuingZone", input.issuing_zone.as_deref()).or_api()?;
        let issuing_region: Option<RegionCode> =
            parse_optional("input.issuingRegion", input.issuing_region.as_deref()).or_api()?;
        let record = StandardDraft {
            title_en: input.title_en,
            issuing_region,
            issuing_zone,
            issued_on: input.issued_on,
            effective_on: input.effective_on,
            review_on: input.review_on,
            note: input.note,
            matters: matters(input.matters).or_api()?,
            ..StandardDraft::new(code, input.title_zh, level)
        }
        .validated()
        .map_err(|errors| invalid_input("input.", errors))
        .or_api()?;
        let owner = Owner {
            region: (level == Level::Local)
                .then(|| record.issuing_region.clone())
                .flatten(),
            level,
            zone: record.issuing_zone.clone(),
        };
        let permit = allow(ctx, Action::CreateStandard, &owner.target()).or_api()?;
        let row = mutate::create_standard(&permit, record).await.or_api()?;
        Ok(Standard::from(row))
    }

    /// Revises a standard's titles, dates, note and matters.
    async fn revise_standard(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: ReviseStandardInput,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<Standard> {
        gate(ctx, Action::ReviseStandard).or_api()?;
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let row = stored(ctx, &code).await.or_api()?;
        let owner = Owner::of(&row);
        let record = StandardDraft {
            title_en: input.title_en,
            issuing_region: row.issuing_region.clone(),
            issuing_zone: owner.zone.clone(),
            issued_on: input.issued_on,
            effective_on: input.effective_on,
            review_on: input.review_on,
            note: input.note,
            matters: matters(input.matters).or_api()?,
            illustrative: row.provenance.illustrative,
            ..StandardDraft::new(code, input.title_zh, owner.level)
        }
        .validated()
        .map_err(|errors| invalid_input("input.", errors))
        .or_api()?;
        let permit = allow(ctx, Action::ReviseStandard, &owner.target()).or_api()?;
        let row = mutate::revise_standard(&permit, record, expected_revision)
            .await
            .or_api()?;
        Ok(Standard::from(row))
    }

    /// Moves a standard along its life cycle: DRAFT → IN_FORCE → SUPERSEDED or WITHDRAWN.
    async fn set_standard_status(
        &self,
        ctx: &Context<'_>,
        code: String,
        status: StandardStatus,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<Standard> {
        gate(ctx, Action::SetStandardStatus).or_api()?;
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let permit = allow_stored(ctx, Action::SetStandardStatus, &code)
            .await
            .or_api()?;
        let row = mutate::set_standard_status(&permit, &code, status.into(), expected_revision)
            .await
            .or_api()?;
        Ok(Standard::from(row))
    }

    /// Records that the standard `new` replaces `old`: `old` becomes
    /// SUPERSEDED and `new` names it. The caller must own both.
    async fn supersede_standard(
        &self,
        ctx: &Context<'_>,
        old: String,
        new: String,
        #[graphql(desc = "The revision of `old` the caller last read.")] expected_revision: i32,
        #[graphql(desc = "The revision of `new` the caller last read.")] new_expected_revision: i32,
    ) -> async_graphql::Result<Supersession> {
        gate(ctx, Action::SupersedeStandard).or_api()?;
        let old: StandardCode = parse_arg("old", &old).or_api()?;
        let new: StandardCode = parse_arg("new", &new).or_api()?;
        let old_row = stored(ctx, &old).await.or_api()?;
        let new_row = stored(ctx, &new).await.or_api()?;
        let permit = allow(
            ctx,
            Action::SupersedeStandard,
            &Owner::of(&old_row).target(),
        )
        .or_api()?;
        allow(
            ctx,
            Action::SupersedeStandard,
            &Owner::of(&new_row).target(),
        )
        .or_api()?;
        let (superseded, replacement) = mutate::supersede_standard(
            &permit,
            &old,
            &new,
            (expected_revision, new_expected_revision),
        )
        .await
        .or_api()?;
        Ok(Supersession {
            superseded: Standard::from(superseded),
            replacement: Standard::from(replacement),
        })
    }
}
