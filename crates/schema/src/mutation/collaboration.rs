use async_graphql::{Context, Enum, InputObject, Object};
use concord_auth::{Action, Target};
use concord_domain::alignment::Targets;
use concord_domain::workflow::{Decision, ElevationDecision};
use concord_domain::{
    NOTE_MAX, RegionCode, StandardCode, StandardDraft, StandardLevel as Level, ZoneCode,
    required_text,
};
use concord_persistence::mutate;
use concord_persistence::queries::Elevation;

use super::standard::allow_stored;
use super::{allow, gate, regional};
use crate::alignment::{CollaborativeStandard, ElevationProposal};
use crate::context::scope;
use crate::error::{ApiError, OrApiError, invalid_input, parse_arg, parse_each};
use crate::types::{Channel, ElevationTarget};

/// A zone's proposed collaborative standard and its targets.
#[derive(InputObject)]
pub struct ProposeCollaborativeStandardInput {
    /// The REGIONAL standard code it will carry, e.g. `DB31/T 310099-2026`.
    code: String,
    /// The zone, e.g. `YRD`.
    zone: String,
    /// Chinese title.
    title_zh: String,
    /// English title.
    #[graphql(default)]
    title_en: String,
    /// The matters it covers; at least one.
    matters: Vec<String>,
    /// The longest time limit a member's guide may state, in working days.
    max_time_limit_days: Option<i32>,
    /// The unified materials list: a member's guide may ask for nothing else.
    materials: Option<Vec<String>>,
    /// The channels every member must offer.
    #[graphql(default)]
    required_channels: Vec<Channel>,
}

/// A member's answer to a collaborative standard.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum AdoptionChoice {
    /// The member adopts the standard.
    Adopt,
    /// The member rejects it; a reason is required.
    Reject,
}

/// The national administration's step on an elevation proposal.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ElevationStep {
    /// Take the proposal under review.
    Review,
    /// Accept it.
    Accept,
    /// Decline it.
    Decline,
}

#[derive(Default)]
pub struct CollaborationMutation;

/// Mutations of collaborative standards and elevation proposals.
#[Object]
impl CollaborationMutation {
    /// Proposes a zone's collaborative standard. Needs ZONE_COORDINATOR of the
    /// zone or NATIONAL_ADMIN. Every member starts PENDING.
    async fn propose_collaborative_standard(
        &self,
        ctx: &Context<'_>,
        input: ProposeCollaborativeStandardInput,
    ) -> async_graphql::Result<CollaborativeStandard> {
        gate(ctx, Action::ProposeCollaborativeStandard).or_api()?;
        let code: StandardCode = parse_arg("input.code", &input.code).or_api()?;
        let zone: ZoneCode = parse_arg("input.zone", &input.zone).or_api()?;
        if input.matters.is_empty() {
            return Err(ApiError::bad_input(
                "input.matters",
                "a collaborative standard covers at least one matter",
            ))
            .or_api();
        }
        let matters = parse_each("input.matters", &input.matters).or_api()?;
        let record = StandardDraft {
            title_en: input.title_en,
            issuing_zone: Some(zone.clone()),
            matters: Some(matters),
            ..StandardDraft::new(code, input.title_zh, Level::Regional)
        }
        .validated();
        let targets = Targets {
            max_time_limit_days: input.max_time_limit_days,
            materials: input.materials,
            required_channels: input
                .required_channels
                .into_iter()
                .map(Into::into)
                .collect(),
        }
        .validated();
        let (record, targets) = match (record, targets) {
            (Ok(record), Ok(targets)) => (record, targets),
            (record, targets) => {
                let errors = record
                    .err()
                    .into_iter()
                    .chain(targets.err())
                    .flatten()
                    .collect();
                return Err(invalid_input("input.", errors)).or_api();
            }
        };
        let permit = allow(
            ctx,
            Action::ProposeCollaborativeStandard,
            &Target {
                region: None,
                level: Some(Level::Regional),
                zone: Some(&zone),
            },
        )
        .or_api()?;
        let row = mutate::propose_collaborative(&permit, record, &zone, &targets)
            .await
            .or_api()?;
        Ok(CollaborativeStandard(row))
    }

