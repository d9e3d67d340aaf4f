//! The change feed that peers' sync jobs read, and this node's own sync status.

use async_graphql::{Context, Json, Object, SimpleObject};
use concord_persistence::entity::{change_log, sync_peer};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{self, PageRequest};
use serde_json::Value;

use crate::context::{RequestScope, reading};
use crate::error::{ApiError, OrApiError};
use crate::pagination::{Paged, connection, decode, encode, wants_total};

/// The largest page of changes a peer may ask for.
pub const MAX_CHANGES: i32 = 1000;

/// One committed change of a replicable row.
pub struct Change(pub change_log::Model);

impl From<change_log::Model> for Change {
    fn from(row: change_log::Model) -> Self {
        Self(row)
    }
}

/// One committed change of a replicable row.
#[Object]
impl Change {
    /// The change's position in this node's log.
    async fn seq(&self) -> i64 {
        self.0.seq
    }

    /// `MATTER`, `STANDARD`, `GUIDE`, `PROCEDURE`, `NATIONAL_ITEM`,
    /// `EVALUATION`, `COLLABORATIVE_STANDARD` or `ADOPTION`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The row's key: its key fields joined by `/`.
    async fn key(&self) -> &str {
        &self.0.row_key
    }

    /// The region that owns the row (`100000` for national rows).
    async fn origin(&self) -> &str {
        &self.0.origin
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

impl From<sync_peer::Model> for PeerStatus {
    fn from(row: sync_peer::Model) -> Self {
        Self {
            peer: row.peer,
            cursor: row.cursor,
            applied: row.applied,
            lag: row.lag,
            last_success: row.last_success,
            last_error: row.last_error,
        }
    }
}

fn check(ctx: &Context<'_>) -> Result<(), ApiError> {
    let scope = ctx
        .data::<RequestScope>()
        .map_err(|_| ApiError::Internal("the request carries no scope".into()))?;
    concord_auth::may_read_changes(&scope.principal)?;
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
        if !(0..=MAX_CHANGES).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("must be between 0 and {MAX_CHANGES}"),
            ))
            .or_api();
        }
        let after = after
            .as_deref()
            .map(|cursor| {
                decode(cursor, 1).and_then(|parts| {
                    parts[0].parse::<i64>().map_err(|_| {
                        ApiError::bad_input("after", "is not a cursor returned by this API")
                    })
                })
            })
            .transpose()
            .or_api()?;
        let page = concord_persistence::changes::feed(
            reading(ctx, &Footprint::of(&[Topic::ChangeLog])).or_api()?,
            PageRequest {
                after,
                first: first as u64,
                count: wants_total(ctx),
            },
        )
        .await
        .or_api()?;
        Ok(connection(
            page,
            after.is_some(),
            |row: &change_log::Model| encode(&[&row.seq.to_string()]),
        ))
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
