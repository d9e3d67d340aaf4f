use concord_domain::catalogue;
use sea_orm::entity::prelude::*;

use super::{provenance, refused};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "national_edition")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition: i32,
    pub title_zh: String,
    pub item_count: i32,
    pub issued_by: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub supersedes: Option<i32>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for catalogue::NationalEdition {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!("national edition {}", row.edition),
                column,
                error,
            )
        };
        Ok(Self {
            edition: row.edition,
            title_zh: row.title_zh,
            item_count: row.item_count,
            issued_by: row.issued_by,
            note: row.note,
            supersedes: row.supersedes,
            provenance: provenance!(row, fault),
        })
    }
}
