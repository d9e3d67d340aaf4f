use sea_orm::entity::prelude::*;

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
