use std::sync::Arc;

use async_graphql::{Context, SimpleObject, Value};
use concord_domain::guide;
use derive_more::From;

use super::{
    Channel, FieldChange, GuideStatus, Region, Revision, ServiceMatter, diff, kept_versions,
    load_one, owned_object,
};
use crate::direct::{
    Direct, Owns, Plain, closed, optional_text, plain_list_as, plain_one, scalar, text,
};
use crate::error::OrApiError;
use crate::loader::{MatterKey, ProcedureKey, RegionKey};

/// A region's service guide (服务指南) for one matter: what a citizen must
/// bring, how long it takes, what it costs and where it can be done.
/// The record is shared with the page that read it (and with every other
/// page that read the same row: see `queries::guides`).
#[derive(Clone)]
pub struct ServiceGuide(pub Arc<guide::ServiceGuide>, pub GuideRelations);

/// The relations of a guide that its page read ahead, because the page's
/// selection asked for them (see `RowLoader::guides_with`): their fields
/// then resolve on the spot instead of each waiting for the loader.
#[derive(Clone, Default)]
pub struct GuideRelations {
    /// `Some` when read ahead: the guide's procedure, if it has one.
    pub procedure: Option<Option<OperatingProcedure>>,
    /// `Some` when read ahead: the guide's matter.
    pub matter: Option<Option<ServiceMatter>>,
}

impl From<guide::ServiceGuide> for ServiceGuide {
    fn from(guide: guide::ServiceGuide) -> Self {
        Self::from(Arc::new(guide))
    }
}

impl From<Arc<guide::ServiceGuide>> for ServiceGuide {
    fn from(guide: Arc<guide::ServiceGuide>) -> Self {
        Self(guide, GuideRelations::default())
    }
}

owned_object! {
    /// A region's service guide (服务指南) for one matter: what a citizen must
    /// bring, how long it takes, what it costs and where it can be done.
    impl ServiceGuide {
        /// The region's code; with `matterCode`, the guide's key.
        async fn region_code(&self) -> &str {
            self.0.region.as_str()
        }

        /// The matter's code; with `regionCode`, the guide's key.
        async fn matter_code(&self) -> &str {
            self.0.matter.as_str()
        }

        /// The region that publishes the guide.
        async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Direct<Region>>> {
            Ok(load_one(ctx, RegionKey(self.0.region.to_string())).await?.map(Direct))
        }

        /// The matter the guide is for.
        async fn matter(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Direct<ServiceMatter>>> {
            if let Some(matter) = &self.1.matter {
                return Ok(matter.clone().map(Direct));
            }
            Ok(load_one(ctx, MatterKey(self.0.matter.to_string())).await?.map(Direct))
        }

        /// The promised time limit, in working days.
        async fn time_limit_days(&self) -> i32 {
            self.0.content.time_limit_days
        }

        /// The fee in yuan, with two decimals; `"0.00"` when the service is free.
        async fn fee(&self) -> super::Decimal {
            super::Decimal::from(self.0.content.fee)
        }

        /// The fee in fen (0.01 yuan), exact.
        async fn fee_fen(&self) -> i64 {
            self.0.content.fee.fen()
        }

        /// The materials an applicant must provide, in the guide's order.
        async fn materials(&self) -> &[String] {
            &self.0.content.materials
        }

        /// Where the matter can be handled.
        async fn channels(&self) -> Vec<Channel> {
            self.0.content.channels.iter().copied().map(Channel::from).collect()
        }

        /// The laws and regulations the guide rests on.
        async fn legal_basis(&self) -> &str {
            &self.0.content.legal_basis
        }

        /// The guarantee level, for matters that pay a benefit.
        async fn guarantee_level(&self) -> Option<&str> {
            self.0.content.guarantee_level.as_deref()
        }

        /// Draft or published.
        async fn status(&self) -> GuideStatus {
            self.0.status.into()
        }

        /// When the guide was last published.
        async fn published_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
            self.0.published_at
        }

        /// Every kept version of the guide, oldest first, ending with the current one.
        async fn revisions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
            self.versions(ctx).await
        }

        /// The fields that differ between two revisions of the guide.
        async fn diff(&self, ctx: &Context<'_>, from: i32, to: i32) -> async_graphql::Result<Vec<FieldChange>> {
            diff(&self.versions(ctx).await?, from, to).or_api()
        }

        /// The operating procedure (操作规程) behind the guide.
        async fn procedure(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Direct<OperatingProcedure>>> {
            if let Some(procedure) = &self.1.procedure {
                return Ok(procedure.clone().map(Direct));
            }
            Ok(load_one(
                ctx,
                ProcedureKey((self.0.region.to_string(), self.0.matter.to_string())),
            )
            .await?
            .map(Direct))
        }
    }
}

impl From<guide::ServiceGuide> for Direct<ServiceGuide> {
    fn from(guide: guide::ServiceGuide) -> Self {
        Self(ServiceGuide::from(guide))
    }
}

/// A relation read ahead, resolved on the spot; `None` when it was not read
/// ahead or its selection needs an awaited field.
fn ahead<T: Plain>(relation: Option<&Option<T>>, ctx: &Context<'_>) -> Option<Value> {
    match relation? {
        Some(row) => plain_one(row, ctx),
        None => Some(Value::Null),
    }
}

