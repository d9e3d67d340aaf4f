//! What replication between nodes leaves for people to see: the conflicts
//! between versions of a row that peers wrote concurrently, and how each was
//! settled.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::RowKind;
use crate::codes::Origin;
use crate::enums::closed_set;

closed_set!(
    /// Which version of a conflicted row a settlement kept.
    Settlement {
        /// The version the row has: the conflict closed and the row stayed.
        Winner = "WINNER",
        /// The version that lost: it became the row's next revision.
        Loser = "LOSER",
    }
);

/// One version of a conflicted row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictVersion {
    /// The row's revision in this version.
    pub revision: i32,
    /// The version's content hash (hex SHA-256 of the row).
    pub hash: String,
    /// The row as logged; `None` for a guide withdrawn to a draft.
    pub record: Option<Value>,
}

/// Two versions of one row that peers wrote concurrently: the one the row's
/// origin holds (the winner) and one another node wrote (the loser).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The row's kind.
    pub kind: RowKind,
    /// The row's key, as the change log writes it.
    pub key: String,
    /// The authority that owns the row, whose node decided.
    pub origin: Origin,
    /// The version the origin holds.
    pub winner: ConflictVersion,
    /// The version that lost, kept here.
    pub loser: ConflictVersion,
    /// When this node learnt of the conflict.
    pub detected_at: DateTime<Utc>,
    /// Which version the settlement kept; `None` while the conflict is open.
    pub resolution: Option<Settlement>,
    /// Who settled it.
    pub resolved_by: Option<String>,
    /// When this node learnt of the settlement.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// How far this node has replicated one peer.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerProgress {
    /// The peer's GraphQL URL.
    pub peer: String,
    /// The cursor of the last change applied.
    pub cursor: Option<String>,
    /// Changes applied from this peer in all.
    pub applied: i64,
    /// Changes the peer still had after the cursor at the last fetch.
    pub lag: Option<i64>,
    /// When a sync from this peer last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, cleared by the next success.
    pub last_error: Option<String>,
}
