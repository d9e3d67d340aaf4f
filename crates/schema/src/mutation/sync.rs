//! Settling sync conflicts.

use async_graphql::{Context, ID, Object};
use concord_auth::{Action, Node, Target};
use concord_domain::RowKind;
use concord_domain::{Origin, RegionCode, StandardLevel};
use concord_persistence::conflicts;

use super::{allow, gate, unseen};
use crate::context::db;
use crate::error::{ApiError, OrApiError};
use crate::sync::{SyncConflict, parse_conflict_id};
use crate::types::Settlement;

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Settles a sync conflict on a row this node owns: `WINNER` keeps the
    /// row as it is, `LOSER` makes the losing version the row's next
    /// revision. Either way the settlement replicates, so every node closes
    /// the conflict and holds the same row. Needs the right to write the row
    /// (its region's PROVINCE_ADMIN, or NATIONAL_ADMIN), on the row's own
    /// node: elsewhere a write to the row would lose to it again.
    async fn resolve_sync_conflict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflict's `id`.")] id: ID,
        keep: Settlement,
        #[graphql(desc = "The row's current revision (the winner's), as the caller last read it.")]
        expected_revision: i32,
    ) -> async_graphql::Result<SyncConflict> {
        gate(ctx, Action::ResolveSyncConflict).or_api()?;
        let key = parse_conflict_id("id", &id).or_api()?;
        let conflict = conflicts::find(db(ctx).or_api()?, &key)
            .await
            .or_api()?
            .ok_or_else(|| unseen(ctx, "sync conflict".to_owned()))
            .or_api()?;
        let region = match &conflict.origin {
            Origin::National => None,
            Origin::Region(code) => Some(code.clone()),
        };
        // A province's own standards are LOCAL; the hub's rows have no region.
        let level =
            (key.kind == RowKind::Standard && region.is_some()).then_some(StandardLevel::Local);
        let target = Target {
            region: region.as_ref(),
            level,
            zone: None,
        };
        let permit = allow(ctx, Action::ResolveSyncConflict, &target).or_api()?;
        let node = ctx
            .data::<Node>()
            .map_err(|_| ApiError::Internal("the schema was built without a node".into()))
            .or_api()?;
        let here = node
            .region
            .as_ref()
            .map_or(Origin::NATIONAL_CODE, RegionCode::as_str);
        if conflict.origin.as_str() != here {
            return Err(ApiError::Forbidden(format!(
                "a conflict on a row of {} is settled on that region's own node, whose \
                 version of the row wins over this node's",
                conflict.origin.as_str()
            )))
            .or_api();
        }
        let settled = conflicts::settle(&permit, &key, keep.into(), expected_revision)
            .await
            .or_api()?;
        Ok(SyncConflict(settled))
    }
}