    /// A member adopts or rejects a collaborative standard. PROVINCE_ADMIN
    /// decides for its own region; NATIONAL_ADMIN names the region. A
    /// rejection needs a reason. When every member has adopted, the standard
    /// comes into force.
    async fn decide_adoption(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The collaborative standard's code.")] proposal: String,
        decision: AdoptionChoice,
        #[graphql(desc = "Why the member rejects it; required for REJECT.")] reason: Option<String>,
        #[graphql(desc = "The member region; defaults to the caller's region.")] region: Option<
            String,
        >,
        #[graphql(
            desc = "The member's adoption revision as last read (`adoptions { revision }`)."
        )]
        expected_revision: i32,
    ) -> async_graphql::Result<CollaborativeStandard> {
        gate(ctx, Action::DecideAdoption).or_api()?;
        let code: StandardCode = parse_arg("proposal", &proposal).or_api()?;
        let region: RegionCode = match region {
            Some(region) => parse_arg("region", &region).or_api()?,
            None => scope(ctx)
                .ok()
                .and_then(|scope| scope.principal.region.clone())
                .ok_or_else(|| ApiError::bad_input("region", "name the member region that decides"))
                .or_api()?,
        };
        let permit = allow(ctx, Action::DecideAdoption, &regional(&region)).or_api()?;
        let decision = match decision {
            AdoptionChoice::Adopt => Decision::Adopted,
            AdoptionChoice::Reject => Decision::Rejected,
        };
        let row =
            mutate::decide_adoption(&permit, &code, &region, decision, reason, expected_revision)
                .await
                .or_api()?;
        Ok(CollaborativeStandard(row))
    }

    /// Withdraws a collaborative standard that has not come into force.
    async fn withdraw_collaborative_standard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The collaborative standard's code.")] proposal: String,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<CollaborativeStandard> {
        gate(ctx, Action::WithdrawCollaborativeStandard).or_api()?;
        let code: StandardCode = parse_arg("proposal", &proposal).or_api()?;
        let permit = allow_stored(ctx, Action::WithdrawCollaborativeStandard, &code)
            .await
            .or_api()?;
        let row = mutate::withdraw_collaborative(&permit, &code, expected_revision)
            .await
            .or_api()?;
        Ok(CollaborativeStandard(row))
    }

    /// Proposes raising a LOCAL or REGIONAL standard to a national or
    /// industry one. Needs the standard's owner: its PROVINCE_ADMIN, its
    /// zone's ZONE_COORDINATOR, or NATIONAL_ADMIN.
    async fn propose_elevation(
        &self,
        ctx: &Context<'_>,
        standard: String,
        target_level: ElevationTarget,
        rationale: String,
    ) -> async_graphql::Result<ElevationProposal> {
        gate(ctx, Action::ProposeElevation).or_api()?;
        let code: StandardCode = parse_arg("standard", &standard).or_api()?;
        let rationale = required_text("rationale", &rationale, NOTE_MAX)
            .map_err(|e| ApiError::bad_input("rationale", e.message))
            .or_api()?;
        let permit = allow_stored(ctx, Action::ProposeElevation, &code)
            .await
            .or_api()?;
        let level = concord_domain::ElevationTarget::from(target_level).level();
        let row = mutate::propose_elevation(&permit, &code, level, rationale)
            .await
            .or_api()?;
        Ok(ElevationProposal(
            Elevation::try_from(row).map_err(ApiError::from).or_api()?,
        ))
    }

    /// Moves an elevation proposal: PROPOSED → UNDER_REVIEW → ACCEPTED or
    /// DECLINED. Needs NATIONAL_ADMIN. An acceptance creates a DRAFT
    /// standard at the target level under `code`, raised from the local
    /// standard (`elevatedFrom`) and governing its matters; when it comes
    /// into force the local standard is superseded by it unless `keepLocal`.
    async fn decide_elevation(
        &self,
        ctx: &Context<'_>,
        id: i64,
        decision: ElevationStep,
        #[graphql(
            desc = "The code of the standard an ACCEPT creates, of the target level: national `GB/T …`, industry e.g. `LD/T …`. Required for ACCEPT only."
        )]
        code: Option<String>,
        #[graphql(
            desc = "ACCEPT only: true keeps the local standard in force beside the new one instead of it being superseded (false when omitted)."
        )]
        keep_local: Option<bool>,
        #[graphql(desc = "The revision the caller last read.")] expected_revision: i32,
    ) -> async_graphql::Result<ElevationProposal> {
        gate(ctx, Action::DecideElevation).or_api()?;
        let keep_local = keep_local.unwrap_or(false);
        let elevated = code
            .as_deref()
            .map(|code| parse_arg::<StandardCode, _>("code", code))
            .transpose()
            .or_api()?
            .map(|code| mutate::Elevated { code, keep_local });
        if keep_local && elevated.is_none() {
            return Err(ApiError::bad_input(
                "keepLocal",
                "keepLocal goes with an ACCEPT and its code",
            ))
            .or_api();
        }
        let permit = allow(
            ctx,
            Action::DecideElevation,
            &Target {
                region: None,
                level: None,
                zone: None,
            },
        )
        .or_api()?;
        let decision = match decision {
            ElevationStep::Review => ElevationDecision::Review,
            ElevationStep::Accept => ElevationDecision::Accept,
            ElevationStep::Decline => ElevationDecision::Decline,
        };
        let row = mutate::decide_elevation(&permit, id, decision, elevated, expected_revision)
            .await
            .or_api()?;
        Ok(ElevationProposal(
            Elevation::try_from(row).map_err(ApiError::from).or_api()?,
        ))
    }
}
