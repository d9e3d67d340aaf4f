use concord_domain::Origin;
use concord_domain::replication::LoggedChange;
use sea_orm::entity::prelude::*;

use super::refused;
use crate::StoreError;

/// One committed change of a replicable row, in commit order: what the
/// sync feed serves.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_log")]
pub struct Model {
    /// The change's position in this node's log.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// GUIDE, PROCEDURE, STANDARD, MATTER, NATIONAL_ITEM, EVALUATION,
    /// COLLABORATIVE_STANDARD or ADOPTION.
    pub kind: String,
    pub row_key: String,
    pub origin: String,
    pub revision: i32,
    /// The whole row as it now is; null when the row is no longer published
    /// (a retraction), so that nothing unpublished leaves the node.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub record: Option<Json>,
    pub committed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for LoggedChange {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("change {}", row.seq), column, error)
        };
        Ok(Self {
            seq: row.seq,
            kind: row.kind.parse().map_err(|e| fault("kind", &e))?,
            origin: Origin::try_from(row.origin.as_str()).map_err(|e| fault("origin", &e))?,
            key: row.row_key,
            revision: row.revision,
            record: row.record,
            committed_at: row.committed_at,
        })
    }
}
