use concord_domain::audit::KeptVersion;
use sea_orm::entity::prelude::*;

use super::refused;
use crate::StoreError;

/// One kept version of a standard or a guide: its content at a revision.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "row_revision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub row_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub snapshot: Json,
    pub changed_by: Option<String>,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for KeptVersion {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        Ok(Self {
            kind: row.kind.parse().map_err(|e| {
                refused(
                    format_args!("kept version {} {}", row.row_key, row.revision),
                    "kind",
                    &e,
                )
            })?,
            key: row.row_key,
            revision: row.revision,
            content: row.snapshot,
            changed_by: row.changed_by,
            changed_at: row.changed_at,
        })
    }
}
