//! The change feed that peers' sync jobs read, and this node's own sync status.

use async_graphql::{Context, ID, Json, Object, SimpleObject};
use concord_domain::replication::{self, Conflict, LoggedChange, PeerProgress};
use concord_persistence::conflicts;
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;
use derive_more::From;
use serde_json::Value;

use crate::context::{reading, scope};
use crate::error::{ApiError, OrApiError};
use crate::pagination::{ConnectionArgs, Paged, cost, encode, key_of};
use crate::types::Settlement;

/// The largest page of changes a peer may ask for.
pub const MAX_CHANGES: i32 = 1000;

/// One committed change of a replicable row.
#[derive(From)]
pub struct Change(pub LoggedChange);

/// One committed change of a replicable row.
#[Object]
impl Change {
    /// The change's position in this node's log.
    async fn seq(&self) -> i64 {
        self.0.seq
    }

    /// `MATTER`, `STANDARD`, `GUIDE`, `PROCEDURE`, `NATIONAL_ITEM`,
    /// `EVALUATION`, `COLLABORATIVE_STANDARD`, `ADOPTION` or `ELEVATION`; or an origin's
    /// verdict about one of its rows: `CONFLICT` (a peer's version lost to
    /// the origin's; the record names both) or `RESOLUTION` (an
    /// administrator settled one).
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }

    /// The row's key: its key fields joined by `/`.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// The region that owns the row (`100000` for national rows).
    async fn origin(&self) -> &str {
        self.0.origin.as_str()
    }

    /// The row's revision after the change.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// The whole row; null when it is no longer published (a retraction).
    async fn record(&self) -> Option<Json<&Value>> {
        self.0.record.as_ref().map(Json)
    }

    /// When the change was committed.
    async fn committed_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.committed_at
    }
}

/// How far this node has replicated one peer.
#[derive(SimpleObject)]
pub struct PeerStatus {
    /// The peer's GraphQL URL.
    peer: String,
    /// The cursor of the last change applied.
    cursor: Option<String>,
    /// Changes applied from this peer in all.
    applied: i64,
    /// Changes the peer still had after the cursor at the last fetch.
    lag: Option<i64>,
    /// When a sync from this peer last succeeded.
    last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// The last error, cleared by the next success.
    last_error: Option<String>,
}

impl From<PeerProgress> for PeerStatus {
    fn from(progress: PeerProgress) -> Self {
        Self {
            peer: progress.peer,
            cursor: progress.cursor,
            applied: progress.applied,
            lag: progress.lag,
            last_success: progress.last_success,
            last_error: progress.last_error,
        }
    }
}

fn check(ctx: &Context<'_>) -> Result<(), ApiError> {
    concord_auth::may_read_changes(&scope(ctx)?.principal)?;
    Ok(())
}

/// Reads for replication.
#[derive(Default)]
pub struct SyncQuery;

/// Reads for replication.
#[Object]
impl SyncQuery {
    /// This node's committed changes in commit order, after `after`. Only
    /// published content leaves the node. Needs SYNC_AGENT or NATIONAL_ADMIN.
    #[graphql(complexity = "first.clamp(0, MAX_CHANGES) as usize / 100 + child_complexity")]
    pub(crate) async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `endCursor` of the previous page; from the start when omitted.")]
        after: Option<String>,
        #[graphql(desc = "How many changes to return, at most 1000.")] first: i32,
    ) -> async_graphql::Result<Paged<Change>> {
        check(ctx).or_api()?;
        let args = ConnectionArgs::feed(ctx, first, MAX_CHANGES, after.as_deref()).or_api()?;
        let page = concord_persistence::changes::feed(
            reading(ctx, &Footprint::of(&[Topic::ChangeLog])).or_api()?,
            args.request(),
        )
        .await
        .or_api()?;
        Ok(args.connection(page, |change: &LoggedChange| {
            encode(&[&change.seq.to_string()])
        }))
    }

    /// Each peer this node syncs from: cursor, last success, last error and
    /// lag. Needs SYNC_AGENT or NATIONAL_ADMIN.
    pub(crate) async fn sync_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PeerStatus>> {
        check(ctx).or_api()?;
        let rows = queries::sync_peers(reading(ctx, &Footprint::of(&[Topic::Sync])).or_api()?)
            .await
            .or_api()?;
        Ok(rows.into_iter().map(PeerStatus::from).collect())
    }
}

