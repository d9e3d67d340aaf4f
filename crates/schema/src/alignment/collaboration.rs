//! Standards that regions make together or raise: a zone's collaborative
//! standards with their adoptions, and elevation proposals.

use async_graphql::{Context, Object, SimpleObject};
use concord_domain::{StandardCode, ZoneCode, workflow};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{self, Collaborative, Elevation};

use crate::context::reading;
use crate::error::{ApiError, OrApiError, parse_arg, parse_optional};
use crate::loader::{StandardKey, ZoneKey};
use crate::types::{
    Channel, Decision, ElevationStatus, ElevationTarget, ProposalStatus, Standard, Zone,
};

/// Where a member stands on a collaborative standard.
#[derive(SimpleObject)]
pub struct Adoption {
    /// The member region.
    pub(super) region: String,
    /// Pending until the member answers.
    pub(super) decision: Decision,
    /// Why it rejected.
    pub(super) reason: Option<String>,
    /// Who decided (the token's subject).
    pub(super) decided_by: Option<String>,
    /// When it decided.
    pub(super) decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Raised by each decision; `decideAdoption` names the one it read.
    pub(super) revision: i32,
}

impl From<workflow::Adoption> for Adoption {
    fn from(adoption: workflow::Adoption) -> Self {
        Adoption {
            region: adoption.region.into(),
            decision: adoption.decision.into(),
            reason: adoption.reason,
            decided_by: adoption.decided_by,
            decided_at: adoption.decided_at,
            revision: adoption.provenance.revision,
        }
    }
}

/// A zone's collaborative standard: a REGIONAL standard with targets that
/// its members adopt. It comes into force when every member has adopted it.
pub struct CollaborativeStandard(pub Collaborative);

/// The collaborative standard `code`, when there is one.
pub(super) async fn collaborative(
    ctx: &Context<'_>,
    code: &StandardCode,
) -> Result<Option<Collaborative>, ApiError> {
    let rows = queries::collaborative_standards_by_codes(
        reading(
            ctx,
            &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
        )?,
        &[code.to_string()],
    )
    .await?;
    Ok(rows.into_iter().next())
}

/// A zone's collaborative standard: a REGIONAL standard with targets that
/// its members adopt. It comes into force when every member has adopted it.
#[Object]
impl CollaborativeStandard {
    /// The REGIONAL standard's code.
    async fn code(&self) -> &str {
        self.0.standard.as_str()
    }

    /// The standard itself, with its titles, matters and revisions.
    async fn standard(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
        crate::types::load_one(ctx, StandardKey(self.0.standard.to_string())).await
    }

    /// The zone.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Zone>> {
        crate::types::load_one(ctx, ZoneKey(self.0.zone.to_string())).await
    }

    /// Proposed, in force or withdrawn.
    async fn status(&self) -> ProposalStatus {
        self.0.status.into()
    }

    /// The longest time limit a member's guide may state.
    async fn max_time_limit_days(&self) -> Option<i32> {
        self.0.targets.max_time_limit_days
    }

    /// The unified materials list: a member's guide may ask for nothing else.
    async fn materials(&self) -> Option<&[String]> {
        self.0.targets.materials.as_deref()
    }

    /// The channels every member must offer.
    async fn required_channels(&self) -> Vec<Channel> {
        self.0
            .targets
            .required_channels
            .iter()
            .copied()
            .map(Channel::from)
            .collect()
    }

    /// Each member's decision.
    async fn adoptions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Adoption>> {
        let rows = crate::types::load_one::<_, Vec<workflow::Adoption>>(
            ctx,
            crate::loader::AdoptionsOf(self.0.standard.to_string()),
        )
        .await?;
        // A standard nobody has answered yet has no adoption rows.
        Ok(rows.into_iter().flatten().map(Adoption::from).collect())
    }

    /// The revision of the proposal's status and targets.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// True when this is illustrative sample data.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
}

/// A proposal to raise a local or regional standard to a national or industry one.
pub struct ElevationProposal(pub Elevation);

/// A proposal to raise a local or regional standard to a national or industry one.
#[Object]
impl ElevationProposal {
    /// This node's number for the proposal, which `decideElevation` takes.
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// The standard proposed for elevation.
    async fn standard(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Standard>> {
        crate::types::load_one(ctx, StandardKey(self.0.standard.to_string())).await
    }

    /// Its place among its standard's proposals, from 1; with the
    /// standard's code it names the proposal on every node.
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// The standard its acceptance created, at the target level.
    async fn elevated_standard(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Standard>> {
        match &self.0.elevated {
            Some(code) => crate::types::load_one(ctx, StandardKey(code.to_string())).await,
            None => Ok(None),
        }
    }

    /// Whether the local standard stays in force beside the elevated one.
    async fn keep_local(&self) -> bool {
        self.0.keep_local
    }

    /// The level the standard would be raised to.
    async fn target_level(&self) -> ElevationTarget {
        self.0.target.into()
    }

    /// Why it should be elevated.
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }

    /// Where the proposal stands.
    async fn status(&self) -> ElevationStatus {
        self.0.status.into()
    }

    /// Who proposed it.
    async fn proposed_by(&self) -> &str {
        &self.0.proposed_by
    }

    /// Who accepted or declined it.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    /// When it was proposed.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }

    /// Grows by one with each step.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// True when this is illustrative sample data.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
}

#[derive(Default)]
pub struct CollaborationQuery;

/// Reads of collaborative standards and elevation proposals.
#[Object]
impl CollaborationQuery {
    /// The collaborative standards of a zone (or of every zone), optionally
    /// in one status.
    async fn collaborative_standards(
        &self,
        ctx: &Context<'_>,
        zone: Option<String>,
        status: Option<ProposalStatus>,
    ) -> async_graphql::Result<Vec<CollaborativeStandard>> {
        let zone = parse_optional::<ZoneCode, _>("zone", zone.as_deref()).or_api()?;
        let status = status.map(concord_domain::ProposalStatus::from);
        let rows = queries::collaborative_standards(
            reading(
                ctx,
                &Footprint::of(&[Topic::Collaboration, Topic::Standard]),
            )
            .or_api()?,
            zone.as_ref().map(|z| z.as_str()),
            status,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().map(CollaborativeStandard).collect())
    }

    /// One collaborative standard by its code.
    async fn collaborative_standard(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<CollaborativeStandard>> {
        let code: StandardCode = parse_arg("code", &code).or_api()?;
        let found = collaborative(ctx, &code).await.or_api()?;
        Ok(found.map(CollaborativeStandard))
    }

    /// Elevation proposals, newest first, optionally of one standard or in one status.
    async fn elevations(
        &self,
        ctx: &Context<'_>,
        standard: Option<String>,
        status: Option<ElevationStatus>,
    ) -> async_graphql::Result<Vec<ElevationProposal>> {
        let standard =
            parse_optional::<StandardCode, _>("standard", standard.as_deref()).or_api()?;
        let status = status.map(|s| concord_domain::ElevationStatus::from(s).as_str());
        let rows = queries::elevations(
            reading(ctx, &Footprint::of(&[Topic::Collaboration])).or_api()?,
            standard.as_ref().map(|s| s.as_str()),
            status,
        )
        .await
        .or_api()?;
        Ok(rows.into_iter().map(ElevationProposal).collect())
    }
}