impl Plain for ServiceGuide {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        let guide = &self.0;
        let content = &guide.content;
        let name = ctx.item.node.name.node.as_str();
        Some(match name {
            "regionCode" => text(guide.region.as_str()),
            "matterCode" => text(guide.matter.as_str()),
            "timeLimitDays" => scalar(&content.time_limit_days),
            "fee" => scalar(&super::Decimal::from(content.fee)),
            "feeFen" => scalar(&content.fee.fen()),
            "materials" => Value::List(content.materials.iter().map(|m| text(m)).collect()),
            "channels" => Value::List(
                content
                    .channels
                    .iter()
                    .map(|&c| closed::<Channel>(c))
                    .collect(),
            ),
            "legalBasis" => text(&content.legal_basis),
            "guaranteeLevel" => optional_text(content.guarantee_level.as_deref()),
            "status" => closed::<GuideStatus>(guide.status),
            "publishedAt" => guide.published_at.as_ref().map_or(Value::Null, scalar),
            "procedure" => ahead(self.1.procedure.as_ref(), ctx)?,
            "matter" => ahead(self.1.matter.as_ref(), ctx)?,
            _ => return guide.provenance.owned().field(name),
        })
    }
}

impl ServiceGuide {
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
        kept_versions(
            ctx,
            concord_domain::RowKind::Guide,
            format!("{}/{}", self.0.region, self.0.matter),
            &self.0.provenance,
            concord_persistence::mutate::guide_version(&self.0),
        )
        .await
    }
}

/// The operating procedure (操作规程) of a guide: its ordered steps.
#[derive(Clone, From)]
pub struct OperatingProcedure(pub Arc<guide::OperatingProcedure>);

impl From<guide::OperatingProcedure> for OperatingProcedure {
    fn from(procedure: guide::OperatingProcedure) -> Self {
        Self(Arc::new(procedure))
    }
}

impl Plain for OperatingProcedure {
    fn plain(&self, ctx: &Context<'_>) -> Option<Value> {
        let procedure = &self.0;
        let name = ctx.item.node.name.node.as_str();
        match name {
            "steps" => plain_list_as::<ProcedureStep, _>(
                procedure.steps.iter().enumerate(),
                ctx,
                |&(index, step), field| ProcedureStep::plain_field(index, step, field),
            ),
            "totalTimeLimitDays" => Some(scalar(&procedure.total_time_limit_days())),
            "status" => Some(closed::<GuideStatus>(procedure.status)),
            _ => procedure.provenance.owned().field(name),
        }
    }
}

impl ProcedureStep {
    /// A field of the step at `index` of a procedure, read from the stored
    /// step: a page's steps are shown without being copied into
    /// `ProcedureStep`s first.
    fn plain_field(
        index: usize,
        step: &concord_domain::ProcedureStep,
        field: &Context<'_>,
    ) -> Option<Value> {
        Some(match field.item.node.name.node.as_str() {
            "position" => scalar(&super::count(index + 1)),
            "name" => text(&step.name),
            "actor" => text(&step.actor),
            "timeLimitDays" => scalar(&step.time_limit_days),
            _ => return None,
        })
    }
}

/// One step of an operating procedure.
#[derive(SimpleObject)]
pub struct ProcedureStep {
    /// 1 for the first step.
    position: i32,
    /// What is done, e.g. 受理.
    name: String,
    /// Who does it, e.g. 窗口工作人员.
    actor: String,
    /// The step's time limit in working days.
    time_limit_days: i32,
}

owned_object! {
    /// The operating procedure (操作规程) of a guide: its ordered steps.
    impl OperatingProcedure {
        /// The steps, in order.
        async fn steps(&self) -> Vec<ProcedureStep> {
            self.step_list()
        }

        /// The steps' time limits added up, in working days.
        async fn total_time_limit_days(&self) -> i32 {
            self.0.total_time_limit_days()
        }

        /// Draft or published, as a guide: a draft is seen only by those
        /// who may read the region's drafts.
        async fn status(&self) -> GuideStatus {
            self.0.status.into()
        }

        /// Every kept version of the procedure, oldest first, ending with the current one.
        async fn revisions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
            self.versions(ctx).await
        }

        /// The fields that differ between two revisions of the procedure.
        async fn diff(&self, ctx: &Context<'_>, from: i32, to: i32) -> async_graphql::Result<Vec<FieldChange>> {
            diff(&self.versions(ctx).await?, from, to).or_api()
        }
    }
}

impl OperatingProcedure {
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Revision>> {
        kept_versions(
            ctx,
            concord_domain::RowKind::Procedure,
            format!("{}/{}", self.0.region, self.0.matter),
            &self.0.provenance,
            concord_persistence::mutate::procedure_version(&self.0),
        )
        .await
    }

    fn step_list(&self) -> Vec<ProcedureStep> {
        self.0
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| ProcedureStep {
                position: super::count(index + 1),
                name: step.name.clone(),
                actor: step.actor.clone(),
                time_limit_days: step.time_limit_days,
            })
            .collect()
    }
}