/// One version of a conflicted row.
pub struct ConflictVersion(replication::ConflictVersion);

/// One version of a conflicted row.
#[Object]
impl ConflictVersion {
    /// The row's revision in this version.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// The version's content hash (hex SHA-256 of the row).
    async fn hash(&self) -> &str {
        &self.0.hash
    }

    /// The row as logged; null for a guide withdrawn to a draft.
    async fn record(&self) -> Option<Json<&Value>> {
        self.0.record.as_ref().map(Json)
    }
}

/// Two versions of one row that peers wrote concurrently: the one the
/// row's origin holds (the winner) and one another node wrote (the loser).
/// Every node lists the same conflicts, until an administrator of the
/// origin settles them with `resolveSyncConflict`.
#[derive(From)]
pub struct SyncConflict(pub Conflict);

/// The ID of a conflict: its row and its losing version.
pub(crate) fn conflict_id(conflict: &Conflict) -> String {
    encode(&[
        conflict.kind.as_str(),
        &conflict.key,
        &conflict.loser.revision.to_string(),
        &conflict.loser.hash,
    ])
}

/// Reads a conflict's ID (or a cursor, which is the same), naming `field`.
pub(crate) fn parse_conflict_id(
    field: &str,
    text: &str,
) -> Result<conflicts::ConflictKey, ApiError> {
    key_of(text).ok_or_else(|| ApiError::bad_input(field, "is not a sync conflict's ID"))
}

/// Two versions of one row that peers wrote concurrently: the one the
/// row's origin holds (the winner) and one another node wrote (the loser).
#[Object]
impl SyncConflict {
    /// Names the conflict to `resolveSyncConflict`; the same on every node.
    async fn id(&self) -> ID {
        ID(conflict_id(&self.0))
    }

    /// The row's kind, as the change feed names it (`GUIDE`, `STANDARD`, …).
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }

    /// The row's key, as the change feed writes it.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// The region that owns the row and whose node decided.
    async fn origin(&self) -> &str {
        self.0.origin.as_str()
    }

    /// The version the origin holds.
    async fn winner(&self) -> ConflictVersion {
        ConflictVersion(self.0.winner.clone())
    }

    /// The version that lost, kept here.
    async fn loser(&self) -> ConflictVersion {
        ConflictVersion(self.0.loser.clone())
    }

    /// When this node learnt of the conflict.
    async fn detected_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.detected_at
    }

    /// Which version the settlement kept; null while the conflict is open.
    async fn resolution(&self) -> Option<Settlement> {
        self.0.resolution.map(Settlement::from)
    }

    /// Who settled it.
    async fn resolved_by(&self) -> Option<&str> {
        self.0.resolved_by.as_deref()
    }

    /// When this node learnt of the settlement.
    async fn resolved_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.resolved_at
    }
}

#[Object]
impl SyncConflictQuery {
    /// Versions of rows that lost to the version their origin holds, in the
    /// same order on every node. NATIONAL_ADMIN and SYNC_AGENT list every
    /// region's; a PROVINCE_ADMIN its own region's.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn sync_conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Settled conflicts too, not only open ones.", default = false)]
        settled: bool,
        #[graphql(desc = "Only conflicts on rows of this region.")] origin: Option<String>,
        #[graphql(desc = "How many conflicts to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Paged<SyncConflict>> {
        let scope = scope(ctx).or_api()?;
        let own = concord_auth::conflict_scope(&scope.principal)
            .map_err(ApiError::from)
            .or_api()?;
        let origin =
            crate::context::own_region_only(own.as_ref(), origin, "lists the sync conflicts")
                .or_api()?;
        let args = ConnectionArgs::new(ctx, first, after.as_deref()).or_api()?;
        let filter = conflicts::ConflictFilter {
            settled,
            origins: origin.map(|origin| vec![origin]),
        };
        let page = conflicts::list(
            reading(ctx, &Footprint::of(&[Topic::Sync])).or_api()?,
            &filter,
            args.request(),
        )
        .await
        .or_api()?;
        Ok(args.connection(page, conflict_id))
    }
}

/// Reads of sync conflicts.
#[derive(Default)]
pub struct SyncConflictQuery;
