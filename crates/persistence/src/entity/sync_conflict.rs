use concord_domain::replication::{Conflict, ConflictVersion};
use concord_domain::{Origin, Settlement};
use sea_orm::entity::prelude::*;

use super::{Stored, refused};
use crate::StoreError;

/// A version of a row that lost to the version its origin holds: both are
/// kept until an administrator settles the conflict. Everything but the
/// local times replicates, so every node lists the same conflicts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_conflict")]
pub struct Model {
    /// The row's kind, as the change log names it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub row_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub loser_revision: i32,
    /// The losing version's content hash (hex SHA-256).
    #[sea_orm(primary_key, auto_increment = false)]
    pub loser_hash: String,
    /// The region that owns the row, and whose node decided.
    pub origin: String,
    /// The losing record as its writer logged it; null for a retraction.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub loser_record: Option<Json>,
    pub winner_revision: i32,
    pub winner_hash: String,
    /// The winning record as the origin logged it; null while a draft there.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub winner_record: Option<Json>,
    /// When this node learnt of the conflict.
    pub detected_at: DateTimeUtc,
    /// `WINNER` or `LOSER`: which version the settlement kept; null while open.
    pub resolution: Option<Stored<Settlement>>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for Conflict {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!(
                    "sync conflict {} {} {}",
                    row.kind, row.row_key, row.loser_revision
                ),
                column,
                error,
            )
        };
        Ok(Self {
            kind: row.kind.parse().map_err(|e| fault("kind", &e))?,
            origin: Origin::try_from(row.origin.as_str()).map_err(|e| fault("origin", &e))?,
            key: row.row_key,
            winner: ConflictVersion {
                revision: row.winner_revision,
                hash: row.winner_hash,
                record: row.winner_record,
            },
            loser: ConflictVersion {
                revision: row.loser_revision,
                hash: row.loser_hash,
                record: row.loser_record,
            },
            detected_at: row.detected_at,
            resolution: row.resolution.map(|kept| kept.0),
            resolved_by: row.resolved_by,
            resolved_at: row.resolved_at,
        })
    }
}
