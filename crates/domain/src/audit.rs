//! The audit log: one entry for each successful change, append-only.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::codes::{Origin, RegionCode, ZoneCode};

/// One successful change: who made it, what it did to which row, and the
/// row's content before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The entry's sequence number.
    pub id: i64,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who made it: the token's subject.
    pub subject: String,
    /// The role it was made under.
    pub role: String,
    /// The actor's region, for a province's administrator.
    pub actor_region: Option<RegionCode>,
    /// The actor's zone, for a zone's coordinator.
    pub actor_zone: Option<ZoneCode>,
    /// What was done, e.g. `PUBLISH_GUIDE`.
    pub action: String,
    /// The kind of row changed, e.g. `GUIDE`.
    pub target_kind: String,
    /// The row's key, e.g. `330000/SI-PENSION-TRANSFER` or a standard code.
    pub target_key: String,
    /// The authority that owns the row.
    pub target_region: Origin,
    /// The row's content before the change; `None` when it was created.
    pub before: Option<Value>,
    /// The row's content after the change.
    pub after: Option<Value>,
}
